/**
 * The payload of a message being signed or encrypted from a stream (signStream, encryptStream): its header section is
 * read and split by the code signMessage and encryptMessage run (RFC 8551 §3.1, and RFC 9788 header protection with
 * `protectHeaders`), and the body follows as it comes. A Legacy Display Element (RFC 9788 §2.1.2, `legacyDisplay`)
 * goes at the top of the main body part, inside the body: for it the first `maxHeaderBytes` of the body are read too
 * (the look-ahead, cut at a line end) and rewritten by the same code (mime/header_protection.ts `protectMessage`,
 * `open`); the rest of the body follows unchanged. Where the element's place is not within the look-ahead (a
 * multipart/alternative running past it, a text/html part whose `<body>` tag is not in it), `MIMELimitExceeded`
 * (`maxHeaderBytes`) before anything is emitted. A message that ends within the look-ahead is planned whole, exactly
 * as the buffer functions plan it.
 */
import { concat } from '../lib/bytes.js';
import { headerSectionEnd } from '../mime/stream_head.js';
import { readHeadSection } from './stream_head.js';

const LF = 10;

/** What {@link readStreamedPayload} read and planned. */
export interface StreamedPayload {
  /** The header section that stays outside (CRLF). */
  outerHeaders: Uint8Array;
  /** The header section of the entity to protect (protected fields, Content-* fields, the empty line), canonical. */
  innerHead: Uint8Array;
  /**
   * The body bytes read so far, in pieces (rewritten where the look-ahead rewrote them; the last may be a view of an
   * input chunk); the rest of the input follows them.
   */
  rest: Uint8Array[];
  /** The input has ended. */
  ended: boolean;
}

/**
 * The split of one message: `bytes` is its header section (and, with a look-ahead, the first bytes of its body);
 * `open` says the body goes on past them, `headerOnly` that `bytes` holds no body at all. Returns the outer header
 * section and the entity to protect, as far as `bytes` go.
 */
export type PayloadPlan = (bytes: Uint8Array, open: boolean, headerOnly: boolean) => { outerHeaders: Uint8Array; inner: Uint8Array };

/**
 * Reads the head of a message from `reader` (and the look-ahead when `lookAhead` says so of the header section) and
 * plans it. The reader is cancelled on error.
 */
export async function readStreamedPayload(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  maxHeaderBytes: number,
  what: string,
  lookAhead: (headers: Uint8Array) => boolean,
  plan: PayloadPlan,
): Promise<StreamedPayload> {
  const hs = await readHeadSection(reader, maxHeaderBytes, what);
  try {
    if (!lookAhead(hs.headers)) {
      const p = plan(hs.headers, !hs.ended || hs.rest.length > 0, true);
      return { outerHeaders: p.outerHeaders, innerHead: p.inner, rest: [hs.rest], ended: hs.ended };
    }
    // The look-ahead: at most maxHeaderBytes of body (whole chunks), cut after its last line end.
    const pieces = [hs.rest];
    let n = hs.rest.length;
    let ended = hs.ended;
    while (!ended && n < maxHeaderBytes) {
      const r = await reader.read();
      if (r.done) ended = true;
      else {
        if (!(r.value instanceof Uint8Array)) throw new TypeError(`${what}: input must be a stream of Uint8Array`);
        pieces.push(r.value);
        n += r.value.length;
      }
    }
    // Copied: the look-ahead (at most maxHeaderBytes); the rest of the last chunk stays a view.
    const last = pieces[pieces.length - 1]!;
    const over = ended ? 0 : Math.max(0, Math.min(last.length, n - maxHeaderBytes));
    const body = concat([...pieces.slice(0, -1), last.subarray(0, last.length - over)]);
    const cut = ended ? body.length : body.lastIndexOf(LF) + 1;
    const p = plan(concat([hs.headers, body.subarray(0, cut)]), !ended, false);
    const end = headerSectionEnd(p.inner);
    const headEnd = end < 0 ? p.inner.length : end;
    return { outerHeaders: p.outerHeaders, innerHead: p.inner.subarray(0, headEnd), rest: [p.inner.subarray(headEnd), body.subarray(cut), last.subarray(last.length - over)], ended };
  } catch (e) {
    await reader.cancel(e).catch(() => {});
    throw e;
  }
}
