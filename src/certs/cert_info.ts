/**
 * The certificate fields that selection, recipient matching and chain building need, read directly from the DER
 * with the zero-copy reader: exact issuer/serial/SPKI bytes (for IssuerAndSerialNumber and SKI matching), the
 * S/MIME addresses, keyUsage, extendedKeyUsage, basicConstraints and the validity window.
 */
import { CertificateInvalid, SmimeError } from '../errors.js';
import { latin1, toHex } from '../lib/bytes.js';
import { children, decodeOid, readTlv, stringContent, TAG, type Tlv } from '../lib/der.js';
import { parseTime } from '../lib/time.js';
import { KEY_ALGORITHMS, keyKindOfOid, type KeyKind } from '../crypto/algorithms.js';
import { namesMatch } from './names.js';

/** The OIDs the certificate model reads: key algorithms (from the registry), attributes and extensions. */
export const OID = {
  rsaEncryption: KEY_ALGORITHMS.rsaEncryption.oid,
  rsassaPss: KEY_ALGORITHMS.rsassaPss.oid,
  ecPublicKey: KEY_ALGORITHMS.ecPublicKey.oid,
  x25519: KEY_ALGORITHMS.x25519.oid,
  x448: KEY_ALGORITHMS.x448.oid,
  ed25519: KEY_ALGORITHMS.ed25519.oid,
  ed448: KEY_ALGORITHMS.ed448.oid,
  emailAddress: '1.2.840.113549.1.9.1',
  ski: '2.5.29.14',
  keyUsage: '2.5.29.15',
  san: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  aki: '2.5.29.35',
  eku: '2.5.29.37',
  ekuEmailProtection: '1.3.6.1.5.5.7.3.4',
  ekuAny: '2.5.29.37.0',
  smtpUtf8Mailbox: '1.3.6.1.5.5.7.8.9',
} as const;

/** keyUsage bits (RFC 5280 §4.2.1.3). */
export const KU = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
} as const;

/** One certificate extension (RFC 5280 §4.1: Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE, extnValue }). */
export interface CertExtension {
  oid: string;
  critical: boolean;
  /** The extnValue content: the DER of the extension's value. */
  value: Uint8Array;
}

export interface CertInfo {
  der: Uint8Array;
  tbs: Uint8Array;
  serial: Uint8Array;
  serialHex: string;
  issuer: Uint8Array;
  subject: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  spki: Uint8Array;
  /** The SubjectPublicKeyInfo algorithm OID. */
  keyAlgorithm: string;
  /** The named curve OID for EC keys. */
  curve?: string;
  /** The public key bits (the BIT STRING content without the unused-bits octet). */
  publicKey: Uint8Array;
  /**
   * Lower-cased addresses from SAN rfc822Name and SmtpUTF8Mailbox (RFC 9598; its local part lower-cased in ASCII
   * only), or failing those from the subject emailAddress.
   */
  emails: string[];
  /** keyUsage bits as an array of booleans, or undefined when the extension is absent. */
  keyUsage?: boolean[];
  /** EKU OIDs, or undefined when the extension is absent. */
  eku?: string[];
  ski?: Uint8Array;
  aki?: Uint8Array;
  isCA: boolean;
  /**
   * basicConstraints pathLenConstraint of a CA certificate: how many non-self-issued intermediates may follow it
   * (RFC 5280 §4.2.1.9); undefined when absent (no limit) or when the certificate is not a CA. A negative value,
   * which DER can carry but RFC 5280 forbids, reads as 0 (the strictest).
   */
  pathLen?: number;
  signatureAlgorithm: Uint8Array;
  signatureAlgorithmOid: string;
  signature: Uint8Array;
  selfIssued: boolean;
  /**
   * Every extension as the certificate carries it, in order: its OID, whether it is marked critical, and the
   * extnValue OCTET STRING's content (the DER of the extension's own value). Path validation reads the extensions
   * it processes from here (certificate policies, name constraints, …) and refuses an unknown critical one.
   */
  extensions: CertExtension[];
  /** SHA-256 fingerprint is computed lazily elsewhere; this is a cheap unique key (hex of the DER's tail + length). */
}

