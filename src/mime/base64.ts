/**
 * Base64 for MIME bodies, written by hand on Uint8Array.
 *
 * Why not a MIME library (postal-mime, mimetext) or `atob`/`btoa`: S/MIME needs the exact bytes of every entity and
 * must handle 64 MiB bodies. The libraries work on strings and re-serialise; `atob`/`btoa` need a binary string
 * (one UTF-16 char per byte, twice the memory) and no line breaks. Here everything goes byte array to byte array in
 * one pass, into one preallocated output, with lookup tables and integer ops only. Runs in browsers too (no Buffer).
 *
 * A faster codec (for example Node's Buffer) can be plugged in with {@link setBase64Codec}; the pure-TS code below
 * stays the default and the reference for what a plugged codec must return.
 */
import { MIMEInvalid } from '../errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** 6-bit value → ASCII code. */
const ENC = new Uint8Array(64);
/** 12-bit value → two ASCII codes (high byte first char). One lookup per 2 output chars. */
const ENC2 = new Uint16Array(4096);
/** 12-bit value → two ASCII codes as a little-endian 16-bit word (first char in the low byte), for u16 stores. */
const ENC2LE = new Uint16Array(4096);
/** ASCII code → 6-bit value, or one of the markers below. */
const DEC = new Uint8Array(256).fill(0xff);
/** Two ASCII codes as a little-endian 16-bit word → 12-bit value; 0xffff when either is not in the alphabet. */
const DEC2 = new Uint16Array(65536).fill(0xffff);
const D_INVALID = 0xff;
const D_SKIP = 0xfe; // CR, LF, space, tab
const D_PAD = 0xfd; // '='

for (let i = 0; i < 64; i++) {
  ENC[i] = ALPHABET.charCodeAt(i);
  DEC[ALPHABET.charCodeAt(i)] = i;
}
for (let i = 0; i < 4096; i++) {
  ENC2[i] = (ENC[i >> 6]! << 8) | ENC[i & 63]!;
  ENC2LE[i] = (ENC[i & 63]! << 8) | ENC[i >> 6]!;
  DEC2[ENC[i >> 6]! | (ENC[i & 63]! << 8)] = i;
}
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
DEC[13] = D_SKIP;
DEC[10] = D_SKIP;
DEC[32] = D_SKIP;
DEC[9] = D_SKIP;
DEC[61] = D_PAD;

/**
 * A pluggable base64 implementation (for example one backed by Node's Buffer, in a Node-only module). Each method
 * may decline by returning `false` / `undefined`; the built-in code then runs. A plugged codec must give exactly
 * the built-in results: same bytes, and it must decline (not "repair") every input the built-in decoder rejects.
 */
export interface Base64Codec {
  /**
   * Writes the base64 of the concatenation of `parts`, in lines of `lineLength` chars each followed by CRLF
   * (the last line too), into `out` starting at `offset`. Exactly {@link base64LinesLength} bytes must be
   * written. Return `false` to let the built-in encoder run instead.
   */
  encode?(parts: readonly Uint8Array[], lineLength: number, out: Uint8Array, offset: number): boolean;
  /**
   * Decodes `input` (CR, LF, space and tab ignored). Must be as strict as the built-in decoder: return
   * `undefined` for any input it is not sure about; the built-in decoder then runs (and throws the typed error).
   */
  decode?(input: Uint8Array): Uint8Array | undefined;
}

let codec: Base64Codec | undefined;

/** Plugs in a faster base64 codec, or removes it with `undefined` (back to the built-in pure-TS one). */
export function setBase64Codec(c: Base64Codec | undefined): void {
  if (c !== undefined && (typeof c !== 'object' || c === null)) throw new TypeError('setBase64Codec: expected an object or undefined');
  if (c?.encode !== undefined && typeof c.encode !== 'function') throw new TypeError('setBase64Codec: encode must be a function');
  if (c?.decode !== undefined && typeof c.decode !== 'function') throw new TypeError('setBase64Codec: decode must be a function');
  codec = c;
}

/** The codec set with {@link setBase64Codec}, if any. */
export function getBase64Codec(): Base64Codec | undefined {
  return codec;
}

function checkLineLength(lineLength: number): void {
  if (typeof lineLength !== 'number' || !Number.isInteger(lineLength) || lineLength < 4 || lineLength % 4 !== 0 || lineLength > 996) {
    throw new RangeError(`base64 lineLength must be a multiple of 4 between 4 and 996, got ${String(lineLength)}`);
  }
}

