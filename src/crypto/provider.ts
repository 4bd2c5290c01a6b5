/**
 * The WebCrypto provider. By default smime-core uses `globalThis.crypto` (browsers, Node ≥ 20, Deno, Bun).
 * Callers can replace it once with {@link setCrypto}, or per call with `options.crypto`.
 * On Node, `smime-core/node` offers a provider built on @peculiar/webcrypto (`nodeCrypto()`).
 */

let current: Crypto | undefined;

/**
 * Sets the default WebCrypto implementation used when a call passes no `crypto` option (undefined: back to
 * `globalThis.crypto`).
 *
 * @example
 * ```ts
 * import { Crypto } from '@peculiar/webcrypto';
 * setCrypto(new Crypto());
 * ```
 */
export function setCrypto(crypto: Crypto | undefined): void {
  if (crypto !== undefined && (typeof crypto !== 'object' || typeof crypto.subtle !== 'object')) {
    throw new TypeError('setCrypto: expected a WebCrypto Crypto object with a subtle property');
  }
  current = crypto;
}

/**
 * The Crypto to use: the argument, else the one set with setCrypto, else globalThis.crypto. None: TypeError.
 *
 * @example
 * ```ts
 * const digest = await getCrypto().subtle.digest('SHA-256', bytes);
 * ```
 */
export function getCrypto(override?: Crypto): Crypto {
  const c = override ?? current ?? (globalThis as { crypto?: Crypto }).crypto;
  if (!c || !c.subtle) throw new TypeError('no WebCrypto implementation: pass options.crypto or call setCrypto()');
  return c;
}

export function randomBytes(n: number, crypto?: Crypto): Uint8Array {
  const c = getCrypto(crypto);
  const out = new Uint8Array(n);
  for (let o = 0; o < n; o += 65536) c.getRandomValues(out.subarray(o, Math.min(n, o + 65536)));
  return out;
}

/**
 * Native speed-ups a platform may offer for work smime-core otherwise does in TypeScript or in whole-buffer
 * WebCrypto calls. They never change a result: every accelerated path has a TypeScript or WebCrypto twin, and
 * tests run both. A `Crypto` may carry its own under the symbol `Symbol.for('smime-core.accelerators')` (`smime-core/node`'s `nodeCrypto()`
 * does); the platform's `globalThis.crypto` gets the ones registered with `setPlatformAccelerators` (on
 * Node, the package's `node` export condition registers Node's). Any other injected `Crypto` gets none, so a
 * custom provider sees every operation.
 */
export interface Accelerators {
  /** Incremental AES, so content is encrypted and decrypted in chunks (see src/cms/content_cipher.ts). */
  incrementalAes?: IncrementalAes;
  /** The raw RSA private-key operation (RSADP, no padding) on a key given as DER. */
  rawRsa?: RawRsa;
  /** Incremental digests, so a stream is hashed as it passes (see src/crypto/incremental_hash.ts). */
  incrementalHash?: IncrementalHash;
}

/**
 * Incremental digests: `start` returns a hash in progress for a WebCrypto-spelled name ('SHA-256'…), or `undefined`
 * to decline (the @noble/hashes twin then runs).
 */
export interface IncrementalHash {
  /** Starts one digest of `name` ('MD5', 'SHA-1', 'SHA-224', 'SHA-256', 'SHA-384' or 'SHA-512'). */
  start(name: string): HashStream | undefined;
}

/** One digest in progress (see {@link IncrementalHash}). */
export interface HashStream {
  /** Adds `data` (not kept past the call). */
  update(data: Uint8Array): void;
  /** The digest of everything added; the hash is finished. */
  digest(): Uint8Array;
}

/** Incremental AES-CBC and AES-GCM. */
export interface IncrementalAes {
  /** Starts one AES operation on `key` and `iv`; its output comes from the returned stream. */
  start(params: {
    /** AES-CBC (PKCS#7 padding) or AES-GCM. */
    mode: 'cbc' | 'gcm';
    /** Encrypt (true) or decrypt (false). */
    encrypt: boolean;
    /** The raw AES key (16, 24 or 32 bytes). */
    key: Uint8Array;
    /** The IV (CBC: 16 bytes; GCM: the nonce). */
    iv: Uint8Array;
    /** GCM: additional authenticated data. */
    aad?: Uint8Array;
    /**
     * GCM decryption: the expected tag (its length is the tag length). May be left out and given later with
     * {@link AesStream.setTag}, before `final()` (a stream's tag comes after its content).
     */
    tag?: Uint8Array;
  }): AesStream;
}

/** One AES operation in progress (see {@link IncrementalAes}). */
export interface AesStream {
  /** Output for `data` (in order; CBC may hold back up to a block). */
  update(data: Uint8Array): Uint8Array;
  /** The rest of the output; throws when the padding or the tag is wrong. */
  final(): Uint8Array;
  /** GCM encryption, after {@link final}: the tag. */
  tag(): Uint8Array;
  /**
   * GCM decryption whose tag comes after the content (a stream): the expected tag, given before {@link final} when
   * `tag` was not given at start.
   */
  setTag?(tag: Uint8Array): void;
}

/**
 * RSADP: `input`^d mod n as exactly `input.length` bytes, for the RSA private key `der` (a DER RSAPrivateKey, PKCS#1).
 * Returning `undefined` declines (a key it cannot take, say), and so does throwing: the TypeScript code in
 * src/crypto/rsa.ts then runs. The padding checks always stay in src/crypto/rsa.ts.
 */
export interface RawRsa {
  /** RSADP on `input` with the private key `der`, or `undefined` to decline. */
  privateRaw(der: Uint8Array, input: Uint8Array): Uint8Array | undefined;
}

export const ACCELERATORS: unique symbol = Symbol.for('smime-core.accelerators');

const NONE: Accelerators = Object.freeze({});
let platform: { crypto: Crypto; accelerators: Accelerators } | undefined;

/**
 * Registers native speed-ups for the platform's own `globalThis.crypto` (not for a `Crypto` set with
 * {@link setCrypto} or passed per call); `undefined` removes them.
 */
export function setPlatformAccelerators(a: Accelerators | undefined): void {
  const g = (globalThis as { crypto?: Crypto }).crypto;
  platform = a && g ? { crypto: g, accelerators: a } : undefined;
}

/** The speed-ups that apply to `c`: its own, or the platform's when `c` is the platform's `globalThis.crypto`. */
export function accelerators(c: Crypto): Accelerators {
  const own = (c as Crypto & { [ACCELERATORS]?: Accelerators })[ACCELERATORS];
  if (own) return own;
  return platform && platform.crypto === c ? platform.accelerators : NONE;
}
