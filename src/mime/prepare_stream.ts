/**
 * Making an entity safe to sign when its body comes as a stream (issue 16: signStream), after what
 * `prepareForSigning` (mime/prepare_for_signing.ts) does to a whole entity, decided from the header section alone
 * since the body is not known in advance:
 *
 * | The entity (its Content-Type, Content-Transfer-Encoding) | Buffer (`prepareForSigning`) | Stream (here) |
 * |---|---|---|
 * | multipart/signed | canonical line ends | the same |
 * | text/*, declared 7bit or no encoding | canonical; quoted-printable when not 7-bit clean | canonical; `MIMEInvalid` when not 7-bit clean |
 * | text/*, declared 8bit or binary | canonical; quoted-printable when not 7-bit clean | canonical, always quoted-printable |
 * | any leaf declared quoted-printable or base64 | canonical; `MIMEInvalid` when not 7-bit clean | the same |
 * | non-text leaf, declared 7bit, 8bit, binary or nothing | base64 of the bytes unless 7-bit clean lines | always base64 of the bytes |
 * | multipart/* | preamble, delimiters, epilogue canonical; each part as above | the same (a delimiter scanner, each part's header section held within `maxHeaderBytes`) |
 * | message/rfc822, message/global | its header canonical, its content as above | the same |
 *
 * (The bytes of a top-level leaf are those of the entity `splitForProtection` gives, whose body has canonical line
 * ends: the stream canonicalises them too, so that both paths sign the same entity.)
 *
 * A `MIMEInvalid` here comes while the stream runs (the data that breaks the rule has been read): the stream errors.
 */
import { MIMEInvalid, MIMELimitExceeded } from '../errors.js';
import { Base64LineStream } from '../lib/base64_stream.js';
import { fromLatin1 as ascii } from '../lib/bytes.js';
import { headersLength, writeHeaders } from './canonical.js';
import { CanonicalLineEnds } from './canonical_stream.js';
import { getHeader, parseEntity, resolveMimeLimits, type MimeLimits } from './entity.js';
import { canonicalize } from './canonical.js';
import { DelimiterScanner } from './multipart_stream.js';
import { HeaderSectionBuffer } from './stream_head.js';
import { parseContentType } from './header_params.js';
import { QuotedPrintableStream } from './quoted_printable.js';

const CR = 13;
const LF = 10;

/** The body transformation of a streamed entity: pieces in, prepared pieces out. */
export interface BodyPreparer {
  write(piece: Uint8Array): Uint8Array[];
  end(): Uint8Array[];
}

/** Whether `b` holds a byte ≥ 0x80 or a NUL (a 32-bit word at a time where aligned). */
function hasHighOrNul(b: Uint8Array): boolean {
  const len = b.length;
  let i = 0;
  const head = Math.min(len, (4 - (b.byteOffset & 3)) & 3);
  for (; i < head; i++) if (b[i]! >= 0x80 || b[i] === 0) return true;
  const words = (len - i) >>> 2;
  if (words > 0) {
    const w32 = new Uint32Array(b.buffer, b.byteOffset + i, words);
    for (let w = 0; w < words; w++) {
      const v = w32[w]!;
      if (v & 0x80808080 || (v - 0x01010101) & ~v & 0x80808080) return true;
    }
    i += words * 4;
  }
  for (; i < len; i++) if (b[i]! >= 0x80 || b[i] === 0) return true;
  return false;
}

/**
 * Checks, piece by piece, that canonical text (CR only before LF, a CRLF never split) is 7-bit clean: no byte ≥ 0x80,
 * no NUL, no line over 998 bytes.
 */
class SevenBitCheck {
  #line = 0;
  readonly #what: string;

  constructor(what: string) {
    this.#what = what;
  }

  check(b: Uint8Array): void {
    if (hasHighOrNul(b)) throw new MIMEInvalid(`signStream: ${this.#what} holds 8-bit data, which cannot be re-encoded on a stream (sign it with signMessage, or give it a 7-bit transfer encoding)`);
    let line = this.#line;
    for (let at = 0; ; ) {
      const nl = b.indexOf(LF, at);
      if (nl < 0) {
        line += b.length - at;
        break;
      }
      line += nl - at - (nl > at && b[nl - 1] === CR ? 1 : 0);
      if (line > 998) break;
      line = 0;
      at = nl + 1;
    }
    if (line > 998) throw new MIMEInvalid(`signStream: ${this.#what} has a line over 998 bytes, which cannot be re-encoded on a stream`);
    this.#line = line;
  }
}

/**
 * The prepared header section of the entity whose header section (ended by its empty line, canonical) is `head`, and
 * the preparer of its body (see the file comment for the rules).
 */
