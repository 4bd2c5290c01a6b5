/**
 * contentDecryptor (src/cms/content_cipher.ts), the content-decryption loop shared by decryptMessage and
 * decryptStream: fed pieces of any size, on Node's incremental AES and on WebCrypto alone (AES-CBC in CHUNKs), it
 * gives node:crypto's plaintext, around the CHUNK boundaries; the GCM tag given up front or late; bad padding and
 * bad tags fail at finish.
 */
import { createCipheriv, randomBytes, webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../src/crypto/node.js';
import { CHUNK, contentDecryptor, parseContentAlgorithm, type ContentDecryptor } from '../../src/cms/content_cipher.js';
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

  it('AES-GCM on Node: the tag up front or given late; a bad tag fails at finish', async () => {
    for (const n of [0, 17, CHUNK + 3]) {
      const key = u8(randomBytes(16));
      const nonce = u8(randomBytes(12));
      const content = randomBytes(n);
      const c = createCipheriv('aes-128-gcm', key, nonce);
      const ct = u8(Buffer.concat([c.update(content), c.final()]));
      const tag = u8(c.getAuthTag());
      const alg = parseContentAlgorithm(algorithmIdentifier('2.16.840.1.101.3.4.1.6', seq(octets(nonce), integer(16))));
      expect((await run(contentDecryptor(alg, key, nodeCrypto(), tag), ct, 65536)).equals(content)).toBe(true);
      expect((await run(contentDecryptor(alg, key, nodeCrypto()), ct, 7000, tag)).equals(content)).toBe(true);
      const badTag = tag.slice();
      badTag[0]! ^= 1;
      await expect(run(contentDecryptor(alg, key, nodeCrypto()), ct, 7000, badTag)).rejects.toThrow();
      await expect(run(contentDecryptor(alg, key, nodeCrypto()), ct, 7000, tag.subarray(0, 12))).rejects.toThrow();
      // no tag at all
      await expect(run(contentDecryptor(alg, key, nodeCrypto()), ct, 7000)).rejects.toThrow();
      // WebCrypto alone has no incremental GCM
      expect(() => contentDecryptor(alg, key, plainCrypto)).toThrow(UnsupportedAlgorithm);
    }
  });
});
