/**
 * Base64 in MIME lines for a stream (issue 16): bytes come in pieces of any length, whole lines go out as soon as they
 * are complete. The output is byte for byte what `encodeBase64Lines` gives for the whole input (lines of 76 chars,
 * each ended by CRLF, the last one too), written by the same `encodeBase64LinesInto` (and so the plugged codec).
 */
import { MIMEInvalid } from '../errors.js';
import { decodeBase64Partial, encodeBase64LinesInto, getBase64Codec, maxDecodedLength, partialState } from './base64.js';

/** Input bytes per full 76-char line. */
const LINE_BYTES = 57;
/** Output bytes per full line: 76 chars and CRLF. */
const LINE_OUT = 78;

/** The incremental base64 line encoder: at most 56 input bytes held between writes. */
export class Base64LineStream {
  readonly #held = new Uint8Array(LINE_BYTES);
  #n = 0;

  /** The base64 lines completed by `parts` (possibly empty). The parts are not kept. */
  write(parts: readonly Uint8Array[]): Uint8Array {
    let total = this.#n;
    for (const p of parts) total += p.length;
    const lines = Math.floor(total / LINE_BYTES);
    if (lines === 0) {
      for (const p of parts) {
        this.#held.set(p, this.#n);
        this.#n += p.length;
      }
      return new Uint8Array(0);
    }
    // The whole lines: the held bytes, then the parts up to `whole` bytes; the rest is held.
    let need = lines * LINE_BYTES - this.#n;
    const take: Uint8Array[] = this.#n > 0 ? [this.#held.slice(0, this.#n)] : [];
    let pi = 0;
    let rest: Uint8Array[] = [];
    for (; pi < parts.length; pi++) {
      const p = parts[pi]!;
      if (p.length <= need) {
        take.push(p);
        need -= p.length;
        continue;
      }
      take.push(p.subarray(0, need));
      rest = [p.subarray(need), ...parts.slice(pi + 1)];
      break;
    }
    const out = new Uint8Array(lines * LINE_OUT);
    encodeBase64LinesInto(take, 76, out, 0);
    this.#n = 0;
    for (const p of rest) {
      this.#held.set(p, this.#n);
      this.#n += p.length;
    }
    return out;
  }

