/**
 * Certificate revocation by CRLs as RFC 5280 §6.3 specifies: for each distribution point of the certificate (its
 * cRLDistributionPoints, or its issuer as the CRL issuer when it has none), the complete CRLs whose issuer and scope
 * match (§6.3.3 (b): issuingDistributionPoint names incl. nameRelativeToCRLIssuer, onlyContainsUserCerts /
 * CACerts / AttributeCerts, indirect CRLs with the distribution point's cRLIssuer), fresh at the time asked,
 * without unknown critical extensions, signed by a key allowed to sign CRLs for that issuer (§6.3.3 (f)–(g): the
 * certificate's issuer itself, or another certificate with the CRL issuer's name whose path the caller validates),
 * each with the delta CRL that applies to it (§6.3.3 (c)), until the reasons they cover add up to all reasons
 * (reasons_mask, §6.3.3 (d), (e), (l)).
 *
 * The work is bounded: at most 64 distribution points, every CRL signature check spends from the caller's
 * `PathBudget`, and signature results are cached per (CRL, signer key).
 */
import { getCrypto } from '../crypto/provider.js';
import { isWeakHash } from '../crypto/policy.js';
import { verifySignature } from '../crypto/signatures.js';
import { equal, latin1, toHex } from '../lib/bytes.js';
import type { PathBudget } from '../lib/limits.js';
import { LruMap } from '../lib/lru.js';
import { KU, type CertInfo } from '../certs/cert_info.js';
import { CRL_OID, type CrlEntry, type ParsedCrl } from '../certs/crl.js';
import {
  ALL_REASONS,
  appendRdn,
  parseDistributionPoints,
  type DistributionPoint,
  type DistributionPointName,
  type GeneralName,
} from '../certs/distribution_points.js';
import { namesMatch } from '../certs/names.js';
import { SmimeError } from '../errors.js';

/** What `checkRevocation` is asked about, and with what. */
export interface RevocationInput {
  /** The certificate whose status is asked (its `isCA` decides onlyContainsUserCerts / onlyContainsCACerts scope). */
  cert: CertInfo;
  /** The certificate that issued `cert` on the path being validated (the trust anchor for the first one). */
  issuer: CertInfo;
  /** The CRLs available (complete and delta). */
  crls: readonly ParsedCrl[];
  /** Certificates that may be a CRL's signer (the message's, the store's, the anchors): separate CRL signing keys, indirect CRL issuers. */
  pool: readonly CertInfo[];
  /** The time the status is asked for: CRLs must be current then (thisUpdate ≤ at ≤ nextUpdate), unless `crlTime` says otherwise. */
  at: Date;
  /**
   * The time CRLs must be current at, when it is not `at`: verifying at a claimed signing time, the CRLs are those
   * of now (a CRL issued after the signing time is the evidence asked for), so this is "now". Default: `at`.
   */
  crlTime?: Date;
  /**
   * Verification at the claimed signing time: then only a compromise reason (or none) revokes for a signature made
   * before the revocation date; otherwise a revocation dated at or before `at` counts whatever its reason.
   */
  atSigningTime?: boolean;
  /** Accept CRLs signed with MD5 or SHA-1. */
  allowWeak?: boolean;
  crypto?: Crypto;
  /**
   * RFC 5280 §6.3.3 (f): validates the certification path of a CRL signer other than `issuer` (same name and another
   * key, or an indirect CRL issuer) to the same trust anchor, its own revocation included. Supplied by path validation.
   */
  validateCrlSigner(signer: CertInfo): Promise<boolean>;
  /** Spends one signature check per CRL signature verified (src/lib/limits.ts PathBudget.spendSignatureCheck). */
  budget?: PathBudget;
}

/**
 * Why a certificate's status could not be determined, from the least to the most specific (the most specific one
 * seen is reported):
 * - `no-crl`: no CRL from the certificate's CRL issuer at all;
 * - `crl-delta-without-base`: only delta CRLs from that issuer, none with its complete CRL;
 * - `crl-out-of-scope`: CRLs from that issuer, none covering this certificate (issuingDistributionPoint);
 * - `crl-not-yet-valid`: a CRL whose thisUpdate is after the time asked;
 * - `crl-stale`: a CRL (or the delta CRL it needs) whose nextUpdate is before the time asked;
 * - `crl-unknown-critical-extension`: a CRL, or one of its entries, with a critical extension we don't understand;
 * - `crl-signature-invalid`: no certificate with the CRL issuer's name verifies the CRL's signature;
 * - `crl-unsupported-algorithm`: the CRL's signature algorithm (or the signer's key) is one we don't implement (DSA…);
 * - `crl-weak-algorithm`: the CRL is signed with MD5/SHA-1 and weak algorithms are not allowed;
 * - `crl-signer-untrusted`: the key that signed the CRL may not sign CRLs (keyUsage without cRLSign) or its
 *   certificate's path is not valid;
 * - `crl-reasons-incomplete`: usable CRLs, but together they do not cover every revocation reason (onlySomeReasons);
 * - `crl-check-limit`: the call's signature-check budget ran out;
 * - `malformed-crl-distribution-points`: the certificate's cRLDistributionPoints extension is malformed.
 */
