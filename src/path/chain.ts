/**
 * Path building: from a leaf, through the store's intermediates (and the message's certificates), up to a trust
 * anchor; each complete candidate path is then validated as RFC 5280 §6.1 says (path/path_validation.ts: validity,
 * basicConstraints, pathLenConstraint, keyUsage, name constraints, policies, unknown critical extensions, and
 * revocation by RFC 5280 §6.3 CRL validation). The first candidate that validates is the answer; when none does,
 * the findings of the first complete candidate say why.
 *
 * Certificate signatures are checked while building, by the same code as message signatures (crypto/signatures.ts
 * `verifySignature`: RSA PKCS#1 v1.5 with any hash including MD5/SHA-224, RSA-PSS, ECDSA, Ed25519), so an old MD5
 * or SHA-1 chain verifies when the policy allows weak algorithms; names (matched by RFC 5280 §7.1, certs/names.ts,
 * not byte for byte) and key identifiers link the certificates. Self-issued CA certificates (key rollover: old key
 * signs new, new signs old) take part like any intermediate.
 *
 * Path building is bounded: certificates that cross-sign each other would otherwise make the search exponential.
 * A path never returns to a subject and key it already holds (RFC 4158 §2.4.2 loop detection); a certificate whose
 * subtree reached no anchor at a depth is not explored again at that depth (unless a loop cut that subtree short,
 * which makes the failure depend on the path); and every candidate issuer and every signature check (CRL
 * signatures included) spends from a `PathBudget` shared by one whole verification call. Beyond the budget the
 * answer is `path-building-limit`, never a hang.
 */
import { WEAK_SIGNATURE_OIDS } from '../crypto/policy.js';
import { children, decodeOid, readTlv } from '../lib/der.js';
import { verifySignature } from '../crypto/signatures.js';
import { equal, latin1 } from '../lib/bytes.js';
import { PathBudget } from '../lib/limits.js';
import { LruMap } from '../lib/lru.js';
import type { ParsedCrl } from '../certs/crl.js';
import { isValidAt, type CertInfo } from '../certs/cert_info.js';
import { nameKey, namesMatch } from '../certs/names.js';
import { validatePath, worstProblem, type PathFinding } from './path_validation.js';
import type { PolicyOptions } from './policy_tree.js';
import type { OnlineRevocation } from './online.js';

/** The outcome of path building: a valid chain, or why there is none. */
export interface ChainResult {
  /** Leaf first, anchor last, when a chain was found. */
  chain?: CertInfo[];
  /**
   * Why no chain: 'untrusted' (no path to an anchor, or every path failed a check of RFC 5280 §6.1), 'expired' (a
   * certificate of the path was outside its validity), 'revoked' (one was revoked), 'weak-algorithm' (a path
   * needs a weak signature the policy refuses), 'path-building-limit' (the search spent the call's `PathBudget`
   * before it could answer).
   */
  problem?: 'untrusted' | 'expired' | 'revoked' | 'weak-algorithm' | 'path-building-limit';
  /** When a path reached an anchor but failed validation: every check it failed (see path_validation.ts). */
  findings?: PathFinding[];
  /** The user-constrained policy set of the valid chain (RFC 5280 §6.1.6). */
  policies?: string[];
  /**
   * Set by the store when no path reached an anchor but the leaf is trusted by an explicit decision of the user
   * (`CertificateStore.trustCertificate`): `chain` is then the leaf alone.
   */
  trustedExplicitly?: boolean;
  /** Findings of the valid chain that change no status (`revocation-unknown: …` under soft-fail). */
  notes?: string[];
}

/**
 * The status and reasons of a path building result that found no valid chain: its findings when a path reached an
 * anchor, else one finding for its problem.
 */
export function chainProblems(r: ChainResult): PathFinding[] {
  if (r.findings && r.findings.length > 0) return r.findings;
  if (r.problem === 'weak-algorithm') return [{ problem: 'untrusted', reason: 'chain-weak-algorithm' }];
  if (r.problem === 'expired') return [{ problem: 'expired', reason: 'issuer-expired' }];
  if (r.problem === 'path-building-limit') return [{ problem: 'untrusted', reason: 'path-building-limit' }];
  return [{ problem: 'untrusted', reason: 'no-chain-to-trust-anchor' }];
}

