/**
 * Certs-only SignedData (RFC 8551 §3.6, RFC 5652 §5): a SignedData with no signers and no content whose only purpose
 * is to carry certificates (and CRLs): the `.p7c` / `.p7b` file, `openssl crl2pkcs7` output, LDAP's
 * `userSMIMECertificate`.
 *
 * Written in DER (the certificates SET OF sorted as DER requires, which OpenSSL, NSS and Bouncy Castle all read);
 * read from DER or BER (indefinite lengths, as Outlook and `openssl crl2pkcs7` write). The number of certificates
 * and CRLs is checked against the limit the caller names before any of them is copied. A SignedData with a signer
 * or an encapsulated content is a signed message, not certs-only: CMSInvalid.
 */
import { CMSInvalid, CMSLimitExceeded } from '../errors.js';
import { berLimits, DEFAULT_LIMITS, type Limits } from '../lib/limits.js';
import { copyBytes, latin1 } from '../lib/bytes.js';
import { pemBlocks } from '../lib/pem.js';
import { children, decodeOid, integer, oid, readTlv, seq, set, sortDerSet, stringContent, TAG, tlv, withBerLimits, type Tlv } from '../lib/der.js';
import { OIDS, oidName } from './oids.js';

/** The PEM labels a certs-only SignedData is found under (OpenSSL writes PKCS7, some tools CMS). */
export const CERTS_ONLY_PEM_LABELS: readonly string[] = ['PKCS7', 'CMS', 'PKCS #7 SIGNED DATA'];

/** What a certs-only SignedData carries. */
export interface CertsOnlyContent {
  /** Each certificate's DER (a fresh copy), in the order of the SET. Other certificate formats are skipped. */
  certificates: Uint8Array[];
  /** Each CRL's DER (a fresh copy); other revocation formats are skipped. */
  crls: Uint8Array[];
}

/**
 * Builds a certs-only ContentInfo (DER): SignedData version 1, no digest algorithms, eContentType id-data without
 * content, the certificates (duplicates dropped, DER SET order), optionally CRLs, and no SignerInfo.
 *
 * @example
 * ```ts
 * const p7c = buildCertsOnly([leafDer, issuingCaDer]);
 * ```
 */
export function buildCertsOnly(certificates: readonly Uint8Array[], crls: readonly Uint8Array[] = []): Uint8Array {
  const uniq = (list: readonly Uint8Array[]): Uint8Array[] => {
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    for (const d of list) {
      const k = Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
      if (!seen.has(k)) {
        seen.add(k);
        out.push(d);
      }
    }
    return sortDerSet(out);
  };
  const body = [
    integer(1),
    set(),
    seq(oid(OIDS.data)),
    ...(certificates.length ? [tlv(0xa0, ...uniq(certificates))] : []),
    ...(crls.length ? [tlv(0xa1, ...uniq(crls))] : []),
    set(),
  ];
  return seq(oid(OIDS.signedData), tlv(0xa0, seq(...body)));
}

/** An [0] EXPLICIT eContent holding an OCTET STRING of no bytes (primitive, or constructed without chunks). */
function isEmptyContent(der: Uint8Array, t: Tlv): boolean {
  if (t.cls !== 2 || t.tagNo !== 0) return false;
  const os = children(der, t);
  if (os.length !== 1 || os[0]!.cls !== 0 || os[0]!.tagNo !== TAG.OCTET_STRING) return false;
  return stringContent(der, os[0]).length === 0;
}

/** `n` items over `limits[key]`: CMSLimitExceeded naming the key. */
function checkCount(n: number, key: keyof Limits, limits: Limits, what: string): void {
  if (n > limits[key]) throw new CMSLimitExceeded(`certs-only: ${n} ${what}, more than ${key} (${limits[key]})`, { limit: key });
}

/**
 * Reads a certs-only ContentInfo (DER or BER). `certificateLimit` names the limit on the number of certificates:
 * 'maxCertificates' for a message, 'maxPemCertificates' for a bundle given to the store. CMSInvalid when the input
 * is not a ContentInfo, not SignedData, or a SignedData with a signer or content (a signed message);
 * CMSLimitExceeded over the limits.
 *
 * @example
 * ```ts
 * const { certificates, crls } = readCertsOnly(p7cBytes, limits, 'maxPemCertificates');
 * ```
 */
