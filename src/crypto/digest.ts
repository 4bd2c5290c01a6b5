/**
 * The one digest helper: every hash smime-core computes goes through here. WebCrypto for SHA-1/256/384/512 (through
 * the caller's provider), @noble/hashes for SHA-224 and MD5, which WebCrypto lacks (MD5 only so that a weak signature
 * can be reported as such). Also MGF1 (RFC 8017 §B.2.1), which RSA-PSS and RSA-OAEP share, and synchronous HMAC and
 * PBKDF2 for the hashes WebCrypto lacks (PKCS#12 files made with `-macalg sha224`), and HMAC verification.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { UnsupportedAlgorithm } from '../errors.js';
import { getCrypto } from './provider.js';
import { DIGESTS, digestAlgorithmByOid, type HashName } from './algorithms.js';
import { constantTimeEqual } from '../lib/bytes.js';

/** The digest of `data`: WebCrypto when it has the hash, else @noble/hashes. */
export async function digest(name: HashName, data: Uint8Array, crypto?: Crypto): Promise<Uint8Array> {
  const h = DIGESTS[name];
  if (!h) throw new UnsupportedAlgorithm(`digest ${String(name)}`);
  if (!h.webCrypto) return h.hash(data);
  return new Uint8Array(await getCrypto(crypto).subtle.digest(name, data as Uint8Array<ArrayBuffer>));
}

/** The digest of `data` with a hash named by OID. UnsupportedAlgorithm (naming the OID) for any other OID. */
export async function digestByOid(hashOid: string, data: Uint8Array, crypto?: Crypto): Promise<Uint8Array> {
  const h = digestAlgorithmByOid(hashOid);
  if (!h) throw new UnsupportedAlgorithm(`digest ${hashOid}`, hashOid);
  return digest(h.name, data, crypto);
}

/** A synchronous digest (@noble/hashes), for code that can't wait (RSA padding checks, KDF loops). */
export function hashSync(name: HashName, data: Uint8Array): Uint8Array {
  return DIGESTS[name].hash(data);
}

/** MGF1 (RFC 8017 §B.2.1): `len` bytes of Hash(seed ‖ C) for C = 0, 1, … (synchronous, @noble/hashes). */
export function mgf1(name: HashName, seed: Uint8Array, len: number): Uint8Array {
  const h = DIGESTS[name];
  const out = new Uint8Array(len);
  const buf = new Uint8Array(seed.length + 4);
  buf.set(seed);
  for (let c = 0, o = 0; o < len; c++, o += h.length) {
    buf[seed.length] = c >>> 24;
    buf[seed.length + 1] = (c >>> 16) & 0xff;
    buf[seed.length + 2] = (c >>> 8) & 0xff;
    buf[seed.length + 3] = c & 0xff;
    const block = h.hash(buf);
    out.set(block.subarray(0, Math.min(h.length, len - o)), o);
  }
  return out;
}

/** HMAC (RFC 2104) with any {@link HashName}, synchronous (@noble/hashes). */
export function hmacSync(name: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(DIGESTS[name].noble, key, data);
}

/** PBKDF2 (RFC 8018 §5.2) with HMAC over any {@link HashName}, synchronous (@noble/hashes). */
export function pbkdf2Sync(name: HashName, password: Uint8Array, salt: Uint8Array, iterations: number, length: number): Uint8Array {
  return pbkdf2(DIGESTS[name].noble, password, salt, { c: iterations, dkLen: length });
}

/**
 * Whether `mac` is the HMAC (RFC 2104) of `data` under `key` with `name`: WebCrypto's verify when it has the hash,
 * else @noble/hashes compared in constant time. A key of zero length is taken as one zero byte, which HMAC pads to
 * the same block (WebCrypto refuses empty HMAC keys).
 */
export async function hmacVerify(name: HashName, key: Uint8Array, data: Uint8Array, mac: Uint8Array, crypto?: Crypto): Promise<boolean> {
  if (!DIGESTS[name].webCrypto) return constantTimeEqual(hmacSync(name, key, data), mac);
  // HMAC keys of zero length are refused by WebCrypto; RFC 2104 pads them with zeros anyway.
  const k = key.length > 0 ? key : new Uint8Array(1);
  const c = getCrypto(crypto);
  const ck = await c.subtle.importKey('raw', k as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: name }, false, ['verify']);
  return c.subtle.verify('HMAC', ck, mac as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>);
}
