/**
 * addCertificate's certs-only input (RFC 8551 §3.6): a certs-only SignedData as DER or BER, as PEM `PKCS7` / `CMS`
 * text (with any `CERTIFICATE` blocks beside it), or as a MIME entity `application/pkcs7-mime;
 * smime-type=certs-only` (a `.p7c` attachment). Everything is parsed before the store changes: one bad certificate
 * or CRL refuses the whole input. The certificate count is bounded by `maxPemCertificates` (a bundle given to the
 * store), the CRLs by `maxCrls`.
 */
import { CertificateInvalid, CMSLimitExceeded, MIMEInvalid, SmimeError } from '../errors.js';
import { latin1, toBytes } from '../lib/bytes.js';
import { children, readTlv, TAG, withBerLimits } from '../lib/der.js';
import { berLimits, mimeLimits, type Limits } from '../lib/limits.js';
import { pemBlocks } from '../lib/pem.js';
import { certInfo, type CertInfo } from '../certs/cert_info.js';
import { parseCrl, type ParsedCrl } from '../certs/crl.js';
import type { PemOrDer } from '../certs/load.js';
import { CERTS_ONLY_PEM_LABELS, readCertsOnly, type CertsOnlyContent } from '../cms/certs_only.js';
import { certsOnlyOfEntity } from '../mime/certs_only.js';
import { looksLikeMimeEntity } from '../mime/looks_like_entity.js';
import { extractCms } from '../mime/extract.js';

const CERT_LABELS = ['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE'];

/** The certificates and CRLs of a certs-only input, parsed. */
export interface CertsOnlyInput {
  certificates: CertInfo[];
  crls: ParsedCrl[];
}

/** DER/BER whose outer SEQUENCE starts with an OID: a ContentInfo (of any type), not a certificate. */
function isContentInfo(b: Uint8Array, limits: Limits): boolean {
  try {
    return withBerLimits(berLimits(limits), () => {
      const top = readTlv(b, 0);
      const first = children(b, top)[0];
      return first !== undefined && first.cls === 0 && first.tagNo === TAG.OID;
    });
  } catch {
    return false;
  }
}

function parsed(content: CertsOnlyContent, extraCerts: Uint8Array[] = []): CertsOnlyInput {
  const certificates = [...content.certificates, ...extraCerts].map((d) => certInfo(d));
  let crls: ParsedCrl[];
  try {
    crls = content.crls.map((d) => parseCrl(d));
  } catch (e) {
    if (e instanceof CertificateInvalid || !(e instanceof SmimeError)) throw e;
    throw new CertificateInvalid(`certs-only: malformed CRL: ${e.message}`, { cause: e });
  }
  return { certificates, crls };
}

/**
 * The certificates and CRLs of `input` when it is a certs-only SignedData (DER/BER, PEM, or MIME entity); undefined
 * when it is something else (a certificate, a PEM bundle of certificates, a MIME entity that is not S/MIME), for the
 * caller's usual path. A SignedData with signers or content, or another CMS type (also as an application/pkcs7-mime
 * entity), is CMSInvalid saying what it is (its certificates are not taken: verify the message instead).
 */
export function readCertsOnlyInput(input: PemOrDer, limits: Limits): CertsOnlyInput | undefined {
  const bytes = typeof input === 'string' ? undefined : toBytes(input);
  if (bytes && bytes.length > 0 && bytes[0] === 0x30) {
    return isContentInfo(bytes, limits) ? parsed(readCertsOnly(bytes, limits, 'maxPemCertificates')) : undefined;
  }
  const text = typeof input === 'string' ? input : latin1(bytes!);
  if (/-----BEGIN (PKCS7|CMS|PKCS #7 SIGNED DATA)-----/.test(text)) {
    const content: CertsOnlyContent = { certificates: [], crls: [] };
    const extra: Uint8Array[] = [];
    for (const b of pemBlocks(text)) {
      if (CERTS_ONLY_PEM_LABELS.includes(b.label)) {
        const c = readCertsOnly(b.der, { ...limits, maxPemCertificates: limits.maxPemCertificates - content.certificates.length }, 'maxPemCertificates');
        content.certificates.push(...c.certificates);
        content.crls.push(...c.crls);
      } else if (CERT_LABELS.includes(b.label)) extra.push(b.der);
      if (content.certificates.length + extra.length > limits.maxPemCertificates) {
        throw new CMSLimitExceeded(`addCertificate: more than maxPemCertificates (${limits.maxPemCertificates}) certificates`, { limit: 'maxPemCertificates' });
      }
    }
    return parsed(content, extra);
  }
  // Only the header section decides whether this is a MIME entity: a large PEM bundle given as a string is not
  // encoded whole just to be told it is not one (the bench's 100 000-certificate bundle).
  if (!looksLikeMimeEntity(bytes ?? toBytes(text.slice(0, limits.maxHeaderBytes)), limits.maxHeaderBytes)) return undefined;
  const mime = bytes ?? toBytes(text);
  let der = certsOnlyOfEntity(mime, mimeLimits(limits));
  if (der === undefined) {
    // Another S/MIME entity (signed-data, enveloped-data, no smime-type): read as a certs-only, which says what it is.
    try {
      der = extractCms(mime, mimeLimits(limits)).der;
    } catch (e) {
      if (e instanceof MIMEInvalid) return undefined; // not S/MIME: the caller's "no certificate found"
      throw e;
    }
  }
  return parsed(readCertsOnly(der, limits, 'maxPemCertificates'));
}
