/**
 * Making an entity safe to sign (RFC 8551 §3.1.1/§3.1.2): canonical line endings and a 7-bit transfer encoding for
 * every leaf that is not 7-bit clean.
 *
 * A nested multipart/signed is only canonicalised (it is already signed); binary data (a non-text leaf declared
 * binary/8bit/7bit that isn't clean 7-bit lines) is base64-encoded from its original bytes, never
 * line-end-converted first; a base64 or quoted-printable leaf that still holds 8-bit data is `MIMEInvalid`
 * (re-encoding it would double-encode).
 */
import { MIMEInvalid, MIMELimitExceeded } from '../errors.js';
import { base64LinesLength, encodeBase64LinesInto } from '../lib/base64.js';
import { fromLatin1 as ascii } from '../lib/bytes.js';
import { canonicalExtra, canonicalize, headersLength, writeHeaders } from './canonical.js';
import { getHeader, parseEntity, resolveMimeLimits, type MimeLimits } from './entity.js';
import { parseContentType } from './header_params.js';
import { splitMultipartRanges } from './multipart.js';
import { quotedPrintable } from './quoted_printable.js';

const CR = 13;
const LF = 10;

/**
 * RFC 8551 §3.1.1/§3.1.2: makes an entity safe to sign. Line endings become CRLF (headers, multipart structure
 * and text); then every leaf (the entity itself, or recursively each leaf of a multipart, and the content of a
 * message/rfc822) whose body is not 7-bit clean (a byte ≥ 0x80, a NUL, or a line over 998 bytes) is re-encoded:
 * text/* as quoted-printable (of the canonical text), anything else as base64 (of the original bytes: binary data
 * is never "canonicalised"), with its Content-Transfer-Encoding header replaced. A nested multipart/signed is only
 * canonicalised, never re-encoded (it is already signed). An entity that is already canonical and 7-bit comes back
 * as the same array.
 */
export function prepareForSigning(entity: Uint8Array, limits?: Partial<MimeLimits>): Uint8Array {
  if (!(entity instanceof Uint8Array)) throw new TypeError('prepareForSigning: expected a Uint8Array');
  const L = resolveMimeLimits(limits);
  const pieces = prepare(entity, 0, L);
  if (pieces === undefined) return entity;
  if (pieces.length === 1 && pieces[0] instanceof Uint8Array) return pieces[0];
  let n = 0;
  for (const p of pieces) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of pieces) {
    if (p instanceof Uint8Array) out.set(p, o);
    else p.write(out, o);
    o += p.length;
  }
  return out;
}

/** A piece of output: bytes, or a re-encoded leaf written straight into the final buffer (no extra copy). */
type Piece = Uint8Array | { length: number; write(out: Uint8Array, o: number): void };

/**
 * Returns the prepared entity as a list of pieces to concatenate (so that a big re-encoded leaf is written once,
 * into the final buffer), or undefined when `bytes` is already canonical and 7-bit clean.
 */