export function prepareStreamedEntity(head: Uint8Array, limits?: Partial<MimeLimits>, depth = 0): { head: Uint8Array; body: BodyPreparer } {
  const L = resolveMimeLimits(limits);
  const e = parseEntity(head, L);
  const ct = parseContentType(getHeader(e, 'content-type') ?? 'text/plain; charset=us-ascii');
  const cte = (getHeader(e, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase();
  const plain = cte === '7bit' || cte === '8bit' || cte === 'binary';
  const canon = new CanonicalLineEnds();
  const canonical = (check?: SevenBitCheck): BodyPreparer => ({
    write: (p) => {
      const out = canon.write(p);
      if (check) for (const o of out) check.check(o);
      return out;
    },
    end: () => canon.end(),
  });
  if (ct.type === 'multipart/signed') return { head, body: canonical() };
  if (depth > L.maxDepth) throw new MIMELimitExceeded(`MIME nesting deeper than maxDepth (${L.maxDepth})`, { limit: 'maxMimeDepth' });
  if (ct.type.startsWith('multipart/')) {
    const boundary = ct.params.boundary;
    if (!boundary) throw new MIMEInvalid(`${ct.type}: missing boundary parameter`);
    return { head, body: multipartPreparer(boundary, L, depth) };
  }
  if (ct.type === 'message/rfc822' || ct.type === 'message/global') return { head, body: entityPreparer(L, depth + 1) };
  const isText = ct.type.startsWith('text/');
  if (!plain || (isText && cte === '7bit')) return { head, body: canonical(new SevenBitCheck(`a ${cte} body`)) };

  // Re-encoded: text/* 8bit or binary as quoted-printable of its canonical text, any other leaf as base64 of its bytes.
  const keep = e.headers.filter((h) => h.name.toLowerCase() !== 'content-transfer-encoding');
  const cteLine = ascii(`Content-Transfer-Encoding: ${isText ? 'quoted-printable' : 'base64'}\r\n\r\n`);
  const newHead = new Uint8Array(headersLength(keep) + cteLine.length);
  newHead.set(cteLine, writeHeaders(keep, newHead, 0));
  if (isText) {
    const qp = new QuotedPrintableStream();
    return {
      head: newHead,
      body: {
        write: (p) => canon.write(p).map((c) => qp.write(c)),
        end: () => [...canon.end().map((c) => qp.write(c)), qp.end()],
      },
    };
  }
  // The body's line ends are made canonical first, as the buffer path's split (mime/protection.ts) does before
  // prepareForSigning sees the body: the same signed entity either way.
  const b64 = new Base64LineStream();
  return { head: newHead, body: { write: (p) => [b64.write(canon.write(p))], end: () => [b64.write(canon.end()), b64.end()] } };
}

/**
 * The preparer of a MIME entity whose header section comes first in the pieces (a part of a multipart, the content of
 * a message/rfc822): the header section is held (at most `maxHeaderBytes`), made canonical and prepared as above; its
 * body goes through the preparer that decides. An entity without an empty line is passed on canonical (headers only,
 * nothing to re-encode).
 */
function entityPreparer(L: MimeLimits, depth: number): BodyPreparer {
  const head = new HeaderSectionBuffer(L.maxHeaderBytes);
  let body: BodyPreparer | undefined;
  return {
    write(piece) {
      if (body) return body.write(piece);
      const found = head.push(piece);
      if (!found) return [];
      const p = prepareStreamedEntity(canonicalize(found.section), L, depth);
      body = p.body;
      return [p.head, ...body.write(found.rest)];
    },
    end() {
      if (body) return body.end();
      return head.held.length > 0 ? [canonicalize(head.held)] : [];
    },
  };
}

/**
 * The preparer of a multipart body (not multipart/signed): the preamble, the delimiter lines and the epilogue made
 * canonical, each part prepared as an entity of its own ({@link entityPreparer}), as `prepareForSigning` does.
 */
function multipartPreparer(boundary: string, L: MimeLimits, depth: number): BodyPreparer {
  let out: Uint8Array[] = [];
  let gap: CanonicalLineEnds | undefined = new CanonicalLineEnds(); // preamble or epilogue
  let part: BodyPreparer | undefined;
  let parts = 0;
  const scanner = new DelimiterScanner(
    boundary,
    {
      data(bytes) {
        if (part) out.push(...part.write(bytes));
        else out.push(...gap!.write(bytes));
      },
      delimiter(line, close) {
        if (part) out.push(...part.end());
        else out.push(...gap!.end());
        part = undefined;
        out.push(canonicalize(line));
        if (close) {
          gap = new CanonicalLineEnds();
          return;
        }
        if (++parts > L.maxParts) throw new MIMELimitExceeded(`multipart has more than maxParts (${L.maxParts}) parts`, { limit: 'maxParts' });
        part = entityPreparer(L, depth + 1);
      },
    },
    4096,
  );
  const take = (): Uint8Array[] => {
    const o = out;
    out = [];
    return o;
  };
  return {
    write(piece) {
      scanner.push(piece);
      return take();
    },
    end() {
      scanner.finish();
      if (parts === 0) throw new MIMEInvalid(`multipart: no delimiter line "--${boundary}" found`);
      if (!scanner.closed) throw new MIMEInvalid(`multipart: missing close delimiter "--${boundary}--"`);
      out.push(...gap!.end());
      return take();
    },
  };
}
