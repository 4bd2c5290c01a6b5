/**
 * What a bundler keeps of smime-core, given package.json's `sideEffects` list. esbuild (the bundler Vite's
 * dependency scan and many libraries use) bundles an application that imports from `smime-core` the way an
 * installed copy would resolve: a node_modules/smime-core link to this repository, browser platform (the
 * package's `default` export condition, dist/index.js).
 * - Importing only `isSmimeError` keeps only src/errors.ts: under 10 KB minified (no @peculiar/x509, no tsyringe).
 * - A whole-library bundle keeps the modules with a side effect, in order: @peculiar/x509 loads with the Reflect
 *   metadata of src/lib/reflect.ts, which src/certs/x509.ts removes again (test/package/reflect.test.ts).
 * `npm test` builds first (pretest), so dist/ is current.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, tmp } from '../_helpers/env.js';

/** The budget for an application that imports only `isSmimeError` (bytes, minified). */
const ERRORS_ONLY_BUDGET = 10 * 1024;

let app = '';

beforeAll(() => {
  if (!existsSync(join(REPO, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  app = tmp('smime-bundle-');
  mkdirSync(join(app, 'node_modules'));
  symlinkSync(REPO, join(app, 'node_modules', 'smime-core'), 'dir');
});

afterAll(() => {
  if (app) rmSync(app, { recursive: true, force: true });
});

/** Bundles `source` (an ES module importing `smime-core`) minified for the browser; returns the code and its inputs. */
async function bundle(source: string): Promise<{ code: string; inputs: string[] }> {
  const r = await build({
    stdin: { contents: source, resolveDir: app, sourcefile: 'app.js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    metafile: true,
    // The whole-library case reads the vectors with node:fs, to run in Node; the library itself needs no Node API.
    external: ['node:*'],
    logLevel: 'silent',
  });
  const code = r.outputFiles[0]!.text;
  const inputs = Object.values(r.metafile.outputs).flatMap((o) => Object.keys(o.inputs));
  return { code, inputs };
}

/** Runs bundled code as an ES module in a fresh Node process (cwd: the repository); returns its stdout. */
function runBundle(name: string, code: string): string {
  const file = join(app, name);
  writeFileSync(file, code);
  return execFileSync(process.execPath, [file], { cwd: REPO, encoding: 'utf8' }).trim();
}

describe('bundling smime-core (esbuild, sideEffects)', () => {
  it(`import { isSmimeError } alone stays under ${ERRORS_ONLY_BUDGET / 1024} KB minified and keeps only src/errors.ts`, async () => {
    const { code, inputs } = await bundle(`import { isSmimeError } from 'smime-core';\nconsole.log(isSmimeError(new Error('x')), isSmimeError(Object.assign(new Error('y'), { code: 'ERR_CMS_INVALID' })));`);
    console.log(`[smime-core tests] isSmimeError-only bundle: ${code.length} bytes minified (${inputs.length} inputs)`);
    expect(code.length).toBeLessThan(ERRORS_ONLY_BUDGET);
    expect(inputs.filter((i) => /(^|\/)(dist|node_modules)\//.test(i)).map((i) => i.replace(/^.*\/dist\//, 'dist/'))).toEqual(['dist/errors.js']);
    expect(code).not.toContain('tsyringe');
    expect(runBundle('errors-only.mjs', code)).toBe('false false');
  });

  it('a whole-library bundle keeps the side-effect modules in order: @peculiar/x509 works and Reflect stays clean', async () => {
    const { code, inputs } = await bundle(`import { CertificateStore } from 'smime-core';
import { readFileSync } from 'node:fs';
const { password } = JSON.parse(readFileSync('vectors/manifest.json', 'utf8'));
const store = new CertificateStore();
const [bob] = await store.importPkcs12(new Uint8Array(readFileSync('vectors/identities/bob.p12')), password);
const key = await bob.certificate.publicKey.export();
console.log(typeof Reflect.getMetadata, key.algorithm.name, bob.certificate.extensions.length > 0);`);
    expect(inputs.some((i) => i.endsWith('dist/lib/reflect.js'))).toBe(true);
    expect(inputs.some((i) => i.endsWith('dist/certs/x509.js'))).toBe(true);
    expect(runBundle('whole.mjs', code)).toBe('undefined RSASSA-PKCS1-v1_5 true');
  });
});
