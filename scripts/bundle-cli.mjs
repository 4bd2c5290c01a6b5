// Bundles the `smime` CLI (dist/cli/bin.js and everything it imports) into one file, dist/cli/smime.js, the package's
// `bin`. Loading the library as separate modules (pkijs, asn1js, and @peculiar/x509 with its 200 CommonJS modules)
// costs about 0.2 s of every CLI run; one file starts in 0.3 s instead of 0.5 s. The library itself (dist/index.js,
// dist/index.node.js) stays unbundled: applications bundle it their own way.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
await build({
  entryPoints: [join(repo, 'dist', 'cli', 'bin.js')],
  outfile: join(repo, 'dist', 'cli', 'smime.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // CommonJS dependencies call require() for Node's built-in modules: give the ES module a require.
  banner: { js: "import { createRequire as __smimeCreateRequire } from 'node:module';\nconst require = __smimeCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
