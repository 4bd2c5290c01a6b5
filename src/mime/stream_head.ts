/**
 * The head of an S/MIME message read from a stream (issue 16): the bytes are held until the header section ends (at
 * most `maxHeaderBytes`), the section is parsed with today's `parseEntity` and checked as `extractCms` checks it, and
 * the body's transfer encoding decided; the bytes after the header section are handed on for the body decoder. Raw
 * DER/BER input (first byte 0x30) has no header section: every byte is body, binary.
 */
import { MIMEInvalid, MIMELimitExceeded } from '../errors.js';
import { getHeader, parseEntity, resolveMimeLimits, type Header, type MimeLimits } from './entity.js';
import { pkcs7MimeLabel, type ExtractedCms } from './extract.js';

const CR = 13;
const LF = 10;

/** What {@link EntityHeadReader} found at the head of a stream. */
export interface EntityHead {
  /** What the `smime-type` parameter says ('unknown' when absent, unrecognised, or for raw DER input). */
  kind: ExtractedCms['kind'];
  /** The `smime-type` parameter as written, when present. */
  smimeType?: string;
  /** The entity's headers (empty for raw DER input). */
  headers: Header[];
  /** How the body is encoded: base64 text, or the CMS itself (binary/8bit/7bit, or raw DER input). */
  body: 'base64' | 'binary';
  /** The body bytes that came with the header section (possibly empty): a view, of the input when its first piece held the section. */
  rest: Uint8Array;
}

/**
 * The offset just past the empty line that ends the header section of `b` (CRLF or LF line ends), searching from
 * `from` (a position already known not to be inside an end), or -1 when it is not there yet.
 */
export function headerSectionEnd(b: Uint8Array, from = 0): number {
  if (from === 0) {
    if (b[0] === LF) return 1;
    if (b[0] === CR && b[1] === LF) return 2;
  }
  for (let i = b.indexOf(LF, from); i >= 0 && i + 1 < b.length; i = b.indexOf(LF, i + 1)) {
    if (b[i + 1] === LF) return i + 2;
    if (b[i + 1] === CR && i + 2 < b.length && b[i + 2] === LF) return i + 3;
  }
  return -1;
}

/** What {@link HeaderSectionBuffer.push} gives once the header section has ended. */
export interface HeaderSection {
  /** The header section, its empty line included. */
  section: Uint8Array;
  /** The bytes that came after it in the pieces pushed (possibly empty). */
  rest: Uint8Array;
}

/**
 * The header section of bytes pushed in pieces: the one place a stream's header section is gathered (readHeadSection,
 * EntityHeadReader, the streamed signing's entity preparer, verifyStream's signed-entity head). The bytes are held in
 * a growing (doubling) buffer searched from where the last search stopped, so the work is linear in the bytes pushed,
 * whatever the piece sizes; a first piece that holds the whole section is not copied (the views are of it). More than
 * `maxHeaderBytes` held without the empty line is `MIMELimitExceeded`.
 */
export class HeaderSectionBuffer {
  readonly #max: number;
  #buf = new Uint8Array(0);
  #n = 0;
  #done = false;

  /** @param maxHeaderBytes the most bytes held without an empty line */
  constructor(maxHeaderBytes: number) {
    this.#max = maxHeaderBytes;
  }

  /** The bytes held so far (no empty line among them): a view, valid until the next push. */
  get held(): Uint8Array {
    return this.#buf.subarray(0, this.#n);
  }

  /** Adds `piece` (not kept: copied when held); the header section and the bytes after it once it has ended. */
  push(piece: Uint8Array): HeaderSection | undefined {
    if (this.#done) throw new Error('HeaderSectionBuffer: push after the header section ended');
    if (piece.length === 0) return undefined;
    if (this.#n === 0) {
      const end = headerSectionEnd(piece);
      if (end >= 0) return this.#found(piece, end);
    }
    if (this.#n + piece.length > this.#buf.length) {
      const bigger = new Uint8Array(Math.max(this.#n + piece.length, Math.min(2 * this.#buf.length, this.#max + piece.length), 4096));
      bigger.set(this.#buf.subarray(0, this.#n));
      this.#buf = bigger;
    }
    this.#buf.set(piece, this.#n);
    // The empty line may begin up to 3 bytes before the new piece (a held LF, or CR LF CR).
    const from = Math.max(0, this.#n - 3);
    this.#n += piece.length;
    const b = this.#buf.subarray(0, this.#n);
    const end = headerSectionEnd(b, from);
    if (end >= 0) return this.#found(b, end);
    if (this.#n > this.#max) {
      throw new MIMELimitExceeded(`MIME header section exceeds maxHeaderBytes (${this.#max} bytes)`, { limit: 'maxHeaderBytes' });
    }
    return undefined;
  }

  #found(b: Uint8Array, end: number): HeaderSection {
    this.#done = true;
    this.#buf = new Uint8Array(0);
    this.#n = 0;
    return { section: b.subarray(0, end), rest: b.subarray(end) };
  }
}

/**
 * Reads the head of an application/pkcs7-mime message (or raw DER/BER) pushed in pieces. `push` returns the
 * {@link EntityHead} once the header section is complete (then the reader is done: later bytes are body, for the
 * caller), `finish` at the end of the input when `push` never did. Holds at most `maxHeaderBytes` plus one piece;
 * past that, `MIMELimitExceeded`. A section that is not an S/MIME entity is `MIMEInvalid`, as with `extractCms`.
 */
export class EntityHeadReader {
  readonly #limits: MimeLimits;
  readonly #section: HeaderSectionBuffer;
  #done = false;

  /** @param limits the MIME limits (`maxHeaderBytes`, `maxHeaders`), defaults as `parseEntity`'s. */
  constructor(limits?: Partial<MimeLimits>) {
    this.#limits = resolveMimeLimits(limits);
    this.#section = new HeaderSectionBuffer(this.#limits.maxHeaderBytes);
  }

  /** Whether the head has been found (by `push` or `finish`). */
  get done(): boolean {
    return this.#done;
  }

  /** Adds the next bytes; the head once the header section has ended, else undefined. */
  push(piece: Uint8Array): EntityHead | undefined {
    if (this.#done) throw new Error('EntityHeadReader: push after the head was found');
    if (piece.length === 0) return undefined;
    if (piece[0] === 0x30 && this.#section.held.length === 0) {
      this.#done = true;
      return { kind: 'unknown', headers: [], body: 'binary', rest: piece };
    }
    const found = this.#section.push(piece);
    if (!found) return undefined;
    this.#done = true;
    return this.#head(found.section, found.rest);
  }

  /** The end of the input: the head of a message that is all header section (its body is empty). */
  finish(): EntityHead {
    if (this.#done) throw new Error('EntityHeadReader: finish after the head was found');
    this.#done = true;
    const b = this.#section.held;
    if (b.length === 0) throw new MIMEInvalid('S/MIME body: empty body');
    return this.#head(b, new Uint8Array(0));
  }

  #head(section: Uint8Array, rest: Uint8Array): EntityHead {
    const e = parseEntity(section, this.#limits);
    const { kind, smimeType } = pkcs7MimeLabel(e);
    const cte = (getHeader(e, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase();
    let body: EntityHead['body'];
    if (cte === 'base64') body = 'base64';
    else if (cte === '7bit' || cte === '8bit' || cte === 'binary') body = 'binary';
    else throw new MIMEInvalid(`S/MIME body: unsupported Content-Transfer-Encoding "${cte}"`);
    const h: EntityHead = { kind, headers: e.headers, body, rest };
    if (smimeType !== undefined) h.smimeType = smimeType;
    return h;
  }
}
