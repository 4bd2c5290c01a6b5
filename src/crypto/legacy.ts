/**
 * Legacy block ciphers that WebCrypto lacks, in pure TypeScript: Triple-DES (EDE, 3-key and 2-key) and RC2
 * (RFC 2268), both in CBC mode. They exist to *read* old data: PKCS#12 files (RC2-40 certificate bags and 3DES key
 * bags are still the default of many exporters) and old S/MIME messages. The encrypt functions serve tests and
 * PKCS#12 round-trips; smime-core never offers them for new mail.
 *
 * Speed: DES runs on 32-bit halves with combined S-box/P tables (8 × 64 words, built once at load from the FIPS 46-3
 * tables), the key schedule is computed once per call, and CBC works in place on one output buffer: no per-block
 * allocation. Failures caused by the data (bad padding, a length that is not a whole number of blocks) throw a
 * plain `Error` that the caller maps to its own error class; wrong argument types or key sizes throw `RangeError`.
 */
import { CMSInvalid } from '../errors.js';

export interface CbcOptions {
  /**
   * Decrypt: `true` (default) checks and removes the PKCS#7 padding; `false` returns every decrypted byte, padding
   * included, so the caller can do its own (for example constant-time) check, see {@link stripPkcs7Padding}.
   * Encrypt: `true` (default) adds PKCS#7 padding; `false` requires whole blocks.
   */
  padding?: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Shared CBC / padding helpers

/**
 * Checks PKCS#7 padding and returns the data without it (a subarray). Throws a plain Error on bad padding.
 * The check looks at the whole last block whatever the pad length, so its timing does not depend on it.
 */
export function stripPkcs7Padding(data: Uint8Array, blockSize: number): Uint8Array {
  if (data.length === 0 || data.length % blockSize !== 0) throw new Error('bad padding');
  const n = data[data.length - 1]!;
  let bad = (n === 0 ? 1 : 0) | (n > blockSize ? 1 : 0);
  for (let i = 1; i <= blockSize; i++) {
    // Bytes within the pad must equal n; bytes before it are not checked (mask = 0).
    const inPad = i <= n ? 0xff : 0;
    bad |= (data[data.length - i]! ^ n) & inPad;
  }
  if (bad !== 0) throw new Error('bad padding');
  return data.subarray(0, data.length - n);
}

function pad(data: Uint8Array, blockSize: number): Uint8Array {
  const n = blockSize - (data.length % blockSize);
  const out = new Uint8Array(data.length + n);
  out.set(data, 0);
  out.fill(n, data.length);
  return out;
}

function checkIv(iv: Uint8Array, what: string): void {
  if (!(iv instanceof Uint8Array) || iv.length !== 8) throw new RangeError(`${what}: the IV must be 8 bytes`);
}

function checkData(data: Uint8Array, what: string): void {
  if (!(data instanceof Uint8Array)) throw new TypeError(`${what}: data must be a Uint8Array`);
}

function checkCiphertext(data: Uint8Array): void {
  if (data.length === 0 || data.length % 8 !== 0) throw new Error('ciphertext is not a whole number of 8-byte blocks');
}

// ---------------------------------------------------------------------------------------------------------------
// DES / Triple-DES (FIPS 46-3, SP 800-67)

// prettier-ignore
const SBOXES: readonly (readonly number[])[] = [
  [14,4,13,1,2,15,11,8,3,10,6,12,5,9,0,7, 0,15,7,4,14,2,13,1,10,6,12,11,9,5,3,8,
   4,1,14,8,13,6,2,11,15,12,9,7,3,10,5,0, 15,12,8,2,4,9,1,7,5,11,3,14,10,0,6,13],
  [15,1,8,14,6,11,3,4,9,7,2,13,12,0,5,10, 3,13,4,7,15,2,8,14,12,0,1,10,6,9,11,5,
   0,14,7,11,10,4,13,1,5,8,12,6,9,3,2,15, 13,8,10,1,3,15,4,2,11,6,7,12,0,5,14,9],
  [10,0,9,14,6,3,15,5,1,13,12,7,11,4,2,8, 13,7,0,9,3,4,6,10,2,8,5,14,12,11,15,1,
   13,6,4,9,8,15,3,0,11,1,2,12,5,10,14,7, 1,10,13,0,6,9,8,7,4,15,14,3,11,5,2,12],
  [7,13,14,3,0,6,9,10,1,2,8,5,11,12,4,15, 13,8,11,5,6,15,0,3,4,7,2,12,1,10,14,9,
   10,6,9,0,12,11,7,13,15,1,3,14,5,2,8,4, 3,15,0,6,10,1,13,8,9,4,5,11,12,7,2,14],
  [2,12,4,1,7,10,11,6,8,5,3,15,13,0,14,9, 14,11,2,12,4,7,13,1,5,0,15,10,3,9,8,6,
   4,2,1,11,10,13,7,8,15,9,12,5,6,3,0,14, 11,8,12,7,1,14,2,13,6,15,0,9,10,4,5,3],
  [12,1,10,15,9,2,6,8,0,13,3,4,14,7,5,11, 10,15,4,2,7,12,9,5,6,1,13,14,0,11,3,8,
   9,14,15,5,2,8,12,3,7,0,4,10,1,13,11,6, 4,3,2,12,9,5,15,10,11,14,1,7,6,0,8,13],
  [4,11,2,14,15,0,8,13,3,12,9,7,5,10,6,1, 13,0,11,7,4,9,1,10,14,3,5,12,2,15,8,6,
   1,4,11,13,12,3,7,14,10,15,6,8,0,5,9,2, 6,11,13,8,1,4,10,7,9,5,0,15,14,2,3,12],
  [13,2,8,4,6,15,11,1,10,9,3,14,5,0,12,7, 1,15,13,8,10,3,7,4,12,5,6,11,0,14,9,2,
   7,11,4,1,9,12,14,2,0,6,10,13,15,3,5,8, 2,1,14,7,4,10,8,13,15,12,9,0,3,5,6,11],
];

// prettier-ignore
const P_TABLE = [16,7,20,21,29,12,28,17, 1,15,23,26,5,18,31,10, 2,8,24,14,32,27,3,9, 19,13,30,6,22,11,4,25];
// prettier-ignore
const PC1 = [57,49,41,33,25,17,9, 1,58,50,42,34,26,18, 10,2,59,51,43,35,27, 19,11,3,60,52,44,36,
             63,55,47,39,31,23,15, 7,62,54,46,38,30,22, 14,6,61,53,45,37,29, 21,13,5,28,20,12,4];
// prettier-ignore
const PC2 = [14,17,11,24,1,5, 3,28,15,6,21,10, 23,19,12,4,26,8, 16,7,27,20,13,2,
             41,52,31,37,47,55, 30,40,51,45,33,48, 44,49,39,56,34,53, 46,42,50,36,29,32];
const SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];

