/**
 * RSASSA-PSS (RFC 4056) verification with whatever the parameters state: the hash, the MGF1 hash and the salt length.
 * - Bouncy Castle's `openssl-signed-sha256-non-default-salt-length.eml` (salt 222, the maximum for RSA-2048/SHA-256):
 *   the signature holds. Its issuing CA ("MITM Test CA") is not published, so with no anchor it is `untrusted`; with
 *   the signer's own certificate pinned as trust anchor, `valid` at its signing time.
 * - draft-ireland signedByAliceRSAPSS.p7m and signedByAliceRSA.p7m (RFC 9216 Alice) are `valid` under the RSA CA.
 * - OpenSSL-made signatures with salt lengths 0, 20, 64 and max, with an MGF1 hash other than the message hash, and
 *   with SHA-224 (PSS and PKCS#1 v1.5): WebCrypto can do none of the last three, crypto/rsa_sig.ts does.
 * - Ours with PSS and SHA-384/512 verify in `openssl cms -verify`.
 * - The TypeScript primitives against Wycheproof: every invalid PSS and PKCS#1 v1.5 signature is rejected.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, signMessage, verifyMessage } from '../../src/index.js';
import { parseSignedData } from '../../src/cms/signed.js';
import { readPssParams } from '../../src/crypto/signatures.js';
import { rsaPkcs1v15Verify, rsaPssVerify } from '../../src/crypto/rsa_sig.js';
import type { HashName } from '../../src/crypto/algorithms.js';
import { hasPeer, shared, sharedAvailable, SHARED_VECTORS, tryRun } from '../_helpers/env.js';
import { cmsOf, makePki, MESSAGE, multipartSigned, opensslSign, storeFor, text, type TestPki } from '../sign/_pki.js';

const HAVE = sharedAvailable();
const OPENSSL = hasPeer('openssl', ['version']);

const fromHex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

/** The multipart/signed message with its signature part replaced by `sig` (same signed part). */
function resign(message: Uint8Array, sig: Uint8Array): Uint8Array {
  const s = text(message);
  const boundary = /boundary="([^"]+)"/.exec(s)![1]!;
  const part1 = s.split(`--${boundary}`)[1]!.replace(/^\r?\n/, '').replace(/\r?\n$/, '');
  const from = /^From: .*$/m.exec(s)![0];
  return multipartSigned(new Uint8Array(Buffer.from(part1, 'latin1')), sig, `${from}\r\n`);
}

describe.runIf(HAVE)('bc-java-mail openssl-signed-sha256-non-default-salt-length.eml', () => {
  const msg = () => shared('bc-java-mail/openssl-signed-sha256-non-default-salt-length.eml');
  /** Its signing time, inside its certificate's validity (2007-11-01 to 2027-11-21): the time it is verified at. */
  const at = new Date('2017-05-04T09:17:35Z');

  it('states SHA-256, MGF1-SHA-256 and a 222-byte salt', () => {
    const si = parseSignedData(cmsOf(msg())).signerInfos[0]!;
    expect(si.signatureAlgorithm.oid).toBe('1.2.840.113549.1.1.10');
    expect(readPssParams(si.signatureAlgorithm)).toEqual({ hash: 'SHA-256', mgfHash: 'SHA-256', salt: 222 });
  });

  it('the signature holds: untrusted without an anchor (its CA is not published), valid with the signer pinned', async () => {
    const r = await verifyMessage(msg(), { store: new CertificateStore(), harvest: false, at });
    expect(r.signers.map((s) => [s.status, s.reasons, s.email, s.digestAlgorithm])).toEqual([
      ['untrusted', ['no-chain-to-trust-anchor'], 'test@example.com', 'SHA-256'],
    ]);
    expect(r.signers[0]!.signingTime?.toISOString()).toBe('2017-05-04T09:17:35.000Z');
    // Pin the signer's certificate (taken from the message) as a trust anchor: checked at the signing time.
    const pinned = new CertificateStore();
    pinned.addTrustAnchor(parseSignedData(cmsOf(msg())).certificates[0]!.der);
    const v = await verifyMessage(msg(), { store: pinned, harvest: false, at });
    expect(v.signers.map((s) => [s.status, s.reasons])).toEqual([['valid', []]]);
    expect(text(v.content)).toContain('test simple message');
  });

  it('a flipped signature bit, or the salt length changed to 32, makes it invalid (signature-mismatch)', async () => {
    const pinned = new CertificateStore();
    const der = cmsOf(msg());
    pinned.addTrustAnchor(parseSignedData(der).certificates[0]!.der);

    const flipped = new Uint8Array(der);
    flipped[flipped.length - 3] ^= 0x10;
    const a = await verifyMessage(resign(msg(), flipped), { store: pinned, harvest: false, at });
    expect(a.signers.map((s) => [s.status, s.reasons])).toEqual([['invalid', ['signature-mismatch']]]);

    // [2] { INTEGER 0x00de } → 0x0020: the parameters are not signed, so only the salt check can notice.
    const i = Buffer.from(der).indexOf(Buffer.from('a204020200de', 'hex'));
    expect(i).toBeGreaterThan(0);
    const salt32 = new Uint8Array(der);
    salt32[i + 5] = 0x20;
    expect(readPssParams(parseSignedData(salt32).signerInfos[0]!.signatureAlgorithm)!.salt).toBe(32);
    const b = await verifyMessage(resign(msg(), salt32), { store: pinned, harvest: false, at });
    expect(b.signers.map((s) => [s.status, s.reasons])).toEqual([['invalid', ['signature-mismatch']]]);
  });
});

