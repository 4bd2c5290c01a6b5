/**
 * Multipart splitting (RFC 2046 §5.1.1): the part ranges of a multipart body, as offsets or as exact zero-copy
 * subarrays, which is what multipart/signed verification needs (the first part byte for byte). CRLF and LF line
 * endings both work; delimiters are found with native `indexOf`, in one pass over the body.
 */
import { MIMEInvalid, MIMELimitExceeded } from '../errors.js';
import { resolveMimeLimits, type Entity, type MimeLimits } from './entity.js';

const LF = 10;
const CR = 13;
const SP = 32;
const TAB = 9;
const DASH = 45;

/** The part ranges of a multipart body (see {@link splitMultipartRanges}). */
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

/** The part ranges of the first bytes of a multipart body (see {@link splitMultipartPrefix}). */
export interface MultipartPrefixRanges {
  /** As {@link MultipartRanges.parts}; when `open`, the last part runs to the end of the bytes. */
  parts: Array<{ start: number; end: number }>;
  /** The close delimiter is not among the bytes: the last part goes on past them. */
  open: boolean;
}

/**
 * The parts of a multipart body of which only the first bytes are known (a stream's bounded look-ahead, cut at a line
 * end), by the rules of {@link splitMultipartRanges}: the parts whose delimiters are among the bytes, and the last
 * one open when the close delimiter is not. Undefined when not even the first delimiter is there yet.
 */
export function splitMultipartPrefix(body: Uint8Array, boundary: string, limits?: Partial<MimeLimits>): MultipartPrefixRanges | undefined {
  const L = resolveMimeLimits(limits);
  const dash = boundaryBytes(boundary);
  const first = findDelimiter(body, dash, 0);
  if (!first) return undefined;
  if (first.close) throw new MIMEInvalid('multipart: the first delimiter is the close delimiter (no body parts)');
  const parts: Array<{ start: number; end: number }> = [];
  let cur = first;
  for (;;) {
    if (parts.length >= L.maxParts) throw new MIMELimitExceeded(`multipart has more than maxParts (${L.maxParts}) parts`, { limit: 'maxParts' });
    const next = findDelimiter(body, dash, cur.lineEnd);
    if (!next) {
      parts.push({ start: cur.lineEnd, end: body.length });
      return { parts, open: true };
    }
    const start = cur.lineEnd;
    let end = next.start;
    if (end > start && body[end - 1] === LF) {
      end--;
      if (end > start && body[end - 1] === CR) end--;
    }
    parts.push({ start, end });
    if (next.close) return { parts, open: false };
    cur = next;
  }
}
