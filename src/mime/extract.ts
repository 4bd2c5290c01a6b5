/**
 * Finding the CMS in a message: what kind of S/MIME entity a message is (multipart/signed, application/pkcs7-mime,
 * raw DER), and the CMS blob of an application/pkcs7-mime one.
 *
 * `extractCms`: `kind` comes from the `smime-type` parameter, which is only a label (.NET mislabels enveloped-data
 * as signed-data): the CMS layer must go by the ContentInfo OID. Raw DER/BER input (first byte 0x30) is returned as
 * is with kind 'unknown'. A binary/8bit/7bit body is returned as is (zero-copy).
 */
import { MIMEInvalid } from '../errors.js';
import { DEFAULT_LIMITS, mimeLimits, type Limits } from '../lib/limits.js';
import { getHeader, parseEntity, type Header, type MimeLimits } from './entity.js';
import { parseContentType } from './header_params.js';
import { decodeTransfer, fileNameOf } from './transfer_encoding.js';

/** What {@link extractCms} finds. */
export interface ExtractedCms {
  /** What the `smime-type` parameter says ('unknown' when absent, unrecognised, or for raw DER input). */
  kind: 'enveloped' | 'authEnveloped' | 'signed' | 'unknown';
  /** The `smime-type` parameter as written, when present. */
  smimeType?: string;
  /** The CMS ContentInfo (DER or BER). */
  der: Uint8Array;
  /** The headers of the entity (empty for raw DER input). */
  headers: Header[];
}

const PKCS7_MIME = new Set(['application/pkcs7-mime', 'application/x-pkcs7-mime']);

/**
 * Extracts the CMS blob from an application/pkcs7-mime message or entity (also application/x-pkcs7-mime, or
 * application/octet-stream named *.p7m, or *.p7z). CRLF or LF. Raw DER/BER input (first byte 0x30) is accepted as is.
 * Anything else is `MIMEInvalid`. With `inPlace` (for a buffer the caller gives up) a base64 body is decoded over
 * itself instead of into a new buffer.
 */
export function extractCms(message: Uint8Array, limits?: Partial<MimeLimits>, options: { inPlace?: boolean } = {}): ExtractedCms {
  if (!(message instanceof Uint8Array)) throw new TypeError('extractCms: expected a Uint8Array');
  if (message.length > 0 && message[0] === 0x30) return { kind: 'unknown', der: message, headers: [] };
  const e = parseEntity(message, limits);
  const { kind, smimeType } = pkcs7MimeLabel(e);
  const der = decodeTransfer(e, 'S/MIME body', options.inPlace === true);
  const r: ExtractedCms = { kind, der, headers: e.headers };
  if (smimeType !== undefined) r.smimeType = smimeType;
  return r;
}

/**
 * What the headers of an application/pkcs7-mime entity say (the checks of {@link extractCms}, without the body; the
 * stream reader `EntityHeadReader` uses it on a header section alone): `MIMEInvalid` when the entity is not one.
 */
export function pkcs7MimeLabel(e: { headers: readonly Header[] }): Pick<ExtractedCms, 'kind' | 'smimeType'> {
  const ctv = getHeader(e, 'content-type');
  if (ctv === undefined) throw new MIMEInvalid('not an S/MIME message: no Content-Type (so text/plain)');
  const ct = parseContentType(ctv);
  let ok = PKCS7_MIME.has(ct.type);
  if (!ok && ct.type === 'application/octet-stream') ok = /\.p7[mz]$/i.test(fileNameOf(e, ct.params) ?? '');
  if (!ok) {
    const hint = ct.type === 'multipart/signed' ? ' (a clear-signed message: use parseMultipartSigned)' : '';
    throw new MIMEInvalid(`not an S/MIME message: Content-Type is ${ct.type || '(empty)'}${hint}`);
  }
  const smimeType = ct.params['smime-type'];
  const st = smimeType?.toLowerCase();
  const kind = st === 'enveloped-data' ? 'enveloped' : st === 'authenveloped-data' ? 'authEnveloped' : st === 'signed-data' ? 'signed' : 'unknown';
  return smimeType === undefined ? { kind } : { kind, smimeType };
}

/** What kind of S/MIME entity a message is (see {@link smimeKindOf}). */
export interface SmimeKind {
  kind: 'multipart-signed' | 'pkcs7-mime' | 'der' | 'other';
  /** The entity's headers (none for raw DER). */
  headers: Header[];
  /** The Content-Type, lowercased ('' for raw DER). */
  type: string;
}

/** What kind of S/MIME entity `bytes` is, by its Content-Type (or raw DER). */
export function smimeKindOf(bytes: Uint8Array, limits: Limits = DEFAULT_LIMITS): SmimeKind {
  if (bytes.length > 0 && bytes[0] === 0x30) return { kind: 'der', headers: [], type: '' };
  const e = parseEntity(bytes, mimeLimits(limits));
  const ct = parseContentType(getHeader(e, 'content-type') ?? 'text/plain');
  if (ct.type === 'multipart/signed') return { kind: 'multipart-signed', headers: e.headers, type: ct.type };
  if (PKCS7_MIME.has(ct.type)) return { kind: 'pkcs7-mime', headers: e.headers, type: ct.type };
  if (ct.type === 'application/octet-stream') {
    const name = ct.params.name ?? parseContentType(getHeader(e, 'content-disposition') ?? '').params.filename ?? '';
    if (/\.p7[mz]$/i.test(name)) return { kind: 'pkcs7-mime', headers: e.headers, type: ct.type };
  }
  return { kind: 'other', headers: e.headers, type: ct.type };
}
