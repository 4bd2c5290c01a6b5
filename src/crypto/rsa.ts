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
 */
import { CMSInvalid, CMSLimitExceeded, KeyInvalid, UnsupportedAlgorithm } from '../errors.js';
import { TAG, UNIVERSAL, children, decodeOid, expect, readTlv, type Tlv } from '../lib/der.js';
import { accelerators, getCrypto, randomBytes } from './provider.js';
import { LruMap } from '../lib/lru.js';
import { DIGESTS, isWebCryptoHash, KEY_ALGORITHMS, type WebCryptoHash } from './algorithms.js';
import { digest, mgf1 } from './digest.js';

export interface RsaPublicKey {
  n: bigint;
  e: bigint;
  /** Bit length of the modulus. */
  bits: number;
}

export interface RsaPrivateKey extends RsaPublicKey {
  d: bigint;
  p: bigint;
  q: bigint;
  /** d mod (p − 1) */
  dp: bigint;
  /** d mod (q − 1) */
  dq: bigint;
  /** q^−1 mod p */
  qinv: bigint;
  /** The DER RSAPrivateKey (PKCS#1) it was parsed from: what a native RSA accelerator takes. */
  der?: Uint8Array;
}

export type RsaHash = WebCryptoHash;

export interface OaepParams {
  /** Hash of the label (and the default MGF1 hash). */
  hash: RsaHash;
  /** MGF1 hash; defaults to `hash`. */
  mgfHash?: RsaHash;
  /** The OAEP label (RFC 8017 "L", CMS pSourceFunc pSpecified); empty by default. */
  label?: Uint8Array;
}

const RSA_KEY_OIDS: ReadonlySet<string> = new Set(
  Object.values(KEY_ALGORITHMS).flatMap((k) => (k.kind === 'rsa' ? [k.oid] : [])),
);

/** Larger moduli are refused (a hostile key must not make us spend minutes on one exponentiation). */
const MAX_MODULUS_BITS = 16384;

// ---------------------------------------------------------------------------------------------------------------
// BigInt arithmetic

/** Bit length of a non-negative bigint (0 for 0). */
export function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/**
 * Width of the window that needs the fewest modular multiplications for an `expBits`-bit exponent: 2^w − 1 to
 * build the table, then w squarings and one multiplication per further window. Depends only on the bit length.
 */
function windowBits(expBits: number): number {
  let best = 1;
  let bestCost = Infinity;
  for (let w = 1; w <= 6; w++) {
    const cost = (1 << w) - 1 + (Math.ceil(expBits / w) - 1) * (w + 1);
    if (cost < bestCost) {
      best = w;
      bestCost = cost;
    }
  }
  return best;
}

/**
 * base^exp mod m with a fixed window: the sequence of squarings and multiplications depends only on the bit length
 * of `exp`, not on its bits. (BigInt itself is not constant time; private operations are blinded as well.)
 * Reduction is BigInt `%`: on V8 a Montgomery or Barrett reduction written with BigInt operations needs three
 * multiplications and measured slower than one multiplication and one `%`, at every modulus size from 256 bits up.
 */
export function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  if (m <= 0n) throw new RangeError('modPow: modulus must be positive');
  if (exp < 0n) throw new RangeError('modPow: negative exponent');
  if (m === 1n) return 0n;
  base %= m;
  if (base < 0n) base += m;
  if (exp === 0n) return 1n;
  const bits = exp.toString(2);
  const w = windowBits(bits.length);
  const s = bits.padStart(Math.ceil(bits.length / w) * w, '0');
  const size = 1 << w;
  const table: bigint[] = new Array<bigint>(size);
  table[0] = 1n;
  table[1] = base;
  for (let i = 2; i < size; i++) table[i] = (table[i - 1]! * base) % m;
  let r = table[parseInt(s.slice(0, w), 2)]!;
  for (let i = w; i < s.length; i += w) {
    for (let k = 0; k < w; k++) r = (r * r) % m;
    r = (r * table[parseInt(s.slice(i, i + w), 2)]!) % m;
  }
  return r;
}

/**
 * base^exp mod m for a PUBLIC exponent (e, never d): plain left-to-right square-and-multiply, whose sequence of
 * operations follows the exponent's bits; for e = 65537 that is 17 multiplications instead of 27 with a window.
 * Longer exponents, and bases outside [0, m), go to {@link modPow}. Requires m > 1.
 */
