/**
 * X.509 CRLs (RFC 5280 §5): the CertificateList parser, with every CRL extension and entry extension that RFC 5280
 * §6.3 revocation checking reads (cRLNumber, deltaCRLIndicator, issuingDistributionPoint, authorityKeyIdentifier,
 * freshestCRL; reasonCode, invalidityDate, certificateIssuer), the unknown critical ones listed, and the
 * DistributionPoint syntax shared with the certificates' cRLDistributionPoints extension (RFC 5280 §4.2.1.13).
 *
 * Every field's tag is checked before it is read, so anything malformed is a `CMSInvalid`, never a TypeError. The
 * work is linear in the size of the CRL: the BER reader bounds nesting and the number of elements of one value.
 *
 * The entries are checked when the CRL is parsed but read only when used: a CRL in a message is the sender's to
 * choose (a real one can have 100 000 entries), and most CRLs are never used (not the issuer's, out of scope, a
 * bad signature). `parseCrl` reads the header and walks the entries checking each one's form, with no Date, key or
 * object per entry; revocation checking asks `entriesFor(serial)` of a CRL whose signature verified, which compares
 * serial octets and reads only the matching entries.
 */
import { CMSInvalid, CMSLimitExceeded } from '../errors.js';
import {
  berLimitsInForce,
  children,
  decodeOid,
  readAlgorithm,
  readTlv,
  seq,
  TAG,
  withBerLimits,
  type BerLimits,
  type ParsedAlgorithm,
  type Tlv,
} from '../lib/der.js';
import { checkTime, parseTime } from '../lib/time.js';

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

/**
 * A parsed CertificateList. The header (everything revocation checking reads before it trusts the CRL: issuer,
 * times, extensions) is read by `parseCrl`; the revokedCertificates entries are only checked there, and read when
 * asked for: `entriesFor` reads the entries about one serial, `entries`/`bySerial`/`revoked` read them all once.
 */
export interface ParsedCrl {
  der: Uint8Array;
  tbs: Uint8Array;
  /** 1 (v1, no version field) or 2. */
  version: number;
  issuer: Uint8Array;
  thisUpdate: Date;
  nextUpdate?: Date;
  /** The number of revokedCertificates entries. */
  entryCount: number;
  /**
   * The entries whose serial is `serial` by value (as {@link serialKey} compares), in CRL order, each with its
   * certificateIssuer. Reads only those entries: the others are compared by their serial's octets.
   */
  entriesFor(serial: Uint8Array): CrlEntry[];
  /**
   * serial (`serialKey`) → revocation date and reason code, for the entries about certificates the
   * CRL issuer issued (not those under a certificateIssuer of an indirect CRL); the first entry wins.
   * Built from `entries` on first use.
   */
  readonly revoked: Map<string, { date: Date; reason?: number }>;
  /** Every entry in order, read on first use (every entry: prefer `entriesFor` for one serial). */
  readonly entries: CrlEntry[];
  /** The entries by `serialKey` (several when an indirect CRL lists the same serial for different issuers); built from `entries` on first use. */
  readonly bySerial: Map<string, CrlEntry[]>;
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
  /** Whether some entry has a critical extension this module does not understand (known at parse time). */
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
 * same extension twice. Unknown extensions are kept; the critical ones are listed in `unknownCritical`. The
 * entries are checked the same way (a malformed entry is a CMSInvalid here) but not read: see {@link ParsedCrl}.
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
  const crl: CrlHeader = {
    der: der.subarray(0, top.end),
    tbs: der.subarray(tbsT.start, tbsT.end),
    version,
    issuer: der.subarray(issuerT.start, issuerT.end),
    thisUpdate: parseTime(der, thisT),
    entryCount: 0,
    signatureAlgorithm,
    signature: der.subarray(sigT.contentStart + 1, sigT.contentEnd),
    extensions: [],
    unknownCritical: [],
    unknownCriticalEntryExtension: false,
  };
  if (isTime(f[i])) crl.nextUpdate = parseTime(der, f[i++]!);
  let list: Tlv | undefined;
  let issuerEntries: number[] = [];
  if (isSeq(f[i])) {
    // Checked now (a malformed entry makes the CRL malformed), read when used.
    list = f[i++]!;
    const scan = checkEntries(der, list);
    crl.entryCount = scan.count;
    crl.unknownCriticalEntryExtension = scan.unknownCritical;
    issuerEntries = scan.issuerEntries;
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
  return new LazyCrl(crl, list, berLimitsInForce(), issuerEntries);
}

/** The fields of a ParsedCrl that `parseCrl` reads at once: all but the entries. */
type CrlHeader = Omit<ParsedCrl, 'entriesFor' | 'entries' | 'bySerial' | 'revoked'>;

/**
 * How many CRL entries have been read in full (serial key, revocation date, extensions) since the module was
 * loaded. For tests: a CRL that is never used (its signature never verified) costs no entry reading.
 */
export const crlEntryReads: { count: number } = { count: 0 };

/**
 * After this many lookups by serial on one CRL (one kept in a store and used again and again), an index of its
 * entries' offsets by serial replaces the walk.
 */
const WALKS_BEFORE_INDEX = 8;

/** The header fields of a LazyCrl (declaration merging), assigned from its CrlHeader by the constructor. */
interface LazyCrl extends CrlHeader {}

/**
 * A CRL whose entries are read on demand: `entriesFor` walks the entries comparing serial octets and reads only
 * the matches; `entries` (and `bySerial`, `revoked`, built from it) reads them all once and keeps them. The entries
 * were checked by `parseCrl` (under the BER limits then in force, which the reads here use again), so reading them
 * does not fail.
 */
class LazyCrl implements ParsedCrl {
  /** The revokedCertificates SEQUENCE, undefined when the CRL has none. */
  readonly #list: Tlv | undefined;
  readonly #lim: BerLimits;
  /** The offsets (in `der`) of the entries that have a certificateIssuer extension, in order. */
  readonly #issuerEntries: number[];
  /** Lookups by walking so far; after WALKS_BEFORE_INDEX, `#index` is built. */
  #walks = 0;
  #index?: SerialIndex;
  #entries?: CrlEntry[];
  #bySerial?: Map<string, CrlEntry[]>;
  #revoked?: Map<string, { date: Date; reason?: number }>;

