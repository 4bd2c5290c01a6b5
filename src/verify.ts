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
 * It throws only when the input is not a signed message (MIMEInvalid, CMSInvalid). Everything wrong with a
 * signature is a status and a list of reasons.
 *
 * After a `valid` signature the store learns the message's certificates and the sender's preferences (the
 * encryption certificate named by either encryption key preference attribute, and the SMIMECapabilities), keyed by
 * signingTime so the newest message wins: from then on encryptMessage to that sender follows them.
 */
import { chainProblems, type CertificateStore } from './store/store.js';
import { storeInternals } from './store/internal.js';
import { checkOption } from './lib/args.js';
import type { PolicyOptions } from './path/policy_tree.js';
import { checkPolicyOptions, revokedReason } from './path/path_validation.js';
import { checkRevocation } from './path/revocation.js';
import type { X509Certificate } from './certs/x509.js';
import { ekuAllowsEmail, isValidAt, type CertInfo } from './certs/cert_info.js';
import { allowsSigning } from './store/signing.js';
import { namesMatch } from './certs/names.js';
import { pemCrls } from './certs/load.js';
import { parseCrl, type ParsedCrl } from './certs/crl.js';
import { CMSInvalid, MIMEInvalid, SmimeError } from './errors.js';
import { berLimits, DEFAULT_LIMITS, inputLimits, mimeLimits, PathBudget, resolveLimits, type Limits } from './lib/limits.js';
import { withBerLimits } from './lib/der.js';
import { resolvePolicyFor, type AlgorithmPolicy } from './crypto/policy.js';
import { toBytes } from './lib/bytes.js';
import { OIDS } from './cms/oids.js';
import { CIPHERS } from './cms/content_cipher.js';
import { matchesRecipient } from './cms/recipient_id.js';
import { refMatches, type CertRef } from './cms/attributes.js';
import {
  hashNameOfOid,
  parseSignedData,
  verifySignerInfo,
  type ParsedSignedData,
  type ParsedSignerInfo,
  type SignerInfoCheck,
} from './cms/signed.js';
import { extractCms, parseMultipartSigned } from './mime/smime.js';
import { getHeader, parseContentType, parseEntity, type Header } from './mime/entity.js';
import { certAddressKey, fromBinding, isMessageHeader, type FromBinding } from './mime/address.js';

export { openMessage } from './open.js';
export type { OpenOptions, OpenResult, OpenLayer } from './open.js';

/**
 * A signer's status. When several apply, the one reported is the first in this order (the order of the issue that
 * defines them), which is also the order of severity:
 *
 *   invalid > untrusted > expired > revoked > wrong-usage > address-mismatch   (then valid, when none applies)
 *
 * "Report the worst applicable status, in the order listed": the list `valid, invalid, untrusted, expired, revoked,
 * wrong-usage, address-mismatch` is read as a precedence list, the earlier the worse, `valid` being what is left when
 * nothing applies. Each status makes the ones after it moot: when the signature does not hold (`invalid`), nothing
 * about the certificate means anything; when the certificate does not chain to a trust anchor (`untrusted`), its
 * dates, revocation, usage bits and addresses are the signer's own claims; an `expired` certificate is no longer
 * listed on CRLs; and so on. The other reading (the last listed is the worst) would report a tampered message from
 * a mismatched address as `address-mismatch`, hiding the tampering. Every finding is listed in `reasons` anyway.
 */
export type SignerStatus = 'valid' | 'invalid' | 'untrusted' | 'expired' | 'revoked' | 'wrong-usage' | 'address-mismatch';

/** The statuses, worst first (see {@link SignerStatus}). */
export const STATUS_PRECEDENCE: readonly Exclude<SignerStatus, 'valid'>[] = [
  'invalid',
  'untrusted',
  'expired',
  'revoked',
  'wrong-usage',
  'address-mismatch',
];

