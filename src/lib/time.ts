/**
 * The one DER Time reader (RFC 5280 §4.1.2.5, RFC 5652 §11.3): UTCTime and GeneralizedTime, for certificate
 * validity, CRL dates and the signingTime attribute.
 */
import { CMSInvalid } from '../errors.js';
import { latin1 } from './bytes.js';
import { TAG, type Tlv } from './der.js';

/** Parses a UTCTime or GeneralizedTime element (RFC 5280 forms; fractions of a second are accepted and dropped). */
export function parseTime(buf: Uint8Array, t: Tlv): Date {
  const s = latin1(buf.subarray(t.contentStart, t.contentEnd));
  let m: RegExpMatchArray | null;
  if (t.cls === 0 && t.tagNo === TAG.UTCTime) {
    m = s.match(/^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?Z$/);
    if (m) {
      const yy = Number(m[1]);
      return utc(yy >= 50 ? 1900 + yy : 2000 + yy, m);
    }
  } else if (t.cls === 0 && t.tagNo === TAG.GeneralizedTime) {
    m = s.match(/^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?(?:[.,]\d+)?Z$/);
    if (m) return utc(Number(m[1]), m);
  }
  throw new CMSInvalid('malformed time value');
}

function utc(year: number, m: RegExpMatchArray): Date {
  const [month, day, hour, minute, second] = [Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  const d = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Date.UTC rolls over (month 13 is January of the next year): a field out of its range is malformed, not a date.
  if (
    Number.isNaN(d.getTime()) ||
    d.getUTCFullYear() !== year ||
    d.getUTCMonth() !== month - 1 ||
    d.getUTCDate() !== day ||
    d.getUTCHours() !== hour ||
    d.getUTCMinutes() !== minute ||
    d.getUTCSeconds() !== second
  )
    throw new CMSInvalid('malformed time value');
  return d;
}

