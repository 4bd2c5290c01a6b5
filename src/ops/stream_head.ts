/**
 * The head of a message read from a stream (issue 16): the bytes up to the empty line that ends the header section,
 * at most `maxHeaderBytes` (`MIMELimitExceeded`), with the body bytes read past it kept for the body reader. The
 * bytes are gathered by mime/stream_head.ts `HeaderSectionBuffer`, as for EntityHeadReader.
 */
import { HeaderSectionBuffer } from '../mime/stream_head.js';

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
