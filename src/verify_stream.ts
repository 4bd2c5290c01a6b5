/**
 * verifyStream(): a signed S/MIME message as a `ReadableStream` in; the signed content as a `ReadableStream` out, and
 * the signers' results once the input has ended, in memory that does not grow with the message (issue 16;
 * docs/streaming-design.md §2.3, §2.5).
 *
 * - multipart/signed: a delimiter scanner over the pieces (mime/multipart_signed_stream.ts) hands the first part on,
 *   canonical, as it comes (it is hashed and is the content), and collects the signature part (within
 *   `maxCmsHeaderBytes`). The hashes run are those the `micalg` parameter names (SHA-256, SHA-384, SHA-512 and SHA-1
 *   when it names none that smime-core knows): a signer whose digest algorithm was not run is
 *   `digest-not-computed: <hash>`.
 * - opaque signed-data (application/pkcs7-mime in base64 or binary, or raw DER/BER): the SignedData is read by
 *   cms/signed_stream.ts `SignedDataStreamReader` — the digestAlgorithms before the content, the eContent hashed and
 *   handed on as it streams, the certificates, CRLs and SignerInfos captured after it.
 * Then every signer is judged by the code verifyMessage runs (src/ops/signed_cms.ts `judgeSigners`, with the digests
 * in place of the content): same statuses, reasons and signers. The content stream errors on a structure error, and
 * `done` rejects with the same error; hostile input ends in a `SmimeError`.
 */
import { CMSInvalid, MIMEInvalid } from './errors.js';
import { concat } from './lib/bytes.js';
import { resultStream } from './lib/result_stream.js';
import { mimeLimits, berLimits } from './lib/limits.js';
import { withBerLimits } from './lib/der.js';
import { Base64Decoder } from './lib/base64_stream.js';
import { DIGESTS, type HashName } from './crypto/algorithms.js';
import { startHash, type HashStream } from './crypto/incremental_hash.js';
import { parseSignedData, type ContentDigests, type ParsedSignedData } from './cms/signed.js';
import { SignedDataStreamReader } from './cms/signed_stream.js';
import { getHeader, type Header } from './mime/entity.js';
import { smimeKindOf } from './mime/extract.js';
import { multipartSignedParams, signaturePart } from './mime/multipart_signed.js';
import { MultipartSignedScanner } from './mime/multipart_signed_stream.js';
import { PayloadPrefix } from './mime/payload_prefix.js';
import { readHeaderProtection } from './mime/header_protection.js';
import { certsOnlyX509, judgeSigners } from './ops/signed_cms.js';
import { CompressedContentStream } from './ops/compressed_stream.js';
import { InputMeter, readHeadSection } from './ops/stream_head.js';
import { noteHeaders, verifyContext, type VerifyContext, type VerifyOptions } from './ops/verify_context.js';
import type { VerifyResult } from './verify.js';

/** Input bytes handled per step of a pull (a larger input chunk is cut). */
const STEP = 1 << 20;

/**
 * Content up to this size is also kept whole while it streams (memory stays bounded), for what digests cannot answer:
 * a SignerInfo without signed attributes (its signature is over the content), a digest the stream did not run.
 */
const KEEP_CONTENT = 1 << 20;

/** Keeps the content whole while it is at most {@link KEEP_CONTENT} bytes. */
class SmallContent {
  #parts: Uint8Array[] | undefined = [];
  #n = 0;