function modPowPublic(base: bigint, exp: bigint, m: bigint): bigint {
  if (exp <= 0n || exp >= 1n << 64n || base < 0n || base >= m) return modPow(base, exp, m);
  const bits = exp.toString(2);
  let r = base;
  for (let i = 1; i < bits.length; i++) {
    r = (r * r) % m;
    if (bits.charCodeAt(i) === 49) r = (r * base) % m;
  }
  return r;
}

/** a^−1 mod m (extended Euclid). Throws RangeError when gcd(a, m) ≠ 1. */
export function modInverse(a: bigint, m: bigint): bigint {
  if (m <= 0n) throw new RangeError('modInverse: modulus must be positive');
  a %= m;
  if (a < 0n) a += m;
  let r0 = m;
  let r1 = a;
  let t0 = 0n;
  let t1 = 1n;
  while (r1 !== 0n) {
    const q = r0 / r1;
    const r2 = r0 - q * r1;
    r0 = r1;
    r1 = r2;
    const t2 = t0 - q * t1;
    t0 = t1;
    t1 = t2;
  }
  if (r0 !== 1n) throw new RangeError('modInverse: not invertible');
  return t0 < 0n ? t0 + m : t0;
}

// ---------------------------------------------------------------------------------------------------------------
// Byte conversions (RFC 8017 §4)

/** Integer-to-Octet-String: `x` as exactly `len` big-endian bytes. RangeError when it does not fit. */
export function i2osp(x: bigint, len: number): Uint8Array {
  if (x < 0n) throw new RangeError('i2osp: negative integer');
  const hex = x === 0n ? '' : x.toString(16);
  if (hex.length > len * 2) throw new RangeError('i2osp: integer too large');
  const h = hex.padStart(len * 2, '0');
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = parseInt(h.substring(i * 2, i * 2 + 2), 16);
  return out;
}

/** Octet-String-to-Integer: big-endian bytes to a non-negative bigint (0 for no bytes). */
export function os2ip(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  let h = '';
  for (let i = 0; i < b.length; i++) h += (b[i]! < 16 ? '0' : '') + b[i]!.toString(16);
  return BigInt('0x' + h);
}

function byteLength(key: RsaPublicKey): number {
  return (key.bits + 7) >> 3;
}

// ---------------------------------------------------------------------------------------------------------------
// Key parsing

function keyFail(msg: string, cause?: unknown): never {
  throw new KeyInvalid(`RSA key: ${msg}`, cause === undefined ? undefined : { cause });
}

/** Runs a DER walk, turning the reader's CMSInvalid/CMSLimitExceeded into KeyInvalid. */
function derWalk<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof CMSInvalid || e instanceof CMSLimitExceeded) keyFail(`${what} is not valid DER`, e);
    throw e;
  }
}

function checkInput(der: unknown, what: string): asserts der is Uint8Array {
  if (!(der instanceof Uint8Array)) throw new TypeError(`${what}: expected a Uint8Array`);
  if (der.length === 0) keyFail(`${what} is empty`);
}

/** The single top-level element filling `buf`. */
function whole(buf: Uint8Array, what: string): Tlv {
  const t = readTlv(buf, 0);
  if (t.end !== buf.length) keyFail(`${what}: trailing bytes after the structure`);
  return t;
}

function seqOf(buf: Uint8Array, t: Tlv | undefined, what: string): Tlv[] {
  const s = expect(t, TAG.SEQUENCE, what);
  if (!s.constructed) keyFail(`${what} is not constructed`);
  return children(buf, s);
}

/** A non-negative INTEGER as bigint. */
function uint(buf: Uint8Array, t: Tlv | undefined, what: string): bigint {
  const i = expect(t, TAG.INTEGER, `INTEGER (${what})`);
  if (i.constructed || i.contentEnd === i.contentStart) keyFail(`${what}: bad INTEGER`);
  if (buf[i.contentStart]! & 0x80) keyFail(`${what}: negative INTEGER`);
  return os2ip(buf.subarray(i.contentStart, i.contentEnd));
}

function smallInt(buf: Uint8Array, t: Tlv | undefined, what: string): number {
  const v = uint(buf, t, what);
  return v > 255n ? 256 : Number(v);
}

function algorithmOid(buf: Uint8Array, t: Tlv | undefined, what: string): string {
  const parts = seqOf(buf, t, what);
  if (parts.length < 1 || parts.length > 2) keyFail(`${what}: bad AlgorithmIdentifier`);
  return decodeOid(buf, parts[0]!);
}

function checkPublic(n: bigint, e: bigint): number {
  const bits = bitLength(n);
  if (bits < 64 || (n & 1n) === 0n) keyFail('bad modulus');
  if (bits > MAX_MODULUS_BITS) keyFail(`modulus larger than ${MAX_MODULUS_BITS} bits`);
  if (e < 3n || (e & 1n) === 0n || e >= n) keyFail('bad public exponent');
  return bits;
}

