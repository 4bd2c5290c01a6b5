/**
 * The token end to end through the library's operations, against a real SoftHSM2 token (test/_helpers/softhsm.ts):
 * - OpenSSL's messages of vectors/manifest.json (RSA v1.5, OAEP SHA-1/SHA-256, ECDH P-384) decrypt with a store
 *   whose only identities come from the token;
 * - the managed-device case: three signing certificates for alice (two other devices', newer, without their keys
 *   here; one on the token), and the encryption history from a PKCS#12, in one store;
 * - the `rsaes-pkcs1-v1_5`-only path through the token's CKM_RSA_PKCS (a wrapper that hides 'rsa-raw'): good
 *   messages open, a bad padding is the same CMSDecryptionFailed as a wrong key, never the token's CKR error;
 * - typed errors: wrong PIN, missing token, a session closed before signing and decrypting, a key that refuses.
 * Signatures checked by OpenSSL, NSS and Bouncy Castle: interop-sign.test.ts.
 */
import { constants, generateKeyPairSync, publicEncrypt, randomBytes, X509Certificate as NodeX509 } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, decryptMessage, signMessage, verifyMessage, type ExternalDecryptAlgorithm, type ExternalKey } from '../../src/index.js';
import { openPkcs11Token, type Pkcs11Identity, type Pkcs11Token } from '../../src/pkcs11/index.js';
import { CMSDecryptionFailed, KeyOperationRefused, SmimeError, TokenNotFound, TokenPinIncorrect, TokenUnavailable } from '../../src/errors.js';
import { atReference, CHAIN, manifest, PASSWORD, ROOT, vfile } from '../_helpers/identities.js';
import { createSoftHsmToken, GENERATED_LABEL, GENERATED_NOT_BEFORE, issueSampleCertificate, REFUSING_IDENTITY, softHsmAvailable, type SoftHsmToken } from '../_helpers/softhsm.js';
import { rejection } from '../_helpers/thrown.js';
import { cmsOf } from '../sign/_pki.js';

const available = await softHsmAvailable();
const PIN = '424242';
const LABEL = 'interop';
const MESSAGE =
  'From: alice@example.com\r\nTo: bob@example.com\r\nSubject: from the token\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\n' +
  'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSigned on the token.\r\n';

const der = (c: { rawData: ArrayBuffer }) => Buffer.from(c.rawData);
const same = (a: { rawData: ArrayBuffer }, b: Uint8Array) => der(a).equals(Buffer.from(b));

/** A trusting store: the sample chain and root, nothing else; its clock at the reference date. */
async function emptyStore(): Promise<CertificateStore> {
  const store = new CertificateStore({ now: atReference });
  await store.addCertificate(CHAIN());
  store.addTrustAnchor(ROOT());
  return store;
}

/** The token's key behind a wrapper that hides 'rsa-raw': CKM_RSA_PKCS and CKM_RSA_PKCS_OAEP only. Logs each call. */
function withoutRaw(key: ExternalKey, log: string[]): ExternalKey {
  return {
    type: key.type,
    decryptModes: ['rsaes-pkcs1-v1_5', 'rsaes-oaep'],
    decrypt(data: Uint8Array, algorithm: ExternalDecryptAlgorithm) {
      log.push(typeof algorithm === 'string' ? algorithm : `${algorithm.name} ${algorithm.hash}`);
      if (algorithm === 'rsa-raw') return Promise.reject(new Error('hidden'));
      return key.decrypt!(data, algorithm);
    },
  };
}

/**
 * A copy of `message`'s CMS (one KTRI, a 2048-bit key) whose encryptedKey is `block` encrypted without padding:
 * a well-formed message whose key transport does not hold a PKCS#1 v1.5 block.
 */
function withEncryptedKey(message: Uint8Array, recipientCert: Uint8Array, block: Uint8Array): Uint8Array {
  const cms = Buffer.from(cmsOf(message));
  const header = Buffer.from([0x04, 0x82, 0x01, 0x00]);
  const at = cms.indexOf(header);
  expect(at).toBeGreaterThan(0);
  expect(cms.indexOf(header, at + 1)).toBe(-1); // the only 256-byte OCTET STRING: the encryptedKey
  const c = publicEncrypt({ key: new NodeX509(recipientCert).publicKey, padding: constants.RSA_NO_PADDING }, block);
  const out = Buffer.from(cms);
  c.copy(out, at + header.length);
  return new Uint8Array(out);
}

