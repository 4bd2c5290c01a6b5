/**
 * Compressed layers (RFC 3274, RFC 8551 §3.6) for the operations: wrapping a MIME entity into an
 * `application/pkcs7-mime; smime-type=compressed-data` entity before it is signed or encrypted, and unwrapping one
 * found inside a decrypted or verified layer.
 */
import { SmimeError } from '../errors.js';
import { mimeLimits, type Limits } from '../lib/limits.js';
import { buildCompressedData, compressedDataStream, decompressCms } from '../cms/compressed.js';
import { Base64LineStream } from '../lib/base64_stream.js';
import { readContentInfo } from '../cms/enveloped.js';
import { OIDS } from '../cms/oids.js';
import { buildPkcs7Mime, pkcs7MimeHeader } from '../mime/pkcs7_mime.js';
import { extractCms, smimeKindOf } from '../mime/extract.js';
import { equal } from '../lib/bytes.js';
import { decodeBase64 } from '../lib/base64.js';
import { oid } from '../lib/der.js';
import { getHeader, parseEntity } from '../mime/entity.js';
import { headerSectionEnd } from '../mime/stream_head.js';

const NO_HEADERS = new Uint8Array(0);

/**
 * The MIME entity `entity` compressed (zlib) into an `application/pkcs7-mime; smime-type=compressed-data;
 * name="smime.p7z"` entity, base64 in CRLF lines: 7-bit, canonical, ready to be signed or encrypted.
 */
export async function compressEntity(entity: Uint8Array): Promise<Uint8Array> {
  return buildPkcs7Mime(NO_HEADERS, 'compressed-data', await buildCompressedData(entity));
}

/**
 * {@link compressEntity} for a stream (encryptStream with `compress: true`): the entity read as the output is pulled,
 * compressed into a BER CompressedData (`compressedDataStream`), in base64 lines after the compressed-data headers.
 */
export function compressEntityStream(entity: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const cms = compressedDataStream(entity).getReader();
  const b64 = new Base64LineStream();
  let started = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!started) {
          started = true;
          controller.enqueue(pkcs7MimeHeader(NO_HEADERS, 'compressed-data'));
          return;
        }
        for (;;) {
          const r = await cms.read();
          if (r.done) {
            const last = b64.end();
            if (last.length > 0) controller.enqueue(last);
            controller.close();
            return;
          }
          const text = b64.write([r.value]);
          if (text.length > 0) {
            controller.enqueue(text);
            return;
          }
        }
      },
      cancel(reason) {
        return cms.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

const COMPRESSED_DATA_OID = oid(OIDS.compressedData);

/** Whether `der` starts as a ContentInfo of type id-ct-compressedData: a SEQUENCE header, then that OID. */
function startsAsCompressedData(der: Uint8Array): boolean {
  if (der[0] !== 0x30 || der.length < 2) return false;
  const l = der[1]!;
  const p = 2 + (l > 0x80 ? l & 0x7f : 0);
  return equal(der.subarray(p, p + COMPRESSED_DATA_OID.length), COMPRESSED_DATA_OID);
}

/** The first bytes (about 30) of an application/pkcs7-mime entity's body, base64-decoded when it is base64. */
function headOfBody(entity: Uint8Array, limits: Limits): Uint8Array {
  const e = parseEntity(entity, mimeLimits(limits));
  if ((getHeader(e, 'content-transfer-encoding') ?? '').trim().toLowerCase() !== 'base64') return e.body;
  const chars: number[] = [];
  for (let i = 0; i < e.body.length && chars.length < 40; i++) {
    const c = e.body[i]!;
    if (c !== 0x0d && c !== 0x0a && c !== 0x20 && c !== 0x09) chars.push(c);
  }
  return decodeBase64(Uint8Array.from(chars.slice(0, chars.length & ~3)));
}

/**
 * Whether `head` (the whole content, or its first bytes: its header section and at least 64 bytes of body) starts as
 * a compressed-data entity or raw CompressedData DER: the look at the first bytes {@link compressedCms} takes before
 * decoding anything (verifyStream takes it on the head of a streamed content).
 */
export function startsAsCompressedEntity(head: Uint8Array, limits: Limits): boolean {
  // A large signed or enveloped entity is not decoded just to learn it is not this one. Content that is not MIME, or
  // not CMS, is content (whatever fails here): only a CompressedData is unwrapped.
  try {
    const k = smimeKindOf(head, limits);
    if (k.kind !== 'pkcs7-mime' && k.kind !== 'der') return false;
    return startsAsCompressedData(k.kind === 'der' ? head : headOfBody(head, limits));
  } catch (e) {
    if (e instanceof SmimeError) return false;
    throw e;
  }
}

/**
 * The CompressedData ContentInfo of `content` when it is a compressed-data entity (or raw CompressedData DER), else
 * undefined. Goes by the ContentInfo's OID, not the `smime-type` label.
 */
export function compressedCms(content: Uint8Array, limits: Limits): Uint8Array | undefined {
  if (!startsAsCompressedEntity(content, limits)) return undefined;
  // It says it is a CompressedData: from here a malformed one is an error.
  const der = extractCms(content, mimeLimits(limits)).der;
  return readContentInfo(der).type === OIDS.compressedData ? der : undefined;
}

/**
 * Whether decrypted content that begins with `head` is a compressed-data entity (or raw CompressedData DER), by the
 * same look as {@link compressedCms}: `undefined` while `head` is too short to tell (the header section not ended,
 * or fewer than 64 body bytes; `ended`: there is no more), and `false` once `head` is past `maxHeaderBytes` without
 * an answer. For the stream decryption, which holds the head of the content until it knows.
 */
export function compressedHead(head: Uint8Array, ended: boolean, limits: Limits): boolean | undefined {
  if (head.length === 0) return ended ? false : undefined;
  const enough = (n: number): boolean => ended || head.length >= n;
  if (head[0] === 0x30) return enough(32) ? startsAsCompressedData(head) : undefined;
  const end = headerSectionEnd(head);
  if (end < 0 && !ended) return head.length > limits.maxHeaderBytes ? false : undefined;
  if (!enough(end + 64)) return undefined;
  try {
    const k = smimeKindOf(head, limits);
    if (k.kind !== 'pkcs7-mime') return false;
    return startsAsCompressedData(headOfBody(head, limits));
  } catch (e) {
    if (e instanceof SmimeError) return false;
    throw e;
  }
}

/**
 * `content` decompressed when it is a compressed-data entity (see {@link compressedCms}), with `compressed` true;
 * else `content` as is. Bounded by `maxDecompressedBytes` (`CMSLimitExceeded`); a corrupt stream is `CMSInvalid`, an
 * algorithm other than zlib `UnsupportedAlgorithm`.
 */
export async function decompressContent(content: Uint8Array, limits: Limits): Promise<{ content: Uint8Array; compressed: boolean }> {
  const der = compressedCms(content, limits);
  if (der === undefined) return { content, compressed: false };
  return { content: (await decompressCms(der, limits)).content, compressed: true };
}
