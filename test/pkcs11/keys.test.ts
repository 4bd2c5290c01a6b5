/**
 * The token's keys as ExternalKeys, against a real SoftHSM2 token, checked with node:crypto: RSA PKCS#1 v1.5
 * (SHA-256/384/512) and PSS signatures, ECDSA P-256/P-384 (DER), raw RSA, PKCS#1 v1.5 and OAEP-SHA-1 decryption,
 * ECDH, the never-extractable generated key, and unsupported algorithms.
 */
import { execFile } from 'node:child_process';
import {
  constants,
  diffieHellman,
  generateKeyPairSync,
  publicEncrypt,
  randomBytes,
  verify,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPkcs11Token, type Pkcs11Identity, type Pkcs11Token } from '../../src/pkcs11/index.js';
import { KeyOperationRefused, UnsupportedAlgorithm } from '../../src/errors.js';
import { algorithmIdentifier, explicit, integer, NULL, seq } from '../../src/lib/der.js';
import { createSoftHsmToken, GENERATED_LABEL, softHsmAvailable, type SoftHsmToken } from '../_helpers/softhsm.js';
import { rejection } from '../_helpers/thrown.js';

const available = await softHsmAvailable();
const PIN = '13579';
const DATA = new TextEncoder().encode('the DER of the signed attributes, or anything else');

const OID = {
  sha256Rsa: '1.2.840.113549.1.1.11',
  sha384Rsa: '1.2.840.113549.1.1.12',
  sha512Rsa: '1.2.840.113549.1.1.13',
  pss: '1.2.840.113549.1.1.10',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  sha256: '2.16.840.1.101.3.4.2.1',
  mgf1: '1.2.840.113549.1.1.8',
  dsaSha1: '1.2.840.10040.4.3',
};

/** RSASSA-PSS-params: SHA-256, MGF1-SHA-256, salt 32. */
const PSS_SHA256 = seq(
  explicit(0, algorithmIdentifier(OID.sha256, NULL)),
  explicit(1, algorithmIdentifier(OID.mgf1, algorithmIdentifier(OID.sha256, NULL))),
  explicit(2, integer(32)),
);