describe.skipIf(!available)('the token through the library (SoftHSM2)', () => {
  let hsm: SoftHsmToken;
  let token: Pkcs11Token;
  let ids: Map<string, Pkcs11Identity>;
  const t0 = performance.now();

  beforeAll(async () => {
    hsm = await createSoftHsmToken({ label: LABEL, pin: PIN });
    token = await openPkcs11Token({ module: hsm.module, token: LABEL, pin: PIN });
    ids = new Map((await token.identities()).map((i) => [i.label, i]));
  });
  afterAll(async () => {
    await token?.close();
    hsm?.cleanup();
    console.log(`[pkcs11] interop.test.ts: ${Math.round(performance.now() - t0)} ms`);
  });

  describe("decrypts OpenSSL's messages with a store whose identities all come from the token", () => {
    let store: CertificateStore;
    beforeAll(async () => {
      store = new CertificateStore();
      const imported = await token.importInto(store);
      expect(imported.length).toBe(7);
      expect(store.identities.length).toBe(7);
    });
    const onToken = new Set(['alice-enc-2025', 'bob', 'ec-enc']);
    const messages = manifest.messages.filter(
      (m) => m.peer === 'openssl' && m.expect.content && (m.recipients ?? []).some((r) => onToken.has(r)),
    );
    it('has the v1.5, OAEP SHA-1, OAEP SHA-256 and ECDH P-384 messages', () => {
      const ids = messages.map((m) => m.id);
      for (const id of ['enc-rsa15-aes256cbc', 'enc-oaep-sha1', 'enc-oaep-sha256', 'enc-oaep-sha256-gcm', 'enc-ecdh-p384-aes256cbc', 'enc-ecdh-p384-gcm', 'enc-to-bob-only', 'enc-multi']) {
        expect(ids).toContain(id);
      }
    });
    for (const m of messages) {
      it(`${m.id} (${m.recipients!.join(', ')})`, async () => {
        const r = await decryptMessage(vfile(m.file), { store });
        expect(Buffer.from(r.content).equals(Buffer.from(vfile(m.expect.content!)))).toBe(true);
        const names = m.recipients!.filter((n) => onToken.has(n));
        expect(names.some((n) => same(r.recipient, hsm.identities[n]!.certificate))).toBe(true);
        if (m.id.startsWith('enc-oaep-sha256')) expect(r.keyTransport).toMatch(/oaep.*sha-?256/i);
        else if (m.id.startsWith('enc-oaep-sha1')) expect(r.keyTransport).toMatch(/oaep/i);
        else if (m.id.includes('ecdh')) expect(r.keyTransport).toBe('key-agreement');
        else expect(r.keyTransport).toBe('rsaEncryption');
      });
    }
    it("a message for a key that is not on the token is CMSDecryptionFailed", async () => {
      const err = await rejection(decryptMessage(vfile('openssl/enc-old-2021.eml'), { store }));
      expect(err).toBeInstanceOf(CMSDecryptionFailed);
    });
  });

  describe('the managed device: signing key on the token, encryption history in a PKCS#12', () => {
    let store: CertificateStore;
    const deviceCerts: Uint8Array[] = [];
    beforeAll(async () => {
      store = await emptyStore();
      // Two other devices of alice's: their certificates are newer than the token's; their keys are elsewhere.
      for (const [n, notBefore] of [['d1', '2026-01-01'], ['d2', '2026-06-01']] as const) {
        const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
        const cert = await issueSampleCertificate(new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })), {
          serial: `30${n === 'd1' ? '01' : '02'}`,
          subject: `CN=Alice Example (device ${n}), O=smime-core demo, C=US`,
          email: 'alice@example.com',
          notBefore: new Date(`${notBefore}T00:00:00Z`),
          notAfter: new Date('2028-12-01T00:00:00Z'),
        });
        expect(new Date(`${notBefore}T00:00:00Z`) > GENERATED_NOT_BEFORE).toBe(true);
        deviceCerts.push(cert);
        await store.addCertificate(cert);
      }
      const gen = ids.get(GENERATED_LABEL)!;
      await store.importExternalIdentity(gen.certificate, gen.key);
      await store.importPkcs12(vfile(manifest.identities['alice-enc-2021']!.p12), PASSWORD);
    });

    it('signMessage signs with the token key, and our verifier, with the same store, says valid', async () => {
      const smime = await signMessage(MESSAGE, { store, from: 'alice@example.com' });
      const v = await verifyMessage(smime, { store, harvest: false });
      expect(v.signers.length).toBe(1);
      expect(v.signers[0]!.status).toBe('valid');
      expect(same(v.signers[0]!.certificate!, hsm.generated.certificate)).toBe(true);
      for (const c of deviceCerts) expect(same(v.signers[0]!.certificate!, c)).toBe(false);
    });

    it('an old message for the PKCS#12 identity decrypts in the same store', async () => {
      const r = await decryptMessage(vfile('openssl/enc-old-2021.eml'), { store });
      expect(Buffer.from(r.content).equals(Buffer.from(vfile('openssl/plain.txt')))).toBe(true);
      expect(same(r.recipient, new Uint8Array(new NodeX509(vfile(manifest.identities['alice-enc-2021']!.cert)).raw))).toBe(true);
    });
  });

  describe("the rsaes-pkcs1-v1_5-only path: the token's CKM_RSA_PKCS behind a wrapper that hides rsa-raw", () => {
    const log: string[] = [];
    let store: CertificateStore;
    let cert: Uint8Array;
    beforeAll(async () => {
      store = new CertificateStore();
      const id = ids.get('alice-enc-2025')!;
      cert = id.certificate;
      await store.importExternalIdentity(id.certificate, withoutRaw(id.key, log));
    });

    it.each([
      ['enc-rsa15-aes256cbc', 'rsaes-pkcs1-v1_5'],
      ['enc-aes256gcm', 'rsaes-pkcs1-v1_5'],
      ['enc-oaep-sha1', 'rsaes-oaep SHA-1'],
    ])('%s opens through %s on the token', async (id, asked) => {
      log.length = 0;
      const m = manifest.messages.find((x) => x.id === id)!;
      const r = await decryptMessage(vfile(m.file), { store });
      expect(Buffer.from(r.content).equals(Buffer.from(vfile(m.expect.content!)))).toBe(true);
      expect(log).toEqual([asked]);
    });

    it("a v1.5 key transport with a bad padding is CMSDecryptionFailed, with a wrong key's message, not the token's CKR", async () => {
      const wrongKey = await rejection(decryptMessage(vfile('openssl/enc-old-2021.eml'), { store }));
      expect(wrongKey).toBeInstanceOf(CMSDecryptionFailed);
      // AES-GCM content: the random CEK that a bad padding yields always fails the tag, so the outcome is fixed.
      const original = vfile('openssl/enc-aes256gcm.eml');
      // 00 01 ff… (a signature block), a block without the zero separator, and random bytes: none is 00 02 … 00 M.
      const noSeparator = new Uint8Array(256).fill(0x5a);
      noSeparator.set([0, 2]);
      const random = randomBytes(256);
      random[0] = 0;
      random[1] = 0x17;
      for (const block of [Uint8Array.from([0, 1, ...new Array(221).fill(0xff), 0, ...randomBytes(32)]), noSeparator, random]) {
        expect(block.length).toBe(256);
        log.length = 0;
        const err = await rejection(decryptMessage(withEncryptedKey(original, cert, block), { store }));
        // The token did get asked, and refused (CKR_ENCRYPTED_DATA_INVALID): that is a random CEK, then the same error.
        expect(log).toEqual(['rsaes-pkcs1-v1_5']);
        expect(err).toBeInstanceOf(CMSDecryptionFailed);
        expect((err as SmimeError).code).toBe('ERR_CMS_DECRYPTION_FAILED');
        expect(err.message).toBe(wrongKey.message);
        expect(err.message).not.toMatch(/CKR_|C_Decrypt/);
      }
      // AES-CBC content: the random CEK fails the CBC padding 255 times in 256; the 256th time garbage comes out
      // (RFC 3218: a bad padding must not be told apart), never the plaintext.
      log.length = 0;
      const cbc = await decryptMessage(withEncryptedKey(vfile('openssl/enc-rsa15-aes256cbc.eml'), cert, noSeparator), { store }).then(
        (r) => r.content,
        (e: unknown) => e,
      );
      expect(log).toEqual(['rsaes-pkcs1-v1_5']);
      if (cbc instanceof Uint8Array) expect(Buffer.from(cbc).equals(Buffer.from(vfile('openssl/plain.txt')))).toBe(false);
      else expect((cbc as Error).message).toBe(wrongKey.message);
      // What failed is the padding: the same kind of block with a good padding (00 02 PS 00 CEK) the token unpads.
      const good = new Uint8Array(256);
      good.set([0, 2]);
      good.set(randomBytes(221).map((b) => b | 1), 2);
      good.set(randomBytes(32), 224);
      const direct = await ids.get('alice-enc-2025')!.key.decrypt!(
        publicEncrypt({ key: new NodeX509(cert).publicKey, padding: constants.RSA_NO_PADDING }, good),
        'rsaes-pkcs1-v1_5',
      );
      expect(Buffer.from(direct).equals(Buffer.from(good.subarray(224)))).toBe(true);
    });

    it('an OAEP SHA-256 message: SoftHSM 2.6 refuses the mechanism, and that is the same CMSDecryptionFailed', async () => {
      const wrongKey = await rejection(decryptMessage(vfile('openssl/enc-old-2021.eml'), { store }));
      log.length = 0;
      // (AES-GCM content, so the random CEK always ends in the error; with CBC, 1 in 256 would give garbage.)
      const err = await rejection(decryptMessage(vfile('openssl/enc-oaep-sha256-gcm.eml'), { store }));
      expect(log).toEqual(['rsaes-oaep SHA-256']);
      expect(err).toBeInstanceOf(CMSDecryptionFailed);
      expect(err.message).toBe(wrongKey.message);
      // The token's own answer to that request (what the core turned into the random CEK): a refusal naming the CKR.
      const direct = await rejection(
        ids.get('alice-enc-2025')!.key.decrypt!(new Uint8Array(256).fill(1), { name: 'rsaes-oaep', hash: 'SHA-256', mgfHash: 'SHA-256', label: new Uint8Array(0) }),
      );
      expect(direct).toBeInstanceOf(KeyOperationRefused);
      expect(direct.message).toMatch(/CKR_/);
    });
  });

  describe('typed errors', () => {
    it('a wrong PIN is TokenPinIncorrect, the PIN not in the message; a missing label is TokenNotFound', async () => {
      const e1 = await rejection(openPkcs11Token({ module: hsm.module, token: LABEL, pin: '000000' }));
      expect(e1).toBeInstanceOf(TokenPinIncorrect);
      expect((e1 as SmimeError).code).toBe('ERR_TOKEN_PIN_INCORRECT');
      expect(e1.message).not.toContain('000000');
      const e2 = await rejection(openPkcs11Token({ module: hsm.module, token: 'not-plugged-in', pin: PIN }));
      expect(e2).toBeInstanceOf(TokenNotFound);
      expect((e2 as SmimeError).code).toBe('ERR_TOKEN_NOT_FOUND');
    });

    it('a session closed (the token "removed") before signing and before decrypting: TokenUnavailable from the operations', async () => {
      const second = await openPkcs11Token({ module: hsm.module, token: LABEL, pin: PIN });
      const store = await emptyStore();
      await second.importInto(store);
      await second.close();
      const s = await rejection(signMessage(MESSAGE, { store, from: 'bob@example.com' }));
      expect(s).toBeInstanceOf(TokenUnavailable);
      expect((s as SmimeError).code).toBe('ERR_TOKEN_UNAVAILABLE');
      for (const file of ['openssl/enc-rsa15-aes256cbc.eml', 'openssl/enc-oaep-sha256.eml', 'openssl/enc-ecdh-p384-aes256cbc.eml']) {
        const d = await rejection(decryptMessage(vfile(file), { store }));
        expect(d, file).toBeInstanceOf(TokenUnavailable);
        expect(d.message).not.toContain(PIN);
      }
      // The first token's session is untouched.
      const ok = await decryptMessage(vfile('openssl/enc-rsa15-aes256cbc.eml'), { store: await (async () => {
        const st = new CertificateStore();
        await token.importInto(st);
        return st;
      })() });
      expect(ok.content.length).toBeGreaterThan(0);
    });

    it('the key whose CKA_SIGN is false: signMessage is KeyOperationRefused', async () => {
      const store = await emptyStore();
      const id = ids.get(REFUSING_IDENTITY)!;
      await store.importExternalIdentity(id.certificate, id.key);
      const err = await rejection(signMessage(MESSAGE.replace('alice@', 'frank@'), { store, from: 'frank@example.com' }));
      expect(err).toBeInstanceOf(KeyOperationRefused);
      expect((err as SmimeError).code).toBe('ERR_KEY_OPERATION_REFUSED');
      expect(err.message).toMatch(/CKR_KEY_FUNCTION_NOT_PERMITTED/);
    });
  });
});
