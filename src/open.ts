/**
 * openMessage(): unwraps every S/MIME layer of a message, outermost first: EnvelopedData and AuthEnvelopedData are
 * decrypted with the store's identities (expired ones included), signed layers (multipart/signed or opaque
 * signed-data) are verified as verifyMessage does, until the content is neither. Signed then encrypted, encrypted
 * then signed, triple-wrapped, and multipart/signed inside application/pkcs7-mime all open in one call.
 *
 * The From address for the signers' address checks is the outermost message's (an encrypted message's From is
 * outside the encryption); when the outermost entity has none, the first From found further in is used. When no
 * layer has a From but one has a message header (mime/address.ts isMessageHeader), signers are
 * `address-mismatch: no From`; bare MIME entities all the way down have no address to check.
 *
 * A compressed layer (RFC 3274, `smime-type=compressed-data`, alone or inside a signed or encrypted layer) is
 * decompressed, at most `maxDecompressedBytes` of it (CMSLimitExceeded beyond), and shown as a layer of type
 * 'compressed'.
 *
 * A certs-only message (RFC 8551 §3.6), alone or inside an encryption layer, ends the walk with a layer of type
 * 'certs-only' holding its certificates, and an empty content: a result, not an error.
 *
 * `authenticated` is false when any encryption layer used a non-AEAD cipher (CBC) and no signature inside it is
 * `valid`: CBC ciphertext can be altered without detection (EFAIL), so apps should warn. It is true when nothing
 * was encrypted (look at `layers` and `signers` for what protected the content).
 *
 * Header protection (RFC 9788, mime/header_protection.ts): the innermost entity's protected header fields are
 * `headers`, the outermost header section's are `outer`, and `headerProtection` says what the sender exposed and
 * what differs. A signed layer over protected headers binds its signers to the protected From (ops/signed_cms.ts).
 *
 * A message that is not S/MIME at the top but holds S/MIME parts (ops/parts.ts) is `coverage: 'partial'`, with the
 * tree of its parts; one without any is `coverage: 'none'` (a result, not MIMEInvalid); the top-level
 * signers, layers, encrypted and authenticated then say nothing.
 */
import type { X509Certificate } from './certs/x509.js';
import { MIMEInvalid, MIMELimitExceeded } from './errors.js';
import { toBytes } from './lib/bytes.js';
import { readContentInfo } from './cms/enveloped.js';
import { decompressCms } from './cms/compressed.js';
import { OIDS, oidName } from './cms/oids.js';
import { extractCms, smimeKindOf, type SmimeKind } from './mime/extract.js';
import { parseMultipartSigned } from './mime/multipart_signed.js';
import { inputLimits, mimeLimits, type Limits } from './lib/limits.js';
import { decryptEnvelope } from './ops/decrypt_envelope.js';
import { verifySignedCms } from './ops/signed_cms.js';
import { noteHeaders, verifyContext, type VerifyContext, type VerifyOptions } from './ops/verify_context.js';
import { walkParts, type OpenPart } from './ops/parts.js';
import type { SignerResult } from './ops/signer_result.js';
import { messageFields, readHeaderProtection, type HeaderField, type HeaderProtectionInfo } from './mime/header_protection.js';

/** The options of `openMessage`: those of `verifyMessage`, and the depth. */
export interface OpenOptions extends VerifyOptions {
  /** Maximum number of layers to unwrap (default 8; never more than the `maxMimeDepth` limit). */
  maxDepth?: number;
}

/** One layer `openMessage` unwrapped: an encryption layer or a signed one. */
export type OpenLayer =
  | {
      /** An EnvelopedData layer (RFC 5652 §6) or an AuthEnvelopedData one (RFC 5083). */
      type: 'enveloped' | 'authEnveloped';
      /** The content cipher, e.g. 'aes-256-gcm'. */
      cipher: string;
      /** The key transport or agreement used. */
      keyTransport: string;
      /** The cipher authenticates the content (AEAD). */
      authenticated: boolean;
      /** A legacy cipher (3DES, RC2, DES). */
      legacy: boolean;
      /** The certificate whose key opened the layer. */
      recipient: X509Certificate;
    }
  | {
      /**
       * A CompressedData layer (RFC 3274, `smime-type=compressed-data`): its content decompressed, at most
       * `maxDecompressedBytes` of it.
       */
      type: 'compressed';
      /** The compression algorithm: 'zlib' (id-alg-zlibCompress, the only one CMS defines). */
      algorithm: 'zlib';
    }
  | {
      /** A SignedData layer (RFC 5652 §5). */
      type: 'signed';
      /** multipart/signed (true) or opaque signed-data (false). */
      detached: boolean;
      /** This layer's signers, each with its status. */
      signers: SignerResult[];
    }
  | {
      /**
       * A certs-only message (RFC 8551 §3.6: a SignedData without signer or content, `smime-type=certs-only`): the
       * last layer, its content empty. Nothing in it is verified or learnt; `store.addCertificate` installs them.
       */
      type: 'certs-only';
      /** The certificates it carries. */
      certificates: X509Certificate[];
    };

