/**
 * The revokedCertificates of a CRL (RFC 5280 §5.1.2.6, §5.3): the raw entry walker, which checks or reads one entry
 * (serial, revocationDate, the entry extensions reasonCode, invalidityDate, certificateIssuer; the unknown critical
 * ones listed) without building anything it is not asked for, and the lazy lookup by serial, which walks the entries
 * comparing serial octets and, once one CRL is asked again and again, indexes their offsets by serial.
 *
 * `CrlEntries` checks every entry when it is made (so a malformed entry makes the CRL malformed) and reads entries
 * only when asked: a CRL in a message is the sender's to choose (a real one can have 100 000 entries), and most CRLs
 * are never used. Malformed → `CMSInvalid`; the BER limits in force when the entries were checked bound every read.
 */
import { CMSLimitExceeded } from '../errors.js';
import { berLimitsInForce, children, decodeOid, readTlv, TAG, withBerLimits, type BerLimits, type Tlv } from '../lib/der.js';
import { checkTime, parseTime } from '../lib/time.js';
import type { CrlEntry } from './crl.js';
import { bad, isSeq, isTime, single } from './crl_syntax.js';
import { readGeneralNames } from './distribution_points.js';

/** The CRL entry extension OIDs (RFC 5280 §5.3). */
export const CRL_ENTRY_OID = {
  reasonCode: '2.5.29.21',
  holdInstructionCode: '2.5.29.23',
  invalidityDate: '2.5.29.24',
  certificateIssuer: '2.5.29.29',
} as const;

/** The entry extensions this module understands (RFC 5280 §5.3). */
const KNOWN_ENTRY_EXTENSIONS: ReadonlySet<string> = new Set(Object.values(CRL_ENTRY_OID));

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

/**
 * The revokedCertificates entries of one CRL (`list`, a SEQUENCE OF entry in `der`), checked when made and read on
 * demand: `entriesFor` walks the entries comparing serial octets and reads only the matches; `readAll` reads them
 * all. The entries were checked by the constructor (under the BER limits then in force, which the reads here use
 * again), so reading them does not fail.
 */
export class CrlEntries {
  /** The number of entries. */
  readonly count: number;
  /** Whether some entry has a critical extension this module does not understand. */
  readonly unknownCritical: boolean;
  readonly #der: Uint8Array;
  /** The revokedCertificates SEQUENCE. */
  readonly #list: Tlv;
  readonly #lim: BerLimits;
  /** The offsets (in `der`) of the entries that have a certificateIssuer extension, in order. */
  readonly #issuerEntries: number[];
  /** Lookups by walking so far; after WALKS_BEFORE_INDEX, `#index` is built. */
  #walks = 0;
  #index?: SerialIndex;

  /** Checks every entry of `list` in `der` (malformed → CMSInvalid, too many → CMSLimitExceeded) under the BER limits in force. */
  constructor(der: Uint8Array, list: Tlv) {
    const scan = checkEntries(der, list);
    this.count = scan.count;
    this.unknownCritical = scan.unknownCritical;
    this.#der = der;
    this.#list = list;
    this.#lim = berLimitsInForce();
    this.#issuerEntries = scan.issuerEntries;
  }

  /** The entries whose serial is `serial` by value (as {@link serialKey} compares), in CRL order, each with its certificateIssuer. */
  entriesFor(serial: Uint8Array): CrlEntry[] {
    const list = this.#list;
    if (serial.length === 0) return [];
    const der = this.#der;
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
    visitEntry(this.#der, readAt(this.#der, issuers[lo - 1]!, list.contentEnd, E), undefined, false, visit);
    return visit.issuer;
  }

  /** Every entry, in order, each read in full. */
  readAll(): CrlEntry[] {
    const list = this.#list;
    const der = this.#der;
    const out: CrlEntry[] = [];
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
    return out;
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
  [0x15, [CRL_ENTRY_OID.reasonCode, 1]],
  [0x17, [CRL_ENTRY_OID.holdInstructionCode, 2]],
  [0x18, [CRL_ENTRY_OID.invalidityDate, 4]],
  [0x1d, [CRL_ENTRY_OID.certificateIssuer, 8]],
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
      case CRL_ENTRY_OID.reasonCode:
        // CRLReason ::= ENUMERATED, one of 0–6 or 8–10.
        if (v.contentEnd - vs !== 3 || der[vs] !== 0x0a || der[vs + 1] !== 1 || der[vs + 2]! > 10 || der[vs + 2] === 7) bad('malformed reasonCode');
        if (entry) entry.reason = der[vs + 2];
        break;
      case CRL_ENTRY_OID.invalidityDate: {
        const val = der.subarray(vs, v.contentEnd);
        const t = single(val, 'invalidityDate');
        if (t.cls !== 0 || t.tagNo !== TAG.GeneralizedTime) bad('malformed invalidityDate');
        if (entry) entry.invalidityDate = parseTime(val, t);
        else checkTime(val, t);
        break;
      }
      case CRL_ENTRY_OID.certificateIssuer: {
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
