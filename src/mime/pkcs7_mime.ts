/**
 * Building an application/pkcs7-mime message (RFC 8551 §3.2): the outer headers, the S/MIME headers, and the CMS
 * blob in base64, in one allocation, whole or piece by piece as the CMS is produced.
 */
import { MIMEInvalid } from '../errors.js';
import { Base64LineWriter, base64LinesLength, encodeBase64LinesInto } from '../lib/base64.js';
import { fromLatin1 as ascii } from '../lib/bytes.js';
import { headersLength, writeHeaders } from './canonical.js';
import { parseEntity } from './entity.js';
import { isContentHeader, isMimeVersion } from './protection.js';

/** The `smime-type` parameter of the messages we build. */
export type SmimeType = 'enveloped-data' | 'authEnveloped-data' | 'signed-data' | 'compressed-data';
const SMIME_TYPES: readonly SmimeType[] = ['enveloped-data', 'authEnveloped-data', 'signed-data', 'compressed-data'];

/**
 * Builds an application/pkcs7-mime message: `outerHeaders` (minus any MIME-Version or Content-* header, which are
 * replaced), then MIME-Version, Content-Type (with `smime-type` and `name="smime.p7m"`, or `smime.p7z` for
 * compressed-data, RFC 8551 §3.6), Content-Transfer-Encoding
 * base64 and Content-Disposition, an empty line, and the base64 of `der` in 76-column CRLF lines. One allocation;
 * `der` (or its chunks) is read once and never copied.
 */
export function buildPkcs7Mime(outerHeaders: Uint8Array, smimeType: SmimeType, der: Uint8Array | readonly Uint8Array[]): Uint8Array {
  const parts: readonly Uint8Array[] = der instanceof Uint8Array ? [der] : der;
  if (!Array.isArray(parts) || parts.some((p) => !(p instanceof Uint8Array))) {
    throw new TypeError('buildPkcs7Mime: der must be a Uint8Array or an array of Uint8Array');
  }
  let derLen = 0;
  for (const p of parts) derLen += p.length;
  const { out, offset } = pkcs7MimeHead(outerHeaders, smimeType, derLen);
  encodeBase64LinesInto(parts, 76, out, offset);
  return out;
}

/**
 * Internal: {@link buildPkcs7Mime} for a CMS blob of `derLength` bytes that is produced piece by piece. Allocates
 * the whole message and writes its headers; the caller writes the DER through `body` and calls `body.end()`. The
 * tail of `out` (past what `body` has written) is free until then: encryption keeps the plaintext there.
 */
export function startPkcs7Mime(outerHeaders: Uint8Array, smimeType: SmimeType, derLength: number): { out: Uint8Array; body: Base64LineWriter } {
  const { out, offset } = pkcs7MimeHead(outerHeaders, smimeType, derLength);
  return { out, body: new Base64LineWriter(out, offset, 76) };
}

/**
 * Internal: the header section of the application/pkcs7-mime message {@link buildPkcs7Mime} writes (outer headers,
 * the S/MIME headers and the empty line), for a stream that writes the base64 body after it (issue 16).
 */
export function pkcs7MimeHeader(outerHeaders: Uint8Array, smimeType: SmimeType): Uint8Array {
  const { out } = pkcs7MimeHead(outerHeaders, smimeType, 0, true);
  return out;
}

function pkcs7MimeHead(outerHeaders: Uint8Array, smimeType: SmimeType, derLen: number, headerOnly = false): { out: Uint8Array; offset: number } {
  if (!(outerHeaders instanceof Uint8Array)) throw new TypeError('buildPkcs7Mime: outerHeaders must be a Uint8Array');
  if (!SMIME_TYPES.includes(smimeType)) throw new TypeError(`buildPkcs7Mime: unknown smime-type ${String(smimeType)}`);
  if (derLen === 0 && !headerOnly) throw new TypeError('buildPkcs7Mime: empty CMS content');
  const outer = parseEntity(outerHeaders);
  if (outer.body.length > 0) throw new MIMEInvalid('buildPkcs7Mime: outerHeaders must hold headers only (found an empty line followed by a body)');
  const keep = outer.headers.filter((h) => !isContentHeader(h.name) && !isMimeVersion(h.name));
  const file = smimeType === 'compressed-data' ? 'smime.p7z' : 'smime.p7m';
  const mimeHeaders = ascii(
    'MIME-Version: 1.0\r\n' +
      `Content-Type: application/pkcs7-mime; smime-type=${smimeType}; name="${file}"\r\n` +
      'Content-Transfer-Encoding: base64\r\n' +
      `Content-Disposition: attachment; filename="${file}"\r\n` +
      '\r\n',
  );
  const out = new Uint8Array(headersLength(keep) + mimeHeaders.length + base64LinesLength(derLen, 76));
  let o = writeHeaders(keep, out, 0);
  out.set(mimeHeaders, o);
  o += mimeHeaders.length;
  return { out, offset: o };
}
