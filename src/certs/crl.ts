/**
 * X.509 CRLs (RFC 5280 §5): the CertificateList parser, with every CRL extension and entry extension that RFC 5280
 * §6.3 revocation checking reads (cRLNumber, deltaCRLIndicator, issuingDistributionPoint, authorityKeyIdentifier,
 * freshestCRL; reasonCode, invalidityDate, certificateIssuer), the unknown critical ones listed, and the
 * DistributionPoint syntax shared with the certificates' cRLDistributionPoints extension (RFC 5280 §4.2.1.13).
 *
 * Every field's tag is checked before it is read, so anything malformed is a `CMSInvalid`, never a TypeError. The
 * work is linear in the size of the CRL: the BER reader bounds nesting and the number of elements of one value.
 */
import { CMSInvalid } from '../errors.js';
import { children, decodeOid, readAlgorithm, readTlv, seq, TAG, type ParsedAlgorithm, type Tlv } from '../lib/der.js';
import { parseTime } from '../lib/time.js';

/** CRL and entry extension OIDs (RFC 5280 §5.2, §5.3), and the certificate extensions that point to CRLs. */
export const CRL_OID = {
  authorityKeyIdentifier: '2.5.29.35',
  issuerAltName: '2.5.29.18',
  cRLNumber: '2.5.29.20',
  deltaCRLIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  freshestCRL: '2.5.29.46',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  reasonCode: '2.5.29.21',
  holdInstructionCode: '2.5.29.23',
  invalidityDate: '2.5.29.24',
  certificateIssuer: '2.5.29.29',
  cRLDistributionPoints: '2.5.29.31',
} as const;

/** The CRL extensions this module understands; any other one marked critical makes the CRL unusable (RFC 5280 §5.2). */
const KNOWN_CRL_EXTENSIONS: ReadonlySet<string> = new Set([
  CRL_OID.authorityKeyIdentifier,
  CRL_OID.issuerAltName,
  CRL_OID.cRLNumber,
  CRL_OID.deltaCRLIndicator,
  CRL_OID.issuingDistributionPoint,
  CRL_OID.freshestCRL,
  CRL_OID.authorityInfoAccess,
]);

/** The entry extensions this module understands (RFC 5280 §5.3). */
const KNOWN_ENTRY_EXTENSIONS: ReadonlySet<string> = new Set([
  CRL_OID.reasonCode,
  CRL_OID.holdInstructionCode,
  CRL_OID.invalidityDate,
  CRL_OID.certificateIssuer,
]);

/** At most this many GeneralNames in one GeneralNames, and distribution points in one extension. */
const MAX_NAMES = 64;

/**
 * ReasonFlags (RFC 5280 §4.2.1.13) as a bit mask: bit n set for the named bit n (1 keyCompromise … 8 aACompromise;
 * bit 0, unused, is never set). The same numbers as the CRLReason codes of those reasons, so `1 << reasonCode`
 * is the flag of a reason code.
 */
export const ALL_REASONS = 0x1fe;

/** One GeneralName (RFC 5280 §4.2.1.6): its context tag number and the element's bytes. */
export interface GeneralName {
  /** 0 otherName, 1 rfc822Name, 2 dNSName, 3 x400Address, 4 directoryName, 5 ediPartyName, 6 URI, 7 iPAddress, 8 registeredID. */
  tag: number;
  /** The whole element (tag, length and contents) as it was encoded. */
  der: Uint8Array;
  /** For a directoryName: the Name's DER (the EXPLICIT tag's content). */
  name?: Uint8Array;
}

/** DistributionPointName (RFC 5280 §4.2.1.13): a full name, or a name relative to the CRL issuer. */
export interface DistributionPointName {
  fullName?: GeneralName[];
  /** The RelativeDistinguishedName's DER (re-tagged as a SET), to be appended to the CRL issuer's name. */
  nameRelativeToCRLIssuer?: Uint8Array;
}

/** DistributionPoint (RFC 5280 §4.2.1.13), as in cRLDistributionPoints and freshestCRL. */
export interface DistributionPoint {
  distributionPoint?: DistributionPointName;
  /** ReasonFlags as a mask (see {@link ALL_REASONS}); undefined when absent (all reasons). */
  reasons?: number;
  cRLIssuer?: GeneralName[];
}

