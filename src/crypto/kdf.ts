/**
 * Password-based key derivation: the PKCS#12 KDF (RFC 7292 Appendix B.2) and PBKDF2 (RFC 8018 §5.2), with the
 * counter of the work they have run. The work limits are the caller's: a file reader checks its budget (iterations
 * and total work, see `Limits`) before it calls these functions; this module knows nothing of PKCS#12 files.
 */
import { Pkcs12Invalid, Pkcs12LimitExceeded, UnsupportedAlgorithm } from '../errors.js';
import { DEFAULT_LIMITS } from '../lib/limits.js';
import { DIGESTS, type HashName } from './algorithms.js';
import { pbkdf2Sync } from './digest.js';
import { getCrypto } from './provider.js';

/**
 * The key-derivation work this module has run since it was loaded: `runs` KDF calls (PKCS#12 KDF and PBKDF2) and
 * `iterations` (iterations × output blocks, summed). Counts only, for tests and diagnostics; not exported from the
 * package.
 */
export const kdfStats = { runs: 0, iterations: 0 };

/**
 * A derivation that is no longer wanted: thrown by {@link pkcs12Kdf} once its `signal` is aborted, and by callers
 * that drop a derivation before it starts. Internal: it never reaches a caller of the package.
 */
export class KdfAborted extends Error {}

/** The options of {@link pkcs12Kdf}. */
export interface Pkcs12KdfOptions {
  /**
   * The highest iteration count accepted (Pkcs12LimitExceeded above it); `DEFAULT_LIMITS.maxPbkdf2Iterations` by
   * default. A reader with its own limits passes its `maxPbkdf2Iterations`, which it has checked already.
   */
  maxIterations?: number;
  /** Checked every 4096 iterations: once `aborted`, the derivation stops with {@link KdfAborted}. */
  signal?: { readonly aborted: boolean };
}

/**
 * The PKCS#12 KDF (RFC 7292 Appendix B.2): `n` bytes of key (id 1), IV (id 2) or MAC key (id 3) material from the
 * BMPString password `pw` (UTF-16BE with its 2-byte terminator, or empty) and `salt`, with the hash `hash` (its
 * output length u and block length v from the algorithm registry). One synchronous digest per iteration
 * (@noble/hashes): a digest iterated thousands of times over a tiny input costs ~1 µs a call, an awaited WebCrypto
 * call ~35 µs. An iteration count below 1 → Pkcs12Invalid; above `maxIterations` → Pkcs12LimitExceeded.
 *
 * @example
 * ```ts
 * const macKey = await pkcs12Kdf('SHA-256', bmpPassword, macSalt, 3, 2048, 32);
 * ```
 */
export async function pkcs12Kdf(
  hash: Exclude<HashName, 'MD5'>,
  pw: Uint8Array,
  salt: Uint8Array,
  id: 1 | 2 | 3,
  iterations: number,
  n: number,
  options: Pkcs12KdfOptions = {},
): Promise<Uint8Array> {
  const d = DIGESTS[hash];
  if (!d || d.name === 'MD5') throw new UnsupportedAlgorithm(`PKCS#12 KDF with ${String(hash)}`);
  if (!(iterations >= 1)) throw new Pkcs12Invalid('PKCS#12: KDF iteration count must be at least 1');
  const max = options.maxIterations ?? DEFAULT_LIMITS.maxPbkdf2Iterations;
  if (iterations > max) {
    throw new Pkcs12LimitExceeded(`PKCS#12: KDF iteration count ${iterations} is above the limit of ${max}`, { limit: 'maxPbkdf2Iterations' });
  }
  const { signal } = options;
  const u = d.length;
  const v = d.blockLength;
  const f = d.hash;
  kdfStats.runs++;
  const sLen = salt.length === 0 ? 0 : v * Math.ceil(salt.length / v);
  const pLen = pw.length === 0 ? 0 : v * Math.ceil(pw.length / v);
  // D || I in one buffer, hashed in place for each output block.
  const buf = new Uint8Array(v + sLen + pLen);
  buf.fill(id, 0, v);
  for (let i = 0; i < sLen; i++) buf[v + i] = salt[i % salt.length]!;
  for (let i = 0; i < pLen; i++) buf[v + sLen + i] = pw[i % pw.length]!;
  const I = buf.subarray(v);
  const out = new Uint8Array(n);
  const B = new Uint8Array(v);
  const blocks = Math.ceil(n / u);
  for (let b = 0; b < blocks; b++) {
    kdfStats.iterations += iterations;
    let A = f(buf);
    for (let r = 1; r < iterations; r++) {
      if ((r & 0xfff) === 0 && signal?.aborted) throw new KdfAborted();
      A = f(A);
    }
    out.set(A.subarray(0, Math.min(u, n - b * u)), b * u);
    if (b + 1 < blocks) {
      // I_j = (I_j + B + 1) mod 2^(8v), for every v-byte block I_j of I.
      for (let k = 0; k < v; k++) B[k] = A[k % u]!;
      for (let j = 0; j < I.length; j += v) {
        let carry = 1;
        for (let k = v - 1; k >= 0; k--) {
          const x = I[j + k]! + B[k]! + carry;
          I[j + k] = x & 0xff;
          carry = x >>> 8;
        }
      }
    }
  }
  return out;
}

/**
 * PBKDF2 (RFC 8018 §5.2) with HMAC over `prf`: `length` bytes from `password` and `salt`. WebCrypto (the caller's
 * provider) when it has the hash, else @noble/hashes (SHA-224). The caller has checked `iterations` against its
 * limits; an iteration count below 1 → RangeError.
 *
 * @example
 * ```ts
 * const key = await pbkdf2('SHA-256', utf8(password), salt, 2048, 32, crypto);
 * ```
 */
export async function pbkdf2(
  prf: HashName,
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  length: number,
  crypto?: Crypto,
): Promise<Uint8Array> {
  const d = DIGESTS[prf];
  if (!d) throw new UnsupportedAlgorithm(`PBKDF2 with ${String(prf)}`);
  if (!(iterations >= 1)) throw new RangeError('PBKDF2 iteration count must be at least 1');
  kdfStats.runs++;
  kdfStats.iterations += iterations * Math.ceil(length / d.length);
  if (!d.webCrypto) return pbkdf2Sync(prf, password, salt, iterations, length);
  const c = getCrypto(crypto);
  const key = await c.subtle.importKey('raw', password as Uint8Array<ArrayBuffer>, 'PBKDF2', false, ['deriveBits']);
  const bits = await c.subtle.deriveBits({ name: 'PBKDF2', hash: prf, salt: salt as Uint8Array<ArrayBuffer>, iterations }, key, length * 8);
  return new Uint8Array(bits);
}
