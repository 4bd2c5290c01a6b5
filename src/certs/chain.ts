/**
 * Chain building and checking: from a leaf, through the store's intermediates (and the message's certificates), up
 * to a trust anchor, at a given time. Certificate signatures are checked by the same code as message signatures
 * (cms/signed.ts `verifySignature`: RSA PKCS#1 v1.5 with any hash including MD5/SHA-224, RSA-PSS, ECDSA, Ed25519),
 * so an old MD5 or SHA-1 chain verifies when the policy allows weak algorithms; names (matched by RFC 5280 §7.1,
 * certs/names.ts, not byte for byte) and key identifiers link the certificates; each issuer must be a CA valid at that time, allowed to sign certificates (keyUsage, when present,
 * asserts keyCertSign) and not below more intermediates than its pathLenConstraint allows (RFC 5280 §6.1.4 (k)–(n)).
 *
 * The trust anchor's own keyUsage and pathLenConstraint are checked too, when the anchor certificate states them:
 * RFC 5280 leaves that to the implementation (RFC 5937 §3 says to honour them), and `openssl verify` refuses both
 * (X509_V_ERR_PATH_LENGTH_EXCEEDED, X509_V_ERR_KEYUSAGE_NO_CERTSIGN on a root); test/security/chain.test.ts pins it.
 *
 * Path building is bounded: certificates that cross-sign each other would otherwise make the search exponential.
 * A path never returns to a subject and key it already holds (RFC 4158 §2.4.2 loop detection); a certificate whose
 * subtree failed at a depth is not explored again at that depth (unless a loop cut that subtree short, which makes
 * the failure depend on the path); and every candidate issuer and every signature check spends from a `PathBudget`
 * shared by one whole verification call. Beyond the budget the answer is `path-building-limit`, never a hang.
 */
import { WEAK_SIGNATURE_OIDS } from '../crypto/policy.js';
import { children, decodeOid, readTlv } from '../cms/der.js';
import { verifySignature } from '../cms/signed.js';
import { equal, latin1 } from '../lib/bytes.js';
import { PathBudget } from '../lib/limits.js';
import { LruMap } from '../lib/lru.js';
import { isValidAt, KU, type CertInfo } from './cert_info.js';
import { nameKey, namesMatch } from './names.js';

/** The outcome of path building: a chain, or why there is none. */
export interface ChainResult {
  /** Leaf first, anchor last, when a chain was found. */
  chain?: CertInfo[];
  /**
   * Why no chain: 'untrusted' (no path to an anchor), 'expired' (an issuer was outside its validity),
   * 'weak-algorithm' (a path needs a weak signature the policy refuses), 'path-building-limit' (the search spent the
   * call's `PathBudget` before it could answer).
   */
  problem?: 'untrusted' | 'expired' | 'weak-algorithm' | 'path-building-limit';
}

/** What `buildChain` may be told besides the certificates and the time. */
export interface BuildChainOptions {
  /** Accept MD5/SHA-1 certificate signatures. */
  allowWeak?: boolean;
  crypto?: Crypto;
  /** The budget of the whole verification call (shared by its signers); default: a fresh one with the default limits. */
  budget?: PathBudget;
}

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

/**
 * RFC 5280 §6.1.4 (l)–(n) for an issuer with `below` non-self-issued intermediates between it and the leaf: its
 * pathLenConstraint must allow them, and its keyUsage, when present, must assert keyCertSign.
 */
function mayIssue(issuer: CertInfo, below: number): boolean {
  if (issuer.keyUsage !== undefined && issuer.keyUsage[KU.keyCertSign] !== true) return false;
  return issuer.pathLen === undefined || below <= issuer.pathLen;
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
 * The pool's possible intermediates (CAs, not self-issued), each certificate once, by subject (its `nameKey`, so a
 * lookup by issuer name follows the RFC 5280 §7.1 rule of `couldIssue`), then by key.
 */
function indexBySubject(pool: readonly CertInfo[]): Map<string, Group[]> {
  const out = new Map<string, Group[]>();
  const byEntity = new Map<string, Group>();
  const seen = new Set<string>();
  for (const c of pool) {
    if (c.selfIssued || !c.isCA) continue;
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

/** The outcome of a subtree: a path, or none (`loop` when a loop cut it short), or the budget ran out. */
type Walk = { path: CertInfo[] } | { path?: undefined; loop: boolean } | 'limit';

/**
 * Finds a path from `leaf` to one of `anchors`, using `pool` for intermediates. Every certificate on the path must
 * be valid at `at`. Returns the first path found (depth first, anchors before intermediates, pool order).
 */
export async function buildChain(
  leaf: CertInfo,
  pool: readonly CertInfo[],
  anchors: readonly CertInfo[],
  at: Date,
  opts: BuildChainOptions = {},
): Promise<ChainResult> {
  const budget = opts.budget ?? new PathBudget();
  const bySubject = indexBySubject(pool);
  /** Subtrees that failed, as "certificate@depth", when no loop cut them short. */
  const deadEnds = new Set<string>();
  /** The subjects and keys on the current path. */
  const onPath = new Set<string>([entityOf(leaf)]);
  const path: CertInfo[] = [leaf];
  let sawExpired = false;
  let sawWeak = false;
  const usable = (cert: CertInfo, issuer: CertInfo, below: number): boolean => {
    if (!isValidAt(issuer, at)) {
      sawExpired = true;
      return false;
    }
    if (!opts.allowWeak && WEAK_SIGNATURE_OIDS.has(cert.signatureAlgorithmOid)) {
      sawWeak = true;
      return false;
    }
    return mayIssue(issuer, below);
  };
  const walk = async (cert: CertInfo): Promise<Walk> => {
    // Is the cert itself an anchor?
    if (anchors.some((a) => equal(a.der, cert.der))) return { path: [...path] };
    if (path.length > MAX_DEPTH) return { loop: false };
    // Pool certificates are never self-issued, so every one on the path after the leaf counts (§6.1.4 (l)).
    const below = path.length - 1;
    for (const anchor of anchors) {
      if (!couldIssue(cert, anchor) || !usable(cert, anchor, below)) continue;
      if (!budget.spendCandidate()) return 'limit';
      const ok = await signedBy(cert, anchor, budget, opts.crypto);
      if (ok === 'limit') return 'limit';
      if (ok) return { path: [...path, anchor] };
    }
    let loop = false;
    for (const { entity, nodes } of bySubject.get(nameKey(cert.issuer)) ?? []) {
      if (onPath.has(entity)) {
        loop = true;
        continue;
      }
      const r = await tryGroup(cert, entity, nodes, below);
      if (r === 'limit' || r.path) return r;
      if (r.loop) loop = true;
    }
    return { loop };
  };
  /** The certificates of one subject and key as issuers of `cert`. */
  const tryGroup = async (cert: CertInfo, entity: string, nodes: Node[], below: number): Promise<Walk> => {
    let loop = false;
    for (const { cert: inter, id } of nodes) {
      if (cert.aki && inter.ski && !equal(cert.aki, inter.ski)) continue;
      const key = `${id}@${path.length}`;
      if (deadEnds.has(key) || !usable(cert, inter, below)) continue;
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
      else deadEnds.add(key);
    }
    return { loop };
  };
  const r = await walk(leaf);
  if (r === 'limit') return { problem: 'path-building-limit' };
  if (r.path) return { chain: r.path };
  return { problem: sawWeak ? 'weak-algorithm' : sawExpired ? 'expired' : 'untrusted' };
}
