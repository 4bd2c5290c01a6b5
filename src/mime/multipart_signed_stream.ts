/**
 * multipart/signed read from a stream (issue 16: verifyStream): a delimiter scanner over the body's pieces that hands
 * the first part on as it comes (made canonical, CRLF, as `parseMultipartSigned` makes `signedPart`) and collects the
 * second part (the signature, bounded). The delimiters are found by the rules of `splitMultipartRanges`
 * (mime/multipart.ts): "--boundary" at the start of a line, then "--" (the close delimiter) or transport padding
 * (spaces, tabs) and a line end; the line end before a delimiter belongs to it. Held between pieces: at most one line
 * end and the start of a line that may be a delimiter (bounded by `maxLineBytes`).
 */
import { MIMEInvalid, MIMELimitExceeded } from '../errors.js';
import { concat, fromLatin1 as ascii } from '../lib/bytes.js';
import { CanonicalLineEnds } from './canonical_stream.js';

const LF = 10;
const CR = 13;
const SP = 32;
const TAB = 9;
const DASH = 45;

/** What a line start says: a delimiter, not one, or not known until more bytes come. */
type LineVerdict = { kind: 'delimiter'; close: boolean; lineEnd: number } | { kind: 'no' } | { kind: 'wait' };

/** The limits of a {@link MultipartSignedScanner}. */
export interface MultipartSignedScanLimits {
  /** The signature part's size (raw, as transferred): `MIMELimitExceeded`, limit 'maxCmsHeaderBytes'. */
  maxSignaturePartBytes: number;
  /** The longest candidate delimiter line held (a "--boundary" followed by padding): `MIMELimitExceeded`. */
  maxLineBytes: number;
}

/**
 * The scanner: `push` body pieces (the bytes after the multipart/signed header section), then `finish`, which returns
 * the raw second part. `part1` receives the first part's canonical bytes as they are known.
 */
export class MultipartSignedScanner {
  readonly #dash: Uint8Array;
  readonly #part1: (canonical: Uint8Array) => void;
  readonly #limits: MultipartSignedScanLimits;
  readonly #canon = new CanonicalLineEnds();
  #state: 'preamble' | 'part1' | 'part2' | 'epilogue' = 'preamble';
  #held: Uint8Array = new Uint8Array(0);
  /** Whether #held[0] starts a line of the body. */
  #heldAtLineStart = true;
  #sig: Uint8Array[] = [];
  #sigBytes = 0;

  constructor(boundary: string, part1: (canonical: Uint8Array) => void, limits: MultipartSignedScanLimits) {
    if (boundary.length === 0 || boundary.length > 998) throw new MIMEInvalid('multipart: boundary too long');
    this.#dash = ascii('--' + boundary);
    this.#part1 = part1;
    this.#limits = limits;
  }

