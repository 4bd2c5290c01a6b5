/**
 * A portable incremental AES (CBC and GCM) and ChaCha20-Poly1305, in TypeScript on @noble/ciphers, for when no
 * accelerator is plugged in (browsers; `import 'smime-core'` without the `node` condition): WebCrypto has no incremental
 * GCM, and streams cannot wait for the whole content (issue 16). Slower than a native cipher, but memory stays bounded.
 *
 * Built from @noble/ciphers' public pieces only: AES-CBC without padding (the PKCS#7 padding is done here), AES-CTR
 * (GCM's GCTR, started afresh at the right counter block for each piece) and GHASH (`_polyval.js`), ChaCha20 with a
 * block counter and Poly1305 (the RFC 8439 AEAD layout is done here). Each piece is processed as it comes; at most a
 * block (CBC, GCM: 16 bytes; ChaCha20: 64) is held between calls.
 */
import { cbc, ctr } from '@noble/ciphers/aes.js';
import { GHASH } from '@noble/ciphers/_polyval.js';
import { chacha20 } from '@noble/ciphers/chacha.js';
import { Poly1305 } from '@noble/ciphers/_poly1305.js';
import type { AesStream, IncrementalAes } from './provider.js';

const EMPTY = new Uint8Array(0);

/** Constant-time comparison of `a` with the first `a.length` bytes of `b`. */
function sameTag(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length > b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** Joins `a` and `b` (either may be empty) without copying when one is empty. */
function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** 64-bit big-endian bit length of `n` bytes, into `out` at `at`. */
function bitLength(out: Uint8Array, at: number, n: number): void {
  const bits = n * 8;
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  v.setUint32(at, Math.floor(bits / 2 ** 32), false);
  v.setUint32(at + 4, bits >>> 0, false);
}

function checkAesKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || (key.length !== 16 && key.length !== 24 && key.length !== 32)) throw new RangeError('AES: the key must be 16, 24 or 32 bytes');
}

/** AES-CBC with PKCS#7 padding, incrementally. Decryption holds back the last block until `final` (its padding). */
function cbcStream(key: Uint8Array, iv: Uint8Array, encrypt: boolean): AesStream {
  if (iv.length !== 16) throw new RangeError('AES-CBC: the IV must be 16 bytes');
  const k = key.slice();
  let chain = iv.slice();
  let held: Uint8Array = EMPTY;
  let done = false;
  const blocks = (data: Uint8Array): Uint8Array => {
    const c = cbc(k, chain, { disablePadding: true });
    const out = encrypt ? c.encrypt(data) : c.decrypt(data);
    chain = (encrypt ? out : data).slice(data.length - 16);
    return out;
  };
  return {
    update(data) {
      if (done) throw new Error('AES-CBC: already finished');
      const all = join(held, data);
      // Encryption: every whole block. Decryption: all but the last block (it may hold the padding).
      let n = all.length - (all.length % 16);
      if (!encrypt && n === all.length) n -= 16;
      if (n <= 0) {
        held = all === data ? data.slice() : all;
        return EMPTY;
      }
      held = all.slice(n);
      return blocks(all.subarray(0, n));
    },
    final() {
      if (done) throw new Error('AES-CBC: already finished');
      done = true;
      const rest = held;
      held = EMPTY;
      try {
        if (encrypt) {
          const p = 16 - rest.length;
          const last = new Uint8Array(16).fill(p);
          last.set(rest, 0);
          return blocks(last);
        }
        if (rest.length !== 16) throw new Error('AES-CBC: the ciphertext is not a whole number of blocks');
        const last = blocks(rest);
        const p = last[15]!;
        let bad = p === 0 || p > 16 ? 1 : 0;
        for (let i = 16 - Math.min(p, 16); i < 16; i++) bad |= last[i]! ^ p;
        if (bad !== 0) throw new Error('AES-CBC: bad padding');
        return last.subarray(0, 16 - p);
      } finally {
        k.fill(0);
      }
    },
    tag() {
      throw new Error('AES-CBC has no tag');
    },
  };
}

/**
 * The start of a GCM operation with the hash key `h` = E_K(0^128): the pre-counter block J0 of `iv` (SP 800-38D
 * §7.1), and GHASH begun with the AAD (zero-padded to a block).
 */
