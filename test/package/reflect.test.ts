/**
 * Importing smime-core installs nothing on `Reflect` (src/lib/reflect.ts): @peculiar/x509 gets the Reflect metadata it
 * needs only while it loads, and works afterwards. Each case runs in a fresh Node process, which imports the package
 * by its own name (the `node` export condition, dist/index.node.js) or its browser entry (dist/index.js).
 * `npm test` builds first (pretest), so dist/ is current.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../_helpers/env.js';

/** Runs `body` as an ES module in a fresh Node process (cwd: the repository, so `smime-core` resolves to itself). */
function run(body: string): string {
  if (!existsSync(join(REPO, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  return execFileSync(process.execPath, ['--input-type=module', '-e', body], { cwd: REPO, encoding: 'utf8' }).trim();
}

/** Wraps Bob's certificate (importPkcs12) and uses what needs @peculiar/x509's registered algorithms. */
const USE_X509 = `
const { readFileSync } = await import('node:fs');
const { password } = JSON.parse(readFileSync('vectors/manifest.json', 'utf8'));
const store = new m.CertificateStore();
const [bob] = await store.importPkcs12(new Uint8Array(readFileSync('vectors/identities/bob.p12')), password);
const cert = bob.certificate;
const key = await cert.publicKey.export();
const selfCheck = await cert.verify({ publicKey: key, signatureOnly: true }); // Bob's certificate is not self-signed
const used = [cert.subject.includes('Bob') || cert.subject, key.algorithm.name, selfCheck, cert.extensions.length > 0];
`;

describe('the Reflect metadata side effect', () => {
  it('import("smime-core") leaves Reflect.getMetadata undefined and Reflect unchanged, and certificates still work', () => {
    const out = run(`
const names = Object.getOwnPropertyNames(Reflect).sort().join();
const m = await import('smime-core');
if (!import.meta.resolve('smime-core').endsWith('/dist/index.node.js')) throw new Error('not the node entry');
const after = [typeof Reflect.getMetadata, typeof Reflect.defineMetadata, Object.getOwnPropertyNames(Reflect).sort().join() === names];
${USE_X509}
console.log(JSON.stringify({ after, used, later: typeof Reflect.getMetadata }));
`);
    expect(JSON.parse(out)).toEqual({ after: ['undefined', 'undefined', true], used: [true, 'RSASSA-PKCS1-v1_5', false, true], later: 'undefined' });
  });

  it('the browser entry (dist/index.js) leaves Reflect alone too', () => {
    const out = run(`
const m = await import('./dist/index.js');
console.log(typeof Reflect.getMetadata, typeof Reflect.metadata, typeof m.CertificateStore);
`);
    expect(out).toBe('undefined undefined function');
  });

  it("an application's own Reflect.getMetadata (its reflect-metadata, say) is neither replaced nor removed", () => {
    const out = run(`
const mine = () => undefined; // a polyfill that knows no metadata, as tsyringe's classes have none
Reflect.getMetadata = mine;
const m = await import('smime-core');
${USE_X509}
console.log(Reflect.getMetadata === mine, typeof Reflect.getOwnMetadata, used[1]);
`);
    expect(out).toBe('true undefined RSASSA-PKCS1-v1_5');
  });
});
