/**
 * The signed attributes S/MIME uses (RFC 5652 §11, RFC 8551 §2.5), written as DER and read with the zero-copy
 * reader:
 *
 * - contentType, messageDigest, signingTime;
 * - SMIMECapabilities (RFC 8551 §2.5.2): the content-encryption algorithms we read, strongest first;
 * - SMIMEEncryptionKeyPreference (RFC 8551 §2.5.3, `id-aa-encrypKeyPref`) and Microsoft's older
 *   `1.3.6.1.4.1.311.16.4` (a bare IssuerAndSerialNumber, which Outlook reads): which certificate the sender wants
 *   mail encrypted to, when the signing certificate is not an encryption certificate;
 * - ESS signing-certificate-v2 (RFC 5035, see ess.ts): the hash of the signer's certificate, so the signature binds
 *   the certificate and not only its issuer and serial number.
 *
 * Attribute ::= SEQUENCE { attrType OBJECT IDENTIFIER, attrValues SET OF AttributeValue }
 */
import { CMSInvalid } from '../errors.js';
import type { CertInfo } from '../certs/cert_info.js';
import { equal } from '../lib/bytes.js';
import { CIPHERS, ENCRYPTION_CIPHERS } from './content_cipher.js';
import { children, decodeOid, encodeLength, integer, octets, oid, readTlv, seq, set, sortDerSet, tlv, TAG, type Tlv } from '../lib/der.js';
import { ESS } from './ess.js';

export const ATTR = {
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  countersignature: '1.2.840.113549.1.9.6',
  smimeCapabilities: '1.2.840.113549.1.9.15',
  /** RFC 8551 §2.5.3 id-aa-encrypKeyPref. */
  encKeyPref: '1.2.840.113549.1.9.16.2.11',
  /** Microsoft's encryption key preference: the value is an IssuerAndSerialNumber. */
  msEncKeyPref: '1.3.6.1.4.1.311.16.4',
  /** RFC 2634 ESS signing-certificate (SHA-1 ESSCertID). */
  signingCertificate: ESS.signingCertificate,
  /** RFC 5035 ESS signing-certificate-v2. */
  signingCertificateV2: ESS.signingCertificateV2,
} as const;

/** The exact issuer Name DER and the serial number bytes (as in the certificate) of a certificate reference. */
export interface IssuerSerial {
  issuer: Uint8Array;
  serial: Uint8Array;
}

/** A reference to a certificate: issuer and serial, or a subject key identifier. */
export type CertRef = IssuerSerial | { ski: Uint8Array };

// -----------------------------------------------------------------------------------------------------------------
// Writing

/** One Attribute with one value. */
export function attribute(type: string, value: Uint8Array): Uint8Array {
  return seq(oid(type), set(value));
}

/**
 * A UTCTime for dates in 1950–2049 and a GeneralizedTime otherwise, as RFC 5652 §11.3 requires; seconds are
 * always present and there are no fractions (DER).
 */
export function encodeTime(d: Date): Uint8Array {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const y = d.getUTCFullYear();
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(TAG.UTCTime, new TextEncoder().encode(p(y % 100) + rest));
  return tlv(TAG.GeneralizedTime, new TextEncoder().encode(p(y, 4) + rest));
}

/** IssuerAndSerialNumber ::= SEQUENCE { issuer Name, serialNumber CertificateSerialNumber } */
export function issuerAndSerial(info: { issuer: Uint8Array; serial: Uint8Array }): Uint8Array {
  return seq(info.issuer, integer(info.serial));
}

/**
 * SMIMECapabilities ::= SEQUENCE OF SMIMECapability { capabilityID OID, parameters ANY OPTIONAL }.
 * Our content-encryption ciphers, strongest first (the order of ENCRYPTION_CIPHERS); parameters absent, as RFC 3565
 * (AES-CBC), RFC 5084 and RFC 8103 (ChaCha20-Poly1305) ask.
 */
export function smimeCapabilitiesValue(oids: readonly string[] = ENCRYPTION_CIPHERS.map((c) => CIPHERS[c].oid)): Uint8Array {
  return seq(...oids.map((o) => seq(oid(o))));
}

/**
 * SMIMEEncryptionKeyPreference ::= CHOICE { issuerAndSerialNumber [0] IssuerAndSerialNumber, ... }; the S/MIME
 * module uses IMPLICIT tags, so the [0] replaces the SEQUENCE tag.
 */
export function encKeyPrefValue(info: { issuer: Uint8Array; serial: Uint8Array }): Uint8Array {
  const ias = issuerAndSerial(info);
  const inner = readTlv(ias, 0);
  return tlv(0xa0, ias.subarray(inner.contentStart, inner.contentEnd));
}

export interface SignedAttributeOptions {
  /** The eContentType (id-data for S/MIME). */
  contentType: string;
  /** The digest of the content. */
  digest: Uint8Array;
  signingTime: Date;
  /** SMIMECapabilities OIDs; default: our ciphers, strongest first. */
  capabilities?: readonly string[];
  /** The sender's current encryption certificate, when it is not the signing certificate. */
  encryptionCert?: CertInfo;
  /** The SigningCertificateV2 value (ess.ts `signingCertificateV2Value`); omitted when absent. */
  signingCertificateV2?: Uint8Array;
}

