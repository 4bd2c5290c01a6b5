/**
 * openStream(): openMessage on a stream (issue 16). The layers openMessage peels (EnvelopedData and AuthEnvelopedData
 * decrypted, multipart/signed and opaque signed-data verified, CompressedData decompressed, in any order and nesting,
 * within `maxDepth` and `maxMimeDepth`) are peeled as the bytes come, by composing the stream functions: the head of
 * each layer's content (its header section, and for application/pkcs7-mime or raw DER the first bytes of the CMS,
 * whose ContentInfo names its type) is read and held to choose the next layer, then that layer's reader is piped
 * onto the content, the held bytes first: decryptStream for an envelope, verifyStream (the same verification context
 * for every signed layer, as openMessage shares it: one From binding, one path budget) for a signed layer, the
 * streamed CompressedData reader for compressed data. The innermost content streams out; `done` gathers what each
 * layer's own `done` said into openMessage's OpenResult.
 *
 * What openStream does not do (use openMessage): a message that is not S/MIME at its top (`coverage` 'partial' or
 * 'none': a multipart with some signed parts is walked part by part, which needs the whole message), and what the
 * stream functions refuse at their head (a message that names none of the store's keys, which decryptMessage opens
 * by trial; AuthEnvelopedData with authAttrs). The header protection of the innermost entity (`headers`,
 * `headerProtection`) is read from its first bytes as they go out (mime/payload_prefix.ts: the header section, and
 * `maxHeaderBytes` of body when it protects its fields): a Legacy Display Element past them is reported by neither
 * openStream nor openMessage.
 */
import { MIMEInvalid, MIMELimitExceeded, SmimeError } from './errors.js';
import { mimeLimits, type Limits } from './lib/limits.js';
import { resultStream } from './lib/result_stream.js';
import { decodeOid, readTlv } from './lib/der.js';
import { Base64Decoder } from './lib/base64_stream.js';
import { OIDS, oidName } from './cms/oids.js';
import { getHeader, type Header } from './mime/entity.js';
import { smimeKindOf } from './mime/extract.js';
import { headerSectionEnd } from './mime/stream_head.js';
import { messageFields, readHeaderProtection } from './mime/header_protection.js';
import { PayloadPrefix } from './mime/payload_prefix.js';
import { noteHeaders, verifyContext, type VerifyContext } from './ops/verify_context.js';
import type { SignerResult } from './ops/signer_result.js';
import { decryptStream } from './decrypt_stream.js';
import { CompressedEntityReader } from './ops/compressed_stream.js';
import { InputMeter } from './ops/stream_head.js';
import { verifyStreamIn } from './verify_stream.js';
import { authenticatedOf, type OpenLayer, type OpenOptions, type OpenResult } from './open.js';
import type { DecryptResult } from './decrypt.js';
import type { VerifyResult } from './verify.js';

/** What {@link openStream} resolves to. */
export interface OpenStreamResult {
  /**
   * The innermost entity, byte for byte what openMessage's `content` is, as it comes out of the last layer. Not known
   * good before `done` resolves (an AES-GCM tag, the signatures): write it to a temporary place first.
   */
  content: ReadableStream<Uint8Array>;
  /**
   * openMessage's OpenResult once `content` has been read to its end: `content` empty (it has streamed); `layers`,
   * `signers` (each with its status and reasons), `encrypted`, `authenticated`, `outer` as openMessage gives them;
   * `coverage` 'full'; `headers` and `headerProtection` as openMessage reads them (from the entity's first bytes: a
   * Legacy Display Element beyond `maxHeaderBytes` of its body is not reported, as by openMessage). Rejects with the error
   * the content stream errors with (a bad tag, a truncated input, a limit: a SmimeError).
   */
  done: Promise<OpenResult>;
}

const DEFAULT_DEPTH = 8;

/** The body bytes looked at to find a CMS ContentInfo's type (its SEQUENCE header and OID come first). */
const CMS_PEEK = 4096;

/** One layer being peeled: its kind and what its stream function's `done` will say. */
type Step =
  | { type: 'enveloped'; done: Promise<DecryptResult> }
  | { type: 'signed'; detached: boolean; done: Promise<VerifyResult> }
  | { type: 'compressed'; done: Promise<void> };

