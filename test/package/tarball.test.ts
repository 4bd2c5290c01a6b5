/**
 * The published tarball: `npm pack` holds only the build output (no tests, vectors or benchmarks), and the package
 * works when installed into a strict TypeScript app, imported from ESM and required from CommonJS (Node ≥ 20.19).
 * `npm test` builds first (pretest), so dist/ is current.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, tmp, VECTORS } from '../_helpers/env.js';
import { PASSWORD } from '../_helpers/identities.js';

describe('npm pack tarball', () => {
  it('contains only dist, README, LICENSE and package.json, and works from ESM, CJS and strict TypeScript', () => {
    if (!existsSync(join(REPO, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
    const dir = tmp('smime-pack-');
    const json = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: REPO, encoding: 'utf8' });
    const [info] = JSON.parse(json) as { filename: string; files: { path: string }[] }[];
    const paths = info!.files.map((f) => f.path);
    for (const p of paths) expect(p).toMatch(/^(dist\/|package\.json$|README\.md$|LICENSE$)/);
    expect(paths).toContain('dist/index.js');
    expect(paths).toContain('dist/index.node.js');
    expect(paths).toContain('dist/index.d.ts');
    expect(paths).toContain('dist/cli/bin.js');
    expect(paths).toContain('dist/cli/smime.js');

    const app = join(dir, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!)], { cwd: app, stdio: 'pipe' });

    writeFileSync(
      join(app, 'esm.mjs'),
      `import { CertificateStore, encryptMessage, decryptMessage, signMessage, verifyMessage, openMessage, SmimeError, MissingRecipientCertificatesError } from 'smime-core';
const store = new CertificateStore();
try { await encryptMessage('Subject: x\\r\\n\\r\\nhi', { store, to: ['carol@example.com'] }); }
catch (e) { if (!(e instanceof MissingRecipientCertificatesError) || e.missing[0] !== 'carol@example.com') throw e; console.log('esm ok'); }
for (const f of [decryptMessage, signMessage, verifyMessage, openMessage]) if (typeof f !== 'function') throw new Error('missing export');
if (!(new MissingRecipientCertificatesError({a:'none'}) instanceof SmimeError)) throw new Error('hierarchy');
// Node resolves the package to its Node entry (the \`node\` export condition), which registers Node's accelerators.
if (!import.meta.resolve('smime-core').endsWith('/dist/index.node.js')) throw new Error('not the node entry: ' + import.meta.resolve('smime-core'));
`,
    );
    expect(execFileSync('node', ['esm.mjs'], { cwd: app, encoding: 'utf8' })).toContain('esm ok');

    writeFileSync(
      join(app, 'cjs.cjs'),
      `const { CertificateStore, SmimeError } = require('smime-core');
if (typeof CertificateStore !== 'function' || typeof SmimeError !== 'function') throw new Error('require failed');
if (!require.resolve('smime-core').endsWith('/dist/index.node.js')) throw new Error('not the node entry');
console.log('cjs ok');
`,
    );
    expect(execFileSync('node', ['cjs.cjs'], { cwd: app, encoding: 'utf8' })).toContain('cjs ok');

    // The `smime` bin (one bundled file, scripts/bundle-cli.mjs) as installed: it opens OpenSSL's message to bob.
    const out = join(app, 'out.eml');
    execFileSync(join(app, 'node_modules', '.bin', 'smime'), ['decrypt', '--identity', join(VECTORS, 'identities', 'bob.p12'), '--password', PASSWORD, '--in', join(VECTORS, 'openssl', 'enc-to-bob-only.eml'), '--out', out], { cwd: app, stdio: 'pipe' });
    expect(new Uint8Array(readFileSync(out))).toEqual(new Uint8Array(readFileSync(join(VECTORS, 'openssl', 'plain.txt'))));

    writeFileSync(
      join(app, 'app.ts'),
      `import { CertificateStore, encryptMessage, decryptMessage, type DecryptResult, type SmimeErrorCode, MissingRecipientCertificatesError } from 'smime-core';
export async function roundTrip(mime: string, p12: Uint8Array): Promise<Uint8Array> {
  const store = new CertificateStore();
  await store.importPkcs12(p12, 'pw');
  await store.addCertificate('-----BEGIN CERTIFICATE-----\\n-----END CERTIFICATE-----');
  store.addTrustAnchor(new Uint8Array([0x30]));
  const out: Uint8Array = await encryptMessage(mime, { store, to: ['bob@example.com'], from: 'alice@example.com', cipher: 'aes-256-gcm' });
  const r: DecryptResult = await decryptMessage(out, { store });
  const code: SmimeErrorCode = 'ERR_CMS_DECRYPTION_FAILED';
  void code;
  try { return r.content; } catch (e) { if (e instanceof MissingRecipientCertificatesError) { const m: string[] = e.missing; void m; } throw e; }
}
`,
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022', 'DOM'], noEmit: true, skipLibCheck: false, types: [] }, files: ['app.ts'] }),
    );
    execFileSync(join(REPO, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], { cwd: app, stdio: 'pipe' });
  });
});
