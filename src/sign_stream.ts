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
import { checkProtectionOptions, signPayload, type HeaderProtectionOptions } from './ops/header_protection.js';
import type { SignOptions } from './sign.js';
import { concat } from './lib/bytes.js';
import { mimeLimits, resolveLimits, type Limits } from './lib/limits.js';
import { Base64LineStream } from './lib/base64_stream.js';
import { startHash } from './crypto/incremental_hash.js';
import { signedDataLayout, signedDataParts } from './cms/signed.js';
import { startSignedDataStream } from './cms/signed_stream.js';
import { startCompressedDataStream } from './cms/compressed.js';
import { pkcs7MimeHeader } from './mime/pkcs7_mime.js';
import { prepareStreamedEntity, type BodyPreparer, type LeafDecision } from './mime/prepare_stream.js';
import { BoundaryWatch, multipartSignedHead, multipartSignedTail, randomBoundary } from './mime/multipart_signed.js';
import { signingSetup } from './ops/sign_setup.js';
import { readStreamedPayload, type StreamedPayload } from './ops/stream_payload.js';
import { UnsupportedAlgorithm } from './errors.js';
import { InputMeter } from './ops/stream_head.js';

/** Input bytes handled per step of a pull (a larger input chunk is cut). */
const STEP = 1 << 20;

/**
 * What {@link scanForSigning} found in a message: for each leaf of its MIME tree (in order), whether its body is 7-bit
 * clean once its line ends are canonical (no byte ≥ 0x80, no NUL, no line over 998 bytes). Given to
 * {@link signStream} as `scan` with the same bytes, it makes the stream encode every part as `signMessage` does.
 */
export interface SigningScan {
  /** Per leaf, in the order the parts come: its canonical body is 7-bit clean. */
  readonly clean: readonly boolean[];
  /** The count of bytes read. */
  readonly bytes: number;
}

/** The options of {@link signStream}: `signMessage`'s, and how parts whose body is not seen in advance are encoded. */
export interface SignStreamOptions extends SignOptions {
  /**
   * A text/* part declared 7bit, or without a Content-Transfer-Encoding (a plain text message), is written as it
   * comes and checked as it goes: with 'refuse' (the default) 8-bit data or a line over 998 bytes in it errors the
   * stream half-way (`MIMEInvalid`); with 'quoted-printable' every such part is written quoted-printable from the
   * start (its header precedes its body, so this is decided before the body is seen), and nothing is refused: the
   * choice for input that cannot be read twice (a pipe). Either way the signature verifies; only 'refuse' (on
   * clean input) or `scan` give signMessage's bytes. Ignored when `scan` is given.
   */
  sevenBitText?: 'refuse' | 'quoted-printable';
  /**
   * What {@link scanForSigning} read from the same bytes: every part is then encoded as `signMessage` encodes it
   * (kept when 7-bit clean, else quoted-printable for text and base64 for the rest), so the signed entity is
   * signMessage's byte for byte. Input that differs from what was scanned errors the stream (`MIMEInvalid`).
   */
  scan?: SigningScan;
}

/**
 * The message's head read from `reader` and split as signMessage splits it (with `protectHeaders`, the protected
 * payload; with `legacyDisplay`, the look-ahead into the body: src/ops/stream_payload.ts): the outer headers, and the
 * signed entity's prepared head and body preparer.
 */
async function readSigningHead(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  limits: Limits,
  decision: LeafDecision,
  what: string,
  options: HeaderProtectionOptions,
): Promise<{ hs: StreamedPayload; outerHeaders: Uint8Array; head: Uint8Array; body: BodyPreparer }> {
  const L = mimeLimits(limits);
  const hs = await readStreamedPayload(reader, limits.maxHeaderBytes, what, () => options.legacyDisplay === true, (bytes, open) => signPayload(bytes, options, L, open));
  const prepared = prepareStreamedEntity(hs.innerHead, L, decision);
  return { hs, outerHeaders: hs.outerHeaders, head: prepared.head, body: prepared.body };
}