/**
 * The signed attributes as a DER SET OF, sorted (X.690 §11.6: by their encodings), so the bytes that are signed are
 * the bytes that are sent, and Bouncy Castle accepts them. Returns the SET (tag 0x31); SignerInfo carries it with
 * the tag changed to [0] IMPLICIT.
 */
export function buildSignedAttributes(o: SignedAttributeOptions): Uint8Array {
  const attrs = [
    attribute(ATTR.contentType, oid(o.contentType)),
    attribute(ATTR.messageDigest, octets(o.digest)),
    attribute(ATTR.signingTime, encodeTime(o.signingTime)),
    attribute(ATTR.smimeCapabilities, smimeCapabilitiesValue(o.capabilities)),
  ];
  if (o.encryptionCert) {
    attrs.push(attribute(ATTR.encKeyPref, encKeyPrefValue(o.encryptionCert)));
    attrs.push(attribute(ATTR.msEncKeyPref, issuerAndSerial(o.encryptionCert)));
  }
  if (o.signingCertificateV2) attrs.push(attribute(ATTR.signingCertificateV2, o.signingCertificateV2));
  return set(...sortDerSet(attrs));
}

// -----------------------------------------------------------------------------------------------------------------
// Reading

/** One parsed Attribute: its type and the elements of its value SET (offsets into `buf`). */
export interface ParsedAttribute {
  type: string;
  values: Tlv[];
  /** The whole Attribute element. */
  element: Tlv;
}

/** Reads the Attributes of a SET OF Attribute (or of the [0]/[1] IMPLICIT form): `t` is the SET element. */
export function readAttributes(buf: Uint8Array, t: Tlv): ParsedAttribute[] {
  const out: ParsedAttribute[] = [];
  for (const a of children(buf, t)) {
    if (a.cls !== 0 || a.tagNo !== TAG.SEQUENCE) throw new CMSInvalid('Attribute: expected a SEQUENCE');
    const [typeT, valsT] = children(buf, a);
    if (!typeT || !valsT || valsT.tagNo !== TAG.SET || valsT.cls !== 0) throw new CMSInvalid('Attribute: malformed');
    out.push({ type: decodeOid(buf, typeT), values: children(buf, valsT), element: a });
  }
  return out;
}

/**
 * The signed attributes as the signature covers them (RFC 5652 §5.4: "the DER encoding of the SignedAttributes"):
 * `received` (the SET as received) with every length in its minimal definite form; the order of the elements is
 * kept as sent. Returns `received` itself when it is already so.
 *
 * Why: a signature over long-form or indefinite lengths is over bytes that are not the DER, and OpenSSL 3, NSS and
 * Bouncy Castle all verify over the re-encoded DER, so they reject it (and accept BER whose DER is what was
 * signed). An unsorted SET is another matter: OpenSSL and NSS verify over the order as sent (Bouncy Castle sorts),
 * so we keep the order. test/security/non_der_attrs.test.ts runs the three peers and pins this majority.
 */
export function signedAttributesDer(received: Uint8Array): Uint8Array {
  const top = readTlv(received, 0);
  if (top.end !== received.length) throw new CMSInvalid('signed attributes: trailing bytes');
  const tree = lengthTree(received, top, 0);
  if (tree.der) return received;
  const out = new Uint8Array(tree.size);
  writeTree(received, tree, out, 0);
  return out;
}

/** One element with its re-encoded size; `der` when its encoding (lengths included) is already minimal. */
interface LengthNode {
  t: Tlv;
  idLen: number;
  contentSize: number;
  size: number;
  der: boolean;
  kids: LengthNode[];
}

function lengthTree(buf: Uint8Array, t: Tlv, depth: number): LengthNode {
  let idLen = 1;
  if ((buf[t.start]! & 0x1f) === 0x1f) while (idLen < t.contentStart - t.start && (buf[t.start + idLen]! & 0x80) !== 0) idLen++;
  if ((buf[t.start]! & 0x1f) === 0x1f) idLen++;
  const kids = t.constructed ? children(buf, t, depth).map((c) => lengthTree(buf, c, depth + 1)) : [];
  let contentSize = t.contentEnd - t.contentStart;
  if (t.constructed) {
    contentSize = 0;
    for (const k of kids) contentSize += k.size;
  }
  const lenLen = encodeLength(contentSize).length;
  const size = idLen + lenLen + contentSize;
  const der = !t.indefinite && t.contentStart - t.start === idLen + lenLen && kids.every((k) => k.der);
  return { t, idLen, contentSize, size, der, kids };
}

