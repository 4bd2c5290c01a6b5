/**
 * One signed layer: a SignedData verified over its detached content or its own eContent, every signer judged, and
 * the store taught from the valid ones. Used by verifyMessage and openMessage.
 */
import { CMSInvalid } from '../errors.js';
import { berLimits } from '../lib/limits.js';
import { withBerLimits } from '../lib/der.js';
import { parseSignedData, type ContentDigests, type ParsedSignedData } from '../cms/signed.js';
import { parseEntity, type Header } from '../mime/entity.js';
import { harvest } from './harvest.js';
import type { CertInfo } from '../certs/cert_info.js';
import type { X509Certificate } from '../certs/x509.js';
import { storeInternals } from '../store/internal.js';
import { evaluateSigner } from './signer.js';
import type { SignerResult } from './signer_result.js';
import { noteHeaders, type VerifyContext } from './verify_context.js';
import { protectedBinding } from './header_protection.js';

/** The header section of the signed entity, or none when the content is not MIME (binary eContent). */
export function headersOfEntity(content: Uint8Array): Header[] {
  try {
    return parseEntity(content).headers;
  } catch {
    return [];
  }
}

/** The certificates of a certs-only message as X509Certificate (one @peculiar/x509 refuses is left out). */
export function certsOnlyX509(certs: readonly CertInfo[], ctx: VerifyContext): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const c of certs) {
    try {
      out.push(storeInternals(ctx.store).x509(c));
    } catch {
      // parsed by smime-core, refused by @peculiar/x509
    }
  }
  return out;
}

/** Verifies a SignedData over `content` (detached) or its own eContent. Used by verifyMessage and openMessage. */
export async function verifySignedCms(
  der: Uint8Array,
  detachedContent: Uint8Array | undefined,
  ctx: VerifyContext,
): Promise<{ content: Uint8Array; signers: SignerResult[]; certsOnly?: X509Certificate[] }> {
  const sd = withBerLimits(berLimits(ctx.limits), () => parseSignedData(der, ctx.limits));
  const content = detachedContent ?? sd.eContent;
  // RFC 8551 §3.6: no content and no signer is a certs-only message, a result (nothing is learnt: it is not signed).
  // (NSS writes an empty eContent in its certs-only messages.)
  if (sd.signerInfos.length === 0 && !detachedContent && (!content || content.length === 0)) return { content: new Uint8Array(0), signers: [], certsOnly: certsOnlyX509(sd.certificates, ctx) };
  if (!content) throw new CMSInvalid('signed-data has no content (a detached signature without the signed part)');
  return { content, signers: await judgeSigners(sd, content, () => headersOfEntity(content), ctx) };
}

/**
 * Judges every signer of a parsed SignedData over `content` (or its digests, for a stream), and teaches the store from
 * the valid ones. `entityHeaders` gives the signed entity's header section, read only when no From was seen outside;
 * `entityPrefix`, for a stream, the entity's first bytes (its protected header fields, for the From binding).
 */
export async function judgeSigners(
  sd: ParsedSignedData,
  content: Uint8Array | ContentDigests,
  entityHeaders: () => Header[],
  ctx: VerifyContext,
  entityPrefix?: Uint8Array,
): Promise<SignerResult[]> {
  const signers: SignerResult[] = [];
  // No From outside (e.g. OpenSSL output, where the whole message is the signed entity): the signed entity's own
  // From, which the signature covers, is the address to check (for this layer only: a copy of the context).
  // A signed entity with protected header fields (RFC 9788, protected-headers="v1", a message/rfc822 wrapper): its
  // From is the binding; an outer From naming other mailboxes is reported, never bound. (A stream's entity has
  // streamed past: only its digests are here, and its protected headers are read from `entityPrefix`, its first
  // bytes, mime/payload_prefix.ts.)
  const entity = content instanceof Uint8Array ? content : entityPrefix;
  const bound = entity ? protectedBinding(ctx, entity) : { ctx, outerFromDiffers: false };
  let c = bound.ctx;
  if (c === ctx && !ctx.from) {
    c = { ...ctx };
    noteHeaders(c, entityHeaders());
  }
  for (const si of sd.signerInfos) {
    const o = await evaluateSigner(sd, si, content, c);
    if (bound.outerFromDiffers) o.result.reasons.push('outer-from-differs');
    signers.push(o.result);
    if (o.result.status === 'valid' && ctx.harvest) harvest(sd, o, c);
  }
  return signers;
}
