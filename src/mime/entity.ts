/**
 * A small raw-MIME layer: one entity's headers and body as exact byte ranges, and header lookup (multipart
 * splitting per RFC 2046 is in multipart.ts, Content-Type parameters in header_params.ts, CRLF canonicalisation in
 * canonical.ts). Written by hand on Uint8Array on purpose: S/MIME signs and verifies exact bytes (the first part of
 * a multipart/signed, byte for byte), and postal-mime / mimetext decode and re-serialise, so they can't give those
 * bytes back. Everything here is zero-copy where it can be (`subarray`), works on 64 MiB input in one pass over the
 * bytes (native `indexOf` for line search), and runs in browsers too.
 *
 * Decisions (documented here because callers depend on them):
 * - CRLF and bare LF line endings are both accepted, line by line (mbox files are LF). `Entity.lineEnding` is the
 *   ending of the first line; mixed input is parsed the same way.
 * - The header section ends at the first empty line. With no empty line, every line must be a header
 *   (`name: value` or a folded continuation) and the body is empty; any other line is `MIMEInvalid`. The one
 *   exception is an mbox "From " separator line as the very first line, which is skipped.
 * - Header values are unfolded (line ends removed, the folding whitespace kept) and trimmed. ASCII and valid
 *   UTF-8 (RFC 6532) are decoded as such, anything else as Latin-1 (one distinct char per byte; browsers map
 *   0x80-0x9F as windows-1252). Encoded words (RFC 2047) are left alone. `Header.raw` is always the exact bytes.
 * - Limits are mandatory: every limit has a default, and 0 / NaN / a non-integer is a `RangeError`, so a limit
 *   can't be switched off by accident. Exceeding one throws `MIMELimitExceeded`.
 */
import { MIMEInvalid, MIMELimitExceeded } from '../errors.js';

/** One header field of an entity. */
export interface Header {
  /** The name as written (case preserved). Compare case-insensitively, or use {@link getHeader}. */
  name: string;
  /** The value, unfolded and trimmed. */
  value: string;
  /** The exact bytes of the header, folded lines and the final line ending included. */
  raw: Uint8Array;
}

/** One MIME entity: its headers and its body, as ranges of the input. */
export interface Entity {
  headers: Header[];
  /** Offset of the first body byte in `raw` (just past the empty line; `raw.length` when there is none). */
  headerEnd: number;
  /** The body: `raw.subarray(headerEnd)`, zero-copy. */
  body: Uint8Array;
  /** The whole input. */
  raw: Uint8Array;
  /** The line ending of the first line. */
  lineEnding: '\r\n' | '\n';
}

/** The limits MIME parsing obeys (see {@link DEFAULT_MIME_LIMITS}). */
export interface MimeLimits {
  /** Maximum size of a header section, in bytes (the empty line included). */
  maxHeaderBytes: number;
  /** Maximum number of headers in one entity. */
  maxHeaders: number;
  /** Maximum number of body parts in one multipart. */
  maxParts: number;
  /** Maximum nesting depth of multiparts (and message/rfc822) when a function walks into them. */
  maxDepth: number;
}

/** The default MIME limits. */
export const DEFAULT_MIME_LIMITS: Readonly<MimeLimits> = Object.freeze({
  maxHeaderBytes: 1024 * 1024,
  maxHeaders: 1000,
  maxParts: 1000,
  maxDepth: 32,
});

const LIMIT_KEYS = ['maxHeaderBytes', 'maxHeaders', 'maxParts', 'maxDepth'] as const;

/**
 * Fills in defaults and validates (like postal-mime's parseLimitOption, but stricter): each given limit must be a
 * positive integer. 0, a negative number, NaN, Infinity or a non-number is a `RangeError`; never "no limit".
 */
export function resolveMimeLimits(limits?: Partial<MimeLimits>): MimeLimits {
  if (limits === undefined || limits === null) return { ...DEFAULT_MIME_LIMITS };
  if (typeof limits !== 'object') throw new TypeError('MIME limits: expected an object');
  const out = { ...DEFAULT_MIME_LIMITS };
  for (const k of LIMIT_KEYS) {
    const v: unknown = limits[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new RangeError(`MIME limit ${k} must be a positive integer, got ${typeof v === 'number' ? String(v) : typeof v}`);
    }
    out[k] = v;
  }
  return out;
}

const LF = 10;
const CR = 13;
const SP = 32;
const TAB = 9;
const COLON = 58;

const tdLatin1 = new TextDecoder('latin1');
const tdUtf8Fatal = new TextDecoder('utf-8', { fatal: true });