/**
 * Reads a message once, in constant memory, to learn how `signMessage` would encode each of its parts (see
 * {@link SigningScan}): the first of two passes over input that can be read twice (a file). Then
 * `signStream(sameBytes, { ...options, scan })` writes exactly what `signMessage` writes; give both the same
 * header-protection options (`protectHeaders`, `headerConfidentiality`, `legacyDisplay`), which decide the entity signed. A structure error
 * (`MIMEInvalid`, a limit) rejects, as signStream's stream would error.
 *
 * @example
 * ```ts
 * const scan = await scanForSigning(Readable.toWeb(createReadStream('mail.eml')), { store });
 * const signed = await signStream(Readable.toWeb(createReadStream('mail.eml')), { store, from: 'alice@example.com', scan });
 * ```
 */
export async function scanForSigning(
  input: ReadableStream<Uint8Array>,
  options: Pick<SignOptions, 'store' | 'limits' | 'protectHeaders' | 'headerConfidentiality' | 'legacyDisplay'>,
): Promise<SigningScan> {
  if (typeof ReadableStream === 'undefined' || !(input instanceof ReadableStream)) throw new TypeError('scanForSigning: input must be a ReadableStream');
  const limits = resolveLimits('scanForSigning: options.limits', options?.store?.limits, options?.limits);
  const reader = input.getReader();
  const clean: boolean[] = [];
  try {
    checkProtectionOptions('scanForSigning', options);
    const { hs, body } = await readSigningHead(reader, limits, { mode: 'scan', clean }, 'scanForSigning', options);
    const meter = new InputMeter('scanForSigning', limits.maxInputBytes, hs.outerHeaders.length + hs.innerHead.length + hs.rest.reduce((n, r) => n + r.length, 0));
    for (const r of hs.rest) if (r.length > 0) body.write(r);
    if (!hs.ended) {
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        const v = meter.take(r.value);
        for (let at = 0; at < v.length; at += STEP) body.write(v.subarray(at, at + STEP));
      }
    }
    body.end();
    return { clean, bytes: meter.bytes };
  } catch (e) {
    await reader.cancel(e).catch(() => {});
    throw e;
  }
}

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
 * before the promise resolves: see src/ops/stream_payload.ts). Each part's transfer encoding is decided before its
 * body is seen (mime/prepare_stream.ts): by default from its headers, and 8-bit data in a text part declared 7bit (or
 * undeclared) errors the stream half-way with `MIMEInvalid`; `sevenBitText: 'quoted-printable'` encodes such parts
 * quoted-printable from the start (for a pipe), and `scan` (from {@link scanForSigning} over the same bytes and the
 * same protection options, for a file) encodes every part as signMessage does, byte for byte.
 *
 * @example
 * ```ts
 * const signed = await signStream(Readable.toWeb(createReadStream('mail.eml')), { store, from: 'alice@example.com' });
 * await signed.pipeTo(Writable.toWeb(createWriteStream('signed.eml')));
 * ```
 */
export async function signStream(input: ReadableStream<Uint8Array>, options: SignStreamOptions): Promise<ReadableStream<Uint8Array>> {
  const setup = await signingSetup('signStream', options, () => {
    if (typeof ReadableStream === 'undefined' || !(input instanceof ReadableStream)) throw new TypeError('signStream: input must be a ReadableStream');
    checkProtectionOptions('signStream', options);
    const t = options.sevenBitText;
    if (t !== undefined && t !== 'refuse' && t !== 'quoted-printable') throw new RangeError("signStream: options.sevenBitText must be 'refuse' or 'quoted-printable'");
    const sc = options.scan;
    if (sc !== undefined && (typeof sc !== 'object' || sc === null || !Array.isArray(sc.clean) || !sc.clean.every((c) => typeof c === 'boolean')))
      throw new TypeError('signStream: options.scan must be what scanForSigning returned');
  });
  const limits = resolveLimits('signStream: options.limits', options.store.limits, options.limits);
  const decision: LeafDecision = options.scan ? { mode: 'scanned', clean: [...options.scan.clean] } : { mode: 'label', reencode: options.sevenBitText === 'quoted-printable' };
  const reader = input.getReader();
  let prepared;
  let outerHeaders: Uint8Array;
  let hs;
  try {
    ({ hs, outerHeaders, ...prepared } = await readSigningHead(reader, limits, decision, 'signStream', options));
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
  const meter = new InputMeter('signStream', limits.maxInputBytes, hs.innerHead.length + queued.reduce((n, r) => n + r.length, 0));
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
              v = meter.take(r.value);
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
