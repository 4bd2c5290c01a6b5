/**
 * The incremental BER reader and the indefinite-length BER writer of the streaming operations (issue 16; the design
 * is in docs/streaming-design.md).
 *
 * The reader is pushed bytes split anywhere and calls its handler synchronously: `start` for each element's header,
 * `data` for the content of a primitive element (subarrays of the pushed chunks, never copied or accumulated: a value
 * that straddles pushes comes out in several calls), `end` when an element is complete. It accepts what
 * `readTlv`/`children` of der.ts accept (indefinite lengths on constructed values only, lengths of at most 6 octets,
 * tag numbers of at most 4 octets) and holds at most one partial header (12 bytes) and a stack of open elements bounded
 * by `maxDepth`: its memory does not grow with the input. Malformed input is `CMSInvalid`, a limit `CMSLimitExceeded`.
 *
 * The writer side is small: the two-byte header of an indefinite-length constructed element, the end-of-contents
 * octets, and a chunker that writes a constructed OCTET STRING's content as primitive OCTET STRINGs of a fixed size.
 */
import { CMSInvalid, CMSLimitExceeded } from '../errors.js';
import { DEFAULT_BER_LIMITS, header } from './der.js';

/** The header of an element, as the reader found it. */
export interface BerHeader {
  /** Identifier class: 0 universal, 1 application, 2 context, 3 private. */
  cls: number;
  constructed: boolean;
  tagNo: number;
  /** Content length, or -1 for an indefinite length. */
  length: number;
  /** Bytes of identifier and length octets. */
  headerLength: number;
  /** Nesting depth: 0 for the top-level element. */
  depth: number;
  /** Offset of the identifier octet in the whole input. */
  offset: number;
}

/** What the reader calls, synchronously, from within `push`. */
export interface BerHandler {
  /** An element begins (its header has been read). */
  start(h: BerHeader): void;
  /** Content bytes of the primitive element `h` (a view of the pushed chunk: copy it to keep it past the call). */
  data(bytes: Uint8Array, h: BerHeader): void;
  /** The element `h` is complete (for an indefinite one: its end-of-contents octets have been read). */
  end(h: BerHeader): void;
  /**
   * Optional: every byte read, in order, as views (valid during the call only): an element's header right after its
   * `start`, content before its `data`, end-of-contents octets before the `end` they close. What {@link BerCapture}
   * keeps whole elements with.
   */
  raw?(bytes: Uint8Array): void;
}

/** The limits of a {@link BerStreamReader}, with the meaning of der.ts's `BerLimits`. */
export interface BerStreamLimits {
  /** Maximum nesting depth (the top-level element is depth 0): `CMSLimitExceeded` with `limit: 'maxBerDepth'`. */
  maxDepth: number;
  /** Maximum number of direct children of one constructed element: `limit: 'maxBerElements'`. */
  maxElements: number;
}

/** One open element. `end` is its absolute end offset (-1 when indefinite); `limit` the nearest definite end above it, or itself. */
interface Frame {
  h: BerHeader;
  end: number;
  limit: number;
  children: number;
}

/** The longest header read: identifier with a 4-octet tag number (5), length with 6 octets (7). */
const MAX_HEADER = 12;

function fail(msg: string): never {
  throw new CMSInvalid(`malformed BER: ${msg}`);
}

/**
 * The incremental BER reader: `push` bytes split anywhere, then `finish`. Reads one top-level element; bytes after it
 * are not parsed, only counted in {@link trailing} (the caller decides whether they matter).
 */
export class BerStreamReader {
  readonly #handler: BerHandler;
  readonly #maxDepth: number;
  readonly #maxElements: number;
  readonly #stack: Frame[] = [];
  /** The bytes of a header that straddles pushes. */
  readonly #pending = new Uint8Array(MAX_HEADER);
  #pendingN = 0;
  /** Absolute offset of the next byte to read. */
  #offset = 0;
  /** The open primitive element whose content is being read, and how many of its bytes are still to come. */
  #prim: Frame | undefined;
  #primLeft = 0;
  #done = false;
  #trailing = 0;
  #failed = false;

