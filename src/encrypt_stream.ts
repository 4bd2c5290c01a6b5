/**
 * encryptStream(): a MIME message as a `ReadableStream` in, the `application/pkcs7-mime` message as a
 * `ReadableStream` out, in memory that does not grow with the message (issue 16; docs/streaming-design.md).
 *
 * The same split as encryptMessage (RFC 8551 §3: the Content-* headers and the body are encrypted, the other headers
 * stay outside) and the same recipient selection (src/ops/encrypt_recipients.ts), done before the stream is returned:
 * a recipient without a certificate rejects the call with `MissingRecipientCertificatesError`, and nothing is emitted.
 * The CMS is BER with indefinite lengths, the encrypted content a constructed OCTET STRING of 64 KiB chunks (as
 * `openssl cms -encrypt -stream` writes), in base64 lines written as the content comes. The output is pulled: the
 * input is read one chunk per pull of the consumer (backpressure end to end).
 */
import type { EncryptBccOptions, EncryptOptions } from './encrypt.js';
import { concat } from './lib/bytes.js';
import { mimeLimits, resolveLimits } from './lib/limits.js';
import { argumentError, checkOption } from './lib/args.js';
import { Base64LineStream } from './lib/base64_stream.js';
import { STREAM_CHUNK } from './cms/content_cipher.js';
import { prepareEnvelope, type EnvelopeWriter } from './cms/enveloped.js';
import { checkOpaqueSigned, checkProtectionOptions, encryptPlan } from './ops/header_protection.js';
import { OpaqueSignedHead } from './ops/opaque_signed_head.js';
import { readStreamedPayload, type StreamedPayload } from './ops/stream_payload.js';
import { getHeader, parseEntity, type MimeLimits } from './mime/entity.js';
import { withoutField } from './mime/header_protection.js';
import { smimeKindOf } from './mime/extract.js';
import { pkcs7MimeHeader } from './mime/pkcs7_mime.js';
import { CanonicalLineEnds } from './mime/canonical_stream.js';
import { compressEntityStream } from './ops/compress.js';
import { checkEncryptOptions, selectEncryptionRecipients } from './ops/encrypt_recipients.js';

/** What `encryptStream` returns when given `bcc` (as `encryptMessage` returns {@link BccEncryption}). */
export interface BccEncryptionStream {
  /** The message for the To and Cc recipients and the sender's copy, without any Bcc field. */
  message: ReadableStream<Uint8Array>;
  /** One message per Bcc recipient, encrypted to that recipient alone, in the order of `bcc`. */
  bcc: {
    /** The Bcc recipient. */
    address: string;
    /** The message encrypted to that recipient alone. */
    message: ReadableStream<Uint8Array>;
  }[];
}

/**
 * Encrypts a MIME message read from `input` for `options.to` (and the sender's own copy with `options.from`), as
 * `encryptMessage` does, and returns the `application/pkcs7-mime` message as a stream. Every recipient is selected,
 * and the message's header section read (at most `maxHeaderBytes`), before the promise resolves: a refusal rejects it
 * with nothing emitted. Every cipher streams: AES-CBC and AES-GCM on the provider's incremental AES (`smime-core/node`
 * installs Node's), else AES-CBC on WebCrypto and AES-GCM and ChaCha20-Poly1305 on the portable incremental ciphers
 * (TypeScript, slower). With `compress: true` the entity is compressed as it streams (a BER CompressedData in a
 * compressed-data entity, RFC 3274 and RFC 8551 §3.6), as `encryptMessage` does.
 *
 * Header protection (RFC 9788) as `encryptMessage` does it: `protectHeaders`, `headerConfidentiality`, and
 * `legacyDisplay`, for which the first `maxHeaderBytes` of the body are read before the promise resolves (the element
 * goes at the top of the main body part: see src/ops/stream_payload.ts; where its place is not within them,
 * `MIMELimitExceeded`, nothing emitted).
 *
 * With `bcc` (see `EncryptBccOptions`): the refusal covers the Bcc recipients too, the Bcc field is dropped, and the
 * result holds one stream per copy (the main message, then one per Bcc recipient, encrypted to them alone), fed from
 * the one input in lockstep: the input is read, and its entity made and compressed, once; a chunk is read only when
 * every copy has taken the one before, so memory stays bounded whatever the pace of each. **Read every stream at the
 * same time** (e.g. `Promise.all` of their `pipeTo`): reading one to its end before starting the next waits forever.
 * Cancel a copy you don't want; the input is cancelled once every copy is.
 *
 * @example
 * ```ts
 * const out = await encryptStream(Readable.toWeb(createReadStream('mail.eml')), { store, to: ['bob@example.com'] });
 * await out.pipeTo(Writable.toWeb(createWriteStream('mail.p7m.eml')));
 * ```
 */
