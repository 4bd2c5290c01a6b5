/**
 * signStream(): a MIME message as a `ReadableStream` in, the signed S/MIME message as a `ReadableStream` out, in
 * memory that does not grow with the message (issue 16; docs/streaming-design.md §2.5).
 *
 * Everything signMessage settles before it reads content is settled before the promise resolves (the same code,
 * src/ops/sign_setup.ts): the options, the signing identity, its intermediates; and the message's header section is
 * read (at most `maxHeaderBytes`) and split as signMessage splits it. A refusal rejects the promise, with nothing
 * emitted.
 * - multipart/signed (the default): the outer headers, the multipart/signed header and boundary, the signed entity as
 *   it comes (made safe to sign on the fly, mime/prepare_stream.ts, and hashed), then the `smime.p7s` part once the
 *   digest is known: a SignedData built by the same builders as signMessage's (cms/signed.ts `signedDataParts`).
 * - opaque (`detached: false`): `application/pkcs7-mime; smime-type=signed-data`, the SignedData in BER with
 *   indefinite lengths, the content a constructed OCTET STRING written while it is hashed (cms/signed_stream.ts), in
 *   base64 lines as it goes, as `openssl cms -sign -stream` writes it.
 * The output is pulled: the input is read one chunk per pull (backpressure end to end).
 */
import { checkProtectionOptions, signPayload } from './ops/header_protection.js';
import type { SignOptions } from './sign.js';
import { concat } from './lib/bytes.js';
import { mimeLimits, resolveLimits } from './lib/limits.js';
import { Base64LineStream } from './lib/base64_stream.js';
import { startHash } from './crypto/incremental_hash.js';
import { signedDataLayout, signedDataParts } from './cms/signed.js';
import { startSignedDataStream } from './cms/signed_stream.js';
import { startCompressedDataStream } from './cms/compressed.js';
import { pkcs7MimeHeader } from './mime/pkcs7_mime.js';
import { prepareStreamedEntity } from './mime/prepare_stream.js';
import { BoundaryWatch, multipartSignedHead, multipartSignedTail, randomBoundary } from './mime/multipart_signed.js';
import { signingSetup } from './ops/sign_setup.js';
import { readStreamedPayload } from './ops/stream_payload.js';
import { MIMELimitExceeded, UnsupportedAlgorithm } from './errors.js';

/** Input bytes handled per step of a pull (a larger input chunk is cut). */
const STEP = 1 << 20;

/** What the two output forms do with the prepared entity: its pieces in, output bytes out. */
interface SignedOutput {
  start: Uint8Array;
  write(pieces: Uint8Array[]): Uint8Array;
  finish(pieces: Uint8Array[]): Promise<Uint8Array>;
}

/**
 * Signs a MIME message read from `input` as `signMessage` does (same options, same identity selection, same
 * signed attributes) and returns the signed message as a stream: multipart/signed by default, opaque signed-data
 * (BER, indefinite lengths) with `detached: false`. The options are checked, the identity selected and the header
 * section read before the promise resolves: a refusal (`CertificateNotFound`, a bad option) rejects it with nothing
 * emitted. With `compress: true` the signed entity is the compressed-data wrapper (RFC 3274, BER written as the
 * content is compressed), as signMessage signs it. `protectHeaders`, `headerConfidentiality` and `legacyDisplay` as
 * signMessage takes them (RFC 9788; for the Legacy Display Element, the first `maxHeaderBytes` of the body are read
 * before the promise resolves: see src/ops/stream_payload.ts). What cannot be made 7-bit on a stream (8-bit data
 * in a part declared 7bit) errors the stream with `MIMEInvalid`: see mime/prepare_stream.ts.
 *
 * @example
 * ```ts
 * const signed = await signStream(Readable.toWeb(createReadStream('mail.eml')), { store, from: 'alice@example.com' });
 * await signed.pipeTo(Writable.toWeb(createWriteStream('signed.eml')));
 * ```
 */