/** IssuingDistributionPoint (RFC 5280 §5.2.5). */
export interface IssuingDistributionPoint {
  distributionPoint?: DistributionPointName;
  onlyContainsUserCerts: boolean;
  onlyContainsCACerts: boolean;
  /** ReasonFlags as a mask; undefined when absent (all reasons). */
  onlySomeReasons?: number;
  indirectCRL: boolean;
  onlyContainsAttributeCerts: boolean;
  /** The extension value's DER (a delta CRL's scope must be the same as its complete CRL's). */
  der: Uint8Array;
}

/** One extension of a CRL or of a CRL entry (RFC 5280 §4.1 Extension). */
export interface CrlExtension {
  oid: string;
  critical: boolean;
  /** The extnValue content: the DER of the extension's own value. */
  value: Uint8Array;
}

/** One revokedCertificates entry (RFC 5280 §5.1.2.6, §5.3). */
export interface CrlEntry {
  /** The userCertificate INTEGER's content octets as the CRL carries them. */
  serial: Uint8Array;
  /** `serialKey(serial)`: the serial by value. */
  key: string;
  date: Date;
  /** CRLReason code (0–6, 8–10), when the entry has a reasonCode. */
  reason?: number;
  invalidityDate?: Date;
  /**
   * The directory names of the issuer of the revoked certificate, in an indirect CRL: the certificateIssuer of this
   * entry or of the nearest preceding entry that has one (RFC 5280 §5.3.3). Undefined: the CRL issuer.
   */
  certificateIssuer?: Uint8Array[];
  /** The OIDs of the entry's critical extensions this module does not understand. */
  unknownCritical: string[];
  extensions: CrlExtension[];
}

/** A parsed CertificateList. */
export interface ParsedCrl {
  der: Uint8Array;
  tbs: Uint8Array;
  /** 1 (v1, no version field) or 2. */
  version: number;
  issuer: Uint8Array;
  thisUpdate: Date;
  nextUpdate?: Date;
  /**
   * serial (`serialKey`) → revocation date and reason code, for the entries about certificates the
   * CRL issuer issued (not those under a certificateIssuer of an indirect CRL); the first entry wins.
   */
  revoked: Map<string, { date: Date; reason?: number }>;
  /** Every entry in order. */
  entries: CrlEntry[];
  /** The entries by `serialKey` (several when an indirect CRL lists the same serial for different issuers). */
  bySerial: Map<string, CrlEntry[]>;
  signatureAlgorithm: ParsedAlgorithm;
  signature: Uint8Array;
  /** Every CRL extension, in order. */
  extensions: CrlExtension[];
  /** The authorityKeyIdentifier keyIdentifier, if present. */
  aki?: Uint8Array;
  /** cRLNumber, if present. */
  crlNumber?: bigint;
  /** deltaCRLIndicator (the BaseCRLNumber), if present: this is a delta CRL. */
  deltaCrlIndicator?: bigint;
  issuingDistributionPoint?: IssuingDistributionPoint;
  freshestCrl?: DistributionPoint[];
  /** The OIDs of the critical CRL extensions this module does not understand. */
  unknownCritical: string[];
  /** Whether some entry has a critical extension this module does not understand. */
  unknownCriticalEntryExtension: boolean;
}

/**
 * A serial number's key: the INTEGER's octets as hex, a redundant leading octet aside (0x00 before an octet whose
 * top bit is clear, 0xFF before one whose top bit is set, as a non-minimal encoding would carry). So two serials
 * have the same key exactly when they are the same number: 255 (`00 FF`) is not -1 (`FF`) (PKITS 4.4.14–4.4.15).
 * The key of `ParsedCrl.revoked` and `bySerial`.
 */
export function serialKey(serial: Uint8Array): string {
  let i = 0;
  while (
    i < serial.length - 1 &&
    ((serial[i] === 0 && (serial[i + 1]! & 0x80) === 0) || (serial[i] === 0xff && (serial[i + 1]! & 0x80) !== 0))
  )
    i++;
  let s = '';
  for (; i < serial.length; i++) s += serial[i]!.toString(16).padStart(2, '0');
  return s;
}

const bad: (what: string) => never = (what) => {
  throw new CMSInvalid(`CRL: ${what}`);
};
const isSeq = (t: Tlv | undefined): t is Tlv => !!t && t.cls === 0 && t.tagNo === TAG.SEQUENCE && t.constructed;
const isTime = (t: Tlv | undefined): t is Tlv =>
  !!t && t.cls === 0 && !t.constructed && (t.tagNo === TAG.UTCTime || t.tagNo === TAG.GeneralizedTime);