/** What `buildChain` may be told besides the certificates and the time. */
export interface BuildChainOptions {
  /** Accept MD5/SHA-1 certificate signatures (and CRL signatures). */
  allowWeak?: boolean;
  crypto?: Crypto;
  /** The budget of the whole verification call (shared by its signers); default: a fresh one with the default limits. */
  budget?: PathBudget;
  /** The initial policy inputs of RFC 5280 §6.1.1 (RFC 5280's defaults when absent). */
  policies?: PolicyOptions;
  /** CRLs for revocation checking (RFC 5280 §6.3). */
  crls?: readonly ParsedCrl[];
  /** Judge revocation at a claimed signing time (VerifyOptions.verifyAt). */
  atSigningTime?: boolean;
  /** The time CRLs must be current at, when not `at` (verifying at a signing time: now). */
  crlTime?: Date;
  /** Check the leaf's own validity (default true). */
  leafValidity?: boolean;
  /** How deep in CRL-signer paths this search is (internal: a CRL signer's path is built by a nested search). */
  crlSignerDepth?: number;
  /** The CRL signers whose paths are being validated by enclosing searches (internal), by DER. */
  crlSignersInProgress?: ReadonlySet<string>;
  /**
   * Online revocation and chain completion (path/online.ts): the status of each certificate the CRLs at hand leave
   * unknown, and the AIA caIssuers of a certificate whose issuer is not in the pool.
   */
  online?: OnlineRevocation;
}

/** At most this many intermediates are fetched by AIA for one path. */
const MAX_AIA_DEPTH = 4;

/**
 * AIA chain completion: from `leaf` up, while a certificate's issuer is neither an anchor nor in the pool, the
 * certificates its caIssuers URLs give. They are only candidates: path building checks them like any other.
 */
async function completeByAia(leaf: CertInfo, pool: readonly CertInfo[], anchors: readonly CertInfo[], online: OnlineRevocation, budget: PathBudget): Promise<CertInfo[]> {
  const extra: CertInfo[] = [];
  let cur = leaf;
  for (let k = 0; k < MAX_AIA_DEPTH && !cur.selfIssued; k++) {
    const c = cur;
    const known = (x: CertInfo) => !equal(x.der, c.der) && couldIssue(c, x);
    if (anchors.some(known) || pool.some(known) || extra.some(known)) break;
    const got = await online.caIssuers(c, budget);
    const next = got.find(known);
    if (!next) break;
    extra.push(...got);
    cur = next;
  }
  return extra;
}

/** How many CRL-signer paths may nest (a CRL signer's CRL signed by another CRL signer…). */
const MAX_CRL_SIGNER_DEPTH = 2;

const MAX_DEPTH = 8;
const verified = new WeakMap<Uint8Array, WeakMap<Uint8Array, boolean>>();

/**
 * Signature checks by content: the certificates inside each signed message are new arrays every time, so the
 * identity cache above misses them. The key is the whole DER of the certificate (what was signed, the algorithm and
 * the signature) and the issuer's whole public key, so a hit is the same check; public data only. Bounded. Only a
 * definitive answer of the verification is cached (true, or 'signature-mismatch'): a key WebCrypto refused, an
 * algorithm we lack or an exception says nothing about those bytes and is asked again next time.
 */
const verifiedByContent = new LruMap<string, boolean>(512);

/** Whether `issuer` signed `child`; 'limit' when a signature check was needed and the budget had none left. */
async function signedBy(child: CertInfo, issuer: CertInfo, budget: PathBudget, crypto?: Crypto): Promise<boolean | 'limit'> {
  let m = verified.get(child.der);
  const hit = m?.get(issuer.der);
  if (hit !== undefined) return hit;
  const contentKey = `${latin1(child.der)}\u0000${latin1(issuer.spki)}`;
  const known = verifiedByContent.get(contentKey);
  if (known !== undefined) {
    if (!m) verified.set(child.der, (m = new WeakMap()));
    m.set(issuer.der, known);
    return known;
  }
  if (!budget.spendSignatureCheck()) return 'limit';
  let ok: boolean;
  try {
    const der = child.signatureAlgorithm;
    const [oT, pT] = children(der, readTlv(der, 0));
    const alg = { oid: decodeOid(der, oT!), der, params: pT };
    const r = await verifySignature(alg, undefined, issuer, child.tbs, child.signature, crypto);
    if (!r.ok && r.reason !== 'signature-mismatch') return false; // no answer about these bytes: not cached
    ok = r.ok;
  } catch {
    return false; // not cached either
  }
  if (!m) verified.set(child.der, (m = new WeakMap()));
  m.set(issuer.der, ok);
  verifiedByContent.set(contentKey, ok);
  return ok;
}

