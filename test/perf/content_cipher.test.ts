/**
 * The chunked content encryption and decryption (AES-CBC in WebCrypto calls of CHUNK bytes, in-place output, the
 * tag laid out after the ciphertext for AES-GCM), checked against node:crypto.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { nodeCrypto } from '../../src/crypto/node.js';
import {
  CHUNK,
  STREAM_CHUNK,
  contentEncryptor,
  decryptContent,
  parseContentAlgorithm,
  type ContentCipherName,
  type EncryptedPayload,
} from '../../src/cms/content_cipher.js';

const u8 = (b: Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.length);
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
const SIZES = [0, 1, 15, 16, 4097, CHUNK - 16, CHUNK - 1, CHUNK, CHUNK + 1, CHUNK + 16, 2 * CHUNK, 2 * CHUNK + 17, 3 * CHUNK - 5];

/** A wrong AES-256 key under which the last block of `ct` has no valid padding (most keys; one is found by trying). */
function wrongKey(ct: Uint8Array, iv?: Uint8Array): Uint8Array {
  for (;;) {
    const key = u8(randomBytes(32));
    const d = createDecipheriv('aes-256-cbc', key, ct.length >= 32 ? ct.subarray(ct.length - 32, ct.length - 16) : iv!);
    d.update(ct.subarray(ct.length - 16));
    try {
      d.final();
    } catch {
      return key;
    }
  }
}

/** `n` random bytes AES-256-CBC-encrypted by node:crypto, with the key, the IV and the algorithm as parsed. */
function cbcCase(n: number) {
  const key = u8(randomBytes(32));
  const iv = u8(randomBytes(16));
  const content = u8(randomBytes(n));
  const c = createCipheriv('aes-256-cbc', key, iv);
  const ct = u8(Buffer.concat([c.update(content), c.final()]));
  const alg = { oid: '', name: 'aes-256-cbc', keyLength: 32, kind: 'aes-cbc', iv, legacy: false, aead: false } as const;
  return { key, iv, content, ct, alg };
}

async function encrypt(name: ContentCipherName, key: Uint8Array, content: Uint8Array, crypto?: Crypto) {
  const enc = contentEncryptor(name, key, content.length, crypto);
  const pieces: Uint8Array[] = [];
  const mac = await enc.encrypt(content, (p) => pieces.push(p.slice()));
  const ciphertext = Buffer.concat(pieces);
  expect(ciphertext.length).toBe(enc.ciphertextLength);
  expect(mac?.length ?? 0).toBe(enc.macLength);
  return { alg: parseContentAlgorithm(enc.algorithm), ciphertext: u8(ciphertext), mac, pieces: pieces.length };
}

describe('AES-CBC in chunks', () => {
  test('encryption gives exactly node:crypto’s ciphertext, in pieces of at most CHUNK bytes', async () => {
    for (const n of SIZES) {
      const key = u8(randomBytes(32));
      const content = u8(randomBytes(n));
      const { alg, ciphertext, pieces } = await encrypt('aes-256-cbc', key, content);
      const c = createCipheriv('aes-256-cbc', key, alg.iv);
      expect(same(ciphertext, u8(Buffer.concat([c.update(content), c.final()])))).toBe(true);
      expect(pieces).toBe(Math.max(1, Math.ceil(n / CHUNK)));
    }
  });

  test('decryption of node:crypto’s ciphertext, in place or not', async () => {
    for (const n of SIZES) {
      const { key, content, ct, alg } = cbcCase(n);
      const copy = ct.slice();
      expect(same(await decryptContent(alg, key, { ciphertext: ct }), content)).toBe(true);
      expect(same(ct, copy)).toBe(true); // untouched
      const inPlace: EncryptedPayload = { ciphertext: ct, inPlace: true };
      const out = await decryptContent(alg, key, inPlace);
      expect(same(out, content)).toBe(true);
      if (n >= CHUNK) {
        expect(out.buffer === ct.buffer).toBe(true); // written over the ciphertext
        expect(inPlace.consumed).toBe(true);
      }
    }
  });

  test('a wrong key is found on the last chunk, before anything is written; the right key still works', async () => {
    const { key, content, ct, alg } = cbcCase(3 * CHUNK + 100);
    const wrong = wrongKey(ct);
    const copy = ct.slice();
    const payload: EncryptedPayload = { ciphertext: ct, inPlace: true };
    await expect(decryptContent(alg, wrong, payload)).rejects.toThrow();
    expect(payload.consumed).toBeUndefined();
    expect(same(ct, copy)).toBe(true);
    expect(same(await decryptContent(alg, key, payload), content)).toBe(true);
  });

  test('a ciphertext that is not whole blocks is refused', async () => {
    const alg = { oid: '', name: 'aes-256-cbc', keyLength: 32, kind: 'aes-cbc', iv: new Uint8Array(16), legacy: false, aead: false } as const;
    await expect(decryptContent(alg, new Uint8Array(32), { ciphertext: new Uint8Array(CHUNK + 17) })).rejects.toThrow(/whole number of blocks/);
  });
});