export async function encryptStream(input: ReadableStream<Uint8Array>, options: EncryptBccOptions): Promise<BccEncryptionStream>;
export async function encryptStream(input: ReadableStream<Uint8Array>, options: EncryptOptions): Promise<ReadableStream<Uint8Array>>;
export async function encryptStream(input: ReadableStream<Uint8Array>, options: EncryptOptions | EncryptBccOptions): Promise<ReadableStream<Uint8Array> | BccEncryptionStream> {
  checkEncryptOptions('encryptStream', options);
  if (typeof ReadableStream === 'undefined' || !(input instanceof ReadableStream)) throw new TypeError('encryptStream: input must be a ReadableStream');
  checkProtectionOptions('encryptStream', options);
  const bcc = 'bcc' in options ? options.bcc : undefined;
  if (bcc !== undefined) {
    checkOption('encryptStream: options.bcc', bcc, 'non-empty array');
    if (bcc.some((a) => typeof a !== 'string')) throw argumentError('encryptStream: options.bcc', 'an array of addresses');
  }
  const { store } = options;
  const limits = resolveLimits('encryptStream', store.limits, options.limits);
  const L = mimeLimits(limits);
  const crypto = options.crypto ?? store.crypto;
  // Refusals first: every recipient (the Bcc recipients too), the key transport for each, and whether the cipher can
  // stream here. One envelope per copy, as encryptMessage makes them.
  if (bcc) await selectEncryptionRecipients({ ...options, to: [...options.to, ...bcc] });
  const copies: EncryptOptions[] = [options, ...(bcc ?? []).map((address) => ({ ...options, to: [address], from: undefined }))];
  const envs: EnvelopeWriter[] = [];
  for (const o of copies) {
    const { recipients, cipher } = await selectEncryptionRecipients(o);
    envs.push(await prepareEnvelope(undefined, recipients, { cipher, oaep: options.oaep, useSki: options.useSki, crypto }));
  }

  // The header section (at most maxHeaderBytes), split as encryptMessage splits it; with legacyDisplay, the look-ahead.
  const reader = input.getReader();
  // The look-ahead: for the Legacy Display Element, and for the payload of a signed message encrypted with
  // protectHeaders (refused, as by encryptMessage, unless it says hp="cipher": a multipart/signed part's head is within
  // the look-ahead; an opaque signed-data's payload is in its CMS, read on past the look-ahead: readOpaqueSignedHead).
  const signedKinds = ['multipart-signed', 'pkcs7-mime'];
  const lookAhead = (head: Uint8Array): boolean => options.legacyDisplay === true || (options.protectHeaders === true && head.length > 0 && signedKinds.includes(smimeKindOf(head, limits).kind));
  // A body declared binary is not canonicalised (mime/protection.ts): as the plan of the header section says.
  let binaryBody = false;
  // An opaque signed message longer than the look-ahead, to check on the body that follows: its transfer encoding.
  let opaque: string | undefined;
  const payload = await readStreamedPayload(reader, limits.maxHeaderBytes, 'encryptStream', lookAhead, (bytes, open, headerOnly) => {
    if (open && !headerOnly && options.protectHeaders === true && smimeKindOf(bytes, limits).kind === 'pkcs7-mime')
      opaque = getHeader(parseEntity(bytes, L), 'content-transfer-encoding') ?? '7bit';
    // No copy names the Bcc recipients (as encryptMessage with bcc).
    const plan = encryptPlan('encryptStream', bcc ? withoutField(bytes, 'bcc', L) : bytes, options, L, headerOnly, open);
    binaryBody = plan.binaryBody === true;
    const inner = new Uint8Array(plan.innerLength);
    plan.writeInner(inner, 0);
    return { outerHeaders: plan.outerHeaders, inner };
  });

  if (opaque !== undefined) await readOpaqueSignedHead(reader, payload, opaque, L);

  // The entity to encrypt, as a stream pulled by the encryption: the protected headers, then the body in canonical
  // form (a large input chunk in bounded steps); with `compress`, its compressed-data wrapper (RFC 8551 §3.6).
  const entity = entityStream(reader, payload.innerHead, payload.rest, payload.ended, binaryBody);
  const content = options.compress === true ? compressEntityStream(entity) : entity;
  if (!bcc) return envelopeStream(envs[0]!, payload.outerHeaders, content.getReader());
  const branches = lockstep(content, envs.length);
  const out = envs.map((env, i) => envelopeStream(env, payload.outerHeaders, branches[i]!));
  return { message: out[0]!, bcc: bcc.map((address, i) => ({ address, message: out[i + 1]! })) };
}

