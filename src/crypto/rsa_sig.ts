/**
 * RSA signature verification in TypeScript, for what WebCrypto can't do (RFC 8017):
 * - RSASSA-PKCS1-v1_5 with SHA-224 or MD5 (WebCrypto has neither hash);
 * - RSASSA-PSS with SHA-224, or with an MGF1 hash that differs from the message hash (WebCrypto ties both to the
 *   key's hash).
 * The common cases (SHA-1/256/384/512, same MGF1 hash) go through WebCrypto in crypto/signatures.ts.
 *
 * Public-key operations only: nothing secret is handled, so nothing needs to be constant time. Browser-safe
 * (Uint8Array and BigInt only; hashes from @noble/hashes).
 */
import { algorithmIdentifier, NULL, octets, seq } from '../lib/der.js';
import { constantTimeEqual } from '../lib/bytes.js';
import { DIGESTS, type HashName } from './algorithms.js';
import { mgf1 } from './digest.js';
import { i2osp, os2ip } from './bigint.js';
import { parseRsaPublicKey } from './rsa_key.js';
import { rsaPublic } from './rsa.js';

/** s^e mod n as an emLen-octet string, or undefined when the signature is out of range or of the wrong length. */
function openSignature(spki: Uint8Array, signature: Uint8Array): { em: Uint8Array; modBits: number } | undefined {
  const key = parseRsaPublicKey(spki);
  const k = (key.bits + 7) >> 3;
  if (signature.length !== k) return undefined;
  const s = os2ip(signature);
  if (s >= key.n) return undefined;
  return { em: i2osp(rsaPublic(key, s), k), modBits: key.bits };
}

/**
 * RSASSA-PKCS1-v1_5 verification (RFC 8017 §8.2.2) of `data` with the RSA SubjectPublicKeyInfo `spki`. The
 * DigestInfo is rebuilt and compared as a whole (never parsed), with NULL parameters or, as RFC 8017 §9.2 note 2
 * allows, without them. KeyInvalid for a malformed key.
 */
export function rsaPkcs1v15Verify(spki: Uint8Array, hash: HashName, data: Uint8Array, signature: Uint8Array): boolean {
  return rsaPkcs1v15VerifyDigest(spki, hash, DIGESTS[hash].hash(data), signature);
}

/**
 * {@link rsaPkcs1v15Verify} of content known by its `hash` digest (a stream's SignerInfo without signed attributes:
 * the content was hashed as it went by). A digest of the wrong length never verifies.
 */
export function rsaPkcs1v15VerifyDigest(spki: Uint8Array, hash: HashName, digest: Uint8Array, signature: Uint8Array): boolean {
  const h = DIGESTS[hash];
  if (digest.length !== h.length) return false;
  const opened = openSignature(spki, signature);
  if (!opened) return false;
  const { em } = opened;
  for (const t of [seq(algorithmIdentifier(h.oid, NULL), octets(digest)), seq(algorithmIdentifier(h.oid), octets(digest))]) {
    if (em.length < t.length + 11) continue;
    const expected = new Uint8Array(em.length);
    expected[1] = 0x01;
    expected.fill(0xff, 2, em.length - t.length - 1);
    expected.set(t, em.length - t.length);
    if (constantTimeEqual(em, expected)) return true;
  }
  return false;
}

/**
 * RSASSA-PSS verification (RFC 8017 §8.1.2, EMSA-PSS-VERIFY §9.1.2) with any hash, any MGF1 hash and the salt
 * length the parameters state (trailer field 0xbc). KeyInvalid for a malformed key.
 */
export function rsaPssVerify(
  spki: Uint8Array,
  params: { hash: HashName; mgfHash: HashName; salt: number },
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  return rsaPssVerifyDigest(spki, params, DIGESTS[params.hash].hash(data), signature);
}

/** {@link rsaPssVerify} of content known by its digest `mHash` (RFC 8017 §9.1.2 step 2 done by the caller). */
export function rsaPssVerifyDigest(
  spki: Uint8Array,
  params: { hash: HashName; mgfHash: HashName; salt: number },
  mHash: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (mHash.length !== DIGESTS[params.hash].length) return false;
  const opened = openSignature(spki, signature);
  if (!opened) return false;
  const emBits = opened.modBits - 1;
  const emLen = (emBits + 7) >> 3;
  // When modBits − 1 is a multiple of 8 the encoded message is one octet shorter than the modulus: that octet is 0.
  const full = opened.em;
  if (full.length > emLen && full[0] !== 0) return false;
  const em = full.subarray(full.length - emLen);
  const h = DIGESTS[params.hash];
  const hLen = h.length;
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
  mPrime.set(mHash, 8);
  mPrime.set(salt, 8 + hLen);
  return constantTimeEqual(h.hash(mPrime), hh);
}
