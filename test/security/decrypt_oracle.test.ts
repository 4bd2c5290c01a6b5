/**
 * Issue 10, findings 6 and 8: the trial-key fallback (no RecipientIdentifier names one of our certificates, so
 * each RSA key is tried on each KeyTransRecipientInfo).
 *
 * 6. A try does the same work whether the PKCS#1 v1.5 padding (or the OAEP decoding) was good or not (RFC 3218
 *    §2.3.2): the work is counted (RSA operations, content decryptions, bytes decrypted), never timed.
 * 8. A try that decrypts to something that is not a MIME entity (the garbage a wrong key gets through CBC padding)
 *    is a failed try, and the message fails with the one CMSDecryptionFailed; the right key still opens it.
 */
import { describe, expect, it } from 'vitest';
import { CMSDecryptionFailed, decryptMessage, openMessage } from '../../src/index.js';
import { looksLikeMimeEntity } from '../../src/mime/looks_like_entity.js';
import { algorithmIdentifier, explicit, integer, NULL, octets, seq } from '../../src/lib/der.js';
import { OID_BY_HASH, OIDS } from '../../src/cms/oids.js';
import { rsaesOaepEncrypt } from '../../src/crypto/rsa.js';
import { storeWith } from '../_helpers/identities.js';
import {
  acceleratedCrypto,
  cbc,
  countingCrypto,
  envelopedData,
  authEnvelopedData,
  gcm,
  key32,
  luckyKey,
  ktri,
  MIME,
  rejection,
  ridOf,
  rsaPub,
  smime,
  wrapBad,
  wrapGood,
  type Counts,
} from './_decrypt_envelope.js';
import { storeInternals } from '../../src/store/internal.js';

const te = new TextEncoder();