/**
 * An opaque signed message encrypted with protectHeaders, longer than the look-ahead: its payload's header section is
 * read from the body that follows (ops/opaque_signed_head.ts, as encryptMessage reads it), the pieces read kept in
 * `payload.rest` for the encryption, and the message refused as encryptMessage refuses it unless the payload says
 * `hp="cipher"`: before anything is emitted. The reader is cancelled on error.
 */
async function readOpaqueSignedHead(reader: ReadableStreamDefaultReader<Uint8Array>, payload: StreamedPayload, cte: string, L: MimeLimits): Promise<void> {
  try {
    const head = new OpaqueSignedHead(cte, L.maxHeaderBytes);
    let r = head.push(payload.lookAhead);
    for (const p of payload.rest.slice(1)) r = r ?? head.push(p);
    while (!r) {
      if (payload.ended) {
        r = head.end();
        break;
      }
      const x = await reader.read();
      if (x.done) payload.ended = true;
      else {
        if (!(x.value instanceof Uint8Array)) throw new TypeError('encryptStream: input must be a stream of Uint8Array');
        payload.rest.push(x.value);
        r = head.push(x.value);
      }
    }
    checkOpaqueSigned('encryptStream', r, L);
  } catch (e) {
    await reader.cancel(e).catch(() => {});
    throw e;
  }
}

/** What the encryption reads the entity from: a stream's reader, or one branch of {@link lockstep}. */
interface EntityReader {
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  cancel(reason?: unknown): Promise<void>;
}

/**
 * The `application/pkcs7-mime` message of one envelope over the entity read from `content`: the MIME header, then the
 * envelope's BER in base64 lines as the entity is read, one entity piece per pull.
 */
function envelopeStream(env: EnvelopeWriter, outerHeaders: Uint8Array, content: EntityReader): ReadableStream<Uint8Array> {
  const mimeHead = pkcs7MimeHeader(outerHeaders, env.authenticated ? 'authEnveloped-data' : 'enveloped-data');
  const b64 = new Base64LineStream();
  let started = false;
  // The DER the envelope writes is collected here and turned into base64 lines after each step.
  let der: Uint8Array[] = [];
  const run = env.start((p) => void der.push(p));
  const lines = (): Uint8Array => {
    const text = b64.write(der);
    der = [];
    return text;
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!started) {
          started = true;
          controller.enqueue(mimeHead);
        }
        // A pull must enqueue or close: the stream does not pull again on its own after a pull that gave nothing.
        for (;;) {
          const r = await content.read();
          if (r.done) {
            await run.finish();
            const text = concat([lines(), b64.end()]);
            if (text.length > 0) controller.enqueue(text);
            controller.close();
            return;
          }
          await run.update(r.value);
          const text = lines();
          if (text.length > 0) {
            controller.enqueue(text);
            return;
          }
        }
      },
      async cancel(reason) {
        await content.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * `n` readers of one stream in lockstep: the source is read only when every reader still reading has taken the chunk
 * before, so one chunk is held whatever the readers' pace, and a reader that runs ahead waits for the others (read
 * them all at the same time). The readers share each chunk (not to be written). A reader cancelled drops out; the
 * source is cancelled when every reader has; an error of the source reaches every reader.
 */
