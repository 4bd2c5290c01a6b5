/**
 * Compressed layers (RFC 3274, RFC 8551 §3.6) for the operations: wrapping a MIME entity into an
 * `application/pkcs7-mime; smime-type=compressed-data` entity before it is signed or encrypted, and unwrapping one
 * found inside a decrypted or verified layer.
 */
import { CMSInvalid, MIMEInvalid } from '../errors.js';
import type { Limits } from '../lib/limits.js';
import { buildCompressedData, decompressCms } from '../cms/compressed.js';
import { readContentInfo } from '../cms/enveloped.js';
import { OIDS } from '../cms/oids.js';
import { buildPkcs7Mime } from '../mime/pkcs7_mime.js';
import { extractCms, smimeKindOf } from '../mime/extract.js';
import { mimeLimits } from '../lib/limits.js';

const NO_HEADERS = new Uint8Array(0);

/**
 * The MIME entity `entity` compressed (zlib) into an `application/pkcs7-mime; smime-type=compressed-data;
 * name="smime.p7z"` entity, base64 in CRLF lines: 7-bit, canonical, ready to be signed or encrypted.
 */
export async function compressEntity(entity: Uint8Array): Promise<Uint8Array> {
  return buildPkcs7Mime(NO_HEADERS, 'compressed-data', await buildCompressedData(entity));
}

/**
 * The CompressedData ContentInfo of `content` when it is a compressed-data entity (or raw CompressedData DER), else
 * undefined. Goes by the ContentInfo's OID, not the `smime-type` label.
 */
export function compressedCms(content: Uint8Array, limits: Limits): Uint8Array | undefined {
  let der: Uint8Array;
  try {
    const k = smimeKindOf(content, limits);
    if (k.kind !== 'pkcs7-mime' && k.kind !== 'der') return undefined;
    der = extractCms(content, mimeLimits(limits)).der;
    if (readContentInfo(der).type !== OIDS.compressedData) return undefined;
  } catch (e) {
    // Content that is not MIME, or not CMS, is content; only a CompressedData is unwrapped.
    if (e instanceof CMSInvalid || e instanceof MIMEInvalid) return undefined;
    throw e;
  }
  return der;
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