function asParts(parts: Uint8Array | readonly Uint8Array[]): readonly Uint8Array[] {
  if (parts instanceof Uint8Array) return [parts];
  if (!Array.isArray(parts)) throw new TypeError('base64: expected a Uint8Array or an array of Uint8Array');
  for (const p of parts) if (!(p instanceof Uint8Array)) throw new TypeError('base64: expected a Uint8Array or an array of Uint8Array');
  return parts;
}

/** Number of bytes {@link encodeBase64Lines} produces for `byteLength` input bytes. */
export function base64LinesLength(byteLength: number, lineLength = 76): number {
  checkLineLength(lineLength);
  if (byteLength === 0) return 0;
  const chars = Math.ceil(byteLength / 3) * 4;
  return chars + 2 * Math.ceil(chars / lineLength);
}

/**
 * Base64 of the concatenation of `parts` (they are not concatenated first: 3-byte groups may straddle parts),
 * in lines of `lineLength` chars (a multiple of 4, default 76 as MIME wants), each followed by CRLF, the last
 * line too. Empty input gives an empty output.
 */
export function encodeBase64Lines(parts: Uint8Array | readonly Uint8Array[], lineLength = 76): Uint8Array {
  const list = asParts(parts);
  let n = 0;
  for (const p of list) n += p.length;
  const out = new Uint8Array(base64LinesLength(n, lineLength));
  encodeBase64LinesInto(list, lineLength, out, 0);
  return out;
}

/**
 * Internal: like {@link encodeBase64Lines} but writes into `out` at `offset`, which must have room for
 * `base64LinesLength(total, lineLength)` bytes. Returns the offset just past the last byte written.
 */
export function encodeBase64LinesInto(parts: readonly Uint8Array[], lineLength: number, out: Uint8Array, offset: number): number {
  checkLineLength(lineLength);
  let total = 0;
  for (const p of parts) total += p.length;
  const need = base64LinesLength(total, lineLength);
  if (offset < 0 || offset + need > out.length) throw new RangeError('base64: output buffer too small');
  if (codec?.encode && codec.encode(parts, lineLength, out, offset)) return offset + need;
  const end = encodeBuiltin(parts, lineLength, out, offset);
  /* c8 ignore next */
  if (end !== offset + need) throw new Error('base64: internal length mismatch');
  return end;
}

function encodeBuiltin(parts: readonly Uint8Array[], lineLength: number, out: Uint8Array, offset: number): number {
  const groupsPerLine = lineLength >> 2;
  let o = offset;
  let col = 0; // groups written on the current line
  let carry = 0; // pending bytes (up to 2) from the end of the previous part
  let carryN = 0;
  const T = ENC2;
  const TL = ENC2LE;
  // 16-bit stores need a little-endian platform and an even start (the output layout keeps every group even).
  const o16 =
    LITTLE_ENDIAN && (out.byteOffset & 1) === 0 && (offset & 1) === 0
      ? new Uint16Array(out.buffer, out.byteOffset, out.length >> 1)
      : undefined;

  for (const p of parts) {
    const len = p.length;
    let i = 0;
    if (carryN > 0) {
      while (carryN < 3 && i < len) {
        carry = (carry << 8) | p[i++]!;
        carryN++;
      }
      if (carryN < 3) continue;
      const a = T[carry >>> 12]!;
      const b = T[carry & 4095]!;
      out[o] = a >> 8;
      out[o + 1] = a & 255;
      out[o + 2] = b >> 8;
      out[o + 3] = b & 255;
      o += 4;
      carryN = 0;
      carry = 0;
      if (++col === groupsPerLine) {
        out[o++] = 13;
        out[o++] = 10;
        col = 0;
      }
    }
    // Whole groups of this part, a line (or the rest of a line) at a time.
    let groups = ((len - i) / 3) | 0;
    while (groups > 0) {
      let g = groupsPerLine - col;
      if (g > groups) g = groups;
      groups -= g;
      col += g;
      const stop = i + g * 3;
      if (o16 !== undefined) {
        // Two chars per 16-bit store. `o` is even here (every write so far was 2 or 4 bytes from an even start).
        let w = o >> 1;
        while (i < stop) {
          const v = (p[i]! << 16) | (p[i + 1]! << 8) | p[i + 2]!;
          o16[w] = TL[v >>> 12]!;
          o16[w + 1] = TL[v & 4095]!;
          w += 2;
          i += 3;
        }
        o = w << 1;
      } else {
        while (i < stop) {
          const v = (p[i]! << 16) | (p[i + 1]! << 8) | p[i + 2]!;
          const a = T[v >>> 12]!;
          const b = T[v & 4095]!;
          out[o] = a >> 8;
          out[o + 1] = a & 255;
          out[o + 2] = b >> 8;
          out[o + 3] = b & 255;
          o += 4;
          i += 3;
        }
      }
      if (col === groupsPerLine) {
        out[o++] = 13;
        out[o++] = 10;
        col = 0;
      }
    }
    while (i < len) {
      carry = (carry << 8) | p[i++]!;
      carryN++;
    }
  }

  if (carryN > 0) {
    const v = carryN === 1 ? carry << 16 : carry << 8;
    out[o] = ENC[v >>> 18]!;
    out[o + 1] = ENC[(v >>> 12) & 63]!;
    out[o + 2] = carryN === 1 ? 61 : ENC[(v >>> 6) & 63]!;
    out[o + 3] = 61;
    o += 4;
    col++;
  }
  if (col > 0) {
    out[o++] = 13;
    out[o++] = 10;
  }
  return o;
}

