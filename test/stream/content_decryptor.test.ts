/**
 * contentDecryptor (src/cms/content_cipher.ts), the content-decryption loop shared by decryptMessage and
 * decryptStream: fed pieces of any size, on Node's incremental AES and on WebCrypto alone (AES-CBC in CHUNKs), it
 * gives node:crypto's plaintext, around the CHUNK boundaries; the GCM tag given up front or late; bad padding and
 * bad tags fail at finish. Without an accelerator AES-GCM runs on WebCrypto AES-CTR + GHASH; ChaCha20-Poly1305, 3DES and RC2
 * stream too.
 */
import { createCipheriv, randomBytes, webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../src/crypto/node.js';
import { CHUNK, checkStreamDecryption, contentDecryptor, parseContentAlgorithm, type ContentDecryptor } from '../../src/cms/content_cipher.js';
import { rc2CbcEncrypt } from '../../src/crypto/legacy.js';
import { algorithmIdentifier, integer, octets, seq } from '../../src/lib/der.js';
import { UnsupportedAlgorithm } from '../../src/errors.js';

const u8 = (b: Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.length);
const plainCrypto = { subtle: webcrypto.subtle, getRandomValues: webcrypto.getRandomValues.bind(webcrypto) } as unknown as Crypto;
const SIZES = [0, 1, 15, 16, 4097, CHUNK - 16, CHUNK, CHUNK + 1, CHUNK + 16, CHUNK + 33, 2 * CHUNK + 17];

async function run(d: ContentDecryptor, ct: Uint8Array, piece: number, tag?: Uint8Array): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for (let i = 0; i < ct.length; i += piece) out.push(await d.update(ct.subarray(i, i + piece)));
  if (tag) d.setTag(tag);
  out.push(await d.finish());
  return Buffer.concat(out);
}

