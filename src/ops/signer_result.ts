/**
 * What a verification reports about each signer: its status (one, the worst that applies) and every finding.
 * Shared by verifyMessage and openMessage.
 */
import type { X509Certificate } from '../certs/x509.js';

/**
 * A signer's status. When several apply, the one reported is the first in this order (the order of the issue that
 * defines them), which is also the order of severity:
 *
 *   invalid > untrusted > expired > revoked > wrong-usage > address-mismatch   (then valid, when none applies)
 *
 * "Report the worst applicable status, in the order listed": the list `valid, invalid, untrusted, expired, revoked,
 * wrong-usage, address-mismatch` is read as a precedence list, the earlier the worse, `valid` being what is left when
 * nothing applies. Each status makes the ones after it moot: when the signature does not hold (`invalid`), nothing
 * about the certificate means anything; when the certificate does not chain to a trust anchor (`untrusted`), its
 * dates, revocation, usage bits and addresses are the signer's own claims; an `expired` certificate is no longer
 * listed on CRLs; and so on. The other reading (the last listed is the worst) would report a tampered message from
 * a mismatched address as `address-mismatch`, hiding the tampering. Every finding is listed in `reasons` anyway.
 */
export type SignerStatus = 'valid' | 'invalid' | 'untrusted' | 'expired' | 'revoked' | 'wrong-usage' | 'address-mismatch';

/** The statuses, worst first (see {@link SignerStatus}). */
export const STATUS_PRECEDENCE: readonly Exclude<SignerStatus, 'valid'>[] = [
  'invalid',
  'untrusted',
  'expired',
  'revoked',
  'wrong-usage',
  'address-mismatch',
];

/** One signer of a signed layer, as verifyMessage and openMessage report it. */
export interface SignerResult {
  /** The signer's address: the one matching From when there is one, else the certificate's first address. */
  email?: string;
  /** Every address of the signer's certificate. */
  emails: string[];
  /** The signer's certificate; undefined when neither the message nor the store has it. */
  certificate?: X509Certificate;
  /** The worst status that applies (see {@link SignerStatus}). */
  status: SignerStatus;
  /** The signingTime attribute, when present (a claim of the signer). */
  signingTime?: Date;
  /**
   * Every finding, e.g. 'digest-mismatch', 'signature-mismatch', 'weak-algorithm', 'weak-key' (an RSA key below the
   * policy's minRsaBits), 'unsupported-algorithm: <oid>', 'signing-certificate-mismatch' (the ESS signing-certificate
   * attribute names another certificate), 'malformed-attribute: signingCertificate', 'non-der-signed-attributes'
   * (the signature holds only over non-DER bytes, which OpenSSL, NSS and Bouncy Castle refuse),
   * 'signer-certificate-not-found', 'no-chain-to-trust-anchor', 'path-building-limit' (the path-building budget of
   * the call ran out: see `Limits`), 'certificate-expired' (followed by '; valid at claimed signing time <iso>' when
   * it was), 'certificate-not-yet-valid', 'issuer-expired', the path validation reasons of RFC 5280 §6 ('not-a-ca',
   * 'path-length-exceeded', 'ca-key-usage: keyCertSign', 'name-constraints-violated: <form> <name>',
   * 'no-acceptable-policy', 'policy-mapping-invalid', 'unknown-critical-extension: <oid>', 'malformed-extension:
   * <name>', 'policy-tree-limit', 'name-constraints-limit', 'revocation-unknown: <why>' and
   * 'issuer-revocation-unknown: <why>': see the README, "Path validation"), 'revoked: <date> (reason <code>)',
   * 'issuer-revoked: <date>…', 'wrong-usage: keyUsage', 'wrong-usage: extendedKeyUsage', 'address-mismatch: <the From
   * addresses the certificate lacks>', 'address-mismatch: two From headers', 'address-mismatch: unparsable From',
   * 'address-mismatch: From has no mailbox', 'address-mismatch: no From'. Not a problem but reported too:
   * 'trusted-explicitly' (no path to an anchor, but the user trusts the certificate: `CertificateStore.trustCertificate`),
   * and 'outer-from-differs' (the signed entity carries protected header fields, RFC 9788: its From is the one bound,
   * and the message's outer From names other mailboxes).
   */
  reasons: string[];
  /**
   * The user-constrained policy set of the signer's valid path (RFC 5280 §6.1.6): the certificate policy OIDs the
   * path is good for, among those asked for; ['2.5.29.32.0'] (anyPolicy) when nothing constrains it, [] when the
   * path asserts no policy (and none was required). Absent when there is no valid path.
   */
  policies?: string[];
  /** The digest algorithm, e.g. 'SHA-256'. */
  digestAlgorithm?: string;
  /** The signature algorithm OID. */
  signatureAlgorithm: string;
}
