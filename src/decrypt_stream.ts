/**
 * decryptStream(): an `application/pkcs7-mime` enveloped (or authEnveloped) message, a *.p7m or raw DER/BER as a
 * `ReadableStream` in, the decrypted MIME entity as a `ReadableStream` out, in memory that does not grow with the
 * message (issue 16; docs/streaming-design.md).
 *
 * The pieces: `EntityHeadReader` (the header section, checked as `extractCms` does), `Base64Decoder` (a base64 body
 * as it comes), `EnvelopeStreamReader` (the CMS, on the BER stream reader, decrypted by the buffer path's
 * `contentDecryptor`). The output is pulled: the input is read one piece (at most 64 KiB) per step, only when the
 * consumer asks.
 */
import type { DecryptOptions, DecryptResult } from './decrypt.js';
import { storeInternals, type StoredIdentity } from './store/internal.js';
import { checkOption } from './lib/args.js';
import { resolvePolicyFor } from './crypto/policy.js';
import { mimeLimits, resolveLimits, type Limits } from './lib/limits.js';
import { Base64Decoder } from './lib/base64_stream.js';
import { resultStream } from './lib/result_stream.js';
import { STREAM_CHUNK } from './cms/content_cipher.js';
import { EnvelopeStreamReader } from './cms/enveloped_reader.js';
import { EntityHeadReader, type EntityHead } from './mime/stream_head.js';
import { CompressedContentStream } from './ops/compressed_stream.js';
import { MIMELimitExceeded } from './errors.js';
import type { Header } from './mime/entity.js';
import { readHeaderProtection } from './mime/header_protection.js';
import { PayloadPrefix } from './mime/payload_prefix.js';

/** What {@link decryptStream} resolves to. */
export interface DecryptStreamResult {
  /**
   * The decrypted MIME entity, byte for byte what `decryptMessage` returns as `content`, as it is decrypted. For
   * AES-GCM and ChaCha20-Poly1305 content it is known good only when `done` resolves: on a bad tag this stream errors
   * with `CMSDecryptionFailed` (and never closes normally). Do not act on the content before `done` resolves.
   */
  content: ReadableStream<Uint8Array>;
  /**
   * What `decryptMessage` returns, with `content` empty (the content went through the stream), once `content` has
   * been read to its end (the whole message read, its padding or tag checked); rejects with the error the content
   * stream errors with, or with the reason the consumer cancelled `content` with (the input is cancelled too).
   */
  done: Promise<DecryptResult>;
}

/**
 * Decrypts a message read from `input` with the store's identities, as `decryptMessage` does, and returns the
 * decrypted entity as a stream. The input is read up to the first byte of the encrypted content before the promise
 * resolves, so a malformed head, an unsupported cipher or "no key" rejects it. Unlike `decryptMessage` a stream
 * cannot be tried once per key: a RecipientInfo must name one of the store's keys (issuer and serial, SKI, or the
 * Outlook SPKI hash), else `CMSDecryptionFailed`. Every content cipher `decryptMessage` reads streams: AES on the
 * provider's incremental AES (`smime-core/node` installs Node's), else AES-CBC on WebCrypto and AES-GCM on
 * WebCrypto's AES-CTR with GHASH in TypeScript; ChaCha20-Poly1305 on the portable RFC 8439 construction; 3DES and RC2 block by block.
 * CBC content is `authenticated: false`; GCM's tag is checked at the end (see
 * {@link DecryptStreamResult}). Truncated input errors the stream with `CMSInvalid`, a bad padding or tag with
 * `CMSDecryptionFailed`.
 *
 * Compressed content inside (RFC 3274): the decrypted compressed-data entity is decompressed as it streams
 * (`DecompressionStream('deflate')`), within `maxDecompressedBytes` and `maxDecompressionRatio` counted as the bytes
 * come out (the ratio against the compressed bytes read so far), and the content stream gives the entity inside;
 * `done` has `compressed: true`.
 *
 * Header protection (RFC 9788): `done` has the `headerProtection` decryptMessage reports, read from the entity's first
 * bytes (mime/payload_prefix.ts: its header section, and when it protects its fields the next `maxHeaderBytes` of its
 * body): the same fields, exposed fields, mismatches, problems and legacy display text (an element is recognised by
 * both only when it ends within the first `maxHeaderBytes` of the body, where RFC 9788 §2.1.2 puts it).
 *
 * `options.overwriteInput` does not apply (the stream's pieces are never written).
 *
 * @example
 * ```ts
 * const { content, done } = await decryptStream(Readable.toWeb(createReadStream('mail.p7m.eml')), { store });
 * await content.pipeTo(Writable.toWeb(createWriteStream('mail.tmp')));
 * const { authenticated } = await done; // only now is the content known good (GCM)
 * ```
 */
