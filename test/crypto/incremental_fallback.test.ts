/**
 * The portable incremental ciphers (src/crypto/incremental_fallback.ts): AES-CBC and AES-GCM against node:crypto, and
 * ChaCha20-Poly1305 against @noble/ciphers' one-shot AEAD, with the input cut at random points; the GCM tag given at
 * start or late (`setTag`); wrong tags, wrong padding; the Wycheproof AES-GCM and AES-CBC-PKCS5 vectors. The AES-GCM
 * on WebCrypto's AES-CTR with GHASH in TypeScript (`webCryptoGcm`: decryptStream and encryptStream without an
 * accelerator) the same way, both directions (the encryption also in fixed pieces of 1, 15, 16, 17, 4096 bytes).
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { portableChaCha20Poly1305, portableIncrementalAes, webCryptoGcm, type AsyncGcm } from '../../src/crypto/incremental_fallback.js';
import { webcrypto } from 'node:crypto';
import type { AesStream } from '../../src/crypto/provider.js';
import { SHARED_VECTORS, sharedAvailable } from '../_helpers/env.js';

const u8 = (b: Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.length);
const hex = (s: string) => u8(Buffer.from(s, 'hex'));
const eq = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
const SIZES = [0, 1, 15, 16, 17, 63, 64, 65, 127, 1000, 70_001];

/** Feeds `data` to `s` in pieces cut at random points (empty pieces too); the output joined, `final` included. */
function feed(s: AesStream, data: Uint8Array): Uint8Array {
  const out: Uint8Array[] = [];
  let i = 0;
  while (i < data.length) {
    const n = Math.min(data.length - i, Math.random() < 0.1 ? 0 : Math.floor(Math.random() ** 3 * 5000));
    out.push(s.update(data.subarray(i, i + n)).slice());
    i += n;
  }
  out.push(s.final());
  return u8(Buffer.concat(out));
}

/** {@link feed} for the WebCrypto-backed GCM (its calls wait for WebCrypto). */
async function feedAsync(s: AsyncGcm, data: Uint8Array, lateTag?: Uint8Array): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  let i = 0;
  while (i < data.length) {
    const n = Math.min(data.length - i, Math.random() < 0.1 ? 0 : Math.floor(Math.random() ** 3 * 5000));
    out.push((await s.update(data.subarray(i, i + n))).slice());
    i += n;
  }
  if (lateTag) s.setTag(lateTag);
  out.push(await s.final());
  return u8(Buffer.concat(out));
}
/** Feeds `data` to `s` in pieces of `size` bytes (the last one shorter); the output joined, `final` included. */
async function feedFixed(s: AsyncGcm, data: Uint8Array, size: number): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += size) out.push((await s.update(data.subarray(i, i + size))).slice());
  out.push(await s.final());
  return u8(Buffer.concat(out));
}
const WEB = webcrypto as unknown as Crypto;

function nodeCipher(alg: string, key: Uint8Array, iv: Uint8Array, data: Uint8Array, aad?: Uint8Array) {
  const c = createCipheriv(alg as 'aes-128-gcm', key, iv);
  if (aad) c.setAAD(aad);
  const ct = u8(Buffer.concat([c.update(data), c.final()]));
  return { ct, tag: alg.endsWith('gcm') ? u8(c.getAuthTag()) : undefined };
}