const isCtx = (t: Tlv | undefined, n: number): boolean => !!t && t.cls === 2 && t.tagNo === n;

/** The whole value of an extension must be one element of the expected kind. */
function single(val: Uint8Array, what: string): Tlv {
  if (val.length === 0) bad(`malformed ${what}`);
  const t = readTlv(val, 0);
  if (t.end !== val.length) bad(`malformed ${what}`);
  return t;
}

/** Extensions ::= SEQUENCE OF SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
function readExtensions(der: Uint8Array, t: Tlv): CrlExtension[] {
  return children(der, t).map((x) => {
    if (!isSeq(x)) bad('an extension is not a SEQUENCE');
    const p = children(der, x);
    if (p.length < 2 || p.length > 3) bad('malformed extension');
    let critical = false;
    if (p.length === 3) {
      const c = p[1]!;
      if (c.cls !== 0 || c.tagNo !== TAG.BOOLEAN || c.constructed || c.contentEnd - c.contentStart !== 1) bad('malformed extension critical flag');
      critical = der[c.contentStart] !== 0;
    }
    const v = p[p.length - 1]!;
    if (v.cls !== 0 || v.tagNo !== TAG.OCTET_STRING || v.constructed) bad('malformed extension value');
    if (p[0]!.cls !== 0 || p[0]!.tagNo !== TAG.OID) bad('malformed extension id');
    return { oid: decodeOid(der, p[0]!), critical, value: der.subarray(v.contentStart, v.contentEnd) };
  });
}

/** A non-negative INTEGER of at most 20 octets (cRLNumber, BaseCRLNumber: RFC 5280 §5.2.3). */
function crlNumberOf(val: Uint8Array, what: string): bigint {
  const t = single(val, what);
  const n = t.contentEnd - t.contentStart;
  if (t.cls !== 0 || t.tagNo !== TAG.INTEGER || t.constructed || n === 0 || n > 21 || (val[t.contentStart]! & 0x80) !== 0) bad(`malformed ${what}`);
  let v = 0n;
  for (let i = t.contentStart; i < t.contentEnd; i++) v = (v << 8n) | BigInt(val[i]!);
  return v;
}

/** GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName, read from the children of `t` (a SEQUENCE or an IMPLICIT tag). */
function readGeneralNames(buf: Uint8Array, t: Tlv, what: string): GeneralName[] {
  if (!t.constructed) bad(`malformed ${what}`);
  const kids = children(buf, t);
  if (kids.length === 0) bad(`empty ${what}`);
  if (kids.length > MAX_NAMES) bad(`more than ${MAX_NAMES} names in ${what}`);
  return kids.map((g) => {
    if (g.cls !== 2 || g.tagNo > 8) bad(`malformed GeneralName in ${what}`);
    const out: GeneralName = { tag: g.tagNo, der: buf.subarray(g.start, g.end) };
    if (g.tagNo === 4) {
      // directoryName [4] EXPLICIT Name (a CHOICE, so the tag is explicit)
      const inner = g.constructed ? children(buf, g) : [];
      if (inner.length !== 1 || !isSeq(inner[0])) bad(`malformed directoryName in ${what}`);
      out.name = buf.subarray(inner[0]!.start, inner[0]!.end);
    }
    return out;
  });
}

/** ReasonFlags ::= BIT STRING, as a mask of bits 1–8 (see {@link ALL_REASONS}). */
function readReasonFlags(buf: Uint8Array, t: Tlv, what: string): number {
  if (t.constructed) bad(`malformed ${what}`);
  const n = t.contentEnd - t.contentStart;
  if (n === 0 || n > 3 || buf[t.contentStart]! > 7) bad(`malformed ${what}`);
  let mask = 0;
  for (let bit = 0; bit < 9 && bit < (n - 1) * 8; bit++) {
    if ((buf[t.contentStart + 1 + (bit >> 3)]! & (0x80 >> (bit & 7))) !== 0) mask |= 1 << bit;
  }
  return mask & ALL_REASONS;
}

