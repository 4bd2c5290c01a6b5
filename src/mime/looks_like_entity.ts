/**
 * "Does this decrypt to a MIME entity?": the check that tells a message opened by a key tried on a RecipientInfo
 * that does not name it (the trial-key fallback of src/cms/enveloped.ts) from the garbage a wrong key gets through
 * CBC padding one time in 256 (issue 10, finding 8).
 *
 * The check is cheap (it reads the header section only, at most `maxHeaderBytes`) and strict enough that random
 * bytes essentially never pass it: the content must start with a header section that parseEntity accepts (every
 * line `name: value` or a folded continuation, names of printable ASCII), that ends with an empty line, and that
 * has a Content-Type or a MIME-Version header. What S/MIME encrypts is always such an entity (RFC 8551 §3.1); a
 * recipient that names us is not held to it (RFC 4134 and other test content is not MIME).
 */
import { getHeader, parseEntity } from './entity.js';

/** The default bound on the header section read (the `maxHeaderBytes` default). */
const DEFAULT_MAX_HEADER_BYTES = 1024 * 1024;

/** True when `bytes` starts with a MIME header section (see the file header); never throws for any bytes. */
export function looksLikeMimeEntity(bytes: Uint8Array, maxHeaderBytes = DEFAULT_MAX_HEADER_BYTES): boolean {
  const head = bytes.subarray(0, Math.min(bytes.length, maxHeaderBytes));
  let e;
  try {
    e = parseEntity(head, { maxHeaderBytes: head.length + 1 });
  } catch {
    return false;
  }
  // parseEntity also takes a header section that runs to the end without an empty line: require the empty line.
  const end = e.headerEnd;
  const ended = end >= 2 && head[end - 1] === 0x0a && (head[end - 2] === 0x0a || (end >= 3 && head[end - 2] === 0x0d && head[end - 3] === 0x0a));
  if (!ended || e.headers.length === 0) return false;
  return getHeader(e, 'content-type') !== undefined || getHeader(e, 'mime-version') !== undefined;
}