describe('decryption: the trial-key fallback', async () => {
  const store = await storeWith(['alice-enc-2025']);
  const alice = storeInternals(store).identities()[0]!;
  const pub = rsaPub(alice);

  /** Decrypts, expects the uniform failure, and returns the work it took. */
  async function failedTry(der: Uint8Array, fill?: number): Promise<Counts> {
    const { crypto, counts } = countingCrypto(fill);
    const e = await rejection(decryptMessage(smime(der), { store, crypto }));
    expect(e).toBeInstanceOf(CMSDecryptionFailed);
    return counts;
  }

  it('a try costs the same with a good and a bad PKCS#1 v1.5 padding (AES-GCM)', async () => {
    const content = gcm(key32(), MIME);
    const mk = (ek: Uint8Array) => authEnvelopedData([ktri(ridOf(alice, true), ek)], content.alg, content.ciphertext, content.mac);
    const good = await failedTry(mk(wrapGood(pub, key32()))); // good padding, a CEK of the right length, the wrong one
    const shortKey = await failedTry(mk(wrapGood(pub, key32().subarray(0, 16)))); // good padding, the wrong length
    const bad = await failedTry(mk(wrapBad(pub)));
    expect(good).toEqual({ rsa: 1, decrypt: 1, bytes: content.ciphertext.length + 16, deriveBits: 0 });
    expect(shortKey).toEqual(good);
    expect(bad).toEqual(good);
  });

  it('a try costs the same with a good and a bad PKCS#1 v1.5 padding (AES-CBC), over several RecipientInfos', async () => {
    const content = cbc(key32(), MIME);
    const mk = (eks: Uint8Array[]) => envelopedData(eks.map((ek) => ktri(ridOf(alice, true), ek)), content.alg, content.ciphertext);
    const good = await failedTry(mk([wrapGood(pub, key32()), wrapGood(pub, key32()), wrapGood(pub, key32())]));
    const bad = await failedTry(mk([wrapBad(pub), wrapBad(pub), wrapBad(pub)]));
    const mixed = await failedTry(mk([wrapBad(pub), wrapGood(pub, key32()), wrapBad(pub)]));
    expect(good).toEqual({ rsa: 3, decrypt: 3, bytes: 3 * content.ciphertext.length, deriveBits: 0 });
    expect(bad).toEqual(good);
    expect(mixed).toEqual(good);
  });

  it('a try costs the same whether the RSA-OAEP decoding succeeds or fails', async () => {
    const sha256 = algorithmIdentifier(OID_BY_HASH['SHA-256']!, NULL);
    const oaep = algorithmIdentifier(OIDS.rsaesOaep, seq(explicit(0, sha256), explicit(1, algorithmIdentifier(OIDS.mgf1, sha256))));
    const content = gcm(key32(), MIME);
    const mk = (ek: Uint8Array) =>
      authEnvelopedData([seq(integer(0), ridOf(alice, true), oaep, octets(ek))], content.alg, content.ciphertext, content.mac);
    const good = await failedTry(mk(await rsaesOaepEncrypt(pub, key32(), { hash: 'SHA-256', mgfHash: 'SHA-256' })));
    const bad = await failedTry(mk(wrapBad(pub)));
    expect(good).toEqual({ rsa: 1, decrypt: 1, bytes: content.ciphertext.length + 16, deriveBits: 0 });
    expect(bad).toEqual(good);
  });

  it('content that is not a MIME entity is a failed try, whether the padding was good or not', async () => {
    // A good padding around the wrong key, and CBC content that decrypts under that key with a valid padding.
    const wrong = key32();
    const garbage = cbc(wrong, te.encode('\x93\x01binary garbage, no header section\x00\xff'));
    await failedTry(envelopedData([ktri(ridOf(alice, true), wrapGood(pub, wrong))], garbage.alg, garbage.ciphertext));
    // A bad padding: the random CEK (here 0x42 bytes: the counting Crypto's "random" output) gets through CBC.
    const random = new Uint8Array(32).fill(0x42);
    const lucky = cbc(random, te.encode('not MIME either'));
    const counts = await failedTry(envelopedData([ktri(ridOf(alice, true), wrapBad(pub))], lucky.alg, lucky.ciphertext), 0x42);
    expect(counts.decrypt).toBe(1);
    // openMessage takes the same path.
    const e = await rejection(openMessage(smime(envelopedData([ktri(ridOf(alice, true), wrapGood(pub, wrong))], garbage.alg, garbage.ciphertext)), { store }));
    expect(e).toBeInstanceOf(CMSDecryptionFailed);
  });

  it('the right key still opens the message through the fallback, after tries that decrypted garbage', async () => {
    const cek = key32();
    const body = cbc(cek, MIME);
    // The first RecipientInfo's key gets through the CBC padding of the real ciphertext (chosen so: one key in 256
    // does); that try must not leave garbage in place of the ciphertext for the second (the message is handed over).
    const wrong = luckyKey(body.iv, body.ciphertext);
    const der = envelopedData([ktri(ridOf(alice, true), wrapGood(pub, wrong)), ktri(ridOf(alice, true), wrapGood(pub, cek))], body.alg, body.ciphertext);
    const r = await decryptMessage(smime(der), { store });
    const r1 = await decryptMessage(new TextEncoder().encode(smime(der)), { store, overwriteInput: true, crypto: acceleratedCrypto() });
    expect(Buffer.from(r1.content).equals(Buffer.from(MIME))).toBe(true);
    expect(Buffer.from(r.content).equals(Buffer.from(MIME))).toBe(true);
    expect(r.authenticated).toBe(false);
    // AEAD content is not held to the MIME check: its tag already proves the key.
    const binary = te.encode('\x00\x01 binary eContent');
    const sealed = gcm(cek, binary);
    const r2 = await decryptMessage(smime(authEnvelopedData([ktri(ridOf(alice, true), wrapGood(pub, cek))], sealed.alg, sealed.ciphertext, sealed.mac)), { store });
    expect(Buffer.from(r2.content).equals(Buffer.from(binary))).toBe(true);
  });

  it('looksLikeMimeEntity: a header section ended by an empty line, with Content-Type or MIME-Version', () => {
    const yes = ['Content-Type: text/plain\r\n\r\nhi', 'MIME-Version: 1.0\nSubject: x\n\n', 'content-type:text/plain\r\n folded\r\n\r\n'];
    const no = ['', '\r\n\r\nbody', 'Subject: no type\r\n\r\nhi', 'Content-Type: text/plain\r\n', 'Content-Type: text/plain', 'garbage\x00\r\n\r\n', ': x\r\n\r\n'];
    for (const s of yes) expect(looksLikeMimeEntity(te.encode(s)), JSON.stringify(s)).toBe(true);
    for (const s of no) expect(looksLikeMimeEntity(te.encode(s)), JSON.stringify(s)).toBe(false);
    // The header section is read up to maxHeaderBytes, never further.
    expect(looksLikeMimeEntity(te.encode(`Content-Type: text/plain\r\nX: ${'a'.repeat(100)}\r\n\r\n`), 64)).toBe(false);
    // Random bytes essentially never pass.
    let passed = 0;
    for (let i = 0; i < 2000; i++) if (looksLikeMimeEntity(globalThis.crypto.getRandomValues(new Uint8Array(64)))) passed++;
    expect(passed).toBe(0);
  });
});
