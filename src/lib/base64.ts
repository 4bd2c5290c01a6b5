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
/** 12-bit value → two ASCII codes as a little-endian 16-bit word (first char in the low byte). */
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
  ENC2LE[i] = (ENC[i & 63]! << 8) | ENC[i >> 6]!;
  DEC2[ENC[i >> 6]! | (ENC[i & 63]! << 8)] = i;
}
DEC[13] = D_SKIP;
DEC[10] = D_SKIP;
DEC[32] = D_SKIP;
DEC[9] = D_SKIP;
DEC[61] = D_PAD;
/** CR LF as a little-endian 16-bit word. */
const CRLF16 = 0x0a0d;

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
  /**
   * Decodes whole lines, for the stream decoder (`Base64Decoder`): `input` holds `chars` base64 chars (a multiple of
   * 4) and line ends (CR LF or LF) where the caller checked them; nothing else if the input is valid. Writes the
   * `chars / 4 * 3` decoded bytes into `out` at `offset`, or returns `false` when anything else is there (a byte
   * outside the base64 alphabet, `=`, other whitespace): the built-in decoder then decodes the same input over
   * whatever was written, and throws its typed error.
   */
  decodeLines?(input: Uint8Array, chars: number, out: Uint8Array, offset: number): boolean;
}

let codec: Base64Codec | undefined;

/** Plugs in a faster base64 codec, or removes it with `undefined` (back to the built-in pure-TS one). */
export function setBase64Codec(c: Base64Codec | undefined): void {
  if (c !== undefined && (typeof c !== 'object' || c === null)) throw new TypeError('setBase64Codec: expected an object or undefined');
  if (c?.encode !== undefined && typeof c.encode !== 'function') throw new TypeError('setBase64Codec: encode must be a function');
  if (c?.decode !== undefined && typeof c.decode !== 'function') throw new TypeError('setBase64Codec: decode must be a function');
  if (c?.decodeLines !== undefined && typeof c.decodeLines !== 'function') throw new TypeError('setBase64Codec: decodeLines must be a function');
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
  // The codec declined the whole: it may still take each part's run of whole lines.
  const w = new Base64LineWriter(out, offset, lineLength, parts.length > 1);
  for (const p of parts) w.write(p);
  const end = w.end();
  /* c8 ignore next */
  if (end !== offset + need) throw new Error('base64: internal length mismatch');
  return end;
}

/**
 * Internal: base64 in lines of `lineLength` chars, each ended by CRLF (the last line too), written incrementally
 * into a preallocated buffer: the input comes in pieces of any length (3-byte groups may straddle them), as it is
 * produced; {@link end} writes the padding and the last line end. The caller sizes `out` with
 * {@link base64LinesLength}. At the start of a line, runs of whole lines go to a plugged codec when there is one
 * (`useCodec`).
 */
export class Base64LineWriter {
  readonly #out: Uint8Array;
  readonly #dst: DataView;
  readonly #lineLength: number;
  readonly #groupsPerLine: number;
  readonly #useCodec: boolean;
  #o: number;
  /** 4-char groups on the current line. */
  #col = 0;
  /** Up to 2 bytes left over from the previous piece. */
  #carry = 0;
  #carryN = 0;

  constructor(out: Uint8Array, offset: number, lineLength = 76, useCodec = true) {
    checkLineLength(lineLength);
    if (!Number.isInteger(offset) || offset < 0 || offset > out.length) throw new RangeError('base64: bad output offset');
    this.#out = out;
    this.#dst = new DataView(out.buffer, out.byteOffset, out.byteLength);
    this.#lineLength = lineLength;
    this.#groupsPerLine = lineLength >> 2;
    this.#useCodec = useCodec;
    this.#o = offset;
  }

