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
