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

/** The two ASCII digits at `i` as a number, or -1 when one is not a digit (or is past the end). */
function twoDigits(buf: Uint8Array, i: number): number {
  const a = buf[i]! - 0x30;
  const b = buf[i + 1]! - 0x30;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * Checks that `parseTime(buf, t)` would succeed, without decoding a string or building a Date: a byte-level check
 * of the same forms and field ranges (years 100–9999 for GeneralizedTime, as `Date.UTC` maps 0–99 to 1900–1999;
 * the Gregorian month lengths). For the times of CRL entries, most of which are never read. Malformed → CMSInvalid.
 */
export function checkTime(buf: Uint8Array, t: Tlv): void {
  const s = t.contentStart;
  const n = t.contentEnd - s;
  const two = (i: number): number => twoDigits(buf, s + i);
  let ok = false;
  if (t.cls === 0 && (t.tagNo === TAG.UTCTime || t.tagNo === TAG.GeneralizedTime)) {
    const y = t.tagNo === TAG.UTCTime ? 2 : 4;
    // the fields up to the minutes, then optional seconds, then (GeneralizedTime only) an optional fraction, then Z
    let p = y + 8;
    if (n >= p + 1 && buf[s + n - 1] === 0x5a) {
      const hi = y === 4 ? two(0) : 0;
      const yy = two(y - 2);
      let sec = 0;
      if (n >= p + 3 && two(p) >= 0) {
        sec = two(p);
        p += 2;
      }
      if (y === 4 && p < n - 1 && (buf[s + p] === 0x2e || buf[s + p] === 0x2c)) {
        // a fraction: one or more digits
        p++;
        if (p === n - 1) p = -1;
        else
          for (; p < n - 1; p++) {
            const c = buf[s + p]!;
            if (c < 0x30 || c > 0x39) {
              p = -1;
              break;
            }
          }
      }
      if (p === n - 1 && hi >= 0 && yy >= 0) {
        const year = y === 4 ? hi * 100 + yy : yy >= 50 ? 1900 + yy : 2000 + yy;
        const [month, day, hour, minute] = [two(y), two(y + 2), two(y + 4), two(y + 6)];
        const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
        const days = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
        ok = year >= 100 && month >= 1 && month <= 12 && day >= 1 && day <= days && hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && sec <= 59;
      }
    }
  }
  if (!ok) throw new CMSInvalid('malformed time value');
}
