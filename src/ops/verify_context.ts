/**
 * The options of a verification (verifyMessage, openMessage) and the context a call builds from them once: the
 * policy, the time, the limits and path-building budget, the CRLs, and the From binding the signers' addresses are
 * checked against.
 */
import type { CertificateStore } from '../store/store.js';
import { storeInternals } from '../store/internal.js';
import { checkOption } from '../lib/args.js';
import type { PolicyOptions } from '../path/policy_tree.js';
import { checkPolicyOptions } from '../path/path_validation.js';
import { pemCrls } from '../certs/load.js';
import { parseCrl, type ParsedCrl } from '../certs/crl.js';
import { PathBudget, resolveLimits, type Limits } from '../lib/limits.js';
import { resolvePolicyFor, type AlgorithmPolicy } from '../crypto/policy.js';
import type { Header } from '../mime/entity.js';
import { fromBinding, isMessageHeader, type FromBinding } from '../mime/address.js';
import type { OnlineOptions } from '../store/online.js';
import type { OnlineRevocation } from '../path/online.js';

/**
 * The options of verifyMessage (and, through OpenOptions, of openMessage). `fetch`, `revocation` and
 * `onlineLimits` replace the store's for this call (see the README's "Revocation").
 */
export interface VerifyOptions extends OnlineOptions {
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

/** The state of one verification call, shared by every signed layer and signer it verifies. */
export interface VerifyContext {
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
  /** Online revocation and AIA chain completion of this call, when a fetch is given and the policy is on. */
  online?: OnlineRevocation;
  /** Without `online`: the stapled OCSP responses of a message are still read (offline evidence). */
  offline?: OnlineRevocation;
}

/** Takes a header section's From (when none was found yet) and notes whether it is a message header. */
export function noteHeaders(ctx: VerifyContext, headers: readonly Header[]): void {
  if (!ctx.from) ctx.from = fromBinding(headers);
  if (!ctx.messageHeader) ctx.messageHeader = isMessageHeader(headers);
}

/** Checks the options and builds the context of a call; `what` names the operation in error messages. */
export function verifyContext(options: VerifyOptions, headers: readonly Header[], what: string): VerifyContext {
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
    ...onlineOf(internals, options, `${what}: options`),
  };
}

/** The call's online side, or (the policy off, or no fetch) its offline side that reads stapled responses. */
function onlineOf(internals: ReturnType<typeof storeInternals>, options: VerifyOptions, what: string): { online?: OnlineRevocation; offline?: OnlineRevocation } {
  const online = internals.online(options, what);
  return online ? { online } : { offline: internals.offline(options, what) };
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
