/**
 * The head of a message read from a stream (issue 16): the bytes up to the empty line that ends the header section,
 * at most `maxHeaderBytes` (`MIMELimitExceeded`), with the body bytes read past it kept for the body reader.
 */
import { MIMELimitExceeded } from '../errors.js';
import { headerSectionEnd } from '../mime/stream_head.js';

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
  // A growing buffer (doubling), searched from where the last search stopped: linear in the bytes read, whatever
  // the chunk sizes (1-byte chunks included).
  let head = new Uint8Array(0);
  let n = 0;
  for (;;) {
    const r = await reader.read();
    if (r.done) return { headers: head.subarray(0, n), rest: new Uint8Array(0), ended: true };
    if (!(r.value instanceof Uint8Array)) {
      await reader.cancel();
      throw new TypeError(`${what}: input must be a stream of Uint8Array`);
    }
    const v = r.value;
    if (v.length === 0) continue;
    if (n === 0 && stop?.(v)) return { headers: new Uint8Array(0), rest: v, ended: false };
    if (n + v.length > head.length) {
      const bigger = new Uint8Array(Math.max(n + v.length, Math.min(2 * head.length, maxHeaderBytes + v.length), 4096));
      bigger.set(head.subarray(0, n));
      head = bigger;
    }
    head.set(v, n);
    const from = Math.max(0, n - 3);
    n += v.length;
    const b = head.subarray(0, n);
    const end = headerSectionEnd(b, from);
    if (end >= 0) return { headers: b.subarray(0, end), rest: b.subarray(end), ended: false };
    if (n > maxHeaderBytes) {
      await reader.cancel();
      throw new MIMELimitExceeded(`header section larger than ${maxHeaderBytes} bytes`, { limit: 'maxHeaderBytes' });
    }
  }
}
