/**
 * The head of a message read from a stream (issue 16): the bytes up to the empty line that ends the header section,
 * at most `maxHeaderBytes` (`MIMELimitExceeded`), with the body bytes read past it kept for the body reader.
 */
import { MIMELimitExceeded } from '../errors.js';
import { concat } from '../lib/bytes.js';
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
 * Reads `reader` up to the end of the header section. `stop(head)` may end it earlier (raw DER: a first byte 0x30
 * has no header section; then `headers` is empty and `rest` holds what was read). The reader is cancelled on error.
 */
export async function readHeadSection(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  maxHeaderBytes: number,
  what: string,
  stop?: (head: Uint8Array) => boolean,
): Promise<HeadSection> {
  let head: Uint8Array = new Uint8Array(0);
  for (;;) {
    const r = await reader.read();
    if (r.done) return { headers: head, rest: new Uint8Array(0), ended: true };
    if (!(r.value instanceof Uint8Array)) {
      await reader.cancel();
      throw new TypeError(`${what}: input must be a stream of Uint8Array`);
    }
    if (r.value.length === 0) continue;
    head = head.length === 0 ? r.value : concat([head, r.value]);
    if (stop?.(head)) return { headers: new Uint8Array(0), rest: head, ended: false };
    const end = headerSectionEnd(head);
    if (end >= 0) return { headers: head.subarray(0, end), rest: head.subarray(end), ended: false };
    if (head.length > maxHeaderBytes) {
      await reader.cancel();
      throw new MIMELimitExceeded(`header section larger than ${maxHeaderBytes} bytes`, { limit: 'maxHeaderBytes' });
    }
  }
}
