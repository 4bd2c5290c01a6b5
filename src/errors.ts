/**
 * The error hierarchy of smime-core. Every failure caused by input (a message, a certificate, a password, an
 * algorithm) is a {@link SmimeError} subclass with a stable `code`, so callers can `switch (err.code)`.
 * Bad arguments (a wrong type, an out-of-range option) are plain `TypeError`/`RangeError`.
 *
 * No error message ever contains key material, passwords or decrypted content.
 */

/** The stable codes of the smime-core errors (`err.code`). */
export type SmimeErrorCode =
  | 'ERR_SMIME'
  | 'ERR_MIME_INVALID'
  | 'ERR_MIME_LIMIT_EXCEEDED'
  | 'ERR_CMS_INVALID'
  | 'ERR_CMS_LIMIT_EXCEEDED'
  | 'ERR_CMS_DECRYPTION_FAILED'
  | 'ERR_MISSING_RECIPIENT_CERTIFICATES'
  | 'ERR_CERTIFICATE_NOT_FOUND'
  | 'ERR_CERTIFICATE_INVALID'
  | 'ERR_PKCS12_INVALID'
  | 'ERR_PKCS12_BAD_PASSWORD'
  | 'ERR_PKCS12_LIMIT_EXCEEDED'
  | 'ERR_KEY_INVALID'
  | 'ERR_KEY_OPERATION_REFUSED'
  | 'ERR_STORE_INVALID'
  | 'ERR_STORE_BAD_PASSWORD'
  | 'ERR_TOKEN_PIN_INCORRECT'
  | 'ERR_TOKEN_NOT_FOUND'
  | 'ERR_TOKEN_UNAVAILABLE'
  | 'ERR_UNSUPPORTED_ALGORITHM';

/**
 * Base class of every error smime-core throws for bad input.
 *
 * @example
 * ```ts
 * try {
 *   await verifyMessage(message, { store });
 * } catch (e) {
 *   if (e instanceof SmimeError) console.log(e.code); // e.g. 'ERR_MIME_INVALID'
 * }
 * ```
 */
export class SmimeError extends Error {
  /** The class's code. */
  static code: SmimeErrorCode = 'ERR_SMIME';
  /** The error's code, stable across versions (the message is not). */
  readonly code: SmimeErrorCode = 'ERR_SMIME';

  constructor(message?: string, options?: { cause?: unknown }) {
    super(message ?? 'S/MIME operation failed', options);
    this.name = this.constructor.name;
    this.code = (this.constructor as typeof SmimeError).code;
  }
}

/**
 * The MIME structure is malformed: no body, a broken boundary, an invalid transfer encoding.
 *
 * @example
 * ```ts
 * await verifyMessage('not a signed message', { store }); // rejects with MIMEInvalid (ERR_MIME_INVALID)
 * ```
 */
export class MIMEInvalid extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_MIME_INVALID';
}