function gcmStart(h: Uint8Array, iv: Uint8Array, aad: Uint8Array | undefined): { j0: Uint8Array; ghash: GHASH; aadLength: number } {
  let j0: Uint8Array;
  if (iv.length === 12) {
    j0 = new Uint8Array(16);
    j0.set(iv, 0);
    j0[15] = 1;
  } else {
    const g = new GHASH(h);
    g.update(iv);
    const len = new Uint8Array(16);
    bitLength(len, 8, iv.length);
    g.update(len);
    j0 = g.digest();
  }
  // The largest precomputed window (8 bits: a 64 KiB table, built once): content here is expected to be large.
  const ghash = new GHASH(h, 1 << 20);
  if (aad && aad.length > 0) ghash.update(aad);
  return { j0, ghash, aadLength: aad ? aad.length : 0 };
}

/** GHASH closed with the lengths block (SP 800-38D §7.1 step 5): S, whose encryption under J0 is the tag. */
function ghashFinal(ghash: GHASH, aadLength: number, textLength: number): Uint8Array {
  const len = new Uint8Array(16);
  bitLength(len, 0, aadLength);
  bitLength(len, 8, textLength);
  ghash.update(len);
  return ghash.digest();
}

/** The end of a GCM operation with the tag `t`: kept for `tag()` (encryption), else checked against `expected`. */
function endGcm(encrypt: boolean, t: Uint8Array, expected: Uint8Array | undefined): Uint8Array | undefined {
  if (encrypt) return t;
  if (!expected || expected.length < 12 || expected.length > 16 || !sameTag(expected, t)) throw new Error('AES-GCM: bad tag');
  return undefined;
}

/**
 * AES-GCM (NIST SP 800-38D), incrementally: GCTR by AES-CTR pieces (the 32-bit counter wraps as GCM's inc32 wants:
 * a piece that crosses the wrap is cut there), GHASH over the ciphertext in whole blocks (at most 15 bytes held).
 */
function gcmStream(key: Uint8Array, iv: Uint8Array, encrypt: boolean, aad: Uint8Array | undefined, tag: Uint8Array | undefined): AesStream {
  if (iv.length === 0) throw new RangeError('AES-GCM: empty nonce');
  const k = key.slice();
  const zero = new Uint8Array(16);
  const h = ctr(k, zero).encrypt(zero);
  const { j0, ghash, aadLength } = gcmStart(h, iv, aad);
  const j0View = new DataView(j0.buffer, j0.byteOffset, 16);
  const ctr0 = j0View.getUint32(12, false);
  /** Bytes of text processed so far (a multiple of 16 between calls, but for the last piece). */
  let offset = 0;
  /** Ciphertext not yet hashed (fewer than 16 bytes). */
  let pending: Uint8Array = EMPTY;
  /** Keystream position within a partial block: text is fed in whole blocks but for the last piece. */
  let heldText: Uint8Array = EMPTY;
  let expected = tag?.slice();
  let result: Uint8Array | undefined;
  let done = false;
  /** GCTR of `text` starting at block `offset / 16` (after J0). */
  const gctr = (text: Uint8Array): Uint8Array => {
    const out = new Uint8Array(text.length);
    let i = 0;
    while (i < text.length) {
      const block = (offset + i) / 16;
      const counter = (ctr0 + 1 + block) >>> 0;
      // Blocks until the 32-bit counter wraps: one CTR call must not carry into the nonce bytes.
      const untilWrap = (2 ** 32 - counter) * 16;
      const n = Math.min(text.length - i, untilWrap);
      const cb = j0.slice();
      new DataView(cb.buffer).setUint32(12, counter, false);
      out.set(ctr(k, cb).encrypt(text.subarray(i, i + n)), i);
      i += n;
    }
    return out;
  };
  const hash = (ct: Uint8Array): void => {
    const all = join(pending, ct);
    const n = all.length - (all.length % 16);
    if (n > 0) ghash.update(all.subarray(0, n));
    pending = all.slice(n);
  };
  const finishTag = (): Uint8Array => {
    if (pending.length > 0) ghash.update(pending);
    const t = ctr(k, j0).encrypt(ghashFinal(ghash, aadLength, offset));
    k.fill(0);
    return t;
  };
  return {
    update(data) {
      if (done) throw new Error('AES-GCM: already finished');
      // Whole blocks go through now; a partial block is held, so each CTR call starts on a block boundary.
      const all = join(heldText, data);
      const n = all.length - (all.length % 16);
      heldText = n === all.length ? EMPTY : all.slice(n);
      if (n === 0) return EMPTY;
      const text = all.subarray(0, n);
      const out = gctr(text);
      offset += n;
      hash(encrypt ? out : text);
      return out;
    },
    final() {
      if (done) throw new Error('AES-GCM: already finished');
      done = true;
      const text = heldText;
      heldText = EMPTY;
      const out = text.length > 0 ? gctr(text) : EMPTY;
      offset += text.length;
      hash(encrypt ? out : text);
      result = endGcm(encrypt, finishTag(), expected);
      return out;
    },
    tag() {
      if (!encrypt || !result) throw new Error('AES-GCM: the tag comes from an encryption, after final()');
      return result.slice();
    },
    setTag(t: Uint8Array) {
      if (encrypt || done) throw new Error('AES-GCM: setTag is for a decryption, before final()');
      expected = t.slice();
    },
  };
}

