/**
 * A small raw-MIME layer: one entity's headers and body as exact byte ranges, and multipart splitting per RFC 2046
 * (CRLF canonicalisation is in canonical.ts). Written by hand on Uint8Array on purpose: S/MIME signs and verifies
 * exact bytes (the first part of a multipart/signed, byte for byte), and postal-mime / mimetext decode and
 * re-serialise, so they can't give those bytes back. Everything here is zero-copy where it can be (`subarray`), works on 64 MiB
 * input in one pass over the bytes (native `indexOf` for line and delimiter search), and runs in browsers too.
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

export interface Header {
  /** The name as written (case preserved). Compare case-insensitively, or use {@link getHeader}. */
  name: string;
  /** The value, unfolded and trimmed. */
  value: string;
  /** The exact bytes of the header, folded lines and the final line ending included. */
  raw: Uint8Array;
}

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
const DASH = 45;

const tdLatin1 = new TextDecoder('latin1');
const tdUtf8Fatal = new TextDecoder('utf-8', { fatal: true });

/** Header/param text from bytes: ASCII and valid UTF-8 as such, otherwise Latin-1 (one char per byte). */
function decodeText(b: Uint8Array): string {
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

// ---------------------------------------------------------------------------------------------------------------
// Content-Type / Content-Disposition

export interface ParsedHeaderValue {
  /** The lowercased main value: `application/pkcs7-mime`, `attachment`. Empty when the value is empty. */
  type: string;
  /** Parameters: lowercased names, unquoted (and RFC 2231-decoded) values. The first of duplicates wins. */
  params: Record<string, string>;
}

/** Skips an RFC 822 comment starting at s[i] === '(' (nested, with quoted-pairs). Returns the index after it. */
function skipComment(s: string, i: number): number {
  let depth = 0;
  for (; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  return s.length;
}

interface Rfc2231Segment {
  index: number;
  extended: boolean;
  value: string;
}

/**
 * Parses `type/subtype; a=b; c="d"` (or `attachment; filename=...`). Lenient: a parameter without `=` is skipped,
 * an unterminated quoted string runs to the end, comments are dropped. RFC 2231 (`name*=utf-8''a%20b`,
 * `name*0=`, `name*1*=`) is decoded and takes precedence over a plain `name=`.
 */
export function parseContentType(value: string): ParsedHeaderValue {
  if (typeof value !== 'string') throw new TypeError('parseContentType: expected a string');
  const s = value;
  let i = 0;
  let type = '';
  while (i < s.length && s[i] !== ';') {
    if (s[i] === '(') {
      i = skipComment(s, i);
      continue;
    }
    type += s[i];
    i++;
  }
  type = type.trim().toLowerCase().replace(/\s+/g, '');

  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  const ext = new Map<string, Rfc2231Segment[]>();
  while (i < s.length) {
    // at ';' or whitespace
    while (i < s.length && (s[i] === ';' || s[i] === ' ' || s[i] === '\t' || s[i] === '\r' || s[i] === '\n')) i++;
    if (i >= s.length) break;
    if (s[i] === '(') {
      i = skipComment(s, i);
      continue;
    }
    let nameStart = i;
    while (i < s.length && s[i] !== '=' && s[i] !== ';') i++;
    let name = s.slice(nameStart, i).trim().toLowerCase();
    if (i >= s.length || s[i] === ';') continue; // no '=': not a parameter
    i++; // '='
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
    let v = '';
    if (s[i] === '"') {
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length) i++;
        v += s[i];
        i++;
      }
      i++; // closing quote
      while (i < s.length && s[i] !== ';') i++; // junk after the quoted string
    } else {
      nameStart = i;
      while (i < s.length && s[i] !== ';') {
        if (s[i] === '(') break;
        i++;
      }
      v = s.slice(nameStart, i).trim();
      if (s[i] === '(') {
        i = skipComment(s, i);
        while (i < s.length && s[i] !== ';') i++;
      }
    }
    if (name === '' || name === '__proto__') continue;
    const star = /^(.+?)\*(?:(\d{1,3})(\*)?)?$/.exec(name);
    if (star) {
      const base = star[1]!;
      const seg: Rfc2231Segment =
        star[2] === undefined ? { index: 0, extended: true, value: v } : { index: Number(star[2]), extended: star[3] === '*', value: v };
      let list = ext.get(base);
      if (!list) ext.set(base, (list = []));
      if (list.length < 1000 && !list.some((x) => x.index === seg.index)) list.push(seg);
      continue;
    }
    name = name.replace(/\s+/g, '');
    if (!(name in params)) params[name] = v;
  }
  for (const [base, segs] of ext) {
    if (base === '__proto__') continue;
    const decoded = decodeRfc2231(segs);
    if (decoded !== undefined) params[base] = decoded;
  }
  return { type, params: { ...params } };
}