describe.runIf(HAVE)('draft-ireland RSA vectors (RFC 9216 Alice)', () => {
  const store = () => {
    const s = new CertificateStore({ now: () => new Date('2024-06-01T12:00:00Z') });
    s.addTrustAnchor(shared('rfc9216/certs/Sample_LAMPS_RSA_Certification_Authority.selfsigned.pem'));
    return s;
  };
  for (const [file, alg, attrs] of [
    ['signedByAliceRSAPSS.p7m', '1.2.840.113549.1.1.10', true],
    ['signedByAliceRSA.p7m', '1.2.840.113549.1.1.1', false],
  ] as const) {
    it(`${file} is valid`, async () => {
      const der = shared(`draft-ireland-examples-cms/${file}`);
      expect(!!parseSignedData(der).signerInfos[0]!.signedAttrs).toBe(attrs);
      const r = await verifyMessage(der, { store: store(), harvest: false });
      expect(text(r.content)).toBe('This is some sample content.');
      expect(r.signers.map((s) => [s.status, s.reasons, s.email, s.signatureAlgorithm, s.digestAlgorithm])).toEqual([
        ['valid', [], 'alice@smime.example', alg, 'SHA-256'],
      ]);
      if (alg === '1.2.840.113549.1.1.10') {
        const p = readPssParams(parseSignedData(der).signerInfos[0]!.signatureAlgorithm);
        expect(p).toMatchObject({ hash: 'SHA-256', mgfHash: 'SHA-256' });
      }
    });
  }
});