  /** The last, shorter line (with its padding and CRLF), or nothing. */
  end(): Uint8Array {
    const n = this.#n;
    this.#n = 0;
    if (n === 0) return new Uint8Array(0);
    const out = new Uint8Array(Math.ceil(n / 3) * 4 + 2);
    encodeBase64LinesInto([this.#held.subarray(0, n)], 76, out, 0);
    return out;
  }
}

const SKIP = new Uint8Array(256);
SKIP[13] = SKIP[10] = SKIP[32] = SKIP[9] = 1;
const PAD = 61;

/**
 * The incremental base64 decoder (issue 16): a base64 body comes in pieces of any length (lines of any length, CR,
 * LF, space and tab anywhere), the decoded bytes go out as soon as their 4-char groups are complete. The result, and
 * what is refused (`MIMEInvalid`: a byte outside the alphabet, misplaced or incomplete padding, data after the
 * padding, a char count that is not a multiple of 4), are those of `decodeBase64` on the whole input: the whole
 * 4-char groups of each piece go through the same decoder (`decodeBase64Partial`), and at most 3 chars (a group not
 * yet complete) are held between pieces.
 */
export class Base64Decoder {
  /** The chars of the group not yet complete (at most 3; 4 only for a moment). */
  readonly #q = new Uint8Array(4);
  #nq = 0;
  /** The padding was read: only whitespace may follow. */
  #padded = false;
  /** Input bytes seen before the current piece (for the offsets in error messages). */
  #seen = 0;

  /** The bytes decoded from `piece` and the chars held before it (possibly none). The piece is not kept. */
  write(piece: Uint8Array): Uint8Array {
    const len = piece.length;
    const base = this.#seen;
    this.#seen += len;
    let i = 0;
    if (this.#padded) {
      this.#onlySpace(piece, 0, base);
      return new Uint8Array(0);
    }
    const out = new Uint8Array(maxDecodedLength(len) + 3);
    let o = 0;
    if (this.#nq > 0) {
      // Complete the held group with the first chars of this piece, and decode those 4 chars alone.
      const q = this.#q;
      while (i < len && this.#nq < 4) {
        const c = piece[i]!;
        i++;
        if (SKIP[c] === 1) continue;
        q[this.#nq++] = c;
      }
      if (this.#nq < 4) return new Uint8Array(0);
      o = this.#group(out, base + i);
      if (this.#padded) {
        this.#onlySpace(piece, i, base);
        return out.subarray(0, o);
      }
    }
    const codec = getBase64Codec();
    if (codec?.decodeLines && len - i >= MIN_LINES_RUN) {
      // A run of whole lines of one length to the plugged (native) decoder: the chars before the first line start
      // here, then the run (when they end on a whole group), then the rest here; all it declines is decoded here.
      const lf = piece.indexOf(10, i);
      const start = lf + 1;
      const end = lf < 0 ? 0 : wholeLines(piece, start, len);
      if (end > start) {
        const o1 = this.#partial(piece, i, start, out, o, base);
        if (partialState.rest === start && !partialState.padded) {
          o = o1;
          i = start;
          const chars = ((end - start) / (lines.length + lines.eol)) * lines.length;
          if (codec.decodeLines(piece.subarray(start, end), chars, out, o)) {
            o += (chars / 4) * 3;
            i = end;
          }
        }
      }
    }
    o = this.#partial(piece, i, len, out, o, base);
    const rest = partialState.rest;
    if (partialState.padded) this.#padded = true;
    for (let j = rest; j < len; j++) {
      const c = piece[j]!;
      if (SKIP[c] !== 1) this.#q[this.#nq++] = c;
    }
    return out.subarray(0, o);
  }

  /** The end of the input: `MIMEInvalid` when a group is incomplete (truncated input or padding). */
  end(): Uint8Array {
    const n = this.#nq;
    this.#nq = 0;
    if (n === 0) return new Uint8Array(0);
    const padAt = this.#q.subarray(0, n).indexOf(PAD);
    if (padAt >= 0) throw new MIMEInvalid(`invalid base64: incomplete padding at the end of the input`);
    throw new MIMEInvalid(`invalid base64: truncated input (a final quantum of ${n} char${n === 1 ? '' : 's'})`);
  }

  /** `decodeBase64Partial` of `piece[from..to)`, its error offsets counted from the start of the whole input (`base`: the piece's). */
  #partial(piece: Uint8Array, from: number, to: number, out: Uint8Array, o: number, base: number): number {
    try {
      return decodeBase64Partial(piece, from, to, out, o);
    } catch (e) {
      if (e instanceof MIMEInvalid) throw new MIMEInvalid(e.message.replace(/at offset (\d+)/, (_, n: string) => `at offset ${base + from + Number(n)}`));
      throw e;
    }
  }

  /** Decodes the 4 held chars into `out` at 0; sets the padded state when they end with padding. */
  #group(out: Uint8Array, at: number): number {
    const q = this.#q;
    this.#nq = 0;
    try {
      const o = decodeBase64Partial(q, 0, 4, out, 0);
      if (partialState.padded) this.#padded = true;
      return o;
    } catch (e) {
      if (e instanceof MIMEInvalid) throw new MIMEInvalid(`${e.message.replace(/ at offset \d+$/, '')} near offset ${at}`);
      throw e;
    }
  }

  #onlySpace(piece: Uint8Array, from: number, base: number): void {
    for (let j = from; j < piece.length; j++) {
      const c = piece[j]!;
      if (SKIP[c] === 1) continue;
      throw new MIMEInvalid(
        c === PAD || isAlphabet(c) ? `invalid base64: data after padding at offset ${base + j}` : `invalid base64: unexpected byte 0x${c.toString(16).padStart(2, '0')} at offset ${base + j}`,
      );
    }
  }
}

/** The shortest run (in input bytes) offered to a plugged decoder: below it the call costs more than it saves. */
const MIN_LINES_RUN = 1024;
/** The line length (chars, a multiple of 4) and line end (1: LF, 2: CRLF) found by the last {@link wholeLines}. */
const lines = { length: 0, eol: 0 };

/**
 * The end of the run of whole lines at `piece[from..to)`: lines of the first line's length (a multiple of 4 between
 * 4 and 996 chars), each ended as the first (CRLF or LF); `from` when there is no such run of at least 8 lines. Only
 * the line ends are checked: the chars are the plugged decoder's to check.
 */
function wholeLines(piece: Uint8Array, from: number, to: number): number {
  const lf = piece.indexOf(10, from);
  if (lf < 0 || lf >= to) return from;
  const eol = lf > from && piece[lf - 1] === 13 ? 2 : 1;
  const length = lf + 1 - eol - from;
  if (length < 4 || length > 996 || length % 4 !== 0) return from;
  const step = length + eol;
  let at = from;
  if (eol === 2) while (at + step <= to && piece[at + length] === 13 && piece[at + length + 1] === 10) at += step;
  else while (at + step <= to && piece[at + length] === 10) at += step;
  if (at - from < 8 * step) return from;
  lines.length = length;
  lines.eol = eol;
  return at;
}

function isAlphabet(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
}