/**
 * SP[i][x]: the output of S-box i for the 6-bit input x (FIPS bit order: row = b1b6, column = b2..b5), placed at
 * its 4 bits of the 32-bit word and sent through the permutation P.
 */
const SP: Int32Array[] = (() => {
  const out: Int32Array[] = [];
  for (let i = 0; i < 8; i++) {
    const t = new Int32Array(64);
    for (let x = 0; x < 64; x++) {
      const row = ((x >> 4) & 2) | (x & 1);
      const col = (x >> 1) & 15;
      const s = SBOXES[i]![row * 16 + col]! << (28 - 4 * i);
      let p = 0;
      for (let j = 0; j < 32; j++) if ((s >>> (32 - P_TABLE[j]!)) & 1) p |= 1 << (31 - j);
      t[x] = p;
    }
    out.push(t);
  }
  return out;
})();
const [SP0, SP1, SP2, SP3, SP4, SP5, SP6, SP7] = SP as [
  Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array,
];

/**
 * The 16 round keys of one DES key, 2 words each, in the layout the round function wants: word A holds the 6-bit
 * chunks 0, 2, 4, 6 of the 48-bit subkey at bits 31..26, 23..18, 15..10, 7..2; word B chunks 1, 3, 5, 7.
 * Written into `out` at `offset`, in encryption order, or reversed (decryption order) when `decrypt`.
 */