/** What a limit error carries: the key of the limits table that was hit (see `Limits`). */
export interface LimitErrorOptions {
  /** The name of the limit, e.g. 'maxSignerInfos'. */
  limit?: string;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * The common base of the limit errors (`MIMELimitExceeded`, `CMSLimitExceeded`, `Pkcs12LimitExceeded`): the input
 * asks for more work than a limit of the `Limits` table allows, and `limit` names it.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof LimitExceeded) console.log(`too much work: ${e.limit}`); }
 * ```
 */
export abstract class LimitExceeded extends SmimeError {
  /** The limit that was hit (a key of `Limits`), when known. */
  readonly limit: string | undefined;
  constructor(message?: string, options: LimitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.limit = options.limit;
  }
}

/**
 * The MIME input exceeds a configured size or nesting limit; `limit` names it.
 *
 * @example
 * ```ts
 * await verifyMessage(deeplyNested, { store, limits: { maxMimeDepth: 4 } }); // MIMELimitExceeded, limit 'maxMimeDepth'
 * ```
 */
export class MIMELimitExceeded extends LimitExceeded {
  static override code: SmimeErrorCode = 'ERR_MIME_LIMIT_EXCEEDED';
}

/**
 * The CMS (BER/DER) structure is malformed, truncated, or not what was expected.
 *
 * @example
 * ```ts
 * await decryptMessage(truncatedP7m, { store }); // rejects with CMSInvalid (ERR_CMS_INVALID)
 * ```
 */
export class CMSInvalid extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_CMS_INVALID';
}

/**
 * The CMS structure exceeds a parse limit (size, depth, element or item count); `limit` names it.
 *
 * @example
 * ```ts
 * await verifyMessage(message, { store, limits: { maxSignerInfos: 1 } }); // CMSLimitExceeded when it has two
 * ```
 */
export class CMSLimitExceeded extends LimitExceeded {
  static override code: SmimeErrorCode = 'ERR_CMS_LIMIT_EXCEEDED';
}

/**
 * No key in the store opens the message. The message is fixed and there is never a `cause`: RFC 3218 asks that
 * every decryption failure looks alike, so a caller (or an attacker) cannot tell which recipient or check failed.
 *
 * @example
 * ```ts
 * await decryptMessage(forSomeoneElse, { store }); // rejects with CMSDecryptionFailed
 * ```
 */
export class CMSDecryptionFailed extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_CMS_DECRYPTION_FAILED';
  constructor() {
    super('decryption failed: no key in the store opens this message');
  }
}

/**
 * Why a recipient has no usable encryption certificate: no certificate names the address (`none`), every one is
 * outside its validity (`expired`), not for encryption or too weak (`wrong-usage`), without a valid path to a trust
 * anchor (`untrusted`), the directory lookup for it failed or timed out (`lookup-failed`, the error on `cause`),
 * a CRL or an OCSP responder says it is revoked (`revoked`), or under the hard-fail online revocation policy nobody
 * could say whether it is (`revocation-unknown`).
 */
export type MissingReason = 'none' | 'expired' | 'wrong-usage' | 'untrusted' | 'lookup-failed' | 'revoked' | 'revocation-unknown';

/**
 * Encryption was refused because one or more recipients have no usable encryption certificate. Nothing was
 * encrypted. `missing` lists **every** such address; `reasons` says why for each.
 *
 * @example
 * ```ts
 * catch (e) {
 *   if (e instanceof MissingRecipientCertificatesError) console.log(e.missing, e.reasons); // ['carol@example.com'] { 'carol@example.com': 'none' }
 * }
 * ```
 */
export class MissingRecipientCertificatesError extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_MISSING_RECIPIENT_CERTIFICATES';
  /** Every recipient address without a usable encryption certificate. */
  readonly missing: string[];
  /** Why, for each address of `missing`. */
  readonly reasons: Record<string, MissingReason>;

  constructor(reasons: Record<string, MissingReason>, options?: { cause?: unknown }) {
    const missing = Object.keys(reasons);
    super(
      `no usable encryption certificate for ${missing.length} recipient${missing.length === 1 ? '' : 's'}: ` +
        missing.map((a) => `${a} (${reasons[a]})`).join(', '),
      options,
    );
    this.missing = missing;
    this.reasons = reasons;
  }
}

/**
 * No certificate in the store fits the request (for example no signing identity for an address).
 *
 * @example
 * ```ts
 * await signMessage(mime, { store, from: 'nobody@example.com' }); // rejects with CertificateNotFound
 * ```
 */
export class CertificateNotFound extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_CERTIFICATE_NOT_FOUND';
}

/**
 * A certificate could not be parsed or is unusable.
 *
 * @example
 * ```ts
 * await store.addCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'); // CertificateInvalid
 * ```
 */
export class CertificateInvalid extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_CERTIFICATE_INVALID';
}

/**
 * A PKCS#12 file is malformed or uses an unknown structure.
 *
 * @example
 * ```ts
 * await store.importPkcs12(new Uint8Array([1, 2, 3]), 'password'); // rejects with Pkcs12Invalid
 * ```
 */
export class Pkcs12Invalid extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_PKCS12_INVALID';
}

/**
 * The PKCS#12 password is wrong (the MAC or the decryption failed).
 *
 * @example
 * ```ts
 * await store.importPkcs12(p12, 'wrong'); // rejects with Pkcs12BadPassword (ERR_PKCS12_BAD_PASSWORD)
 * ```
 */
export class Pkcs12BadPassword extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_PKCS12_BAD_PASSWORD';
  constructor() {
    super('PKCS#12: wrong password (integrity check failed)');
  }
}

/**
 * A PKCS#12 file asks for more work than the limits allow (for example its iteration count); `limit` names it.
 *
 * @example
 * ```ts
 * await store.importPkcs12(p12, 'pw', { limits: { maxPbkdf2Iterations: 1000 } }); // Pkcs12LimitExceeded for a file asking more
 * ```
 */
export class Pkcs12LimitExceeded extends LimitExceeded {
  static override code: SmimeErrorCode = 'ERR_PKCS12_LIMIT_EXCEEDED';
}

/**
 * A private key could not be parsed or does not match its certificate.
 *
 * @example
 * ```ts
 * await store.importIdentity(aliceCertPem, bobKeyPem); // rejects with KeyInvalid: the key is not the certificate's
 * ```
 */
export class KeyInvalid extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_KEY_INVALID';
}

/**
 * A private key that smime-core does not hold (an `ExternalKey`: a token, a secure element, a keychain, a remote
 * signing service, or a non-extractable CryptoKey) refused or could not do an operation: a mechanism the token does
 * not offer, a key whose attributes forbid it (CKA_SIGN false), a user who cancelled. The message names the
 * operation and the key's reason, never a secret. Decryption failures that could depend on the ciphertext (a bad
 * padding from a key that only does PKCS#1 v1.5 or OAEP itself) are never reported this way: they look like any
 * other `CMSDecryptionFailed`.
 *
 * @example
 * ```ts
 * await signMessage(mail, { store, from }); // rejects with KeyOperationRefused when the token's key cannot sign
 * ```
 */
export class KeyOperationRefused extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_KEY_OPERATION_REFUSED';
}

/**
 * A saved store (`CertificateStore.import`) is not one: malformed, truncated, of an unknown version, or modified
 * after it was written (its authentication fails with the right password is reported as this or as
 * `StoreBadPassword`: the format cannot tell them apart, and neither yields a partial store).
 *
 * @example
 * ```ts
 * await CertificateStore.import(truncatedBytes, { password }); // rejects with StoreInvalid
 * ```
 */
export class StoreInvalid extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_STORE_INVALID';
}

/**
 * A saved store's password is wrong (or the file was modified: its authentication fails either way).
 *
 * @example
 * ```ts
 * await CertificateStore.import(bytes, { password: 'wrong' }); // rejects with StoreBadPassword
 * ```
 */
export class StoreBadPassword extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_STORE_BAD_PASSWORD';
}

/**
 * A token (PKCS#11 smart card, HSM, PIV) refused the PIN: wrong, locked, or expired. The PIN is never in the message.
 *
 * @example
 * ```ts
 * await openPkcs11Token({ module, token: 'mail', pin: '0000' }); // rejects with TokenPinIncorrect
 * ```
 */
export class TokenPinIncorrect extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_TOKEN_PIN_INCORRECT';
}

/**
 * No token matches the request: no slot with that token label or number, or no token present.
 *
 * @example
 * ```ts
 * await openPkcs11Token({ module, token: 'no such label', pin }); // rejects with TokenNotFound
 * ```
 */
export class TokenNotFound extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_TOKEN_NOT_FOUND';
}

/**
 * A token or its module cannot be used: the module does not load, the token was removed, the session was closed
 * (`close()`), or the device reported an error.
 *
 * @example
 * ```ts
 * await token.close(); await signMessage(mail, { store, from }); // rejects with TokenUnavailable
 * ```
 */
export class TokenUnavailable extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_TOKEN_UNAVAILABLE';
}

/**
 * The algorithm (named by its OID in the message) is not implemented.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof UnsupportedAlgorithm) console.log(e.oid); } // e.g. '1.2.840.10040.4.3' (DSA)
 * ```
 */