  constructor(header: CrlHeader, list: Tlv | undefined, lim: BerLimits, issuerEntries: number[]) {
    Object.assign(this, header);
    this.#list = list;
    this.#lim = lim;
    this.#issuerEntries = issuerEntries;
  }

  entriesFor(serial: Uint8Array): CrlEntry[] {
    const list = this.#list;
    if (!list || serial.length === 0) return [];
    const der = this.der;
    return withBerLimits(this.#lim, () => {
      const want = trimSerial(serial, 0, serial.length);
      if (!this.#index && ++this.#walks > WALKS_BEFORE_INDEX) this.#index = buildIndex(der, list);
      // The candidates: every entry on a walk, those with the serial's hash with the index; then the octets compared.
      const found: number[] = [];
      const consider = (start: number): void => {
        const sn = readAt(der, readAt(der, start, list.contentEnd, E).contentStart, E.contentEnd, SN);
        const from = trimSerial(der, sn.contentStart, sn.contentEnd);
        if (sn.contentEnd - from !== serial.length - want) return;
        for (let i = 0; from + i < sn.contentEnd; i++) if (der[from + i] !== serial[want + i]) return;
        found.push(start);
      };
      if (this.#index) {
        const at = this.#index.get(serialHash(serial, want, serial.length)) ?? [];
        for (const start of typeof at === 'number' ? [at] : at) consider(start);
      } else for (let p = list.contentStart; p < list.contentEnd; p = E.end) consider(p);
      const out: CrlEntry[] = [];
      const visit = newVisit();
      for (const start of found) {
        const carried = this.#carriedAt(start, list);
        visitEntry(der, readAt(der, start, list.contentEnd, E), carried, true, visit);
        out.push(visit.entry!);
      }
      return out;
    });
  }

  /** The certificateIssuer in force at the entry at `start` from the entries before it (RFC 5280 §5.3.3); undefined: the CRL issuer. */
  #carriedAt(start: number, list: Tlv): Uint8Array[] | undefined {
    const issuers = this.#issuerEntries;
    // the last entry with a certificateIssuer before `start` (binary search: they are in order)
    let lo = 0;
    let hi = issuers.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (issuers[mid]! < start) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return undefined;
    const visit = newVisit();
    visitEntry(this.der, readAt(this.der, issuers[lo - 1]!, list.contentEnd, E), undefined, false, visit);
    return visit.issuer;
  }