  constructor(handler: BerHandler, limits: Partial<BerStreamLimits> = {}) {
    this.#handler = handler;
    this.#maxDepth = limits.maxDepth ?? DEFAULT_BER_LIMITS.maxDepth;
    this.#maxElements = limits.maxElements ?? DEFAULT_BER_LIMITS.maxChunks;
  }

  /** True once the top-level element is complete. */
  get done(): boolean {
    return this.#done;
  }

  /** Bytes read so far (trailing bytes excluded). */
  get offset(): number {
    return this.#offset;
  }

  /** Bytes pushed after the top-level element ended. */
  get trailing(): number {
    return this.#trailing;
  }

  /** Bytes held across pushes: at most one partial header (12 bytes). */
  get buffered(): number {
    return this.#pendingN;
  }

  /** Elements open now. */
  get depth(): number {
    return this.#stack.length;
  }

  /** Reads `chunk`, calling the handler for what it completes. After an error the reader is unusable. */
  push(chunk: Uint8Array): void {
    if (this.#failed) throw new CMSInvalid('malformed BER: the reader already failed');
    try {
      this.#push(chunk);
    } catch (e) {
      this.#failed = true;
      throw e;
    }
  }

  /** Ends the input: `CMSInvalid` unless exactly one whole top-level element was read. */
  finish(): void {
    if (this.#failed) throw new CMSInvalid('malformed BER: the reader already failed');
    if (this.#done) return;
    this.#failed = true;
    if (this.#offset === 0 && this.#pendingN === 0) fail('empty input');
    if (this.#pendingN > 0) fail('truncated (header)');
    fail(`truncated (${this.#stack.length} element${this.#stack.length === 1 ? '' : 's'} not complete)`);
  }

  #push(chunk: Uint8Array): void {
    const len = chunk.length;
    let pos = 0;
    while (pos < len) {
      if (this.#done) {
        this.#trailing += len - pos;
        return;
      }
      const prim = this.#prim;
      if (prim) {
        const n = Math.min(this.#primLeft, len - pos);
        const piece = chunk.subarray(pos, pos + n);
        this.#handler.raw?.(piece);
        this.#handler.data(piece, prim.h);
        pos += n;
        this.#offset += n;
        this.#primLeft -= n;
        if (this.#primLeft === 0) {
          this.#prim = undefined;
          this.#stack.pop();
          this.#handler.end(prim.h);
          this.#closeDefinite();
        }
        continue;
      }
      // A header: from the chunk directly, or completed from the bytes held since the last push.
      if (this.#pendingN === 0) {
        const used = this.#header(chunk, pos, len);
        if (used > 0) {
          pos += used;
          continue;
        }
        // Incomplete: keep the rest (shorter than a header, else #header would have failed).
        this.#pending.set(chunk.subarray(pos, len), 0);
        this.#pendingN = len - pos;
        return;
      }
      // Add bytes one by one until the held header is complete (at most 12 of them).
      const before = this.#pendingN;
      this.#pending[this.#pendingN++] = chunk[pos]!;
      const used = this.#header(this.#pending, 0, this.#pendingN);
      if (used > 0) {
        this.#pendingN = 0;
        // `used` counts the held bytes too: only its last byte came from this chunk.
        pos += used - before;
      } else pos++;
    }
  }

  /**
   * Reads the header at `buf[pos..len)`: returns its length once it is complete and acted on, 0 when more bytes are
   * needed. The offset of the header is `#offset`.
   */
  #header(buf: Uint8Array, pos: number, len: number): number {
    const start = pos;
    const at = this.#offset;
    const parent = this.#stack[this.#stack.length - 1];
    const limit = parent ? parent.limit : Infinity;
    if (pos >= len) return 0;
    const id = buf[pos++]!;
    const cls = id >> 6;
    const constructed = (id & 0x20) !== 0;
    let tagNo = id & 0x1f;
    if (tagNo === 0x1f) {
      tagNo = 0;
      for (let i = 0; ; i++) {
        if (pos >= len) return this.#need(at, pos - start, limit);
        if (i >= 4) fail('tag number too large');
        const b = buf[pos++]!;
        tagNo = tagNo * 128 + (b & 0x7f);
        if ((b & 0x80) === 0) break;
      }
    }
    if (pos >= len) return this.#need(at, pos - start, limit);
    const l0 = buf[pos++]!;
    let length: number;
    if (l0 < 0x80) length = l0;
    else if (l0 === 0x80) {
      if (!constructed) {
        // 00 80 is not an end-of-contents (00 00) and a primitive cannot be indefinite either way.
        fail('indefinite length on a primitive value');
      }
      length = -1;
    } else {
      const n = l0 & 0x7f;
      if (n > 6) fail('length too large');
      if (len - pos < n) return this.#need(at, pos - start + (len - pos), limit);
      length = 0;
      for (let i = 0; i < n; i++) length = length * 256 + buf[pos++]!;
    }
    const headerLength = pos - start;
    if (at + headerLength > limit) fail('truncated (header runs past the end of the enclosing value)');
    this.#offset = at + headerLength;
    // End-of-contents: 00 00.
    if (id === 0 && length === 0) {
      if (!parent || parent.end !== -1) fail('unexpected end-of-contents octets');
      this.#handler.raw?.(buf.subarray(start, pos));
      this.#stack.pop();
      this.#handler.end(parent.h);
      this.#closeDefinite();
      return headerLength;
    }
    const depth = this.#stack.length;
    if (depth > this.#maxDepth) throw new CMSLimitExceeded(`BER nesting deeper than ${this.#maxDepth}`, { limit: 'maxBerDepth' });
    if (parent && ++parent.children > this.#maxElements) {
      throw new CMSLimitExceeded(`more than ${this.#maxElements} elements in one BER value`, { limit: 'maxBerElements' });
    }
    const h: BerHeader = { cls, constructed, tagNo, length, headerLength, depth, offset: at };
    let end = -1;
    if (length >= 0) {
      end = this.#offset + length;
      if (end > limit) fail(`truncated (value needs ${length} bytes, ${limit - this.#offset} left)`);
    }
    const frame: Frame = { h, end, limit: end >= 0 ? end : limit, children: 0 };
    this.#stack.push(frame);
    this.#handler.start(h);
    this.#handler.raw?.(buf.subarray(start, pos));
    if (length === 0) {
      this.#stack.pop();
      this.#handler.end(h);
      this.#closeDefinite();
    } else if (!constructed) {
      this.#prim = frame;
      this.#primLeft = length;
    }
    return headerLength;
  }

  /** A header is incomplete: fails if it cannot fit where it is, else 0 (wait for more bytes). */
  #need(at: number, have: number, limit: number): number {
    if (at + have >= limit) fail('truncated (header runs past the end of the enclosing value)');
    return 0;
  }

  /** Closes the definite-length elements that end at the current offset; checks that an indefinite one is not cut. */
  #closeDefinite(): void {
    const stack = this.#stack;
    const off = this.#offset;
    for (;;) {
      const top = stack[stack.length - 1];
      if (!top) {
        this.#done = true;
        return;
      }
      if (top.end === off) {
        stack.pop();
        this.#handler.end(top.h);
        continue;
      }
      if (top.end === -1 && top.limit === off) fail('truncated (missing end-of-contents)');
      return;
    }
  }
}

/**
 * Keeps whole elements while a {@link BerStreamReader} reads past them: the header parts of a CMS that its existing
 * der.ts parsers need in one piece (RecipientInfos, AlgorithmIdentifiers, certificates, SignerInfos), while the bulk
 * content streams. Wrap the handler with {@link BerCapture.handler}; when an element that `select` picked ends,
 * `captured` gets its exact bytes (header to end-of-contents: a buffer der.ts reads). Captures do not nest (an element
 * inside a captured one is part of it). More than `maxBytes` in one capture is `CMSLimitExceeded` with `limit`.
 */
export class BerCapture {
  readonly #inner: BerHandler;
  readonly #select: (h: BerHeader) => boolean;
  readonly #captured: (h: BerHeader, der: Uint8Array) => void;
  readonly #maxBytes: number;
  readonly #limit: string;
  #at: BerHeader | undefined;
  #parts: Uint8Array[] = [];
  #n = 0;

  constructor(
    inner: BerHandler,
    select: (h: BerHeader) => boolean,
    captured: (h: BerHeader, der: Uint8Array) => void,
    maxBytes: number,
    limit = 'maxCmsHeaderBytes',
  ) {
    this.#inner = inner;
    this.#select = select;
    this.#captured = captured;
    this.#maxBytes = maxBytes;
    this.#limit = limit;
  }

  /** The handler to give the reader: it calls the inner handler's methods, and captures. */
  get handler(): BerHandler {
    return {
      start: (h) => {
        if (!this.#at && this.#select(h)) {
          this.#at = h;
          this.#parts = [];
          this.#n = 0;
        }
        this.#inner.start(h);
      },
      raw: (b) => {
        if (this.#at) {
          this.#n += b.length;
          if (this.#n > this.#maxBytes) throw new CMSLimitExceeded(`a BER element larger than ${this.#maxBytes} bytes`, { limit: this.#limit });
          this.#parts.push(b.slice());
        }
        this.#inner.raw?.(b);
      },
      data: (b, h) => this.#inner.data(b, h),
      end: (h) => {
        if (this.#at === h) {
          this.#at = undefined;
          const der = new Uint8Array(this.#n);
          let o = 0;
          for (const p of this.#parts) {
            der.set(p, o);
            o += p.length;
          }
          this.#parts = [];
          this.#captured(h, der);
        }
        this.#inner.end(h);
      },
    };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Indefinite-length writer

/** The end-of-contents octets that close an indefinite-length element. */
export const EOC: Uint8Array = Uint8Array.of(0, 0);

/** The header of a constructed element of indefinite length: the identifier `id` (made constructed) and 0x80. */
export function indefiniteHeader(id: number): Uint8Array {
  if (!Number.isInteger(id) || id < 0 || id > 0xff || (id & 0x1f) === 0x1f) throw new RangeError('indefiniteHeader: expected a one-octet identifier');
  return Uint8Array.of(id | 0x20, 0x80);
}

/**
 * Writes the content of a constructed OCTET STRING (or `[n] IMPLICIT OCTET STRING`) as primitive OCTET STRINGs of
 * `chunkSize` bytes (the last one shorter), as `openssl cms -stream` does (4096) — without copying: each chunk is
 * handed to `sink` as a header and a view of the input. The caller writes the constructed header
 * ({@link indefiniteHeader}) before and {@link EOC} after. At most `chunkSize - 1` bytes are held between writes.
 */
export class OctetStringChunker {
  readonly #chunkSize: number;
  readonly #sink: (piece: Uint8Array) => void;
  readonly #buf: Uint8Array;
  #n = 0;
  readonly #fullHeader: Uint8Array;

  constructor(sink: (piece: Uint8Array) => void, chunkSize = 1 << 16) {
    if (!Number.isSafeInteger(chunkSize) || chunkSize < 1 || chunkSize > 1 << 30) throw new RangeError('OctetStringChunker: bad chunk size');
    this.#chunkSize = chunkSize;
    this.#sink = sink;
    this.#buf = new Uint8Array(chunkSize);
    this.#fullHeader = header(0x04, chunkSize);
  }

  /** Adds content bytes; whole chunks go to the sink as they complete. */
  write(bytes: Uint8Array): void {
    const size = this.#chunkSize;
    let i = 0;
    if (this.#n > 0) {
      const k = Math.min(size - this.#n, bytes.length);
      this.#buf.set(bytes.subarray(0, k), this.#n);
      this.#n += k;
      i = k;
      if (this.#n < size) return;
      this.#sink(this.#fullHeader);
      // The held chunk is handed on as a copy: #buf is reused.
      this.#sink(this.#buf.slice());
      this.#n = 0;
    }
    for (; bytes.length - i >= size; i += size) {
      this.#sink(this.#fullHeader);
      this.#sink(bytes.subarray(i, i + size));
    }
    if (i < bytes.length) {
      this.#buf.set(bytes.subarray(i), 0);
      this.#n = bytes.length - i;
    }
  }

  /** Writes the last, shorter chunk (if any bytes are held). Does not write the end-of-contents octets. */
  end(): void {
    if (this.#n === 0) return;
    this.#sink(header(0x04, this.#n));
    this.#sink(this.#buf.slice(0, this.#n));
    this.#n = 0;
  }
}
