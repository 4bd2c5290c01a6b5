/**
 * The ESS signing-certificate attributes (RFC 2634 §5.4 v1, RFC 5035 v2): a signed hash of the signer's certificate.
 *
 * Why: the SignerInfo names its certificate only by issuer and serial number (or a key identifier), which is not
 * covered by the signature; an attacker who gets a second certificate for the same key (a CA reissuing, a rogue CA
 * with the same issuer name) could swap it in. With the hash of the whole certificate among the signed attributes,
 * the signature binds the certificate. We write v2 (SHA-256) when signing, and when a message carries v1 or v2 we
 * check that its FIRST ESSCertID names the certificate we verified with (as RFC 5035 §4 and OpenSSL 3 do; the
 * others name the chain and are only hints). The SHA-1 of a v1 ESSCertID is an identifier, not a signature: it
 * does not make the signature weak.
 *
 *   SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies SEQUENCE OF PolicyInformation OPTIONAL }
 *   ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT {id-sha256}, certHash OCTET STRING,
 *                              issuerSerial IssuerSerial OPTIONAL }
 *   SigningCertificate ::= SEQUENCE { certs SEQUENCE OF ESSCertID, policies ... OPTIONAL }
 *   ESSCertID ::= SEQUENCE { certHash OCTET STRING (SHA-1), issuerSerial IssuerSerial OPTIONAL }
 *   IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }
 */
import { CMSInvalid } from '../errors.js';
import type { CertInfo } from '../certs/cert_info.js';
import { digest } from '../crypto/digest.js';
import { equal } from '../lib/bytes.js';
import { children, decodeOid, integer, octets, seq, TAG, tlv, type Tlv } from '../lib/der.js';
import { HASH_BY_OID, OIDS } from './oids.js';

/** The attribute types. */
export const ESS = {
  /** RFC 2634 id-aa-signingCertificate (ESSCertID with SHA-1). */
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  /** RFC 5035 id-aa-signingCertificateV2. */
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
} as const;

/** GeneralName directoryName: [4], EXPLICIT because Name is a CHOICE. */
const DIRECTORY_NAME = 0xa4;

/**
 * The SigningCertificateV2 value for `cert`, whose SHA-256 is `sha256`: one ESSCertIDv2 with the hashAlgorithm
 * omitted (SHA-256 is the DEFAULT, and DER leaves defaults out) and issuerSerial naming the issuer as a
 * directoryName.
 */
export function signingCertificateV2Value(cert: CertInfo, sha256: Uint8Array): Uint8Array {
  const issuerSerial = seq(seq(tlv(DIRECTORY_NAME, cert.issuer)), integer(cert.serial));
  return seq(seq(seq(octets(sha256), issuerSerial)));
}

/** The first ESSCertID(v2) of a signing-certificate attribute. */
export interface EssCertId {
  /** The hash algorithm OID (SHA-1 for v1; the stated one, or SHA-256 by default, for v2). */
  hashOid: string;
  certHash: Uint8Array;
  /** The issuerSerial, when present: the GeneralNames elements and the serial's content octets. */
  issuerSerial?: { names: Tlv[]; serial: Uint8Array };
}

function malformed(): never {
  throw new CMSInvalid('signing-certificate attribute: malformed');
}

/** Reads the first ESSCertID (v1) or ESSCertIDv2 (v2) of the attribute value `t`. CMSInvalid when malformed. */
export function readFirstEssCertId(buf: Uint8Array, t: Tlv, v2: boolean): EssCertId {
  if (t.cls !== 0 || t.tagNo !== TAG.SEQUENCE || !t.constructed) malformed();
  const [certsT] = children(buf, t);
  if (!certsT || certsT.cls !== 0 || certsT.tagNo !== TAG.SEQUENCE || !certsT.constructed) malformed();
  const first = children(buf, certsT)[0];
  if (!first || first.cls !== 0 || first.tagNo !== TAG.SEQUENCE || !first.constructed) malformed();
  const f = children(buf, first);
  let i = 0;
  let hashOid: string = OIDS.sha1;
  if (v2) {
    hashOid = OIDS.sha256;
    const a = f[i];
    if (a && a.cls === 0 && a.tagNo === TAG.SEQUENCE) {
      const algOid = children(buf, a)[0];
      if (!algOid || algOid.cls !== 0 || algOid.tagNo !== TAG.OID) malformed();
      hashOid = decodeOid(buf, algOid);
      i++;
    }
  }
  const h = f[i++];
  if (!h || h.cls !== 0 || h.tagNo !== TAG.OCTET_STRING || h.constructed) malformed();
  const out: EssCertId = { hashOid, certHash: buf.subarray(h.contentStart, h.contentEnd) };
  const is = f[i++];
  if (is) {
    if (is.cls !== 0 || is.tagNo !== TAG.SEQUENCE || !is.constructed) malformed();
    const [namesT, serialT] = children(buf, is);
    if (!namesT || namesT.cls !== 0 || namesT.tagNo !== TAG.SEQUENCE || !namesT.constructed) malformed();
    if (!serialT || serialT.cls !== 0 || serialT.tagNo !== TAG.INTEGER || serialT.constructed) malformed();
    out.issuerSerial = { names: children(buf, namesT), serial: buf.subarray(serialT.contentStart, serialT.contentEnd) };
  }
  if (f.length > i) malformed();
  return out;
}

function stripZeros(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

/**
 * Whether `id` names `cert`: the hash of the whole certificate DER with the stated hash, and, when issuerSerial is
 * present, exactly one directoryName equal to the certificate's issuer and the same serial (OpenSSL's rule).
 * Returns a reason on failure: `signing-certificate-mismatch`, or `unsupported-algorithm: <oid>` for a hash we lack.
 */
export async function checkEssCertId(buf: Uint8Array, id: EssCertId, cert: CertInfo, crypto?: Crypto): Promise<string | undefined> {
  const name = HASH_BY_OID[id.hashOid];
  if (!name) return `unsupported-algorithm: ${id.hashOid}`;
  const h = await digest(name, cert.der, crypto);
  if (!equal(h, id.certHash)) return 'signing-certificate-mismatch';
  if (id.issuerSerial) {
    const { names, serial } = id.issuerSerial;
    const n = names[0];
    if (names.length !== 1 || !n || n.cls !== 2 || n.tagNo !== 4 || !n.constructed) return 'signing-certificate-mismatch';
    const inner = children(buf, n)[0];
    if (!inner || inner.end !== n.contentEnd || !equal(buf.subarray(inner.start, inner.end), cert.issuer)) return 'signing-certificate-mismatch';
    if (!equal(stripZeros(serial), stripZeros(cert.serial))) return 'signing-certificate-mismatch';
  }
  return undefined;
}
