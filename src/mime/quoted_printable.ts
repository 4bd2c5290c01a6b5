/** Quoted-printable encoding (RFC 2045 §6.7) of canonical text, for signing. */

const CR = 13;
const LF = 10;

/**
 * Quoted-printable (RFC 2045 §6.7) of canonical CRLF text: CRLF stays a hard line break, lines are kept to 76
 * chars with soft breaks, and `=`, controls, bytes ≥ 0x7f, whitespace before a line end, a "From " or a lone "."
 * at the start of a line are encoded (the last two so that mbox and SMTP can't alter signed text). With `out`
 * undefined it only counts; returns the length (or the end offset).
 */
export function quotedPrintable(b: Uint8Array, out: Uint8Array | undefined, o: number): number {
  const HEX = '0123456789ABCDEF';
  const len = b.length;
  let col = 0;
  for (let i = 0; i < len; i++) {
    const c = b[i]!;
    if (c === CR && b[i + 1] === LF) {
      if (out) {
        out[o] = CR;
        out[o + 1] = LF;
      }
      o += 2;
      col = 0;
      i++;
      continue;
    }
    let enc = c === 61 || c >= 127 || (c < 32 && c !== 9);
    if (!enc && (c === 32 || c === 9)) enc = i + 1 === len || (b[i + 1] === CR && b[i + 2] === LF);
    if (!enc && col === 0 && (i === 0 || b[i - 1] === LF)) {
      if (c === 0x46 && b[i + 1] === 0x72 && b[i + 2] === 0x6f && b[i + 3] === 0x6d && b[i + 4] === 32) enc = true;
      else if (c === 0x2e && (i + 1 === len || (b[i + 1] === CR && b[i + 2] === LF))) enc = true;
    }
    const w = enc ? 3 : 1;
    if (col + w > 75) {
      if (out) {
        out[o] = 61;
        out[o + 1] = CR;
        out[o + 2] = LF;
      }
      o += 3;
      col = 0;
    }
    if (out) {
      if (enc) {
        out[o] = 61;
        out[o + 1] = HEX.charCodeAt(c >> 4);
        out[o + 2] = HEX.charCodeAt(c & 15);
      } else {
        out[o] = c;
      }
    }
    o += w;
    col += w;
  }
  return o;
}

/**
 * {@link quotedPrintable} for canonical text that comes in pieces (issue 16: signStream): the same output for the
 * whole, written as the pieces come. Holds at most 5 bytes (the look-ahead of a line end after whitespace, or of a
 * "From " at a line's start) and the column.
 */
export class QuotedPrintableStream {
  #held: Uint8Array = new Uint8Array(0);
  #col = 0;
  #lineStart = true;

  /** The encoding of what `piece` completes (a few bytes are held until the next piece or `end`). */
  write(piece: Uint8Array): Uint8Array {
    return this.#run(piece, false);
  }

  /** The encoding of the held bytes. */
  end(): Uint8Array {
    return this.#run(new Uint8Array(0), true);
  }

  #run(piece: Uint8Array, final: boolean): Uint8Array {
    let b = piece;
    if (this.#held.length > 0) {
      b = new Uint8Array(this.#held.length + piece.length);
      b.set(this.#held);
      b.set(piece, this.#held.length);
    }
    const len = b.length;
    const stop = final ? len : Math.max(0, len - 5);
    const out = new Uint8Array(stop * 3 + Math.ceil((stop * 3) / 75) * 3 + 3);
    const HEX = '0123456789ABCDEF';
    let o = 0;
    let col = this.#col;
    let lineStart = this.#lineStart;
    let i = 0;
    for (; i < stop; i++) {
      const c = b[i]!;
      if (c === CR && b[i + 1] === LF) {
        out[o++] = CR;
        out[o++] = LF;
        col = 0;
        lineStart = true;
        i++;
        continue;
      }
      let enc = c === 61 || c >= 127 || (c < 32 && c !== 9);
      if (!enc && (c === 32 || c === 9)) enc = final ? i + 1 === len || (b[i + 1] === CR && b[i + 2] === LF) : b[i + 1] === CR && b[i + 2] === LF;
      if (!enc && col === 0 && lineStart) {
        if (c === 0x46 && b[i + 1] === 0x72 && b[i + 2] === 0x6f && b[i + 3] === 0x6d && b[i + 4] === 32) enc = true;
        else if (c === 0x2e && ((final && i + 1 === len) || (b[i + 1] === CR && b[i + 2] === LF))) enc = true;
      }
      lineStart = false;
      const w = enc ? 3 : 1;
      if (col + w > 75) {
        out[o++] = 61;
        out[o++] = CR;
        out[o++] = LF;
        col = 0;
      }
      if (enc) {
        out[o++] = 61;
        out[o++] = HEX.charCodeAt(c >> 4);
        out[o++] = HEX.charCodeAt(c & 15);
      } else {
        out[o++] = c;
      }
      col += w;
    }
    this.#held = b.slice(i);
    this.#col = col;
    this.#lineStart = lineStart;
    return out.subarray(0, o);
  }
}