export type RevocationUnknownReason =
  | 'no-crl'
  | 'crl-delta-without-base'
  | 'crl-out-of-scope'
  | 'crl-not-yet-valid'
  | 'crl-stale'
  | 'crl-unknown-critical-extension'
  | 'crl-signature-invalid'
  | 'crl-unsupported-algorithm'
  | 'crl-weak-algorithm'
  | 'crl-signer-untrusted'
  | 'crl-reasons-incomplete'
  | 'crl-check-limit'
  | 'malformed-crl-distribution-points';

/** A certificate's revocation status. */
export type RevocationStatus =
  | { status: 'good' }
  | { status: 'revoked'; date: Date; reason?: number }
  | { status: 'unknown'; reason: RevocationUnknownReason };

/** The order of specificity of the unknown reasons (later is more specific). */
const SPECIFICITY: readonly RevocationUnknownReason[] = [
  'no-crl',
  'crl-delta-without-base',
  'crl-out-of-scope',
  'crl-not-yet-valid',
  'crl-stale',
  'crl-unknown-critical-extension',
  'crl-signature-invalid',
  'crl-unsupported-algorithm',
  'crl-weak-algorithm',
  'crl-signer-untrusted',
  'crl-reasons-incomplete',
];

/** Revocation reasons that revoke a certificate for every signature, whatever the revocation date. */
const COMPROMISE = new Set([undefined, 0, 1, 2, 10]);
/** CRLReason removeFromCRL (RFC 5280 §5.3.1): only in delta CRLs, it un-revokes. */
const REMOVE_FROM_CRL = 8;
/** At most this many distribution points of one certificate are looked at. */
const MAX_DISTRIBUTION_POINTS = 64;

/** CRL signature results by CRL identity, then by signer key. */
const sigByIdentity = new WeakMap<Uint8Array, Map<string, SigResult>>();
/** CRL signature results by content (SHA-256 of the CRL's DER and the signer's key): new parses of the same CRL. */
const sigByContent = new LruMap<string, SigResult>(512);

/** A definitive signature answer: verified or not, and the hash it used. */
interface SigResult {
  ok: boolean;
  hash?: string;
  /** Not verified because the algorithm or key is one we don't implement. */
  unsupported?: boolean;
}

/** Whether `signer` signed `crl`; 'limit' when a check was needed and the budget had none left. */
async function crlSignedBy(crl: ParsedCrl, signer: CertInfo, input: RevocationInput): Promise<SigResult | 'limit'> {
  const keyId = latin1(signer.spki);
  let m = sigByIdentity.get(crl.der);
  const hit = m?.get(keyId);
  if (hit) return hit;
  const digest = new Uint8Array(await getCrypto(input.crypto).subtle.digest('SHA-256', crl.der as Uint8Array<ArrayBuffer>));
  const contentKey = `${toHex(digest)}\u0000${keyId}`;
  let r = sigByContent.get(contentKey);
  if (!r) {
    if (input.budget && !input.budget.spendSignatureCheck()) return 'limit';
    try {
      const check = await verifySignature(crl.signatureAlgorithm, undefined, signer, crl.tbs, crl.signature, input.crypto);
      r = { ok: check.ok, hash: check.hash };
      // A key WebCrypto refused or an algorithm we lack says nothing about these bytes: not cached.
      if (!check.ok && check.reason !== 'signature-mismatch') return { ...r, unsupported: check.reason.startsWith('unsupported-algorithm') };
    } catch {
      return { ok: false };
    }
    sigByContent.set(contentKey, r);
  }
  if (!m) sigByIdentity.set(crl.der, (m = new Map()));
  m.set(keyId, r);
  return r;
}