export async function decryptStream(input: ReadableStream<Uint8Array>, options: DecryptOptions): Promise<DecryptStreamResult> {
  const { store } = options ?? ({} as DecryptOptions);
  storeInternals(store, 'decryptStream: options.store');
  checkOption('decryptStream: options.overwriteInput', options.overwriteInput, 'boolean');
  resolvePolicyFor('decryptStream: options.policy', store.policy, options.policy);
  if (typeof ReadableStream === 'undefined' || !(input instanceof ReadableStream)) throw new TypeError('decryptStream: input must be a ReadableStream');
  const limits = resolveLimits('decryptStream: options.limits', store.limits, options.limits);
  const crypto = options.crypto ?? store.crypto;
  const core = new DecryptCore(input.getReader(), storeInternals(store).identities(), crypto, limits);
  try {
    await core.start();
  } catch (e) {
    await core.cancel(e);
    throw e;
  }

  return resultStream<DecryptResult>(
    'decryptStream',
    async () => {
      const out = core.take();
      if (out) return { out: [out] };
      if (core.finished) return { end: true, result: core.result() };
      await core.step();
      return {};
    },
    (reason) => core.cancel(reason),
  );
}

/** The state of one decryptStream: the input, the decoders, the plaintext ready to go out. */
class DecryptCore {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #limits: Limits;
  readonly #head: EntityHeadReader;
  #b64: Base64Decoder | undefined;
  #bodyKnown = false;
  readonly #env: EnvelopeStreamReader<StoredIdentity>;
  /** The rest of an input chunk larger than STREAM_CHUNK. */
  #left: Uint8Array | undefined;
  #inputEnded = false;
  #read = 0;
  /** Plaintext ready for the consumer. */
  #out: Uint8Array[] = [];
  /** While {@link start} runs; the plaintext it decrypted, handled at the first pull. */
  #starting = false;
  #early: Uint8Array[] = [];
  /** The plaintext, decompressed on its way out when it is a compressed-data entity. */
  readonly #inner: CompressedContentStream;
  #finished = false;
  /** The message's header section (for the header protection of the entity inside). */
  #outerHeaders: Header[] = [];
  /** The first bytes of the entity that goes out: its header protection is read from them. */
  readonly #payload: PayloadPrefix;

  constructor(reader: ReadableStreamDefaultReader<Uint8Array>, identities: readonly StoredIdentity[], crypto: Crypto | undefined, limits: Limits) {
    this.#reader = reader;
    this.#limits = limits;
    this.#head = new EntityHeadReader(mimeLimits(limits));
    this.#env = new EnvelopeStreamReader(identities, crypto, limits);
    this.#inner = new CompressedContentStream(limits);
    this.#payload = new PayloadPrefix(limits.maxHeaderBytes);
  }

  /** True once the input is read, checked, and every piece of plaintext is queued. */
  get finished(): boolean {
    return this.#finished && this.#out.length === 0;
  }