export function readCertsOnly(
  der: Uint8Array,
  limits: Limits = DEFAULT_LIMITS,
  certificateLimit: 'maxCertificates' | 'maxPemCertificates' = 'maxCertificates',
): CertsOnlyContent {
  return withBerLimits(berLimits(limits), () => {
    const top = readTlv(der, 0);
    if (top.cls !== 0 || top.tagNo !== TAG.SEQUENCE) throw new CMSInvalid('certs-only: not a CMS ContentInfo (expected a SEQUENCE)');
    const [typeT, contentT] = children(der, top);
    if (!typeT || typeT.cls !== 0 || typeT.tagNo !== TAG.OID) throw new CMSInvalid('certs-only: ContentInfo without contentType');
    const type = decodeOid(der, typeT);
    if (type !== OIDS.signedData) throw new CMSInvalid(`not certs-only: the CMS content type is ${oidName(type)}, not signedData`);
    if (!contentT || contentT.cls !== 2 || contentT.tagNo !== 0) throw new CMSInvalid('certs-only: ContentInfo without content');
    const sdT = children(der, contentT)[0];
    if (!sdT || sdT.cls !== 0 || sdT.tagNo !== TAG.SEQUENCE) throw new CMSInvalid('certs-only: SignedData is not a SEQUENCE');
    const f = children(der, sdT);
    let i = 0;
    if (f[i]?.tagNo !== TAG.INTEGER || f[i]?.cls !== 0) throw new CMSInvalid('certs-only: SignedData without version');
    i++;
    if (f[i]?.tagNo !== TAG.SET || f[i]?.cls !== 0) throw new CMSInvalid('certs-only: SignedData without digestAlgorithms');
    i++;
    const eciT = f[i++];
    if (!eciT || eciT.cls !== 0 || eciT.tagNo !== TAG.SEQUENCE) throw new CMSInvalid('certs-only: SignedData without encapContentInfo');
    const eci = children(der, eciT);
    if (!eci[0] || eci[0].tagNo !== TAG.OID) throw new CMSInvalid('certs-only: EncapsulatedContentInfo without eContentType');
    // NSS (cmsutil -O) writes an empty eContent: no content all the same.
    if (eci[1] && !isEmptyContent(der, eci[1])) throw new CMSInvalid('not certs-only: the SignedData has content (a signed message)');
    const out: CertsOnlyContent = { certificates: [], crls: [] };
    if (f[i] && f[i]!.cls === 2 && f[i]!.tagNo === 0) {
      const list = children(der, f[i++]!);
      checkCount(list.length, certificateLimit, limits, 'certificates');
      for (const c of list) if (c.cls === 0 && c.tagNo === TAG.SEQUENCE) out.certificates.push(copyBytes(der.subarray(c.start, c.end)));
    }
    if (f[i] && f[i]!.cls === 2 && f[i]!.tagNo === 1) {
      const list = children(der, f[i++]!);
      checkCount(list.length, 'maxCrls', limits, 'CRLs');
      for (const c of list) if (c.cls === 0 && c.tagNo === TAG.SEQUENCE) out.crls.push(copyBytes(der.subarray(c.start, c.end)));
    }
    const siT = f[i++];
    if (!siT || siT.cls !== 0 || siT.tagNo !== TAG.SET) throw new CMSInvalid('certs-only: SignedData without signerInfos');
    const n = children(der, siT).length;
    if (n > 0) throw new CMSInvalid(`not certs-only: the SignedData has ${n} signer${n === 1 ? '' : 's'} (a signed message: verify it instead)`);
    if (f.length > i) throw new CMSInvalid('certs-only: unexpected fields after signerInfos');
    return out;
  });
}

/**
 * The certificates of a certs-only ContentInfo (DER or BER bytes, or PEM `PKCS7` / `CMS` text as bytes), as fresh
 * DER copies. Limits as {@link readCertsOnly} with 'maxCertificates'.
 *
 * @example
 * ```ts
 * const ders = certificatesFromCertsOnly(userSMIMECertificate, store.limits); // an LDAP attribute value
 * ```
 */
export function certificatesFromCertsOnly(input: Uint8Array, limits: Limits = DEFAULT_LIMITS): Uint8Array[] {
  if (input.length > 0 && input[0] === 0x30) return readCertsOnly(input, limits).certificates;
  const block = pemBlocks(latin1(input)).find((b) => CERTS_ONLY_PEM_LABELS.includes(b.label));
  if (!block) throw new CMSInvalid('certs-only: neither DER/BER nor a PEM PKCS7 block');
  return readCertsOnly(block.der, limits).certificates;
}
