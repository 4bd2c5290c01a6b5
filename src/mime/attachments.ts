/**
 * The attachments of a received message, read with postal-mime (the library for walking a message to its
 * attachments), and what each one is for certificate import: a PKCS#12 file, a certificate file, a certs-only or
 * other PKCS#7 object, a forwarded message, or something else.
 *
 * postal-mime's own limits are set from ours: `maxNestingDepth` from `maxMimeDepth`, `maxHeadersSize` from
 * `maxHeaderBytes`, `maxPartCount` from `maxParts` (for the whole message: postal-mime counts every part of every
 * level together). A message/rfc822 part is always returned as an attachment with its bytes
 * (`forceRfc822Attachments`), so that the caller walks a forwarded message itself, S/MIME layers included.
 */
import PostalMime from 'postal-mime';
import { MIMEInvalid, MIMELimitExceeded } from '../errors.js';
import type { Limits } from '../lib/limits.js';

/** One attachment of a received message. */
export interface MailAttachment {
  /** The file name the sender gave (untrusted: for reports only), or null. */
  filename: string | null;
  /** The lowercased Content-Type value (without parameters), as sent. */
  mimeType: string;
  /** The decoded bytes. */
  content: Uint8Array;
}

/** What an attachment is, for certificate import. */
export type AttachmentKind = 'pkcs12' | 'certificate' | 'certs-only' | 'pkcs7' | 'message' | 'other';

const PKCS12_TYPES = new Set(['application/x-pkcs12', 'application/pkcs12']);
const CERT_TYPES = new Set([
  'application/pkix-cert',
  'application/x-x509-ca-cert',
  'application/x-x509-user-cert',
  'application/x-x509-email-cert',
  'application/x-x509-server-cert',
  'application/x-pem-file',
  'application/pem-certificate-chain',
]);
const CERTS_ONLY_TYPES = new Set(['application/pkcs7-certificates', 'application/x-pkcs7-certificates']);
const PKCS7_TYPES = new Set(['application/pkcs7-mime', 'application/x-pkcs7-mime']);
const MESSAGE_TYPES = new Set(['message/rfc822', 'message/global']);

/** The lowercased extension of a file name ('' without one). */
function extension(name: string | null): string {
  const m = /\.([a-z0-9]{1,8})$/i.exec(name ?? '');
  return m ? m[1]!.toLowerCase() : '';
}

/**
 * What an attachment is, by its Content-Type, else by its file name's extension: `.p12`/`.pfx` PKCS#12;
 * `.cer`/`.crt`/`.der`/`.pem` a certificate; `.p7c`/`.p7b` certs-only; `.p7m` a PKCS#7 object (signed or
 * encrypted, or certs-only: the caller looks inside); `.eml` a message. A generic type (application/octet-stream)
 * defers to the name.
 */
export function attachmentKind(a: Pick<MailAttachment, 'filename' | 'mimeType'>): AttachmentKind {
  const type = a.mimeType.split(';')[0]!.trim();
  if (PKCS12_TYPES.has(type)) return 'pkcs12';
  if (CERT_TYPES.has(type)) return 'certificate';
  if (CERTS_ONLY_TYPES.has(type)) return 'certs-only';
  if (PKCS7_TYPES.has(type)) return 'pkcs7';
  if (MESSAGE_TYPES.has(type)) return 'message';
  switch (extension(a.filename)) {
    case 'p12':
    case 'pfx':
      return 'pkcs12';
    case 'cer':
    case 'crt':
    case 'der':
    case 'pem':
      return 'certificate';
    case 'p7c':
    case 'p7b':
      return 'certs-only';
    case 'p7m':
      return 'pkcs7';
    case 'eml':
      return 'message';
    default:
      return 'other';
  }
}

/** postal-mime's error codes that mean a limit was hit, with the name of our limit. */
const LIMIT_CODES: Readonly<Record<string, keyof Limits>> = {
  EMAXNESTINGDEPTH: 'maxMimeDepth',
  EMAXHEADERSIZE: 'maxHeaderBytes',
  EMAXPARTCOUNT: 'maxParts',
  EMAXFORWARDEDADDRESSES: 'maxParts',
};

/**
 * The attachments of `message` (every level of its multiparts; forwarded messages as attachments, unparsed), within
 * `limits`. A limit postal-mime hits is `MIMELimitExceeded` naming our limit; any other parser failure `MIMEInvalid`.
 */
export async function readAttachments(message: Uint8Array, limits: Limits): Promise<MailAttachment[]> {
  let email: Awaited<ReturnType<typeof PostalMime.parse>>;
  try {
    email = await PostalMime.parse(message, {
      attachmentEncoding: 'arraybuffer',
      forceRfc822Attachments: true,
      maxNestingDepth: limits.maxMimeDepth,
      maxHeadersSize: limits.maxHeaderBytes,
      maxPartCount: limits.maxParts,
      maxRfc822NestingDepth: 0,
    });
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    const limit = typeof code === 'string' ? LIMIT_CODES[code] : undefined;
    if (limit) throw new MIMELimitExceeded(`the message is beyond ${limit} (${limits[limit]})`, { limit, cause: e });
    throw new MIMEInvalid('the message could not be read', { cause: e });
  }
  return email.attachments.map((a) => ({
    filename: a.filename ?? null,
    mimeType: a.mimeType ?? '',
    content: typeof a.content === 'string' ? new TextEncoder().encode(a.content) : new Uint8Array(a.content as ArrayBuffer),
  }));
}
