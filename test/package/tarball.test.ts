/**
 * The published tarball: `npm pack` holds only what a consumer runs (the library's build output and the bundled bin:
 * no tests, vectors, benchmarks, demo or unbundled CLI modules), and the package
 * works when installed into a strict TypeScript app, imported from ESM and required from CommonJS (Node ≥ 20.19).
 * The same install measures the consumer's footprint (packages and bytes under node_modules, README's figures).
 * `npm test` builds first (pretest), so dist/ is current.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, tmp, VECTORS } from '../_helpers/env.js';
import { referenceClockEnv } from '../_helpers/clock.js';
import { PASSWORD } from '../_helpers/identities.js';

/**
 * The consumer's install budget, a little above what it measured when it was set (2026-12-07: 27 packages, smime-core
 * and a second tslib under tsyringe included; 6.3 MB of files, 9.9 MB of 4 KiB disk blocks; 26 packages and 6.1 MB
 * since reflect-metadata left; 27 packages and 7.9 MB with postal-mime, issue 15's importFromMessage, which ships its sources beside its dist: 1.6 MB; 30 packages and 12.8 MB with pkijs 3 (issue 18's OCSP, with bytestreamjs; pkijs 4 would pull asn1js 4 and nest eleven copies of asn1js 3) and issue 16's stream code; 31 packages and 14.5 MB with @noble/curves, 1.6 MB of it, the prehashed ECDSA verifyStream needs for SignerInfos without signed attributes). Megabytes are the files'
 * sizes (10^6 bytes), which do not depend on the file system. Raise it deliberately, in review, when a dependency
 * earns its place.
 */
const BUDGET = { packages: 32, megabytes: 15 };

/** The installed packages under a node_modules folder (nested ones included), each as its folder's path. */
function packagesUnder(nodeModules: string): string[] {
  if (!existsSync(nodeModules)) return [];
  return readdirSync(nodeModules)
    .filter((name) => !name.startsWith('.'))
    .flatMap((name) => (name.startsWith('@') ? readdirSync(join(nodeModules, name)).map((sub) => join(nodeModules, name, sub)) : [join(nodeModules, name)]))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .flatMap((dir) => [dir, ...packagesUnder(join(dir, 'node_modules'))]);
}

/** The sizes of every file under `dir`, and the disk blocks of it all as `du` counts them (links not followed). */
function bytesUnder(dir: string): { files: number; disk: number } {
  const total = { files: 0, disk: lstatSync(dir).blocks * 512 };
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) {
      const sub = bytesUnder(p);
      total.files += sub.files;
      total.disk += sub.disk;
    } else {
      total.files += st.isFile() ? st.size : 0;
      total.disk += st.blocks * 512;
    }
  }
  return total;
}