/** Parses an RSAPrivateKey (PKCS#1) SEQUENCE. */
function rsaPrivateKeyFrom(buf: Uint8Array, t: Tlv): RsaPrivateKey {
  const f = seqOf(buf, t, 'RSAPrivateKey');
  const version = smallInt(buf, f[0], 'version');
  if (version === 1) keyFail('multi-prime RSA keys are not supported');
  if (version !== 0 || f.length !== 9) keyFail('bad RSAPrivateKey structure');
  const [n, e, d, p, q, dp, dq, qinv] = f.slice(1).map((x, i) => uint(buf, x, `field ${i + 1}`)) as [
    bigint,
    bigint,
    bigint,
    bigint,
    bigint,
    bigint,
    bigint,
    bigint,
  ];
  const bits = checkPublic(n, e);
  if (p < 3n || q < 3n || p * q !== n) keyFail('the primes do not match the modulus');
  if (d <= 0n || d >= n) keyFail('bad private exponent');
  // The CRT values are what the private operation uses; check them against e (d is only the fallback path).
  if (
    dp <= 0n ||
    dq <= 0n ||
    (e * dp) % (p - 1n) !== 1n ||
    (e * dq) % (q - 1n) !== 1n ||
    qinv <= 0n ||
    qinv >= p ||
    (qinv * q) % p !== 1n
  ) {
    keyFail('inconsistent CRT parameters');
  }
  return { n, e, d, p, q, dp, dq, qinv, bits, der: buf.subarray(t.start, t.end) };
}

/**
 * Parses an RSA private key: a PKCS#8 PrivateKeyInfo / OneAsymmetricKey with rsaEncryption, id-RSASSA-PSS or
 * id-RSAES-OAEP, or a bare PKCS#1 RSAPrivateKey. DER only (no PEM). Malformed or inconsistent → KeyInvalid.
 */
export function parseRsaPrivateKey(pkcs8OrPkcs1Der: Uint8Array): RsaPrivateKey {
  checkInput(pkcs8OrPkcs1Der, 'parseRsaPrivateKey');
  const buf = pkcs8OrPkcs1Der;
  return derWalk('private key', () => {
    const top = whole(buf, 'private key');
    const f = seqOf(buf, top, 'private key');
    if (f[1] && f[1].cls === UNIVERSAL && f[1].tagNo === TAG.INTEGER) return rsaPrivateKeyFrom(buf, top);
    // PrivateKeyInfo ::= SEQUENCE { version, AlgorithmIdentifier, OCTET STRING, [0] attributes OPT, [1] pub OPT }
    if (f.length < 3 || f.length > 5) keyFail('bad PrivateKeyInfo structure');
    const version = smallInt(buf, f[0], 'PKCS#8 version');
    if (version !== 0 && version !== 1) keyFail('unknown PKCS#8 version');
    const alg = algorithmOid(buf, f[1], 'PKCS#8 AlgorithmIdentifier');
    if (!RSA_KEY_OIDS.has(alg)) keyFail(`not an RSA key (algorithm ${alg})`);
    const os = expect(f[2], TAG.OCTET_STRING, 'PKCS#8 privateKey OCTET STRING');
    if (os.constructed) keyFail('constructed privateKey OCTET STRING');
    const inner = buf.subarray(os.contentStart, os.contentEnd);
    if (inner.length === 0) keyFail('empty privateKey');
    return rsaPrivateKeyFrom(inner, whole(inner, 'RSAPrivateKey'));
  });
}

/** Parses a SubjectPublicKeyInfo holding an RSA key (rsaEncryption, id-RSASSA-PSS or id-RSAES-OAEP). */
export function parseRsaPublicKey(spkiDer: Uint8Array): RsaPublicKey {
  checkInput(spkiDer, 'parseRsaPublicKey');
  const buf = spkiDer;
  return derWalk('public key', () => {
    const f = seqOf(buf, whole(buf, 'SubjectPublicKeyInfo'), 'SubjectPublicKeyInfo');
    if (f.length !== 2) keyFail('bad SubjectPublicKeyInfo structure');
    const alg = algorithmOid(buf, f[0], 'SPKI AlgorithmIdentifier');
    if (!RSA_KEY_OIDS.has(alg)) keyFail(`not an RSA key (algorithm ${alg})`);
    const bs = expect(f[1], TAG.BIT_STRING, 'subjectPublicKey BIT STRING');
    if (bs.constructed || bs.contentEnd - bs.contentStart < 2 || buf[bs.contentStart] !== 0) {
      keyFail('bad subjectPublicKey BIT STRING');
    }
    const inner = buf.subarray(bs.contentStart + 1, bs.contentEnd);
    const pk = seqOf(inner, whole(inner, 'RSAPublicKey'), 'RSAPublicKey');
    if (pk.length !== 2) keyFail('bad RSAPublicKey structure');
    const n = uint(inner, pk[0], 'modulus');
    const e = uint(inner, pk[1], 'publicExponent');
    return { n, e, bits: checkPublic(n, e) };
  });
}

