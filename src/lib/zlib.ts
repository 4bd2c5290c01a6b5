/**
 * zlib (RFC 1950) compression and bounded decompression on the platform's `CompressionStream('deflate')` and
 * `DecompressionStream('deflate')` (Node ≥ 18, every current browser): the "deflate" format of the Compression
 * Streams standard is the zlib format RFC 3274's id-alg-zlibCompress names. No dependency.
 *
 * Decompression reads the output chunk by chunk and counts it: past `maxBytes` the stream is cancelled and the
 * call throws `CMSLimitExceeded` (a decompression bomb never gets further than the limit). A truncated or corrupt
 * stream is `CMSInvalid` (bytes after its end are the platform's call: Node 20 ignores them).
 */
import { CMSInvalid, CMSLimitExceeded, UnsupportedAlgorithm } from '../errors.js';
import { concat } from './bytes.js';

type Format = 'deflate';

function platform<T>(ctor: (new (format: Format) => T) | undefined, what: string): new (format: Format) => T {
  if (typeof ctor !== 'function') throw new UnsupportedAlgorithm(`zlib: ${what} is not available on this platform`);
  return ctor;
}

/** Writes `data` to a transform's writable side without waiting (the reader drives it); errors surface on the reader. */
function feed(writable: WritableStream<BufferSource>, data: Uint8Array): void {
  const w = writable.getWriter();
  w.write(data as Uint8Array<ArrayBuffer>).catch(() => undefined);
  w.close().catch(() => undefined);
}

/** The chunks as one buffer: the only chunk as it is (the stream's own, no copy), else `concat`. */
function join(chunks: Uint8Array[]): Uint8Array {
  return chunks.length === 1 ? chunks[0]! : concat(chunks);
}

/**
 * Compresses `data` into a zlib stream (RFC 1950: a 2-byte header, deflate, Adler-32).
 *
 * @example
 * ```ts
 * const z = await zlibCompress(new TextEncoder().encode('hello'));
 * ```
 */
export async function zlibCompress(data: Uint8Array): Promise<Uint8Array> {
  const Ctor = platform(globalThis.CompressionStream as (new (format: Format) => CompressionStream) | undefined, 'CompressionStream');
  const cs = new Ctor('deflate');
  feed(cs.writable, data);
  const reader = cs.readable.getReader();
  const chunks: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
  }
  return join(chunks);
}

/**
 * Decompresses a zlib stream, at most `maxBytes` of output and at most `maxRatio` output bytes per input byte
 * (`CMSLimitExceeded` with `limit` 'maxDecompressedBytes' or 'maxDecompressionRatio' beyond, the stream cancelled);
 * `CMSInvalid` for a truncated or corrupt stream. `what` names the input in messages.
 *
 * @example
 * ```ts
 * const content = await zlibDecompress(z, 256 * 1024 * 1024, 'compressed data', 100);
 * ```
 */
export async function zlibDecompress(data: Uint8Array, maxBytes: number, what: string, maxRatio = Infinity): Promise<Uint8Array> {
  const byRatio = maxRatio * Math.max(data.length, 1);
  const Ctor = platform(globalThis.DecompressionStream as (new (format: Format) => DecompressionStream) | undefined, 'DecompressionStream');
  const ds = new Ctor('deflate');
  feed(ds.writable, data);
  const reader = ds.readable.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let r: ReadableStreamReadResult<Uint8Array>;
    try {
      r = await reader.read();
    } catch (e) {
      // The platform reports a bad stream with a TypeError (Node: "unexpected end of file", "incorrect header
      // check"…): the input is malformed, never a programming error of ours.
      throw new CMSInvalid(`${what}: the zlib stream is truncated or corrupt`, { cause: e });
    }
    if (r.done) break;
    total += r.value.length;
    if (total > maxBytes) {
      reader.cancel().catch(() => undefined);
      throw new CMSLimitExceeded(`${what}: decompresses to more than maxDecompressedBytes (${maxBytes})`, { limit: 'maxDecompressedBytes' });
    }
    if (total > byRatio) {
      reader.cancel().catch(() => undefined);
      throw new CMSLimitExceeded(`${what}: decompresses to more than maxDecompressionRatio (${maxRatio}) times its ${data.length} bytes`, {
        limit: 'maxDecompressionRatio',
      });
    }
    chunks.push(r.value);
  }
  return join(chunks);
}