describe.runIf(OPENSSL)('OpenSSL RSA-PSS with any salt length, MGF1 hash and SHA-224', () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await makePki();
  });
  const pss = (...o: string[]) => ['-keyopt', 'rsa_padding_mode:pss', ...o.flatMap((x) => ['-keyopt', x])];
  const cases: [string, string[], { hash: string; mgfHash: string; salt: number } | undefined, string][] = [
    ['salt 0', [...pss('rsa_pss_saltlen:0')], { hash: 'SHA-256', mgfHash: 'SHA-256', salt: 0 }, 'SHA-256'],
    ['salt 20', [...pss('rsa_pss_saltlen:20')], { hash: 'SHA-256', mgfHash: 'SHA-256', salt: 20 }, 'SHA-256'],
    ['salt 64, SHA-512', ['-md', 'sha512', ...pss('rsa_pss_saltlen:64')], { hash: 'SHA-512', mgfHash: 'SHA-512', salt: 64 }, 'SHA-512'],
    ['salt max (222)', [...pss('rsa_pss_saltlen:max')], { hash: 'SHA-256', mgfHash: 'SHA-256', salt: 222 }, 'SHA-256'],
    ['SHA-256 with MGF1-SHA-512', [...pss('rsa_pss_saltlen:32', 'rsa_mgf1_md:sha512')], { hash: 'SHA-256', mgfHash: 'SHA-512', salt: 32 }, 'SHA-256'],
    ['SHA-384 with MGF1-SHA-1', ['-md', 'sha384', ...pss('rsa_pss_saltlen:48', 'rsa_mgf1_md:sha1')], { hash: 'SHA-384', mgfHash: 'SHA-1', salt: 48 }, 'SHA-384'],
    ['SHA-224', ['-md', 'sha224', ...pss('rsa_pss_saltlen:28')], { hash: 'SHA-224', mgfHash: 'SHA-224', salt: 28 }, 'SHA-224'],
    ['PKCS#1 v1.5 with SHA-224', ['-md', 'sha224'], undefined, 'SHA-224'],
  ];
  for (const [name, extra, params, digest] of cases) {
    it(`${name}: valid`, async () => {
      const signed = opensslSign(pki, 'alice-sign', MESSAGE, extra);
      const si = parseSignedData(cmsOf(signed)).signerInfos[0]!;
      if (params) expect(readPssParams(si.signatureAlgorithm)).toEqual(params);
      const store = await storeFor(pki, ['bob']);
      const r = await verifyMessage(signed, { store, harvest: false });
      expect(r.signers.map((s) => [s.status, s.reasons, s.digestAlgorithm])).toEqual([['valid', [], digest]]);
      // The same signature over other content fails.
      const altered = text(signed).replace('Hello Bob', 'Hello Eve');
      const bad = await verifyMessage(altered, { store, harvest: false });
      expect(bad.signers[0]!.status).toBe('invalid');
    });
  }

  it('a signature by another key under the stated parameters is a signature-mismatch', async () => {
    const signed = opensslSign(pki, 'alice-sign', MESSAGE, ['-md', 'sha224', ...pss('rsa_pss_saltlen:28')]);
    const other = opensslSign(pki, 'bob', MESSAGE, ['-md', 'sha224', ...pss('rsa_pss_saltlen:28')]);
    const der = cmsOf(signed);
    const otherSig = parseSignedData(cmsOf(other)).signerInfos[0]!.signature;
    const mine = parseSignedData(der).signerInfos[0]!.signature;
    const at = Buffer.from(der).indexOf(Buffer.from(mine));
    const swapped = new Uint8Array(der);
    swapped.set(otherSig, at);
    const r = await verifyMessage(resign(signed, swapped), { store: await storeFor(pki, ['bob']), harvest: false });
    expect(r.signers[0]!.reasons).toEqual(['signature-mismatch']);
  });

  for (const digest of ['sha384', 'sha512'] as const) {
    it(`ours with pss and ${digest}: salt = hash length, and openssl cms -verify accepts it`, async () => {
      const store = await storeFor(pki, ['alice-sign']);
      const h = digest === 'sha384' ? 'SHA-384' : 'SHA-512';
      const out = await signMessage(MESSAGE, { store, from: 'alice@example.com', pss: true, digest: h });
      expect(readPssParams(parseSignedData(cmsOf(out)).signerInfos[0]!.signatureAlgorithm)).toEqual({
        hash: h,
        mgfHash: h,
        salt: digest === 'sha384' ? 48 : 64,
      });
      const f = join(pki.dir, `ours-pss-${digest}.eml`);
      writeFileSync(f, out);
      const r = tryRun('openssl', ['cms', '-verify', '-purpose', 'smimesign', '-CAfile', pki.rootFile, '-in', f]);
      expect(r.stderr).toContain('Verification successful');
      expect(r.status).toBe(0);
    });
  }
});

describe.runIf(HAVE)('the TypeScript RSA verifiers against Wycheproof', () => {
  interface Group {
    sha: string;
    mgfSha?: string;
    sLen?: number;
    publicKeyDer: string;
    tests: { tcId: number; msg: string; sig: string; result: 'valid' | 'invalid' | 'acceptable' }[];
  }
  const load = (f: string) => JSON.parse(readFileSync(join(SHARED_VECTORS, 'wycheproof', f), 'utf8')) as { testGroups: Group[] };

  it('RSASSA-PSS 2048 SHA-256 MGF1-SHA-256 salt 32: valid accepted, every invalid rejected', () => {
    let valid = 0;
    let invalid = 0;
    for (const g of load('rsa_pss_2048_sha256_mgf1_32_test.json').testGroups) {
      const spki = fromHex(g.publicKeyDer);
      for (const t of g.tests) {
        const ok = rsaPssVerify(spki, { hash: g.sha as HashName, mgfHash: g.mgfSha as HashName, salt: g.sLen! }, fromHex(t.msg), fromHex(t.sig));
        if (t.result === 'valid') {
          expect(ok, `tcId ${t.tcId}`).toBe(true);
          valid++;
        } else if (t.result === 'invalid') {
          expect(ok, `tcId ${t.tcId}`).toBe(false);
          invalid++;
        }
      }
    }
    expect(valid).toBeGreaterThan(50);
    expect(invalid).toBeGreaterThan(40);
  });

  it('RSASSA-PKCS1-v1_5 2048 SHA-256: valid accepted, every invalid rejected', () => {
    let valid = 0;
    let invalid = 0;
    for (const g of load('rsa_signature_2048_sha256_test.json').testGroups) {
      const spki = fromHex(g.publicKeyDer);
      for (const t of g.tests) {
        const ok = rsaPkcs1v15Verify(spki, g.sha as HashName, fromHex(t.msg), fromHex(t.sig));
        if (t.result === 'valid') {
          expect(ok, `tcId ${t.tcId}`).toBe(true);
          valid++;
        } else if (t.result === 'invalid') {
          expect(ok, `tcId ${t.tcId}`).toBe(false);
          invalid++;
        }
      }
    }
    expect(valid).toBeGreaterThan(5);
    expect(invalid).toBeGreaterThan(200);
  });
});