  get entries(): CrlEntry[] {
    if (!this.#entries) {
      const list = this.#list;
      const der = this.der;
      const out: CrlEntry[] = [];
      if (list) {
        withBerLimits(this.#lim, () => {
          const visit = newVisit();
          let carried: Uint8Array[] | undefined;
          for (let p = list.contentStart; p < list.contentEnd; ) {
            p = readAt(der, p, list.contentEnd, E).end;
            visitEntry(der, E, carried, true, visit);
            carried = visit.entry!.certificateIssuer;
            out.push(visit.entry!);
          }
        });
      }
      this.#entries = out;
    }
    return this.#entries;
  }

  get bySerial(): Map<string, CrlEntry[]> {
    if (!this.#bySerial) {
      const m = new Map<string, CrlEntry[]>();
      for (const entry of this.entries) {
        const list = m.get(entry.key);
        if (list) list.push(entry);
        else m.set(entry.key, [entry]);
      }
      this.#bySerial = m;
    }
    return this.#bySerial;
  }

  get revoked(): Map<string, { date: Date; reason?: number }> {
    if (!this.#revoked) {
      const m = new Map<string, { date: Date; reason?: number }>();
      for (const entry of this.entries) if (!entry.certificateIssuer && !m.has(entry.key)) m.set(entry.key, { date: entry.date, reason: entry.reason });
      this.#revoked = m;
    }
    return this.#revoked;
  }
}

/** The offset in `b` where the INTEGER content `b[from, to)` starts once its redundant leading octets are dropped (see {@link serialKey}). */
function trimSerial(b: Uint8Array, from: number, to: number): number {
  while (from < to - 1 && ((b[from] === 0 && (b[from + 1]! & 0x80) === 0) || (b[from] === 0xff && (b[from + 1]! & 0x80) !== 0))) from++;
  return from;
}

/** FNV-1a of `b[from, to)`: the index key of a serial (collisions are told apart by comparing the octets). */
function serialHash(b: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h & 0x3fffffff; // a small integer, the cheapest Map key
}

/** Entry offsets by the hash of their serial (without redundant leading octets): one offset, or several. */
type SerialIndex = Map<number, number | number[]>;

/** The index of the entries of `list`. */
function buildIndex(der: Uint8Array, list: Tlv): SerialIndex {
  const index: SerialIndex = new Map();
  for (let p = list.contentStart; p < list.contentEnd; p = E.end) {
    const sn = readAt(der, readAt(der, p, list.contentEnd, E).contentStart, E.contentEnd, SN);
    const key = serialHash(der, trimSerial(der, sn.contentStart, sn.contentEnd), sn.contentEnd);
    const at = index.get(key);
    if (at === undefined) index.set(key, p);
    else if (typeof at === 'number') index.set(key, [at, p]);
    else at.push(p);
  }
  return index;
}

/**
 * The parse-time check of revokedCertificates (`list`, a SEQUENCE OF entry): every element read first, as
 * `children` would (at most `maxBerElements`), then every entry checked as reading it would check it, without
 * building it. Returns their number, whether one has an unknown critical extension, and where the entries with a
 * certificateIssuer are (what a lookup needs to know which issuer an entry is about).
 */
function checkEntries(der: Uint8Array, list: Tlv): { count: number; unknownCritical: boolean; issuerEntries: number[] } {
  const count = countElements(der, list);
  let unknownCritical = false;
  const issuerEntries: number[] = [];
  const visit = newVisit();
  for (let p = list.contentStart; p < list.contentEnd; ) {
    p = readAt(der, p, list.contentEnd, E).end;
    visitEntry(der, E, undefined, false, visit);
    if (visit.unknownCritical) unknownCritical = true;
    if (visit.issuer) issuerEntries.push(E.start);
  }
  return { count, unknownCritical, issuerEntries };
}

/** The number of elements of the constructed `t`, each read as `children(der, t)` reads them (at most `maxBerElements`). */
function countElements(der: Uint8Array, t: Tlv): number {
  const max = berLimitsInForce().maxChunks;
  let count = 0;
  for (let p = t.contentStart; p < t.contentEnd; ) {
    p = readAt(der, p, t.contentEnd, X).end;
    if (++count > max) throw new CMSLimitExceeded(`more than ${max} elements in one BER value`, { limit: 'maxBerElements' });
  }
  return count;
}

/** A Tlv that the entry reads fill in place (see {@link readAt}). */
const newTlv = (): Tlv => ({ cls: 0, constructed: false, tagNo: 0, start: 0, contentStart: 0, contentEnd: 0, end: 0, indefinite: false });
/**
 * The elements of the entry being read: the entry, its serial, date and extensions, one extension and its parts.
 * Reading entries never nests (a visit does not start another), so one set serves every read.
 */
const [E, SN, DT, EXT, X, P0, P1, P2, P3] = Array.from({ length: 9 }, newTlv) as [Tlv, Tlv, Tlv, Tlv, Tlv, Tlv, Tlv, Tlv, Tlv];
/** The parts of one extension, in order. */
const PARTS: readonly Tlv[] = [P0, P1, P2, P3];