/** What `openMessage` returns. */
export interface OpenResult {
  /** The innermost entity, byte for byte. */
  content: Uint8Array;
  /** What each layer was, outermost first. */
  layers: OpenLayer[];
  /** Every signed layer's signers, outermost first. */
  signers: SignerResult[];
  /** At least one layer was encrypted. */
  encrypted: boolean;
  /** False when a CBC (non-AEAD) encryption layer has no valid signature inside it. */
  authenticated: boolean;
  /** The outermost header section's fields as received (structural fields, Content-* and MIME-Version, left out). */
  outer: HeaderField[];
  /**
   * The protected header fields (RFC 9788 `hp`, `protected-headers="v1"`, or an RFC 8551 message/rfc822 wrapper), to
   * show instead of `outer`; absent when the payload's header fields are not protected. Details, the fields the
   * sender exposed, the mismatches and any problem are in `headerProtection`.
   */
  headers?: HeaderField[];
  /** How the payload's header fields were protected, and what differs outside (see {@link HeaderProtectionInfo}). */
  headerProtection?: HeaderProtectionInfo;
  /**
   * How much of the message its protection covers: 'full' when the message itself is S/MIME (its layers hold the
   * whole content), 'partial' when only some of its parts are (a multipart/mixed with a signed or encrypted part
   * beside plain ones, a signed message forwarded inside a plain one), 'none' when no part is (a plain message). For
   * 'partial' and 'none', `layers` and `signers` are empty, `encrypted` and `authenticated` false: they speak for the
   * whole message only; each part's protection is in `parts`, and `content` is the message as it came.
   */
  coverage: 'full' | 'partial' | 'none';
  /** For 'partial' and 'none' coverage of a multipart (or message/rfc822): its parts, each with its protection (see {@link OpenPart}). */
  parts?: OpenPart[];
}

const DEFAULT_DEPTH = 8;

/** The kind of an inner entity; content that is not MIME at all (binary eContent) is just content. */
function innerKind(bytes: Uint8Array, limits: Limits): SmimeKind {
  try {
    return smimeKindOf(bytes, limits);
  } catch {
    return { kind: 'other', headers: [], type: '' };
  }
}

/** False when a CBC (non-AEAD) encryption layer has no valid signature inside it (see the file comment). */
export function authenticatedOf(layers: readonly OpenLayer[]): boolean {
  let authenticated = true;
  layers.forEach((l, i) => {
    if (l.type === 'signed' || l.type === 'certs-only' || l.type === 'compressed' || l.authenticated) return;
    const protectedInside = layers.slice(i + 1).some((x) => x.type === 'signed' && x.signers.some((s) => s.status === 'valid'));
    if (!protectedInside) authenticated = false;
  });
  return authenticated;
}