describe('AES-GCM', () => {
  test('one WebCrypto call; the joined ciphertext ‖ tag is made once and reused by every key tried', async () => {
    for (const n of [0, 1, CHUNK + 3]) {
      const key = u8(randomBytes(32));
      const content = u8(randomBytes(n));
      const { alg, ciphertext, mac, pieces } = await encrypt('aes-256-gcm', key, content);
      expect(pieces).toBe(1);
      const d = createDecipheriv('aes-256-gcm', key, alg.iv);
      d.setAuthTag(mac!);
      expect(same(u8(Buffer.concat([d.update(ciphertext), d.final()])), content)).toBe(true);
      const payload: EncryptedPayload = { ciphertext, mac: mac! };
      await expect(decryptContent(alg, u8(randomBytes(32)), payload)).rejects.toThrow();
      const joined = payload.joined;
      expect(joined?.length).toBe(n + 16);
      expect(same(await decryptContent(alg, key, payload), content)).toBe(true);
      expect(payload.joined).toBe(joined);
    }
  });
});

describe('AES-GCM through incremental AES (Node’s provider)', () => {
  const crypto = nodeCrypto();
  test('encryption in pieces gives node:crypto’s ciphertext and tag', async () => {
    for (const n of [0, 1, CHUNK, 2 * CHUNK + 5]) {
      const key = u8(randomBytes(32));
      const content = u8(randomBytes(n));
      const { alg, ciphertext, mac, pieces } = await encrypt('aes-256-gcm', key, content, crypto);
      expect(pieces).toBe(Math.ceil(n / STREAM_CHUNK));
      const c = createCipheriv('aes-256-gcm', key, alg.iv);
      expect(same(ciphertext, u8(Buffer.concat([c.update(content), c.final()])))).toBe(true);
      expect(same(mac!, u8(c.getAuthTag()))).toBe(true);
    }
  });

  test('in-place decryption; a wrong key (bad tag) gives the ciphertext back for the next key', async () => {
    for (const n of [1, 3 * CHUNK + 7]) {
      const key = u8(randomBytes(32));
      const content = u8(randomBytes(n));
      const { alg, ciphertext, mac } = await encrypt('aes-256-gcm', key, content);
      const copy = ciphertext.slice();
      const payload: EncryptedPayload = { ciphertext, mac: mac!, inPlace: true };
      await expect(decryptContent(alg, u8(randomBytes(32)), payload, crypto)).rejects.toThrow();
      expect(same(ciphertext, copy)).toBe(true);
      const bad = { ciphertext: ciphertext.slice(), mac: mac!.map((b, i) => (i === 0 ? b ^ 1 : b)), inPlace: true };
      await expect(decryptContent(alg, key, bad, crypto)).rejects.toThrow();
      expect(same(bad.ciphertext, copy)).toBe(true);
      const out = await decryptContent(alg, key, payload, crypto);
      expect(same(out, content)).toBe(true);
      expect(out.buffer === ciphertext.buffer).toBe(true);
      expect(same(await decryptContent(alg, key, { ciphertext: copy, mac: mac! }, crypto), content)).toBe(true);
    }
  });
});

describe('AES-CBC decryption through incremental AES (Node’s provider)', () => {
  test('in place or not; a wrong key is refused by the last-block check before anything is written', async () => {
    const crypto = nodeCrypto();
    // Every size, down to empty content (one ciphertext block, whose IV is the algorithm's).
    for (const n of [0, 1, 15, 16, 17, STREAM_CHUNK + 5, CHUNK + 1, 3 * CHUNK + 100]) {
      const { key, iv, content, ct, alg } = cbcCase(n);
      const copy = ct.slice();
      expect(same(await decryptContent(alg, key, { ciphertext: ct }, crypto), content)).toBe(true);
      expect(same(ct, copy)).toBe(true);
      const wrong = wrongKey(ct, iv);
      const payload: EncryptedPayload = { ciphertext: ct, inPlace: true };
      await expect(decryptContent(alg, wrong, payload, crypto)).rejects.toThrow();
      expect(payload.consumed).toBeUndefined();
      expect(same(ct, copy)).toBe(true);
      const out = await decryptContent(alg, key, payload, crypto);
      expect(same(out, content)).toBe(true);
      expect(out.buffer === ct.buffer).toBe(true);
    }
  });
});

