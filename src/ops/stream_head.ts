/**
 * The head of a message read from a stream (issue 16): the bytes up to the empty line that ends the header section,
 * at most `maxHeaderBytes` (`MIMELimitExceeded`), with the body bytes read past it kept for the body reader. The
 * bytes are gathered by mime/stream_head.ts `HeaderSectionBuffer`, as for EntityHeadReader.
 */
import { MIMELimitExceeded } from '../errors.js';
import { HeaderSectionBuffer } from '../mime/stream_head.js';

/**
 * A stream operation's input counted as it is read: each chunk checked to be a Uint8Array and the total held to
 * `maxInputBytes`, the operation named in the errors (verifyStream, signStream, scanForSigning, openStream).
 */
export class InputMeter {
  #bytes: number;
  readonly #what: string;
  readonly #max: number;

  /** @param already bytes read before (the head), counted as they are: the limit is checked on the next chunk */
  constructor(what: string, maxInputBytes: number, already = 0) {
    this.#what = what;
    this.#max = maxInputBytes;
    this.#bytes = already;
  }

  /** The bytes counted so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** `v`, a chunk just read: `TypeError` when it is not a Uint8Array, `MIMELimitExceeded` once the total passes the limit. */
  take(v: unknown): Uint8Array {
    if (!(v instanceof Uint8Array)) throw new TypeError(`${this.#what}: input must be a stream of Uint8Array`);
    this.#bytes += v.length;
    if (this.#bytes > this.#max) throw new MIMELimitExceeded(`${this.#what}: the input is more than maxInputBytes (${this.#max}) bytes`, { limit: 'maxInputBytes' });
    return v;
  }
}

/** What {@link readHeadSection} read. */
export interface HeadSection {
  /** The header section, its empty line included (the whole input when it has no empty line). */
  headers: Uint8Array;
  /** Bytes read past the header section. */
  rest: Uint8Array;
  /** The input ended while the header section was read. */
  ended: boolean;
}

/**
 * Reads `reader` up to the end of the header section. `stop(first)` may end it at the first chunk (raw DER: a first
 * byte 0x30 has no header section; then `headers` is empty and `rest` holds that chunk). The reader is cancelled on error.
 */
export async function readHeadSection(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  maxHeaderBytes: number,
  what: string,
  stop?: (head: Uint8Array) => boolean,
): Promise<HeadSection> {
  const section = new HeaderSectionBuffer(maxHeaderBytes);
  for (;;) {
    const r = await reader.read();
    if (r.done) return { headers: section.held, rest: new Uint8Array(0), ended: true };
    if (!(r.value instanceof Uint8Array)) {
      await reader.cancel();
      throw new TypeError(`${what}: input must be a stream of Uint8Array`);
    }
    const v = r.value;
    if (v.length === 0) continue;
    if (section.held.length === 0 && stop?.(v)) return { headers: new Uint8Array(0), rest: v, ended: false };
    let found;
    try {
      found = section.push(v);
    } catch (e) {
      await reader.cancel();
      throw e;
    }
    if (found) return { headers: found.section, rest: found.rest, ended: false };
  }
}