describe.skipIf(!available)('PKCS#11 token keys (SoftHSM2)', () => {
  let hsm: SoftHsmToken;
  let token: Pkcs11Token;
  let ids: Map<string, Pkcs11Identity>;
  const id = (label: string) => ids.get(label)!;
  const pub = (label: string): KeyObject => new X509Certificate(id(label).certificate).publicKey;

  beforeAll(async () => {
    const t0 = performance.now();
    hsm = await createSoftHsmToken({ label: 'keys', pin: PIN });
    console.log(`[pkcs11] SoftHSM token created in ${Math.round(performance.now() - t0)} ms`);
    // The only initialized token: neither label nor slot needed.
    token = await openPkcs11Token({ module: hsm.module, pin: PIN });
    expect(token.info.label).toBe('keys');
    ids = new Map((await token.identities()).map((i) => [i.label, i]));
  });
  afterAll(async () => {
    await token?.close();
    hsm?.cleanup();
  });

  it.each([
    ['SHA-256', OID.sha256Rsa, 'sha256'],
    ['SHA-384', OID.sha384Rsa, 'sha384'],
    ['SHA-512', OID.sha512Rsa, 'sha512'],
  ])('signs RSA PKCS#1 v1.5 with %s', async (_name, oid, hash) => {
    const sig = await id('alice-sign').key.sign!(DATA, { oid });
    expect(sig.length).toBe(256);
    expect(verify(hash, DATA, pub('alice-sign'), sig)).toBe(true);
    expect(verify(hash, new TextEncoder().encode('other'), pub('alice-sign'), sig)).toBe(false);
  });

  it('signs RSASSA-PSS (SHA-256, MGF1-SHA-256, salt 32)', async () => {
    const sig = await id('bob').key.sign!(DATA, { oid: OID.pss, params: PSS_SHA256 });
    const key = { key: pub('bob'), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
    expect(verify('sha256', DATA, key, sig)).toBe(true);
    expect(verify('sha256', DATA, { ...key, saltLength: 20 }, sig)).toBe(false);
  });

  it.each([
    ['P-256', 'ec-sign', OID.ecdsaSha256, 'sha256', 32],
    ['P-384', 'ec-enc', OID.ecdsaSha384, 'sha384', 48],
  ])('signs ECDSA %s and returns a DER ECDSA-Sig-Value', async (_curve, label, oid, hash, size) => {
    for (let n = 0; n < 4; n++) {
      const sig = await id(label).key.sign!(DATA, { oid });
      expect(sig[0]).toBe(0x30);
      expect(sig.length).toBeLessThanOrEqual(2 * size + 9);
      expect(verify(hash, DATA, { key: pub(label), dsaEncoding: 'der' }, sig)).toBe(true);
    }
  });

  it('raw RSA decryption returns the modulus-length input of publicEncrypt(RSA_NO_PADDING), leading zeros kept', async () => {
    for (const label of ['alice-enc-2025', GENERATED_LABEL]) {
      const m = randomBytes(256);
      m[0] = 0;
      m[1] = 0;
      const c = publicEncrypt({ key: pub(label), padding: constants.RSA_NO_PADDING }, m);
      const out = await id(label).key.decrypt!(c, 'rsa-raw');
      expect(out.length).toBe(256);
      expect(Buffer.from(out).equals(m)).toBe(true);
    }
  });

  it('PKCS#1 v1.5 mode decrypts what node encrypted', async () => {
    const cek = randomBytes(32);
    const c = publicEncrypt({ key: pub('alice-enc-2025'), padding: constants.RSA_PKCS1_PADDING }, cek);
    expect(Buffer.from(await id('alice-enc-2025').key.decrypt!(c, 'rsaes-pkcs1-v1_5')).equals(cek)).toBe(true);
  });

  it('OAEP SHA-1 mode decrypts what node encrypted; SoftHSM 2.6 refuses OAEP SHA-256 (KeyOperationRefused)', async () => {
    const cek = randomBytes(32);
    const c = publicEncrypt({ key: pub('bob'), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, cek);
    const sha1 = { name: 'rsaes-oaep', hash: 'SHA-1', mgfHash: 'SHA-1', label: new Uint8Array(0) } as const;
    expect(Buffer.from(await id('bob').key.decrypt!(c, sha1)).equals(cek)).toBe(true);
    const c256 = publicEncrypt({ key: pub('bob'), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, cek);
    const sha256 = { ...sha1, hash: 'SHA-256', mgfHash: 'SHA-256' } as const;
    const r = await id('bob').key.decrypt!(c256, sha256).then(
      (v) => v,
      (e: unknown) => e,
    );
    // A token that can do it must get it right; SoftHSM 2.6.1 answers CKR_MECHANISM_PARAM_INVALID.
    if (r instanceof Uint8Array) expect(Buffer.from(r).equals(cek)).toBe(true);
    else {
      expect(r).toBeInstanceOf(KeyOperationRefused);
      expect((r as Error).message).toMatch(/C_Decrypt.*CKR_/);
    }
  });

  // SoftHSM does the v1.5 unpadding with the libcrypto it is linked against, and inside Node that is Node's own
  // OpenSSL: on Node 20 (OpenSSL 3.0) a bad padding is CKR_ENCRYPTED_DATA_INVALID, on Node 22 and 24 (OpenSSL ≥ 3.2)
  // it is "implicit rejection" (the Marvin countermeasure): a synthetic message derived from the ciphertext and the
  // key, not an error. Either way the caller (src/cms/ktri.ts) ends with a random CEK.
  it('a ciphertext that is not PKCS#1 v1.5 is KeyOperationRefused in v1.5 mode, or an implicit-rejection message (the caller maps both to a bad padding)', async () => {
    const block = Buffer.alloc(256, 7);
    const c = publicEncrypt({ key: pub('alice-enc-2025'), padding: constants.RSA_NO_PADDING }, block);
    const decrypt = () => id('alice-enc-2025').key.decrypt!(c, 'rsaes-pkcs1-v1_5').then((v) => v, (e: unknown) => e);
    const r = await decrypt();
    if (r instanceof Uint8Array) {
      expect(r.length).toBeLessThanOrEqual(256 - 11);
      expect(Buffer.from(r).equals(block.subarray(256 - r.length))).toBe(false);
      expect(Buffer.from((await decrypt()) as Uint8Array).equals(Buffer.from(r))).toBe(true); // deterministic for one ciphertext and key
    } else expect(r).toBeInstanceOf(KeyOperationRefused);
  });

  it.each([
    ['P-256', 'ec-sign', 'prime256v1', 32],
    ['P-384', 'ec-enc', 'secp384r1', 48],
  ])('ECDH %s: deriveSecret equals node diffieHellman with an ephemeral key', async (_c, label, namedCurve, size) => {
    const eph = generateKeyPairSync('ec', { namedCurve });
    const spki = eph.publicKey.export({ type: 'spki', format: 'der' });
    const z = await id(label).key.deriveSecret!(spki);
    expect(z.length).toBe(size);
    expect(Buffer.from(z).equals(diffieHellman({ privateKey: eph.privateKey, publicKey: pub(label) }))).toBe(true);
  });

  it('the generated key signs, and the token keeps it: CKA_EXTRACTABLE false, CKA_SENSITIVE true', async () => {
    const sig = await id(GENERATED_LABEL).key.sign!(DATA, { oid: OID.sha256Rsa });
    expect(verify('sha256', DATA, pub(GENERATED_LABEL), sig)).toBe(true);
    const cert = new X509Certificate(id(GENERATED_LABEL).certificate);
    expect(cert.subjectAltName).toBe('email:alice@example.com');
    const listing = await promisify(execFile)(
      'pkcs11-tool',
      ['--module', hsm.module, '--token-label', 'keys', '--login', '--pin', PIN, '--list-objects', '--type', 'privkey', '--id', hsm.generated.id],
      { env: hsm.env },
    );
    expect(listing.stdout).toMatch(/Access:\s+sensitive, always sensitive, never extractable, local/);
    // pkcs11-tool prints "extractable" for CKA_EXTRACTABLE true, "never extractable" for CKA_NEVER_EXTRACTABLE true.
    expect(listing.stdout).not.toMatch(/Access:[^\n]*(?<!never )extractable/);
  });

  it('an algorithm the adapter does not map is UnsupportedAlgorithm; a bad PSS parameter too', async () => {
    const e1 = await rejection(id('alice-sign').key.sign!(DATA, { oid: OID.dsaSha1 }));
    expect(e1).toBeInstanceOf(UnsupportedAlgorithm);
    expect((e1 as UnsupportedAlgorithm).oid).toBe(OID.dsaSha1);
    expect(await rejection(id('alice-sign').key.sign!(DATA, { oid: OID.ecdsaSha256 }))).toBeInstanceOf(UnsupportedAlgorithm);
    expect(await rejection(id('ec-sign').key.sign!(DATA, { oid: OID.sha256Rsa }))).toBeInstanceOf(UnsupportedAlgorithm);
    expect(await rejection(id('bob').key.sign!(DATA, { oid: OID.pss, params: Uint8Array.of(0x30, 0x03, 0x02) }))).toBeInstanceOf(UnsupportedAlgorithm);
  });

  it('a public key that is not an SPKI, or a wrong-length RSA input, is KeyOperationRefused', async () => {
    expect(await rejection(id('ec-enc').key.deriveSecret!(Uint8Array.of(1, 2, 3)))).toBeInstanceOf(KeyOperationRefused);
    const wrongCurve = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' });
    expect(await rejection(id('ec-enc').key.deriveSecret!(wrongCurve))).toBeInstanceOf(KeyOperationRefused);
    expect(await rejection(id('alice-enc-2025').key.decrypt!(new Uint8Array(100), 'rsa-raw'))).toBeInstanceOf(KeyOperationRefused);
  });
});
