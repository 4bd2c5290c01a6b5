/**
 * Header protection (RFC 9788) in the operations: which options turn it on, the payload signMessage and
 * encryptMessage protect, and the From binding of a signature whose signed entity carries protected headers (the
 * protected From is bound; an outer From that differs is reported, never used). The rules themselves are in
 * mime/header_protection.ts.
 */
import { argumentError, checkOption } from '../lib/args.js';
import { getHeader, parseEntity, type Header, type MimeLimits } from '../mime/entity.js';
import { parseContentType } from '../mime/header_params.js';
import { HCP_NAMES, protectMessage, protectedSection, type HeaderConfidentiality, type ProtectOptions } from '../mime/header_protection.js';
import { lookAheadOf } from './stream_payload.js';
import { planProtection, splitForProtection, type ProtectionPlan } from '../mime/protection.js';
import { smimeKindOf } from '../mime/extract.js';
import { OpaqueSignedHead, type OpaqueSignedHeadResult } from './opaque_signed_head.js';
import { splitMultipartPrefix, splitMultipartRanges } from '../mime/multipart.js';
import { headerSectionEnd } from '../mime/stream_head.js';
import { MIMELimitExceeded } from '../errors.js';
import { fromBinding, type FromBinding } from '../mime/address.js';
import type { VerifyContext } from './verify_context.js';

/** The header-protection options shared by signMessage and encryptMessage. */
export interface HeaderProtectionOptions {
  /**
   * Protect the message's header fields (RFC 9788): the signed or encrypted entity carries them (From, To, Cc,
   * Subject, Date, Message-ID…) and its Content-Type says `hp="clear"` (signed only) or `hp="cipher"` (encrypted).
   * Default false in this release: a reader that ignores `hp` shows the outer fields, e.g. `[...]` as the Subject of
   * an encrypted message (see the README, "Header protection").
   */
  protectHeaders?: boolean;
  /**
   * The Header Confidentiality Policy of an encrypted message (RFC 9788 §3.2): what its outer header fields look like
   * (see {@link HeaderConfidentiality}); default `'baseline'` (Subject `[...]`). With `signMessage` it says the signed
   * message will be encrypted next: the payload then says `hp="cipher"` and carries the HP-Outer fields, and the
   * signed message's header section is already the outer one (give the result to `encryptMessage` with
   * `protectHeaders: true`).
   */
  headerConfidentiality?: HeaderConfidentiality;
  /**
   * Add the Legacy Display Element (RFC 9788 §2.1.2) to the main body part, so that a reader without header
   * protection still shows the real Subject (and any other hidden user-facing field) in the text. Encrypted payloads
   * only. Default false. Its place must be within the first `maxHeaderBytes` of the body, and the element must end
   * there (where readers look for it): else `MIMELimitExceeded` (`maxHeaderBytes`), from the buffer functions and the
   * streams alike.
   */
  legacyDisplay?: boolean;
}

/** Checks the header-protection options; `what` names the operation. */
export function checkProtectionOptions(what: string, o: HeaderProtectionOptions): void {
  checkOption(`${what}: options.protectHeaders`, o.protectHeaders, 'boolean');
  checkOption(`${what}: options.legacyDisplay`, o.legacyDisplay, 'boolean');
  const hcp = o.headerConfidentiality;
  if (hcp !== undefined && typeof hcp !== 'function' && !(typeof hcp === 'string' && HCP_NAMES.includes(hcp)))
    throw argumentError(`${what}: options.headerConfidentiality`, `one of ${HCP_NAMES.map((n) => `'${n}'`).join(', ')}, or a function`, typeof hcp === 'string');
  if (o.protectHeaders !== true && (hcp !== undefined || o.legacyDisplay !== undefined))
    throw argumentError(`${what}: options.headerConfidentiality and options.legacyDisplay`, 'used with protectHeaders: true');
}

/**
 * signMessage's split: the outer header section and the entity to sign (the protected payload when asked). `open`:
 * `bytes` is the first bytes of a longer message, whose body goes on (a stream: ops/stream_payload.ts).
 */