/** What the head of a layer's bytes says: the next layer to peel, or content; and the bytes read, to be replayed. */
interface Peeked {
  next: 'enveloped' | 'signed-detached' | 'signed' | 'compressed' | 'content';
  headers: Header[];
  /** The bytes read to decide, then the rest of the input. */
  stream: ReadableStream<Uint8Array>;
}

/** A stream of `held` (already read from `reader`), then the rest of `reader`; cancelling it cancels the reader. */
function replay(held: Uint8Array, reader: ReadableStreamDefaultReader<Uint8Array>, ended: boolean): ReadableStream<Uint8Array> {
  let first: Uint8Array | undefined = held.length > 0 ? held : undefined;
  let done = ended;
  return new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        if (first) {
          c.enqueue(first);
          first = undefined;
          return;
        }
        if (done) return c.close();
        const r = await reader.read();
        if (r.done) {
          done = true;
          return c.close();
        }
        c.enqueue(r.value);
      },
      async cancel(reason) {
        await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * The type of the CMS ContentInfo whose first bytes are `p`: its OID; undefined while `p` is too short to tell;
 * null when `p` does not begin as a ContentInfo (a SEQUENCE, then an OID).
 */
function contentTypeOf(p: Uint8Array): string | null | undefined {
  if (p.length < 2) return undefined;
  if (p[0] !== 0x30) return null;
  let i = 2;
  if (p[1]! & 0x80) {
    const n = p[1]! & 0x7f;
    if (n > 6) return null;
    i += n;
  }
  if (p.length < i + 2) return undefined;
  if (p[i] !== 0x06 || p[i + 1]! & 0x80) return null;
  if (p.length < i + 2 + p[i + 1]!) return undefined;
  try {
    return decodeOid(p, readTlv(p, i, i + 2 + p[i + 1]!));
  } catch {
    return null;
  }
}

/** The next layer a CMS content type opens, as openMessage's walk decides it. */
function layerOf(type: string): Peeked['next'] | undefined {
  if (type === OIDS.envelopedData || type === OIDS.authEnvelopedData) return 'enveloped';
  if (type === OIDS.signedData) return 'signed';
  if (type === OIDS.compressedData) return 'compressed';
  return undefined;
}

/**
 * Reads the head of `input` (held in a doubling buffer: the header section, at most `maxHeaderBytes`, and up to
 * {@link CMS_PEEK} bytes of a CMS body) and decides the next layer as openMessage's walk does: at the top a message
 * that is not S/MIME is refused (`MIMEInvalid`: openMessage walks its parts); further in it is the content.
 */
async function peekLayer(input: ReadableStream<Uint8Array>, limits: Limits, top: boolean): Promise<Peeked> {
  const reader = input.getReader();
  let buf = new Uint8Array(0);
  let n = 0;
  let ended = false;
  const more = async (): Promise<boolean> => {
    if (ended) return false;
    const r = await reader.read();
    if (r.done) {
      ended = true;
      return false;
    }
    if (!(r.value instanceof Uint8Array)) throw new TypeError('openStream: input must be a stream of Uint8Array');
    const v = r.value;
    if (n + v.length > buf.length) {
      const bigger = new Uint8Array(Math.max(n + v.length, 2 * buf.length, 4096));
      bigger.set(buf.subarray(0, n));
      buf = bigger;
    }
    buf.set(v, n);
    n += v.length;
    return true;
  };
  const done = (next: Peeked['next'], headers: Header[] = []): Peeked => ({ next, headers, stream: replay(buf.subarray(0, n), reader, ended) });
  try {
    while (n === 0 && (await more()));
    if (n === 0) {
      if (top) throw new MIMEInvalid('openStream: empty input');
      return done('content');
    }
    /** The layer a CMS body opens, from its first bytes (`from` on, base64 or binary). */
    const cms = async (from: number, base64: boolean, headers: Header[]): Promise<Peeked> => {
      for (;;) {
        const body = buf.subarray(from, n);
        let der: Uint8Array;
        try {
          der = base64 ? new Base64Decoder().write(body) : body;
        } catch (e) {
          if (top) throw e;
          return done('content', headers);
        }
        const type = contentTypeOf(der);
        if (type === undefined && !ended && body.length < CMS_PEEK && (await more())) continue;
        const next = typeof type === 'string' ? layerOf(type) : undefined;
        if (next) return done(next, headers);
        // Inner content that merely starts like DER, or an S/MIME type openMessage does not unwrap: the content.
        if (!top) return done('content', headers);
        if (typeof type === 'string') throw new MIMEInvalid(`not an S/MIME message: the CMS content type is ${oidName(type)}`);
        throw new MIMEInvalid('openStream: not a CMS ContentInfo (expected a SEQUENCE and its content type)');
      }
    };
    if (buf[0] === 0x30) return await cms(0, false, []);
    let end = headerSectionEnd(buf.subarray(0, n));
    for (let from = Math.max(0, n - 3); end < 0 && n <= limits.maxHeaderBytes && (await more()); from = Math.max(0, n - 3)) end = headerSectionEnd(buf.subarray(0, n), from);
    if (end < 0) {
      if (top) throw new MIMELimitExceeded(`openStream: no header section end within maxHeaderBytes (${limits.maxHeaderBytes})`, { limit: 'maxHeaderBytes' });
      return done('content');
    }
    let kind;
    try {
      kind = smimeKindOf(buf.subarray(0, end), limits);
    } catch (e) {
      if (top) throw e;
      return done('content');
    }
    if (kind.kind === 'multipart-signed') return done('signed-detached', kind.headers);
    if (kind.kind === 'pkcs7-mime') {
      const cte = (getHeader(kind, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase();
      return await cms(end, cte === 'base64', kind.headers);
    }
    if (top) throw new MIMEInvalid(`openStream: not S/MIME at the top (Content-Type ${kind.type || '(none)'}): openMessage reads the S/MIME parts of such a message`);
    return done('content', kind.headers);
  } catch (e) {
    await reader.cancel(e).catch(() => {});
    throw e;
  }
}

/** A CompressedData entity (RFC 3274) decompressed as it streams, within the decompression limits. */
function decompressStream(input: ReadableStream<Uint8Array>, limits: Limits): { content: ReadableStream<Uint8Array>; done: Promise<void> } {
  const reader = input.getReader();
  const cms = new CompressedEntityReader(limits);
  const meter = new InputMeter('openStream', limits.maxInputBytes);
  return resultStream<void>(
    'openStream',
    async () => {
      const r = await reader.read();
      const out = r.done ? await cms.finish() : await cms.push(meter.take(r.value));
      return r.done ? { out, end: true, result: undefined } : { out };
    },
    async (reason) => {
      cms.cancel();
      await reader.cancel(reason);
    },
  );
}

/** openMessage's result from what each layer's `done` said. */
async function resultOf(steps: readonly Step[], outerHeaders: readonly Header[], maxDepth: number, limits: Limits): Promise<OpenResult> {
  const settled = await Promise.allSettled(steps.map((s) => s.done));
  // The first error that says what went wrong (a layer cancelled by another's failure repeats that failure).
  const failed = settled.find((r) => r.status === 'rejected' && r.reason instanceof SmimeError) ?? settled.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  const layers: OpenLayer[] = [];
  const signers: SignerResult[] = [];
  steps.forEach((s, i) => {
    const v = (settled[i] as PromiseFulfilledResult<unknown>).value;
    if (s.type === 'enveloped') {
      const d = v as DecryptResult;
      layers.push({ type: d.type, cipher: d.cipher, keyTransport: d.keyTransport, authenticated: d.authenticated, legacy: d.legacy, recipient: d.recipient });
      if (d.compressed) layers.push({ type: 'compressed', algorithm: 'zlib' });
    } else if (s.type === 'signed') {
      const r = v as VerifyResult;
      if (r.certsOnly) {
        layers.push({ type: 'certs-only', certificates: r.certsOnly });
        return;
      }
      layers.push({ type: 'signed', detached: s.detached, signers: r.signers });
      signers.push(...r.signers);
      if (r.compressed) layers.push({ type: 'compressed', algorithm: 'zlib' });
    } else layers.push({ type: 'compressed', algorithm: 'zlib' });
  });
  // A compressed layer inside an envelope or a signature is known only now: the depth limits, as openMessage counts.
  if (layers.length > maxDepth) throw new MIMELimitExceeded(`openStream: more than ${maxDepth} S/MIME layers`, { limit: 'maxDepth' });
  if (layers.length > limits.maxMimeDepth) throw new MIMELimitExceeded(`openStream: more than maxMimeDepth (${limits.maxMimeDepth}) S/MIME layers`, { limit: 'maxMimeDepth' });
  const encrypted = layers.some((l) => l.type === 'enveloped' || l.type === 'authEnveloped');
  return { content: new Uint8Array(0), layers, signers, encrypted, authenticated: authenticatedOf(layers), outer: messageFields(outerHeaders), coverage: 'full' };
}

/**
 * Opens a message read from `input` as `openMessage` does (every encryption, signature and compression layer, outermost
 * first), streaming the innermost entity out as it comes: `content`, and `done` with openMessage's result once the
 * content has been read to its end (see {@link OpenStreamResult}). **Do not act on the content before `done`
 * resolves** and says the layers and signers are what you require. The head of each layer is read before the promise
 * resolves: a message that is not S/MIME at its top or that names none of the store's
 * keys rejects it (`SmimeError`s: use openMessage, which reads them all). Then a bad tag or padding,
 * a truncated input or a limit errors `content` and rejects `done`.
 *
 * @example
 * ```ts
 * const { content, done } = await openStream(Readable.toWeb(createReadStream('mail.eml')), { store });
 * await content.pipeTo(Writable.toWeb(createWriteStream('mail.tmp')));
 * const { layers, signers, authenticated } = await done;
 * ```
 */
export async function openStream(input: ReadableStream<Uint8Array>, options: OpenOptions): Promise<OpenStreamResult> {
  const maxDepth = options?.maxDepth ?? DEFAULT_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth <= 0) throw new RangeError('openStream: maxDepth must be a positive integer');
  const ctx: VerifyContext = verifyContext(options, [], 'openStream');
  if (typeof ReadableStream === 'undefined' || !(input instanceof ReadableStream)) throw new TypeError('openStream: input must be a ReadableStream');
  const limits = ctx.limits;
  const steps: Step[] = [];
  let outerHeaders: Header[] = [];
  let cur = input;
  let known = 0; // layers known at their head (a compressed layer inside an envelope or a signature is known at the end)
  for (;;) {
    const p = await peekLayer(cur, limits, steps.length === 0);
    if (steps.length === 0) outerHeaders = p.headers;
    cur = p.stream;
    if (p.next === 'content') break;
    try {
      if (known >= maxDepth) throw new MIMELimitExceeded(`openStream: more than ${maxDepth} S/MIME layers`, { limit: 'maxDepth' });
      if (known >= limits.maxMimeDepth) throw new MIMELimitExceeded(`openStream: more than maxMimeDepth (${limits.maxMimeDepth}) S/MIME layers`, { limit: 'maxMimeDepth' });
      noteHeaders(ctx, p.headers);
      if (p.next === 'enveloped') {
        const r = await decryptStream(cur, { store: ctx.store, ...(ctx.crypto ? { crypto: ctx.crypto } : {}), ...(options.policy ? { policy: options.policy } : {}), limits });
        steps.push({ type: 'enveloped', done: r.done });
        cur = r.content;
      } else if (p.next === 'compressed') {
        const r = decompressStream(cur, limits);
        steps.push({ type: 'compressed', done: r.done });
        cur = r.content;
      } else {
        const r = await verifyStreamIn(cur, ctx);
        steps.push({ type: 'signed', detached: p.next === 'signed-detached', done: r.done });
        cur = r.content;
      }
      known++;
    } catch (e) {
      await cur.cancel(e).catch(() => {});
      throw e;
    }
  }
  // The innermost entity's first bytes, seen as they go out, give openMessage's `headers` and `headerProtection`.
  const prefix = new PayloadPrefix(limits.maxHeaderBytes);
  const content = tapped(cur, prefix);
  // `content` and `done` fail together; a caller awaiting only one of them sees the error there.
  const done = resultOf(steps, outerHeaders, maxDepth, limits).then((result) => {
    const hp = readHeaderProtection(prefix.bytes, outerHeaders, result.encrypted, mimeLimits(limits), !prefix.whole);
    if (hp) {
      result.headers = hp.headers;
      result.headerProtection = hp;
    }
    return result;
  });
  done.catch(() => {});
  return { content, done };
}

/** `input` passed on as it is pulled, each piece shown to `prefix` first. */
function tapped(input: ReadableStream<Uint8Array>, prefix: PayloadPrefix): ReadableStream<Uint8Array> {
  const reader = input.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const r = await reader.read();
          if (r.done) {
            controller.close();
            return;
          }
          prefix.see(r.value);
          controller.enqueue(r.value);
        } catch (e) {
          controller.error(e);
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}