function prepare(bytes: Uint8Array, depth: number, L: MimeLimits): Piece[] | undefined {
  if (depth > L.maxDepth) throw new MIMELimitExceeded(`MIME nesting deeper than maxDepth (${L.maxDepth})`, { limit: 'maxMimeDepth' });
  const e = parseEntity(bytes, L);
  const head = bytes.subarray(0, e.headerEnd);
  const headC = canonicalize(head);
  const body = e.body;
  const ct = parseContentType(getHeader(e, 'content-type') ?? 'text/plain; charset=us-ascii');

  if (ct.type === 'multipart/signed') {
    const c = canonicalize(bytes);
    return c === bytes ? undefined : [c];
  }

  if (ct.type.startsWith('multipart/')) {
    const boundary = ct.params.boundary;
    if (!boundary) throw new MIMEInvalid(`${ct.type}: missing boundary parameter`);
    const ranges = splitMultipartRanges(body, boundary, L);
    const pieces: Piece[] = [headC];
    let changed = headC !== head;
    let at = 0;
    for (const r of ranges.parts) {
      const gap = body.subarray(at, r.start); // preamble or delimiter line
      const gapC = canonicalize(gap);
      const part = body.subarray(r.start, r.end);
      const sub = prepare(part, depth + 1, L);
      if (gapC !== gap || sub !== undefined) changed = true;
      pieces.push(gapC);
      if (sub) pieces.push(...sub);
      else pieces.push(part);
      at = r.end;
    }
    const tail = body.subarray(at);
    const tailC = canonicalize(tail);
    if (tailC !== tail) changed = true;
    pieces.push(tailC);
    return changed ? pieces : undefined;
  }

  if (ct.type === 'message/rfc822' || ct.type === 'message/global') {
    const sub = prepare(body, depth + 1, L);
    return sub === undefined && headC === head ? undefined : [headC, ...(sub ?? [body])];
  }

  // A leaf.
  const cte = (getHeader(e, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase();
  const isText = ct.type.startsWith('text/');
  const plain = cte === '7bit' || cte === '8bit' || cte === 'binary';
  let bodyC: Uint8Array | undefined;
  if (isText || !plain) {
    bodyC = canonicalize(body);
    if (is7bitClean(bodyC)) return headC === head && bodyC === body ? undefined : [headC, bodyC];
    if (!plain) throw new MIMEInvalid(`a ${cte} body part contains 8-bit data or lines over 998 bytes`);
  } else if (is7bitClean(body)) {
    // Non-text data in 7-bit lines: only line endings may need fixing, unless it is declared binary
    // (then bare CR/LF are data bytes and the part gets base64 below).
    const extra = canonicalExtra(body);
    if (extra === 0) return headC === head ? undefined : [headC, body];
    if (cte !== 'binary') return [headC, canonicalize(body)];
  }
  const keep = e.headers.filter((h) => h.name.toLowerCase() !== 'content-transfer-encoding');
  const cteLine = ascii(`Content-Transfer-Encoding: ${isText ? 'quoted-printable' : 'base64'}\r\n\r\n`);
  const text = bodyC;
  const bodyLen = text ? quotedPrintable(text, undefined, 0) : base64LinesLength(body.length, 76);
  const length = headersLength(keep) + cteLine.length + bodyLen;
  return [
    {
      length,
      write(out: Uint8Array, o: number): void {
        o = writeHeaders(keep, out, o);
        out.set(cteLine, o);
        o += cteLine.length;
        if (text) quotedPrintable(text, out, o);
        else if (body.length > 0) encodeBase64LinesInto([body], 76, out, o);
      },
    },
  ];
}

/**
 * True when `b` has no byte ≥ 0x80, no NUL, and no line longer than 998 bytes (CRLF or LF not counted). Scans a
 * 32-bit word at a time; single bytes are looked at only in words holding an LF.
 */
function is7bitClean(b: Uint8Array): boolean {
  const len = b.length;
  let lineStart = 0;
  let i = 0;
  const head = Math.min(len, (4 - (b.byteOffset & 3)) & 3);
  for (; i < head; i++) {
    const c = b[i]!;
    if (c >= 0x80 || c === 0) return false;
    if (c === LF) {
      if (lineLength(b, lineStart, i) > 998) return false;
      lineStart = i + 1;
    }
  }
  const words = (len - i) >>> 2;
  if (words > 0) {
    const w32 = new Uint32Array(b.buffer, b.byteOffset + i, words);
    for (let w = 0; w < words; w++) {
      const v = w32[w]!;
      if (v & 0x80808080 || (v - 0x01010101) & ~v & 0x80808080) return false; // a high byte, or a NUL
      const x = v ^ 0x0a0a0a0a;
      if ((x - 0x01010101) & ~x & 0x80808080) {
        const at = i + w * 4;
        for (let k = at; k < at + 4; k++) {
          if (b[k] === LF) {
            if (lineLength(b, lineStart, k) > 998) return false;
            lineStart = k + 1;
          }
        }
      } else if (i + w * 4 - lineStart > 1004) {
        return false; // already longer than 998 + CRLF + this word, and no LF in it
      }
    }
    i += words * 4;
  }
  for (; i < len; i++) {
    const c = b[i]!;
    if (c >= 0x80 || c === 0) return false;
    if (c === LF) {
      if (lineLength(b, lineStart, i) > 998) return false;
      lineStart = i + 1;
    }
  }
  return len - lineStart <= 998;
}

/** Length of the line [start, lf) without a CR before the LF. */
function lineLength(b: Uint8Array, start: number, lf: number): number {
  return lf - start - (lf > start && b[lf - 1] === CR ? 1 : 0);
}