/** DistributionPointName ::= CHOICE { fullName [0] GeneralNames, nameRelativeToCRLIssuer [1] RDN }, `t` being the [0] EXPLICIT wrapper. */
function readDpName(buf: Uint8Array, t: Tlv, what: string): DistributionPointName {
  const inner = t.constructed ? children(buf, t) : [];
  if (inner.length !== 1) bad(`malformed distributionPoint in ${what}`);
  const n = inner[0]!;
  if (isCtx(n, 0)) return { fullName: readGeneralNames(buf, n, what) };
  if (isCtx(n, 1) && n.constructed) {
    const atvs = children(buf, n);
    if (atvs.length === 0 || atvs.some((a) => !isSeq(a))) bad(`malformed nameRelativeToCRLIssuer in ${what}`);
    // Re-tagged as the universal SET it is IMPLICITly tagged from, so it can be appended to a Name.
    const rdn = buf.slice(n.start, n.end);
    rdn[0] = 0x31;
    return { nameRelativeToCRLIssuer: rdn };
  }
  return bad(`malformed distributionPoint in ${what}`);
}

/**
 * CRLDistributionPoints / FreshestCRL ::= SEQUENCE SIZE (1..MAX) OF DistributionPoint (RFC 5280 §4.2.1.13), from the
 * extension's value. At most 64 distribution points; malformed → CMSInvalid.
 */
export function parseDistributionPoints(val: Uint8Array, what = 'cRLDistributionPoints'): DistributionPoint[] {
  const t = single(val, what);
  if (!isSeq(t)) bad(`malformed ${what}`);
  const dps = children(val, t);
  if (dps.length === 0) bad(`empty ${what}`);
  if (dps.length > MAX_NAMES) bad(`more than ${MAX_NAMES} distribution points in ${what}`);
  return dps.map((d) => {
    if (!isSeq(d)) bad(`malformed DistributionPoint in ${what}`);
    const out: DistributionPoint = {};
    let last = -1;
    for (const f of children(val, d)) {
      if (f.cls !== 2 || f.tagNo > 2 || f.tagNo <= last) bad(`malformed DistributionPoint in ${what}`);
      last = f.tagNo;
      if (f.tagNo === 0) out.distributionPoint = readDpName(val, f, what);
      else if (f.tagNo === 1) out.reasons = readReasonFlags(val, f, what);
      else out.cRLIssuer = readGeneralNames(val, f, what);
    }
    if (!out.distributionPoint && !out.cRLIssuer) bad(`a DistributionPoint with neither a name nor a cRLIssuer in ${what}`);
    return out;
  });
}

/** IssuingDistributionPoint (RFC 5280 §5.2.5) from the extension's value. */
export function parseIssuingDistributionPoint(val: Uint8Array): IssuingDistributionPoint {
  const what = 'issuingDistributionPoint';
  const t = single(val, what);
  if (!isSeq(t)) bad(`malformed ${what}`);
  const out: IssuingDistributionPoint = {
    onlyContainsUserCerts: false,
    onlyContainsCACerts: false,
    indirectCRL: false,
    onlyContainsAttributeCerts: false,
    der: val,
  };
  const flag = (f: Tlv): boolean => {
    if (f.constructed || f.contentEnd - f.contentStart !== 1) bad(`malformed ${what}`);
    return val[f.contentStart] !== 0;
  };
  let last = -1;
  for (const f of children(val, t)) {
    if (f.cls !== 2 || f.tagNo > 5 || f.tagNo <= last) bad(`malformed ${what}`);
    last = f.tagNo;
    switch (f.tagNo) {
      case 0:
        out.distributionPoint = readDpName(val, f, what);
        break;
      case 1:
        out.onlyContainsUserCerts = flag(f);
        break;
      case 2:
        out.onlyContainsCACerts = flag(f);
        break;
      case 3:
        out.onlySomeReasons = readReasonFlags(val, f, what);
        break;
      case 4:
        out.indirectCRL = flag(f);
        break;
      default:
        out.onlyContainsAttributeCerts = flag(f);
    }
  }
  // RFC 5280 §5.2.5: at most one of the three onlyContains… booleans may be asserted.
  if (+out.onlyContainsUserCerts + +out.onlyContainsCACerts + +out.onlyContainsAttributeCerts > 1) bad(`${what} asserts more than one onlyContains…`);
  return out;
}

/** AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL, … }: the keyIdentifier. */
function akiOf(val: Uint8Array): Uint8Array | undefined {
  const aki = val.length > 0 ? readTlv(val, 0) : undefined;
  if (!isSeq(aki) || aki.end !== val.length) bad('malformed authorityKeyIdentifier');
  const k = children(val, aki).find((c) => c.cls === 2 && c.tagNo === 0 && !c.constructed);
  return k ? val.subarray(k.contentStart, k.contentEnd) : undefined;
}

/**
 * A Name with one more RDN: the full name of a nameRelativeToCRLIssuer distribution point (RFC 5280 §4.2.1.13,
 * §5.2.5). `name` is a Name's DER (SEQUENCE OF RDN), `rdn` a SET.
 */
export function appendRdn(name: Uint8Array, rdn: Uint8Array): Uint8Array {
  const t = readTlv(name, 0);
  return seq(name.subarray(t.contentStart, t.contentEnd), rdn);
}

/**
 * Parses an X.509 CertificateList (RFC 5280 §5). Every field's tag is checked before it is read, so anything
 * malformed is a CMSInvalid, never a TypeError: a missing or mistagged field, an empty AlgorithmIdentifier or one
 * that differs from the outer one, a bad time, an extension without its OID or value, a reasonCode that is not a
 * one-byte ENUMERATED of a defined reason (RFC 5280 §5.3.1), a malformed known extension (authorityKeyIdentifier,
 * cRLNumber, deltaCRLIndicator, issuingDistributionPoint, freshestCRL, invalidityDate, certificateIssuer) or the
 * same extension twice. Unknown extensions are kept; the critical ones are listed in `unknownCritical`.
 */
export function parseCrl(der: Uint8Array): ParsedCrl {
  const top = readTlv(der, 0);
  if (!isSeq(top)) bad('not a SEQUENCE');
  const outer = children(der, top);
  if (outer.length !== 3) bad('expected tbsCertList, signatureAlgorithm and signatureValue');
  const [tbsT, algT, sigT] = outer as [Tlv, Tlv, Tlv];
  if (!isSeq(tbsT)) bad('tbsCertList is not a SEQUENCE');
  const signatureAlgorithm = readAlgorithm(der, algT, 'CRL signatureAlgorithm');
  if (sigT.cls !== 0 || sigT.tagNo !== TAG.BIT_STRING || sigT.constructed || sigT.contentEnd === sigT.contentStart)
    bad('malformed signatureValue'); // a wrong unused-bits octet is left to the signature check
  const f = children(der, tbsT);
  let i = 0;
  let version = 1;
  if (f[0] && f[0].cls === 0 && f[0].tagNo === TAG.INTEGER) {
    // Version ::= INTEGER { v1(0), v2(1) }; v1 CRLs omit it.
    if (f[0].contentEnd - f[0].contentStart !== 1 || der[f[0].contentStart]! > 1) bad('unsupported version');
    version = der[f[0].contentStart]! + 1;
    i++;
  }
  if (readAlgorithm(der, f[i++], 'CRL tbsCertList signature').oid !== signatureAlgorithm.oid) bad('the two signature algorithms differ');
  const issuerT = f[i++];
  if (!isSeq(issuerT)) bad('issuer is not a Name');
  const thisT = f[i++];
  if (!isTime(thisT)) bad('missing thisUpdate');
  const crl: ParsedCrl = {
    der: der.subarray(0, top.end),
    tbs: der.subarray(tbsT.start, tbsT.end),
    version,
    issuer: der.subarray(issuerT.start, issuerT.end),
    thisUpdate: parseTime(der, thisT),
    revoked: new Map(),
    entries: [],
    bySerial: new Map(),
    signatureAlgorithm,
    signature: der.subarray(sigT.contentStart + 1, sigT.contentEnd),
    extensions: [],
    unknownCritical: [],
    unknownCriticalEntryExtension: false,
  };
  if (isTime(f[i])) crl.nextUpdate = parseTime(der, f[i++]!);
  if (isSeq(f[i])) {
    let certificateIssuer: Uint8Array[] | undefined;
    for (const e of children(der, f[i++]!)) {
      const entry = readEntry(der, e, certificateIssuer);
      certificateIssuer = entry.certificateIssuer;
      crl.entries.push(entry);
      const list = crl.bySerial.get(entry.key);
      if (list) list.push(entry);
      else crl.bySerial.set(entry.key, [entry]);
      if (entry.unknownCritical.length > 0) crl.unknownCriticalEntryExtension = true;
      if (!entry.certificateIssuer && !crl.revoked.has(entry.key)) crl.revoked.set(entry.key, { date: entry.date, reason: entry.reason });
    }
  }
  const w = f[i];
  if (w && w.cls === 2 && w.tagNo === 0 && w.constructed) {
    // crlExtensions [0] EXPLICIT Extensions
    const inner = children(der, w);
    if (inner.length !== 1 || !isSeq(inner[0])) bad('malformed crlExtensions');
    crl.extensions = readExtensions(der, inner[0]!);
    const seen = new Set<string>();
    for (const ext of crl.extensions) {
      if (seen.has(ext.oid)) bad(`extension ${ext.oid} appears twice`);
      seen.add(ext.oid);
      switch (ext.oid) {
        case CRL_OID.authorityKeyIdentifier:
          crl.aki = akiOf(ext.value);
          break;
        case CRL_OID.cRLNumber:
          crl.crlNumber = crlNumberOf(ext.value, 'cRLNumber');
          break;
        case CRL_OID.deltaCRLIndicator:
          crl.deltaCrlIndicator = crlNumberOf(ext.value, 'deltaCRLIndicator');
          break;
        case CRL_OID.issuingDistributionPoint:
          crl.issuingDistributionPoint = parseIssuingDistributionPoint(ext.value);
          break;
        case CRL_OID.freshestCRL:
          crl.freshestCrl = parseDistributionPoints(ext.value, 'freshestCRL');
          break;
        default:
          if (ext.critical && !KNOWN_CRL_EXTENSIONS.has(ext.oid)) crl.unknownCritical.push(ext.oid);
      }
    }
    i++;
  }
  if (i !== f.length) bad('unexpected field in tbsCertList');
  return crl;
}

