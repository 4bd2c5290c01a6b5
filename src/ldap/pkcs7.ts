/**
 * The certificates of a PKCS#7/CMS certs-only SignedData as a directory holds it (`userSMIMECertificate`, RFC 2798):
 * ContentInfo { signedData, [0] SignedData { …, [0] IMPLICIT certificates, … } }. Only the certificate choices
 * (SEQUENCE) are kept; attribute certificates and other choices are skipped.
 */
import { children, decodeOid, expect, readTlv, CONTEXT, TAG } from '../lib/der.js';

const SIGNED_DATA = '1.2.840.113549.1.7.2';

/**
 * The DER certificates a certs-only PKCS#7 carries (at most `max`); throws a `CMSInvalid` on malformed input.
 *
 * @example
 * ```ts
 * const ders = certificatesOfPkcs7(value, 100);
 * ```
 */
export function certificatesOfPkcs7(der: Uint8Array, max: number): Uint8Array[] {
  const ci = expect(readTlv(der, 0), TAG.SEQUENCE, 'ContentInfo');
  const [type, content] = children(der, ci);
  if (decodeOid(der, expect(type, TAG.OID, 'contentType')) !== SIGNED_DATA) return [];
  const sd = expect(children(der, expect(content, 0, '[0] content', CONTEXT))[0], TAG.SEQUENCE, 'SignedData');
  const certs = children(der, sd).find((t) => t.cls === CONTEXT && t.tagNo === 0 && t.constructed);
  if (!certs) return [];
  const out: Uint8Array[] = [];
  for (const c of children(der, certs)) {
    if (out.length >= max) break;
    if (c.cls === 0 && c.tagNo === TAG.SEQUENCE) out.push(der.slice(c.start, c.end));
  }
  return out;
}