export async function signStream(input: ReadableStream<Uint8Array>, options: SignOptions): Promise<ReadableStream<Uint8Array>> {
  const setup = await signingSetup('signStream', options, () => {
    if (typeof ReadableStream === 'undefined' || !(input instanceof ReadableStream)) throw new TypeError('signStream: input must be a ReadableStream');
    checkProtectionOptions('signStream', options);
  });
  const limits = resolveLimits('signStream: options.limits', options.store.limits, options.limits);
  const reader = input.getReader();
  let prepared;
  let outerHeaders: Uint8Array;
  let hs;
  try {
    // The header section split as signMessage splits it (with protectHeaders, the protected payload; with
    // legacyDisplay, the look-ahead into the body: src/ops/stream_payload.ts).
    hs = await readStreamedPayload(reader, limits.maxHeaderBytes, 'signStream', () => options.legacyDisplay === true, (bytes, open) => signPayload(bytes, options, mimeLimits(limits), open));
    outerHeaders = hs.outerHeaders;
    prepared = prepareStreamedEntity(hs.innerHead, mimeLimits(limits));
  } catch (e) {
    await reader.cancel().catch(() => {});
    throw e;
  }
  const body = prepared.body;
  // The signed entity: the prepared entity itself, or (compress) its compressed-data wrapper written as it comes.
  let entity: { write(pieces: Uint8Array[]): Promise<Uint8Array[]>; end(): Promise<Uint8Array[]> };
  let entityStart: Uint8Array[];
  if (options.compress === true) {
    if (typeof CompressionStream === 'undefined') {
      await reader.cancel().catch(() => {});
      throw new UnsupportedAlgorithm('signStream: compress needs the platform\'s CompressionStream');
    }
    const cd = startCompressedDataStream();
    const b64 = new Base64LineStream();
    entity = {
      async write(pieces) {
        const der: Uint8Array[] = [];
        for (const p of pieces) der.push(...(await cd.update(p)));
        return [b64.write(der)];
      },
      async end() {
        const der = await cd.finish();
        return [b64.write(der), b64.end()];
      },
    };
    entityStart = [pkcs7MimeHeader(new Uint8Array(0), 'compressed-data'), b64.write([cd.head]), ...(await entity.write([prepared.head]))];
  } else {
    entity = { write: async (pieces) => pieces, end: async () => [] };
    entityStart = [prepared.head];
  }
  let out: SignedOutput;
  if (setup.detached) {
    const hash = startHash(setup.contentHash, setup.crypto);
    const boundary = randomBoundary(setup.crypto);
    const watch = new BoundaryWatch(boundary);
    const pass = (pieces: Uint8Array[]): Uint8Array => {
      for (const p of pieces) {
        hash.update(p);
        watch.see(p);
      }
      return concat(pieces);
    };
    out = {
      start: concat([outerHeaders, multipartSignedHead(boundary, setup.micalg), pass(entityStart)]),
      write: pass,
      async finish(pieces) {
        const last = pass(pieces);
        const parts = await signedDataParts(hash.digest(), setup.params);
        return concat([last, multipartSignedTail(boundary, concat(signedDataLayout(parts)))]);
      },
    };
  } else {
    const writer = startSignedDataStream(setup.params);
    const b64 = new Base64LineStream();
    const der: Uint8Array[] = [];
    const sink = (p: Uint8Array): void => void der.push(p);
    const encode = (pieces: Uint8Array[]): Uint8Array => {
      for (const p of pieces) writer.update(p, sink);
      const text = b64.write(der);
      der.length = 0;
      return text;
    };
    out = {
      start: concat([pkcs7MimeHeader(outerHeaders, 'signed-data'), b64.write([writer.head]), encode(entityStart)]),
      write: encode,
      async finish(pieces) {
        const text = encode(pieces);
        await writer.finish(sink);
        const rest = concat([b64.write(der), b64.end()]);
        der.length = 0;
        return concat([text, rest]);
      },
    };
  }

  let started = false;
  let ended = hs.ended;
  const queued = hs.rest.filter((r) => r.length > 0);
  let read = hs.innerHead.length + queued.reduce((n, r) => n + r.length, 0);
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          if (!started) {
            started = true;
            controller.enqueue(out.start);
            return;
          }
          // A pull must enqueue or close: the stream does not pull again on its own after a pull that gave nothing.
          for (;;) {
            let v = queued.shift();
            if (!v) {
              const r = ended ? { done: true as const, value: undefined } : await reader.read();
              if (r.done) {
                ended = true;
                const text = await out.finish([...(await entity.write(body.end())), ...(await entity.end())]);
                if (text.length > 0) controller.enqueue(text);
                controller.close();
                return;
              }
              if (!(r.value instanceof Uint8Array)) throw new TypeError('signStream: input must be a stream of Uint8Array');
              v = r.value;
              read += v.length;
              if (read > limits.maxInputBytes)
                throw new MIMELimitExceeded(`signStream: the input is more than maxInputBytes (${limits.maxInputBytes}) bytes`, { limit: 'maxInputBytes' });
            }
            if (v.length > STEP) {
              queued.unshift(v.subarray(STEP));
              v = v.subarray(0, STEP);
            }
            const text = out.write(await entity.write(body.write(v)));
            if (text.length > 0) {
              controller.enqueue(text);
              return;
            }
          }
        } catch (e) {
          await reader.cancel(e).catch(() => {});
          throw e;
        }
      },
      async cancel(reason) {
        await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