/**
 * Reads the element at `pos` (in a value that ends at `limit`) into `into`, as `readTlv(der, pos, limit, 1)` would:
 * the usual case (a low tag number, a definite length of at most 4 octets that fits) here, any other by readTlv,
 * which also throws on what is malformed. Returns `into`.
 */
function readAt(der: Uint8Array, pos: number, limit: number, into: Tlv): Tlv {
  if (pos + 2 <= limit) {
    const id = der[pos]!;
    let len = der[pos + 1]!;
    let p = pos + 2;
    if ((id & 0x1f) !== 0x1f && len !== 0x80) {
      let ok = true;
      if (len > 0x80) {
        const n = len & 0x7f;
        if (n > 4 || p + n > limit) ok = false;
        else for (len = 0; p < pos + 2 + n; p++) len = len * 256 + der[p]!;
      }
      if (ok && p + len <= limit) {
        into.cls = id >> 6;
        into.constructed = (id & 0x20) !== 0;
        into.tagNo = id & 0x1f;
        into.start = pos;
        into.contentStart = p;
        into.contentEnd = into.end = p + len;
        into.indefinite = false;
        return into;
      }
    }
  }
  return Object.assign(into, readTlv(der, pos, limit, 1));
}

/** What reading one entry gives (reused from entry to entry). */
interface EntryVisit {
  /** The entry, when read in full. */
  entry?: CrlEntry;
  /** The directory names of the entry's own certificateIssuer extension, when it has one. */
  issuer?: Uint8Array[];
  /** Whether the entry has a critical extension this module does not understand. */
  unknownCritical: boolean;
}

const newVisit = (): EntryVisit => ({ unknownCritical: false });

/** The entry extensions this module understands, by the last octet of their usual encoding (55 1D xx), with a bit each. */
const ENTRY_EXTENSIONS: ReadonlyMap<number, [string, number]> = new Map([
  [0x15, [CRL_OID.reasonCode, 1]],
  [0x17, [CRL_OID.holdInstructionCode, 2]],
  [0x18, [CRL_OID.invalidityDate, 4]],
  [0x1d, [CRL_OID.certificateIssuer, 8]],
]);
/** The bit of each understood entry extension (see ENTRY_EXTENSIONS). */
const ENTRY_EXTENSION_BIT: ReadonlyMap<string, number> = new Map([...ENTRY_EXTENSIONS.values()]);

/** An extension's OID (`t` is checked to be a universal OID), the usual encodings of the entry extensions without decoding. */
function extensionOid(der: Uint8Array, t: Tlv): string {
  const s = t.contentStart;
  if (!t.constructed && t.contentEnd - s === 3 && der[s] === 0x55 && der[s + 1] === 0x1d) {
    const known = ENTRY_EXTENSIONS.get(der[s + 2]!);
    if (known) return known[0];
  }
  return decodeOid(der, t);
}

/**
 * Reads the parts of the extension `x` (a SEQUENCE, in X) into P0… and returns their number (2 or 3), as
 * `children(der, x)` and the checks of an Extension would: a fourth part, or fewer than two, is malformed.
 */
function extensionParts(der: Uint8Array, x: Tlv): number {
  const end = x.contentEnd;
  let n = 0;
  for (let p = x.contentStart; p < end && n < 4; n++) p = readAt(der, p, end, PARTS[n]!).end;
  if (n === 4) children(der, x); // what reading all of them would throw first, if anything
  if (n < 2 || n > 3) bad('malformed extension');
  return n;
}

/**
 * One revokedCertificates entry (`e`): SEQUENCE { userCertificate INTEGER, revocationDate Time,
 * crlEntryExtensions Extensions OPTIONAL }, checked as it always was (malformed → CMSInvalid) and, when `full`,
 * read: its serial key, dates, reason, extensions (into `out.entry`). `carried` is the certificateIssuer in force
 * from the previous entries. The same checks either way, so an entry `parseCrl` has checked reads without error;
 * without `full` nothing is allocated for an entry without extensions, or with only a reasonCode.
 */