function couldIssue(child: CertInfo, issuer: CertInfo): boolean {
  if (!namesMatch(child.issuer, issuer.subject)) return false;
  if (child.aki && issuer.ski && !equal(child.aki, issuer.ski)) return false;
  return true;
}

/** A possible intermediate and its number. */
interface Node {
  cert: CertInfo;
  id: number;
}

/**
 * The possible intermediates of one subject and key, in pool order: loop detection compares subject and key, so
 * it skips a whole group at once however many certificates (cross-certificates, re-issues) share them.
 */
interface Group {
  entity: string;
  nodes: Node[];
}

const entityOf = (c: CertInfo): string => `${nameKey(c.subject)}\u0000${latin1(c.spki)}`;

/**
 * The pool's possible intermediates (CA certificates, self-issued ones included: key rollover), each certificate
 * once, by subject (its `nameKey`, so a lookup by issuer name follows the RFC 5280 §7.1 rule of `couldIssue`), then
 * by key. A certificate that is not a CA stays in: path validation then says `not-a-ca`, which is more use to a
 * person than "no chain" (PKITS 4.6).
 */
function indexBySubject(pool: readonly CertInfo[]): Map<string, Group[]> {
  const out = new Map<string, Group[]>();
  const byEntity = new Map<string, Group>();
  const seen = new Set<string>();
  for (const c of pool) {
    const der = latin1(c.der);
    if (seen.has(der)) continue;
    seen.add(der);
    const entity = entityOf(c);
    let g = byEntity.get(entity);
    if (!g) {
      byEntity.set(entity, (g = { entity, nodes: [] }));
      const k = nameKey(c.subject);
      const groups = out.get(k);
      if (groups) groups.push(g);
      else out.set(k, [g]);
    }
    g.nodes.push({ cert: c, id: seen.size });
  }
  return out;
}

/**
 * The outcome of a subtree: a valid path; or none, with `loop` when a loop cut the subtree short and `reached` when
 * some path in it reached an anchor and failed validation (either makes the failure depend on the path below, so
 * the subtree is not memoised as a dead end); or the budget ran out.
 */
type Walk = { path: CertInfo[] } | { path?: undefined; loop: boolean; reached: boolean } | 'limit';

/**
 * Finds a valid path from `leaf` to one of `anchors`, using `pool` for intermediates, at `at`. Candidates are tried
 * depth first, anchors before intermediates, in pool order; each that reaches an anchor is validated
 * (path_validation.ts), and the first valid one is returned.
 */