/** Compressed bytes handed to the decompressor at a time: the output of one step is at most about 1032 times this. */
const INFLATE_STEP = 4096;

/**
 * A stateful zlib inflater whose `write` resolves once its piece has been decompressed, with that piece's output:
 * each step's output is then bounded by what the step inflates to. Node's `DecompressionStream` gives no such bound
 * from Node 22 on (it accepts the input at once and paces its output by the reads, so the end of a stream gave the
 * rest in one go: 63 MiB of a 64 MiB bomb in one piece), so the `node` entry plugs node:zlib's inflater in here
 * (src/crypto/node.ts); elsewhere the platform's `DecompressionStream` is used.
 */
export interface InflateEngine {
  /** Decompresses `piece` (not kept past the call); resolves to its output, rejects on a corrupt stream. */
  write(piece: Uint8Array): Promise<Uint8Array[]>;
  /** The end of the input: the rest of the output; rejects when the zlib stream is not complete. */
  end(): Promise<Uint8Array[]>;
  /** Stops it (after an error elsewhere). */
  cancel(): void;
}

let inflateEngine: (() => InflateEngine) | undefined;

/** Sets (or with `undefined` clears) the inflater {@link ZlibInflateStream} uses in place of `DecompressionStream`. */
export function setInflateEngine(make: (() => InflateEngine) | undefined): void {
  if (make !== undefined && typeof make !== 'function') throw new TypeError('setInflateEngine: expected a function or undefined');
  inflateEngine = make;
}

/** The inflater set with {@link setInflateEngine}, if any. */
export function getInflateEngine(): (() => InflateEngine) | undefined {
  return inflateEngine;
}

/**
 * Bounded zlib decompression of a stream (issue 16), on the platform's `DecompressionStream('deflate')` (or the
 * inflater of {@link setInflateEngine}): the
 * compressed bytes are pushed in pieces, the decompressed bytes come back as they come out, counted against
 * `maxBytes` and against `maxRatio` times the compressed bytes pushed so far (`CMSLimitExceeded` naming
 * `maxDecompressedBytes` or `maxDecompressionRatio`, the stream cancelled). A truncated or corrupt stream is
 * `CMSInvalid`, at the latest from {@link end}. Pieces are fed 4 KiB at a time, so one step's output stays small.
 */
export class ZlibInflateStream {
  readonly #engine: InflateEngine | undefined;
  readonly #writer: WritableStreamDefaultWriter<BufferSource> | undefined;
  readonly #pump: Promise<void>;
  readonly #maxBytes: number;
  readonly #maxRatio: number;
  readonly #what: string;
  #out: Uint8Array[] = [];
  #in = 0;
  #total = 0;
  #error: unknown;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;

  /** @param maxBytes at most this many bytes out; @param what names the input in messages; @param maxRatio bytes out per byte in */
  constructor(maxBytes: number, what: string, maxRatio = Infinity) {
    this.#maxBytes = maxBytes;
    this.#maxRatio = maxRatio;
    this.#what = what;
    const make = inflateEngine;
    if (make) {
      this.#engine = make();
      this.#pump = Promise.resolve();
      return;
    }
    const Ctor = platform(globalThis.DecompressionStream as (new (format: Format) => DecompressionStream) | undefined, 'DecompressionStream');
    const ds = new Ctor('deflate');
    this.#writer = ds.writable.getWriter();
    this.#reader = ds.readable.getReader();
    this.#pump = this.#read();
    this.#pump.catch(() => undefined);
  }