/**
 * One revokedCertificates entry: SEQUENCE { userCertificate INTEGER, revocationDate Time, crlEntryExtensions
 * Extensions OPTIONAL }. `carried` is the certificateIssuer in force from the previous entries.
 */
function readEntry(der: Uint8Array, e: Tlv, carried: Uint8Array[] | undefined): CrlEntry {
  if (!isSeq(e)) bad('an entry is not a SEQUENCE');
  const [snT, dT, extT, more] = children(der, e);
  if (!snT || snT.cls !== 0 || snT.tagNo !== TAG.INTEGER || snT.constructed || snT.contentEnd === snT.contentStart)
    bad('an entry has no serial number');
  if (!isTime(dT)) bad('an entry has no revocation date');
  if (more || (extT && !isSeq(extT))) bad('malformed entry');
  const serial = der.subarray(snT.contentStart, snT.contentEnd);
  const entry: CrlEntry = {
    serial,
    key: serialKey(serial),
    date: parseTime(der, dT),
    unknownCritical: [],
    extensions: extT ? readExtensions(der, extT) : [],
  };
  if (carried) entry.certificateIssuer = carried;
  const seen = new Set<string>();
  for (const ext of entry.extensions) {
    if (seen.has(ext.oid)) bad(`entry extension ${ext.oid} appears twice`);
    seen.add(ext.oid);
    const v = ext.value;
    switch (ext.oid) {
      case CRL_OID.reasonCode:
        // CRLReason ::= ENUMERATED, one of 0–6 or 8–10.
        if (v.length !== 3 || v[0] !== 0x0a || v[1] !== 1 || v[2]! > 10 || v[2] === 7) bad('malformed reasonCode');
        entry.reason = v[2];
        break;
      case CRL_OID.invalidityDate: {
        const t = single(v, 'invalidityDate');
        if (t.cls !== 0 || t.tagNo !== TAG.GeneralizedTime) bad('malformed invalidityDate');
        entry.invalidityDate = parseTime(v, t);
        break;
      }
      case CRL_OID.certificateIssuer: {
        const t = single(v, 'certificateIssuer');
        if (!isSeq(t)) bad('malformed certificateIssuer');
        // Only the directory names can name a certificate's issuer; none (a URI…) matches no certificate.
        entry.certificateIssuer = readGeneralNames(v, t, 'certificateIssuer').flatMap((g) => (g.name ? [g.name] : []));
        break;
      }
      default:
        if (ext.critical && !KNOWN_ENTRY_EXTENSIONS.has(ext.oid)) entry.unknownCritical.push(ext.oid);
    }
  }
  return entry;
}