describe('contentEncryptor', () => {
  test('checks the content length, and the key may be wiped once it is made', async () => {
    const key = u8(randomBytes(32));
    const enc = contentEncryptor('aes-256-gcm', key, 10);
    key.fill(0);
    await expect(enc.encrypt(new Uint8Array(11), () => {})).rejects.toThrow(RangeError);
    expect(() => contentEncryptor('aes-256-cbc', key, -1)).toThrow(RangeError);
    const ok = contentEncryptor('chacha20-poly1305', u8(randomBytes(32)), 5);
    const pieces: Uint8Array[] = [];
    expect((await ok.encrypt(new Uint8Array(5), (p) => pieces.push(p)))?.length).toBe(16);
    expect(pieces[0]!.length).toBe(5);
  });
});

describe('AES-CBC encryption through incremental AES (Node’s provider)', () => {
  test('pieces of STREAM_CHUNK bytes give node:crypto’s ciphertext', async () => {
    for (const n of [0, 1, 16, STREAM_CHUNK - 1, STREAM_CHUNK, 3 * STREAM_CHUNK + 17]) {
      const key = u8(randomBytes(32));
      const content = u8(randomBytes(n));
      const { alg, ciphertext, mac, pieces } = await encrypt('aes-256-cbc', key, content, nodeCrypto());
      expect(mac).toBeUndefined();
      expect(pieces).toBeGreaterThanOrEqual(Math.max(1, Math.ceil(n / STREAM_CHUNK))); // streamed, not one call
      const c = createCipheriv('aes-256-cbc', key, alg.iv);
      expect(same(ciphertext, u8(Buffer.concat([c.update(content), c.final()])))).toBe(true);
    }
  });
});

describe('contentEncryptor for a length not known in advance (streams, issue 16)', () => {
  /** `content` through start/update/finish in pieces cut at random points. */
  async function streamed(name: ContentCipherName, key: Uint8Array, content: Uint8Array, crypto?: Crypto) {
    const enc = contentEncryptor(name, key, undefined, crypto);
    expect(enc.ciphertextLength).toBeUndefined();
    const pieces: Uint8Array[] = [];
    const run = enc.start((p) => pieces.push(p.slice()));
    for (let i = 0; i < content.length; ) {
      const n = Math.floor(Math.random() ** 2 * 3 * CHUNK);
      // The caller's buffer is reused at once: a stream copies what it holds.
      const piece = content.slice(i, i + n);
      await run.update(piece);
      piece.fill(0xaa);
      i += n;
    }
    const mac = await run.finish();
    return { alg: parseContentAlgorithm(enc.algorithm), ciphertext: u8(Buffer.concat(pieces)), mac };
  }

  test('AES-CBC on WebCrypto, AES-CBC and AES-GCM on Node’s incremental AES, AES-GCM without an accelerator (WebCrypto AES-CTR + GHASH): node:crypto’s ciphertext and tag', async () => {
    for (const n of [0, 1, 16, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17]) {
      for (const [name, crypto] of [
        ['aes-256-cbc', undefined],
        ['aes-128-cbc', nodeCrypto()],
        ['aes-256-gcm', nodeCrypto()],
        ['aes-128-gcm', undefined],
      ] as const) {
        const key = u8(randomBytes(name.startsWith('aes-128') ? 16 : 32));
        const content = u8(randomBytes(n));
        const { alg, ciphertext, mac } = await streamed(name, key, content, crypto);
        const c = createCipheriv(name, key, alg.iv) as ReturnType<typeof createCipheriv> & { getAuthTag?: () => Buffer };
        const want = u8(Buffer.concat([c.update(content), c.final()]));
        expect(same(ciphertext, want), `${name} ${n}`).toBe(true);
        if (name.endsWith('gcm')) expect(same(mac!, u8(c.getAuthTag!())), `${name} ${n} tag`).toBe(true);
        else expect(mac).toBeUndefined();
      }
    }
  });

  test('ChaCha20-Poly1305 on the portable cipher: decrypts with @noble/ciphers’ one-shot AEAD', async () => {
    const { chacha20poly1305 } = await import('@noble/ciphers/chacha.js');
    for (const n of [0, 63, 64, 65, CHUNK + 3]) {
      const key = u8(randomBytes(32));
      const content = u8(randomBytes(n));
      const { alg, ciphertext, mac } = await streamed('chacha20-poly1305', key, content);
      expect(same(chacha20poly1305(key, alg.iv).decrypt(u8(Buffer.concat([ciphertext, mac!]))), content)).toBe(true);
    }
  });

  test('start once; a known length is enforced at finish', async () => {
    const enc = contentEncryptor('aes-256-cbc', u8(randomBytes(32)), 10);
    const run = enc.start(() => {});
    expect(() => enc.start(() => {})).toThrow(/already started/);
    await run.update(new Uint8Array(4));
    await expect(run.finish()).rejects.toThrow(RangeError);
  });
});