/** RFC 5280 §7.1 for directory names, the same encoding for the other kinds of GeneralName. */
function generalNamesMatch(a: GeneralName, b: GeneralName): boolean {
  if (a.tag !== b.tag) return false;
  if (a.name && b.name) return namesMatch(a.name, b.name);
  return equal(a.der, b.der);
}

/** A directoryName GeneralName for a Name. */
const dirName = (name: Uint8Array): GeneralName => ({ tag: 4, der: new Uint8Array(0), name });

/** The full names of a DistributionPointName, a relative one appended to each of `issuers` (RFC 5280 §4.2.1.13). */
function fullNames(dp: DistributionPointName, issuers: readonly Uint8Array[]): GeneralName[] {
  if (dp.fullName) return dp.fullName;
  if (dp.nameRelativeToCRLIssuer) return issuers.map((n) => dirName(appendRdn(n, dp.nameRelativeToCRLIssuer!)));
  return [];
}

/** The directory names of a cRLIssuer field. */
const directoryNames = (names: readonly GeneralName[]): Uint8Array[] => names.flatMap((g) => (g.name ? [g.name] : []));

/** One distribution point as §6.3.3 uses it: its names, reasons and the names of its CRL issuer. */
interface Dp {
  dp: DistributionPoint;
  /** The directory names a CRL's issuer must match. */
  crlIssuers: Uint8Array[];
  /** Whether the CRL issuer is named by the distribution point's cRLIssuer (an indirect CRL is then required). */
  indirect: boolean;
  /** The distribution point's full names (empty when it has none). */
  names: GeneralName[];
  reasons: number;
}

function distributionPoints(cert: CertInfo): Dp[] | 'malformed' {
  const ext = cert.extensions.find((e) => e.oid === CRL_OID.cRLDistributionPoints);
  if (!ext) return [{ dp: {}, crlIssuers: [cert.issuer], indirect: false, names: [], reasons: ALL_REASONS }];
  let dps: DistributionPoint[];
  try {
    dps = parseDistributionPoints(ext.value);
  } catch (e) {
    if (e instanceof SmimeError) return 'malformed';
    throw e;
  }
  return dps.slice(0, MAX_DISTRIBUTION_POINTS).map((dp) => {
    const crlIssuers = dp.cRLIssuer ? directoryNames(dp.cRLIssuer) : [cert.issuer];
    return {
      dp,
      crlIssuers,
      indirect: dp.cRLIssuer !== undefined,
      names: dp.distributionPoint ? fullNames(dp.distributionPoint, crlIssuers) : [],
      reasons: dp.reasons ?? ALL_REASONS,
    };
  });
}

/** §6.3.3 (b)(1): the CRL's issuer is the distribution point's CRL issuer (an indirect CRL when named by cRLIssuer). */
function issuerMatches(crl: ParsedCrl, dp: Dp): 'yes' | 'no' | 'not-indirect' {
  if (!dp.crlIssuers.some((n) => namesMatch(n, crl.issuer))) return 'no';
  return !dp.indirect || crl.issuingDistributionPoint?.indirectCRL === true ? 'yes' : 'not-indirect';
}

/** §6.3.3 (b)(2): the CRL's scope (issuingDistributionPoint) covers this certificate and distribution point. */
function inScope(crl: ParsedCrl, dp: Dp, cert: CertInfo): boolean {
  const idp = crl.issuingDistributionPoint;
  if (!idp) return true;
  if (idp.distributionPoint) {
    const idpNames = fullNames(idp.distributionPoint, [crl.issuer]);
    // With a name in the DP, one of them; without, one of the DP's cRLIssuer names (or the certificate's issuer).
    const dpNames = dp.dp.distributionPoint ? dp.names : dp.crlIssuers.map(dirName);
    if (!idpNames.some((a) => dpNames.some((b) => generalNamesMatch(a, b)))) return false;
  }
  if (idp.onlyContainsUserCerts && cert.isCA) return false;
  if (idp.onlyContainsCACerts && !cert.isCA) return false;
  return !idp.onlyContainsAttributeCerts;
}

/** thisUpdate ≤ at ≤ nextUpdate (when present). */
function freshness(crl: ParsedCrl, at: Date): RevocationUnknownReason | undefined {
  if (crl.thisUpdate.getTime() > at.getTime()) return 'crl-not-yet-valid';
  if (crl.nextUpdate && crl.nextUpdate.getTime() < at.getTime()) return 'crl-stale';
  return undefined;
}

const unknownCritical = (crl: ParsedCrl): boolean => crl.unknownCritical.length > 0 || crl.unknownCriticalEntryExtension;

