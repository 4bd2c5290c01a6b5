/**
 * The MIME side of certs-only messages (RFC 8551 §3.6): building `application/pkcs7-mime; smime-type=certs-only`
 * with the `.p7c` name, and recognising one (also `application/x-pkcs7-mime`, and `application/octet-stream` or an
 * unlabelled pkcs7-mime named `*.p7c`). The CMS inside is cms/certs_only.ts's.
 */
import { MIMEInvalid } from '../errors.js';
import { encodeBase64Lines } from '../lib/base64.js';
import { concat, fromLatin1 } from '../lib/bytes.js';
import { DEFAULT_MIME_LIMITS, getHeader, parseEntity, type MimeLimits } from './entity.js';
import { parseContentType } from './header_params.js';
import { decodeTransfer, fileNameOf } from './transfer_encoding.js';

const PKCS7_MIME = new Set(['application/pkcs7-mime', 'application/x-pkcs7-mime']);
const CONTENT_HEADER = /^(content-|mime-version$)/i;

/**
 * The MIME entity of a certs-only message: `headers` (name → value; Content-* and MIME-Version are replaced), then
 * MIME-Version, `Content-Type: application/pkcs7-mime; smime-type=certs-only; name="smime.p7c"`, base64, and
 * `Content-Disposition: attachment; filename="smime.p7c"`, and the DER in 76-column CRLF lines. A header name that
 * is not a token, or a value with CR, LF or NUL, is MIMEInvalid (no header injection).
 *
 * @example
 * ```ts
 * const entity = buildCertsOnlyMime(buildCertsOnly([certDer]), { From: 'alice@example.com' });
 * ```
 */
export function buildCertsOnlyMime(der: Uint8Array, headers: Readonly<Record<string, string>> = {}): Uint8Array {
  let head = '';
  for (const [name, value] of Object.entries(headers)) {
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw new MIMEInvalid(`certs-only: bad header name ${JSON.stringify(name)}`);
    if (typeof value !== 'string' || /[\r\n\0]/.test(value) || /[^\x20-\x7e\t]/.test(value)) {
      throw new MIMEInvalid(`certs-only: the value of header ${name} must be printable ASCII on one line`);
    }
    if (CONTENT_HEADER.test(name)) continue;
    head += `${name}: ${value}\r\n`;
  }
  head +=
    'MIME-Version: 1.0\r\n' +
    'Content-Type: application/pkcs7-mime; smime-type=certs-only; name="smime.p7c"\r\n' +
    'Content-Transfer-Encoding: base64\r\n' +
    'Content-Disposition: attachment; filename="smime.p7c"\r\n' +
    '\r\n';
  return concat([fromLatin1(head), encodeBase64Lines(der, 76)]);
}

/**
 * Whether a Content-Type (and file name) is a certs-only one: `application/(x-)pkcs7-mime; smime-type=certs-only`,
 * or a `*.p7c` / `*.p7b` file as pkcs7-mime, `application/octet-stream` or `application/(x-)pkcs7-certificates`.
 *
 * @example
 * ```ts
 * isCertsOnlyType('application/octet-stream', undefined, 'bob.p7c'); // true
 * ```
 */
export function isCertsOnlyType(type: string, smimeType: string | undefined, fileName: string | undefined): boolean {
  const t = type.toLowerCase();
  if (PKCS7_MIME.has(t) && smimeType?.toLowerCase() === 'certs-only') return true;
  const p7c = /\.p7[cb]$/i.test(fileName ?? '');
  return p7c && (PKCS7_MIME.has(t) || t === 'application/octet-stream' || t === 'application/pkcs7-certificates' || t === 'application/x-pkcs7-certificates');
}

/**
 * The CMS bytes of a MIME entity that is a certs-only message (see {@link isCertsOnlyType}), decoded from its
 * transfer encoding; undefined when the entity is something else. Malformed MIME: MIMEInvalid / MIMELimitExceeded.
 *
 * @example
 * ```ts
 * const der = certsOnlyOfEntity(attachmentEntity); // undefined unless smime-type=certs-only or *.p7c
 * ```
 */
export function certsOnlyOfEntity(bytes: Uint8Array, limits: Partial<MimeLimits> = DEFAULT_MIME_LIMITS): Uint8Array | undefined {
  const e = parseEntity(bytes, limits);
  const ctv = getHeader(e, 'content-type');
  if (ctv === undefined) return undefined;
  const ct = parseContentType(ctv);
  if (!isCertsOnlyType(ct.type, ct.params['smime-type'], fileNameOf(e, ct.params))) return undefined;
  return decodeTransfer(e, 'certs-only body');
}
