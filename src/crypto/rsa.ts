/**
 * RSA key transport done in TypeScript with BigInt: RSAES-PKCS1-v1_5 and RSAES-OAEP (RFC 8017).
 *
 * Why not WebCrypto: it has no PKCS#1 v1.5 encryption at all, its RSA-OAEP ties the hash to the imported key and
 * cannot use an MGF1 hash different from the OAEP hash, and Node 20 refuses PKCS#1 v1.5 decryption outright
 * (CVE-2023-46809). Mail clients use v1.5 key transport by default, and old mail uses OAEP with odd parameters.
 *
 * Side channels: BigInt arithmetic is not constant time, so every private operation is blinded (base blinding r^e·c
 * with a per-modulus r squared between uses and redrawn every 32 uses, and a fresh random multiple of p−1 / q−1
 * added to the CRT exponents), and its CRT result is checked by re-encrypting with e. The padding checks scan the
 * whole block with masks and never exit early on a padding byte.
 * For CMS key transport, {@link rsaesPkcs1v15DecryptCek} follows RFC 3218 §2.3: a bad padding or a wrong length
 * yields a random key, so the failure shows up later, exactly like a wrong key would.
 *
 * Everything here runs in browsers: Uint8Array only; randomness and the OAEP label hash through WebCrypto, MGF1
 * through @noble/hashes (crypto/digest.ts).
 *
 * Key parsing is in crypto/rsa_key.ts, the BigInt arithmetic in crypto/bigint.ts.
 */
import { KeyInvalid, UnsupportedAlgorithm } from '../errors.js';
import { accelerators, getCrypto, randomBytes } from './provider.js';
import { LruMap } from '../lib/lru.js';
import { DIGESTS, isWebCryptoHash, type WebCryptoHash } from './algorithms.js';
import { bitLength, i2osp, modInverse, modPow, modPowPublic, os2ip } from './bigint.js';
import { digest, mgf1 } from './digest.js';
import type { RsaPrivateKey, RsaPublicKey } from './rsa_key.js';

/** A hash of OAEP (the label hash, MGF1): WebCrypto's name. */
export type RsaHash = WebCryptoHash;

/** RSAES-OAEP parameters (RFC 8017 §7.1, RFC 4055 §4.1). */
export interface OaepParams {
  /** Hash of the label (and the default MGF1 hash). */
  hash: RsaHash;
  /** MGF1 hash; defaults to `hash`. */
  mgfHash?: RsaHash;
  /** The OAEP label (RFC 8017 "L", CMS pSourceFunc pSpecified); empty by default. */
  label?: Uint8Array;
}
function byteLength(key: RsaPublicKey): number {
  return (key.bits + 7) >> 3;
}
// ---------------------------------------------------------------------------------------------------------------
// Raw RSA (RSAEP / RSADP)

/** RSAEP: m^e mod n. RangeError unless 0 ≤ m < n. */
export function rsaPublic(key: RsaPublicKey, m: bigint): bigint {
  if (m < 0n || m >= key.n) throw new RangeError('rsaPublic: message representative out of range');
  return modPowPublic(m, key.e, key.n);
}

function randomBelow(n: bigint, crypto?: Crypto): bigint {
  // 64 extra bits make the bias of the reduction negligible.
  return os2ip(randomBytes(((bitLength(n) + 7) >> 3) + 8, crypto)) % n;
}

/** A base-blinding pair for (n, e): a = r^e mod n and ai = r^−1 mod n. */
interface Blinding {
  e: bigint;
  a: bigint;
  ai: bigint;
  /** How many private operations this r (squared once per use) has blinded. */
  uses: number;
}

/** A blinding pair serves this many private operations, squared between uses, before a fresh r is drawn. */
const BLINDING_REFRESH = 32;
/** Moduli whose blinding pair is kept (least recently used dropped first). */
const BLINDING_CACHE_SIZE = 16;

/**
 * Blinding pairs by modulus, as OpenSSL keeps a BN_BLINDING in each RSA key. Keyed by n rather than by key object,
 * so that a caller that parses a key again still finds its pair. Holds only n, e and the pair.
 */
const blindings = new LruMap<bigint, Blinding>(BLINDING_CACHE_SIZE);