/** Parses the fields of an X.509 certificate. Throws CertificateInvalid on malformed input. */
export function certInfo(der: Uint8Array): CertInfo {
  try {
    return parse(der);
  } catch (e) {
    if (e instanceof CertificateInvalid) throw e;
    throw new CertificateInvalid(`malformed certificate: ${e instanceof SmimeError ? e.message : String(e)}`);
  }
}

function parse(der: Uint8Array): CertInfo {
  const top = readTlv(der, 0);
  if (top.end !== der.length) der = der.subarray(0, top.end);
  const [tbsT, sigAlgT, sigT] = children(der, top);
  if (!tbsT || !sigAlgT || !sigT) throw new CertificateInvalid('certificate: missing fields');
  const f = children(der, tbsT);
  let i = 0;
  if (f[0] && f[0].cls === 2 && f[0].tagNo === 0) i++; // version
  const serialT = f[i++]!;
  i++; // signature
  const issuerT = f[i++]!;
  const validityT = f[i++]!;
  const subjectT = f[i++]!;
  const spkiT = f[i++]!;
  if (!spkiT) throw new CertificateInvalid('certificate: truncated TBSCertificate');
  const [nbT, naT] = children(der, validityT);
  const spkiParts = children(der, spkiT);
  const algParts = children(der, spkiParts[0]!);
  const keyAlgorithm = decodeOid(der, algParts[0]!);
  const curve = algParts[1] && algParts[1].tagNo === TAG.OID ? decodeOid(der, algParts[1]) : undefined;
  const pkBits = der.subarray(spkiParts[1]!.contentStart + 1, spkiParts[1]!.contentEnd);
  const serial = der.subarray(serialT.contentStart, serialT.contentEnd);
  const info: CertInfo = {
    der,
    tbs: der.subarray(tbsT.start, tbsT.end),
    serial,
    serialHex: toHex(serial),
    issuer: der.subarray(issuerT.start, issuerT.end),
    subject: der.subarray(subjectT.start, subjectT.end),
    notBefore: parseTime(der, nbT!),
    notAfter: parseTime(der, naT!),
    spki: der.subarray(spkiT.start, spkiT.end),
    keyAlgorithm,
    curve,
    publicKey: pkBits,
    emails: [],
    isCA: false,
    signatureAlgorithm: der.subarray(sigAlgT.start, sigAlgT.end),
    signatureAlgorithmOid: decodeOid(der, children(der, sigAlgT)[0]!),
    signature: der.subarray(sigT.contentStart + 1, sigT.contentEnd),
    selfIssued: false,
    extensions: [],
  };
  info.selfIssued = namesMatch(info.issuer, info.subject); // RFC 5280 §6.1: by name matching, as chaining is
  const sanEmails: string[] = [];
  for (; i < f.length; i++) {
    const t = f[i]!;
    if (t.cls !== 2 || t.tagNo !== 3) continue;
    const exts = children(der, children(der, t)[0]!);
    for (const ext of exts) {
      const parts = children(der, ext);
      const extOid = decodeOid(der, parts[0]!);
      const valT = parts[parts.length - 1]!;
      const val = der.subarray(valT.contentStart, valT.contentEnd);
      const critT = parts.length === 3 ? parts[1]! : undefined;
      const critical = !!critT && critT.tagNo === TAG.BOOLEAN && der[critT.contentStart] !== 0;
      info.extensions.push({ oid: extOid, critical, value: val });
      const inner = readTlv(val, 0);
      switch (extOid) {
        case OID.san:
          for (const gn of children(val, inner)) {
            if (gn.cls === 2 && gn.tagNo === 1) sanEmails.push(latin1(val.subarray(gn.contentStart, gn.contentEnd)).toLowerCase());
            else if (gn.cls === 2 && gn.tagNo === 0 && gn.constructed) {
              const m = smtpUtf8Mailbox(val, gn);
              if (m !== undefined) sanEmails.push(m);
            }
          }
          break;
        case OID.keyUsage: {
          const bits = val.subarray(inner.contentStart + 1, inner.contentEnd);
          const ku: boolean[] = [];
          for (let b = 0; b < 9; b++) ku.push(((bits[b >> 3] ?? 0) & (0x80 >> (b & 7))) !== 0);
          info.keyUsage = ku;
          break;
        }
        case OID.eku:
          info.eku = children(val, inner).map((o) => decodeOid(val, o));
          break;
        case OID.ski:
          info.ski = stringContent(val, inner);
          break;
        case OID.aki: {
          const k = children(val, inner).find((c) => c.cls === 2 && c.tagNo === 0);
          if (k) info.aki = val.subarray(k.contentStart, k.contentEnd);
          break;
        }
        case OID.basicConstraints: {
          const c = children(val, inner);
          info.isCA = !!c[0] && c[0].tagNo === TAG.BOOLEAN && val[c[0].contentStart] !== 0;
          const p = c.find((t) => t.cls === 0 && t.tagNo === TAG.INTEGER);
          if (info.isCA && p) info.pathLen = smallInteger(val.subarray(p.contentStart, p.contentEnd));
          break;
        }
      }
    }
  }
  info.emails = sanEmails.length > 0 ? sanEmails : subjectEmails(der, subjectT);
  return info;
}