/** Same syntax as Content-Type: `{ type: 'attachment', params: { filename: 'smime.p7m' } }`. */
export function parseContentDisposition(value: string): ParsedHeaderValue {
  return parseContentType(value);
}

function decodeRfc2231(segs: Rfc2231Segment[]): string | undefined {
  segs.sort((a, b) => a.index - b.index);
  if (segs[0]!.index !== 0) return undefined;
  let charset = 'us-ascii';
  const bytes: number[] = [];
  for (let k = 0; k < segs.length; k++) {
    const seg = segs[k]!;
    if (seg.index !== k) break; // a gap: stop at it
    let v = seg.value;
    if (k === 0 && seg.extended) {
      const m = /^([^']*)'[^']*'(.*)$/.exec(v);
      if (m) {
        charset = m[1]! || 'us-ascii';
        v = m[2]!;
      }
    }
    for (let j = 0; j < v.length; j++) {
      const c = v.charCodeAt(j);
      if (seg.extended && c === 37 /* % */ && /^[0-9a-fA-F]{2}$/.test(v.slice(j + 1, j + 3))) {
        bytes.push(parseInt(v.slice(j + 1, j + 3), 16));
        j += 2;
      } else if (c < 0x80) {
        bytes.push(c);
      } else {
        // Non-ASCII text that was already decoded from the header: keep it as UTF-8.
        for (const b of new TextEncoder().encode(v[j]!)) bytes.push(b);
      }
    }
  }
  const b = new Uint8Array(bytes);
  const cs = charset.toLowerCase();
  try {
    if (cs === 'us-ascii' || cs === 'ascii') return decodeText(b);
    return new TextDecoder(cs, { fatal: true }).decode(b);
  } catch {
    return decodeText(b);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Multipart

export interface MultipartRanges {
  /** Offsets into the body, `[start, end)` of each part, without the line ending before the next delimiter. */
  parts: Array<{ start: number; end: number }>;
  /** End of the preamble (start of the line ending before the first delimiter, or 0). */
  preambleEnd: number;
  /** Start of the epilogue (just past the close delimiter's line). */
  epilogueStart: number;
}

function boundaryBytes(boundary: string): Uint8Array {
  if (typeof boundary !== 'string' || boundary.length === 0) throw new MIMEInvalid('multipart: missing or empty boundary');
  if (boundary.length > 998) throw new MIMEInvalid('multipart: boundary too long');
  const out = new Uint8Array(boundary.length + 2);
  out[0] = DASH;
  out[1] = DASH;
  for (let i = 0; i < boundary.length; i++) {
    const c = boundary.charCodeAt(i);
    if (c < 32 || c > 126) throw new MIMEInvalid('multipart: boundary contains a non-ASCII or control character');
    out[i + 2] = c;
  }
  return out;
}

interface Delimiter {
  /** Offset of the "--". */
  start: number;
  /** Offset just past the delimiter line (its line ending included). */
  lineEnd: number;
  close: boolean;
}

/** Finds the next delimiter line ("--boundary" at the start of a line) at or after `from` (a line start). */
function findDelimiter(b: Uint8Array, dash: Uint8Array, from: number): Delimiter | undefined {
  const len = b.length;
  const dl = dash.length;
  let p = from;
  while (p < len) {
    if (b[p] !== DASH) {
      p = b.indexOf(DASH, p);
      if (p < 0) return undefined;
    }
    if (p !== 0 && b[p - 1] !== LF) {
      // Not at a line start: go to the next line.
      const nl = b.indexOf(LF, p);
      if (nl < 0) return undefined;
      p = nl + 1;
      continue;
    }
    let match = p + dl <= len;
    for (let k = 2; match && k < dl; k++) if (b[p + k] !== dash[k]) match = false;
    if (match && b[p + 1] === DASH) {
      let q = p + dl;
      if (b[q] === DASH && b[q + 1] === DASH) {
        const nl = b.indexOf(LF, q + 2);
        return { start: p, lineEnd: nl < 0 ? len : nl + 1, close: true };
      }
      while (q < len && (b[q] === SP || b[q] === TAB)) q++;
      if (q === len) return { start: p, lineEnd: len, close: false };
      if (b[q] === LF) return { start: p, lineEnd: q + 1, close: false };
      if (b[q] === CR && (q + 1 === len || b[q + 1] === LF)) return { start: p, lineEnd: Math.min(q + 2, len), close: false };
    }
    const nl = b.indexOf(LF, p);
    if (nl < 0) return undefined;
    p = nl + 1;
  }
  return undefined;
}

/**
 * The part ranges of a multipart body (RFC 2046 §5.1.1). A delimiter is "--boundary" at the start of a line,
 * optionally followed by transport padding (spaces, tabs); the line ending before a delimiter belongs to the
 * delimiter. Works with CRLF and LF. Throws `MIMEInvalid` when no delimiter or no close delimiter is found, and
 * `MIMELimitExceeded` beyond `maxParts`.
 */
export function splitMultipartRanges(body: Uint8Array, boundary: string, limits?: Partial<MimeLimits>): MultipartRanges {
  const L = resolveMimeLimits(limits);
  const dash = boundaryBytes(boundary);
  const first = findDelimiter(body, dash, 0);
  if (!first) throw new MIMEInvalid(`multipart: no delimiter line "--${boundary}" found`);
  if (first.close) throw new MIMEInvalid('multipart: the first delimiter is the close delimiter (no body parts)');
  const parts: Array<{ start: number; end: number }> = [];
  let cur = first;
  for (;;) {
    const next = findDelimiter(body, dash, cur.lineEnd);
    if (!next) throw new MIMEInvalid(`multipart: missing close delimiter "--${boundary}--"`);
    const start = cur.lineEnd;
    let end = next.start;
    if (end > start && body[end - 1] === LF) {
      end--;
      if (end > start && body[end - 1] === CR) end--;
    }
    if (parts.length >= L.maxParts) throw new MIMELimitExceeded(`multipart has more than maxParts (${L.maxParts}) parts`, { limit: 'maxParts' });
    parts.push({ start, end });
    if (next.close) return { parts, preambleEnd: lineEndingStart(body, first.start), epilogueStart: next.lineEnd };
    cur = next;
  }
}

function lineEndingStart(b: Uint8Array, p: number): number {
  if (p > 0 && b[p - 1] === LF) p--;
  if (p > 0 && b[p - 1] === CR) p--;
  return p;
}

/**
 * The body parts of a multipart entity, as exact zero-copy subarrays of its body (see
 * {@link splitMultipartRanges}). This is what multipart/signed verification needs: the first part byte for byte.
 */
export function splitMultipart(entity: Entity, boundary: string, limits?: Partial<MimeLimits>): Uint8Array[] {
  const body = entity.body;
  return splitMultipartRanges(body, boundary, limits).parts.map((r) => body.subarray(r.start, r.end));
}