function lockstep(source: ReadableStream<Uint8Array>, n: number): EntityReader[] {
  const reader = source.getReader();
  /** The chunk read last (generation `gen`), and what each reader reads next (`gen` or `gen + 1`; -1: cancelled). */
  let gen = -1;
  let latest: Promise<ReadableStreamReadResult<Uint8Array>> = Promise.resolve({ done: true, value: undefined });
  const next: number[] = new Array<number>(n).fill(0);
  let wake: (() => void)[] = [];
  const changed = (): void => {
    const w = wake;
    wake = [];
    for (const f of w) f();
  };
  const readers: EntityReader[] = [];
  for (let i = 0; i < n; i++) {
    readers.push({
      async read() {
        if (next[i]! < 0) return { done: true, value: undefined };
        for (;;) {
          if (next[i] === gen) {
            const r = latest;
            next[i]!++;
            changed();
            return r;
          }
          // Every reader still reading has taken chunk `gen`: read the next one.
          if (next.every((x) => x < 0 || x === gen + 1)) {
            gen++;
            latest = reader.read();
            latest.catch(() => {});
            continue;
          }
          await new Promise<void>((resolve) => wake.push(resolve));
        }
      },
      async cancel(reason) {
        if (next[i]! < 0) return;
        next[i] = -1;
        changed();
        if (next.every((x) => x < 0)) await reader.cancel(reason);
      },
    });
  }
  return readers;
}

/** Input chunks are canonicalised and handed on in steps of at most this many bytes. */
const STEP = 16 * STREAM_CHUNK;

/**
 * The entity encryptStream encrypts, as a stream: `innerHead` (the protected headers), then the body (`firstBody`'s pieces, then
 * the rest of `reader`) with canonical line ends (`binary`: as it is, see mime/protection.ts), in steps of at most
 * {@link STEP} input bytes, one per pull.
 */
function entityStream(reader: ReadableStreamDefaultReader<Uint8Array>, innerHead: Uint8Array, firstBody: Uint8Array[], ended: boolean, binary: boolean): ReadableStream<Uint8Array> {
  const canon = binary ? { write: (p: Uint8Array) => [p], end: () => [] } : new CanonicalLineEnds();
  const queued = firstBody.slice();
  let chunk: Uint8Array = new Uint8Array(0);
  let at = 0;
  let started = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const give = (pieces: Uint8Array[]): boolean => {
          let gave = false;
          for (const p of pieces) {
            if (p.length === 0) continue;
            controller.enqueue(p);
            gave = true;
          }
          return gave;
        };
        if (!started) {
          started = true;
          controller.enqueue(innerHead);
          return;
        }
        for (;;) {
          if (at < chunk.length) {
            const piece = chunk.subarray(at, Math.min(chunk.length, at + STEP));
            at += piece.length;
            if (give(canon.write(piece))) return;
            continue;
          }
          const q = queued.shift();
          if (q) {
            chunk = q;
            at = 0;
            continue;
          }
          const r = ended ? { done: true as const, value: undefined } : await reader.read();
          if (r.done) {
            give(canon.end());
            controller.close();
            return;
          }
          if (!(r.value instanceof Uint8Array)) throw new TypeError('encryptStream: input must be a stream of Uint8Array');
          chunk = r.value;
          at = 0;
        }
      },
      async cancel(reason) {
        await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