/**
 * An otherName SmtpUTF8Mailbox (RFC 9598: type-id 1.3.6.1.5.5.7.8.9, value [0] EXPLICIT UTF8String), as
 * `local@domain` with the domain lower-cased and the local part's ASCII letters only: Unicode case mapping would
 * merge distinct mailboxes (U+212A KELVIN SIGN lowercases to "k"). Undefined for any other otherName or bad UTF-8.
 */
function smtpUtf8Mailbox(buf: Uint8Array, gn: Tlv): string | undefined {
  let text: string;
  try {
    const [typeId, value] = children(buf, gn);
    if (!typeId || typeId.tagNo !== TAG.OID || decodeOid(buf, typeId) !== OID.smtpUtf8Mailbox) return undefined;
    if (!value || value.cls !== 2 || value.tagNo !== 0 || !value.constructed) return undefined;
    const s = children(buf, value)[0];
    if (!s || s.cls !== 0 || s.tagNo !== TAG.UTF8String) return undefined;
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(s.contentStart, s.contentEnd));
  } catch {
    return undefined; // a malformed otherName is no address, and no reason to refuse the certificate
  }
  const at = text.lastIndexOf('@');
  if (at <= 0) return undefined;
  return `${text.slice(0, at).replace(/[A-Z]+/g, (m) => m.toLowerCase())}@${text.slice(at + 1).toLowerCase()}`;
}

function subjectEmails(der: Uint8Array, subjectT: Tlv): string[] {
  const out: string[] = [];
  for (const rdn of children(der, subjectT)) {
    for (const atv of children(der, rdn)) {
      const [o, v] = children(der, atv);
      if (o && v && decodeOid(der, o) === OID.emailAddress) out.push(latin1(der.subarray(v.contentStart, v.contentEnd)).toLowerCase());
    }
  }
  return out;
}

/** A DER INTEGER's content as a number: negative reads as 0, anything beyond 2^31 as 2^31 (no limit in practice). */
function smallInteger(b: Uint8Array): number {
  if (b.length === 0 || (b[0]! & 0x80) !== 0) return 0;
  let n = 0;
  for (const x of b) {
    n = n * 256 + x;
    if (n > 2 ** 31) return 2 ** 31;
  }
  return n;
}

export function hasKeyUsage(info: CertInfo, bit: number): boolean {
  return info.keyUsage === undefined || info.keyUsage[bit] === true;
}

/** EKU absent, emailProtection or anyExtendedKeyUsage. */
export function ekuAllowsEmail(info: CertInfo): boolean {
  return info.eku === undefined || info.eku.includes(OID.ekuEmailProtection) || info.eku.includes(OID.ekuAny);
}

export function isValidAt(info: CertInfo, at: Date): boolean {
  return at.getTime() >= info.notBefore.getTime() && at.getTime() <= info.notAfter.getTime();
}

/** The key kind that decides which key usage bit encryption needs. */
export function keyKind(info: CertInfo): KeyKind | 'other' {
  return keyKindOfOid(info.keyAlgorithm);
}
