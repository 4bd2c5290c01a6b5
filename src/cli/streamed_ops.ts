/**
 * The library's stream functions shaped for stream_io.ts's `streamToTemp`: each resolves to `{ output, done }`.
 * encrypt streams through encryptStream; a cipher that cannot stream (encryptStream's `UnsupportedAlgorithm`, e.g.
 * ChaCha20-Poly1305, thrown before any input is read) falls back to encryptMessage on the whole input, so every
 * option of `smime encrypt` works as before issue 16. decrypt, sign, verify and open plug in here the same way.
 */
import { encryptMessage, encryptStream, UnsupportedAlgorithm, type BccEncryption, type EncryptOptions } from '../index.node.js';
import type { Streamed } from './stream_io.js';

/** All of a stream's bytes in one buffer (the buffer fallback only). */
export async function readStream(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  const r = s.getReader();
  for (;;) {
    const { done, value } = await r.read();
    if (done) break;
    chunks.push(value);
    n += value.length;
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
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