function desKeySchedule(key: Uint8Array, keyOffset: number, decrypt: boolean, out: Int32Array, offset: number): void {
  const bit = (n: number) => (key[keyOffset + ((n - 1) >> 3)]! >> (7 - ((n - 1) & 7))) & 1;
  let c = 0;
  let d = 0;
  for (let i = 0; i < 28; i++) {
    c = (c << 1) | bit(PC1[i]!);
    d = (d << 1) | bit(PC1[i + 28]!);
  }
  for (let r = 0; r < 16; r++) {
    const s = SHIFTS[r]!;
    c = ((c << s) | (c >>> (28 - s))) & 0x0fffffff;
    d = ((d << s) | (d >>> (28 - s))) & 0x0fffffff;
    const chunks = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let j = 0; j < 48; j++) {
      const n = PC2[j]!; // 1..56 over C||D
      const b = n <= 28 ? (c >>> (28 - n)) & 1 : (d >>> (56 - n)) & 1;
      chunks[(j / 6) | 0] = (chunks[(j / 6) | 0]! << 1) | b;
    }
    const a = (chunks[0]! << 26) | (chunks[2]! << 18) | (chunks[4]! << 10) | (chunks[6]! << 2);
    const b = (chunks[1]! << 26) | (chunks[3]! << 18) | (chunks[5]! << 10) | (chunks[7]! << 2);
    const slot = decrypt ? 15 - r : r;
    out[offset + 2 * slot] = a;
    out[offset + 2 * slot + 1] = b;
  }
}

/** The 48 round keys (96 words) of Triple-DES EDE; a 16-byte key is K1 K2 K1. */
function des3Schedule(key: Uint8Array, decrypt: boolean): Int32Array {
  if (!(key instanceof Uint8Array) || (key.length !== 24 && key.length !== 16)) {
    throw new RangeError('3DES: the key must be 24 bytes (or 16 bytes for 2-key 3DES)');
  }
  const k3 = key.length === 24 ? 16 : 0;
  const ks = new Int32Array(96);
  if (!decrypt) {
    desKeySchedule(key, 0, false, ks, 0);
    desKeySchedule(key, 8, true, ks, 32);
    desKeySchedule(key, k3, false, ks, 64);
  } else {
    desKeySchedule(key, k3, true, ks, 0);
    desKeySchedule(key, 8, false, ks, 32);
    desKeySchedule(key, 0, true, ks, 64);
  }
  return ks;
}

/** Runs one block (two big-endian 32-bit halves in io[0], io[1]) through the three DES passes of `ks`. */
function des3Block(ks: Int32Array, io: Int32Array): void {
  let l = io[0]!;
  let r = io[1]!;
  let t: number;
  // Initial permutation, as five bit-group exchanges.
  t = ((l >>> 4) ^ r) & 0x0f0f0f0f; r ^= t; l ^= t << 4;
  t = ((l >>> 16) ^ r) & 0x0000ffff; r ^= t; l ^= t << 16;
  t = ((r >>> 2) ^ l) & 0x33333333; l ^= t; r ^= t << 2;
  t = ((r >>> 8) ^ l) & 0x00ff00ff; l ^= t; r ^= t << 8;
  t = ((l >>> 1) ^ r) & 0x55555555; r ^= t; l ^= t << 1;
  for (let k = 0; k < 96; k += 32) {
    for (let i = k; i < k + 32; i += 2) {
      // E expansion: chunks 0,2,4,6 come from R rotated right by 1, chunks 1,3,5,7 from R rotated left by 3.
      const x = ((r >>> 1) | (r << 31)) ^ ks[i]!;
      const y = ((r << 3) | (r >>> 29)) ^ ks[i + 1]!;
      t = l ^ (SP0[(x >>> 26) & 63]! | SP2[(x >>> 18) & 63]! | SP4[(x >>> 10) & 63]! | SP6[(x >>> 2) & 63]! |
        SP1[(y >>> 26) & 63]! | SP3[(y >>> 18) & 63]! | SP5[(y >>> 10) & 63]! | SP7[(y >>> 2) & 63]!);
      l = r;
      r = t;
    }
    t = l; l = r; r = t; // undo the last swap
  }
  // Final permutation (inverse of the initial one).
  t = ((l >>> 1) ^ r) & 0x55555555; r ^= t; l ^= t << 1;
  t = ((r >>> 8) ^ l) & 0x00ff00ff; l ^= t; r ^= t << 8;
  t = ((r >>> 2) ^ l) & 0x33333333; l ^= t; r ^= t << 2;
  t = ((l >>> 16) ^ r) & 0x0000ffff; r ^= t; l ^= t << 16;
  t = ((l >>> 4) ^ r) & 0x0f0f0f0f; r ^= t; l ^= t << 4;
  io[0] = l;
  io[1] = r;
}

