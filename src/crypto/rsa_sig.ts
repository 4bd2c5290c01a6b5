/**
 * RSA signature verification in TypeScript, for what WebCrypto can't do (RFC 8017):
 * - RSASSA-PKCS1-v1_5 with SHA-224 or MD5 (WebCrypto has neither hash);
 * - RSASSA-PSS with SHA-224, or with an MGF1 hash that differs from the message hash (WebCrypto ties both to the
 *   key's hash).
 * The common cases (SHA-1/256/384/512, same MGF1 hash) go through WebCrypto in cms/signed.ts.
 *
 * Public-key operations only: nothing secret is handled, so nothing needs to be constant time. Browser-safe
 * (Uint8Array and BigInt only; hashes from @noble/hashes).
 */
import { md5, sha1 } from '@noble/hashes/legacy.js';
import { sha224, sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { algorithmIdentifier, NULL, octets, seq } from '../lib/der.js';
import { i2osp, os2ip, parseRsaPublicKey, rsaPublic } from './rsa.js';

export type AnyHash = 'MD5' | 'SHA-1' | 'SHA-224' | 'SHA-256' | 'SHA-384' | 'SHA-512';

const HASHES: Record<AnyHash, { fn: (d: Uint8Array) => Uint8Array; oid: string; len: number }> = {
  MD5: { fn: (d) => md5(d), oid: '1.2.840.113549.2.5', len: 16 },
  'SHA-1': { fn: (d) => sha1(d), oid: '1.3.14.3.2.26', len: 20 },
  'SHA-224': { fn: (d) => sha224(d), oid: '2.16.840.1.101.3.4.2.4', len: 28 },
  'SHA-256': { fn: (d) => sha256(d), oid: '2.16.840.1.101.3.4.2.1', len: 32 },
  'SHA-384': { fn: (d) => sha384(d), oid: '2.16.840.1.101.3.4.2.2', len: 48 },
  'SHA-512': { fn: (d) => sha512(d), oid: '2.16.840.1.101.3.4.2.3', len: 64 },
};

export function isAnyHash(name: string | undefined): name is AnyHash {
  return name !== undefined && Object.prototype.hasOwnProperty.call(HASHES, name);
}

/** A synchronous digest with any hash of {@link AnyHash}. */
export function hashSync(name: AnyHash, data: Uint8Array): Uint8Array {
  return HASHES[name].fn(data);
}

/** s^e mod n as an emLen-octet string, or undefined when the signature is out of range or of the wrong length. */
function openSignature(spki: Uint8Array, signature: Uint8Array): { em: Uint8Array; modBits: number } | undefined {
  const key = parseRsaPublicKey(spki);
  const k = (key.bits + 7) >> 3;
  if (signature.length !== k) return undefined;
  const s = os2ip(signature);
  if (s >= key.n) return undefined;
  return { em: i2osp(rsaPublic(key, s), k), modBits: key.bits };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/**
 * RSASSA-PKCS1-v1_5 verification (RFC 8017 §8.2.2) of `data` with the RSA SubjectPublicKeyInfo `spki`. The
 * DigestInfo is rebuilt and compared as a whole (never parsed), with NULL parameters or, as RFC 8017 §9.2 note 2
 * allows, without them. KeyInvalid for a malformed key.
 */
export function rsaPkcs1v15Verify(spki: Uint8Array, hash: AnyHash, data: Uint8Array, signature: Uint8Array): boolean {
  const opened = openSignature(spki, signature);
  if (!opened) return false;
  const { em } = opened;
  const h = HASHES[hash];
  const digest = h.fn(data);
  for (const t of [seq(algorithmIdentifier(h.oid, NULL), octets(digest)), seq(algorithmIdentifier(h.oid), octets(digest))]) {
    if (em.length < t.length + 11) continue;
    const expected = new Uint8Array(em.length);
    expected[1] = 0x01;
    expected.fill(0xff, 2, em.length - t.length - 1);
    expected.set(t, em.length - t.length);
    if (sameBytes(em, expected)) return true;
  }
  return false;
}

function mgf1(hash: AnyHash, seed: Uint8Array, len: number): Uint8Array {
  const h = HASHES[hash];
  const out = new Uint8Array(len);
  const buf = new Uint8Array(seed.length + 4);
  buf.set(seed);
  for (let c = 0, o = 0; o < len; c++, o += h.len) {
    buf[seed.length] = c >>> 24;
    buf[seed.length + 1] = (c >>> 16) & 0xff;
    buf[seed.length + 2] = (c >>> 8) & 0xff;
    buf[seed.length + 3] = c & 0xff;
    const block = h.fn(buf);
    out.set(block.subarray(0, Math.min(h.len, len - o)), o);
  }
  return out;
}

/**
 * RSASSA-PSS verification (RFC 8017 §8.1.2, EMSA-PSS-VERIFY §9.1.2) with any hash, any MGF1 hash and the salt
 * length the parameters state (trailer field 0xbc). KeyInvalid for a malformed key.
 */
export function rsaPssVerify(
  spki: Uint8Array,
  params: { hash: AnyHash; mgfHash: AnyHash; salt: number },
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  const opened = openSignature(spki, signature);
  if (!opened) return false;
  const emBits = opened.modBits - 1;
  const emLen = (emBits + 7) >> 3;
  // When modBits − 1 is a multiple of 8 the encoded message is one octet shorter than the modulus: that octet is 0.
  const full = opened.em;
  if (full.length > emLen && full[0] !== 0) return false;
  const em = full.subarray(full.length - emLen);
  const h = HASHES[params.hash];
  const hLen = h.len;
  const sLen = params.salt;
  if (!Number.isInteger(sLen) || sLen < 0 || emLen < hLen + sLen + 2) return false;
  if (em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const hh = em.subarray(emLen - hLen - 1, emLen - 1);
  const topBits = 8 * emLen - emBits;
  if (topBits > 0 && (maskedDb[0]! & (0xff << (8 - topBits)) & 0xff) !== 0) return false;
  const db = mgf1(params.mgfHash, hh, maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= maskedDb[i]!;
  if (topBits > 0) db[0]! &= 0xff >>> topBits;
  const psLen = emLen - hLen - sLen - 2;
  for (let i = 0; i < psLen; i++) if (db[i] !== 0) return false;
  if (db[psLen] !== 0x01) return false;
  const salt = db.subarray(db.length - sLen);
  const mPrime = new Uint8Array(8 + hLen + sLen);
  mPrime.set(h.fn(data), 8);
  mPrime.set(salt, 8 + hLen);
  return sameBytes(h.fn(mPrime), hh);
}
