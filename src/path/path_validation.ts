/**
 * Certification path validation (RFC 5280 §6.1) of one candidate path that path building (path/chain.ts) found:
 * the certificates are already linked by name (§7.1) and by signature, each signature within the algorithm policy.
 * This module runs the rest of §6.1 over the path, in one place, for verifyMessage, openMessage, encryptMessage's
 * trust decision and `CertificateStore.verifyCertificate` alike:
 *
 * - validity of every certificate at the time asked (§6.1.3 (a)(2)); the trust anchor's too, as `openssl verify`
 *   checks it;
 * - revocation (§6.1.3 (a)(3)) by RFC 5280 §6.3 CRL validation (path/revocation.ts), for every certificate but the
 *   anchor, required below the first CA of the path that has a CRL at hand (see `revocationRequiredFrom`);
 * - name constraints (§6.1.3 (b)(c), §6.1.4 (g); path/name_constraints.ts);
 * - the certificate policy tree with the four initial inputs (§6.1.3 (d)–(f), §6.1.4 (a)(b)(h)–(j), §6.1.5;
 *   path/policy_tree.ts);
 * - basicConstraints cA, pathLenConstraint over the non-self-issued intermediates, keyUsage keyCertSign
 *   (§6.1.4 (k)–(n)), and the trust anchor's own keyUsage and pathLenConstraint when its certificate states them
 *   (RFC 5937 §3, as `openssl verify` does);
 * - unknown critical extensions refused (§6.1.4 (o), §6.1.5 (f)).
 *
 * Every failure becomes a finding: the status it leads to and a reason a person can act on. All of them are
 * reported, not only the first, so the caller sees, say, both `issuer-expired` and `path-length-exceeded`.
 */
import type { ParsedCrl } from '../certs/crl.js';
import type { PathBudget } from '../lib/limits.js';
import { isValidAt, KU, OID, type CertInfo } from '../certs/cert_info.js';
import { checkNameConstraints } from './name_constraints.js';
import { namesMatch } from '../certs/names.js';
import { processPolicies, type PolicyOptions } from './policy_tree.js';
import { checkRevocation, type RevocationStatus } from './revocation.js';
import type { OnlineRevocation, OnlineStatus } from './online.js';

/** What a failed check leads to, worst first: no trustworthy path, a certificate outside its validity, a revocation. */
export type PathProblem = 'untrusted' | 'expired' | 'revoked';

/** One failed check of a path. */
export interface PathFinding {
  problem: PathProblem;
  /** E.g. 'path-length-exceeded', 'name-constraints-violated: rfc822Name a@b.example', 'revoked: 2010-01-01T…'. */
  reason: string;
}

/** The inputs of §6.1.1 besides the path, and what the CRL checks need. */
export interface PathValidationOptions {
  /** The time the path is judged at (§6.1.1 (b)). */
  at: Date;
  /** The four initial policy inputs (§6.1.1 (c)(e)(f)(g)); RFC 5280's defaults when absent. */
  policies?: PolicyOptions;
  /** The CRLs to check revocation with (the message's, the call's, the store's). */
  crls?: readonly ParsedCrl[];
  /** Certificates that may have signed a CRL: the path building pool and the anchors. */
  pool?: readonly CertInfo[];
  /** Judge revocation at a (claimed) signing time: see VerifyOptions.verifyAt. */
  atSigningTime?: boolean;
  /** The time CRLs must be current at, when not `at` (verifying at a signing time: now). */
  crlTime?: Date;
  /** Check the end entity's own validity (default true; verifyMessage reports it itself, with more detail). */
  leafValidity?: boolean;
  allowWeak?: boolean;
  crypto?: Crypto;
  budget?: PathBudget;
  /**
   * RFC 5280 §6.3.3 (f): whether a CRL signer other than the certificate's issuer has a valid path to `anchor` (the
   * anchor of the path being validated), its revocation included. Supplied by path building; without it such a
   * CRL is not used.
   */
  validateCrlSigner?: (signer: CertInfo, anchor: CertInfo) => Promise<boolean>;
  /**
   * Online revocation (path/online.ts): asked about every certificate of the path whose status the CRLs at hand do
   * not establish. Its policy decides what an unknown status does: a note (soft-fail) or `untrusted` (hard-fail).
   */
  online?: OnlineRevocation;
}

/** The outcome: valid with the user-constrained policy set, or the findings. */
export interface PathValidation {
  ok: boolean;
  findings: PathFinding[];
  /** The user-constrained policy set (§6.1.6), when valid: ['2.5.29.32.0'] (anyPolicy) when no policy constrains it. */
  policies?: string[];
  /** Findings that change no status: `revocation-unknown: …` of an online check under soft-fail. */
  notes?: string[];
}