describe('contentDecryptor', () => {
  it('AES-CBC, on Node and on WebCrypto alone, in pieces of any size', async () => {
    for (const n of SIZES) {
      const key = u8(randomBytes(32));
      const iv = u8(randomBytes(16));
      const content = randomBytes(n);
      const c = createCipheriv('aes-256-cbc', key, iv);
      const ct = u8(Buffer.concat([c.update(content), c.final()]));
      const alg = parseContentAlgorithm(algorithmIdentifier('2.16.840.1.101.3.4.1.42', octets(iv)));
      for (const crypto of [nodeCrypto(), plainCrypto]) {
        for (const piece of [4093, 65536, CHUNK + 5]) {
          expect((await run(contentDecryptor(alg, key, crypto), ct, piece)).equals(content), `${n} in ${piece}`).toBe(true);
        }
        // the block before the last changed: the padding byte becomes >= 0x80, an error at finish
        if (n >= 16 && n < 4097) {
          const bad = ct.slice();
          bad[bad.length - 17]! ^= 0x80;
          await expect(run(contentDecryptor(alg, key, crypto), bad, 4096)).rejects.toThrow();
        }
      }
    }
  });

  it('AES-GCM on Node and on WebCrypto AES-CTR + GHASH (no accelerator): the tag up front or given late; a bad tag fails at finish', async () => {
    for (const n of [0, 17, CHUNK + 3]) {
      const key = u8(randomBytes(16));
      const nonce = u8(randomBytes(12));
      const content = randomBytes(n);
      const c = createCipheriv('aes-128-gcm', key, nonce);
      const ct = u8(Buffer.concat([c.update(content), c.final()]));
      const tag = u8(c.getAuthTag());
      const alg = parseContentAlgorithm(algorithmIdentifier('2.16.840.1.101.3.4.1.6', seq(octets(nonce), integer(16))));
      for (const crypto of [nodeCrypto(), plainCrypto]) {
        expect((await run(contentDecryptor(alg, key, crypto, tag), ct, 65536)).equals(content)).toBe(true);
        expect((await run(contentDecryptor(alg, key, crypto), ct, 7000, tag)).equals(content)).toBe(true);
        const badTag = tag.slice();
        badTag[0]! ^= 1;
        await expect(run(contentDecryptor(alg, key, crypto), ct, 7000, badTag)).rejects.toThrow();
        await expect(run(contentDecryptor(alg, key, crypto), ct, 7000, tag.subarray(0, 12))).rejects.toThrow();
        // no tag at all
        await expect(run(contentDecryptor(alg, key, crypto), ct, 7000)).rejects.toThrow();
      }
    }
  });

  it('ChaCha20-Poly1305 (no provider has it: the portable RFC 8439 construction), with or without an accelerator', async () => {
    for (const n of [0, 63, 64, 65, CHUNK + 3]) {
      const key = u8(randomBytes(32));
      const nonce = u8(randomBytes(12));
      const content = randomBytes(n);
      const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
      const ct = u8(Buffer.concat([c.update(content), c.final()]));
      const tag = u8(c.getAuthTag());
      const alg = parseContentAlgorithm(algorithmIdentifier('1.2.840.113549.1.9.16.3.18', octets(nonce)));
      for (const crypto of [nodeCrypto(), plainCrypto]) {
        expect((await run(contentDecryptor(alg, key, crypto, tag), ct, 4093)).equals(content), `${n} tag first`).toBe(true);
        expect((await run(contentDecryptor(alg, key, crypto), ct, 65536, tag)).equals(content), `${n} tag late`).toBe(true);
        const badTag = tag.slice();
        badTag[15]! ^= 1;
        await expect(run(contentDecryptor(alg, key, crypto), ct, 7000, badTag)).rejects.toThrow();
        if (n > 0) {
          const badCt = ct.slice();
          badCt[n - 1]! ^= 1;
          await expect(run(contentDecryptor(alg, key, crypto), badCt, 7000, tag)).rejects.toThrow();
        }
        await expect(run(contentDecryptor(alg, key, crypto), ct, 7000)).rejects.toThrow();
      }
    }
  });

  it('3DES-CBC and RC2-CBC (src/crypto/legacy.ts) block by block, in pieces of any size, against node:crypto and the buffer functions', async () => {
    for (const n of [0, 7, 8, 9, 4097, 70_000]) {
      const key = u8(randomBytes(24));
      const iv = u8(randomBytes(8));
      const content = randomBytes(n);
      const c = createCipheriv('des-ede3-cbc', key, iv);
      const ct = u8(Buffer.concat([c.update(content), c.final()]));
      const des = parseContentAlgorithm(algorithmIdentifier('1.2.840.113549.3.7', octets(iv)));
      const rc2Key = key.subarray(0, 16);
      const rc2 = parseContentAlgorithm(algorithmIdentifier('1.2.840.113549.3.2', seq(integer(58), octets(iv)))); // 128 bits
      const rc2Ct = rc2CbcEncrypt(rc2Key, 128, iv, content);
      for (const piece of [1, 5, 8, 4093, 65536]) {
        if (piece < 8 && n > 5000) continue;
        expect((await run(contentDecryptor(des, key, plainCrypto), ct, piece)).equals(content), `3DES ${n} in ${piece}`).toBe(true);
        expect((await run(contentDecryptor(rc2, rc2Key, nodeCrypto()), rc2Ct, piece)).equals(content), `RC2 ${n} in ${piece}`).toBe(true);
      }
      // the padding byte changed through the block before the last: an error at finish
      if (n >= 8) {
        const bad = ct.slice();
        bad[bad.length - 9]! ^= 0x80;
        await expect(run(contentDecryptor(des, key, plainCrypto), bad, 4096)).rejects.toThrow();
      }
      await expect(run(contentDecryptor(des, key, plainCrypto), ct.subarray(0, ct.length - 3), 4096)).rejects.toThrow();
    }
  });

  it('refuses nothing it can read: checkStreamDecryption accepts every cipher parseContentAlgorithm gives', () => {
    const ivs = { cbc: new Uint8Array(16), short: new Uint8Array(8), nonce: new Uint8Array(12) };
    for (const der of [
      algorithmIdentifier('2.16.840.1.101.3.4.1.2', octets(ivs.cbc)),
      algorithmIdentifier('2.16.840.1.101.3.4.1.46', seq(octets(ivs.nonce), integer(12))),
      algorithmIdentifier('1.2.840.113549.1.9.16.3.18', octets(ivs.nonce)),
      algorithmIdentifier('1.2.840.113549.3.7', octets(ivs.short)),
      algorithmIdentifier('1.2.840.113549.3.2', octets(ivs.short)),
    ]) {
      expect(() => checkStreamDecryption(parseContentAlgorithm(der))).not.toThrow();
    }
    expect(() => checkStreamDecryption({ ...parseContentAlgorithm(algorithmIdentifier('1.2.840.113549.3.7', octets(ivs.short))), kind: 'des' })).toThrow(UnsupportedAlgorithm);
  });
});