describe('portable AES-CBC', () => {
  test('encryption and decryption in random pieces equal node:crypto', () => {
    for (const kl of [16, 24, 32]) {
      for (const n of SIZES) {
        const key = u8(randomBytes(kl));
        const iv = u8(randomBytes(16));
        const msg = u8(randomBytes(n));
        const { ct } = nodeCipher(`aes-${kl * 8}-cbc`, key, iv, msg);
        expect(eq(feed(portableIncrementalAes.start({ mode: 'cbc', encrypt: true, key, iv }), msg), ct)).toBe(true);
        expect(eq(feed(portableIncrementalAes.start({ mode: 'cbc', encrypt: false, key, iv }), ct), msg)).toBe(true);
      }
    }
  });

  test('bad padding and a truncated ciphertext throw at final', () => {
    const key = u8(randomBytes(32));
    const iv = u8(randomBytes(16));
    const { ct } = nodeCipher('aes-256-cbc', key, iv, u8(randomBytes(100)));
    // A last block whose padding is wrong in each way (not a random block: one in about 256 of those has a valid
    // padding): a pad length of 0 or above the block size, a pad byte that differs from the length, at the start
    // of a whole block of padding or just before the last byte.
    const lastBlocks = [[0x00], [0x11], [0xff], [0x03, 0x02], [0x0f, ...new Array<number>(15).fill(0x10)], [0x04, 0x03, 0x04, 0x04]];
    for (const tail of lastBlocks) {
      const plain = u8(randomBytes(96 + 16));
      plain.set(tail, plain.length - tail.length);
      const c = createCipheriv('aes-256-cbc', key, iv).setAutoPadding(false);
      const bad = u8(Buffer.concat([c.update(plain), c.final()]));
      expect(() => feed(portableIncrementalAes.start({ mode: 'cbc', encrypt: false, key, iv }), bad), `last bytes ${Buffer.from(tail).toString('hex')}`).toThrow(/bad padding/);
    }
    expect(() => feed(portableIncrementalAes.start({ mode: 'cbc', encrypt: false, key, iv }), ct.subarray(0, ct.length - 5))).toThrow(/whole number of blocks/);
    expect(() => feed(portableIncrementalAes.start({ mode: 'cbc', encrypt: false, key, iv }), new Uint8Array(0))).toThrow();
  });
});

describe('portable AES-GCM', () => {
  test('encryption in random pieces equals node:crypto (ciphertext and tag), with and without AAD, any nonce length', () => {
    for (const kl of [16, 24, 32]) {
      for (const n of SIZES) {
        for (const ivLen of [12, 8, 16, 60]) {
          const key = u8(randomBytes(kl));
          const iv = u8(randomBytes(ivLen));
          const aad = n % 2 ? u8(randomBytes(n % 40)) : undefined;
          const msg = u8(randomBytes(n));
          const want = nodeCipher(`aes-${kl * 8}-gcm`, key, iv, msg, aad);
          const s = portableIncrementalAes.start({ mode: 'gcm', encrypt: true, key, iv, ...(aad ? { aad } : {}) });
          expect(eq(feed(s, msg), want.ct)).toBe(true);
          expect(eq(s.tag(), want.tag!)).toBe(true);
        }
      }
    }
  });

  test('decryption in random pieces, the tag given at start or late (setTag); a wrong or missing tag throws at final', () => {
    for (const n of SIZES) {
      const key = u8(randomBytes(32));
      const iv = u8(randomBytes(12));
      const msg = u8(randomBytes(n));
      const { ct, tag } = nodeCipher('aes-256-gcm', key, iv, msg);
      expect(eq(feed(portableIncrementalAes.start({ mode: 'gcm', encrypt: false, key, iv, tag: tag! }), ct), msg)).toBe(true);
      const late = portableIncrementalAes.start({ mode: 'gcm', encrypt: false, key, iv });
      const out: Uint8Array[] = [late.update(ct.subarray(0, n >> 1)), late.update(ct.subarray(n >> 1))];
      late.setTag!(tag!);
      out.push(late.final());
      expect(eq(u8(Buffer.concat(out)), msg)).toBe(true);
      // A 12-byte tag (aes-ICVlen 12) is the first 12 bytes.
      expect(eq(feed(portableIncrementalAes.start({ mode: 'gcm', encrypt: false, key, iv, tag: tag!.subarray(0, 12) }), ct), msg)).toBe(true);
      const bad = tag!.slice();
      bad[n % 16]! ^= 1;
      expect(() => feed(portableIncrementalAes.start({ mode: 'gcm', encrypt: false, key, iv, tag: bad }), ct)).toThrow(/bad tag/);
      expect(() => feed(portableIncrementalAes.start({ mode: 'gcm', encrypt: false, key, iv }), ct)).toThrow(/bad tag/);
      if (n > 0) {
        const flipped = ct.slice();
        flipped[n - 1]! ^= 0x80;
        expect(() => feed(portableIncrementalAes.start({ mode: 'gcm', encrypt: false, key, iv, tag: tag! }), flipped)).toThrow(/bad tag/);
      }
    }
  });

  test('misuse: tag() before final, setTag on an encryption, update after final', () => {
    const key = u8(randomBytes(16));
    const iv = u8(randomBytes(12));
    const s = portableIncrementalAes.start({ mode: 'gcm', encrypt: true, key, iv });
    expect(() => s.tag()).toThrow();
    expect(() => s.setTag!(new Uint8Array(16))).toThrow();
    s.final();
    expect(() => s.update(new Uint8Array(1))).toThrow();
    expect(() => portableIncrementalAes.start({ mode: 'gcm', encrypt: true, key: new Uint8Array(20), iv })).toThrow(RangeError);
  });
});

