/** The padding removal of src/crypto/rsa.ts on an EM block from any raw RSA operation (here node:crypto's). */
import { describe, expect, it } from 'vitest';
import { constants, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import { oaepDecode, rsaesOaepEncrypt, rsaesPkcs1v15Encrypt, v15UnpadCek } from '../../src/crypto/rsa.js';
import { parseRsaPublicKey } from '../../src/crypto/rsa_key.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pub = parseRsaPublicKey(new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })));
const raw = (c: Uint8Array) => new Uint8Array(privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, c));
const cek = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const fallback = new Uint8Array(32).fill(0xee);

describe('v15UnpadCek on a raw EM block', () => {
  it('a good padding gives the key; a bad one, or another length, the fallback', () => {
    const em = raw(rsaesPkcs1v15Encrypt(pub, cek));
    expect(v15UnpadCek(em, 256, 32, fallback)).toEqual(cek);
    expect(v15UnpadCek(em, 256, undefined, fallback)).toEqual(cek);
    expect(v15UnpadCek(em, 256, 16, fallback.subarray(0, 16))).toEqual(fallback.subarray(0, 16));
    const bad = em.slice();
    bad[1] = 1;
    expect(v15UnpadCek(bad, 256, 32, fallback)).toEqual(fallback);
    expect(v15UnpadCek(bad, 256, undefined, fallback)).toEqual(fallback);
    const noSep = em.slice();
    noSep.fill(0x55, 2);
    expect(v15UnpadCek(noSep, 256, 32, fallback)).toEqual(fallback);
    // a block of the wrong size is never read
    expect(v15UnpadCek(em.subarray(1), 256, 32, fallback)).toEqual(fallback);
  });
});

describe('oaepDecode on a raw EM block', () => {
  it('decodes SHA-1 and SHA-256 with a label; a wrong label or a damaged block is one error', async () => {
    for (const hash of ['SHA-1', 'SHA-256'] as const) {
      const label = new Uint8Array([1, 2, 3]);
      const em = raw(await rsaesOaepEncrypt(pub, cek, { hash, label }));
      expect(await oaepDecode(em, 256, { hash, label })).toEqual(cek);
      await expect(oaepDecode(em, 256, { hash })).rejects.toThrow('decryption error');
      const bad = em.slice();
      bad[0] = 1;
      await expect(oaepDecode(bad, 256, { hash, label })).rejects.toThrow('decryption error');
      await expect(oaepDecode(em.subarray(1), 256, { hash, label })).rejects.toThrow('decryption error');
    }
  });
});