function visitEntry(der: Uint8Array, e: Tlv, carried: Uint8Array[] | undefined, full: boolean, out: EntryVisit): void {
  out.entry = undefined;
  out.issuer = undefined;
  out.unknownCritical = false;
  if (!isSeq(e)) bad('an entry is not a SEQUENCE');
  // Its elements, as `children` reads them, up to a fourth (which is malformed).
  const end = e.contentEnd;
  const start = e.contentStart;
  const snT = start < end ? readAt(der, start, end, SN) : undefined;
  const dT = snT && snT.end < end ? readAt(der, snT.end, end, DT) : undefined;
  const extT = dT && dT.end < end ? readAt(der, dT.end, end, EXT) : undefined;
  const more = extT !== undefined && extT.end < end;
  if (more) children(der, e); // what reading all of them would throw first, if anything
  if (!snT || snT.cls !== 0 || snT.tagNo !== TAG.INTEGER || snT.constructed || snT.contentEnd === snT.contentStart)
    bad('an entry has no serial number');
  if (!isTime(dT)) bad('an entry has no revocation date');
  if (more || (extT && !isSeq(extT))) bad('malformed entry');
  let entry: CrlEntry | undefined;
  if (full) {
    crlEntryReads.count++;
    const serial = der.subarray(snT.contentStart, snT.contentEnd);
    entry = { serial, key: serialKey(serial), date: parseTime(der, dT), unknownCritical: [], extensions: [] };
    if (carried) entry.certificateIssuer = carried;
    out.entry = entry;
  } else checkTime(der, dT);
  if (!extT) return;
  // Extensions ::= SEQUENCE OF SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }:
  // every element read, then each one's form, then each one's meaning.
  countElements(der, extT);
  for (let p = extT.contentStart; p < extT.contentEnd; ) {
    const x = readAt(der, p, extT.contentEnd, X);
    p = x.end;
    if (!isSeq(x)) bad('an extension is not a SEQUENCE');
    const n = extensionParts(der, x);
    if (n === 3 && (P1.cls !== 0 || P1.tagNo !== TAG.BOOLEAN || P1.constructed || P1.contentEnd - P1.contentStart !== 1))
      bad('malformed extension critical flag');
    const v = n === 3 ? P2 : P1;
    if (v.cls !== 0 || v.tagNo !== TAG.OCTET_STRING || v.constructed) bad('malformed extension value');
    if (P0.cls !== 0 || P0.tagNo !== TAG.OID) bad('malformed extension id');
    extensionOid(der, P0);
  }
  let seenKnown = 0;
  let seenOthers: string[] | Set<string> | undefined;
  for (let p = extT.contentStart; p < extT.contentEnd; ) {
    const x = readAt(der, p, extT.contentEnd, X);
    p = x.end;
    const n = extensionParts(der, x);
    const critical = n === 3 && der[P1.contentStart] !== 0;
    const v = n === 3 ? P2 : P1;
    const oid = extensionOid(der, P0);
    // The same extension twice is malformed (RFC 5280 §4.2).
    const bit = ENTRY_EXTENSION_BIT.get(oid);
    if (bit !== undefined) {
      if (seenKnown & bit) bad(`entry extension ${oid} appears twice`);
      seenKnown |= bit;
    } else if (seenOthers instanceof Set) {
      if (seenOthers.has(oid)) bad(`entry extension ${oid} appears twice`);
      seenOthers.add(oid);
    } else {
      const list: string[] = seenOthers ?? [];
      if (list.includes(oid)) bad(`entry extension ${oid} appears twice`);
      list.push(oid);
      seenOthers = list.length > 8 ? new Set(list) : list;
    }
    if (entry) entry.extensions.push({ oid, critical, value: der.subarray(v.contentStart, v.contentEnd) });
    const vs = v.contentStart;
    switch (oid) {
      case CRL_OID.reasonCode:
        // CRLReason ::= ENUMERATED, one of 0–6 or 8–10.
        if (v.contentEnd - vs !== 3 || der[vs] !== 0x0a || der[vs + 1] !== 1 || der[vs + 2]! > 10 || der[vs + 2] === 7) bad('malformed reasonCode');
        if (entry) entry.reason = der[vs + 2];
        break;
      case CRL_OID.invalidityDate: {
        const val = der.subarray(vs, v.contentEnd);
        const t = single(val, 'invalidityDate');
        if (t.cls !== 0 || t.tagNo !== TAG.GeneralizedTime) bad('malformed invalidityDate');
        if (entry) entry.invalidityDate = parseTime(val, t);
        else checkTime(val, t);
        break;
      }
      case CRL_OID.certificateIssuer: {
        const val = der.subarray(vs, v.contentEnd);
        const t = single(val, 'certificateIssuer');
        if (!isSeq(t)) bad('malformed certificateIssuer');
        // Only the directory names can name a certificate's issuer; none (a URI…) matches no certificate.
        out.issuer = readGeneralNames(val, t, 'certificateIssuer').flatMap((g) => (g.name ? [g.name] : []));
        if (entry) entry.certificateIssuer = out.issuer;
        break;
      }
      default:
        if (critical && !KNOWN_ENTRY_EXTENSIONS.has(oid)) {
          out.unknownCritical = true;
          entry?.unknownCritical.push(oid);
        }
    }
  }
}
