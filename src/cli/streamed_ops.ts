/**
 * The library's stream functions shaped for stream_io.ts's `streamToTemp`: each resolves to `{ output, done }`.
 * encrypt streams through encryptStream; a cipher that cannot stream (encryptStream's `UnsupportedAlgorithm`, e.g.
 * ChaCha20-Poly1305, thrown before any input is read) falls back to encryptMessage on the whole input, so every
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
  signMessage,
  signStream,
  SmimeError,
  UnsupportedAlgorithm,
  verifyMessage,
  verifyStream,
  type BccEncryption,
  type DecryptOptions,
  type DecryptResult,
  type EncryptOptions,
  type OpenOptions,
  type OpenResult,
  type SignOptions,
  type VerifyOptions,
  type VerifyResult,
} from '../index.node.js';
import type { StreamInput, Streamed } from './stream_io.js';
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

/** A Bcc copy of `smime encrypt --bcc` (written beside --out). */
export type BccCopy = BccEncryption['bcc'][number];

/**
 * `smime encrypt`: encryptStream (refusals reject before anything is read or written), else the buffer path for a
 * cipher that cannot stream and for what streams do not offer (`--bcc`, whose copies are whole messages, and
 * `--legacy-display`, which rewrites the body). `done` resolves to the Bcc copies (none when streamed): for encryption,
 * the output ending without error is success.
 */
export async function encryptStreamed(input: ReadableStream<Uint8Array>, options: EncryptOptions): Promise<Streamed<BccCopy[]>> {
  const buffered = async (): Promise<Streamed<BccCopy[]>> => {
    // encryptMessage's overloads type the result by whether `bcc` is given; here it may be either.
    const r = (await encryptMessage(await readStream(input), options)) as Uint8Array | BccEncryption;
    return r instanceof Uint8Array ? { output: bytesStream(r), done: Promise.resolve([]) } : { output: bytesStream(r.message), done: Promise.resolve(r.bcc) };
  };
  if ('bcc' in options || options.legacyDisplay === true) return buffered();
  let output: ReadableStream<Uint8Array>;
  try {
    output = await encryptStream(input, options);
  } catch (e) {
    if (!(e instanceof UnsupportedAlgorithm) || input.locked) throw e;
    return buffered();
  }
  return { output, done: Promise.resolve([]) };
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
 * a cipher that does not stream, e.g. 3DES or RC2; verifyStream: what is not a signed message, e.g. certs-only) goes
 * to the buffer function on the same bytes, so every message the CLI read before issue 16 it still reads, with the
 * same errors.
 */
async function withFallback<T extends { content: Uint8Array }>(
  input: ReadableStream<Uint8Array>,
  streamed: (s: ReadableStream<Uint8Array>) => Promise<{ content: ReadableStream<Uint8Array>; done: Promise<T> }>,
  buffered: (bytes: Uint8Array) => Promise<T>,
  whole: boolean,
): Promise<Streamed<T>> {
  if (whole) {
    const r = await buffered(await readStream(input));
    return { output: bytesStream(r.content), done: Promise.resolve(r) };
  }
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
 * `smime decrypt`: decryptStream, else decryptMessage (see {@link withFallback}). `whole`: the buffer function
 * alone, for `--report`, whose protected headers (RFC 9788) the stream functions do not return yet.
 */
export function decryptStreamed(input: ReadableStream<Uint8Array>, options: DecryptOptions, whole = false): Promise<Streamed<DecryptResult>> {
  return withFallback(input, (s) => decryptStream(s, options), (b) => decryptMessage(b, { ...options, overwriteInput: true }), whole);
}

/** `smime verify`: verifyStream, else verifyMessage (see {@link withFallback}); `whole` as for {@link decryptStreamed}. */
export function verifyStreamed(input: ReadableStream<Uint8Array>, options: VerifyOptions, whole = false): Promise<Streamed<VerifyResult>> {
  return withFallback(input, (s) => verifyStream(s, options), (b) => verifyMessage(b, options), whole);
}

/**
 * `smime open`: openStream, else openMessage (see {@link withFallback}): what openStream refuses at its head (a
 * message that is not S/MIME at its top, whose S/MIME parts openMessage walks; 3DES or RC2; no key named) is opened
 * by openMessage on the same bytes. `whole`: openMessage alone, for `--report`, whose protected headers (RFC 9788)
 * openStream does not return yet.
 */
export function openStreamed(input: ReadableStream<Uint8Array>, options: OpenOptions, whole = false): Promise<Streamed<OpenResult>> {
  return withFallback(input, (s) => openStream(s, options), (b) => openMessage(b, options), whole);
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
 * - `again` given (the input is a regular file, which can be read twice): a first pass (`scanForSigning`, constant
 *   memory) learns which parts are 7-bit clean, and the stream then signs exactly what signMessage signs;
 * - else (a pipe): the first {@link SIGN_PIPE_LOOKAHEAD} bytes are read; a message that ends within them is scanned in
 *   memory and signed as signMessage signs it; a longer one is streamed with `sevenBitText: 'quoted-printable'`, so a
 *   text part declared 7bit or undeclared is quoted-printable (its 7-bit lines unchanged, a `Content-Transfer-Encoding:
 *   quoted-printable` added): the signature verifies everywhere, the signed entity differs from signMessage's.
 * `--protect-headers` (not on streams yet) signs the whole input with signMessage.
 */
export async function signStreamed(input: ReadableStream<Uint8Array>, options: SignOptions, again?: () => Promise<StreamInput>): Promise<Streamed<void>> {
  const done = Promise.resolve();
  if (options.protectHeaders === true) return { output: bytesStream(await signMessage(await readStream(input), options)), done };
  if (again) {
    const first = await again();
    let scan;
    try {
      scan = await scanForSigning(first.stream, options);
    } finally {
      await first.close();
    }
    return { output: await signStream(input, { ...options, scan }), done };
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
