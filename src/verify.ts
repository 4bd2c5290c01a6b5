/**
 * verifyMessage(): checks a signed S/MIME message (multipart/signed with application/(x-)pkcs7-signature, or opaque
 * application/(x-)pkcs7-mime signed-data, or a bare CMS SignedData) and reports each signer.
 *
 * For each SignerInfo (identified by issuer+serial or by subject key identifier; the certificate comes from the
 * message or from the store):
 * - the digest of the content and the signature over the signed attributes (checked here, never by pkijs,
 *   whose verify builds no chain by default), with RSA PKCS#1 v1.5, RSA-PSS (any hash, MGF1 hash and salt length
 *   the parameters state), ECDSA (P-256/384/521) or Ed25519 (RFC 8419);
 * - the algorithm policy (crypto/policy.ts: the store's, changed per call with `options.policy`): SHA-1/MD5 make a
 *   signer `invalid` ('weak-algorithm') unless `policy.allowWeak`, an RSA key below `minRsaBits` too ('weak-key'), and an
 *   algorithm we don't implement (DSA…) gives 'unsupported-algorithm: <oid>';
 * - validity of the signer's certificate at the signing time (or now, without a signingTime);
 * - a chain from the message's certificates plus the store's, to one of the store's trust anchors, at that time;
 * - revocation by a CRL the message carries, one given in `options.crls` or one added with `store.addCrl`, signed
 *   by the certificate's issuer;
 * - keyUsage (digitalSignature or nonRepudiation) and EKU (absent, emailProtection, anyExtendedKeyUsage);
 * - the signer's addresses against the From header (see {@link VerifyContext.from} and mime/address.ts).
 *
 * Signed content that is compressed data (RFC 3274: compress then sign) is decompressed, `compressed` set; bounded
 * by `maxDecompressedBytes` and `maxDecompressionRatio` (CMSLimitExceeded), a corrupt stream is CMSInvalid.
 *
 * It throws only when the input is not a signed message (MIMEInvalid, CMSInvalid). Everything wrong with a
 * signature is a status and a list of reasons. A certs-only message (RFC 8551 §3.6) is a result too: `certsOnly`
 * holds its certificates, `signers` is empty.
 *
 * After a `valid` signature the store learns the message's certificates and the sender's preferences (the
 * encryption certificate named by either encryption key preference attribute, and the SMIMECapabilities), keyed by
 * signingTime so the newest message wins: from then on encryptMessage to that sender follows them.
 */
import { MIMEInvalid } from './errors.js';
import { inputLimits, mimeLimits, type Limits } from './lib/limits.js';
import { decompressContent } from './ops/compress.js';
import { toBytes } from './lib/bytes.js';
import { extractCms, smimeKindOf } from './mime/extract.js';
import { parseMultipartSigned } from './mime/multipart_signed.js';
import { verifySignedCms } from './ops/signed_cms.js';
import { verifyContext, type VerifyOptions } from './ops/verify_context.js';
import type { SignerResult } from './ops/signer_result.js';
import type { X509Certificate } from './certs/x509.js';
import { readHeaderProtection, type HeaderProtectionInfo } from './mime/header_protection.js';
import type { Header } from './mime/entity.js';

export { STATUS_PRECEDENCE } from './ops/signer_result.js';
export type { SignerResult, SignerStatus } from './ops/signer_result.js';
export type { VerifyOptions } from './ops/verify_context.js';

/** What verifyMessage returns. */
export interface VerifyResult {
  /** The signed entity, byte for byte (for multipart/signed: the first part, CRLF). */
  content: Uint8Array;
  /** One result per SignerInfo, in the message's order. */
  signers: SignerResult[];
  /** True for multipart/signed, false for opaque signed-data. */
  detached: boolean;
  /**
   * Set when the message is certs-only (RFC 8551 §3.6: `smime-type=certs-only`, a `.p7c`; a SignedData with no signer
   * and no content): the certificates it carries, with `signers` and `content` empty. Not a signature, so nothing in it
   * is verified or learnt by the store: install them with `store.addCertificate(message)` if the user wants them.
   */
  certsOnly?: X509Certificate[];
  /**
   * Set when the signed content was compressed data (RFC 3274, `smime-type=compressed-data`: compress then sign):
   * `content` is then the entity decompressed (at most `maxDecompressedBytes` of it), not the compressed-data wrapper
   * the signature covers.
   */
  compressed?: true;
  /**
   * Set when the signed entity carries protected header fields (RFC 9788 `hp`, `protected-headers="v1"`, an RFC 8551
   * message/rfc822 wrapper): the fields to show, and how the message's own header fields differ from them.
   */
  headerProtection?: HeaderProtectionInfo;
}

/** The result with its content decompressed when it is compressed data (and `compressed` set), and its header protection. */
async function withContent(r: VerifyResult, limits: Limits, outer: readonly Header[]): Promise<VerifyResult> {
  const inner = await decompressContent(r.content, limits);
  const out: VerifyResult = inner.compressed ? { ...r, content: inner.content, compressed: true } : r;
  const hp = readHeaderProtection(out.content, outer, false, mimeLimits(limits));
  if (hp) out.headerProtection = hp;
  return out;
}

/**
 * Verifies a signed message (`multipart/signed` or opaque signed-data): every signer gets a status (the worst that
 * applies, see {@link SignerStatus}) and every finding in `reasons`. A message that does not verify is a result,
 * not an error; only input that is not a signed message (or is malformed) throws.
 *
 * @example
 * ```ts
 * const { content, signers } = await verifyMessage(message, { store });
 * if (signers.length > 0 && signers.every((s) => s.status === 'valid')) show(content); // certs-only: no signer
 * ```
 */
export async function verifyMessage(message: Uint8Array | string, options: VerifyOptions): Promise<VerifyResult> {
  const bytes = toBytes(message, 'verifyMessage: message');
  const limits = inputLimits(bytes, `verifyMessage`, options?.store?.limits, options?.limits);
  const k = smimeKindOf(bytes, limits);
  const ctx = verifyContext(options, k.headers, 'verifyMessage');
  if (k.kind === 'multipart-signed') {
    const ms = parseMultipartSigned(bytes, mimeLimits(limits));
    const r = await verifySignedCms(ms.signature, ms.signedPart, ctx);
    return withContent({ content: r.content, signers: r.signers, detached: true }, limits, k.headers);
  }
  if (k.kind === 'pkcs7-mime' || k.kind === 'der') {
    const { der } = extractCms(bytes, mimeLimits(limits));
    const r = await verifySignedCms(der, undefined, ctx);
    if (r.certsOnly) return { content: r.content, signers: [], detached: false, certsOnly: r.certsOnly };
    return withContent({ content: r.content, signers: r.signers, detached: false }, limits, k.headers);
  }
  throw new MIMEInvalid(`not a signed message: Content-Type is ${k.type || '(none)'}`);
}