/**
 * The entry of `crl` about `cert` (its serial by value, and its issuer: the CRL issuer or the entry's
 * certificateIssuer). Only the entries with that serial are read, and only of a CRL whose signature was verified.
 */
function entryFor(crl: ParsedCrl, cert: CertInfo): CrlEntry | undefined {
  for (const e of crl.entriesFor(cert.serial)) {
    const issuers = e.certificateIssuer ?? [crl.issuer];
    if (issuers.some((n) => namesMatch(n, cert.issuer))) return e;
  }
  return undefined;
}

/** Whether a CRL entry revokes the certificate for a signature judged at `at` (see {@link RevocationInput.atSigningTime}). */
function revokes(e: CrlEntry, input: RevocationInput): boolean {
  if (e.reason === REMOVE_FROM_CRL) return false;
  return (input.atSigningTime === true && COMPROMISE.has(e.reason)) || e.date.getTime() <= input.at.getTime();
}

/** The outcome of looking for the key that signed a CRL. */
type SignerOutcome = { signer: CertInfo } | { problem: RevocationUnknownReason } | 'limit';

/**
 * §6.3.3 (f)–(g): a certificate with the CRL issuer's name whose key verifies the CRL's signature, allowed to sign
 * CRLs (keyUsage cRLSign when keyUsage is present), and either the issuer of the certificate asked about (same name
 * and key) or a certificate whose path `validateCrlSigner` accepts.
 */
async function findSigner(crl: ParsedCrl, input: RevocationInput, validated: Map<CertInfo, boolean>): Promise<SignerOutcome> {
  const { issuer } = input;
  const candidates: CertInfo[] = [];
  const seen = new Set<string>();
  for (const c of [issuer, ...input.pool]) {
    if (!namesMatch(c.subject, crl.issuer)) continue;
    if (crl.aki && c.ski && !equal(crl.aki, c.ski)) continue;
    const k = latin1(c.der);
    if (seen.has(k)) continue;
    seen.add(k);
    candidates.push(c);
  }
  let problem: RevocationUnknownReason = 'crl-signature-invalid';
  const worse = (p: RevocationUnknownReason) => {
    if (SPECIFICITY.indexOf(p) > SPECIFICITY.indexOf(problem)) problem = p;
  };
  for (const c of candidates) {
    const sig = await crlSignedBy(crl, c, input);
    if (sig === 'limit') return 'limit';
    if (!sig.ok) {
      if (sig.unsupported) worse('crl-unsupported-algorithm');
      continue;
    }
    if (!input.allowWeak && isWeakHash(sig.hash)) {
      worse('crl-weak-algorithm');
      continue;
    }
    if (c.keyUsage !== undefined && c.keyUsage[KU.cRLSign] !== true) {
      worse('crl-signer-untrusted');
      continue;
    }
    if (namesMatch(c.subject, issuer.subject) && equal(c.spki, issuer.spki)) return { signer: c };
    let ok = validated.get(c);
    if (ok === undefined) validated.set(c, (ok = await input.validateCrlSigner(c)));
    if (ok) return { signer: c };
    worse('crl-signer-untrusted');
  }
  return { problem };
}

/**
 * RFC 5280 §6.3.3 for one certificate of a path: 'revoked' (with the date and reason code), 'good' when usable
 * CRLs cover every reason, else 'unknown' with the most specific reason seen (see {@link RevocationUnknownReason}).
 */
