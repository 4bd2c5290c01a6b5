/**
 * NIST PKITS helpers for tests: the suite's signed messages (`../shared/vectors/pkits/smime/Signed<Test>.eml`),
 * their SignedData's certificates and CRLs, the trust anchor, and a test's certification path in RFC 5280 §6.1
 * order (the certificate the anchor issued first, the end entity last; the anchor itself left out), found by name
 * chaining (RFC 5280 §7.1) and key identifiers only: no signature is checked, so it serves tests of one check
 * (policies, name constraints, CRLs) on paths whose shape PKITS.pdf gives.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { certInfo, type CertInfo } from '../../src/certs/cert_info.js';
import { namesMatch } from '../../src/certs/names.js';
import { refMatches } from '../../src/cms/attributes.js';
import { parseSignedData, type ParsedSignedData } from '../../src/cms/signed.js';
import { equal } from '../../src/lib/bytes.js';
import { parseMultipartSigned } from '../../src/mime/multipart_signed.js';
import { shared, SHARED_VECTORS } from './env.js';

/** Inside every PKITS certificate's and CRL's validity (2010–2030). */
export const PKITS_AT = new Date('2020-01-01T00:00:00Z');

/** The DER of the PKITS trust anchor certificate. */
export const pkitsAnchorDer = (): Uint8Array => shared('pkits/certs/TrustAnchorRootCertificate.crt');

/** The PKITS trust anchor, parsed. */
export const pkitsAnchor = (): CertInfo => certInfo(pkitsAnchorDer());

/** The names of all 224 PKITS tests, as in the message file names without `Signed` and `.eml`. */
export function pkitsTests(): string[] {
  return readdirSync(join(SHARED_VECTORS, 'pkits', 'smime'))
    .filter((f) => f.startsWith('Signed') && f.endsWith('.eml'))
    .map((f) => f.slice('Signed'.length, -'.eml'.length))
    .sort();
}

/** The signed message of a test (e.g. `ValidBasicSelfIssuedOldWithNewTest1`). */
export const pkitsMessage = (test: string): Uint8Array => shared(`pkits/smime/Signed${test}.eml`);

/** The SignedData of a test's message: its certificates (parsed) and CRLs (DER). */
export function pkitsSignedData(test: string): ParsedSignedData {
  return parseSignedData(parseMultipartSigned(pkitsMessage(test)).signature);
}

/** A PKITS certificate or CRL file by name (`certs/…crt`, `crls/…crl`). */
export const pkitsCert = (name: string): CertInfo => certInfo(shared(`pkits/certs/${name}.crt`));
export const pkitsCrl = (name: string): Uint8Array => shared(`pkits/crls/${name}.crl`);

/** The signer's certificate of a test's message. */
export function pkitsSigner(test: string): CertInfo {
  const sd = pkitsSignedData(test);
  const si = sd.signerInfos[0]!;
  const c = sd.certificates.find((x) => refMatches(si.sid, x));
  if (!c) throw new Error(`${test}: the signer's certificate is not in the message`);
  return c;
}

/**
 * The test's certification path in RFC 5280 §6.1 order, anchor excluded: from the certificate the anchor issued to
 * the signer's. Each issuer is the first certificate of the message whose subject matches the issuer name (and
 * whose subjectKeyIdentifier matches the authorityKeyIdentifier, when both are present), other than the
 * certificate itself. Throws when the chain does not reach the anchor within 10 certificates.
 */
export function pkitsPath(test: string): CertInfo[] {
  const sd = pkitsSignedData(test);
  const anchor = pkitsAnchor();
  const out: CertInfo[] = [];
  let cert = pkitsSigner(test);
  for (let n = 0; n < 10; n++) {
    out.unshift(cert);
    if (namesMatch(cert.issuer, anchor.subject) && (!cert.aki || !anchor.ski || equal(cert.aki, anchor.ski))) return out;
    const c = cert;
    const next = sd.certificates.find(
      (x) => x !== c && !equal(x.der, c.der) && namesMatch(c.issuer, x.subject) && (!c.aki || !x.ski || equal(c.aki, x.ski)),
    );
    if (!next) throw new Error(`${test}: no issuer for a certificate of the path in the message`);
    cert = next;
  }
  throw new Error(`${test}: the path does not reach the trust anchor`);
}