function writeTree(buf: Uint8Array, n: LengthNode, out: Uint8Array, at: number): number {
  if (n.der) {
    out.set(buf.subarray(n.t.start, n.t.end), at);
    return at + n.size;
  }
  out.set(buf.subarray(n.t.start, n.t.start + n.idLen), at);
  const len = encodeLength(n.contentSize);
  out.set(len, at + n.idLen);
  let p = at + n.idLen + len.length;
  if (n.kids.length === 0 && !n.t.constructed) {
    out.set(buf.subarray(n.t.contentStart, n.t.contentEnd), p);
    return p + n.contentSize;
  }
  for (const k of n.kids) p = writeTree(buf, k, out, p);
  return p;
}

/** Reads an IssuerAndSerialNumber SEQUENCE (or its IMPLICIT-tagged form: the children are the same). */
export function readIssuerSerial(buf: Uint8Array, t: Tlv): IssuerSerial {
  const [issuerT, serialT] = children(buf, t);
  if (!issuerT || issuerT.tagNo !== TAG.SEQUENCE || !serialT || serialT.tagNo !== TAG.INTEGER)
    throw new CMSInvalid('IssuerAndSerialNumber: malformed');
  return { issuer: buf.subarray(issuerT.start, issuerT.end), serial: buf.subarray(serialT.contentStart, serialT.contentEnd) };
}

/** SMIMECapabilities: the capability OIDs, in the sender's order of preference. */
export function readCapabilities(buf: Uint8Array, t: Tlv): string[] {
  if (t.tagNo !== TAG.SEQUENCE) throw new CMSInvalid('SMIMECapabilities: expected a SEQUENCE');
  return children(buf, t).map((c) => {
    const first = children(buf, c)[0];
    if (!first) throw new CMSInvalid('SMIMECapability: empty');
    return decodeOid(buf, first);
  });
}

/**
 * SMIMEEncryptionKeyPreference: [0] issuerAndSerialNumber, [1] RecipientKeyIdentifier (its subjectKeyIdentifier is
 * used), [2] subjectAltKeyIdentifier. Returns undefined for a choice we can't resolve.
 */
export function readEncKeyPref(buf: Uint8Array, t: Tlv): CertRef | undefined {
  if (t.cls !== 2) throw new CMSInvalid('SMIMEEncryptionKeyPreference: expected a context tag');
  if (t.tagNo === 0) {
    // IMPLICIT [0] IssuerAndSerialNumber. Some writers put an explicit SEQUENCE inside: accept that too.
    const kids = children(buf, t);
    if (kids.length === 1 && kids[0]!.tagNo === TAG.SEQUENCE && kids[0]!.cls === 0) return readIssuerSerial(buf, kids[0]!);
    return readIssuerSerial(buf, t);
  }
  if (t.tagNo === 1) {
    // RecipientKeyIdentifier ::= SEQUENCE { subjectKeyIdentifier, date OPTIONAL, other OPTIONAL }
    const first = children(buf, t)[0];
    if (!first || first.tagNo !== TAG.OCTET_STRING) throw new CMSInvalid('RecipientKeyIdentifier: malformed');
    return { ski: buf.subarray(first.contentStart, first.contentEnd) };
  }
  if (t.tagNo === 2) {
    if (t.constructed) {
      const first = children(buf, t)[0];
      if (!first) throw new CMSInvalid('subjectAltKeyIdentifier: malformed');
      return { ski: buf.subarray(first.contentStart, first.contentEnd) };
    }
    return { ski: buf.subarray(t.contentStart, t.contentEnd) };
  }
  return undefined;
}

function stripZeros(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

/** True when `ref` names `info`. */
export function refMatches(ref: CertRef, info: CertInfo): boolean {
  if ('ski' in ref) return !!info.ski && equal(info.ski, ref.ski);
  return equal(ref.issuer, info.issuer) && equal(stripZeros(ref.serial), stripZeros(info.serial));
}

/** What the S/MIME attributes of one SignerInfo say. */
export interface SmimeAttributes {
  capabilities?: string[];
  /** RFC 8551 §2.5.3 encryption key preference. */
  encKeyPref?: CertRef;
  /** Microsoft's 1.3.6.1.4.1.311.16.4. */
  msEncKeyPref?: IssuerSerial;
}

/** Reads SMIMECapabilities and both encryption key preferences. Malformed values throw CMSInvalid. */
export function readSmimeAttributes(buf: Uint8Array, attrs: readonly ParsedAttribute[]): SmimeAttributes {
  const out: SmimeAttributes = {};
  for (const a of attrs) {
    const v = a.values[0];
    if (!v) continue;
    if (a.type === ATTR.smimeCapabilities) out.capabilities = readCapabilities(buf, v);
    else if (a.type === ATTR.encKeyPref) out.encKeyPref = readEncKeyPref(buf, v);
    else if (a.type === ATTR.msEncKeyPref) {
      if (v.tagNo !== TAG.SEQUENCE) throw new CMSInvalid('Microsoft encryption key preference: expected IssuerAndSerialNumber');
      out.msEncKeyPref = readIssuerSerial(buf, v);
    }
  }
  return out;
}