/** The extensions path validation processes or knows to be harmless when critical (§6.1.4 (o)). */
const KNOWN_EXTENSIONS = new Set<string>([
  OID.ski,
  OID.keyUsage,
  OID.san,
  '2.5.29.18', // issuerAltName
  OID.basicConstraints,
  '2.5.29.30', // nameConstraints
  '2.5.29.31', // cRLDistributionPoints
  '2.5.29.32', // certificatePolicies
  '2.5.29.33', // policyMappings
  OID.aki,
  '2.5.29.36', // policyConstraints
  OID.eku,
  '2.5.29.46', // freshestCRL
  '2.5.29.54', // inhibitAnyPolicy
  '1.3.6.1.5.5.7.1.1', // authorityInfoAccess
  '1.3.6.1.5.5.7.1.11', // subjectInfoAccess
]);

const PRECEDENCE: readonly PathProblem[] = ['untrusted', 'expired', 'revoked'];

/** The worst problem among `findings`, or undefined when there is none. */
export function worstProblem(findings: readonly PathFinding[]): PathProblem | undefined {
  return PRECEDENCE.find((p) => findings.some((f) => f.problem === p));
}

/**
 * From which certificate on revocation must be established, in RFC 5280 order (0: the certificate the anchor
 * issued; `path.length`: none): the first whose issuer, or a CA above its issuer, has a CRL at hand. Once CRLs are
 * present at some level of the path, every certificate below that level needs a status, and one that no CRL gives
 * is not silently valid (PKITS 4.4.1, "Missing CRL": the root's CRL is there, the end entity's CA has none). Above
 * that level, and on a path with no CRL from its CAs at all, certificates are judged without revocation.
 */
export function revocationRequiredFrom(path: readonly CertInfo[], anchor: CertInfo, crls: readonly ParsedCrl[]): number {
  const hasCrl = (ca: CertInfo) => crls.some((crl) => namesMatch(crl.issuer, ca.subject));
  if (hasCrl(anchor)) return 0;
  for (let i = 1; i < path.length; i++) if (hasCrl(path[i - 1]!)) return i;
  return path.length;
}

/**
 * Validates `chain` (leaf first, trust anchor last, as path building returns it) as RFC 5280 §6.1 says.
 * A chain of the anchor alone (the signer's certificate is itself an anchor) is valid when the anchor is valid at `at`.
 */
