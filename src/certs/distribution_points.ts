/**
 * The DistributionPoint syntax of RFC 5280 §4.2.1.13 that certificates (cRLDistributionPoints, freshestCRL) and
 * CRLs (issuingDistributionPoint, freshestCRL, an entry's certificateIssuer) share: GeneralNames, ReasonFlags,
 * DistributionPointName and DistributionPoint, and the full name of a nameRelativeToCRLIssuer.
 *
 * Malformed → `CMSInvalid`; at most 64 names in one GeneralNames and 64 distribution points in one extension.
 */
import { children, readTlv, seq, type Tlv } from '../lib/der.js';
import { bad, isCtx, isSeq, single } from './crl_syntax.js';

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

/** GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName, read from the children of `t` (a SEQUENCE or an IMPLICIT tag). */
export function readGeneralNames(buf: Uint8Array, t: Tlv, what: string): GeneralName[] {
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
export function readReasonFlags(buf: Uint8Array, t: Tlv, what: string): number {
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
export function readDpName(buf: Uint8Array, t: Tlv, what: string): DistributionPointName {
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

/**
 * A Name with one more RDN: the full name of a nameRelativeToCRLIssuer distribution point (RFC 5280 §4.2.1.13,
 * §5.2.5). `name` is a Name's DER (SEQUENCE OF RDN), `rdn` a SET.
 */
export function appendRdn(name: Uint8Array, rdn: Uint8Array): Uint8Array {
  const t = readTlv(name, 0);
  return seq(name.subarray(t.contentStart, t.contentEnd), rdn);
}