describe('npm pack tarball', () => {
  let paths: string[] = [];
  let dir = '';
  let app = '';

  beforeAll(() => {
    if (!existsSync(join(REPO, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
    dir = tmp('smime-pack-');
    const json = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: REPO, encoding: 'utf8' });
    const [info] = JSON.parse(json) as { filename: string; files: { path: string }[] }[];
    paths = info!.files.map((f) => f.path);
    app = join(dir, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!)], { cwd: app, stdio: 'pipe' });
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships only what a consumer runs: the library, its declarations and the bundled bin (no demo, no CLI modules, no maps)', () => {
    for (const p of paths) expect(p).toMatch(/^(dist\/|package\.json$|README\.md$|LICENSE$)/);
    // The CLI is one bundle (scripts/bundle-cli.mjs): smime.js and the chunks it loads only when needed (the
    // ChaCha20 cipher, @noble/curves' ECDSA on a digest, smime-core/pkcs11 for --pkcs11); its separate modules (and the demo, which needs the
    // repository's vectors/) stay out of the tarball.
    const cli = paths.filter((p) => p.startsWith('dist/cli/'));
    expect(cli).toContain('dist/cli/smime.js');
    for (const p of cli) expect(p).toMatch(/^dist\/cli\/(smime\.js|chunks\/[\w.-]+\.js)$/);
    expect(paths.filter((p) => p.endsWith('.map'))).toEqual([]);
    // Every module of the library is there with its declarations: each .js beside its .d.ts, and nothing else.
    const lib = paths.filter((p) => p.startsWith('dist/') && !p.startsWith('dist/cli/'));
    for (const p of lib) expect(p).toMatch(/\.(js|d\.ts)$/);
    const js = lib.filter((p) => p.endsWith('.js')).map((p) => p.slice(0, -3)).sort();
    expect(lib.filter((p) => p.endsWith('.d.ts')).map((p) => p.slice(0, -5)).sort()).toEqual(js);
    for (const p of ['dist/index.js', 'dist/index.node.js', 'dist/index.d.ts', 'dist/crypto/node.js', 'dist/crypto/node.d.ts', 'dist/lib/reflect.js', 'dist/pkcs11/index.js', 'dist/pkcs11/index.d.ts', 'dist/ldap/index.js', 'dist/ldap/index.d.ts'])
      expect(paths).toContain(p);
    // Every `sideEffects` entry names a shipped file, and every module of the list exists (a typo would drop it).
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { sideEffects: string[]; bin: Record<string, string> };
    for (const f of pkg.sideEffects) expect(paths).toContain(f.replace(/^\.\//, ''));
    for (const f of Object.values(pkg.bin)) expect(paths).toContain(f.replace(/^\.\//, ''));
  });

  it('works from ESM, CJS and strict TypeScript, and the installed bin runs', () => {

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

    // smime-core/pkcs11 without its optional peer dependency (npm does not install an optional peer): the entry
    // imports, and opening a token says how to get pkcs11js.
    writeFileSync(
      join(app, 'pkcs11.mjs'),
      `import { openPkcs11Token } from 'smime-core/pkcs11';
const e = await openPkcs11Token({ module: '/nonexistent/module.so' }).then(() => undefined, (e) => e);
if (e?.code !== 'ERR_TOKEN_UNAVAILABLE' || !e.message.includes('npm install pkcs11js')) throw new Error('unexpected: ' + e);
console.log('pkcs11 ok');
`,
    );
    expect(existsSync(join(app, 'node_modules', 'pkcs11js'))).toBe(false);
    expect(execFileSync('node', ['pkcs11.mjs'], { cwd: app, encoding: 'utf8' })).toContain('pkcs11 ok');

    // smime-core/ldap without its optional peer dependency ldapts: the entry imports, and a lookup fails as opening a
    // token without pkcs11js does (ERR_TOKEN_UNAVAILABLE), saying how to get it.
    writeFileSync(
      join(app, 'ldap.mjs'),
      `import { ldapResolver } from 'smime-core/ldap';
const r = ldapResolver({ url: 'ldap://127.0.0.1:1', baseDN: 'dc=example,dc=com' });
const e = await r(['bob@example.com'], new AbortController().signal).then(() => undefined, (e) => e);
if (e?.code !== 'ERR_TOKEN_UNAVAILABLE' || !e.message.includes('npm install ldapts@8')) throw new Error('unexpected: ' + e);
console.log('ldap ok');
`,
    );
    expect(existsSync(join(app, 'node_modules', 'ldapts'))).toBe(false);
    expect(execFileSync('node', ['ldap.mjs'], { cwd: app, encoding: 'utf8' })).toContain('ldap ok');

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

    // Every command of the installed bin: help and version, then sign → verify → encrypt → open → inspect, each
    // through the installed file (exit codes and outputs as the CLI documents them). Its clock starts at the sample
    // identities' reference date (test/_helpers/clock.ts): Alice signs and Bob's certificate is chosen as on that day.
    const bin = join(app, 'node_modules', '.bin', 'smime');
    const run = (args: string[]) => execFileSync(bin, args, { cwd: app, encoding: 'utf8', stdio: 'pipe', env: { ...process.env, ...referenceClockEnv(), SMIME_PASSWORD: PASSWORD } });
    expect(run(['--version']).trim()).toBe(`smime ${JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version} (smime-core)`);
    for (const cmd of ['encrypt', 'decrypt', 'sign', 'verify', 'open', 'inspect']) expect(run([cmd, '--help'])).toContain(`usage: smime ${cmd}`);
    const id = (n: string) => join(VECTORS, 'identities', `${n}.p12`);
    const msg = join(app, 'msg.eml');
    writeFileSync(msg, 'From: alice@example.com\r\nTo: bob@example.com\r\nSubject: t\r\n\r\nhello from the installed bin\r\n');
    const trust = ['--trust', join(VECTORS, 'pki', 'root-ca.cert.pem'), '--cert', join(VECTORS, 'pki', 'chain.pem')];
    run(['sign', '--from', 'alice@example.com', '--identity', id('alice-sign'), '--in', msg, '--out', join(app, 'signed.eml')]);
    run(['verify', ...trust, '--in', join(app, 'signed.eml'), '--out', join(app, 'verified.eml')]);
    run(['encrypt', '--to', 'bob@example.com', '--cert', join(VECTORS, 'identities', 'bob.cert.pem'), ...trust, '--in', join(app, 'signed.eml'), '--out', join(app, 'enc.eml')]);
    run(['open', '--identity', id('bob'), ...trust, '--in', join(app, 'enc.eml'), '--out', join(app, 'opened.eml')]);
    expect(readFileSync(join(app, 'opened.eml'), 'utf8')).toContain('hello from the installed bin');
    expect(JSON.parse(run(['inspect', '--json', join(app, 'enc.eml')]))).toBeTruthy();
    // pkcs11js is an optional peer the app did not install: everything above worked without it, and --pkcs11 says
    // so (exit 8, ERR_TOKEN_UNAVAILABLE) with nothing written.
    const p11 = spawnSync(bin, ['open', '--pkcs11', join(app, 'no-such-module.so'), '--pin-env', 'NO_PIN', '--in', join(app, 'enc.eml'), '--out', join(app, 'p11.eml')], {
      cwd: app,
      encoding: 'utf8',
      env: { ...process.env, NO_PIN: '0000' },
    });
    expect(p11.status).toBe(8);
    expect(p11.stderr).toMatch(/^smime: ERR_TOKEN_UNAVAILABLE: [^\n]+\n$/);
    if (existsSync(join(REPO, 'src', 'pkcs11', 'index.ts'))) expect(p11.stderr).toContain('npm install pkcs11js');
    expect(existsSync(join(app, 'p11.eml'))).toBe(false);

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

  it('installs within the footprint budget (packages and MB under node_modules, smime-core included)', () => {
    const nodeModules = join(app, 'node_modules');
    const packages = packagesUnder(nodeModules);
    const bytes = bytesUnder(nodeModules);
    const megabytes = bytes.files / 1e6;
    const names = packages.map((p) => (JSON.parse(readFileSync(join(p, 'package.json'), 'utf8')) as { name: string }).name);
    console.log(
      `[smime-core tests] install footprint: ${packages.length} packages, ${megabytes.toFixed(1)} MB of files, ${(bytes.disk / 1e6).toFixed(1)} MB on disk (${[...new Set(names)].sort().join(', ')})`,
    );
    expect(names).toContain('smime-core');
    expect(names).toContain('@peculiar/x509');
    expect(packages.length).toBeLessThanOrEqual(BUDGET.packages);
    expect(megabytes).toBeLessThanOrEqual(BUDGET.megabytes);
  });
});
