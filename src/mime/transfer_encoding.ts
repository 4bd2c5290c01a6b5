/**
 * The body of an S/MIME part, decoded by its Content-Transfer-Encoding, and the file name a part is given (used to
 * recognise application/octet-stream parts named *.p7m or *.p7s).
 */
import { MIMEInvalid } from '../errors.js';
import { decodeBase64, decodeBase64Into } from '../lib/base64.js';
import { getHeader, type Header } from './entity.js';
import { parseContentDisposition } from './header_params.js';


/** The part's file name: Content-Type's `name`, else Content-Disposition's `filename`. */
export function fileNameOf(headers: { headers: readonly Header[] }, ctParams: Record<string, string>): string | undefined {
  if (ctParams.name !== undefined) return ctParams.name;
  const cd = getHeader(headers, 'content-disposition');
  return cd === undefined ? undefined : parseContentDisposition(cd).params.filename;
}

/** Decodes a body by its Content-Transfer-Encoding (base64, or 7bit/8bit/binary as is). */
export function decodeTransfer(e: { headers: readonly Header[]; body: Uint8Array }, what: string, inPlace = false): Uint8Array {
  const cte = (getHeader(e, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase();
  let out: Uint8Array;
  if (cte === 'base64') out = inPlace ? e.body.subarray(0, decodeBase64Into(e.body, 0, e.body.length, e.body, 0)) : decodeBase64(e.body);
  else if (cte === '7bit' || cte === '8bit' || cte === 'binary') out = e.body;
  else throw new MIMEInvalid(`${what}: unsupported Content-Transfer-Encoding "${cte}"`);
  if (out.length === 0) throw new MIMEInvalid(`${what}: empty body`);
  return out;
}