export function signPayload(bytes: Uint8Array, o: HeaderProtectionOptions, limits: MimeLimits, open = false): { outerHeaders: Uint8Array; inner: Uint8Array } {
  if (o.protectHeaders !== true) return splitForProtection(bytes, limits);
  const cipher = o.headerConfidentiality !== undefined;
  const po: ProtectOptions = { hp: cipher ? 'cipher' : 'clear', hcp: o.headerConfidentiality, legacyDisplay: o.legacyDisplay, open };
  if (!open) checkOnLookAhead(bytes, po, limits);
  return protectMessage(bytes, po, limits);
}

/**
 * A whole message with a Legacy Display Element to place: its place is checked on the look-ahead a stream takes
 * (ops/stream_payload.ts `lookAheadOf`), so that signMessage and encryptMessage refuse what signStream and
 * encryptStream refuse (`MIMELimitExceeded`, `maxHeaderBytes`); they write the same bytes otherwise.
 */
function checkOnLookAhead(bytes: Uint8Array, po: ProtectOptions, limits: MimeLimits): void {
  if (po.legacyDisplay !== true || po.hp !== 'cipher') return;
  const la = lookAheadOf(bytes, limits.maxHeaderBytes);
  if (la?.open === true) protectMessage(la.bytes, { ...po, open: true }, limits);
}

/** The `hp` parameter of an entity's Content-Type, or undefined (also when it is not MIME). */
function hpOf(entity: Uint8Array | undefined, limits: MimeLimits): string | undefined {
  if (!entity) return undefined;
  try {
    return parseContentType(getHeader(parseEntity(entity, limits), 'content-type') ?? '').params.hp;
  } catch {
    return undefined;
  }
}

/**
 * The `hp` parameter of a multipart/signed message's payload (its first part), or undefined. `open`:
 * `bytes` is the first bytes of a multipart/signed message (a stream's look-ahead), which must hold the signed part's
 * header section (else `MIMELimitExceeded`: it can't be checked).
 */
function signedPayloadHp(bytes: Uint8Array, limits: MimeLimits, open = false): string | undefined {
  const e = parseEntity(bytes, limits);
  const ct = parseContentType(getHeader(e, 'content-type') ?? '');
  if (!ct.params.boundary) return undefined;
  const r = open ? splitMultipartPrefix(e.body, ct.params.boundary, limits) : splitMultipartRanges(e.body, ct.params.boundary, limits);
  const first = r?.parts[0];
  const part = first ? e.body.subarray(first.start, first.end) : undefined;
  if (open && (!part || headerSectionEnd(part) < 0)) {
    throw new MIMELimitExceeded(`protectHeaders: the signed part's header section is not within the first maxHeaderBytes (${limits.maxHeaderBytes}) bytes of the body, so its hp can't be checked (raise maxHeaderBytes)`, { limit: 'maxHeaderBytes' });
  }
  return part ? hpOf(part, limits) : undefined;
}

/**
 * encryptMessage's plan: the entity to encrypt and the outer header section. With `protectHeaders`, a message that
 * is not signed becomes an `hp="cipher"` payload under the policy; a signed message (signMessage with
 * `headerConfidentiality`) is encrypted as it is, its header section already the outer one. A signed message
 * (multipart/signed or opaque) whose payload does not say `hp="cipher"` is refused: its payload can't be changed
 * without breaking the signature, and encrypting it would leave the Subject outside. `headerOnly`: `bytes` is a stream's header
 * section (the body follows), so there is no signed part to look at; `open`: `bytes` is the first bytes of a longer
 * message (see {@link signPayload}), where a multipart/signed part is checked, and an opaque one is left to the
 * caller (encryptStream reads on: {@link checkOpaqueSigned}). A whole message is checked as a stream checks it: the
 * signed part's header section within the look-ahead, an opaque payload's on its first bytes (ops/opaque_signed_head.ts).
 */