const be32 = (b: Uint8Array, o: number) => (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
function putBe32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/**
 * Triple-DES (EDE) CBC decryption. `key` is 24 bytes (K1 K2 K3) or 16 bytes (2-key: K3 = K1); `iv` 8 bytes.
 * Removes the PKCS#7 padding unless `options.padding === false`. Bad padding or a partial block → plain Error.
 */
export function des3CbcDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array, options?: CbcOptions): Uint8Array {
  checkIv(iv, '3DES');
  checkData(data, '3DES');
  const ks = des3Schedule(key, true);
  checkCiphertext(data);
  const out = new Uint8Array(data.length);
  const io = new Int32Array(2);
  let p0 = be32(iv, 0);
  let p1 = be32(iv, 4);
  for (let o = 0; o < data.length; o += 8) {
    const c0 = be32(data, o);
    const c1 = be32(data, o + 4);
    io[0] = c0;
    io[1] = c1;
    des3Block(ks, io);
    putBe32(out, o, io[0]! ^ p0);
    putBe32(out, o + 4, io[1]! ^ p1);
    p0 = c0;
    p1 = c1;
  }
  return options?.padding === false ? out : stripPkcs7Padding(out, 8);
}

/** {@link des3CbcDecrypt} without the padding check: all decrypted bytes, for callers that check padding themselves. */
export function des3CbcDecryptNoPadding(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  return des3CbcDecrypt(key, iv, data, { padding: false });
}

