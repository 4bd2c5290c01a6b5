/**
 * signMessage(): a MIME message or entity in, a signed S/MIME message out (RFC 8551 §3.5).
 *
 * - The message headers (From, To, Subject, Date…) stay outside; the Content-* headers and the body are signed.
 * - The signed entity is made canonical first (CRLF, and a 7-bit transfer encoding for any part that is not 7-bit
 *   clean, RFC 8551 §3.1) so relays can't break the signature.
 * - Default output: `multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256` with the signature
 *   part `smime.p7s`. With `detached: false`: `application/pkcs7-mime; smime-type=signed-data` (`smime.p7m`).
 * - Signed attributes, DER-sorted: contentType, messageDigest, signingTime, SMIMECapabilities (our ciphers,
 *   strongest first) and, when the signing certificate is not the sender's current encryption certificate, the
 *   encryption key preference naming it, both as RFC 8551 §2.5.3 and as Microsoft's 1.3.6.1.4.1.311.16.4.
 * - The certificates field holds the signing certificate, its intermediates and the current encryption certificate.
 * - RSA PKCS#1 v1.5 with SHA-256 by default (SHA-384/512 on request, RSA-PSS with `pss`), ECDSA P-256/384/521,
 *   Ed25519 (RFC 8419: always with SHA-512 as the message digest, micalg=sha-512). Never SHA-1.
 * - With `compress: true` the canonical entity is compressed first (RFC 3274, RFC 8551 §3.6) and the signed entity is
 *   its `application/pkcs7-mime; smime-type=compressed-data` wrapper.
 * - The signing identity must satisfy the algorithm policy (the store's, changed per call with `policy`): an RSA
 *   key below `minRsaBits` is not used.
 */
import type { CertificateStore } from './store/store.js';
import { buildSignedData } from './cms/signed.js';
import type { AlgorithmPolicy } from './crypto/policy.js';
import { buildPkcs7Mime } from './mime/pkcs7_mime.js';
import { buildMultipartSigned } from './mime/multipart_signed.js';
import { prepareForSigning } from './mime/prepare_for_signing.js';
import { checkProtectionOptions, signPayload, type HeaderProtectionOptions } from './ops/header_protection.js';
import { compressEntity } from './ops/compress.js';
import { signingSetup } from './ops/sign_setup.js';
import { toBytes, concat } from './lib/bytes.js';
import { inputLimits, mimeLimits, type Limits } from './lib/limits.js';

/** The digest algorithms `signMessage` signs with, spelled as WebCrypto spells them. */
export type SignDigest = 'SHA-256' | 'SHA-384' | 'SHA-512';


/** The options of `signMessage`. */
export interface SignOptions extends HeaderProtectionOptions {
  /** The store holding the signing identity (and its intermediates). */
  store: CertificateStore;
  /** Changes to the store's work limits for this call (`maxInputBytes` and the MIME limits apply; see `Limits`). */
  limits?: Partial<Limits>;
  /** The sender's address: the signing identity is chosen for it. */
  from: string;
  /** multipart/signed (default) or opaque application/pkcs7-mime signed-data. */
  detached?: boolean;
  /**
   * The digest algorithm for RSA and ECDSA signers. Default 'SHA-256'. An Ed25519 signer always uses SHA-512, as
   * RFC 8419 requires.
   */
  digest?: SignDigest;
  /** RSASSA-PSS instead of PKCS#1 v1.5 (RSA keys only; salt = hash length, MGF1 with the same hash). */
  pss?: boolean;
  /** The algorithm policy for this call, layered over the store's (e.g. `{ minRsaBits: 3072 }`). */
  policy?: Partial<AlgorithmPolicy>;
  /** WebCrypto implementation; default: the store's, else globalThis.crypto. */
  crypto?: Crypto;
  /**
   * Compress the entity before signing it (RFC 3274, RFC 8551 §3.6): the signed content is an
   * `application/pkcs7-mime; smime-type=compressed-data` entity holding the entity compressed with zlib.
   * `verifyMessage` and `openMessage` decompress it. Default false.
   */
  compress?: boolean;
}


/**
 * Signs a MIME message or entity with the sender's signing identity (chosen in the store for `options.from`):
 * `multipart/signed` by default, `application/pkcs7-mime; smime-type=signed-data` with `detached: false`. The
 * message headers stay outside; the signed entity is made canonical first. No usable identity:
 * `CertificateNotFound`.
 *
 * @example
 * ```ts
 * const signed = await signMessage(mime, { store, from: 'alice@example.com', digest: 'SHA-384' });
 * ```
 */
export async function signMessage(mime: Uint8Array | string, options: SignOptions): Promise<Uint8Array> {
  checkProtectionOptions('signMessage', options);
  let bytes: Uint8Array = new Uint8Array(0);
  let limits: Limits | undefined;
  const setup = await signingSetup('signMessage', options, () => {
    bytes = toBytes(mime, 'signMessage: mime');
    limits = inputLimits(bytes, 'signMessage', options.store.limits, options.limits);
  });
  const { crypto } = setup;

  const { outerHeaders, inner } = signPayload(bytes, options, mimeLimits(limits!));
  // Compress then sign (RFC 8551 §3.6): the canonical entity is compressed; its wrapper is 7-bit base64 already.
  const canonical = prepareForSigning(inner, mimeLimits(limits!));
  const entity = options.compress === true ? await compressEntity(canonical) : canonical;
  const detached = setup.detached;
  const sd = await buildSignedData(entity, { ...setup.params, encapsulate: !detached });
  if (!detached) return buildPkcs7Mime(outerHeaders, 'signed-data', sd.pieces);
  return buildMultipartSigned(outerHeaders, entity, concat(sd.pieces), setup.micalg, crypto);
}
