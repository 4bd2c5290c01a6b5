/**
 * The error hierarchy of smime-core. Every failure caused by input (a message, a certificate, a password, an
 * algorithm) is a {@link SmimeError} subclass with a stable `code`, so callers can `switch (err.code)`.
 * Bad arguments (a wrong type, an out-of-range option) are plain `TypeError`/`RangeError`.
 *
 * No error message ever contains key material, passwords or decrypted content.
 */

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
  | 'ERR_UNSUPPORTED_ALGORITHM';

/** Base class of every error smime-core throws for bad input. */
export class SmimeError extends Error {
  static code: SmimeErrorCode = 'ERR_SMIME';
  readonly code: SmimeErrorCode = 'ERR_SMIME';

  constructor(message?: string, options?: { cause?: unknown }) {
    super(message ?? 'S/MIME operation failed', options);
    this.name = this.constructor.name;
    this.code = (this.constructor as typeof SmimeError).code;
  }
}

/** The MIME structure is malformed: no body, a broken boundary, an invalid transfer encoding. */
export class MIMEInvalid extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_MIME_INVALID';
}

/** What a limit error carries: the key of the limits table that was hit (see `Limits`). */
export interface LimitErrorOptions {
  /** The name of the limit, e.g. 'maxSignerInfos'. */
  limit?: string;
  cause?: unknown;
}

/**
 * The common base of the limit errors (`MIMELimitExceeded`, `CMSLimitExceeded`, `Pkcs12LimitExceeded`): the input
 * asks for more work than a limit of the `Limits` table allows, and `limit` names it.
 */
export abstract class LimitExceeded extends SmimeError {
  /** The limit that was hit (a key of `Limits`), when known. */
  readonly limit: string | undefined;
  constructor(message?: string, options: LimitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.limit = options.limit;
  }
}

/** The MIME input exceeds a configured size or nesting limit; `limit` names it. */
export class MIMELimitExceeded extends LimitExceeded {
  static override code: SmimeErrorCode = 'ERR_MIME_LIMIT_EXCEEDED';
}

/** The CMS (BER/DER) structure is malformed, truncated, or not what was expected. */
export class CMSInvalid extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_CMS_INVALID';
}

/** The CMS structure exceeds a parse limit (size, depth, element or item count); `limit` names it. */
export class CMSLimitExceeded extends LimitExceeded {
  static override code: SmimeErrorCode = 'ERR_CMS_LIMIT_EXCEEDED';
}

/**
 * No key in the store opens the message. The message is fixed and there is never a `cause`: RFC 3218 asks that
 * every decryption failure looks alike, so a caller (or an attacker) cannot tell which recipient or check failed.
 */
export class CMSDecryptionFailed extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_CMS_DECRYPTION_FAILED';
  constructor() {
    super('decryption failed: no key in the store opens this message');
  }
}

/** Why a recipient has no usable encryption certificate. */
export type MissingReason = 'none' | 'expired' | 'wrong-usage' | 'untrusted';

/**
 * Encryption was refused because one or more recipients have no usable encryption certificate. Nothing was
 * encrypted. `missing` lists **every** such address; `reasons` says why for each.
 */
export class MissingRecipientCertificatesError extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_MISSING_RECIPIENT_CERTIFICATES';
  readonly missing: string[];
  readonly reasons: Record<string, MissingReason>;

  constructor(reasons: Record<string, MissingReason>) {
    const missing = Object.keys(reasons);
    super(
      `no usable encryption certificate for ${missing.length} recipient${missing.length === 1 ? '' : 's'}: ` +
        missing.map((a) => `${a} (${reasons[a]})`).join(', '),
    );
    this.missing = missing;
    this.reasons = reasons;
  }
}

/** No certificate in the store fits the request (for example no signing identity for an address). */
export class CertificateNotFound extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_CERTIFICATE_NOT_FOUND';
}

/** A certificate could not be parsed or is unusable. */
export class CertificateInvalid extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_CERTIFICATE_INVALID';
}

/** A PKCS#12 file is malformed or uses an unknown structure. */
export class Pkcs12Invalid extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_PKCS12_INVALID';
}

/** The PKCS#12 password is wrong (the MAC or the decryption failed). */
export class Pkcs12BadPassword extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_PKCS12_BAD_PASSWORD';
  constructor() {
    super('PKCS#12: wrong password (integrity check failed)');
  }
}

/** A PKCS#12 file asks for more work than the limits allow (for example its iteration count); `limit` names it. */
export class Pkcs12LimitExceeded extends LimitExceeded {
  static override code: SmimeErrorCode = 'ERR_PKCS12_LIMIT_EXCEEDED';
}

/** A private key could not be parsed or does not match its certificate. */
export class KeyInvalid extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_KEY_INVALID';
}

/** The algorithm (named by its OID in the message) is not implemented. */
export class UnsupportedAlgorithm extends SmimeError {
  static override code: SmimeErrorCode = 'ERR_UNSUPPORTED_ALGORITHM';
  readonly oid: string | undefined;
  constructor(what: string, oid?: string) {
    super(`unsupported algorithm: ${what}${oid && !what.includes(oid) ? ` (${oid})` : ''}`);
    this.oid = oid;
  }
}

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
  | UnsupportedAlgorithm;

/** True when `e` is a smime-core error. */
export function isSmimeError(e: unknown): e is SmimeError {
  return e instanceof SmimeError;
}
