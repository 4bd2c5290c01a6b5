import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHmac, createPrivateKey, pbkdf2Sync, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parsePkcs12, type Pkcs12Contents } from '../../src/certs/pkcs12.js';
import { Pkcs12BadPassword, Pkcs12Invalid, Pkcs12LimitExceeded, SmimeError, UnsupportedAlgorithm } from '../../src/errors.js';
import { children, readTlv, stringContent, algorithmIdentifier, integer, NULL, octets, seq } from '../../src/lib/der.js';
import { hasPeer, run, shared, sharedAvailable, SHARED_VECTORS, tmp, tryRun } from '../_helpers/env.js';
import { bmp, referenceKdf } from '../_helpers/kdf.js';

const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const LEGACY = ['-provider', 'legacy', '-provider', 'default'];

/** The DER payloads of every PEM block labelled `label` in `text`. */
function pemBlocks(text: string, label: string): Uint8Array[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  return [...text.matchAll(re)].map((m) => new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
}

/** PKCS#8 DER re-encoded by node:crypto, to compare keys written by different encoders. */
function normalizeKey(pkcs8: Uint8Array): string {
  const k = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  return toHex(new Uint8Array(k.export({ format: 'der', type: 'pkcs8' })));
}

async function expectError(p: Promise<unknown>, cls: new (...a: never[]) => Error, code: string): Promise<Error> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${cls.name}`).toBeInstanceOf(cls);
  expect((err as SmimeError).code).toBe(code);
  return err as Error;
}


const openssl = hasPeer('openssl', ['version']);

describe.skipIf(!openssl)('parsePkcs12 on files made by openssl pkcs12 -export', () => {
  let dir: string;
  let rsaKey: Uint8Array;
  let rsaCert: Uint8Array;
  let ecKey: Uint8Array;
  let ecCert: Uint8Array;
  let caCert: Uint8Array;
  let legacyProvider = false;

  const keyDer = (file: string) => run('openssl', ['pkcs8', '-topk8', '-nocrypt', '-outform', 'DER', '-in', join(dir, file)]);
  const certDer = (file: string) => run('openssl', ['x509', '-outform', 'DER', '-in', join(dir, file)]);

  beforeAll(() => {
    dir = tmp('smime-p12-');
    const o = (...a: string[]) => run('openssl', a);
    o('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.pem'), '-subj', '/CN=P12 Test CA', '-days', '2');
    o('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'rsa.key'), '-out', join(dir, 'rsa.csr'), '-subj', '/CN=Alice RSA');
    o('x509', '-req', '-in', join(dir, 'rsa.csr'), '-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-out', join(dir, 'rsa.pem'), '-days', '2');
    o('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'ec.key'), '-out', join(dir, 'ec.pem'), '-subj', '/CN=Alice EC', '-days', '2');
    rsaKey = keyDer('rsa.key');
    rsaCert = certDer('rsa.pem');
    ecKey = keyDer('ec.key');
    ecCert = certDer('ec.pem');
    caCert = certDer('ca.pem');
    legacyProvider = tryRun('openssl', ['list', '-cipher-algorithms', ...LEGACY]).stdout.length > 0 &&
      tryRun('openssl', ['enc', '-rc2-40-cbc', ...LEGACY, '-K', '0011223344', '-iv', '0001020304050607'], 'x').status === 0;
    if (!legacyProvider) console.warn('[smime-core tests] NOTICE: the OpenSSL legacy provider is missing: RC2 PKCS#12 cases skipped');
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let fileNo = 0;
  function exportP12(password: string, args: string[], kind: 'rsa' | 'ec' = 'rsa'): Uint8Array {
    const out = join(dir, `out${fileNo++}.p12`);
    run('openssl', ['pkcs12', '-export', '-in', join(dir, `${kind}.pem`), '-inkey', join(dir, `${kind}.key`), '-out', out, '-passout', `pass:${password}`, ...args]);
    return new Uint8Array(readFileSync(out));
  }

  function expectIdentity(p: Pkcs12Contents, key: Uint8Array, cert: Uint8Array, name?: string): void {
    expect(p.keys).toHaveLength(1);
    expect(toHex(p.keys[0]!.pkcs8)).toBe(toHex(key));
    expect(p.certs.length).toBeGreaterThanOrEqual(1);
    const leaf = p.certs.find((c) => toHex(c.der) === toHex(cert));
    expect(leaf).toBeDefined();
    expect(p.keys[0]!.localKeyId).toBeDefined();
    expect(toHex(leaf!.localKeyId!)).toBe(toHex(p.keys[0]!.localKeyId!));
    if (name !== undefined) {
      expect(p.keys[0]!.friendlyName).toBe(name);
      expect(leaf!.friendlyName).toBe(name);
    }
  }

  const cases: { title: string; args: string[]; password?: string; legacy?: boolean; kind?: 'rsa' | 'ec' }[] = [
    { title: 'default (PBES2 / AES-256-CBC / PBKDF2-SHA-256, SHA-256 MAC)', args: [] },
    { title: '-legacy (RC2-40 certs, 3DES key, SHA-1 MAC)', args: ['-legacy'], legacy: true },
    { title: 'Windows style (PBE-SHA1-3DES both, SHA-1 MAC)', args: ['-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1'] },
    { title: '-descert', args: ['-descert'] },
    { title: 'PBES2 key, certificates not encrypted (-certpbe NONE)', args: ['-certpbe', 'NONE'] },
    { title: 'plain keyBag (-keypbe NONE -certpbe NONE), SHA-224 MAC', args: ['-keypbe', 'NONE', '-certpbe', 'NONE', '-macalg', 'sha224'] },
    { title: 'AES-128 key, AES-192 certs, SHA-512 MAC', args: ['-keypbe', 'AES-128-CBC', '-certpbe', 'AES-192-CBC', '-macalg', 'sha512'] },
    { title: 'PBES2 with DES-EDE3-CBC, SHA-384 MAC', args: ['-keypbe', 'DES-EDE3-CBC', '-certpbe', 'DES-EDE3-CBC', '-macalg', 'sha384'] },
    { title: '2-key 3DES key and RC2-128 certs (PKCS#12 PBEs)', args: ['-keypbe', 'PBE-SHA1-2DES', '-certpbe', 'PBE-SHA1-RC2-128', ...LEGACY], legacy: true },
    { title: 'PBES2 with RC2-CBC and DES-CBC', args: ['-certpbe', 'RC2-40-CBC', '-keypbe', 'DES-CBC', ...LEGACY], legacy: true },
    { title: 'iteration count 1, MAC iteration count absent (-noiter -nomaciter)', args: ['-noiter', '-nomaciter'] },
    { title: 'no MAC (-nomac)', args: ['-nomac'] },
    { title: 'a non-ASCII password', args: [], password: 'Päßwörd €😀 ключ' },
    { title: 'a non-ASCII password, legacy PBEs', args: ['-legacy'], password: 'Päßwörd €😀 ключ', legacy: true },
    { title: 'an empty password', args: [], password: '' },
    { title: 'an empty password, legacy PBEs', args: ['-legacy'], password: '', legacy: true },
    { title: 'an EC P-256 key', args: [], kind: 'ec' },
    { title: 'an EC P-256 key, legacy PBEs', args: ['-legacy'], kind: 'ec', legacy: true },
  ];

  for (const c of cases) {
    it(c.title, async (ctx) => {
      if (c.legacy && !legacyProvider) ctx.skip();
      const pw = c.password ?? 'correct horse';
      const kind = c.kind ?? 'rsa';
      const p12 = exportP12(pw, ['-name', 'Ålice key', ...c.args], kind);
      const t0 = performance.now();
      const p = await parsePkcs12(p12, pw);
      const ms = performance.now() - t0;
      console.log(`[pkcs12] ${c.title}: parsed in ${ms.toFixed(0)} ms`);
      expectIdentity(p, kind === 'rsa' ? rsaKey : ecKey, kind === 'rsa' ? rsaCert : ecCert, 'Ålice key');
      const err = await expectError(parsePkcs12(p12, pw + 'x'), Pkcs12BadPassword, 'ERR_PKCS12_BAD_PASSWORD');
      expect(err.message).not.toContain(pw + 'x');
      if (pw) expect(err.message).not.toContain(pw);
    });
  }

  it('returns the CA certificate from -certfile too, without a localKeyId', async () => {
    const p12 = exportP12('pw', ['-certfile', join(dir, 'ca.pem')]);
    const p = await parsePkcs12(p12, 'pw');
    expect(p.certs).toHaveLength(2);
    const ca = p.certs.find((c) => toHex(c.der) === toHex(caCert));
    expect(ca).toBeDefined();
    expect(ca!.localKeyId).toBeUndefined();
    expectIdentity(p, rsaKey, rsaCert);
  });

  it('a wrong password on a file without a MAC is a bad password, for every scheme', async (ctx) => {
    if (!legacyProvider) ctx.skip();
    for (const args of [['-nomac'], ['-nomac', '-legacy'], ['-nomac', '-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'NONE']]) {
      const p12 = exportP12('right', args);
      await expectError(parsePkcs12(p12, 'wrong'), Pkcs12BadPassword, 'ERR_PKCS12_BAD_PASSWORD');
      expectIdentity(await parsePkcs12(p12, 'right'), rsaKey, rsaCert);
    }
  });

  it('names the OID of an unsupported algorithm (RC4 PBE, MD5 MAC)', async (ctx) => {
    if (!legacyProvider) ctx.skip();
    const rc4 = exportP12('pw', ['-keypbe', 'PBE-SHA1-RC4-128', ...LEGACY]);
    const e1 = await expectError(parsePkcs12(rc4, 'pw'), UnsupportedAlgorithm, 'ERR_UNSUPPORTED_ALGORITHM');
    expect((e1 as UnsupportedAlgorithm).oid).toBe('1.2.840.113549.1.12.1.1');
    const md5 = exportP12('pw', ['-macalg', 'md5']);
    const e2 = await expectError(parsePkcs12(md5, 'pw'), UnsupportedAlgorithm, 'ERR_UNSUPPORTED_ALGORITHM');
    expect((e2 as UnsupportedAlgorithm).oid).toBe('1.2.840.113549.2.5');
    expect(e2.message).toContain('1.2.840.113549.2.5');
  });

  it('truncated files and garbage are Pkcs12Invalid', async () => {
    const p12 = exportP12('pw', []);
    for (const n of [0, 1, 2, 4, 10, 100, p12.length >> 1, p12.length - 40, p12.length - 1]) {
      await expectError(parsePkcs12(p12.subarray(0, n), 'pw'), Pkcs12Invalid, 'ERR_PKCS12_INVALID');
    }
    for (let i = 0; i < 200; i++) {
      const junk = new Uint8Array(randomBytes(1 + (i % 300)));
      if (i % 2) junk[0] = 0x30; // looks like a SEQUENCE
      await expectError(parsePkcs12(junk, 'pw'), Pkcs12Invalid, 'ERR_PKCS12_INVALID');
    }
    await expectError(parsePkcs12(new TextEncoder().encode('-----BEGIN PKCS12-----'), 'pw'), Pkcs12Invalid, 'ERR_PKCS12_INVALID');
  });

  it('never throws anything but a smime-core error on mutated input (no TypeError, no hang)', async () => {
    const inputs = [exportP12('pw', ['-noiter', '-nomaciter']), exportP12('pw', ['-noiter', '-nomac', '-keypbe', 'PBE-SHA1-3DES'])];
    let ok = 0;
    let bad = 0;
    for (const base of inputs) {
      for (let i = 0; i < 300; i++) {
        const m = base.slice();
        const pos = Math.floor(Math.random() * m.length);
        if (i % 3 === 0) m[pos] = m[pos]! ^ (1 << (i % 8));
        else if (i % 3 === 1) m[pos] = Math.floor(Math.random() * 256);
        else m.set(randomBytes(Math.min(8, m.length - pos)), pos);
        try {
          await parsePkcs12(m, 'pw');
          ok++;
        } catch (e) {
          if (!(e instanceof Pkcs12Invalid || e instanceof Pkcs12BadPassword || e instanceof UnsupportedAlgorithm)) throw e;
          bad++;
        }
      }
    }
    expect(ok + bad).toBe(600);
  });

  it('rejects absurd iteration counts at once instead of hanging', async () => {
    const nomac = exportP12('pw', ['-nomac']);
    const pfx = readTlv(nomac, 0);
    const [, authSafe] = children(nomac, pfx);
    const macData = seq(seq(algorithmIdentifier('1.3.14.3.2.26', NULL), octets(new Uint8Array(20))), octets(new Uint8Array(8)), integer(2n ** 40n));
    const forged = seq(integer(3), nomac.subarray(authSafe!.start, authSafe!.end), macData);
    const t0 = performance.now();
    await expectError(parsePkcs12(forged, 'pw'), Pkcs12LimitExceeded, 'ERR_PKCS12_LIMIT_EXCEEDED');
    expect(performance.now() - t0).toBeLessThan(5000); // a hang guard: a huge iteration count is refused, not run
  });

  it('verifies a PBMAC1 (RFC 9579) MAC', async () => {
    const nomac = exportP12('pbmac pw', ['-nomac']);
    const pfx = readTlv(nomac, 0);
    const [, authSafe] = children(nomac, pfx);
    const [, wrapper] = children(nomac, authSafe!);
    const [octetTlv] = children(nomac, wrapper!);
    const content = stringContent(nomac, octetTlv!);
    const salt = new Uint8Array(randomBytes(16));
    const key = pbkdf2Sync('pbmac pw', salt, 1000, 32, 'sha256');
    const mac = new Uint8Array(createHmac('sha256', key).update(content).digest());
    const hmacSha256 = algorithmIdentifier('1.2.840.113549.2.9', NULL);
    const params = seq(
      algorithmIdentifier('1.2.840.113549.1.5.12', seq(octets(salt), integer(1000), integer(32), hmacSha256)),
      hmacSha256,
    );
    const macData = seq(
      seq(algorithmIdentifier('1.2.840.113549.1.5.14', params), octets(mac)),
      octets(new TextEncoder().encode('NOT USED')),
      integer(1),
    );
    const p12 = seq(integer(3), nomac.subarray(authSafe!.start, authSafe!.end), macData);
    expectIdentity(await parsePkcs12(p12, 'pbmac pw'), rsaKey, rsaCert);
    await expectError(parsePkcs12(p12, 'pbmac pwx'), Pkcs12BadPassword, 'ERR_PKCS12_BAD_PASSWORD');
  });

  it('accepts a MAC made with the pre-1.1.0 OpenSSL encoding of a non-ASCII password (one character per UTF-8 byte)', async () => {
    const pw = 'Grüße';
    const plain = exportP12(pw, ['-nomac', '-keypbe', 'NONE', '-certpbe', 'NONE']);
    const pfx = readTlv(plain, 0);
    const [, authSafe] = children(plain, pfx);
    const [, wrapper] = children(plain, authSafe!);
    const content = stringContent(plain, children(plain, wrapper!)[0]!);
    const salt = new Uint8Array(randomBytes(8));
    const oldBmp = bmp(Buffer.from(pw, 'utf8').toString('latin1'));
    const key = referenceKdf('sha1', 20, 64, oldBmp, salt, 3, 2048, 20);
    const mac = new Uint8Array(createHmac('sha1', key).update(content).digest());
    const macData = seq(seq(algorithmIdentifier('1.3.14.3.2.26', NULL), octets(mac)), octets(salt), integer(2048));
    const p12 = seq(integer(3), plain.subarray(authSafe!.start, authSafe!.end), macData);
    expectIdentity(await parsePkcs12(p12, pw), rsaKey, rsaCert);
    await expectError(parsePkcs12(p12, 'Grüsse'), Pkcs12BadPassword, 'ERR_PKCS12_BAD_PASSWORD');
  });

  it('throws TypeError for arguments of the wrong type', async () => {
    await expect(parsePkcs12('x' as unknown as Uint8Array, 'pw')).rejects.toThrow(TypeError);
    await expect(parsePkcs12(new Uint8Array(4), undefined as unknown as string)).rejects.toThrow(TypeError);
  });
});

describe.skipIf(!openssl)('parsePkcs12 on the public vectors', () => {
  const available = sharedAvailable();

  /** What openssl reads from the file: normalized keys and certificate DERs. */
  function opensslView(rel: string, password: string): { keys: string[]; certs: string[] } {
    const file = join(SHARED_VECTORS, rel);
    const read = (what: string) => {
      const base = ['pkcs12', '-in', file, '-passin', `pass:${password}`, '-nodes', what];
      let r = tryRun('openssl', base);
      if (r.status !== 0) r = tryRun('openssl', [...base, '-legacy']);
      expect(r.status, r.stderr).toBe(0);
      return new TextDecoder().decode(r.stdout);
    };
    return {
      keys: pemBlocks(read('-nocerts'), 'PRIVATE KEY').map(normalizeKey).sort(),
      certs: pemBlocks(read('-nokeys'), 'CERTIFICATE').map(toHex).sort(),
    };
  }

  async function check(rel: string, password: string): Promise<Pkcs12Contents> {
    const t0 = performance.now();
    const p = await parsePkcs12(shared(rel), password);
    console.log(`[pkcs12] ${rel}: ${p.keys.length} key(s), ${p.certs.length} cert(s) in ${(performance.now() - t0).toFixed(0)} ms`);
    const want = opensslView(rel, password);
    expect(p.keys.length).toBeGreaterThanOrEqual(1);
    expect(p.keys.map((k) => normalizeKey(k.pkcs8)).sort()).toEqual(want.keys);
    expect(p.certs.map((c) => toHex(c.der)).sort()).toEqual(want.certs);
    // Each key has a certificate with the same localKeyId.
    for (const k of p.keys) {
      if (k.localKeyId) expect(p.certs.some((c) => c.localKeyId && toHex(c.localKeyId) === toHex(k.localKeyId!))).toBe(true);
    }
    await expectError(parsePkcs12(shared(rel), password + 'wrong'), Pkcs12BadPassword, 'ERR_PKCS12_BAD_PASSWORD');
    return p;
  }

  it.skipIf(!available)('simple-java-mail/smime_test_user.p12 (RC2-40 + 3DES, password letmein)', async () => {
    await check('simple-java-mail/smime_test_user.p12', 'letmein');
  });

  it.skipIf(!available)('lamps-protected-headers-2019/bob.p12.der (3DES, SHA-512 MAC, password bob)', async () => {
    await check('lamps-protected-headers-2019/bob.p12.der', 'bob');
  });

  it.skipIf(!available)('bc-java-mail/johndoe.p12 (RC2-40 + 3DES, empty password)', async () => {
    await check('bc-java-mail/johndoe.p12', '');
  });

  it.skipIf(!available)('thunderbird-comm-central/*.p12 (NSS: BER, PBES2 and 3DES, password nss)', async () => {
    const files = readdirSync(join(SHARED_VECTORS, 'thunderbird-comm-central')).filter((f) => f.endsWith('.p12'));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) await check(`thunderbird-comm-central/${f}`, 'nss');
  });
});