export async function checkRevocation(input: RevocationInput): Promise<RevocationStatus> {
  const { cert, crls, at } = input;
  const dps = distributionPoints(cert);
  if (dps === 'malformed') return { status: 'unknown', reason: 'malformed-crl-distribution-points' };
  let problem: RevocationUnknownReason = 'no-crl';
  const worse = (p: RevocationUnknownReason) => {
    if (SPECIFICITY.indexOf(p) > SPECIFICITY.indexOf(problem)) problem = p;
  };
  const validated = new Map<CertInfo, boolean>();
  /** The signer found for each CRL (undefined: none). */
  const signers = new Map<ParsedCrl, CertInfo | undefined>();
  let reasonsMask = 0;
  let anyUsable = false;
  for (const dp of dps) {
    if (reasonsMask === ALL_REASONS) break;
    for (const crl of crls) {
      if (reasonsMask === ALL_REASONS) break;
      // (b)(1) the issuer
      const from = issuerMatches(crl, dp);
      if (from === 'no') continue;
      if (from === 'not-indirect') {
        worse('crl-out-of-scope'); // the CRL issuer named by cRLIssuer, but its CRL is not an indirect CRL
        continue;
      }
      if (crl.deltaCrlIndicator !== undefined) {
        worse('crl-delta-without-base'); // used below with its complete CRL, never alone
        continue;
      }
      // (b)(2) the scope
      if (!inScope(crl, dp, cert)) {
        worse('crl-out-of-scope');
        continue;
      }
      // (d), (e): the reasons it can add
      const interim = (crl.issuingDistributionPoint?.onlySomeReasons ?? ALL_REASONS) & dp.reasons;
      if ((interim & ~reasonsMask) === 0) continue;
      // (a) freshness
      const stale = freshness(crl, input.crlTime ?? at);
      if (stale) {
        worse(stale);
        continue;
      }
      if (unknownCritical(crl)) {
        worse('crl-unknown-critical-extension');
        continue;
      }
      // (f), (g) the signer and the signature
      let signer = signers.get(crl);
      if (!signers.has(crl)) {
        const found = await findSigner(crl, input, validated);
        if (found === 'limit') return { status: 'unknown', reason: 'crl-check-limit' };
        if ('problem' in found) worse(found.problem);
        signer = 'signer' in found ? found.signer : undefined;
        signers.set(crl, signer);
      }
      if (!signer) continue;
      // (c), (h) the delta CRL that applies to this complete CRL, if any
      const delta = await deltaFor(crl, signer, input);
      if (delta === 'limit') return { status: 'unknown', reason: 'crl-check-limit' };
      if (typeof delta === 'string') {
        worse(delta);
        continue;
      }
      anyUsable = true;
      // (i), (j), (k): the delta's entry first, then the complete CRL's; removeFromCRL un-revokes
      const e = (delta && entryFor(delta, cert)) ?? entryFor(crl, cert);
      if (e && revokes(e, input)) return { status: 'revoked', date: e.date, ...(e.reason !== undefined ? { reason: e.reason } : {}) };
      // (l)
      reasonsMask |= interim;
    }
  }
  if (reasonsMask === ALL_REASONS) return { status: 'good' };
  // Some reasons covered, the others by no CRL at all: the usable ones' onlySomeReasons left a gap.
  if (anyUsable && SPECIFICITY.indexOf(problem) <= SPECIFICITY.indexOf('crl-out-of-scope')) problem = 'crl-reasons-incomplete';
  return { status: 'unknown', reason: problem };
}

/**
 * §6.3.3 (c), (h): the newest delta CRL for `base`: the same issuer and scope (issuingDistributionPoint), a
 * deltaCRLIndicator at most the base's cRLNumber and a cRLNumber above it, current, no unknown critical extension,
 * signed by the same key. Undefined when there is none; a problem when there are such deltas but none is usable
 * (all stale, or wrongly signed) — the complete CRL alone is then not current either.
 */
async function deltaFor(base: ParsedCrl, signer: CertInfo, input: RevocationInput): Promise<ParsedCrl | undefined | RevocationUnknownReason | 'limit'> {
  if (base.crlNumber === undefined) return undefined;
  const idp = base.issuingDistributionPoint?.der;
  let best: ParsedCrl | undefined;
  let problem: RevocationUnknownReason | undefined;
  for (const d of input.crls) {
    if (d.deltaCrlIndicator === undefined || d.deltaCrlIndicator > base.crlNumber) continue;
    if (d.crlNumber !== undefined && d.crlNumber <= base.crlNumber) continue;
    if (!namesMatch(d.issuer, base.issuer)) continue;
    const didp = d.issuingDistributionPoint?.der;
    if ((idp === undefined) !== (didp === undefined) || (idp && didp && !equal(idp, didp))) continue;
    const stale = freshness(d, input.crlTime ?? input.at);
    if (stale) {
      problem ??= stale;
      continue;
    }
    if (unknownCritical(d)) {
      problem = 'crl-unknown-critical-extension';
      continue;
    }
    const sig = await crlSignedBy(d, signer, input);
    if (sig === 'limit') return 'limit';
    if (!sig.ok || (!input.allowWeak && isWeakHash(sig.hash))) {
      problem = sig.ok ? 'crl-weak-algorithm' : sig.unsupported ? 'crl-unsupported-algorithm' : 'crl-signature-invalid';
      continue;
    }
    if (!best || (d.crlNumber ?? 0n) > (best.crlNumber ?? 0n)) best = d;
  }
  return best ?? problem;
}