/** The portable {@link IncrementalAes}: AES-CBC and AES-GCM on @noble/ciphers. */
export const portableIncrementalAes: IncrementalAes = Object.freeze({
  start(params: Parameters<IncrementalAes['start']>[0]): AesStream {
    checkAesKey(params.key);
    if (params.mode === 'cbc') return cbcStream(params.key, params.iv, params.encrypt);
    if (params.mode === 'gcm') return gcmStream(params.key, params.iv, params.encrypt, params.aad, params.tag);
    throw new RangeError(`incremental AES: unknown mode ${String(params.mode)}`);
  },
});

/**
 * ChaCha20-Poly1305 (RFC 8439 §2.8) incrementally: the one-time Poly1305 key from block 0, the text XORed with the
 * keystream from block 1 in whole 64-byte blocks (at most 63 bytes held), Poly1305 over AAD ‖ pad ‖ ciphertext ‖ pad
 * ‖ lengths. Decryption checks the tag given at start or by `setTag` in `final`.
 */
export function portableChaCha20Poly1305(key: Uint8Array, nonce: Uint8Array, encrypt: boolean, aad?: Uint8Array, tag?: Uint8Array): AesStream {
  if (!(key instanceof Uint8Array) || key.length !== 32) throw new RangeError('ChaCha20-Poly1305: the key must be 32 bytes');
  if (!(nonce instanceof Uint8Array) || nonce.length !== 12) throw new RangeError('ChaCha20-Poly1305: the nonce must be 12 bytes');
  const k = key.slice();
  const n = nonce.slice();
  const otk = chacha20(k, n, new Uint8Array(32), undefined, 0);
  const mac = new Poly1305(otk);
  otk.fill(0);
  const aadLength = aad ? aad.length : 0;
  if (aadLength > 0) {
    mac.update(aad!);
    if (aadLength % 16 !== 0) mac.update(new Uint8Array(16 - (aadLength % 16)));
  }
  let offset = 0;
  let heldText: Uint8Array = EMPTY;
  let expected = tag?.slice();
  let result: Uint8Array | undefined;
  let done = false;
  const xor = (text: Uint8Array): Uint8Array => {
    const out = chacha20(k, n, text, undefined, 1 + offset / 64);
    mac.update(encrypt ? out : text);
    offset += text.length;
    return out;
  };
  return {
    update(data) {
      if (done) throw new Error('ChaCha20-Poly1305: already finished');
      const all = join(heldText, data);
      const m = all.length - (all.length % 64);
      heldText = m === all.length ? EMPTY : all.slice(m);
      return m === 0 ? EMPTY : xor(all.subarray(0, m));
    },
    final() {
      if (done) throw new Error('ChaCha20-Poly1305: already finished');
      done = true;
      const out = heldText.length > 0 ? xor(heldText) : EMPTY;
      heldText = EMPTY;
      if (offset % 16 !== 0) mac.update(new Uint8Array(16 - (offset % 16)));
      const lens = new Uint8Array(16);
      const v = new DataView(lens.buffer);
      v.setUint32(0, aadLength >>> 0, true);
      v.setUint32(4, Math.floor(aadLength / 2 ** 32), true);
      v.setUint32(8, offset >>> 0, true);
      v.setUint32(12, Math.floor(offset / 2 ** 32), true);
      mac.update(lens);
      const t = mac.digest();
      k.fill(0);
      if (encrypt) {
        result = t;
        return out;
      }
      if (!expected || expected.length !== 16 || !sameTag(expected, t)) throw new Error('ChaCha20-Poly1305: bad tag');
      return out;
    },
    tag() {
      if (!encrypt || !result) throw new Error('ChaCha20-Poly1305: the tag comes from an encryption, after final()');
      return result.slice();
    },
    setTag(t: Uint8Array) {
      if (encrypt || done) throw new Error('ChaCha20-Poly1305: setTag is for a decryption, before final()');
      expected = t.slice();
    },
  };
}

/** An AES-GCM operation (either direction) whose counter blocks are encrypted by WebCrypto: each call may wait for it. */
export interface AsyncGcm {
  /** The output for the next text (whole blocks; at most 15 bytes are held for the next call or `final`). */
  update(data: Uint8Array): Promise<Uint8Array>;
  /** Decryption: the expected tag (12 to 16 bytes), when it was not given at the start; before `final`. */
  setTag(tag: Uint8Array): void;
  /** The rest of the output; a decryption throws a plain Error when the tag is wrong. */
  final(): Promise<Uint8Array>;
  /** Encryption, after `final`: the 16-byte tag. */
  tag(): Uint8Array;
}

