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
import type { EncryptOptions } from './encrypt.js';
import { concat } from './lib/bytes.js';
import { mimeLimits, resolveLimits } from './lib/limits.js';
import { Base64LineStream } from './lib/base64_stream.js';
import { STREAM_CHUNK } from './cms/content_cipher.js';
import { prepareEnvelope } from './cms/enveloped.js';
import { checkProtectionOptions, encryptPlan } from './ops/header_protection.js';
import { readHeadSection } from './ops/stream_head.js';
import { pkcs7MimeHeader } from './mime/pkcs7_mime.js';
import { CanonicalLineEnds } from './mime/canonical_stream.js';
import { compressEntityStream } from './ops/compress.js';
import { checkEncryptOptions, selectEncryptionRecipients } from './ops/encrypt_recipients.js';

/**
 * Encrypts a MIME message read from `input` for `options.to` (and the sender's own copy with `options.from`), as
 * `encryptMessage` does, and returns the `application/pkcs7-mime` message as a stream. Every recipient is selected,
 * and the message's header section read (at most `maxHeaderBytes`), before the promise resolves: a refusal rejects it
 * with nothing emitted. Every cipher streams: AES-CBC and AES-GCM on the provider's incremental AES (`smime-core/node`
 * installs Node's), else AES-CBC on WebCrypto and AES-GCM and ChaCha20-Poly1305 on the portable incremental ciphers
 * (TypeScript, slower). With `compress: true` the entity is compressed as it streams (a BER CompressedData in a
 * compressed-data entity, RFC 3274 and RFC 8551 §3.6), as `encryptMessage` does.
 *
 * @example
 * ```ts
 * const out = await encryptStream(Readable.toWeb(createReadStream('mail.eml')), { store, to: ['bob@example.com'] });
 * await out.pipeTo(Writable.toWeb(createWriteStream('mail.p7m.eml')));
 * ```
 */
export async function encryptStream(input: ReadableStream<Uint8Array>, options: EncryptOptions): Promise<ReadableStream<Uint8Array>> {
  checkEncryptOptions('encryptStream', options);
  if (typeof ReadableStream === 'undefined' || !(input instanceof ReadableStream)) throw new TypeError('encryptStream: input must be a ReadableStream');
  checkProtectionOptions('encryptStream', options);
  if ('bcc' in options) throw new RangeError('encryptStream: options.bcc is not supported on streams (use encryptMessage, or one stream per Bcc recipient)');
  if (options.legacyDisplay === true) throw new RangeError('encryptStream: options.legacyDisplay is not supported on streams (it changes the body)');
  const { store } = options;
  const limits = resolveLimits('encryptStream', store.limits, options.limits);
  const crypto = options.crypto ?? store.crypto;
  // Refusals first: every recipient, the key transport for each, and whether the cipher can stream here.
  const { recipients, cipher } = await selectEncryptionRecipients(options);
  const env = await prepareEnvelope(undefined, recipients, { cipher, oaep: options.oaep, useSki: options.useSki, crypto });

  // The header section: read until the empty line (or the end), at most maxHeaderBytes.
  const reader = input.getReader();
  const { headers, rest: firstBody, ended } = await readHeadSection(reader, limits.maxHeaderBytes, 'encryptStream');
  const plan = encryptPlan('encryptStream', headers, options, mimeLimits(limits), true);
  const innerHead = new Uint8Array(plan.innerLength);
  plan.writeInner(innerHead, 0);
  const mimeHead = pkcs7MimeHeader(plan.outerHeaders, env.authenticated ? 'authEnveloped-data' : 'enveloped-data');

  // The entity to encrypt, as a stream pulled by the encryption: the protected headers, then the body in canonical
  // form (a large input chunk in bounded steps); with `compress`, its compressed-data wrapper (RFC 8551 §3.6).
  const entity = entityStream(reader, innerHead, firstBody, ended, plan.binaryBody === true);
  const content = (options.compress === true ? compressEntityStream(entity) : entity).getReader();
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

/** Input chunks are canonicalised and handed on in steps of at most this many bytes. */
const STEP = 16 * STREAM_CHUNK;

/**
 * The entity encryptStream encrypts, as a stream: `innerHead` (the protected headers), then the body (`firstBody`, then
 * the rest of `reader`) with canonical line ends (`binary`: as it is, see mime/protection.ts), in steps of at most
 * {@link STEP} input bytes, one per pull.
 */
function entityStream(reader: ReadableStreamDefaultReader<Uint8Array>, innerHead: Uint8Array, firstBody: Uint8Array, ended: boolean, binary: boolean): ReadableStream<Uint8Array> {
  const canon = binary ? { write: (p: Uint8Array) => [p], end: () => [] } : new CanonicalLineEnds();
  let chunk: Uint8Array = firstBody;
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
