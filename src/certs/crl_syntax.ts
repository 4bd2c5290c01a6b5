/**
 * The form checks that the CRL parsers (the header in crl.ts, the entries in crl_entries.ts, the distribution points
 * in distribution_points.ts) share: the `CMSInvalid` they throw, and the tag tests of the elements they read.
 */
import { CMSInvalid } from '../errors.js';
import { readTlv, TAG, type Tlv } from '../lib/der.js';

/** Throws the `CMSInvalid` of a malformed CRL or CRL-related extension: `CRL: <what>`. */
export const bad: (what: string) => never = (what) => {
  throw new CMSInvalid(`CRL: ${what}`);
};
/** Whether `t` is a universal, constructed SEQUENCE. */
export const isSeq = (t: Tlv | undefined): t is Tlv => !!t && t.cls === 0 && t.tagNo === TAG.SEQUENCE && t.constructed;
/** Whether `t` is a Time (a primitive UTCTime or GeneralizedTime). */
export const isTime = (t: Tlv | undefined): t is Tlv =>
  !!t && t.cls === 0 && !t.constructed && (t.tagNo === TAG.UTCTime || t.tagNo === TAG.GeneralizedTime);
/** Whether `t` has the context tag `n`. */
export const isCtx = (t: Tlv | undefined, n: number): boolean => !!t && t.cls === 2 && t.tagNo === n;

/** The whole value of an extension must be one element of the expected kind. */
export function single(val: Uint8Array, what: string): Tlv {
  if (val.length === 0) bad(`malformed ${what}`);
  const t = readTlv(val, 0);
  if (t.end !== val.length) bad(`malformed ${what}`);
  return t;
}