/** Header/param text from bytes: ASCII and valid UTF-8 as such, otherwise Latin-1 (one char per byte). */
export function decodeText(b: Uint8Array): string {
  let ascii = true;
  for (let i = 0; i < b.length; i++) {
    if (b[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (!ascii) {
    try {
      return tdUtf8Fatal.decode(b);
    } catch {
      /* not UTF-8: fall through to Latin-1 */
    }
  }
  return tdLatin1.decode(b);
}

/** When the line bytes[start..end) begins with `name WSP* ":"`, the offset of the colon; else -1. */
function headerColon(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end) {
    const c = bytes[i]!;
    if (c === COLON) break;
    if (c <= SP || c >= 127) break;
    i++;
  }
  if (i === start) return -1;
  let j = i;
  while (j < end && (bytes[j] === SP || bytes[j] === TAB)) j++;
  return j < end && bytes[j] === COLON ? j : -1;
}

function makeHeader(bytes: Uint8Array, start: number, colon: number, end: number): Header {
  let nameEnd = colon;
  while (nameEnd > start && (bytes[nameEnd - 1] === SP || bytes[nameEnd - 1] === TAB)) nameEnd--;
  const name = tdLatin1.decode(bytes.subarray(start, nameEnd));
  const value = unfold(decodeText(bytes.subarray(colon + 1, end)));
  return { name, value, raw: bytes.subarray(start, end) };
}

/** Unfolds (drops CR/LF, keeps the whitespace after them) and trims SP/TAB/CR/LF at both ends. */
function unfold(s: string): string {
  return s.replace(/\r?\n/g, '').replace(/^[ \t]+|[ \t\r]+$/g, '');
}

/**
 * Parses one MIME entity (a message, or a body part). Zero-copy: `body` and every `Header.raw` are subarrays of
 * `bytes`. Throws `MIMEInvalid` for a line that is not a header before the first empty line, and
 * `MIMELimitExceeded` when the header section exceeds `maxHeaderBytes` or `maxHeaders`.
 */
export function parseEntity(bytes: Uint8Array, limits?: Partial<MimeLimits>): Entity {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('parseEntity: expected a Uint8Array');
  const L = resolveMimeLimits(limits);
  const len = bytes.length;
  const headers: Header[] = [];
  let lineEnding: '\r\n' | '\n' | undefined;
  let curStart = -1; // start of the header being collected
  let curColon = -1;
  let headerEnd = len;
  let pos = 0;
  let lineNo = 0;

  while (pos < len) {
    const nl = bytes.indexOf(LF, pos);
    const next = nl < 0 ? len : nl + 1;
    if (next > L.maxHeaderBytes) {
      throw new MIMELimitExceeded(`MIME header section exceeds maxHeaderBytes (${L.maxHeaderBytes} bytes)`, { limit: 'maxHeaderBytes' });
    }
    const contentEnd = nl < 0 ? len : nl > pos && bytes[nl - 1] === CR ? nl - 1 : nl;
    if (lineEnding === undefined && nl >= 0) lineEnding = contentEnd < nl ? '\r\n' : '\n';
    lineNo++;

    if (contentEnd === pos) {
      // The empty line: end of the header section.
      if (curStart >= 0) headers.push(makeHeader(bytes, curStart, curColon, pos));
      curStart = -1;
      headerEnd = next;
      break;
    }
    const c0 = bytes[pos]!;
    if (c0 === SP || c0 === TAB) {
      if (curStart < 0) throw new MIMEInvalid(`invalid MIME header: line ${lineNo} is a continuation line without a header`);
    } else {
      const colon = headerColon(bytes, pos, contentEnd);
      if (colon < 0) {
        if (lineNo === 1 && isMboxFrom(bytes, pos, contentEnd)) {
          pos = next;
          continue;
        }
        throw new MIMEInvalid(`invalid MIME header: line ${lineNo} is not "name: value" and the header section has not ended`);
      }
      if (curStart >= 0) headers.push(makeHeader(bytes, curStart, curColon, pos));
      if (headers.length >= L.maxHeaders) {
        throw new MIMELimitExceeded(`MIME entity has more than maxHeaders (${L.maxHeaders}) headers`, { limit: 'maxHeaders' });
      }
      curStart = pos;
      curColon = colon;
    }
    pos = next;
  }
  if (curStart >= 0) headers.push(makeHeader(bytes, curStart, curColon, len));

  return {
    headers,
    headerEnd,
    body: bytes.subarray(headerEnd),
    raw: bytes,
    lineEnding: lineEnding ?? '\r\n',
  };
}

function isMboxFrom(bytes: Uint8Array, start: number, end: number): boolean {
  return end - start >= 5 && bytes[start] === 0x46 && bytes[start + 1] === 0x72 && bytes[start + 2] === 0x6f && bytes[start + 3] === 0x6d && bytes[start + 4] === SP;
}

/** The value of the first header called `name` (case-insensitive), or undefined. */
export function getHeader(e: { headers: readonly Header[] }, name: string): string | undefined {
  const n = name.toLowerCase();
  for (const h of e.headers) if (h.name.toLowerCase() === n) return h.value;
  return undefined;
}

/** Every header called `name` (case-insensitive), in order. */
export function getHeaders(e: { headers: readonly Header[] }, name: string): Header[] {
  const n = name.toLowerCase();
  return e.headers.filter((h) => h.name.toLowerCase() === n);
}
