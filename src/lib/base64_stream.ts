/**
 * Base64 in MIME lines for a stream (issue 16): bytes come in pieces of any length, whole lines go out as soon as they
 * are complete. The output is byte for byte what `encodeBase64Lines` gives for the whole input (lines of 76 chars,
 * each ended by CRLF, the last one too), written by the same `encodeBase64LinesInto` (and so the plugged codec).
 */
import { encodeBase64LinesInto } from './base64.js';

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