describe('AES-GCM of a length not known in advance (the streams)', () => {
  /** A `Crypto` on Node's WebCrypto with a fixed "random" source (so both runs get one nonce), with or without Node's accelerators. */
  const fixedCrypto = (accelerated: boolean): Crypto => {
    const node = nodeCrypto() as Crypto & Record<symbol, unknown>;
    const c: Record<string | symbol, unknown> = {
      subtle: node.subtle,
      getRandomValues: <T extends ArrayBufferView | null>(a: T): T => {
        const b = new Uint8Array(a!.buffer, a!.byteOffset, a!.byteLength);
        for (let i = 0; i < b.length; i++) b[i] = (i * 7 + 3) & 0xff;
        return a;
      },
    };
    if (accelerated) for (const s of Object.getOwnPropertySymbols(node)) c[s] = node[s];
    return c as unknown as Crypto;
  };

  /** Streams `content` through a contentEncryptor of unknown length in pieces of the sizes in turn, from one reused buffer. */
  async function streamed(name: ContentCipherName, key: Uint8Array, content: Uint8Array, sizes: number[], crypto: Crypto, aad?: Uint8Array) {
    const enc = contentEncryptor(name, key, undefined, crypto, aad);
    const pieces: Uint8Array[] = [];
    const run = enc.start((p) => pieces.push(p.slice()));
    const scratch = new Uint8Array(Math.max(...sizes));
    for (let i = 0, k = 0; i < content.length; k++) {
      const n = Math.min(sizes[k % sizes.length]!, content.length - i);
      scratch.set(content.subarray(i, i + n));
      await run.update(scratch.subarray(0, n));
      scratch.fill(0xee); // the caller reuses its buffer: a held piece must have been copied
      i += n;
    }
    const mac = await run.finish();
    return { alg: parseContentAlgorithm(enc.algorithm), algorithm: enc.algorithm, ciphertext: u8(Buffer.concat(pieces)), mac: mac!, largest: Math.max(0, ...pieces.map((p) => p.length)) };
  }

  test('without an accelerator (WebCrypto AES-CTR + GHASH): node:crypto’s ciphertext and tag, and the same bytes as with Node’s accelerator', async () => {
    for (const [n, sizes] of [
      [0, [1]],
      [1, [1]],
      [4097, [15, 16, 17]],
      [CHUNK + 3, [4096]],
      [3 * CHUNK + 17, [1, 65536, 13, CHUNK + 5, 4095]],
      [2 * CHUNK, [2 * CHUNK]],
    ] as const) {
      const key = u8(randomBytes(32));
      const content = u8(randomBytes(n));
      const aad = n % 2 === 1 ? u8(randomBytes(21)) : undefined;
      const plain = await streamed('aes-256-gcm', key, content, [...sizes], fixedCrypto(false), aad);
      const c = createCipheriv('aes-256-gcm', key, plain.alg.iv);
      if (aad) c.setAAD(aad);
      expect(same(plain.ciphertext, u8(Buffer.concat([c.update(content), c.final()]))), `${n}`).toBe(true);
      expect(same(plain.mac, u8(c.getAuthTag())), `${n} tag`).toBe(true);
      expect(plain.largest).toBeLessThanOrEqual(CHUNK);
      const accel = await streamed('aes-256-gcm', key, content, [...sizes], fixedCrypto(true), aad);
      expect(same(accel.algorithm, plain.algorithm)).toBe(true);
      expect(same(accel.ciphertext, plain.ciphertext), `${n} vs Node`).toBe(true);
      expect(same(accel.mac, plain.mac), `${n} tag vs Node`).toBe(true);
    }
  });
});
