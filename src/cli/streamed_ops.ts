/**
 * The library's stream functions shaped for stream_io.ts's `streamToTemp`: each resolves to `{ output, done }`.
 * encrypt streams through encryptStream (every content cipher streams, ChaCha20-Poly1305 included); what it refuses
 * with `UnsupportedAlgorithm` before reading any input falls back to encryptMessage on the whole input, so every
 * option of `smime encrypt` works as before issue 16. decrypt, sign, verify and open plug in here the same way.
 */
import {
  decryptMessage,
  decryptStream,
  encryptMessage,
  encryptStream,
  openMessage,
  openStream,
  scanForSigning,
  signStream,
  SmimeError,
  UnsupportedAlgorithm,
  verifyMessage,
  verifyStream,
  type BccEncryption,
  type DecryptOptions,
  type DecryptResult,
  type EncryptBccOptions,
  type EncryptOptions,
  type OpenOptions,
  type OpenResult,
  type SignOptions,
  type VerifyOptions,
  type VerifyResult,
} from '../index.node.js';
import { sinkFor, type StreamInput, type StreamTarget, type Streamed, type TempSink } from './stream_io.js';
import { concat } from './stdio.js';

/** All of a stream's bytes in one buffer (the buffer fallback only). */
export async function readStream(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const r = s.getReader();
  for (;;) {
    const { done, value } = await r.read();
    if (done) break;
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0]! : concat(chunks);
}

/** Bytes in memory as a stream of 1 MiB views. */
export function bytesStream(b: Uint8Array): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (off >= b.length) return c.close();
        c.enqueue(b.subarray(off, off + (1 << 20)));
        off += 1 << 20;
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * A Bcc copy of `smime encrypt --bcc`, complete in a temporary file beside --out (`OUT.bcc-EMAIL`), waiting to be
 * made visible (`commit`) with the main message, or thrown away (`abort`).
 */
export interface BccCopy {
  /** The Bcc recipient. */
  address: string;
  /** Renames the temporary file over its path. */
  commit(): Promise<void>;
  /** Removes the temporary file (idempotent; a no-op after commit). */
  abort(): Promise<void>;
}

/**
 * `smime encrypt`: encryptStream (refusals reject before anything is read or written; `--legacy-display`'s too: a
 * message whose Legacy Display Element's place is past maxHeaderBytes of the body is refused by encryptMessage alike), else
 * the buffer path for a cipher that cannot stream. With `--bcc`, encryptStream's copies are written as they come (in lockstep with the main
 * message, which streamToTemp reads), each to a temporary file for `bccTarget(address)`; `done` resolves to them once
 * all are complete. Any failure (or the main output cancelled) removes them. For encryption, the output ending
 * without error is success.
 */
export async function encryptStreamed(input: ReadableStream<Uint8Array>, options: EncryptOptions, bccTarget?: (address: string) => StreamTarget): Promise<Streamed<BccCopy[]>> {
  const bcc = 'bcc' in options ? (options as EncryptBccOptions).bcc : undefined;
  const buffered = async (): Promise<Streamed<BccCopy[]>> => {
    // encryptMessage's overloads type the result by whether `bcc` is given; here it may be either.
    const bytes = await readStream(input);
    const r = (await encryptMessage(bytes, options)) as Uint8Array | BccEncryption;
    if (r instanceof Uint8Array) return { output: bytesStream(r), done: Promise.resolve([]) };
    return { output: bytesStream(r.message), done: copiesTo(r.bcc.map((c) => ({ address: c.address, message: bytesStream(c.message) })), bccTarget).done };
  };
  try {
    if (!bcc) {
      const output = await encryptStream(input, options);
      return { output, done: Promise.resolve([]) };
    }
    const r = await encryptStream(input, options as EncryptBccOptions);
    const { done, stop } = copiesTo(r.bcc, bccTarget);
    // The main output cancelled (streamToTemp failed): the copies are cancelled, and removed once their writing stops.
    const main = r.message.getReader();
    const output = new ReadableStream<Uint8Array>(
      {
        async pull(c) {
          const x = await main.read();
          if (x.done) c.close();
          else c.enqueue(x.value);
        },
        async cancel(reason) {
          await main.cancel(reason);
          await stop(reason);
        },
      },
      { highWaterMark: 0 },
    );
    return { output, done };
  } catch (e) {
    if (!(e instanceof UnsupportedAlgorithm) || input.locked) throw e;
    return buffered();
  }
}