/**
 * The blinding pair for the next private operation with (n, e): the cached pair squared (r → r²), or, on first
 * use, after BLINDING_REFRESH uses or for another e, a fresh random r (invertible mod n: a non-invertible r would
 * reveal a factor of n; it never happens).
 */
function nextBlinding(n: bigint, e: bigint, crypto?: Crypto): { a: bigint; ai: bigint } {
  let b = blindings.get(n);
  if (b === undefined || b.e !== e || b.uses >= BLINDING_REFRESH) {
    for (;;) {
      const r = randomBelow(n, crypto);
      if (r < 2n) continue;
      let ai: bigint;
      try {
        ai = modInverse(r, n);
      } catch {
        continue;
      }
      b = { e, a: modPowPublic(r, e, n), ai, uses: 0 };
      break;
    }
  } else {
    b = { e, a: (b.a * b.a) % n, ai: (b.ai * b.ai) % n, uses: b.uses };
  }
  b.uses++;
  blindings.set(n, b);
  return b;
}

/**
 * RSADP: c^d mod n, using CRT with base blinding (c·r^e, unblinded with r^−1) and exponent blinding
 * (dp + k·(p−1), dq + k'·(q−1) for random 64-bit k, k'). The blinding pair (r^e, r^−1) is cached per modulus and
 * squared on each use, with a fresh r every BLINDING_REFRESH operations (as OpenSSL's BN_BLINDING); k and k' are
 * fresh every time. The result is checked by re-encrypting with e; on a mismatch (a fault, or a key whose CRT
 * values are wrong) it is recomputed without CRT, and if that fails too KeyInvalid is thrown. RangeError unless
 * 0 ≤ c < n.
 */
export function rsaPrivate(key: RsaPrivateKey, c: bigint, crypto?: Crypto): bigint {
  const { n, e, p, q, dp, dq, qinv } = key;
  if (c < 0n || c >= n) throw new RangeError('rsaPrivate: ciphertext representative out of range');
  const native = nativePrivate(key, c, crypto);
  if (native !== undefined) return native;
  const { a: rE, ai: rInv } = nextBlinding(n, e, crypto);
  const rnd = randomBytes(16, crypto);
  const k1 = os2ip(rnd.subarray(0, 8));
  const k2 = os2ip(rnd.subarray(8));
  const cb = (c * rE) % n;
  const m1 = modPow(cb % p, dp + k1 * (p - 1n), p);
  const m2 = modPow(cb % q, dq + k2 * (q - 1n), q);
  let h = (qinv * (m1 - m2)) % p;
  if (h < 0n) h += p;
  let mb = m2 + h * q;
  if (modPowPublic(mb, e, n) !== cb) {
    blindings.delete(n); // a fault may have hit the cached pair too: draw a new one next time
    mb = modPow(cb, key.d, n);
    if (modPowPublic(mb, e, n) !== cb) throw new KeyInvalid('RSA key: the private key does not match its public key');
  }
  return (mb * rInv) % n;
}

/**
 * RSADP by the provider's raw RSA accelerator (src/crypto/provider.ts), when there is one and the key came from DER;
 * undefined otherwise, or when it declines, throws, or gives a result that does not re-encrypt to `c` (then the BigInt
 * code runs).
 */
