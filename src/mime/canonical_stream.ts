/**
 * Canonical line ends (CRLF) for a body that comes in pieces (issue 16): what `writeCanonical` (mime/canonical.ts)
 * does to a whole body — a bare LF or a bare CR becomes CRLF, a CRLF stays — done piece by piece, with a CR at the
 * end of a piece held until the next byte shows whether it is part of a CRLF.
 */
import { canonicalExtra, writeCanonical } from './canonical.js';

const CR = 13;
const LF = 10;
const CRLF = Uint8Array.of(CR, LF);

/** The incremental canonicaliser: feed pieces to `write`, then call `end`. Holds at most one byte. */
export class CanonicalLineEnds {
  #heldCR = false;

  /** The canonical form of `piece` (a view of it when it is canonical already), prefixed by a held line end. */
  write(piece: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let p = piece;
    if (this.#heldCR && p.length > 0) {
      this.#heldCR = false;
      out.push(CRLF);
      if (p[0] === LF) p = p.subarray(1);
    }
    if (p.length > 0 && p[p.length - 1] === CR) {
      this.#heldCR = true;
      p = p.subarray(0, p.length - 1);
    }
    if (p.length === 0) return out;
    const extra = canonicalExtra(p);
    if (extra === 0) out.push(p);
    else {
      const c = new Uint8Array(p.length + extra);
      writeCanonical(p, c, 0);
      out.push(c);
    }
    return out;
  }

  /** The line end held back at the end of the body, if any. */
  end(): Uint8Array[] {
    if (!this.#heldCR) return [];
    this.#heldCR = false;
    return [CRLF];
  }
}
