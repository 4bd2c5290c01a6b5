/**
 * `import 'smime-core'` never loads a native module: the built entries (dist/index.js, dist/index.node.js) and even
 * smime-core/pkcs11 itself leave pkcs11js unloaded; only `openPkcs11Token` loads it. Checked in a child Node process
 * by the shared objects it has loaded (process.report: pkcs11js's addon is build/Release/pkcs11.node) and by
 * require.cache (pkcs11js is CommonJS). `npm test` builds first (pretest), so dist/ is current.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO } from '../_helpers/env.js';

const url = (rel: string) => pathToFileURL(join(REPO, rel)).href;

const SCRIPT = `
import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(url('package.json'))});
const loaded = () => ({
  addon: process.report.getReport().sharedObjects.some((s) => s.endsWith('pkcs11.node')),
  js: Object.keys(require.cache).some((k) => k.includes('pkcs11js')),
});
const steps = {};
await import(${JSON.stringify(url('dist/index.js'))});
steps.index = loaded();
const main = await import(${JSON.stringify(url('dist/index.node.js'))});
steps.indexNode = loaded();
if (typeof main.CertificateStore !== 'function') throw new Error('no CertificateStore');
const p11 = await import(${JSON.stringify(url('dist/pkcs11/index.js'))});
steps.pkcs11Entry = loaded();
const err = await p11.openPkcs11Token({ module: '/nonexistent/module.so' }).catch((e) => e);
steps.afterOpen = loaded();
steps.error = err.code;
console.log(JSON.stringify(steps));
`;

describe('the native binding stays out of the main entry', () => {
  it('dist/index.js and dist/index.node.js (and the pkcs11 entry itself) do not load pkcs11js; openPkcs11Token does', () => {
    if (!existsSync(join(REPO, 'dist', 'pkcs11', 'index.js'))) throw new Error('dist/ is missing or old: run `npm run build` first');
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', SCRIPT], { cwd: REPO, encoding: 'utf8' });
    const steps = JSON.parse(out.trim().split('\n').pop()!);
    const none = { addon: false, js: false };
    expect(steps).toEqual({ index: none, indexNode: none, pkcs11Entry: none, afterOpen: { addon: true, js: true }, error: 'ERR_TOKEN_UNAVAILABLE' });
  });
});