/** The verdict on one signer of a message. */
export interface SignerResult {
  /** The signer's address: the one matching From when there is one, else the certificate's first address. */
  email?: string;
  /** Every address of the signer's certificate. */
  emails: string[];
  /** The signer's certificate; undefined when neither the message nor the store has it. */
  certificate?: X509Certificate;
  /** The worst status that applies (see {@link SignerStatus}). */
  status: SignerStatus;
  /** The signingTime attribute, when present (a claim of the signer). */
  signingTime?: Date;
  /**
   * Every finding, e.g. 'digest-mismatch', 'signature-mismatch', 'weak-algorithm', 'weak-key' (an RSA key below the
   * policy's minRsaBits), 'unsupported-algorithm: <oid>', 'signing-certificate-mismatch' (the ESS signing-certificate
   * attribute names another certificate), 'malformed-attribute: signingCertificate', 'non-der-signed-attributes'
   * (the signature holds only over non-DER bytes, which OpenSSL, NSS and Bouncy Castle refuse),
   * 'signer-certificate-not-found', 'no-chain-to-trust-anchor', 'path-building-limit' (the path-building budget of
   * the call ran out: see `Limits`), 'certificate-expired' (followed by '; valid at claimed signing time <iso>' when
   * it was), 'certificate-not-yet-valid', 'issuer-expired', the path validation reasons of RFC 5280 §6 ('not-a-ca',
   * 'path-length-exceeded', 'ca-key-usage: keyCertSign', 'name-constraints-violated: <form> <name>',
   * 'no-acceptable-policy', 'policy-mapping-invalid', 'unknown-critical-extension: <oid>', 'malformed-extension:
   * <name>', 'policy-tree-limit', 'name-constraints-limit', 'revocation-unknown: <why>' and
   * 'issuer-revocation-unknown: <why>': see the README, "Path validation"), 'revoked: <date> (reason <code>)',
   * 'issuer-revoked: <date>…', 'wrong-usage: keyUsage', 'wrong-usage: extendedKeyUsage', 'address-mismatch: <the From
   * addresses the certificate lacks>', 'address-mismatch: two From headers', 'address-mismatch: unparsable From',
   * 'address-mismatch: From has no mailbox', 'address-mismatch: no From'.
   */
  reasons: string[];
  /**
   * The user-constrained policy set of the signer's valid path (RFC 5280 §6.1.6): the certificate policy OIDs the
   * path is good for, among those asked for; ['2.5.29.32.0'] (anyPolicy) when nothing constrains it, [] when the
   * path asserts no policy (and none was required). Absent when there is no valid path.
   */
  policies?: string[];
  /** The digest algorithm, e.g. 'SHA-256'. */
  digestAlgorithm?: string;
  /** The signature algorithm OID. */
  signatureAlgorithm: string;
}

/** The options of `verifyMessage` (and, through `OpenOptions`, of `openMessage`). */
export interface VerifyOptions {
  /** The store with the trust anchors, intermediates and CRLs; valid signatures teach it (see `harvest`). */
  store: CertificateStore;
  /** WebCrypto implementation; default: the store's, else globalThis.crypto. */
  crypto?: Crypto;
  /**
   * The algorithm policy for this call, layered over the store's (`new CertificateStore({ policy })`): e.g.
   * `{ minRsaBits: 1024, allowWeak: true }` to accept an old RSA-1024/SHA-1 signature. See crypto/policy.ts.
   */
  policy?: Partial<AlgorithmPolicy>;
  /**
   * The time to verify at ("now"). Default: the store's clock. With `verifyAt: 'signing-time'` it is only the
   * fallback for messages without a signingTime.
   */
  at?: Date;
  /**
   * When the certificates' validity and revocation are judged:
   * - `'now'` (the default): at `at` (the store's clock). A certificate that has expired is `expired`, even if the
   *   message claims it was signed while the certificate was valid (the reasons then say when it was valid); any
   *   revocation dated before now counts, whatever its reason (removeFromCRL aside).
   * - `'signing-time'`: at the signingTime attribute (archival verification, as before 0.2). **The signingTime is a
   *   claim made by whoever holds the key**: a thief of an expired or revoked key can backdate it, so use this only
   *   when the claim is trusted otherwise (for example, mail verified and archived when it arrived). A keyCompromise
   *   (or unspecified, cACompromise, aACompromise) revocation still counts whatever its date.
   */
  verifyAt?: 'now' | 'signing-time';
  /** Work limits for this call, layered over the store's (see `Limits`). */
  limits?: Partial<Limits>;
  /** More CRLs (DER or PEM) to check revocation with, besides those in the message. */
  crls?: readonly (Uint8Array | string)[];
  /** Learn certificates and preferences from valid signatures (default true). */
  harvest?: boolean;
  /**
   * The initial certificate policy inputs of RFC 5280 §6.1.1 for the signers' paths; default: the store's
   * `certificatePolicies`, else RFC 5280's (any policy, nothing required or inhibited). For example
   * `{ initialPolicySet: ['2.16.840.1.101.3.2.1.48.1'], requireExplicitPolicy: true }` accepts only signers whose
   * path asserts that policy.
   */
  certificatePolicies?: PolicyOptions;
}

