/**
 * The exit codes of the `smime` command: one table from an error's code to the exit code, used by main.ts and printed
 * in the README's CLI section and by `smime --help`. Later features extend the table; a code never changes meaning.
 */
import type { SmimeErrorCode } from '../index.node.js';

/** The exit codes, by what happened. */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** Verification failed: a signer is not `valid` (or there is none). */
  verifyFailed: 1,
  /** Usage: an unknown command or option, a missing or malformed value, a file given as the wrong kind. */
  usage: 2,
  /** Missing certificates: no usable certificate for a recipient (or, for sign, for --from). */
  missingCertificate: 3,
  /** Decryption failed: none of the identities opens the message (or its content is corrupt). */
  decryptionFailed: 4,
  /** Bad input: not S/MIME, malformed, an unsupported algorithm, over a limit. */
  badInput: 5,
  /** I/O: a file that cannot be read or written. */
  io: 6,
  /** A secret refused: a wrong password, or none given where the empty one does not open the file. */
  secretRefused: 7,
  /** A key or token unavailable: no such token, a token removed or closed, a key that refused the operation. */
  keyUnavailable: 8,
  /** An error of smime itself (a bug): please report it. */
  internal: 70,
  /** stdout's reader went away early (`| head`): 128 + SIGPIPE, quietly. */
  pipe: 141,
} as const;

/** The exit code of each smime-core error code. */
export const EXIT_BY_ERROR_CODE: Readonly<Record<SmimeErrorCode, number>> = Object.freeze({
  ERR_SMIME: EXIT.badInput,
  ERR_MIME_INVALID: EXIT.badInput,
  ERR_MIME_LIMIT_EXCEEDED: EXIT.badInput,
  ERR_CMS_INVALID: EXIT.badInput,
  ERR_CMS_LIMIT_EXCEEDED: EXIT.badInput,
  ERR_CMS_DECRYPTION_FAILED: EXIT.decryptionFailed,
  ERR_MISSING_RECIPIENT_CERTIFICATES: EXIT.missingCertificate,
  ERR_CERTIFICATE_NOT_FOUND: EXIT.missingCertificate,
  ERR_CERTIFICATE_INVALID: EXIT.badInput,
  ERR_PKCS12_INVALID: EXIT.badInput,
  ERR_PKCS12_BAD_PASSWORD: EXIT.secretRefused,
  ERR_PKCS12_LIMIT_EXCEEDED: EXIT.badInput,
  ERR_KEY_INVALID: EXIT.badInput,
  ERR_KEY_OPERATION_REFUSED: EXIT.keyUnavailable,
  ERR_STORE_INVALID: EXIT.badInput,
  ERR_STORE_BAD_PASSWORD: EXIT.secretRefused,
  ERR_TOKEN_PIN_INCORRECT: EXIT.secretRefused,
  ERR_TOKEN_NOT_FOUND: EXIT.keyUnavailable,
  ERR_TOKEN_UNAVAILABLE: EXIT.keyUnavailable,
  ERR_UNSUPPORTED_ALGORITHM: EXIT.badInput,
});

/** The exit code table as `smime --help` prints it (and the README shows it). */
export const EXIT_TABLE = `exit codes:
  0    done
  1    verification failed: a signer not valid, or no signer
  2    usage: unknown command or option, bad value, a file given as the wrong kind
  3    missing certificate: no usable certificate for a recipient (ERR_MISSING_RECIPIENT_CERTIFICATES),
       or for the signer (ERR_CERTIFICATE_NOT_FOUND)
  4    decryption failed (ERR_CMS_DECRYPTION_FAILED)
  5    bad input: not S/MIME, malformed, unsupported, over a limit (ERR_MIME_*, ERR_CMS_INVALID,
       ERR_CMS_LIMIT_EXCEEDED, ERR_CERTIFICATE_INVALID, ERR_PKCS12_INVALID, ERR_PKCS12_LIMIT_EXCEEDED,
       ERR_KEY_INVALID, ERR_UNSUPPORTED_ALGORITHM, ERR_STORE_INVALID)
  6    I/O: a file cannot be read or written
  7    a secret refused: wrong password or PIN, or none given (ERR_PKCS12_BAD_PASSWORD,
       ERR_TOKEN_PIN_INCORRECT, ERR_STORE_BAD_PASSWORD)
  8    a key or token unavailable: no such token, token removed or closed, a key that refused the
       operation (ERR_TOKEN_NOT_FOUND, ERR_TOKEN_UNAVAILABLE, ERR_KEY_OPERATION_REFUSED)
  70   an error of smime itself (a bug: please report it)
  141  stdout closed early by its reader (e.g. | head), quietly
`;
