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
 * The "Stream" column is the default, {@link LeafDecision} `{ mode: 'label' }`. Two other decisions:
 * - `{ mode: 'label', reencode: true }`: text/* declared 7bit or undeclared is quoted-printable from the start too
 *   (its header is written before its body is seen), so no text is refused half-way: for input that cannot be read
 *   twice (a pipe).
 * - `{ mode: 'scanned', clean }`: each leaf decided as `prepareForSigning` decides it (the "Buffer" column), from
 *   `clean[i]`, whether the i-th leaf's canonical body is 7-bit clean: what a first pass in `{ mode: 'scan' }`
 *   recorded over the same bytes (signStream's `scanForSigning`). A leaf said clean that is not, or a leaf count that
 *   differs, is `MIMEInvalid` (the input changed between the passes).
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

/**
 * How a leaf whose body is not yet seen is encoded (see the file comment): from its headers (`label`, with `reencode`
 * for 7bit or undeclared text), recording whether each leaf is 7-bit clean (`scan`, a first pass whose output is
 * thrown away), or from what such a scan recorded (`scanned`: the output is prepareForSigning's).
 */
export type LeafDecision =
  | { mode: 'label'; reencode?: boolean }
  | { mode: 'scan'; clean: boolean[] }
  | { mode: 'scanned'; clean: readonly boolean[] };

/** A decision and the count of leaves met so far (their index in the scan). */
interface DecisionState {
  decision: LeafDecision;
  leaves: number;
}

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
  /** Called instead of throwing (a scan records the leaf as not clean, once), when given. */
  readonly #unclean: (() => void) | undefined;
  #seen = false;

  constructor(what: string, unclean?: () => void) {
    this.#what = what;
    this.#unclean = unclean;
  }

  check(b: Uint8Array): void {
    if (this.#seen) return;
    if (hasHighOrNul(b)) {
      if (this.#unclean) return this.#fail();
      throw new MIMEInvalid(`signStream: ${this.#what} holds 8-bit data, which cannot be re-encoded on a stream (sign it with signMessage, or give it a 7-bit transfer encoding)`);
    }
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
    if (line > 998) {
      if (this.#unclean) return this.#fail();
      throw new MIMEInvalid(`signStream: ${this.#what} has a line over 998 bytes, which cannot be re-encoded on a stream`);
    }
    this.#line = line;
  }

  #fail(): void {
    this.#seen = true;
    this.#unclean!();
  }
}

/**
 * The prepared header section of the entity whose header section (ended by its empty line, canonical) is `head`, and
 * the preparer of its body (see the file comment for the rules and for `decision`, by default `{ mode: 'label' }`).
 */
export function prepareStreamedEntity(
  head: Uint8Array,
  limits?: Partial<MimeLimits>,
  decision: LeafDecision = { mode: 'label' },
): { head: Uint8Array; body: BodyPreparer } {
  const st: DecisionState = { decision, leaves: 0 };
  const p = prepareEntity(head, resolveMimeLimits(limits), 0, st);
  if (decision.mode !== 'scanned') return p;
  return {
    head: p.head,
    body: {
      write: (piece) => p.body.write(piece),
      end: () => {
        const out = p.body.end();
        if (st.leaves !== decision.clean.length) throw changed();
        return out;
      },
    },
  };
}

/** The error of a second pass that does not meet what the scan recorded. */
function changed(): MIMEInvalid {
  return new MIMEInvalid('signStream: the input is not what scanForSigning read (it changed between the two passes)');
}

function prepareEntity(head: Uint8Array, L: MimeLimits, depth: number, st: DecisionState): { head: Uint8Array; body: BodyPreparer } {
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
    end: () => {
      const out = canon.end();
      if (check) for (const o of out) check.check(o);
      return out;
    },
  });
  if (ct.type === 'multipart/signed') return { head, body: canonical() };
  if (depth > L.maxDepth) throw new MIMELimitExceeded(`MIME nesting deeper than maxDepth (${L.maxDepth})`, { limit: 'maxMimeDepth' });
  if (ct.type.startsWith('multipart/')) {
    const boundary = ct.params.boundary;
    if (!boundary) throw new MIMEInvalid(`${ct.type}: missing boundary parameter`);
    return { head, body: multipartPreparer(boundary, L, depth, st) };
  }
  if (ct.type === 'message/rfc822' || ct.type === 'message/global') return { head, body: entityPreparer(L, depth + 1, st) };
  const isText = ct.type.startsWith('text/');
  const leaf = st.leaves++;
  const d = st.decision;
  // Declared quoted-printable or base64: must be 7-bit clean whatever the decision (re-encoding would double-encode).
  if (!plain) {
    if (d.mode === 'scan') d.clean[leaf] = true;
    else if (d.mode === 'scanned' && d.clean[leaf] !== true) throw changed();
    // signMessage refuses it too (prepareForSigning): the same words.
    const refuse = (): never => {
      throw new MIMEInvalid(`a ${cte} body part contains 8-bit data or lines over 998 bytes`);
    };
    return { head, body: canonical(new SevenBitCheck(`a ${cte} body`, refuse)) };
  }
  if (d.mode === 'scan') {
    d.clean[leaf] = true;
    return { head, body: canonical(new SevenBitCheck('a body', () => void (d.clean[leaf] = false))) };
  }
  if (d.mode === 'scanned') {
    if (leaf >= d.clean.length) throw changed();
    if (d.clean[leaf]) return { head, body: canonical(new SevenBitCheck('a body', () => { throw changed(); })) };
  } else if (isText && cte === '7bit' && d.reencode !== true) return { head, body: canonical(new SevenBitCheck(`a ${cte} body`)) };

  // Re-encoded: text/* as quoted-printable of its canonical text, any other leaf as base64 of its bytes.
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
function entityPreparer(L: MimeLimits, depth: number, st: DecisionState): BodyPreparer {
  const head = new HeaderSectionBuffer(L.maxHeaderBytes);
  let body: BodyPreparer | undefined;
  return {
    write(piece) {
      if (body) return body.write(piece);
      const found = head.push(piece);
      if (!found) return [];
      const p = prepareEntity(canonicalize(found.section), L, depth, st);
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
function multipartPreparer(boundary: string, L: MimeLimits, depth: number, st: DecisionState): BodyPreparer {
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
        part = entityPreparer(L, depth + 1, st);
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
