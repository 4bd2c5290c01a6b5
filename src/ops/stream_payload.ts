/**
 * The payload of a message being signed or encrypted from a stream (signStream, encryptStream): its header section is
 * read and split by the code signMessage and encryptMessage run (RFC 8551 §3.1, and RFC 9788 header protection with
 * `protectHeaders`), and the body follows as it comes. A Legacy Display Element (RFC 9788 §2.1.2, `legacyDisplay`)
 * goes at the top of the main body part, inside the body: for it the first `maxHeaderBytes` of the body are read too
 * (the look-ahead, cut at a line end) and rewritten by the same code (mime/header_protection.ts `protectMessage`,
 * `open`); the rest of the body follows unchanged. Where the element's place is not within the look-ahead (a
 * multipart/alternative running past it, a text/html part whose `<body>` tag is not in it), `MIMELimitExceeded`
 * (`maxHeaderBytes`) before anything is emitted. A message whose body is at most `maxHeaderBytes` is planned whole.
 * signMessage and encryptMessage check the same look-ahead ({@link lookAheadOf}), so they refuse what the streams
 * refuse and write the same bytes otherwise.
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
  /**
   * The body bytes planned with the header section, as read (before the plan rewrote them into `rest[0]`); `rest[1]`
   * and the others follow them. Empty without a look-ahead.
   */
  lookAhead: Uint8Array;
  /** The input has ended. */
  ended: boolean;
}

/**
 * Where a look-ahead of `body` (the first bytes of a message's body: all of it, or `maxHeaderBytes` of a longer one,
 * `open`) is cut: after its last line end when the body goes on, so that the plan sees whole lines.
 */
function lookAheadCut(body: Uint8Array, open: boolean): number {
  return open ? body.lastIndexOf(LF) + 1 : body.length;
}

/**
 * The look-ahead a stream takes of a whole message (what {@link readStreamedPayload} plans): its header section and
 * the first `maxHeaderBytes` of its body cut at a line end, `open` when the body is longer than that; the whole
 * message, not open, when it is not. What the buffer functions check the Legacy Display Element's place on, so that
 * they refuse what the streams refuse. Undefined when the message has no body (no empty line).
 */
export function lookAheadOf(message: Uint8Array, maxHeaderBytes: number): { bytes: Uint8Array; open: boolean } | undefined {
  const headEnd = headerSectionEnd(message);
  if (headEnd < 0) return undefined;
  const open = message.length - headEnd > maxHeaderBytes;
  if (!open) return { bytes: message, open };
  return { bytes: message.subarray(0, headEnd + lookAheadCut(message.subarray(headEnd, headEnd + maxHeaderBytes), true)), open };
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
      return { outerHeaders: p.outerHeaders, innerHead: p.inner, rest: [hs.rest], lookAhead: new Uint8Array(0), ended: hs.ended };
    }
    // The look-ahead (whole chunks) until the body is known to be longer than maxHeaderBytes, or has ended.
    const pieces = [hs.rest];
    let n = hs.rest.length;
    let ended = hs.ended;
    while (!ended && n <= maxHeaderBytes) {
      const r = await reader.read();
      if (r.done) ended = true;
      else {
        if (!(r.value instanceof Uint8Array)) throw new TypeError(`${what}: input must be a stream of Uint8Array`);
        pieces.push(r.value);
        n += r.value.length;
      }
    }
    // Copied: the look-ahead (at most maxHeaderBytes); the rest of the last chunk stays a view.
    const open = n > maxHeaderBytes;
    const last = pieces[pieces.length - 1]!;
    const over = open ? Math.min(last.length, n - maxHeaderBytes) : 0;
    const body = concat([...pieces.slice(0, -1), last.subarray(0, last.length - over)]);
    const cut = lookAheadCut(body, open);
    const p = plan(concat([hs.headers, body.subarray(0, cut)]), open, false);
    const end = headerSectionEnd(p.inner);
    const headEnd = end < 0 ? p.inner.length : end;
    return {
      outerHeaders: p.outerHeaders,
      innerHead: p.inner.subarray(0, headEnd),
      rest: [p.inner.subarray(headEnd), body.subarray(cut), last.subarray(last.length - over)],
      lookAhead: body.subarray(0, cut),
      ended,
    };
  } catch (e) {
    await reader.cancel(e).catch(() => {});
    throw e;
  }
}