describe('portable ChaCha20-Poly1305', () => {
  test('equals @noble/ciphers one-shot in random pieces, both ways; a wrong tag throws', () => {
    for (const n of [...SIZES, 64 * 5 + 3]) {
      const key = u8(randomBytes(32));
      const nonce = u8(randomBytes(12));
      const aad = n % 3 ? u8(randomBytes(n % 29)) : undefined;
      const msg = u8(randomBytes(n));
      const want = chacha20poly1305(key, nonce, aad).encrypt(msg);
      const e = portableChaCha20Poly1305(key, nonce, true, aad);
      const ct = feed(e, msg);
      expect(eq(u8(Buffer.concat([ct, e.tag()])), want)).toBe(true);
      const tag = want.subarray(n);
      expect(eq(feed(portableChaCha20Poly1305(key, nonce, false, aad, tag), ct), msg)).toBe(true);
      const late = portableChaCha20Poly1305(key, nonce, false, aad);
      const a = late.update(ct);
      late.setTag!(tag);
      expect(eq(u8(Buffer.concat([a, late.final()])), msg)).toBe(true);
      const bad = tag.slice();
      bad[0]! ^= 1;
      expect(() => feed(portableChaCha20Poly1305(key, nonce, false, aad, bad), ct)).toThrow(/bad tag/);
    }
  });

  test('RFC 8439 §2.8.2 test vector', () => {
    const key = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
    const nonce = hex('070000004041424344454647');
    const aad = hex('50515253c0c1c2c3c4c5c6c7');
    const msg = new TextEncoder().encode("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
    const e = portableChaCha20Poly1305(key, nonce, true, aad);
    const ct = feed(e, msg);
    expect(Buffer.from(ct.subarray(0, 16)).toString('hex')).toBe('d31a8d34648e60db7b86afbc53ef7ec2');
    expect(Buffer.from(e.tag()).toString('hex')).toBe('1ae10b594f09e26a7e902ecbd0600691');
  });
});

interface WTest {
  tcId: number;
  key: string;
  iv: string;
  aad?: string;
  msg: string;
  ct: string;
  tag?: string;
  result: 'valid' | 'invalid' | 'acceptable';
}
const wyche = (f: string): { numberOfTests: number; testGroups: { tests: WTest[] }[] } =>
  JSON.parse(readFileSync(join(SHARED_VECTORS, 'wycheproof', f), 'utf8'));

describe('AES-GCM on WebCrypto AES-CTR + GHASH (webCryptoGcm)', () => {
  test('equals node:crypto in random pieces: every key size, nonce lengths 1 to 64, AAD, the tag at start or late', async () => {
    for (const kl of [16, 24, 32]) {
      for (const nl of [1, 8, 12, 16, 64]) {
        for (const n of SIZES) {
          const key = u8(randomBytes(kl));
          const iv = u8(randomBytes(nl));
          const aad = n % 2 === 0 ? u8(randomBytes(n % 40)) : undefined;
          const msg = u8(randomBytes(n));
          const { ct, tag } = nodeCipher(`aes-${kl * 8}-gcm`, key, iv, msg, aad);
          expect(eq(await feedAsync(await webCryptoGcm(WEB, key, iv, false, aad, tag), ct), msg), `${kl} ${nl} ${n}`).toBe(true);
          expect(eq(await feedAsync(await webCryptoGcm(WEB, key, iv, false, aad), ct, tag), msg), `${kl} ${nl} ${n} late`).toBe(true);
        }
      }
    }
  });

  test('encryption equals node:crypto (ciphertext and tag) in random pieces and across several WebCrypto calls', async () => {
    for (const kl of [16, 24, 32]) {
      for (const nl of [1, 12, 16]) {
        for (const n of [...SIZES, (1 << 18) * 3 + 17]) {
          const key = u8(randomBytes(kl));
          const iv = u8(randomBytes(nl));
          const aad = n % 2 === 0 ? u8(randomBytes(n % 40)) : undefined;
          const msg = u8(randomBytes(n));
          const { ct, tag } = nodeCipher(`aes-${kl * 8}-gcm`, key, iv, msg, aad);
          const e = await webCryptoGcm(WEB, key, iv, true, aad);
          expect(eq(await feedAsync(e, msg), ct), `${kl} ${nl} ${n}`).toBe(true);
          expect(eq(e.tag(), tag!), `${kl} ${nl} ${n} tag`).toBe(true);
          const whole = await webCryptoGcm(WEB, key, iv, true, aad);
          expect(eq(await feedFixed(whole, msg, Math.max(1, n)), ct), `${kl} ${nl} ${n} whole`).toBe(true);
          expect(eq(whole.tag(), tag!), `${kl} ${nl} ${n} whole tag`).toBe(true);
        }
      }
    }
  });

  test('a tag is only given by an encryption after final; setTag is only for a decryption', async () => {
    const key = u8(randomBytes(16));
    const iv = u8(randomBytes(12));
    const e = await webCryptoGcm(WEB, key, iv, true);
    expect(() => e.tag()).toThrow(/after final/);
    expect(() => e.setTag(new Uint8Array(16))).toThrow(/decryption/);
    const d = await webCryptoGcm(WEB, key, iv, false, undefined, new Uint8Array(16));
    expect(() => d.tag()).toThrow(/encryption/);
  });

  test('a flipped ciphertext, tag or AAD byte, or no tag, fails at final', async () => {
    const key = u8(randomBytes(32));
    const iv = u8(randomBytes(12));
    const aad = u8(randomBytes(20));
    const { ct, tag } = nodeCipher('aes-256-gcm', key, iv, u8(randomBytes(1000)), aad);
    const flip = (b: Uint8Array, at: number) => {
      const c = b.slice();
      c[at]! ^= 1;
      return c;
    };
    await expect(feedAsync(await webCryptoGcm(WEB, key, iv, false, aad, tag), flip(ct, 999))).rejects.toThrow(/bad tag/);
    await expect(feedAsync(await webCryptoGcm(WEB, key, iv, false, aad, flip(tag!, 15)), ct)).rejects.toThrow(/bad tag/);
    await expect(feedAsync(await webCryptoGcm(WEB, key, iv, false, flip(aad, 0), tag), ct)).rejects.toThrow(/bad tag/);
    await expect(feedAsync(await webCryptoGcm(WEB, key, iv, false, aad), ct)).rejects.toThrow(/bad tag/);
  });
});

describe.skipIf(!sharedAvailable())('Wycheproof (C2SP/wycheproof, see ../shared/vectors/wycheproof/PROVENANCE.md)', () => {
  test('aes_gcm_test.json: every valid case encrypts and decrypts to the vector in random pieces; every invalid one fails', () => {
    const file = wyche('aes_gcm_test.json');
    let ran = 0;
    for (const g of file.testGroups) {
      for (const t of g.tests) {
        const key = hex(t.key);
        const iv = hex(t.iv);
        const aad = hex(t.aad ?? '');
        const msg = hex(t.msg);
        const ct = hex(t.ct);
        const tag = hex(t.tag!);
        const opts = aad.length > 0 ? { aad } : {};
        ran++;
        if (t.result === 'valid') {
          const e = portableIncrementalAes.start({ mode: 'gcm', encrypt: true, key, iv, ...opts });
          expect(eq(feed(e, msg), ct), `tcId ${t.tcId}`).toBe(true);
          expect(eq(e.tag(), tag), `tcId ${t.tcId}`).toBe(true);
          expect(eq(feed(portableIncrementalAes.start({ mode: 'gcm', encrypt: false, key, iv, tag, ...opts }), ct), msg), `tcId ${t.tcId}`).toBe(true);
        } else {
          // Invalid: a modified tag or ciphertext, or a nonce that cannot be used (empty).
          expect(() => feed(portableIncrementalAes.start({ mode: 'gcm', encrypt: false, key, iv, tag, ...opts }), ct), `tcId ${t.tcId}`).toThrow();
        }
      }
    }
    expect(ran).toBe(file.numberOfTests);
  });

  test('aes_gcm_test.json through webCryptoGcm (decryption): every valid case decrypts to the vector in random pieces; every invalid one fails', async () => {
    const file = wyche('aes_gcm_test.json');
    let ran = 0;
    for (const g of file.testGroups) {
      for (const t of g.tests) {
        const [key, iv, aad, msg, ct, tag] = [t.key, t.iv, t.aad ?? '', t.msg, t.ct, t.tag!].map(hex) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
        ran++;
        const run = async () => feedAsync(await webCryptoGcm(WEB, key, iv, false, aad.length > 0 ? aad : undefined, tag), ct);
        if (t.result === 'valid') expect(eq(await run(), msg), `tcId ${t.tcId}`).toBe(true);
        else await expect(run(), `tcId ${t.tcId}`).rejects.toThrow();
      }
    }
    expect(ran).toBe(file.numberOfTests);
  });

  test('aes_gcm_test.json through webCryptoGcm (encryption): every valid case (CounterWrap ones too) gives the vector\'s ciphertext and tag, in pieces of 1, 15, 16, 17, 4096 bytes and whole', async () => {
    const file = wyche('aes_gcm_test.json');
    let ran = 0;
    for (const g of file.testGroups) {
      for (const t of g.tests) {
        if (t.result !== 'valid') continue;
        const [key, iv, aad, msg, ct, tag] = [t.key, t.iv, t.aad ?? '', t.msg, t.ct, t.tag!].map(hex) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
        for (const size of [1, 15, 16, 17, 4096, Math.max(1, msg.length)]) {
          const e = await webCryptoGcm(WEB, key, iv, true, aad.length > 0 ? aad : undefined);
          expect(eq(await feedFixed(e, msg, size), ct), `tcId ${t.tcId} pieces of ${size}`).toBe(true);
          expect(eq(e.tag(), tag), `tcId ${t.tcId} pieces of ${size}: tag`).toBe(true);
        }
        ran++;
      }
    }
    expect(ran).toBeGreaterThan(100);
  });

  test('aes_cbc_pkcs5_test.json: valid cases both ways in random pieces; invalid padding fails', () => {
    const file = wyche('aes_cbc_pkcs5_test.json');
    let ran = 0;
    for (const g of file.testGroups) {
      for (const t of g.tests) {
        const key = hex(t.key);
        const iv = hex(t.iv);
        const msg = hex(t.msg);
        const ct = hex(t.ct);
        ran++;
        if (t.result === 'valid') {
          expect(eq(feed(portableIncrementalAes.start({ mode: 'cbc', encrypt: true, key, iv }), msg), ct), `tcId ${t.tcId}`).toBe(true);
          expect(eq(feed(portableIncrementalAes.start({ mode: 'cbc', encrypt: false, key, iv }), ct), msg), `tcId ${t.tcId}`).toBe(true);
        } else {
          expect(() => feed(portableIncrementalAes.start({ mode: 'cbc', encrypt: false, key, iv }), ct), `tcId ${t.tcId}`).toThrow();
        }
      }
    }
    expect(ran).toBe(file.numberOfTests);
  });
});