/** What `verifyMessage` returns. */
export interface VerifyResult {
  /** The signed entity, byte for byte (for multipart/signed: the first part, CRLF). */
  content: Uint8Array;
  /** One result per SignerInfo, in the message's order. */
  signers: SignerResult[];
  /** True for multipart/signed, false for opaque signed-data. */
  detached: boolean;
}

// -----------------------------------------------------------------------------------------------------------------

interface VerifyContext {
  store: CertificateStore;
  crypto?: Crypto;
  /** The store's policy with this call's changes. */
  policy: AlgorithmPolicy;
  /** "Now": `options.at` or the store's clock. */
  at: Date;
  /** Judge validity and revocation at the signing time (the signer's claim) instead of `at`. */
  atSigningTime: boolean;
  limits: Limits;
  crls: ParsedCrl[];
  /**
   * The From binding: the outermost header section's From, else the first one found further in (an inner layer, or
   * the signed entity itself). Undefined while no From has been seen.
   */
  from?: FromBinding;
  /**
   * Whether a header section seen so far is a message header (isMessageHeader: any RFC 5322 §3.6 field). A signer
   * of a message with a message header but no From anywhere is `address-mismatch: no From`; a bare MIME entity or
   * a bare CMS object has no address to check.
   */
  messageHeader: boolean;
  harvest: boolean;
  /** The path-building budget of this call, shared by every signer (and every SignedData layer) it verifies. */
  pathBudget: PathBudget;
  /** The call's initial policy inputs (RFC 5280 §6.1.1), or undefined for the store's. */
  certificatePolicies?: PolicyOptions;
}

/** Takes a header section's From (when none was found yet) and notes whether it is a message header. */
export function noteHeaders(ctx: VerifyContext, headers: readonly Header[]): void {
  if (!ctx.from) ctx.from = fromBinding(headers);
  if (!ctx.messageHeader) ctx.messageHeader = isMessageHeader(headers);
}

/**
 * The address check (RFC 8550 §3): the certificate must hold EVERY mailbox of the From header; when From holds
 * several mailboxes (or none, an empty group), the Sender mailbox may stand for them instead. Returns the matched
 * address (as the certificate writes it) or the reason of the mismatch.
 */
function checkAddresses(emails: readonly string[], ctx: VerifyContext): { email?: string; problem?: string } {
  const b = ctx.from;
  if (!b) return ctx.messageHeader ? { problem: 'no From' } : {};
  if (b.kind === 'problem') return { problem: b.reason };
  const keys = emails.map(certAddressKey);
  const held = (key: string) => {
    const i = keys.indexOf(key);
    return i < 0 ? undefined : emails[i];
  };
  const missing = b.from.filter((m) => held(m.key) === undefined);
  if (missing.length === 0 && b.from.length > 0) return { email: held(b.from[0]!.key) };
  if (b.sender && b.from.length !== 1) {
    const s = held(b.sender.key);
    if (s !== undefined) return { email: s };
  }
  const lacking = (missing.length > 0 ? missing : [b.sender!]).map((m) => m.address.replace(/[A-Z]+/g, (x) => x.toLowerCase()));
  // The reason names the addresses the certificate lacks; a From of thousands of mailboxes names the first ten.
  const more = lacking.length > 10 ? `, and ${lacking.length - 10} more` : '';
  return { problem: lacking.slice(0, 10).join(', ') + more };
}

function makeContext(options: VerifyOptions, headers: readonly Header[], what: string): VerifyContext {
  const { store } = options ?? ({} as VerifyOptions);
  const internals = storeInternals(store, `${what}: options.store`);
  const policy = resolvePolicyFor(`${what}: options.policy`, store.policy, options.policy);
  checkOption(`${what}: options.at`, options.at, 'date');
  checkOption(`${what}: options.verifyAt`, options.verifyAt, ['now', 'signing-time']);
  checkOption(`${what}: options.harvest`, options.harvest, 'boolean');
  checkOption(`${what}: options.crls`, options.crls, 'array');
  const limits = resolveLimits(`${what}: options.limits`, store.limits, options.limits);
  const crls: ParsedCrl[] = [];
  for (const c of options.crls ?? []) {
    for (const der of typeof c === 'string' ? pemCrlsOrThrow(c) : [c]) crls.push(parseCrl(der));
  }
  // Parsed by addCrl.
  crls.push(...internals.parsedCrls());
  return {
    store,
    crypto: options.crypto ?? store.crypto,
    policy,
    at: options.at ?? store.now(),
    atSigningTime: options.verifyAt === 'signing-time',
    limits,
    crls,
    from: fromBinding(headers),
    messageHeader: isMessageHeader(headers),
    harvest: options.harvest ?? true,
    pathBudget: new PathBudget(limits),
    certificatePolicies: checkPolicyOptions(`${what}: options.certificatePolicies`, options.certificatePolicies),
  };
}

