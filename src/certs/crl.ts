/**
 * X.509 CRLs (RFC 5280 §5): the CertificateList model and the parser of its header, with every CRL extension that
 * RFC 5280 §6.3 revocation checking reads (cRLNumber, deltaCRLIndicator, issuingDistributionPoint,
 * authorityKeyIdentifier, freshestCRL), the unknown critical ones listed. The revokedCertificates entries are checked
 * and read by crl_entries.ts; the DistributionPoint syntax shared with certificates is in distribution_points.ts.
 *
 * Every field's tag is checked before it is read, so anything malformed is a `CMSInvalid`, never a TypeError. The
 * work is linear in the size of the CRL: the BER reader bounds nesting and the number of elements of one value.
 *
 * The entries are checked when the CRL is parsed but read only when used: `parseCrl` reads the header and checks
 * the entries' form, with no Date, key or object per entry; revocation checking asks `entriesFor(serial)` of a CRL
 * whose signature verified, which compares serial octets and reads only the matching entries.
 */
import { children, decodeOid, readAlgorithm, readTlv, TAG, type ParsedAlgorithm, type Tlv } from '../lib/der.js';
import { parseTime } from '../lib/time.js';
import { CRL_ENTRY_OID, CrlEntries } from './crl_entries.js';
import { bad, isSeq, isTime, single } from './crl_syntax.js';
import { parseDistributionPoints, readDpName, readReasonFlags, type DistributionPoint, type DistributionPointName } from './distribution_points.js';

/** CRL and entry extension OIDs (RFC 5280 §5.2, §5.3), and the certificate extensions that point to CRLs. */
export const CRL_OID = {
  authorityKeyIdentifier: '2.5.29.35',
  issuerAltName: '2.5.29.18',
  cRLNumber: '2.5.29.20',
  deltaCRLIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  freshestCRL: '2.5.29.46',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  ...CRL_ENTRY_OID,
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
  let list: CrlEntries | undefined;
  if (isSeq(f[i])) {
    // Checked now (a malformed entry makes the CRL malformed), read when used.
    list = new CrlEntries(crl.der, f[i++]!);
    crl.entryCount = list.count;
    crl.unknownCriticalEntryExtension = list.unknownCritical;
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
  return new LazyCrl(crl, list);
}

/** The fields of a ParsedCrl that `parseCrl` reads at once: all but the entries. */
type CrlHeader = Omit<ParsedCrl, 'entriesFor' | 'entries' | 'bySerial' | 'revoked'>;
/** The header fields of a LazyCrl (declaration merging), assigned from its CrlHeader by the constructor. */
interface LazyCrl extends CrlHeader {}

/**
 * A CRL whose entries are read on demand: `entriesFor` asks the entries about one serial; `entries` (and `bySerial`,
 * `revoked`, built from it) reads them all once and keeps them.
 */
class LazyCrl implements ParsedCrl {
  /** The revokedCertificates entries, undefined when the CRL has none. */
  readonly #list: CrlEntries | undefined;
  #entries?: CrlEntry[];
  #bySerial?: Map<string, CrlEntry[]>;
  #revoked?: Map<string, { date: Date; reason?: number }>;

  constructor(header: CrlHeader, list: CrlEntries | undefined) {
    Object.assign(this, header);
    this.#list = list;
  }

  entriesFor(serial: Uint8Array): CrlEntry[] {
    return this.#list ? this.#list.entriesFor(serial) : [];
  }

  get entries(): CrlEntry[] {
    this.#entries ??= this.#list ? this.#list.readAll() : [];
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
