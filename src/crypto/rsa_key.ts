/**
 * RSA key parsing (RFC 8017 Appendix A.1, RFC 5208/5958, RFC 5280 §4.1.2.7): a PKCS#8 PrivateKeyInfo or a bare
 * PKCS#1 RSAPrivateKey into an {@link RsaPrivateKey} with its CRT values checked, a SubjectPublicKeyInfo into an
 * {@link RsaPublicKey}, and the modulus size of either. DER only; malformed or inconsistent → `KeyInvalid`, and a
 * modulus over 16384 bits is refused (a hostile key must not make us spend minutes on one exponentiation).
 */
import { CMSInvalid, CMSLimitExceeded, KeyInvalid } from '../errors.js';
import { TAG, UNIVERSAL, children, decodeOid, expect, readTlv, type Tlv } from '../lib/der.js';
import { KEY_ALGORITHMS } from './algorithms.js';
import { bitLength, os2ip } from './bigint.js';

/** An RSA public key: modulus and public exponent. */
export interface RsaPublicKey {
  n: bigint;
  e: bigint;
  /** Bit length of the modulus. */
  bits: number;
}

/** An RSA private key with its CRT values (RFC 8017 §3.2, second representation), checked against each other when parsed. */
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
const RSA_KEY_OIDS: ReadonlySet<string> = new Set(
  Object.values(KEY_ALGORITHMS).flatMap((k) => (k.kind === 'rsa' ? [k.oid] : [])),
);

/** Larger moduli are refused (a hostile key must not make us spend minutes on one exponentiation). */
const MAX_MODULUS_BITS = 16384;
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