export async function validatePath(chain: readonly CertInfo[], opts: PathValidationOptions): Promise<PathValidation> {
  const findings: PathFinding[] = [];
  const fail = (problem: PathProblem, reason: string) => {
    if (!findings.some((f) => f.reason === reason)) findings.push({ problem, reason });
  };
  const anchor = chain[chain.length - 1]!;
  // RFC 5280 order: path[0] is the certificate the anchor issued, path[n-1] the end entity.
  const path = chain.slice(0, -1).reverse();
  const n = path.length;
  const at = opts.at;

  // The trust anchor: its validity, and its own constraints when its certificate states them.
  if (!isValidAt(anchor, at)) {
    if (n > 0) fail('expired', 'issuer-expired');
    else if (opts.leafValidity !== false) fail('expired', expiredReason(anchor, at));
  }
  if (n > 0 && anchor.keyUsage !== undefined && anchor.keyUsage[KU.keyCertSign] !== true) fail('untrusted', 'ca-key-usage: keyCertSign');
  let maxPathLength = anchor.pathLen !== undefined ? Math.min(anchor.pathLen, n) : n;

  for (let i = 0; i < n; i++) {
    const cert = path[i]!;
    const last = i === n - 1;
    // (a)(2) validity
    if (!isValidAt(cert, at)) {
      if (!last) fail('expired', 'issuer-expired');
      else if (opts.leafValidity !== false) fail('expired', expiredReason(cert, at));
    }
    // (o) / §6.1.5 (f): critical extensions we do not process
    for (const ext of cert.extensions) {
      if (ext.critical && !KNOWN_EXTENSIONS.has(ext.oid)) fail('untrusted', `unknown-critical-extension: ${ext.oid}`);
    }
    if (last) break;
    // (k) a CA: basicConstraints with cA TRUE (a v1 or v2 certificate without it is no CA either)
    if (!cert.isCA) fail('untrusted', 'not-a-ca');
    // (l) pathLenConstraint counts the non-self-issued intermediates
    if (!cert.selfIssued) {
      if (maxPathLength <= 0) fail('untrusted', 'path-length-exceeded');
      maxPathLength--;
    }
    // (m)
    if (cert.pathLen !== undefined && cert.pathLen < maxPathLength) maxPathLength = cert.pathLen;
    // (n)
    if (cert.keyUsage !== undefined && cert.keyUsage[KU.keyCertSign] !== true) fail('untrusted', 'ca-key-usage: keyCertSign');
  }

  if (n > 0) {
    // (b)(c), (g): name constraints
    const nc = checkNameConstraints(path, opts.budget?.limits.maxNameConstraintChecks);
    if (!nc.ok) fail('untrusted', nc.reason);
  }
  // (d)–(f), (a)(b)(h)–(j), §6.1.5 (g): policies
  const pol = processPolicies(path, opts.policies, opts.budget?.limits.maxPolicyNodes);
  if (!pol.ok) fail('untrusted', pol.reason);

  // (a)(3) revocation, once the path is otherwise trustworthy: a refused path needs no CRL signature checked.
  const crls = opts.crls ?? [];
  const online = opts.online;
  const notes: string[] = [];
  if (n > 0 && (crls.length > 0 || online) && worstProblem(findings) !== 'untrusted') {
    const requiredFrom = crls.length > 0 ? revocationRequiredFrom(path, anchor, crls) : n;
    const unknown: PathFinding[] = [];
    let revoked = false;
    for (let i = 0; i < n; i++) {
      const cert = path[i]!;
      const issuer = i === 0 ? anchor : path[i - 1]!;
      const prefix = i === n - 1 ? '' : 'issuer-';
      const input = {
        cert,
        issuer,
        crls,
        pool: opts.pool ?? [],
        at,
        atSigningTime: opts.atSigningTime,
        crlTime: opts.crlTime,
        allowWeak: opts.allowWeak,
        crypto: opts.crypto,
        budget: opts.budget,
        validateCrlSigner: (signer: CertInfo) => (opts.validateCrlSigner ? opts.validateCrlSigner(signer, anchor) : Promise.resolve(false)),
      };
      let r: RevocationStatus | OnlineStatus | undefined = crls.length > 0 ? await checkRevocation(input) : undefined;
      // Online: asked when the CRLs at hand say nothing definitive (undefined: the certificate names nowhere to ask).
      let viaOnline = false;
      if (online && (!r || r.status === 'unknown')) {
        const o = await online.status(input);
        if (o) {
          // Nowhere to ask online: the reason the CRLs at hand gave (crl-stale…), when they gave one, is said too.
          r = o.status === 'unknown' && o.reason === 'no-revocation-source' && r?.status === 'unknown' ? { status: 'unknown', reason: `${r.reason}, ${o.reason}` } : o;
          viaOnline = true;
        }
      }
      if (!r) continue;
      if (r.status === 'revoked') {
        fail('revoked', prefix + revokedReason(r));
        revoked = true;
        break; // below a revoked CA nothing more is worth saying
      }
      if (r.status !== 'unknown') continue;
      const reason = `${prefix}revocation-unknown: ${r.reason}`;
      if (i >= requiredFrom || (viaOnline && online!.policy === 'hard-fail')) unknown.push({ problem: 'untrusted', reason });
      else if (viaOnline) notes.push(reason);
    }
    // A revocation is the verdict: that the status of a certificate above it is unknown changes nothing.
    if (!revoked) for (const f of unknown) fail(f.problem, f.reason);
  }
  if (findings.length > 0) return { ok: false, findings };
  return { ok: true, findings, policies: pol.ok ? pol.policies : [], ...(notes.length > 0 ? { notes } : {}) };
}

/** 'revoked: <date>' with ' (reason <code>)' when the CRL entry gives one. */
export function revokedReason(r: { date: Date; reason?: number }): string {
  return `revoked: ${r.date.toISOString()}${r.reason !== undefined ? ` (reason ${r.reason})` : ''}`;
}

function expiredReason(cert: CertInfo, at: Date): string {
  return at.getTime() < cert.notBefore.getTime() ? 'certificate-not-yet-valid' : 'certificate-expired';
}

const OID_SYNTAX = /^[0-2](\.(0|[1-9][0-9]*))+$/;

/**
 * Checks a caller's initial policy inputs (TypeError on a wrong type or an OID that is not dotted decimal) and
 * returns them as given; undefined stays undefined.
 */
export function checkPolicyOptions(what: string, options: PolicyOptions | undefined): PolicyOptions | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) throw new TypeError(`${what} must be an object`);
  const set = options.initialPolicySet;
  if (set !== undefined) {
    if (!Array.isArray(set) || set.length === 0) throw new TypeError(`${what}.initialPolicySet must be a non-empty array of OIDs`);
    for (const o of set) if (typeof o !== 'string' || !OID_SYNTAX.test(o)) throw new TypeError(`${what}.initialPolicySet: "${String(o)}" is not an OID`);
  }
  for (const k of ['requireExplicitPolicy', 'inhibitPolicyMapping', 'inhibitAnyPolicy'] as const) {
    if (options[k] !== undefined && typeof options[k] !== 'boolean') throw new TypeError(`${what}.${k} must be a boolean`);
  }
  return options;
}