function pemCrlsOrThrow(text: string): Uint8Array[] {
  const out = pemCrls(text);
  if (out.length === 0) {
    // Maybe certificates were passed by mistake; say so plainly.
    if (/BEGIN CERTIFICATE/.test(text)) throw new TypeError('crls: expected X509 CRL PEM blocks, got certificates');
    throw new TypeError('crls: no "X509 CRL" PEM block found');
  }
  return out;
}

async function findSignerCert(sid: CertRef, sd: ParsedSignedData, ctx: VerifyContext): Promise<CertInfo | undefined> {
  const internals = storeInternals(ctx.store);
  const pools = [sd.certificates, internals.allCertificates(), internals.trustAnchors()];
  for (const pool of pools) {
    for (const c of pool) if (refMatches(sid, c)) return c;
  }
  if ('ski' in sid) {
    // No SKI extension: the key identifier may be the SHA-1 of the public key (RFC 5280 §4.2.1.2).
    for (const pool of pools) for (const c of pool) if (await matchesRecipient(sid, c, ctx.crypto)) return c;
  }
  return undefined;
}

function pickStatus(found: Set<Exclude<SignerStatus, 'valid'>>): SignerStatus {
  for (const s of STATUS_PRECEDENCE) if (found.has(s)) return s;
  return 'valid';
}

interface SignerOutcome {
  result: SignerResult;
  info?: CertInfo;
  si: ParsedSignerInfo;
  check?: SignerInfoCheck;
  /** The path to the trust anchor, leaf first, when there is one. */
  path?: CertInfo[];
}