function nativePrivate(key: RsaPrivateKey, c: bigint, crypto?: Crypto): bigint | undefined {
  const raw = key.der ? accelerators(getCrypto(crypto)).rawRsa : undefined;
  if (!raw) return undefined;
  const k = byteLength(key);
  let out: Uint8Array | undefined;
  try {
    out = raw.privateRaw(key.der!, i2osp(c, k));
  } catch {
    return undefined;
  }
  if (!out || out.length !== k) return undefined;
  const m = os2ip(out);
  return m < key.n && modPowPublic(m, key.e, key.n) === c ? m : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Constant-style helpers on small non-negative integers (< 2^31). Masks are 0 or -1 (all ones).

/** -1 when x === 0, else 0. */
function ctIsZeroMask(x: number): number {
  return -((x - 1) >>> 31) | 0;
}
/** -1 when a === b, else 0. */
function ctEqMask(a: number, b: number): number {
  return ctIsZeroMask(a ^ b);
}
/** -1 when a < b (both in [0, 2^31)), else 0. */
function ctLtMask(a: number, b: number): number {
  return -((a - b) >>> 31) | 0;
}
function ctSelect(mask: number, a: number, b: number): number {
  return (a & mask) | (b & ~mask);
}

// ---------------------------------------------------------------------------------------------------------------
// RSAES-PKCS1-v1_5 (RFC 8017 §7.2)

/** RSAES-PKCS1-v1_5 encryption: EM = 00 02 PS 00 M with PS ≥ 8 random non-zero bytes. */
export function rsaesPkcs1v15Encrypt(pub: RsaPublicKey, message: Uint8Array, crypto?: Crypto): Uint8Array {
  const k = byteLength(pub);
  if (message.length > k - 11) throw new RangeError(`RSAES-PKCS1-v1_5: message too long (max ${Math.max(0, k - 11)} bytes)`);
  const em = new Uint8Array(k);
  em[1] = 2;
  const psLen = k - message.length - 3;
  const ps = em.subarray(2, 2 + psLen);
  ps.set(randomBytes(psLen, crypto));
  for (let i = 0; i < psLen; i++) {
    while (ps[i] === 0) ps[i] = randomBytes(1, crypto)[0]!;
  }
  em.set(message, 3 + psLen);
  return i2osp(rsaPublic(pub, os2ip(em)), k);
}

interface V15Unpad {
  /** -1 when the padding is well formed, else 0. */
  good: number;
  /** Length of the message after the separator (meaningful only when good). */
  msgLen: number;
}

/** A mask-only scan of the whole block EM (k bytes): no branch depends on a padding byte. */
function v15Scan(em: Uint8Array, k: number): V15Unpad {
  let good = ctEqMask(em[0]!, 0) & ctEqMask(em[1]!, 2);
  let looking = -1;
  let zeroIndex = 0;
  for (let i = 2; i < k; i++) {
    const isZero = ctIsZeroMask(em[i]!);
    zeroIndex = ctSelect(looking & isZero, i, zeroIndex);
    looking &= ~isZero;
  }
  good &= ~looking; // a separator was found
  good &= ~ctLtMask(zeroIndex, 10); // PS is at least 8 bytes
  return { good, msgLen: k - zeroIndex - 1 };
}

/** The modulus length in bytes (k of RFC 8017). */
export function rsaByteLength(key: RsaPublicKey): number {
  return byteLength(key);
}

/** The ciphertext as an integer when it is well formed for this key (length k, value < n), else undefined. */
export function ciphertextRep(priv: RsaPublicKey, ciphertext: Uint8Array): bigint | undefined {
  const k = byteLength(priv);
  if (ciphertext.length !== k) return undefined;
  const c = os2ip(ciphertext);
  return c < priv.n ? c : undefined;
}

/**
 * The RFC 3218 §2.3 unpadding of an RSAES-PKCS1-v1_5 block EM (k bytes, from any raw RSA operation: ours or an
 * external key's): the key it carries when the padding is good and (with `expectedLength`) the length is right,
 * else `fallback` (random bytes the caller drew BEFORE the RSA operation, `expectedLength ?? 32` long). Constant
 * style: a mask-only scan, and the choice between the key and the fallback is made with masks.
 *
 * With `expectedLength` undefined a good padding gives the recovered key whatever its length (moved to the front
 * with a log-step masked shift: no secret-dependent index).
 */
export function v15UnpadCek(em: Uint8Array, k: number, expectedLength: number | undefined, fallback: Uint8Array): Uint8Array {
  const fallbackLen = expectedLength ?? 32;
  if (em.length !== k || fallback.length !== fallbackLen || fallbackLen > k - 11) return fallback;
  const { good: padGood, msgLen } = v15Scan(em, k);
  if (expectedLength !== undefined) {
    const good = padGood & ctEqMask(msgLen, expectedLength);
    const out = new Uint8Array(expectedLength);
    const off = k - expectedLength;
    for (let j = 0; j < expectedLength; j++) out[j] = ctSelect(good, em[off + j]!, fallback[j]!);
    return out;
  }
  const max = k - 11;
  const buf = em.slice(11);
  const shift = ctSelect(padGood, max - msgLen, 0);
  for (let bit = 0; 1 << bit < max; bit++) {
    const step = 1 << bit;
    const doShift = -((shift >>> bit) & 1) | 0;
    for (let i = 0; i < max; i++) buf[i] = ctSelect(doShift, i + step < max ? buf[i + step]! : 0, buf[i]!);
  }
  const outLen = ctSelect(padGood, msgLen, fallbackLen);
  const out = new Uint8Array(max);
  for (let j = 0; j < max; j++) out[j] = ctSelect(padGood, buf[j]!, j < fallbackLen ? fallback[j]! : 0);
  return out.slice(0, outLen);
}

/**
 * RSAES-PKCS1-v1_5 decryption of a content-encryption key, with the RFC 3218 §2.3 countermeasure (also what
 * defeats Bleichenbacher/Marvin-style oracles): a random key of the expected length is drawn first; if the padding
 * is bad, or the recovered key's length differs from `expectedLength`, the random key is returned instead, so the
 * caller's content decryption fails just as with a wrong key. Never throws for a bad ciphertext.
 *
 * With `expectedLength` undefined (the content algorithm accepts several key sizes) a good padding returns the
 * recovered key whatever its length, and a bad one returns 32 random bytes.
 */
export function rsaesPkcs1v15DecryptCek(
  priv: RsaPrivateKey,
  ciphertext: Uint8Array,
  expectedLength: number | undefined,
  crypto?: Crypto,
): Uint8Array {
  if (expectedLength !== undefined && (!Number.isInteger(expectedLength) || expectedLength < 0)) {
    throw new RangeError('rsaesPkcs1v15DecryptCek: expectedLength must be a non-negative integer');
  }
  const k = byteLength(priv);
  const fallbackLen = expectedLength ?? 32;
  const fallback = randomBytes(fallbackLen, crypto);
  const c = ciphertextRep(priv, ciphertext);
  // The ciphertext length and its range are public; a key longer than k − 11 can never be valid.
  if (c === undefined || fallbackLen > k - 11) return fallback;
  return v15UnpadCek(i2osp(rsaPrivate(priv, c, crypto), k), k, expectedLength, fallback);
}

/**
 * Plain RSAES-PKCS1-v1_5 decryption for non-CMS callers: the message, or `null` when the ciphertext or its padding
 * is bad (one indistinguishable `null` for every kind of failure). For CMS key transport use
 * {@link rsaesPkcs1v15DecryptCek}, which does not reveal the padding check at all.
 */
export function rsaesPkcs1v15Decrypt(priv: RsaPrivateKey, ciphertext: Uint8Array, crypto?: Crypto): Uint8Array | null {
  const k = byteLength(priv);
  const c = ciphertextRep(priv, ciphertext);
  if (c === undefined) return null;
  const em = i2osp(rsaPrivate(priv, c, crypto), k);
  const { good, msgLen } = v15Scan(em, k);
  if (good !== -1) return null;
  return em.slice(k - msgLen);
}

// ---------------------------------------------------------------------------------------------------------------
// RSAES-OAEP (RFC 8017 §7.1)

function hashLen(h: RsaHash): number {
  if (!isWebCryptoHash(h)) throw new UnsupportedAlgorithm(`OAEP hash ${String(h)}`);
  return DIGESTS[h].length;
}

function oaepSetup(params: OaepParams): { hash: RsaHash; mgfHash: RsaHash; label: Uint8Array; hLen: number } {
  if (!params || typeof params !== 'object') throw new TypeError('RSAES-OAEP: params { hash } are required');
  const hash = params.hash;
  const mgfHash = params.mgfHash ?? hash;
  const hLen = hashLen(hash);
  hashLen(mgfHash);
  const label = params.label ?? new Uint8Array(0);
  if (!(label instanceof Uint8Array)) throw new TypeError('RSAES-OAEP: label must be a Uint8Array');
  return { hash, mgfHash, label, hLen };
}

/** RSAES-OAEP encryption with any OAEP hash, any MGF1 hash and any label. */
export async function rsaesOaepEncrypt(
  pub: RsaPublicKey,
  message: Uint8Array,
  params: OaepParams,
  crypto?: Crypto,
): Promise<Uint8Array> {
  const { hash, mgfHash, label, hLen } = oaepSetup(params);
  const k = byteLength(pub);
  if (k < 2 * hLen + 2) throw new RangeError(`RSAES-OAEP: a ${pub.bits}-bit key is too small for ${hash}`);
  if (message.length > k - 2 * hLen - 2) {
    throw new RangeError(`RSAES-OAEP: message too long (max ${k - 2 * hLen - 2} bytes)`);
  }
  const dbLen = k - hLen - 1;
  const db = new Uint8Array(dbLen);
  db.set(await digest(hash, label, crypto));
  db[dbLen - message.length - 1] = 1;
  db.set(message, dbLen - message.length);
  const seed = randomBytes(hLen, crypto);
  const dbMask = mgf1(mgfHash, seed, dbLen);
  for (let i = 0; i < dbLen; i++) db[i]! ^= dbMask[i]!;
  const seedMask = mgf1(mgfHash, db, hLen);
  for (let i = 0; i < hLen; i++) seed[i]! ^= seedMask[i]!;
  const em = new Uint8Array(k);
  em.set(seed, 1);
  em.set(db, 1 + hLen);
  return i2osp(rsaPublic(pub, os2ip(em)), k);
}

/**
 * RSAES-OAEP decryption with any OAEP hash, any MGF1 hash and any label. Every failure (wrong length, out of
 * range, bad padding, wrong label, key too small for the hash) throws the same `Error('decryption error')`; the
 * checks run over the whole block with masks, all hashes are computed before any decision.
 */
export async function rsaesOaepDecrypt(
  priv: RsaPrivateKey,
  ciphertext: Uint8Array,
  params: OaepParams,
  crypto?: Crypto,
): Promise<Uint8Array> {
  const k = byteLength(priv);
  const c = ciphertextRep(priv, ciphertext);
  const { hLen } = oaepSetup(params);
  if (c === undefined || k < 2 * hLen + 2) {
    await oaepSetupHash(params, crypto); // the same work as a decoding
    throw new Error('decryption error');
  }
  return oaepDecode(i2osp(rsaPrivate(priv, c, crypto), k), k, params, crypto);
}

async function oaepSetupHash(params: OaepParams, crypto?: Crypto): Promise<Uint8Array> {
  const { hash, label } = oaepSetup(params);
  return digest(hash, label, crypto);
}

/**
 * EME-OAEP decoding (RFC 8017 §7.1.2 step 3) of a block EM (k bytes, from any raw RSA operation: ours or an
 * external key's). Every failure throws the same `Error('decryption error')`; the checks run over the whole block
 * with masks, and the label hash is computed before any decision (Manger's attack learns nothing).
 */
export async function oaepDecode(em: Uint8Array, k: number, params: OaepParams, crypto?: Crypto): Promise<Uint8Array> {
  const { hash, mgfHash, label, hLen } = oaepSetup(params);
  const lHash = await digest(hash, label, crypto);
  if (em.length !== k || k < 2 * hLen + 2) throw new Error('decryption error');
  const dbLen = k - hLen - 1;
  const maskedSeed = em.subarray(1, 1 + hLen);
  const db = em.slice(1 + hLen);
  const seedMask = mgf1(mgfHash, db, hLen);
  const seed = new Uint8Array(hLen);
  for (let i = 0; i < hLen; i++) seed[i] = maskedSeed[i]! ^ seedMask[i]!;
  const dbMask = mgf1(mgfHash, seed, dbLen);
  for (let i = 0; i < dbLen; i++) db[i]! ^= dbMask[i]!;

  let diff = em[0]!;
  for (let i = 0; i < hLen; i++) diff |= db[i]! ^ lHash[i]!;
  let good = ctIsZeroMask(diff);
  let looking = -1;
  let oneIndex = 0;
  let bad = 0;
  for (let i = hLen; i < dbLen; i++) {
    const isOne = ctEqMask(db[i]!, 1);
    const isZero = ctIsZeroMask(db[i]!);
    oneIndex = ctSelect(looking & isOne, i, oneIndex);
    bad |= looking & ~isOne & ~isZero;
    looking &= ~isOne;
  }
  good &= ~bad & ~looking;
  if (good !== -1) throw new Error('decryption error');
  return db.slice(oneIndex + 1);
}