/** Triple-DES (EDE) CBC encryption, adding PKCS#7 padding unless `options.padding === false`. Tests and PKCS#12 only. */
export function des3CbcEncrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array, options?: CbcOptions): Uint8Array {
  checkIv(iv, '3DES');
  checkData(data, '3DES');
  const ks = des3Schedule(key, false);
  let src = data;
  if (options?.padding === false) {
    if (data.length % 8 !== 0) throw new RangeError('3DES: without padding the data must be whole 8-byte blocks');
  } else src = pad(data, 8);
  const out = new Uint8Array(src.length);
  const io = new Int32Array(2);
  let p0 = be32(iv, 0);
  let p1 = be32(iv, 4);
  for (let o = 0; o < src.length; o += 8) {
    io[0] = be32(src, o) ^ p0;
    io[1] = be32(src, o + 4) ^ p1;
    des3Block(ks, io);
    p0 = io[0]!;
    p1 = io[1]!;
    putBe32(out, o, p0);
    putBe32(out, o + 4, p1);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// RC2 (RFC 2268)

// prettier-ignore
const PITABLE = Uint8Array.of(
  0xd9,0x78,0xf9,0xc4,0x19,0xdd,0xb5,0xed,0x28,0xe9,0xfd,0x79,0x4a,0xa0,0xd8,0x9d,
  0xc6,0x7e,0x37,0x83,0x2b,0x76,0x53,0x8e,0x62,0x4c,0x64,0x88,0x44,0x8b,0xfb,0xa2,
  0x17,0x9a,0x59,0xf5,0x87,0xb3,0x4f,0x13,0x61,0x45,0x6d,0x8d,0x09,0x81,0x7d,0x32,
  0xbd,0x8f,0x40,0xeb,0x86,0xb7,0x7b,0x0b,0xf0,0x95,0x21,0x22,0x5c,0x6b,0x4e,0x82,
  0x54,0xd6,0x65,0x93,0xce,0x60,0xb2,0x1c,0x73,0x56,0xc0,0x14,0xa7,0x8c,0xf1,0xdc,
  0x12,0x75,0xca,0x1f,0x3b,0xbe,0xe4,0xd1,0x42,0x3d,0xd4,0x30,0xa3,0x3c,0xb6,0x26,
  0x6f,0xbf,0x0e,0xda,0x46,0x69,0x07,0x57,0x27,0xf2,0x1d,0x9b,0xbc,0x94,0x43,0x03,
  0xf8,0x11,0xc7,0xf6,0x90,0xef,0x3e,0xe7,0x06,0xc3,0xd5,0x2f,0xc8,0x66,0x1e,0xd7,
  0x08,0xe8,0xea,0xde,0x80,0x52,0xee,0xf7,0x84,0xaa,0x72,0xac,0x35,0x4d,0x6a,0x2a,
  0x96,0x1a,0xd2,0x71,0x5a,0x15,0x49,0x74,0x4b,0x9f,0xd0,0x5e,0x04,0x18,0xa4,0xec,
  0xc2,0xe0,0x41,0x6e,0x0f,0x51,0xcb,0xcc,0x24,0x91,0xaf,0x50,0xa1,0xf4,0x70,0x39,
  0x99,0x7c,0x3a,0x85,0x23,0xb8,0xb4,0x7a,0xfc,0x02,0x36,0x5b,0x25,0x55,0x97,0x31,
  0x2d,0x5d,0xfa,0x98,0xe3,0x8a,0x92,0xae,0x05,0xdf,0x29,0x10,0x67,0x6c,0xba,0xc9,
  0xd3,0x00,0xe6,0xcf,0xe1,0x9e,0xa8,0x2c,0x63,0x16,0x01,0x3f,0x58,0xe2,0x89,0xa9,
  0x0d,0x38,0x34,0x1b,0xab,0x33,0xff,0xb0,0xbb,0x48,0x0c,0x5f,0xb9,0xb1,0xcd,0x2e,
  0xc5,0xf3,0xdb,0x47,0xe5,0xa5,0x9c,0x77,0x0a,0xa6,0x20,0x68,0xfe,0x7f,0xc1,0xad,
);

/** RFC 2268 §6: the rc2ParameterVersion that encodes an effective key size below 256 bits (index = bits). */
// prettier-ignore
const RC2_EKB_TABLE = Uint8Array.of(
  0xbd,0x56,0xea,0xf2,0xa2,0xf1,0xac,0x2a,0xb0,0x93,0xd1,0x9c,0x1b,0x33,0xfd,0xd0,
  0x30,0x04,0xb6,0xdc,0x7d,0xdf,0x32,0x4b,0xf7,0xcb,0x45,0x9b,0x31,0xbb,0x21,0x5a,
  0x41,0x9f,0xe1,0xd9,0x4a,0x4d,0x9e,0xda,0xa0,0x68,0x2c,0xc3,0x27,0x5f,0x80,0x36,
  0x3e,0xee,0xfb,0x95,0x1a,0xfe,0xce,0xa8,0x34,0xa9,0x13,0xf0,0xa6,0x3f,0xd8,0x0c,
  0x78,0x24,0xaf,0x23,0x52,0xc1,0x67,0x17,0xf5,0x66,0x90,0xe7,0xe8,0x07,0xb8,0x60,
  0x48,0xe6,0x1e,0x53,0xf3,0x92,0xa4,0x72,0x8c,0x08,0x15,0x6e,0x86,0x00,0x84,0xfa,
  0xf4,0x7f,0x8a,0x42,0x19,0xf6,0xdb,0xcd,0x14,0x8d,0x50,0x12,0xba,0x3c,0x06,0x4e,
  0xec,0xb3,0x35,0x11,0xa1,0x88,0x8e,0x2b,0x94,0x99,0xb7,0x71,0x74,0xd3,0xe4,0xbf,
  0x3a,0xde,0x96,0x0e,0xbc,0x0a,0xed,0x77,0xfc,0x37,0x6b,0x03,0x79,0x89,0x62,0xc6,
  0xd7,0xc0,0xd2,0x7c,0x6a,0x8b,0x22,0xa3,0x5b,0x05,0x5d,0x02,0x75,0xd5,0x61,0xe3,
  0x18,0x8f,0x55,0x51,0xad,0x1f,0x0b,0x5e,0x85,0xe5,0xc2,0x57,0x63,0xca,0x3d,0x6c,
  0xb4,0xc5,0xcc,0x70,0xb2,0x91,0x59,0x0d,0x47,0x20,0xc8,0x4f,0x58,0xe0,0x01,0xe2,
  0x16,0x38,0xc4,0x6f,0x3b,0x0f,0x65,0x46,0xbe,0x7e,0x2d,0x7b,0x82,0xf9,0x40,0xb5,
  0x1d,0x73,0xf8,0xeb,0x26,0xc7,0x87,0x97,0x25,0x54,0xb1,0x28,0xaa,0x98,0x9d,0xa5,
  0x64,0x6d,0x7a,0xd4,0x10,0x81,0x44,0xef,0x49,0xd6,0xae,0x2e,0xdd,0x76,0x5c,0x2f,
  0xa7,0x1c,0xc9,0x09,0x69,0x9a,0x83,0xcf,0x29,0x39,0xb9,0xe9,0x4c,0xff,0x43,0xab,
);
const RC2_EKB_INVERSE = (() => {
  const inv = new Uint8Array(256);
  for (let i = 0; i < 256; i++) inv[RC2_EKB_TABLE[i]!] = i;
  return inv;
})();

/**
 * The effective key size (bits) encoded by an RC2CBCParameter `rc2ParameterVersion` (RFC 2268 §6, RFC 3370 §4.3.2):
 * 160 → 40, 120 → 64, 58 → 128; a version ≥ 256 is the bit count itself. Versions < 256 are mapped through the
 * RFC's table (so 0 ↔ 0xbd etc.). A version out of range (negative, not an integer, above 1024) → CMSInvalid.
 * When the parameter is absent the caller should use 32 bits (RFC 2268 §6).
 */
export function rc2EffectiveBitsFromVersion(version: number): number {
  if (!Number.isInteger(version) || version < 0 || version > 1024) {
    throw new CMSInvalid('RC2: rc2ParameterVersion out of range');
  }
  if (version >= 256) return version;
  const bits = RC2_EKB_INVERSE[version]!;
  if (bits === 0) throw new CMSInvalid('RC2: rc2ParameterVersion encodes an effective key size of 0 bits');
  return bits;
}

/** The rc2ParameterVersion for an effective key size (inverse of {@link rc2EffectiveBitsFromVersion}). */
export function rc2VersionFromEffectiveBits(bits: number): number {
  if (!Number.isInteger(bits) || bits < 1 || bits > 1024) throw new RangeError('RC2: effective bits must be 1..1024');
  return bits >= 256 ? bits : RC2_EKB_TABLE[bits]!;
}

/** RFC 2268 §2 key expansion: the 64 16-bit words K[0..63]. */
function rc2KeySchedule(key: Uint8Array, effectiveBits: number): Uint16Array {
  if (!(key instanceof Uint8Array) || key.length < 1 || key.length > 128) {
    throw new RangeError('RC2: the key must be 1 to 128 bytes');
  }
  if (!Number.isInteger(effectiveBits) || effectiveBits < 1 || effectiveBits > 1024) {
    throw new RangeError('RC2: effective key bits must be 1..1024');
  }
  const L = new Uint8Array(128);
  const T = key.length;
  L.set(key, 0);
  for (let i = T; i < 128; i++) L[i] = PITABLE[(L[i - 1]! + L[i - T]!) & 0xff]!;
  const T8 = (effectiveBits + 7) >> 3;
  const TM = 0xff >> (8 * T8 - effectiveBits);
  L[128 - T8] = PITABLE[L[128 - T8]! & TM]!;
  for (let i = 127 - T8; i >= 0; i--) L[i] = PITABLE[L[i + 1]! ^ L[i + T8]!]!;
  const K = new Uint16Array(64);
  for (let i = 0; i < 64; i++) K[i] = L[2 * i]! | (L[2 * i + 1]! << 8);
  return K;
}

/** Encrypts one block in place: io holds the four little-endian 16-bit words R[0..3]. */
function rc2EncryptBlock(K: Uint16Array, io: Uint16Array): void {
  let r0 = io[0]!;
  let r1 = io[1]!;
  let r2 = io[2]!;
  let r3 = io[3]!;
  let j = 0;
  for (let round = 0; round < 16; round++) {
    // Mixing round.
    r0 = (r0 + K[j++]! + (r3 & r2) + (~r3 & r1)) & 0xffff;
    r0 = ((r0 << 1) | (r0 >>> 15)) & 0xffff;
    r1 = (r1 + K[j++]! + (r0 & r3) + (~r0 & r2)) & 0xffff;
    r1 = ((r1 << 2) | (r1 >>> 14)) & 0xffff;
    r2 = (r2 + K[j++]! + (r1 & r0) + (~r1 & r3)) & 0xffff;
    r2 = ((r2 << 3) | (r2 >>> 13)) & 0xffff;
    r3 = (r3 + K[j++]! + (r2 & r1) + (~r2 & r0)) & 0xffff;
    r3 = ((r3 << 5) | (r3 >>> 11)) & 0xffff;
    if (round === 4 || round === 10) {
      // Mashing round.
      r0 = (r0 + K[r3 & 63]!) & 0xffff;
      r1 = (r1 + K[r0 & 63]!) & 0xffff;
      r2 = (r2 + K[r1 & 63]!) & 0xffff;
      r3 = (r3 + K[r2 & 63]!) & 0xffff;
    }
  }
  io[0] = r0;
  io[1] = r1;
  io[2] = r2;
  io[3] = r3;
}

/** Decrypts one block in place (RFC 2268 §4). */
function rc2DecryptBlock(K: Uint16Array, io: Uint16Array): void {
  let r0 = io[0]!;
  let r1 = io[1]!;
  let r2 = io[2]!;
  let r3 = io[3]!;
  let j = 63;
  for (let round = 15; round >= 0; round--) {
    // R-mixing round.
    r3 = ((r3 >>> 5) | (r3 << 11)) & 0xffff;
    r3 = (r3 - K[j--]! - (r2 & r1) - (~r2 & r0)) & 0xffff;
    r2 = ((r2 >>> 3) | (r2 << 13)) & 0xffff;
    r2 = (r2 - K[j--]! - (r1 & r0) - (~r1 & r3)) & 0xffff;
    r1 = ((r1 >>> 2) | (r1 << 14)) & 0xffff;
    r1 = (r1 - K[j--]! - (r0 & r3) - (~r0 & r2)) & 0xffff;
    r0 = ((r0 >>> 1) | (r0 << 15)) & 0xffff;
    r0 = (r0 - K[j--]! - (r3 & r2) - (~r3 & r1)) & 0xffff;
    if (round === 11 || round === 5) {
      // R-mashing round.
      r3 = (r3 - K[r2 & 63]!) & 0xffff;
      r2 = (r2 - K[r1 & 63]!) & 0xffff;
      r1 = (r1 - K[r0 & 63]!) & 0xffff;
      r0 = (r0 - K[r3 & 63]!) & 0xffff;
    }
  }
  io[0] = r0;
  io[1] = r1;
  io[2] = r2;
  io[3] = r3;
}

const le16 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);

/**
 * RC2-CBC decryption (RFC 2268) with `effectiveBits` effective key bits (40, 64, 128, …; see
 * {@link rc2EffectiveBitsFromVersion}). Removes PKCS#7 padding unless `options.padding === false`.
 */
export function rc2CbcDecrypt(
  key: Uint8Array,
  effectiveBits: number,
  iv: Uint8Array,
  data: Uint8Array,
  options?: CbcOptions,
): Uint8Array {
  checkIv(iv, 'RC2');
  checkData(data, 'RC2');
  const K = rc2KeySchedule(key, effectiveBits);
  checkCiphertext(data);
  const out = new Uint8Array(data.length);
  const io = new Uint16Array(4);
  for (let o = 0; o < data.length; o += 8) {
    for (let w = 0; w < 4; w++) io[w] = le16(data, o + 2 * w);
    rc2DecryptBlock(K, io);
    const prev = o === 0 ? iv : data;
    const po = o === 0 ? 0 : o - 8;
    for (let w = 0; w < 4; w++) {
      out[o + 2 * w] = (io[w]! & 0xff) ^ prev[po + 2 * w]!;
      out[o + 2 * w + 1] = (io[w]! >>> 8) ^ prev[po + 2 * w + 1]!;
    }
  }
  return options?.padding === false ? out : stripPkcs7Padding(out, 8);
}

/** RC2-CBC encryption, adding PKCS#7 padding unless `options.padding === false`. Tests and PKCS#12 only. */
export function rc2CbcEncrypt(
  key: Uint8Array,
  effectiveBits: number,
  iv: Uint8Array,
  data: Uint8Array,
  options?: CbcOptions,
): Uint8Array {
  checkIv(iv, 'RC2');
  checkData(data, 'RC2');
  const K = rc2KeySchedule(key, effectiveBits);
  let src = data;
  if (options?.padding === false) {
    if (data.length % 8 !== 0) throw new RangeError('RC2: without padding the data must be whole 8-byte blocks');
  } else src = pad(data, 8);
  const out = new Uint8Array(src.length);
  const io = new Uint16Array(4);
  for (let o = 0; o < src.length; o += 8) {
    const prev = o === 0 ? iv : out;
    const po = o === 0 ? 0 : o - 8;
    for (let w = 0; w < 4; w++) io[w] = le16(src, o + 2 * w) ^ le16(prev, po + 2 * w);
    rc2EncryptBlock(K, io);
    for (let w = 0; w < 4; w++) {
      out[o + 2 * w] = io[w]! & 0xff;
      out[o + 2 * w + 1] = io[w]! >>> 8;
    }
  }
  return out;
}
