/**
 * Multipart bodies that come in pieces (issue 16): a delimiter scanner by the rules of `splitMultipartRanges`
 * (mime/multipart.ts) — "--boundary" at the start of a line, then "--" (the close delimiter) or transport padding
 * (spaces, tabs) and a line end; the line end before a delimiter belongs to the delimiter. It hands on the bytes of
 * each segment (preamble, each part, epilogue) as they are known, and each delimiter line. Held between pieces: at
 * most one line end and the start of a line that may be a delimiter (bounded by `maxLineBytes`).
 */
import { MIMEInvalid, MIMELimitExceeded } from '../errors.js';
import { concat, fromLatin1 as ascii } from '../lib/bytes.js';

const LF = 10;
const CR = 13;
const SP = 32;
const TAB = 9;
const DASH = 45;

/** What a line start says: a delimiter, not one, or not known until more bytes come. */
type LineVerdict = { kind: 'delimiter'; close: boolean; lineEnd: number } | { kind: 'no' } | { kind: 'wait' };

/** What a {@link DelimiterScanner} calls, synchronously, from `push` and `finish`. */
export interface DelimiterHandler {
  /** Bytes of the current segment (views, valid during the call). Segment 0 is the preamble. */
  data(bytes: Uint8Array): void;
  /**
   * A delimiter line (its preceding line end, the line and, unless `close`, its line end): the current segment ends, the
   * next begins. After a close delimiter every byte is epilogue (`data`), and no delimiter is looked for.
   */
  delimiter(line: Uint8Array, close: boolean): void;
}

/** The scanner: `push` the body's pieces, then `finish`. */
export class DelimiterScanner {
  readonly #dash: Uint8Array;
  readonly #handler: DelimiterHandler;
  readonly #maxLineBytes: number;
  #held: Uint8Array = new Uint8Array(0);
  /** Whether #held[0] starts a line of the body. */
  #heldAtLineStart = true;
  #closed = false;

  constructor(boundary: string, handler: DelimiterHandler, maxLineBytes: number) {
    if (boundary.length === 0 || boundary.length > 998) throw new MIMEInvalid('multipart: missing or too long boundary');
    this.#dash = ascii('--' + boundary);
    this.#handler = handler;
    this.#maxLineBytes = maxLineBytes;
  }

  /** Whether the close delimiter has been read. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Scans the next piece of the body. */
  push(piece: Uint8Array): void {
    if (piece.length === 0) return;
    if (this.#closed) return this.#handler.data(piece);
    const b = this.#held.length === 0 ? piece : concat([this.#held, piece]);
    this.#scan(b, false);
  }

  /** The end of the body: what is held is handed on (a delimiter at the very end counts). */
  finish(): void {
    if (this.#closed) return;
    const b = this.#held;
    this.#held = new Uint8Array(0);
    this.#scan(b, true);
  }

  /** What the line starting at `s` of `b` is. */
  #verdict(b: Uint8Array, s: number, final: boolean): LineVerdict {
    const dash = this.#dash;
    const len = b.length;
    const dl = dash.length;
    const avail = Math.min(len - s, dl);
    for (let k = 0; k < avail; k++) if (b[s + k] !== dash[k]) return { kind: 'no' };
    if (avail < dl) return final ? { kind: 'no' } : { kind: 'wait' };
    let q = s + dl;
    if (q + 1 < len || final) {
      if (b[q] === DASH && b[q + 1] === DASH) return { kind: 'delimiter', close: true, lineEnd: q + 2 };
    } else if (q < len && b[q] === DASH) return { kind: 'wait' };
    while (q < len && (b[q] === SP || b[q] === TAB)) q++;
    if (q === len) return final ? { kind: 'delimiter', close: false, lineEnd: len } : { kind: 'wait' };
    if (b[q] === LF) return { kind: 'delimiter', close: false, lineEnd: q + 1 };
    if (b[q] === CR) {
      if (q + 1 === len) return final ? { kind: 'delimiter', close: false, lineEnd: len } : { kind: 'wait' };
      if (b[q + 1] === LF) return { kind: 'delimiter', close: false, lineEnd: q + 2 };
    }
    return { kind: 'no' };
  }

  /** The line end just before `s` (not before `from`): where it starts. */
  static #lineEndStart(b: Uint8Array, from: number, s: number): number {
    let end = s;
    if (end > from && b[end - 1] === LF) {
      end--;
      if (end > from && b[end - 1] === CR) end--;
    }
    return end;
  }

  #data(bytes: Uint8Array): void {
    if (bytes.length > 0) this.#handler.data(bytes);
  }

  #scan(b: Uint8Array, final: boolean): void {
    let from = 0; // start of the bytes not yet handed on
    let s = 0; // the line start being looked at
    let atLineStart = this.#heldAtLineStart;
    for (;;) {
      if (atLineStart) {
        const v = this.#verdict(b, s, final);
        if (v.kind === 'delimiter') {
          const end = DelimiterScanner.#lineEndStart(b, from, s);
          this.#data(b.subarray(from, end));
          this.#handler.delimiter(b.subarray(end, v.lineEnd), v.close);
          from = v.lineEnd;
          if (v.close) {
            this.#closed = true;
            this.#held = new Uint8Array(0);
            this.#data(b.subarray(from));
            return;
          }
          s = from;
          continue;
        }
        if (v.kind === 'wait') {
          if (b.length - s > this.#maxLineBytes) throw new MIMELimitExceeded(`multipart: a delimiter line longer than ${this.#maxLineBytes} bytes`, { limit: 'maxHeaderBytes' });
          // Hold the line end before `s` (it belongs to the delimiter, if this is one) and the line.
          const keep = DelimiterScanner.#lineEndStart(b, from, s);
          this.#data(b.subarray(from, keep));
          this.#held = b.slice(keep);
          this.#heldAtLineStart = keep === s;
          return;
        }
      }
      const nl = b.indexOf(LF, s);
      if (nl < 0 || nl + 1 === b.length) {
        if (final) {
          this.#data(b.subarray(from));
          this.#held = new Uint8Array(0);
          return;
        }
        // Hold a line end at the end (a delimiter may follow it), or a CR that may begin one.
        let keep = b.length;
        if (nl >= 0) {
          keep = nl;
          if (keep > from && b[keep - 1] === CR) keep--;
        } else if (keep > from && b[keep - 1] === CR) keep--;
        this.#data(b.subarray(from, keep));
        this.#held = b.slice(keep);
        this.#heldAtLineStart = this.#held.length === 0 && nl >= 0;
        return;
      }
      s = nl + 1;
      atLineStart = true;
    }
  }
}