async function evaluateSigner(sd: ParsedSignedData, si: ParsedSignerInfo, content: Uint8Array, ctx: VerifyContext): Promise<SignerOutcome> {
  const found = new Set<Exclude<SignerStatus, 'valid'>>();
  const reasons: string[] = [];
  const add = (status: Exclude<SignerStatus, 'valid'>, reason: string) => {
    found.add(status);
    if (!reasons.includes(reason)) reasons.push(reason);
  };
  const info = await findSignerCert(si.sid, sd, ctx);
  const base = { signatureAlgorithm: si.signatureAlgorithm.oid, digestAlgorithm: hashNameOfOid(si.digestAlgorithm.oid) };
  if (!info) {
    // Without the certificate nothing can be checked: nobody can be shown to have signed.
    add('untrusted', 'signer-certificate-not-found');
    return { result: { ...base, emails: [], status: pickStatus(found), reasons }, si };
  }
  let check: SignerInfoCheck;
  try {
    check = await verifySignerInfo(sd, si, content, info, { policy: ctx.policy, crypto: ctx.crypto });
  } catch (e) {
    // A malformed attribute inside one SignerInfo makes that signer invalid, not the whole message unreadable.
    if (!(e instanceof SmimeError)) throw e;
    check = { ok: false, reasons: [`malformed-signer-info: ${e.message}`], weak: false, smime: {} };
  }
  for (const r of check.reasons) add('invalid', r);
  if (check.weak && !ctx.policy.allowWeak) add('invalid', 'weak-algorithm');
  if (check.smallKey !== undefined) add('invalid', 'weak-key');

  // The time validity and revocation are judged at: now, unless the caller trusts the signer's claimed signingTime.
  const at = ctx.atSigningTime ? (check.signingTime ?? ctx.at) : ctx.at;
  if (!isValidAt(info, at)) {
    let reason = at.getTime() < info.notBefore.getTime() ? 'certificate-not-yet-valid' : 'certificate-expired';
    // Say when it was valid: the signing time is the signer's claim, so it only informs.
    if (check.signingTime && isValidAt(info, check.signingTime) && !ctx.atSigningTime)
      reason += `; valid at claimed signing time ${check.signingTime.toISOString()}`;
    add('expired', reason);
  }

  // Path building and RFC 5280 §6.1 validation, revocation (RFC 5280 §6.3) included, with the message's CRLs,
  // the call's and the store's. The signer's own validity was judged above, with more detail.
  const crls = [...sd.crls.flatMap((d) => {
    try {
      return [parseCrl(d)];
    } catch {
      return []; // a malformed CRL in a message is no CRL; it never makes the message unreadable
    }
  }), ...ctx.crls];
  const chain = await storeInternals(ctx.store).chain(info, at, {
    extra: sd.certificates,
    allowWeak: ctx.policy.allowWeak,
    budget: ctx.pathBudget,
    crypto: ctx.crypto,
    crls,
    certificatePolicies: ctx.certificatePolicies,
    atSigningTime: ctx.atSigningTime,
    crlTime: ctx.atSigningTime ? ctx.at : undefined,
    leafValidity: false,
  });
  if (!chain.chain) for (const f of chainProblems(chain)) add(f.problem, f.reason);
  if (!chain.chain && !chain.findings && crls.length > 0) {
    // No path at all: still say when a CRL from a known issuer revokes the signer's certificate.
    const pool = [...sd.certificates, ...storeInternals(ctx.store).allCertificates(), ...storeInternals(ctx.store).trustAnchors()];
    for (const issuer of pool.filter((c) => namesMatch(c.subject, info.issuer))) {
      const r = await checkRevocation({
        cert: info,
        issuer,
        crls,
        pool,
        at,
        atSigningTime: ctx.atSigningTime,
        crlTime: ctx.atSigningTime ? ctx.at : undefined,
        allowWeak: ctx.policy.allowWeak,
        crypto: ctx.crypto,
        budget: ctx.pathBudget,
        validateCrlSigner: async () => false, // no path: only the issuer's own CRLs speak
      });
      if (r.status === 'revoked') {
        add('revoked', revokedReason(r));
        break;
      }
    }
  }
  if (!allowsSigning(info)) add('wrong-usage', 'wrong-usage: keyUsage');
  if (!ekuAllowsEmail(info)) add('wrong-usage', 'wrong-usage: extendedKeyUsage');

  const addr = checkAddresses(info.emails, ctx);
  const email = addr.email ?? info.emails[0];
  if (addr.problem !== undefined) add('address-mismatch', `address-mismatch: ${addr.problem}`);
  let certificate: X509Certificate | undefined;
  try {
    certificate = storeInternals(ctx.store).x509(info);
  } catch {
    certificate = undefined; // parsed by smime-core, refused by @peculiar/x509: the result still says why
  }
  const result: SignerResult = {
    ...base,
    email,
    emails: [...info.emails],
    certificate,
    status: pickStatus(found),
    reasons,
  };
  if (check.signingTime) result.signingTime = check.signingTime;
  if (chain.chain) result.policies = chain.policies ?? [];
  return { result, info, si, check, path: chain.chain };
}

const CONTENT_CIPHER_OIDS = new Set<string>([
  ...Object.values(CIPHERS).map((c) => c.oid),
  OIDS.desEde3CBC,
  OIDS.rc2CBC,
  OIDS.desCBC,
]);

/** After a valid signature: learn the message's certificates and the sender's preferences. */
function harvest(sd: ParsedSignedData, o: SignerOutcome, ctx: VerifyContext): void {
  const store = storeInternals(ctx.store);
  // Only what concerns the signer: the certificates of its path, and its own other certificates (those naming one
  // of its addresses: its encryption certificate). Whatever else a message carries stays out of the store, so a
  // correspondent can't fill it with certificates that every later path building would have to look at.
  const signerEmails = o.info?.emails ?? [];
  const onPath = new Set(o.path ?? (o.info ? [o.info] : []));
  for (const c of sd.certificates) {
    if (onPath.has(c) || (!c.isCA && c.emails.some((e) => signerEmails.includes(e)))) store.learnCertificate(c);
  }
  const email = o.result.email;
  if (!email || !o.check) return;
  const smime = o.check.smime;
  const pool = [...sd.certificates, ...store.allCertificates()];
  let preferred: CertInfo | undefined;
  for (const ref of [smime.encKeyPref, smime.msEncKeyPref]) {
    if (!ref || preferred) continue;
    // Only a certificate of the same person: a signer can't redirect mail meant for others.
    preferred = pool.find((c) => refMatches(ref, c) && !c.isCA && c.emails.includes(email));
  }
  const capabilities = smime.capabilities?.filter((oid) => CONTENT_CIPHER_OIDS.has(oid));
  store.setPreference(email, {
    ...(preferred ? { certificate: store.learnCertificate(preferred) } : {}),
    ...(capabilities && capabilities.length > 0 ? { capabilities } : {}),
    signingTime: o.check.signingTime ?? ctx.at,
  });
}