export async function buildChain(
  leaf: CertInfo,
  initialPool: readonly CertInfo[],
  anchors: readonly CertInfo[],
  at: Date,
  opts: BuildChainOptions = {},
): Promise<ChainResult> {
  let pool = initialPool;
  const budget = opts.budget ?? new PathBudget();
  if (opts.online?.network && (opts.crlSignerDepth ?? 0) === 0) pool = [...pool, ...(await completeByAia(leaf, pool, anchors, opts.online, budget))];
  const bySubject = indexBySubject(pool);
  /** Subtrees that reached no anchor, as "certificate@depth", when no loop cut them short. */
  const deadEnds = new Set<string>();
  /** The subjects and keys on the current path. */
  const onPath = new Set<string>([entityOf(leaf)]);
  const path: CertInfo[] = [leaf];
  let sawWeak = false;
  let sawExpired = false;
  /** The findings of the first candidate that reached an anchor and failed validation. */
  let firstFailure: PathFinding[] | undefined;
  let limitHit = false;
  const depth = opts.crlSignerDepth ?? 0;
  const crlPool = [...pool, ...anchors];
  const validateCrlSigner = async (signer: CertInfo, anchor: CertInfo): Promise<boolean> => {
    const key = latin1(signer.der);
    // A CRL signer whose own revocation is established by a CRL it signed (PKITS 4.14.30: an indirect CRL issuer
    // covered by its own CRL): its path is being validated by the enclosing search, which decides.
    if (opts.crlSignersInProgress?.has(key)) return true;
    if (depth >= MAX_CRL_SIGNER_DEPTH) return false;
    const inProgress = new Set(opts.crlSignersInProgress ?? []).add(key);
    const r = await buildChain(signer, pool, [anchor], at, {
      ...opts,
      budget,
      policies: undefined,
      leafValidity: true,
      crlSignerDepth: depth + 1,
      crlSignersInProgress: inProgress,
    });
    if (r.problem === 'path-building-limit') limitHit = true;
    return r.chain !== undefined;
  };
  /** Validates a candidate that reached an anchor: the path when it is valid, else undefined (findings kept). */
  const complete = async (candidate: CertInfo[]): Promise<{ chain: CertInfo[]; policies?: string[]; notes?: string[] } | undefined> => {
    const v = await validatePath(candidate, {
      at,
      policies: opts.policies,
      crls: opts.crls,
      pool: crlPool,
      atSigningTime: opts.atSigningTime,
      crlTime: opts.crlTime,
      leafValidity: opts.leafValidity,
      allowWeak: opts.allowWeak,
      crypto: opts.crypto,
      budget,
      validateCrlSigner,
      online: opts.online,
    });
    if (v.ok) return { chain: candidate, policies: v.policies, notes: v.notes };
    firstFailure ??= v.findings;
    return undefined;
  };
  let found: { chain: CertInfo[]; policies?: string[]; notes?: string[] } | undefined;
  const accept = async (candidate: CertInfo[]): Promise<boolean> => {
    const v = await complete(candidate);
    if (v) found = v;
    return v !== undefined;
  };
  /**
   * Whether `issuer` cannot issue `cert` on any path: outside its validity (checked first, so an old chain that is
   * both expired and weak reads `expired`, as before path validation), or `cert`'s signature algorithm is weak.
   */
  const refused = (cert: CertInfo, issuer: CertInfo): boolean => {
    if (!isValidAt(issuer, at)) {
      sawExpired = true;
      return true;
    }
    return weakRefused(cert);
  };
  const weakRefused = (cert: CertInfo): boolean => {
    if (opts.allowWeak || !WEAK_SIGNATURE_OIDS.has(cert.signatureAlgorithmOid)) return false;
    sawWeak = true;
    return true;
  };
  const walk = async (cert: CertInfo): Promise<Walk> => {
    // Is the cert itself an anchor?
    if (anchors.some((a) => equal(a.der, cert.der))) {
      if (await accept([...path])) return { path: found!.chain };
      return { loop: false, reached: true };
    }
    if (path.length > MAX_DEPTH) return { loop: false, reached: false };
    let reached = false;
    for (const anchor of anchors) {
      if (!couldIssue(cert, anchor) || refused(cert, anchor)) continue;
      if (!budget.spendCandidate()) return 'limit';
      const ok = await signedBy(cert, anchor, budget, opts.crypto);
      if (ok === 'limit') return 'limit';
      if (!ok) continue;
      reached = true;
      if (await accept([...path, anchor])) return { path: found!.chain };
    }
    let loop = false;
    for (const { entity, nodes } of bySubject.get(nameKey(cert.issuer)) ?? []) {
      if (onPath.has(entity)) {
        loop = true;
        continue;
      }
      const r = await tryGroup(cert, entity, nodes);
      if (r === 'limit' || r.path) return r;
      if (r.loop) loop = true;
      if (r.reached) reached = true;
    }
    return { loop, reached };
  };
  /** The certificates of one subject and key as issuers of `cert`. */
  const tryGroup = async (cert: CertInfo, entity: string, nodes: Node[]): Promise<Walk> => {
    let loop = false;
    let reached = false;
    for (const { cert: inter, id } of nodes) {
      if (cert.aki && inter.ski && !equal(cert.aki, inter.ski)) continue;
      const key = `${id}@${path.length}`;
      if (deadEnds.has(key) || refused(cert, inter)) continue;
      if (!budget.spendCandidate()) return 'limit';
      const ok = await signedBy(cert, inter, budget, opts.crypto);
      if (ok === 'limit') return 'limit';
      if (!ok) continue;
      path.push(inter);
      onPath.add(entity);
      const r = await walk(inter);
      path.pop();
      onPath.delete(entity);
      if (r === 'limit' || r.path) return r;
      if (r.loop) loop = true;
      if (r.reached) reached = true;
      if (!r.loop && !r.reached) deadEnds.add(key);
    }
    return { loop, reached };
  };
  const r = await walk(leaf);
  if (r === 'limit' || limitHit) {
    if (r !== 'limit' && r.path) return { chain: r.path, policies: found?.policies, ...(found?.notes ? { notes: found.notes } : {}) };
    return { problem: 'path-building-limit' };
  }
  if (r.path) return { chain: r.path, policies: found?.policies, ...(found?.notes ? { notes: found.notes } : {}) };
  if (firstFailure) return { problem: worstProblem(firstFailure) ?? 'untrusted', findings: firstFailure };
  return { problem: sawWeak ? 'weak-algorithm' : sawExpired ? 'expired' : 'untrusted' };
}