  see(b: Uint8Array): void {
    if (!this.#parts) return;
    this.#n += b.length;
    if (this.#n > KEEP_CONTENT) this.#parts = undefined;
    else this.#parts.push(b.slice());
  }

  get content(): Uint8Array | undefined {
    return this.#parts ? concat(this.#parts) : undefined;
  }
}

/**
 * The longest line a multipart/signed delimiter may have on a stream ("--boundary" and transport padding), held until
 * its end shows whether it is one (RFC 5322 lines are at most 998 bytes).
 */
const MAX_DELIMITER_LINE = 4096;

/** The hashes run over a multipart/signed entity whose micalg names none smime-core knows. */
const DEFAULT_MULTIPART_HASHES: readonly HashName[] = ['SHA-256', 'SHA-384', 'SHA-512', 'SHA-1'];

/** The verification in progress: input pieces in, content pieces out; at the end, the result. */
interface StreamCore {
  write(piece: Uint8Array, out: Uint8Array[]): void;
  end(out: Uint8Array[]): () => Promise<VerifyResult>;
}

/** The result, with the content's compression noted (as verifyMessage's `withContent` does). */
function withCompressed(r: VerifyResult, inner: CompressedContentStream): VerifyResult {
  return inner.compressed && !r.certsOnly ? { ...r, compressed: true } : r;
}

function hashNamesOfMicalg(micalg: string | undefined): HashName[] {
  const names: HashName[] = [];
  for (const m of (micalg ?? '').split(',')) {
    const d = Object.values(DIGESTS).find((x) => x.micalg === m.trim());
    if (d && !names.includes(d.name)) names.push(d.name);
  }
  return names.length > 0 ? names : [...DEFAULT_MULTIPART_HASHES];
}

function multipartCore(entity: { headers: readonly Header[] }, ctx: VerifyContext): StreamCore {
  const { boundary, micalg } = multipartSignedParams(entity);
  const hashers: { oid: string; hash: HashStream }[] = hashNamesOfMicalg(micalg).map((n) => ({ oid: DIGESTS[n].oid, hash: startHash(n, ctx.crypto) }));
  const prefix = new PayloadPrefix(ctx.limits.maxHeaderBytes);
  const small = new SmallContent();
  let out: Uint8Array[] = [];
  const scanner = new MultipartSignedScanner(
    boundary,
    (c) => {
      for (const h of hashers) h.hash.update(c);
      prefix.see(c);
      small.see(c);
      out.push(c);
    },
    { maxSignaturePartBytes: ctx.limits.maxCmsHeaderBytes, maxLineBytes: MAX_DELIMITER_LINE },
  );
  return {
    write(piece, o) {
      out = o;
      scanner.push(piece);
    },
    end(o) {
      out = o;
      const sigPart = scanner.finish();
      const der = signaturePart(sigPart, mimeLimits(ctx.limits)).signature;
      const sd: ParsedSignedData = withBerLimits(berLimits(ctx.limits), () => parseSignedData(der, ctx.limits));
      const digests: ContentDigests = { digests: new Map(hashers.map((h) => [h.oid, h.hash.digest()])), content: small.content };
      return async () => ({ content: new Uint8Array(0), signers: await judgeSigners(sd, digests, () => prefix.headers(), ctx, prefix.bytes), detached: true });
    },
  };
}

function opaqueCore(base64: boolean, ctx: VerifyContext): StreamCore {
  const decoder = base64 ? new Base64Decoder() : undefined;
  const prefix = new PayloadPrefix(ctx.limits.maxHeaderBytes);
  const small = new SmallContent();
  let out: Uint8Array[] = [];
  let contentBytes = 0;
  const reader = new SignedDataStreamReader(
    (b) => {
      prefix.see(b);
      small.see(b);
      contentBytes += b.length;
      out.push(b);
    },
    ctx.limits,
    ctx.crypto,
  );
  return {
    write(piece, o) {
      out = o;
      reader.push(decoder ? decoder.write(piece) : piece);
    },
    end(o) {
      out = o;
      if (decoder) reader.push(decoder.end());
      const r = reader.finish();
      // RFC 8551 §3.6: no content and no signer is a certs-only message, a result (as verifyMessage says).
      if (r.sd.signerInfos.length === 0 && contentBytes === 0) {
        return async () => ({ content: new Uint8Array(0), signers: [], detached: false, certsOnly: certsOnlyX509(r.sd.certificates, ctx) });
      }
      if (!r.hadContent) throw new CMSInvalid('signed-data has no content (a detached signature without the signed part)');
      const digests: ContentDigests = { ...r.digests, content: small.content };
      return async () => ({ content: new Uint8Array(0), signers: await judgeSigners(r.sd, digests, () => prefix.headers(), ctx, prefix.bytes), detached: false });
    },
  };
}

/**
 * Verifies a signed message read from `input` (multipart/signed, or opaque signed-data in base64, binary or raw
 * DER/BER) as `verifyMessage` does, streaming the signed content out as it is read and hashed: `content` is the
 * signed entity's bytes as verifyMessage returns them (multipart/signed: the first part, CRLF), and `done` resolves,
 * once the input has ended, with the VerifyResult verifyMessage gives (its `content` empty: it has streamed). **Do not
 * act on the content before `done` resolves and says the signers are valid.** The options are checked and the
 * message's header section read (at most `maxHeaderBytes`) before the promise resolves: input that is not a signed
 * message rejects it. Then a structure error, a truncated input or a limit errors `content` and rejects `done`
 * (`SmimeError`s). `done` settles only as `content` is read (read it to its end); cancelling `content` rejects `done`.
 * Compressed content (RFC 3274, compress then sign) is decompressed as verifyMessage does (`compressed` set), as it
 * streams (the compressed bytes are hashed, as the signature needs), within `maxDecompressedBytes` and
 * `maxDecompressionRatio` counted as the bytes come out (`CMSLimitExceeded`). A SignerInfo without signed attributes
 * (its signature over the content itself) is checked against the content's digest when it is RSA (PKCS#1 v1.5 or
 * PSS) or ECDSA, as strictly as verifyMessage checks it; an EdDSA one over content larger than 1 MiB is
 * `unsupported-in-stream: no signed attributes` (PureEdDSA hashes the signature's R before the content, and R comes
 * after it: crypto/signatures.ts `verifySignatureOverDigest`).
 * Header protection (RFC 9788): the signed entity's protected From is the binding and `headerProtection` is reported
 * as verifyMessage does, read from the entity's first bytes (as decryptStream does: see its note on the legacy display).
 *
 * @example
 * ```ts
 * const { content, done } = await verifyStream(Readable.toWeb(createReadStream('signed.eml')), { store });
 * await content.pipeTo(Writable.toWeb(createWriteStream('content.tmp')));
 * const { signers } = await done;
 * ```
 */
export async function verifyStream(
  input: ReadableStream<Uint8Array>,
  options: VerifyOptions,
): Promise<{
  /** The signed content as it is hashed; not known good before `done` says so. */
  content: ReadableStream<Uint8Array>;
  /** The VerifyResult verifyMessage gives (its `content` empty), once `content` has been read to its end. */
  done: Promise<VerifyResult>;
}> {
  return verifyStreamIn(input, verifyContext(options, [], 'verifyStream'));
}

/**
 * Internal: {@link verifyStream} in the context of a caller that verifies several layers in one call (openStream:
 * one From binding, path budget and harvest for every signed layer, as openMessage shares them).
 */
export async function verifyStreamIn(
  input: ReadableStream<Uint8Array>,
  ctx: VerifyContext,
): Promise<{ content: ReadableStream<Uint8Array>; done: Promise<VerifyResult> }> {
  if (typeof ReadableStream === 'undefined' || !(input instanceof ReadableStream)) throw new TypeError('verifyStream: input must be a ReadableStream');
  const limits = ctx.limits;
  const reader = input.getReader();
  let core: StreamCore;
  let hs;
  let outerHeaders: Header[] = [];
  try {
    hs = await readHeadSection(reader, limits.maxHeaderBytes, 'verifyStream', (h) => h[0] === 0x30);
    if (hs.headers.length === 0 && hs.rest[0] === 0x30) core = opaqueCore(false, ctx);
    else {
      const k = smimeKindOf(hs.headers, limits);
      noteHeaders(ctx, k.headers);
      outerHeaders = k.headers;
      if (k.kind === 'multipart-signed') core = multipartCore(k, ctx);
      else if (k.kind === 'pkcs7-mime') {
        const cte = (getHeader(k, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase();
        if (cte !== 'base64' && cte !== '7bit' && cte !== '8bit' && cte !== 'binary') throw new MIMEInvalid(`S/MIME body: unsupported Content-Transfer-Encoding "${cte}"`);
        core = opaqueCore(cte === 'base64', ctx);
      } else throw new MIMEInvalid(`not a signed message: Content-Type is ${k.type || '(none)'}`);
    }
  } catch (e) {
    await reader.cancel(e).catch(() => {});
    throw e;
  }

  let ended = hs.ended;
  let pending: Uint8Array | undefined = hs.rest.length > 0 ? hs.rest : undefined;
  const meter = new InputMeter('verifyStream', limits.maxInputBytes, hs.headers.length + hs.rest.length);
  // The signed content, decompressed on its way out when it is a compressed-data entity (it is hashed as signed).
  const inner = new CompressedContentStream(limits);
  // The content as it goes out (decompressed when it was compressed data): its header protection is read from its
  // first bytes, as verifyMessage reads it from the whole (see mime/payload_prefix.ts).
  const payload = new PayloadPrefix(limits.maxHeaderBytes);
  const outer = outerHeaders;
  const withProtection = (r: VerifyResult): VerifyResult => {
    if (r.certsOnly) return r;
    const hp = readHeaderProtection(payload.bytes, outer, false, mimeLimits(limits), !payload.whole);
    return hp ? { ...r, headerProtection: hp } : r;
  };
  return resultStream<VerifyResult>(
    'verifyStream',
    async () => {
      const raw: Uint8Array[] = [];
      const out: Uint8Array[] = [];
      let v = pending;
      pending = undefined;
      if (!v) {
        const r = ended ? { done: true as const, value: undefined } : await reader.read();
        if (r.done) {
          ended = true;
          const judge = core.end(raw);
          out.push(...(await inner.push(raw)), ...(await inner.finish()));
          for (const p of out) payload.see(p);
          const result = withProtection(withCompressed(await judge(), inner));
          return { out, end: true, result };
        }
        v = meter.take(r.value);
      }
      if (v.length > STEP) {
        pending = v.subarray(STEP);
        v = v.subarray(0, STEP);
      }
      core.write(v, raw);
      out.push(...(await inner.push(raw)));
      for (const p of out) payload.see(p);
      return { out };
    },
    async (reason) => {
      inner.cancel();
      await reader.cancel(reason);
    },
  );
}
