/**
 * Writing certs-only messages (RFC 8551 §3.6): the MIME entity `application/pkcs7-mime; smime-type=certs-only`
 * (`smime.p7c`) to mail one's certificates, and the bare `.p7c` / `.p7b` file in DER or PEM (`-----BEGIN PKCS7-----`,
 * as `openssl crl2pkcs7` writes). Reading them is `store.addCertificate` (and openMessage / verifyMessage say when a
 * message is one).
 */
import { CertificateInvalid } from './errors.js';
import { x509, type X509Certificate } from './certs/x509.js';
import { certInfo } from './certs/cert_info.js';
import { loadCertificates, type PemOrDer } from './certs/load.js';
import { latin1 } from './lib/bytes.js';
import { encodeBase64Lines } from './lib/base64.js';
import { buildCertsOnly } from './cms/certs_only.js';
import { buildCertsOnlyMime } from './mime/certs_only.js';

/** The options of {@link createCertsOnlyMessage}. */
export interface CertsOnlyMessageOptions {
  /** Header fields put before the MIME headers (From, To, Subject…); Content-* and MIME-Version are replaced. */
  headers?: Record<string, string>;
}

/** Every certificate's DER, validated (each must parse as an X.509 certificate). */
function ders(certificates: readonly (PemOrDer | X509Certificate)[], what: string): Uint8Array[] {
  if (!Array.isArray(certificates)) throw new TypeError(`${what}: certificates must be an array`);
  const out: Uint8Array[] = [];
  for (const c of certificates) {
    if (c instanceof x509.X509Certificate) out.push(new Uint8Array(c.rawData));
    else if (typeof c === 'string' || c instanceof Uint8Array || c instanceof ArrayBuffer) out.push(...loadCertificates(c));
    else throw new TypeError(`${what}: each certificate must be PEM, DER or an X509Certificate`);
  }
  if (out.length === 0) throw new CertificateInvalid(`${what}: no certificate to put in the certs-only message`);
  for (const d of out) certInfo(d); // CertificateInvalid for anything that is not a certificate
  return out;
}

/**
 * The certs-only MIME entity (RFC 8551 §3.6) carrying `certificates` (PEM, DER, PEM bundles or X509Certificate):
 * `Content-Type: application/pkcs7-mime; smime-type=certs-only; name="smime.p7c"`, `Content-Disposition: attachment;
 * filename="smime.p7c"`, base64 in 76-column CRLF lines, after `options.headers`. Duplicates are dropped; nothing is
 * signed. The receiver's `store.addCertificate` (or any S/MIME client) installs them.
 *
 * @example
 * ```ts
 * const entity = createCertsOnlyMessage([aliceCertPem, issuingCaPem], { headers: { From: 'alice@example.com', Subject: 'My certificate' } });
 * ```
 */
export function createCertsOnlyMessage(certificates: readonly (PemOrDer | X509Certificate)[], options: CertsOnlyMessageOptions = {}): Uint8Array {
  return buildCertsOnlyMime(buildCertsOnly(ders(certificates, 'createCertsOnlyMessage')), options?.headers ?? {});
}

/**
 * A `.p7c` / `.p7b` file holding `certificates`: a ContentInfo SignedData without signers or content, its
 * certificates as a DER SET. 'der' gives the bytes, 'pem' the text `-----BEGIN PKCS7-----` (64 columns, LF), as
 * OpenSSL writes. OpenSSL (`openssl pkcs7 -print_certs`), NSS and Bouncy Castle read both.
 *
 * @example
 * ```ts
 * const p7c = exportCertificates([bobCert], 'der') as Uint8Array;
 * const p7b = exportCertificates(chainPem ? [chainPem] : [], 'pem') as string;
 * ```
 */
export function exportCertificates(certificates: readonly (PemOrDer | X509Certificate)[], format: 'der' | 'pem'): Uint8Array | string {
  if (format !== 'der' && format !== 'pem') throw new TypeError(`exportCertificates: format must be 'der' or 'pem'`);
  const der = buildCertsOnly(ders(certificates, 'exportCertificates'));
  if (format === 'der') return der;
  const b64 = latin1(encodeBase64Lines(der, 64)).replace(/\r\n/g, '\n');
  return `-----BEGIN PKCS7-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END PKCS7-----\n`;
}