export class UnsupportedAlgorithm extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_UNSUPPORTED_ALGORITHM';
  /** The algorithm's OID, when the input named one. */
  readonly oid: string | undefined;
  constructor(what: string, oid?: string) {
    super(`unsupported algorithm: ${what}${oid && !what.includes(oid) ? ` (${oid})` : ''}`);
    this.oid = oid;
  }
}

/** Every smime-core error class, for `switch (err.code)` with narrowing. */
export type AnySmimeError =
  | MIMEInvalid
  | MIMELimitExceeded
  | CMSInvalid
  | CMSLimitExceeded
  | CMSDecryptionFailed
  | MissingRecipientCertificatesError
  | CertificateNotFound
  | CertificateInvalid
  | Pkcs12Invalid
  | Pkcs12BadPassword
  | Pkcs12LimitExceeded
  | KeyInvalid
  | KeyOperationRefused
  | StoreInvalid
  | StoreBadPassword
  | TokenPinIncorrect
  | TokenNotFound
  | TokenUnavailable
  | UnsupportedAlgorithm;

/**
 * True when `e` is a smime-core error.
 *
 * @example
 * ```ts
 * catch (e) { if (isSmimeError(e)) report(e.code); else throw e; }
 * ```
 */
export function isSmimeError(e: unknown): e is SmimeError {
  return e instanceof SmimeError;
}