  write(p: Uint8Array): void {
    const len = p.length;
    const dst = this.#dst;
    const TL = ENC2LE;
    const gpl = this.#groupsPerLine;
    let o = this.#o;
    let col = this.#col;
    let i = 0;
    if (this.#carryN > 0) {
      let carry = this.#carry;
      let n = this.#carryN;
      while (n < 3 && i < len) {
        carry = (carry << 8) | p[i++]!;
        n++;
      }
      if (n < 3) {
        this.#carry = carry;
        this.#carryN = n;
        return;
      }
      dst.setUint32(o, TL[carry >>> 12]! | (TL[carry & 4095]! << 16), true);
      o += 4;
      this.#carry = 0;
      this.#carryN = 0;
      if (++col === gpl) {
        dst.setUint16(o, CRLF16, true);
        o += 2;
        col = 0;
      }
    }
    if (this.#useCodec && codec?.encode) {
      // The current line is finished here (groups of this piece), so that whole lines go to the codec.
      if (col > 0 && (len - i) / 3 >= gpl - col + gpl) {
        const stop = i + (gpl - col) * 3;
        while (i < stop) {
          const v = (p[i]! << 16) | (p[i + 1]! << 8) | p[i + 2]!;
          dst.setUint32(o, TL[v >>> 12]! | (TL[v & 4095]! << 16), true);
          o += 4;
          i += 3;
        }
        dst.setUint16(o, CRLF16, true);
        o += 2;
        col = 0;
      }
    }
    if (col === 0 && this.#useCodec && codec?.encode) {
      const lineBytes = gpl * 3;
      const n = Math.floor((len - i) / lineBytes) * lineBytes;
      if (n > 0 && codec.encode([p.subarray(i, i + n)], this.#lineLength, this.#out, o)) {
        o += (n / lineBytes) * (this.#lineLength + 2);
        i += n;
      }
    }
    let groups = ((len - i) / 3) | 0;
    if (groups > 0) {
      const src = new DataView(p.buffer, p.byteOffset, p.byteLength);
      while (groups > 0) {
        let g = gpl - col;
        if (g > groups) g = groups;
        groups -= g;
        col += g;
        const stop = i + g * 3;
        // A 32-bit load per 3-byte group needs one byte past the group: the piece's last group is read bytewise.
        const fastStop = stop < len ? stop : stop - 3;
        while (i < fastStop) {
          const v = src.getUint32(i) >>> 8;
          dst.setUint32(o, TL[v >>> 12]! | (TL[v & 4095]! << 16), true);
          o += 4;
          i += 3;
        }
        if (i < stop) {
          const v = (p[i]! << 16) | (p[i + 1]! << 8) | p[i + 2]!;
          dst.setUint32(o, TL[v >>> 12]! | (TL[v & 4095]! << 16), true);
          o += 4;
          i += 3;
        }
        if (col === gpl) {
          dst.setUint16(o, CRLF16, true);
          o += 2;
          col = 0;
        }
      }
    }
    if (i < len) {
      let carry = 0;
      let n = 0;
      while (i < len) {
        carry = (carry << 8) | p[i++]!;
        n++;
      }
      this.#carry = carry;
      this.#carryN = n;
    }
    this.#o = o;
    this.#col = col;
  }

  /** Writes the last group (with its padding) and the last line end; returns the offset past the output. */
  end(): number {
    const out = this.#out;
    let o = this.#o;
    let col = this.#col;
    const n = this.#carryN;
    if (n > 0) {
      const v = n === 1 ? this.#carry << 16 : this.#carry << 8;
      out[o] = ENC[v >>> 18]!;
      out[o + 1] = ENC[(v >>> 12) & 63]!;
      out[o + 2] = n === 1 ? 61 : ENC[(v >>> 6) & 63]!;
      out[o + 3] = 61;
      o += 4;
      col++;
      this.#carry = 0;
      this.#carryN = 0;
    }
    if (col > 0) {
      out[o++] = 13;
      out[o++] = 10;
    }
    this.#o = o;
    this.#col = 0;
    return o;
  }
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
  checkRange(input, start, end);
  if (codec?.decode) {
    const r = codec.decode(start === 0 && end === input.length ? input : input.subarray(start, end));
    if (r !== undefined) return r;
  }
  const out = new Uint8Array(maxDecodedLength(end - start));
  return out.subarray(0, decodeCore(input, start, end, out, 0, false));
}

/** The most bytes `n` base64 chars (whitespace included) can decode to. */
export function maxDecodedLength(n: number): number {
  return (n >>> 2) * 3;
}

/**
 * Internal: like {@link decodeBase64} (the same rules and errors; no plugged codec), but writes into `out` at
 * `offset` and returns the offset past the last byte written. `out` needs room for
 * `maxDecodedLength(end - start)` bytes. It may be `input` itself, to decode in place, when `offset <= start`:
 * the output never overtakes the input still to be read. After a throw, `out` holds partial output.
 */
export function decodeBase64Into(input: Uint8Array, start: number, end: number, out: Uint8Array, offset: number): number {
  checkRange(input, start, end);
  if (!(out instanceof Uint8Array)) throw new TypeError('decodeBase64Into: expected a Uint8Array output');
  if (!Number.isInteger(offset) || offset < 0 || offset + maxDecodedLength(end - start) > out.length) {
    throw new RangeError('decodeBase64Into: output buffer too small');
  }
  if (out.buffer === input.buffer) {
    const w = out.byteOffset + offset;
    const r = input.byteOffset + start;
    if (w > r && w < input.byteOffset + end) throw new RangeError('decodeBase64Into: the output overlaps input not yet read');
  }
  return decodeCore(input, start, end, out, offset, false);
}

/**
 * Internal, for the stream decoder (`Base64Decoder` in base64_stream.ts): like {@link decodeBase64Into}, but an
 * incomplete last quantum (1–3 chars, or "xx=" waiting for its second '=') is not an error: it is left undecoded and
 * its start offset is in {@link partialState}`.rest` (`end` when there is none); `partialState.padded` tells whether
 * the padding was read (then only whitespace may follow, here and in later pieces). `out` needs room for
 * `maxDecodedLength(end - start)` bytes.
 */
export function decodeBase64Partial(input: Uint8Array, start: number, end: number, out: Uint8Array, offset: number): number {
  checkRange(input, start, end);
  partialState.rest = end;
  partialState.padded = false;
  return decodeCore(input, start, end, out, offset, true);
}

/** What the last {@link decodeBase64Partial} call left: see there. */
export const partialState = { rest: 0, padded: false };

function checkRange(input: Uint8Array, start: number, end: number): void {
  if (!(input instanceof Uint8Array)) throw new TypeError('decodeBase64: expected a Uint8Array');
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > input.length || start > end) {
    throw new RangeError(`decodeBase64: bad range ${String(start)}..${String(end)} of ${input.length}`);
  }
}

/** Decodes input[start..end) into out from o0; returns the end offset. In place is safe when out === input, o0 <= start. */
function decodeCore(input: Uint8Array, start: number, end: number, out: Uint8Array, o0: number, partial: boolean): number {
  const D = DEC;
  const D2 = DEC2;
  const src = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const dst = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let o = o0;
  let i = start;
  let acc = 0;
  let n = 0; // chars in the current quantum
  let qStart = start; // where the current quantum began (for a partial decode)

  while (i < end) {
    if (n === 0) {
      // Fast path: eight alphabet chars (two 32-bit little-endian loads, two chars per lookup) to six bytes; a
      // CRLF between quanta is stepped over here too. Anything else goes to the char-by-char loop below.
      while (i + 8 <= end) {
        const w = src.getUint32(i, true);
        const x = src.getUint32(i + 4, true);
        const a = D2[w & 0xffff]!;
        const b = D2[w >>> 16]!;
        const c = D2[x & 0xffff]!;
        const d = D2[x >>> 16]!;
        if ((a | b | c | d) > 4095) {
          if ((a | b) <= 4095) {
            const v = (a << 12) | b;
            out[o] = v >>> 16;
            out[o + 1] = (v >>> 8) & 255;
            out[o + 2] = v & 255;
            o += 3;
            i += 4;
          } else if ((w & 0xffff) === CRLF16) i += 2;
          else break;
          continue;
        }
        const v = (a << 12) | b;
        const u = (c << 12) | d;
        dst.setUint32(o, (v << 8) | (u >>> 16));
        dst.setUint16(o + 4, u & 0xffff);
        o += 6;
        i += 8;
      }
      if (i >= end) break;
    }
    const ch = input[i]!;
    const d = D[ch]!;
    if (d < 64) {
      if (n === 0) qStart = i;
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
        if (i >= end && partial) {
          partialState.rest = qStart;
          return o;
        }
        if (i >= end || input[i] !== 61) throw new MIMEInvalid(`invalid base64: incomplete padding at offset ${padAt - start}`);
        i++;
        out[o++] = (acc >>> 4) & 255;
      } else {
        out[o] = (acc >>> 10) & 255;
        out[o + 1] = (acc >>> 2) & 255;
        o += 2;
      }
      n = 0;
      if (partial) partialState.padded = true;
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
  if (n !== 0 && partial) {
    partialState.rest = qStart;
    return o;
  }
  if (n !== 0) throw new MIMEInvalid(`invalid base64: truncated input (a final quantum of ${n} char${n === 1 ? '' : 's'})`);
  return o;
}