/** The header section of the signed entity, or none when the content is not MIME (binary eContent). */
function headersOfEntity(content: Uint8Array): Header[] {
  try {
    return parseEntity(content).headers;
  } catch {
    return [];
  }
}

/** Verifies a SignedData over `content` (detached) or its own eContent. Internal: also used by openMessage. */
export async function verifySignedCms(
  der: Uint8Array,
  detachedContent: Uint8Array | undefined,
  ctx: VerifyContext,
): Promise<{ content: Uint8Array; signers: SignerResult[] }> {
  const sd = withBerLimits(berLimits(ctx.limits), () => parseSignedData(der, ctx.limits));
  const content = detachedContent ?? sd.eContent;
  if (!content) throw new CMSInvalid('signed-data has no content (a detached signature without the signed part)');
  const signers: SignerResult[] = [];
  // No From outside (e.g. OpenSSL output, where the whole message is the signed entity): the signed entity's own
  // From, which the signature covers, is the address to check (for this layer only: a copy of the context).
  const c = ctx.from ? ctx : { ...ctx };
  if (!ctx.from) noteHeaders(c, headersOfEntity(content));
  for (const si of sd.signerInfos) {
    const o = await evaluateSigner(sd, si, content, c);
    signers.push(o.result);
    if (o.result.status === 'valid' && ctx.harvest) harvest(sd, o, c);
  }
  return { content, signers };
}

const PKCS7_MIME = new Set(['application/pkcs7-mime', 'application/x-pkcs7-mime']);

/** What kind of S/MIME entity `bytes` is, by its Content-Type (or raw DER). */
export function smimeKindOf(
  bytes: Uint8Array,
  limits: Limits = DEFAULT_LIMITS,
): { kind: 'multipart-signed' | 'pkcs7-mime' | 'der' | 'other'; headers: Header[]; type: string } {
  if (bytes.length > 0 && bytes[0] === 0x30) return { kind: 'der', headers: [], type: '' };
  const e = parseEntity(bytes, mimeLimits(limits));
  const ct = parseContentType(getHeader(e, 'content-type') ?? 'text/plain');
  if (ct.type === 'multipart/signed') return { kind: 'multipart-signed', headers: e.headers, type: ct.type };
  if (PKCS7_MIME.has(ct.type)) return { kind: 'pkcs7-mime', headers: e.headers, type: ct.type };
  if (ct.type === 'application/octet-stream') {
    const name = ct.params.name ?? parseContentType(getHeader(e, 'content-disposition') ?? '').params.filename ?? '';
    if (/\.p7m$/i.test(name)) return { kind: 'pkcs7-mime', headers: e.headers, type: ct.type };
  }
  return { kind: 'other', headers: e.headers, type: ct.type };
}

/** Internal: the context for openMessage. */
export function verifyContext(options: VerifyOptions, headers: readonly Header[], what: string): VerifyContext {
  return makeContext(options, headers, what);
}
export type { VerifyContext };

/**
 * Verifies a signed message (`multipart/signed` or opaque signed-data): every signer gets a status (the worst that
 * applies, see {@link SignerStatus}) and every finding in `reasons`. A message that does not verify is a result,
 * not an error; only input that is not a signed message (or is malformed) throws.
 *
 * @example
 * ```ts
 * const { content, signers } = await verifyMessage(message, { store });
 * if (signers.every((s) => s.status === 'valid')) show(content);
 * ```
 */
export async function verifyMessage(message: Uint8Array | string, options: VerifyOptions): Promise<VerifyResult> {
  const bytes = toBytes(message, 'verifyMessage: message');
  const limits = inputLimits(bytes, `verifyMessage`, options?.store?.limits, options?.limits);
  const k = smimeKindOf(bytes, limits);
  const ctx = makeContext(options, k.headers, 'verifyMessage');
  if (k.kind === 'multipart-signed') {
    const ms = parseMultipartSigned(bytes, mimeLimits(limits));
    const r = await verifySignedCms(ms.signature, ms.signedPart, ctx);
    return { content: r.content, signers: r.signers, detached: true };
  }
  if (k.kind === 'pkcs7-mime' || k.kind === 'der') {
    const { der } = extractCms(bytes, mimeLimits(limits));
    const r = await verifySignedCms(der, undefined, ctx);
    return { content: r.content, signers: r.signers, detached: false };
  }
  throw new MIMEInvalid(`not a signed message: Content-Type is ${k.type || '(none)'}`);
}
