// Bundles the `smime` CLI (dist/cli/bin.js and everything it imports) into dist/cli/smime.js, the package's `bin`.
// Loading the library as separate modules (@peculiar/x509 with its CommonJS dependencies)
// costs about 0.2 s of every CLI run; one bundle starts in 0.3 s instead of 0.5 s. The library itself
// (dist/index.js, dist/index.node.js) stays unbundled: applications bundle it their own way.
//
// --pkcs11 (src/cli/token.ts) imports smime-core/pkcs11 dynamically: with code splitting it becomes a chunk of its
// own in dist/cli/chunks/, loaded only when --pkcs11 is given, and the code it shares with the rest of the CLI
// (the errors, the store, the DER codec) is one copy in a shared chunk, so its errors are the CLI's own classes.
// pkcs11js, the native binding, is never bundled (a .node file cannot be): the chunk imports it from the installed
// package at run time, and without it only --pkcs11 fails (exit 8, "npm install pkcs11js").
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(repo, 'dist', 'cli');
rmSync(join(cli, 'chunks'), { recursive: true, force: true });

await build({
  entryPoints: [{ in: join(cli, 'bin.js'), out: 'smime' }],
  outdir: cli,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['pkcs11js'],
  // CommonJS dependencies call require() for Node's built-in modules: give each ES module a require.
  banner: { js: "import { createRequire as __smimeCreateRequire } from 'node:module';\nconst require = __smimeCreateRequire(import.meta.url);" },
  // Minified (names kept: error classes report their own): the unminified bundle kept doc comments with non-ASCII
  // characters, which made V8 hold the whole source as a two-byte string, and its 1.3 MB cost parse time and memory
  // on every start (bench/README.md: `smime --version` 9.0k → 7.5k page faults).
  minify: true,
  keepNames: true,
  logLevel: 'warning',
});