  /** Scans the next piece of the body. */
  push(piece: Uint8Array): void {
    if (piece.length === 0 || this.#state === 'epilogue') return;
    const b = this.#held.length === 0 ? piece : concat([this.#held, piece]);
    this.#scan(b, false);
  }

  /** The end of the body: the raw signature part (its headers and body); `MIMEInvalid` when a delimiter is missing. */
  finish(): Uint8Array {
    if (this.#state !== 'epilogue') {
      const b = this.#held;
      this.#held = new Uint8Array(0);
      this.#scan(b, true);
    }
    const boundary = new TextDecoder('latin1').decode(this.#dash.subarray(2));
    if (this.#state === 'preamble') throw new MIMEInvalid(`multipart: no delimiter line "--${boundary}" found`);
    if (this.#state !== 'epilogue') throw new MIMEInvalid(`multipart: missing close delimiter "--${boundary}--"`);
    return concat(this.#sig);
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
      if (b[q] === DASH && b[q + 1] === DASH) return { kind: 'delimiter', close: true, lineEnd: len };
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

  /** Hands `bytes` of the current part to where they go. */
  #emit(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.#state === 'part1') {
      for (const c of this.#canon.write(bytes)) this.#part1(c);
    } else if (this.#state === 'part2') {
      this.#sigBytes += bytes.length;
      if (this.#sigBytes > this.#limits.maxSignaturePartBytes) {
        throw new MIMELimitExceeded(`multipart/signed: the signature part is larger than ${this.#limits.maxSignaturePartBytes} bytes`, { limit: 'maxCmsHeaderBytes' });
      }
      this.#sig.push(bytes.slice());
    }
  }

  /** The current part ends before the line end that precedes `s` (a delimiter line); the next state begins. */
  #delimiter(b: Uint8Array, from: number, s: number, v: { close: boolean; lineEnd: number }): number {
    let end = s;
    if (end > from && b[end - 1] === LF) {
      end--;
      if (end > from && b[end - 1] === CR) end--;
    }
    if (this.#state !== 'preamble') this.#emit(b.subarray(from, end));
    if (this.#state === 'part1') for (const c of this.#canon.end()) this.#part1(c);
    if (v.close) {
      if (this.#state === 'preamble') throw new MIMEInvalid('multipart: the first delimiter is the close delimiter (no body parts)');
      if (this.#state === 'part1') throw new MIMEInvalid('multipart/signed: missing signature part (only one body part)');
      this.#state = 'epilogue';
      return b.length;
    }
    if (this.#state === 'part2') throw new MIMEInvalid('multipart/signed: expected 2 body parts, found more');
    this.#state = this.#state === 'preamble' ? 'part1' : 'part2';
    return v.lineEnd;
  }

  #scan(b: Uint8Array, final: boolean): void {
    let from = 0; // start of the bytes not yet handed on
    let s = 0; // the line start being looked at
    let atLineStart = this.#heldAtLineStart;
    for (;;) {
      if (this.#state === 'epilogue') {
        this.#held = new Uint8Array(0);
        return;
      }
      if (atLineStart) {
        const v = this.#verdict(b, s, final);
        if (v.kind === 'delimiter') {
          from = this.#delimiter(b, from, s, v);
          s = from;
          atLineStart = true;
          continue;
        }
        if (v.kind === 'wait') {
          if (b.length - s > this.#limits.maxLineBytes) throw new MIMELimitExceeded(`multipart: a delimiter line longer than ${this.#limits.maxLineBytes} bytes`, { limit: 'maxHeaderBytes' });
          // Hold the line end before `s` (it belongs to the delimiter, if this is one) and the line.
          let keep = s;
          if (keep > from && b[keep - 1] === LF) {
            keep--;
            if (keep > from && b[keep - 1] === CR) keep--;
          }
          this.#emitPart(b.subarray(from, keep));
          this.#held = b.slice(keep);
          this.#heldAtLineStart = keep === s;
          return;
        }
      }
      const nl = b.indexOf(LF, s);
      if (nl < 0 || nl + 1 === b.length) {
        if (final) {
          this.#emitPart(b.subarray(from));
          this.#held = new Uint8Array(0);
          return;
        }
        // Hold a line end at the end (a delimiter may follow it).
        let keep = b.length;
        if (nl >= 0) {
          keep = nl;
          if (keep > from && b[keep - 1] === CR) keep--;
        } else if (b[keep - 1] === CR) keep--;
        if (keep < from) keep = from;
        this.#emitPart(b.subarray(from, keep));
        this.#held = b.slice(keep);
        this.#heldAtLineStart = keep === b.length && nl < 0 ? false : keep === b.length;
        if (this.#held.length === 0) this.#heldAtLineStart = nl >= 0;
        return;
      }
      s = nl + 1;
      atLineStart = true;
    }
  }

  #emitPart(bytes: Uint8Array): void {
    if (this.#state === 'part1' || this.#state === 'part2') this.#emit(bytes);
  }
}