/** Unwraps every S/MIME layer from `first` in, as openMessage describes; the innermost content, layers and signers. */
async function unwrap(
  bytes: Uint8Array,
  first: SmimeKind,
  ctx: VerifyContext,
  limits: Limits,
  maxDepth: number,
): Promise<{ content: Uint8Array; layers: OpenLayer[]; signers: SignerResult[] }> {
  const mime = mimeLimits(limits);
  let cur = bytes;
  const layers: OpenLayer[] = [];
  const signers: SignerResult[] = [];
  for (let kind = first; ; kind = innerKind(cur, limits)) {
    if (kind.kind === 'other') break;
    if (layers.length >= maxDepth) throw new MIMELimitExceeded(`openMessage: more than ${maxDepth} S/MIME layers`, { limit: 'maxDepth' });
    if (layers.length >= limits.maxMimeDepth)
      throw new MIMELimitExceeded(`openMessage: more than maxMimeDepth (${limits.maxMimeDepth}) S/MIME layers`, { limit: 'maxMimeDepth' });
    noteHeaders(ctx, kind.headers);
    if (kind.kind === 'multipart-signed') {
      const ms = parseMultipartSigned(cur, mime);
      const r = await verifySignedCms(ms.signature, ms.signedPart, ctx);
      layers.push({ type: 'signed', detached: true, signers: r.signers });
      signers.push(...r.signers);
      cur = r.content;
      continue;
    }
    const { der } = extractCms(cur, mime);
    let type: string;
    try {
      type = readContentInfo(der).type;
    } catch (e) {
      // Inner content that merely starts like DER (a 0x30 byte) is content, not a layer.
      if (layers.length > 0 && kind.kind === 'der') break;
      throw e;
    }
    if (type === OIDS.envelopedData || type === OIDS.authEnvelopedData) {
      const opened = await decryptEnvelope(der, ctx.store, ctx.crypto, limits);
      layers.push({
        type: opened.kind,
        cipher: opened.cipher,
        keyTransport: opened.keyTransport,
        authenticated: opened.authenticated,
        legacy: opened.legacy,
        recipient: opened.identity.certificate,
      });
      cur = opened.content;
      continue;
    }
    if (type === OIDS.compressedData) {
      const d = await decompressCms(der, limits);
      layers.push({ type: 'compressed', algorithm: 'zlib' });
      cur = d.content;
      continue;
    }
    if (type === OIDS.signedData) {
      const r = await verifySignedCms(der, undefined, ctx);
      if (r.certsOnly) {
        layers.push({ type: 'certs-only', certificates: r.certsOnly });
        cur = r.content;
        break;
      }
      layers.push({ type: 'signed', detached: false, signers: r.signers });
      signers.push(...r.signers);
      cur = r.content;
      continue;
    }
    if (layers.length === 0) throw new MIMEInvalid(`not an S/MIME message: the CMS content type is ${oidName(type)}`);
    break; // an S/MIME type we don't unwrap (digested data…): it is the content
  }
  if (layers.length === 0) throw new MIMEInvalid(`not an S/MIME message: Content-Type is ${first.type || '(none)'}`);

  return { content: cur, layers, signers };
}

/**
 * Unwraps every S/MIME layer of a message, outermost first: decrypts enveloped layers with the store's
 * identities and verifies signed layers as `verifyMessage` does, until the content is neither. Returns the
 * innermost entity, each layer, and every signer.
 *
 * @example
 * ```ts
 * const { content, layers, signers, authenticated } = await openMessage(message, { store });
 * ```
 */
export async function openMessage(message: Uint8Array | string, options: OpenOptions): Promise<OpenResult> {
  const maxDepth = options?.maxDepth ?? DEFAULT_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth <= 0) throw new RangeError('openMessage: maxDepth must be a positive integer');
  const bytes = toBytes(message, 'openMessage: message');
  const limits = inputLimits(bytes, 'openMessage', options?.store?.limits, options?.limits);
  const mime = mimeLimits(limits);
  const first = smimeKindOf(bytes, limits);
  const ctx = verifyContext(options, first.headers, 'openMessage');
  if (first.kind === 'other') {
    // Not S/MIME at the top: a message whose protection covers only some of its parts, or none of it.
    const { tree, protectedParts } = await walkParts(bytes, ctx, limits, async (part, c) => {
      const u = await unwrap(part, smimeKindOf(part, limits), { ...c }, limits, maxDepth);
      const signed = u.layers.some((l) => l.type === 'signed');
      const encrypted = u.layers.some((l) => l.type === 'enveloped' || l.type === 'authEnveloped');
      return { content: u.content, signers: u.signers, signed, encrypted, authenticated: authenticatedOf(u.layers) };
    });
    const result: OpenResult = { content: bytes, layers: [], signers: [], encrypted: false, authenticated: false, outer: messageFields(first.headers), coverage: protectedParts === 0 ? 'none' : 'partial' };
    if (tree.parts) result.parts = tree.parts;
    return result;
  }
  const { content: cur, layers, signers } = await unwrap(bytes, first, ctx, limits, maxDepth);

  const authenticated = authenticatedOf(layers);
  const encrypted = layers.some((l) => l.type === 'enveloped' || l.type === 'authEnveloped');
  const result: OpenResult = { content: cur, layers, signers, encrypted, authenticated, outer: messageFields(first.headers), coverage: 'full' };
  const hp = readHeaderProtection(cur, first.headers, encrypted, mime);
  if (hp) {
    result.headers = hp.headers;
    result.headerProtection = hp;
  }
  return result;
}