/** Modulus size in bits of an RSA SubjectPublicKeyInfo, PKCS#8 or PKCS#1 private key (KeyInvalid otherwise). */
export function rsaKeyBits(spkiOrPkcs8: Uint8Array): number {
  try {
    return parseRsaPublicKey(spkiOrPkcs8).bits;
  } catch (e) {
    if (!(e instanceof KeyInvalid)) throw e;
    try {
      return parseRsaPrivateKey(spkiOrPkcs8).bits;
    } catch (e2) {
      if (e2 instanceof KeyInvalid) throw new KeyInvalid('RSA key: neither an RSA SubjectPublicKeyInfo nor an RSA private key');
      throw e2;
    }
  }
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
  em: Uint8Array;
  /** -1 when the padding is well formed, else 0. */
  good: number;
  /** Length of the message after the separator (meaningful only when good). */
  msgLen: number;
}

/** The RSA operation and a mask-only scan of the whole block: no branch depends on a padding byte. */
function v15Unpad(priv: RsaPrivateKey, c: bigint, k: number, crypto?: Crypto): V15Unpad {
  const em = i2osp(rsaPrivate(priv, c, crypto), k);
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
  return { em, good, msgLen: k - zeroIndex - 1 };
}

/** The ciphertext as an integer when it is well formed for this key (length k, value < n), else undefined. */
function ciphertextRep(priv: RsaPublicKey, ciphertext: Uint8Array): bigint | undefined {
  const k = byteLength(priv);
  if (ciphertext.length !== k) return undefined;
  const c = os2ip(ciphertext);
  return c < priv.n ? c : undefined;
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
  const { em, good: padGood, msgLen } = v15Unpad(priv, c, k, crypto);
  if (expectedLength !== undefined) {
    const good = padGood & ctEqMask(msgLen, expectedLength);
    const out = new Uint8Array(expectedLength);
    const off = k - expectedLength;
    for (let j = 0; j < expectedLength; j++) out[j] = ctSelect(good, em[off + j]!, fallback[j]!);
    return out;
  }
  // Unknown length: move the message to the front of a fixed-size buffer with a log-step masked shift (no
  // secret-dependent indexing), then choose between it and the fallback.
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
 * Plain RSAES-PKCS1-v1_5 decryption for non-CMS callers: the message, or `null` when the ciphertext or its padding
 * is bad (one indistinguishable `null` for every kind of failure). For CMS key transport use
 * {@link rsaesPkcs1v15DecryptCek}, which does not reveal the padding check at all.
 */
export function rsaesPkcs1v15Decrypt(priv: RsaPrivateKey, ciphertext: Uint8Array, crypto?: Crypto): Uint8Array | null {
  const k = byteLength(priv);
  const c = ciphertextRep(priv, ciphertext);
  if (c === undefined) return null;
  const { em, good, msgLen } = v15Unpad(priv, c, k, crypto);
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
  const { hash, mgfHash, label, hLen } = oaepSetup(params);
  const k = byteLength(priv);
  const lHash = await digest(hash, label, crypto);
  const c = ciphertextRep(priv, ciphertext);
  if (c === undefined || k < 2 * hLen + 2) throw new Error('decryption error');
  const em = i2osp(rsaPrivate(priv, c, crypto), k);
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

/**
 * The modulus size in bits of an RSAPublicKey (the BIT STRING content of an RSA SubjectPublicKeyInfo), counted from
 * its DER without building the number; 0 when the structure is malformed.
 */
export function rsaPublicKeyBits(rsaPublicKey: Uint8Array): number {
  // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
  try {
    const n = children(rsaPublicKey, readTlv(rsaPublicKey, 0))[0];
    if (!n || n.tagNo !== TAG.INTEGER) return 0;
    let p = n.contentStart;
    while (p < n.contentEnd && rsaPublicKey[p] === 0) p++;
    if (p === n.contentEnd) return 0;
    return (n.contentEnd - p - 1) * 8 + (32 - Math.clz32(rsaPublicKey[p]!));
  } catch {
    return 0;
  }
}