/**
 * Text is handed to WebCrypto in calls of this many bytes (a multiple of the block), all of one update started at
 * once: GHASH (TypeScript) runs over one call's ciphertext while WebCrypto (native, off the thread) works on the next.
 */
const GCM_CALL = 1 << 18;

/**
 * AES-GCM (NIST SP 800-38D), both directions, with GCTR on WebCrypto's AES-CTR (native in browsers and Node; a 32-bit
 * counter, which is GCM's inc32) and GHASH in TypeScript (@noble/ciphers): several times the speed of {@link
 * portableIncrementalAes}'s GCM, whose AES is TypeScript, for platforms with WebCrypto and no incremental AES. GHASH
 * runs over the ciphertext as it comes (decryption: the input; encryption: WebCrypto's output); the tag is E_K(J0) xor
 * GHASH, checked at `final` (decryption) or returned by `tag` (encryption).
 */
export async function webCryptoGcm(c: Crypto, key: Uint8Array, iv: Uint8Array, encrypt: boolean, aad?: Uint8Array, tag?: Uint8Array): Promise<AsyncGcm> {
  checkAesKey(key);
  if (iv.length === 0) throw new RangeError('AES-GCM: empty nonce');
  const raw = key.slice();
  const k = await c.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, 'AES-CTR', false, ['encrypt']).finally(() => raw.fill(0));
  /** AES-CTR from counter block `cb` (32-bit counter) over `data`. */
  const aesCtr = async (cb: Uint8Array, data: Uint8Array): Promise<Uint8Array> =>
    new Uint8Array(await c.subtle.encrypt({ name: 'AES-CTR', counter: cb as Uint8Array<ArrayBuffer>, length: 32 }, k, data as Uint8Array<ArrayBuffer>));
  const h = await aesCtr(new Uint8Array(16), new Uint8Array(16)); // E_K(0^128)
  const { j0, ghash, aadLength } = gcmStart(h, iv, aad);
  const ctr0 = new DataView(j0.buffer, j0.byteOffset, 16).getUint32(12, false);
  let offset = 0;
  let held: Uint8Array = EMPTY;
  let expected = tag?.slice();
  let result: Uint8Array | undefined;
  let done = false;
  /**
   * GCTR of `text` from block `offset / 16` after J0, in calls of {@link GCM_CALL} bytes started together; GHASH over
   * the ciphertext (whole blocks but for the last piece, which GHASH pads with zeros).
   */
  const gctr = async (text: Uint8Array): Promise<Uint8Array> => {
    const calls: Promise<Uint8Array>[] = [];
    for (let i = 0; i < text.length; i += GCM_CALL) {
      const cb = j0.slice();
      new DataView(cb.buffer).setUint32(12, (ctr0 + 1 + (offset + i) / 16) >>> 0, false);
      const call = aesCtr(cb, text.subarray(i, Math.min(text.length, i + GCM_CALL)));
      call.catch(() => {}); // awaited below, in order; one failing must not leave the others unhandled
      calls.push(call);
    }
    offset += text.length;
    if (!encrypt) ghash.update(text);
    if (calls.length === 1) {
      const out = await calls[0]!;
      if (encrypt) ghash.update(out);
      return out;
    }
    const out = new Uint8Array(text.length);
    for (let j = 0; j < calls.length; j++) {
      const part = await calls[j]!;
      if (encrypt) ghash.update(part);
      out.set(part, j * GCM_CALL);
    }
    return out;
  };
  return {
    async update(data) {
      if (done) throw new Error('AES-GCM: already finished');
      const all = join(held, data);
      const n = all.length - (all.length % 16);
      held = n === all.length ? EMPTY : all.slice(n);
      return n === 0 ? EMPTY : gctr(all.subarray(0, n));
    },
    setTag(t) {
      if (encrypt || done) throw new Error('AES-GCM: setTag is for a decryption, before final()');
      expected = t.slice();
    },
    async final() {
      if (done) throw new Error('AES-GCM: already finished');
      done = true;
      const out = held.length > 0 ? await gctr(held) : EMPTY;
      held = EMPTY;
      result = endGcm(encrypt, await aesCtr(j0, ghashFinal(ghash, aadLength, offset)), expected);
      return out;
    },
    tag() {
      if (!encrypt || !result) throw new Error('AES-GCM: the tag comes from an encryption, after final()');
      return result.slice();
    },
  };
}