/**
 * Writes each copy to a temporary file for its target, all at once; on any failure, or `stop()`, every copy is
 * cancelled and every file removed.
 */
function copiesTo(copies: { address: string; message: ReadableStream<Uint8Array> }[], target: ((address: string) => StreamTarget) | undefined): { done: Promise<BccCopy[]>; stop(reason: unknown): Promise<void> } {
  if (!target) throw new TypeError('encryptStreamed: bcc needs a target for each copy');
  const sinks: TempSink[] = [];
  const readers = copies.map((c) => c.message.getReader());
  const stop = async (reason: unknown): Promise<void> => {
    for (const r of readers) await r.cancel(reason).catch(() => {});
    for (const s of sinks) await s.abort();
  };
  const done = Promise.all(
    copies.map(async (c, i) => {
      const sink = await sinkFor(target(c.address));
      sinks.push(sink);
      for (;;) {
        const x = await readers[i]!.read();
        if (x.done) break;
        await sink.write(x.value);
      }
      return { address: c.address, commit: () => sink.commit(), abort: () => sink.abort() };
    }),
  ).catch(async (e: unknown) => {
    await stop(e);
    throw e;
  });
  done.catch(() => {});
  return { done, stop };
}

/**
 * The input as a stream whose bytes are kept until `release()`: if the stream function refuses the message before it
 * starts (what it reads first is bounded: the header section, the CMS structure before the content), `replay()`
 * gives those bytes and the rest of the input for the buffer function. A cancel from the stream function while
 * recording leaves the input open for that replay.
 */
function recorded(input: ReadableStream<Uint8Array>): { stream: ReadableStream<Uint8Array>; release(): void; replay(): Promise<Uint8Array> } {
  const reader = input.getReader();
  let kept: Uint8Array[] | undefined = [];
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        const { done, value } = await reader.read();
        if (done) return c.close();
        kept?.push(value);
        c.enqueue(value);
      },
      async cancel(reason) {
        if (kept === undefined) await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return {
    stream,
    release: () => {
      kept = undefined;
    },
    async replay() {
      const head = kept ?? [];
      kept = undefined;
      const rest = new ReadableStream<Uint8Array>({
        async pull(c) {
          const { done, value } = await reader.read();
          if (done) return c.close();
          c.enqueue(value);
        },
      });
      const tail = await readStream(rest);
      return concat([...head, tail]);
    },
  };
}

/**
 * A stream function with the buffer function as its fallback: what the stream refuses before its first output
 * (decryptStream: a message whose RecipientInfos name none of the store's keys, which decryptMessage opens by trial;
 * AuthEnvelopedData with authAttrs; verifyStream: what is not a signed message, e.g. certs-only) goes
 * to the buffer function on the same bytes, so every message the CLI read before issue 16 it still reads, with the
 * same errors.
 */
async function withFallback<T extends { content: Uint8Array }>(
  input: ReadableStream<Uint8Array>,
  streamed: (s: ReadableStream<Uint8Array>) => Promise<{ content: ReadableStream<Uint8Array>; done: Promise<T> }>,
  buffered: (bytes: Uint8Array) => Promise<T>,
): Promise<Streamed<T>> {
  const rec = recorded(input);
  let r: { content: ReadableStream<Uint8Array>; done: Promise<T> };
  try {
    r = await streamed(rec.stream);
  } catch (e) {
    if (!(e instanceof SmimeError)) throw e;
    const whole = await buffered(await rec.replay());
    return { output: bytesStream(whole.content), done: Promise.resolve(whole) };
  }
  rec.release();
  return { output: r.content, done: r.done };
}