export function encryptPlan(what: string, bytes: Uint8Array, o: HeaderProtectionOptions, limits: MimeLimits, headerOnly = false, open = false): ProtectionPlan {
  if (o.protectHeaders !== true) return planProtection(bytes, limits);
  const kind = smimeKindOf(bytes).kind;
  if (kind === 'multipart-signed' || kind === 'pkcs7-mime') {
    // A stream's header section alone can't show the signed part (headerOnly: not asked). On a stream's look-ahead
    // (open) an opaque message is checked by encryptStream on the body that follows (checkOpaqueSigned), on the same
    // code as here.
    if (kind === 'multipart-signed' && !headerOnly) {
      // A whole message is checked on the look-ahead a stream takes, so that both refuse alike.
      const la = open ? { bytes, open } : (lookAheadOf(bytes, limits.maxHeaderBytes) ?? { bytes, open });
      if (signedPayloadHp(la.bytes, limits, la.open)?.toLowerCase() !== 'cipher') throw notForEncryption(what);
    }
    if (kind === 'pkcs7-mime' && !headerOnly && !open) {
      const e = parseEntity(bytes, limits);
      const head = new OpaqueSignedHead(getHeader(e, 'content-transfer-encoding') ?? '7bit', limits.maxHeaderBytes);
      // Pushed in steps: only the body's first bytes are decoded, whatever its size.
      let r;
      for (let at = 0; !r && at < e.body.length; at += 1 << 16) r = head.push(e.body.subarray(at, at + (1 << 16)));
      checkOpaqueSigned(what, r ?? head.end(), limits);
    }
    return planProtection(bytes, limits);
  }
  const po: ProtectOptions = { hp: 'cipher', hcp: o.headerConfidentiality, legacyDisplay: o.legacyDisplay, open };
  if (!open) checkOnLookAhead(bytes, po, limits);
  const p = protectMessage(bytes, po, limits);
  return {
    outerHeaders: p.outerHeaders,
    innerLength: p.inner.length,
    inner: p.inner,
    writeInner(out, offset) {
      out.set(p.inner, offset);
      return offset + p.inner.length;
    },
  };
}

/** The refusal of a signed message whose payload does not say hp="cipher" (encryptMessage and encryptStream). */
function notForEncryption(what: string): TypeError | RangeError {
  return argumentError(`${what}: options.protectHeaders`, 'a message that is not signed yet, or one signed with protectHeaders and headerConfidentiality (its payload says hp="cipher")');
}

/**
 * An opaque signed message to encrypt with protectHeaders: refused unless its payload says `hp="cipher"` (what
 * {@link OpaqueSignedHead} read from its first bytes; a CMS that holds no SignedData passes: an encrypted message
 * encrypted again). A SignedData without content is refused as one whose payload can't be read.
 */
export function checkOpaqueSigned(what: string, head: OpaqueSignedHeadResult, limits: MimeLimits): void {
  if (head.kind === 'not-signed') return;
  if (head.kind !== 'head' || hpOf(head.section, limits)?.toLowerCase() !== 'cipher') throw notForEncryption(what);
}

function sameMailboxes(a: FromBinding | undefined, b: FromBinding | undefined): boolean {
  if (!a || !b || a.kind !== 'mailboxes' || b.kind !== 'mailboxes') return a?.kind === b?.kind;
  const ka = a.from.map((m) => m.key).sort();
  const kb = b.from.map((m) => m.key).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}

/**
 * The context a signed layer's signers are checked in: when the signed entity carries protected header fields, its
 * From is the binding (the outer one is ignored), and `outerFromDiffers` says when an outer From names other
 * mailboxes. Otherwise the context as it is.
 */
export function protectedBinding(ctx: VerifyContext, content: Uint8Array): { ctx: VerifyContext; outerFromDiffers: boolean } {
  let section: Header[] | undefined;
  try {
    section = protectedSection(content, { maxHeaderBytes: ctx.limits.maxHeaderBytes, maxHeaders: ctx.limits.maxHeaders });
  } catch {
    section = undefined;
  }
  if (!section) return { ctx, outerFromDiffers: false };
  const from = fromBinding(section);
  const outerFromDiffers = ctx.from !== undefined && !sameMailboxes(ctx.from, from);
  const c: VerifyContext = { ...ctx, messageHeader: true };
  if (from) c.from = from;
  else delete c.from;
  return { ctx: c, outerFromDiffers };
}