  /** Reads until the encrypted content begins (its key known): the refusals of decryptStream's promise. */
  async start(): Promise<void> {
    this.#starting = true;
    while (!this.#env.started && !this.#finished) await this.step();
    this.#starting = false;
  }

  /** The next piece of plaintext ready, if any. */
  take(): Uint8Array | undefined {
    const out = this.#out.shift();
    if (out) this.#payload.see(out);
    return out;
  }

  /** One step: the plaintext decrypted by {@link start}, else the next input piece (at most STREAM_CHUNK bytes), or the end of the input. */
  async step(): Promise<void> {
    if (this.#early.length > 0) {
      await this.#plain(this.#early.splice(0), false);
      return;
    }
    const piece = await this.#next();
    if (piece === undefined) {
      await this.#end();
      return;
    }
    await this.#body(piece);
  }

  /** What `done` resolves to. */
  result(): DecryptResult {
    const info = this.#env.info!;
    const r: DecryptResult = {
      content: new Uint8Array(0),
      recipient: info.identity.certificate,
      type: info.kind,
      cipher: info.cipher,
      keyTransport: info.keyTransport,
      authenticated: info.authenticated,
      legacy: info.legacy,
    };
    if (this.#inner.compressed) r.compressed = true;
    // As decryptMessage reads it, from the entity's first bytes (see mime/payload_prefix.ts for what they hold).
    const hp = readHeaderProtection(this.#payload.bytes, this.#outerHeaders, true, mimeLimits(this.#limits), !this.#payload.whole);
    if (hp) r.headerProtection = hp;
    return r;
  }

  async cancel(reason: unknown): Promise<void> {
    this.#out = [];
    this.#early = [];
    this.#inner.cancel();
    try {
      await this.#reader.cancel(reason);
    } catch {
      /* the input's own failure: the error already thrown is the one to report */
    }
  }

  async #next(): Promise<Uint8Array | undefined> {
    for (;;) {
      let v = this.#left;
      this.#left = undefined;
      if (v === undefined) {
        if (this.#inputEnded) return undefined;
        const r = await this.#reader.read();
        if (r.done) {
          this.#inputEnded = true;
          return undefined;
        }
        if (!(r.value instanceof Uint8Array)) throw new TypeError('decryptStream: input must be a stream of Uint8Array');
        v = r.value;
        this.#read += v.length;
        if (this.#read > this.#limits.maxInputBytes) {
          throw new MIMELimitExceeded(`decryptStream: the input is more than maxInputBytes (${this.#limits.maxInputBytes}) bytes`, { limit: 'maxInputBytes' });
        }
      }
      if (v.length === 0) continue;
      // A large input chunk is worked on in bounded steps.
      if (v.length > STREAM_CHUNK) {
        this.#left = v.subarray(STREAM_CHUNK);
        v = v.subarray(0, STREAM_CHUNK);
      }
      return v;
    }
  }

  /** Input bytes: the header section first, then the body (decoded from base64 when it is), to the CMS reader. */
  async #body(piece: Uint8Array): Promise<void> {
    let body = piece;
    if (!this.#bodyKnown) {
      const head = this.#head.push(piece);
      if (!head) return;
      this.#bodyKnown = true;
      this.#setBody(head);
      body = head.rest;
    }
    const der = this.#b64 ? this.#b64.write(body) : body;
    if (der.length === 0) return;
    const plain = await this.#env.push(der);
    // The plaintext of the piece that began the content waits for the consumer (its decompression too).
    if (this.#starting) this.#early.push(...plain);
    else await this.#plain(plain, false);
  }

  #setBody(head: EntityHead): void {
    this.#outerHeaders = head.headers;
    if (head.body === 'base64') this.#b64 = new Base64Decoder();
  }

  async #end(): Promise<void> {
    if (this.#finished) return;
    if (this.#early.length > 0) await this.#plain(this.#early.splice(0), false);
    if (!this.#bodyKnown) {
      this.#bodyKnown = true;
      const head = this.#head.finish();
      this.#setBody(head);
      if (head.rest.length > 0) await this.#body(head.rest);
    }
    if (this.#b64) {
      const der = this.#b64.end();
      if (der.length > 0) await this.#plain(await this.#env.push(der), false);
    }
    await this.#plain(await this.#env.finish(), true);
    this.#finished = true;
  }

  /** Plaintext pieces: out to the consumer, through the decompression when it is compressed data (`ended`: the last). */
  async #plain(pieces: Uint8Array[], ended: boolean): Promise<void> {
    this.#out.push(...(await this.#inner.push(pieces)));
    if (ended) this.#out.push(...(await this.#inner.finish()));
  }
}