/**
 * `smime decrypt`: decryptStream, else decryptMessage (see {@link withFallback}); `--report` streams too (decryptStream
 * returns the RFC 9788 header protection).
 */
export function decryptStreamed(input: ReadableStream<Uint8Array>, options: DecryptOptions): Promise<Streamed<DecryptResult>> {
  return withFallback(input, (s) => decryptStream(s, options), (b) => decryptMessage(b, { ...options, overwriteInput: true }));
}

/** `smime verify`: verifyStream, else verifyMessage (see {@link withFallback}), `--report` as for {@link decryptStreamed}. */
export function verifyStreamed(input: ReadableStream<Uint8Array>, options: VerifyOptions): Promise<Streamed<VerifyResult>> {
  return withFallback(input, (s) => verifyStream(s, options), (b) => verifyMessage(b, options));
}

/**
 * `smime open`: openStream, else openMessage (see {@link withFallback}): what openStream refuses at its head (a
 * message that is not S/MIME at its top, whose S/MIME parts openMessage walks; no key named) is opened
 * by openMessage on the same bytes; `--report` streams too (openStream returns the RFC 9788 header protection).
 */
export function openStreamed(input: ReadableStream<Uint8Array>, options: OpenOptions): Promise<Streamed<OpenResult>> {
  return withFallback(input, (s) => openStream(s, options), (b) => openMessage(b, options));
}

/**
 * A message read from a pipe up to this many bytes is signed exactly as signMessage signs it (scanned in memory, then
 * signed); a longer one is streamed with `sevenBitText: 'quoted-printable'`.
 */
export const SIGN_PIPE_LOOKAHEAD = 1 << 20;

/** The bytes already read from `reader`, then the rest of it, as one stream. */
function prepended(head: Uint8Array[], reader: ReadableStreamDefaultReader<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        const h = head.shift();
        if (h) return c.enqueue(h);
        const { done, value } = await reader.read();
        if (done) return c.close();
        c.enqueue(value);
      },
      async cancel(reason) {
        await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * `smime sign`: signStream, its transfer encodings decided before the first byte is written (signStream decides each
 * part's from its headers, and 8-bit data under a 7bit label, or none, could otherwise only be refused half-way):
 * - `rewind` given (the input is a regular file, `--in` or redirected to stdin, which can be read twice): a first pass
 *   over `input` (`scanForSigning`, constant memory) learns which parts are 7-bit clean, and the stream then signs the
 *   input read again ({@link StreamInput.rewind}): exactly what signMessage signs;
 * - else (a pipe): the first {@link SIGN_PIPE_LOOKAHEAD} bytes are read; a message that ends within them is scanned in
 *   memory and signed as signMessage signs it; a longer one is streamed with `sevenBitText: 'quoted-printable'`, so a
 *   text part declared 7bit or undeclared is quoted-printable (its 7-bit lines unchanged, a `Content-Transfer-Encoding:
 *   quoted-printable` added): the signature verifies everywhere, the signed entity differs from signMessage's.
 * `--protect-headers`, `--hcp` and `--legacy-display` go to the scan and the stream alike (they decide the entity signed).
 */
export async function signStreamed(input: ReadableStream<Uint8Array>, options: SignOptions, rewind?: () => Promise<StreamInput>): Promise<Streamed<void>> {
  const done = Promise.resolve();
  if (rewind) {
    const scan = await scanForSigning(input, options);
    const second = await rewind();
    try {
      return { output: await signStream(second.stream, { ...options, scan }), done };
    } catch (e) {
      await second.close();
      throw e;
    }
  }
  const reader = input.getReader();
  const head: Uint8Array[] = [];
  let n = 0;
  while (n <= SIGN_PIPE_LOOKAHEAD) {
    const r = await reader.read();
    if (r.done) {
      const bytes = concat(head);
      const scan = await scanForSigning(bytesStream(bytes), options);
      return { output: await signStream(bytesStream(bytes), { ...options, scan }), done };
    }
    head.push(r.value);
    n += r.value.length;
  }
  return { output: await signStream(prepended(head, reader), { ...options, sevenBitText: 'quoted-printable' }), done };
}