  async #read(): Promise<void> {
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await this.#reader!.read();
      } catch (e) {
        this.#error ??= new CMSInvalid(`${this.#what}: the zlib stream is truncated or corrupt`, { cause: e });
        return;
      }
      if (r.done) return;
      if (!this.#count(r.value)) {
        this.#out = [];
        this.#reader!.cancel().catch(() => undefined);
        this.#writer!.abort().catch(() => undefined);
        return;
      }
    }
  }

  /** Counts `chunk` against the limits and keeps it; false (the error set) past a limit. */
  #count(chunk: Uint8Array): boolean {
    this.#total += chunk.length;
    if (this.#total > this.#maxBytes) {
      this.#error ??= new CMSLimitExceeded(`${this.#what}: decompresses to more than maxDecompressedBytes (${this.#maxBytes})`, { limit: 'maxDecompressedBytes' });
    } else if (this.#total > this.#maxRatio * Math.max(this.#in, 1)) {
      this.#error ??= new CMSLimitExceeded(`${this.#what}: decompresses to more than maxDecompressionRatio (${this.#maxRatio}) times its bytes`, {
        limit: 'maxDecompressionRatio',
      });
    }
    if (this.#error !== undefined) return false;
    this.#out.push(chunk);
    return true;
  }

  /** The engine's output of one step, counted; a rejection is a corrupt stream. */
  async #engineStep(step: Promise<Uint8Array[]>): Promise<void> {
    let out: Uint8Array[];
    try {
      out = await step;
    } catch (e) {
      this.#error ??= new CMSInvalid(`${this.#what}: the zlib stream is truncated or corrupt`, { cause: e });
      this.#engine!.cancel();
      return;
    }
    for (const c of out) {
      if (!this.#count(c)) {
        this.#out = [];
        this.#engine!.cancel();
        return;
      }
    }
  }

  #take(): Uint8Array[] {
    if (this.#error !== undefined) throw this.#error;
    const out = this.#out;
    this.#out = [];
    return out;
  }

  /** Decompresses the next compressed bytes (not kept past the call); resolves to the output so far. */
  async push(piece: Uint8Array): Promise<Uint8Array[]> {
    for (let i = 0; i < piece.length; i += INFLATE_STEP) {
      const step = piece.slice(i, Math.min(piece.length, i + INFLATE_STEP));
      this.#in += step.length;
      if (this.#engine) {
        await this.#engineStep(this.#engine.write(step));
        if (this.#error !== undefined) break;
        continue;
      }
      try {
        await this.#writer!.write(step as Uint8Array<ArrayBuffer>);
      } catch (e) {
        await this.#pump;
        this.#error ??= new CMSInvalid(`${this.#what}: the zlib stream is truncated or corrupt`, { cause: e });
      }
      if (this.#error !== undefined) break;
    }
    return this.#take();
  }

  /** The end of the compressed bytes: the rest of the output; `CMSInvalid` when the zlib stream is not complete. */
  async end(): Promise<Uint8Array[]> {
    if (this.#engine) {
      if (this.#error === undefined) await this.#engineStep(this.#engine.end());
      return this.#take();
    }
    if (this.#error === undefined) {
      try {
        await this.#writer!.close();
      } catch (e) {
        this.#error ??= new CMSInvalid(`${this.#what}: the zlib stream is truncated or corrupt`, { cause: e });
      }
    }
    await this.#pump;
    return this.#take();
  }

  /** Stops the decompression (after an error elsewhere). */
  cancel(): void {
    this.#engine?.cancel();
    this.#reader?.cancel().catch(() => undefined);
    this.#writer?.abort().catch(() => undefined);
  }
}

/**
 * zlib compression of data that comes in pieces (issue 16: signStream with `compress`): `write` each piece, then
 * `end`; each returns the compressed bytes the platform has produced so far (possibly none). The output is drained
 * after every write, so little is held. The pieces are not kept (each write is awaited).
 */
export class ZlibCompressStream {
  readonly #writer: WritableStreamDefaultWriter<BufferSource>;
  readonly #queue: Uint8Array[] = [];
  readonly #reading: Promise<void>;

  constructor() {
    const Ctor = platform(globalThis.CompressionStream as (new (format: Format) => CompressionStream) | undefined, 'CompressionStream');
    const cs = new Ctor('deflate');
    this.#writer = cs.writable.getWriter();
    const reader = cs.readable.getReader();
    this.#reading = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        this.#queue.push(value);
      }
    })();
    this.#reading.catch(() => undefined);
  }

  /** Compresses `piece`; the output available so far. */
  async write(piece: Uint8Array): Promise<Uint8Array[]> {
    if (piece.length > 0) await this.#writer.write(piece as Uint8Array<ArrayBuffer>);
    return this.#queue.splice(0);
  }

  /** Ends the zlib stream; the rest of the output. */
  async end(): Promise<Uint8Array[]> {
    await this.#writer.close();
    await this.#reading;
    return this.#queue.splice(0);
  }
}