function hex(b: number): string {
  return '0x' + b.toString(16).padStart(2, '0');
}

/**
 * Decodes base64 from `input[start..end)` in one pass into one preallocated output. CR, LF, space and tab are
 * skipped anywhere. Strict: any other byte outside the alphabet, padding anywhere but at the very end, data after
 * the padding, or a count of base64 chars that isn't a multiple of 4 (unpadded input) throws `MIMEInvalid`.
 * Non-zero bits in the last char before the padding are accepted (RFC 4648 §3.5 leaves that to the decoder).
 */
export function decodeBase64(input: Uint8Array, start = 0, end: number = input.length): Uint8Array {
  if (!(input instanceof Uint8Array)) throw new TypeError('decodeBase64: expected a Uint8Array');
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > input.length || start > end) {
    throw new RangeError(`decodeBase64: bad range ${String(start)}..${String(end)} of ${input.length}`);
  }
  if (codec?.decode) {
    const r = codec.decode(start === 0 && end === input.length ? input : input.subarray(start, end));
    if (r !== undefined) return r;
  }
  return decodeBuiltin(input, start, end);
}

function decodeBuiltin(input: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array((((end - start) >>> 2) * 3) + 3);
  const D = DEC;
  const D2 = DEC2;
  const dv = new DataView(input.buffer, input.byteOffset, input.byteLength);
  let o = 0;
  let i = start;
  let acc = 0;
  let n = 0; // chars in the current quantum
  const fast = end - 3;

  while (i < end) {
    if (n === 0) {
      // Fast path: four alphabet chars in a row, read as one little-endian 32-bit word, two chars per lookup.
      while (i < fast) {
        const w = dv.getUint32(i, true);
        const h = D2[w & 0xffff]!;
        const l = D2[w >>> 16]!;
        if ((h | l) > 4095) break;
        const v = (h << 12) | l;
        out[o] = v >>> 16;
        out[o + 1] = (v >>> 8) & 255;
        out[o + 2] = v & 255;
        o += 3;
        i += 4;
      }
      if (i >= end) break;
    }
    const ch = input[i]!;
    const d = D[ch]!;
    if (d < 64) {
      acc = (acc << 6) | d;
      if (++n === 4) {
        out[o] = acc >>> 16;
        out[o + 1] = (acc >>> 8) & 255;
        out[o + 2] = acc & 255;
        o += 3;
        n = 0;
        acc = 0;
      }
      i++;
    } else if (d === D_SKIP) {
      i++;
    } else if (d === D_PAD) {
      // "xx==" or "xxx=", then only whitespace to the end.
      if (n < 2) throw new MIMEInvalid(`invalid base64: misplaced padding at offset ${i - start}`);
      const padAt = i;
      i++;
      if (n === 2) {
        while (i < end && D[input[i]!] === D_SKIP) i++;
        if (i >= end || input[i] !== 61) throw new MIMEInvalid(`invalid base64: incomplete padding at offset ${padAt - start}`);
        i++;
        out[o++] = (acc >>> 4) & 255;
      } else {
        out[o] = (acc >>> 10) & 255;
        out[o + 1] = (acc >>> 2) & 255;
        o += 2;
      }
      n = 0;
      while (i < end) {
        const t = D[input[i]!]!;
        if (t !== D_SKIP) {
          throw new MIMEInvalid(
            t === D_INVALID
              ? `invalid base64: unexpected byte ${hex(input[i]!)} at offset ${i - start}`
              : `invalid base64: data after padding at offset ${i - start}`,
          );
        }
        i++;
      }
      break;
    } else {
      throw new MIMEInvalid(`invalid base64: unexpected byte ${hex(ch)} at offset ${i - start}`);
    }
  }
  if (n !== 0) throw new MIMEInvalid(`invalid base64: truncated input (a final quantum of ${n} char${n === 1 ? '' : 's'})`);
  return out.subarray(0, o);
}
