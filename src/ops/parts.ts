/**
 * Partly protected messages: the tree of a message whose top is not S/MIME (a multipart/mixed, a message/rfc822)
 * but which holds S/MIME parts, each part with its protection. openMessage reports it with `coverage: 'partial'`
 * instead of throwing, so an application can show which part is protected and which is not (the EFAIL and
 * signature-spoofing attacks put a protected part beside, or inside, an attacker's plain ones).
 *
 * Each S/MIME part is opened by the callback (openMessage's own unwrapping). A signed part's signers are bound to
 * the From of the nearest header section above it: the message's, or a forwarded message/rfc822's own. A part that
 * can't be opened (no key, malformed) gets `error`; a limit exceeded still throws.
 */
import { LimitExceeded, MIMEInvalid, MIMELimitExceeded, SmimeError } from '../errors.js';
import type { Limits } from '../lib/limits.js';
import { mimeLimits } from '../lib/limits.js';
import { getHeader, parseEntity } from '../mime/entity.js';
import { parseContentType } from '../mime/header_params.js';
import { splitMultipartRanges } from '../mime/multipart.js';
import { smimeKindOf } from '../mime/extract.js';
import { fromBinding, isMessageHeader } from '../mime/address.js';
import type { SignerResult } from './signer_result.js';
import type { VerifyContext } from './verify_context.js';

/** One part of a partly protected message (see `OpenResult.parts`). */
export interface OpenPart {
  /** The part's number, as IMAP numbers them: '1', '2.1'; '' for the message itself. */
  path: string;
  /** Its Content-Type, lowercased ('text/plain' when it has none). */
  type: string;
  /**
   * What protects it: 'signed', 'encrypted', 'signed+encrypted' (either order, or more layers), or 'none'. A
   * container (multipart, message/rfc822) that is not itself S/MIME is 'none'; look at its `parts`.
   */
  protection: 'signed' | 'encrypted' | 'signed+encrypted' | 'none';
  /** A protected part's signers, each with its status (empty when it is only encrypted). */
  signers?: SignerResult[];
  /**
   * For a protected part: false when a CBC (non-AEAD) encryption layer of it has no valid signature inside it (its
   * content can have been altered: EFAIL), as `OpenResult.authenticated` says of a whole message.
   */
  authenticated?: boolean;
  /** A protected part's innermost entity, byte for byte (the part itself when it is not protected). */
  content: Uint8Array;
  /** A container's parts. */
  parts?: OpenPart[];
  /**
   * Why a protected part could not be opened (e.g. no key to decrypt it), or why a plain part could not be read as
   * MIME: the error's code and message.
   */
  error?: {
    /** The SmimeError code. */
    code: string;
    /** Its message. */
    message: string;
  };
}

/** What the callback gives for one S/MIME part. */
export interface OpenedPart {
  content: Uint8Array;
  signers: SignerResult[];
  signed: boolean;
  encrypted: boolean;
  authenticated: boolean;
}

/**
 * Walks a message whose top is not S/MIME; returns its tree and whether any part is protected. `open` unwraps one
 * S/MIME part in the given context.
 */
export async function walkParts(
  bytes: Uint8Array,
  ctx: VerifyContext,
  limits: Limits,
  open: (part: Uint8Array, ctx: VerifyContext) => Promise<OpenedPart>,
): Promise<{ tree: OpenPart; protectedParts: number }> {
  const mime = mimeLimits(limits);
  let count = 0;
  let protectedParts = 0;
  const walk = async (part: Uint8Array, path: string, depth: number, c: VerifyContext): Promise<OpenPart> => {
    if (++count > limits.maxParts) throw new MIMELimitExceeded(`openMessage: more than maxParts (${limits.maxParts}) parts`, { limit: 'maxParts' });
    let kind;
    try {
      kind = smimeKindOf(part, limits);
    } catch (e) {
      // A part that is not even MIME (a header line that isn't one): shown as it is, unprotected.
      if (!(e instanceof MIMEInvalid)) throw e;
      return { path, type: '', protection: 'none', content: part, error: { code: e.code, message: e.message } };
    }
    if (kind.kind !== 'other') {
      protectedParts++;
      try {
        const o = await open(part, c);
        const protection = o.signed && o.encrypted ? 'signed+encrypted' : o.signed ? 'signed' : o.encrypted ? 'encrypted' : 'none';
        return { path, type: kind.type, protection, signers: o.signers, authenticated: o.authenticated, content: o.content };
      } catch (e) {
        if (e instanceof LimitExceeded || !(e instanceof SmimeError)) throw e;
        return { path, type: kind.type, protection: 'none', content: part, error: { code: e.code, message: e.message } };
      }
    }
    const node: OpenPart = { path, type: kind.type || 'text/plain', protection: 'none', content: part };
    if (depth >= limits.maxMimeDepth) throw new MIMELimitExceeded(`openMessage: parts nested deeper than maxMimeDepth (${limits.maxMimeDepth})`, { limit: 'maxMimeDepth' });
    const e = parseEntity(part, mime);
    const ct = parseContentType(getHeader(e, 'content-type') ?? 'text/plain');
    const sub = (i: number) => (path ? `${path}.${i}` : String(i));
    if (ct.type.startsWith('multipart/') && ct.params.boundary) {
      let r;
      try {
        r = splitMultipartRanges(e.body, ct.params.boundary, mime);
      } catch (err) {
        if (!(err instanceof MIMEInvalid)) throw err;
        node.error = { code: err.code, message: err.message };
        return node;
      }
      node.parts = [];
      for (let i = 0; i < r.parts.length; i++) node.parts.push(await walk(e.body.subarray(r.parts[i]!.start, r.parts[i]!.end), sub(i + 1), depth + 1, c));
    } else if (ct.type === 'message/rfc822' || ct.type === 'message/global') {
      // A forwarded message: its own From binds what it holds.
      let inner;
      try {
        inner = parseEntity(e.body, mime);
      } catch (err) {
        if (!(err instanceof MIMEInvalid)) throw err;
        node.error = { code: err.code, message: err.message };
        return node;
      }
      const fc: VerifyContext = { ...c, messageHeader: isMessageHeader(inner.headers) };
      const from = fromBinding(inner.headers);
      if (from) fc.from = from;
      else delete fc.from;
      node.parts = [await walk(e.body, sub(1), depth + 1, fc)];
    }
    return node;
  };
  const tree = await walk(bytes, '', 0, ctx);
  return { tree, protectedParts };
}
