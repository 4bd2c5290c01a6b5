/**
 * RFC 8551 §3.1: the split of a message into the headers that stay outside the protection and the MIME entity to
 * protect (sign or encrypt).
 *
 * Every header whose name starts with `Content-` goes inside; every other header stays outside, except
 * `MIME-Version`, which is dropped because the protected message (mime/pkcs7_mime.ts, mime/multipart_signed.ts)
 * writes its own. When the message has no Content-Type, the inner entity gets an explicit
 * `Content-Type: text/plain; charset=us-ascii`: that is the RFC 2045 §5.2 default, so the meaning is unchanged,
 * and a bare body behind an empty header section is mishandled by some clients.
 *
 * The body is made canonical (CRLF line ends, RFC 8551 §3.1.1) unless the entity says `Content-Transfer-Encoding:
 * binary`: then its CR and LF bytes are data, not line ends (a binary attachment, or a multipart labelled binary
 * because a part is, RFC 2045 §6.4), and the bytes go in as they are. A multipart holding binary parts without that
 * label is mislabelled and is canonicalised as a whole, as before.
 */
import { fromLatin1 as ascii } from '../lib/bytes.js';
import { canonicalExtra, headerOutLength, headersLength, writeCanonical, writeHeaders } from './canonical.js';
import { parseEntity, type Header, type MimeLimits } from './entity.js';

const CR = 13;
const LF = 10;

/** Whether a header is a `Content-*` header (it goes inside the protection). */
export function isContentHeader(name: string): boolean {
  return name.length > 8 && name.slice(0, 8).toLowerCase() === 'content-';
}

/** Whether a header is MIME-Version (dropped: the protected message writes its own). */
export function isMimeVersion(name: string): boolean {
  return name.toLowerCase() === 'mime-version';
}

const DEFAULT_CONTENT_TYPE = ascii('Content-Type: text/plain; charset=us-ascii\r\n');

// ---------------------------------------------------------------------------------------------------------------

/**
 * RFC 8551 §3.1: splits a message into the headers that stay outside the protection (every non-`Content-*`
 * header, MIME-Version excepted; exact bytes, CRLF) and the MIME entity to protect (the `Content-*` headers, an
 * empty line and the body, all canonical CRLF but a body declared binary). See the file comment for the default
 * Content-Type and binary bodies.
 */
export function splitForProtection(
  message: Uint8Array,
  limits?: Partial<MimeLimits>,
): { outerHeaders: Uint8Array; inner: Uint8Array } {
  const plan = planProtection(message, limits);
  const inner = new Uint8Array(plan.innerLength);
  plan.writeInner(inner, 0);
  return { outerHeaders: plan.outerHeaders, inner };
}

/** What {@link splitForProtection} gives, with the inner entity not yet written (so it can go straight where it is needed). */
export interface ProtectionPlan {
  outerHeaders: Uint8Array;
  /** The length of the inner entity. */
  innerLength: number;
  /**
   * The inner entity as a view of the message, when the message holds it as is: every Content-* header comes last
   * in the header section, they and the body are canonical, and there is a Content-Type (mail as clients write it).
   */
  inner?: Uint8Array;
  /** Writes the inner entity into `out` at `offset`; returns the offset past it. */
  writeInner(out: Uint8Array, offset: number): number;
  /** The body is declared `Content-Transfer-Encoding: binary`: its bytes go in as they are, not canonicalised. */
  binaryBody?: boolean;
}

/** Internal: {@link splitForProtection} without allocating the inner entity. */
export function planProtection(message: Uint8Array, limits?: Partial<MimeLimits>): ProtectionPlan {
  const e = parseEntity(message, limits);
  const outer: Header[] = [];
  const content: Header[] = [];
  let hasContentType = false;
  let binaryBody = false;
  for (const h of e.headers) {
    if (isContentHeader(h.name)) {
      content.push(h);
      const name = h.name.toLowerCase();
      if (name === 'content-type') hasContentType = true;
      else if (name === 'content-transfer-encoding') binaryBody = h.value.trim().toLowerCase() === 'binary';
    } else if (!isMimeVersion(h.name)) {
      outer.push(h);
    }
  }
  const outerHeaders = new Uint8Array(headersLength(outer));
  writeHeaders(outer, outerHeaders, 0);

  const body = e.body;
  const extra = binaryBody ? 0 : canonicalExtra(body);
  const innerLength = (hasContentType ? 0 : DEFAULT_CONTENT_TYPE.length) + headersLength(content) + 2 + body.length + extra;
  const writeInner = (out: Uint8Array, offset: number): number => {
    let o = offset;
    if (!hasContentType) {
      out.set(DEFAULT_CONTENT_TYPE, o);
      o += DEFAULT_CONTENT_TYPE.length;
    }
    o = writeHeaders(content, out, o);
    out[o++] = CR;
    out[o++] = LF;
    if (extra === 0) {
      out.set(body, o);
      return o + body.length;
    }
    return writeCanonical(body, out, o);
  };
  const plan: ProtectionPlan = { outerHeaders, innerLength, writeInner, ...(binaryBody ? { binaryBody } : {}) };
  if (hasContentType && extra === 0) {
    const offset = (h: Header): number => h.raw.byteOffset - message.byteOffset;
    const start = offset(content[0]!);
    let at = start;
    for (const h of content) {
      if (offset(h) !== at || headerOutLength(h.raw) !== h.raw.length) {
        at = -1;
        break;
      }
      at += h.raw.length;
    }
    if (at + 2 === e.headerEnd && message[at] === CR && message[at + 1] === LF) plan.inner = message.subarray(start);
  }
  return plan;
}
