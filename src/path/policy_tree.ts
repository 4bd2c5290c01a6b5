/**
 * Certificate policy processing of RFC 5280 §6.1 over a prospective certification path: the valid_policy_tree,
 * policy mappings, policyConstraints and inhibitAnyPolicy, and the final intersection with the
 * user-initial-policy-set. Pure and synchronous: no signature, no time, no I/O; path building calls it once the
 * path is known.
 *
 * The tree is kept as the "policy graph" of RFC 9618: at each depth one node per valid_policy, with the list of
 * its parents, instead of one copy of a node per path from the root. Policy mappings that map many policies to
 * many make the RFC 5280 tree grow exponentially with the path length (OpenSSL CVE-2023-0464); the graph holds
 * the same information (every root-to-node path of the graph is a node of the tree) in as many nodes as the
 * certificates name policies, and as many parent links as the mappings allow. Its nodes and parent links are
 * counted against `maxNodes`, so a hostile path ends in `policy-tree-limit`, not in exhausted memory.
 *
 * Policy qualifiers are checked for syntax and otherwise not kept: nothing here displays them.
 */
import { children, decodeOid, readTlv, TAG, type Tlv } from '../lib/der.js';
import type { CertInfo } from '../certs/cert_info.js';
import { DEFAULT_LIMITS } from '../lib/limits.js';

/** anyPolicy (RFC 5280 §4.2.1.4): the special policy OID 2.5.29.32.0. */
export const ANY_POLICY = '2.5.29.32.0';


/** RFC 5280 §6.1.1 (c), (e), (f), (g): the four initial policy inputs. Public: apps pass it to verifyMessage. */
export interface PolicyOptions {
  /** user-initial-policy-set; default [ANY_POLICY]. */
  initialPolicySet?: readonly string[];
  /** initial-explicit-policy; default false. */
  requireExplicitPolicy?: boolean;
  /** initial-policy-mapping-inhibit; default false. */
  inhibitPolicyMapping?: boolean;
  /** initial-any-policy-inhibit; default false. */
  inhibitAnyPolicy?: boolean;
}

/**
 * The result of policy processing. On success, `policies` is the user-constrained policy set (RFC 5280 §6.1.6,
 * computed as RFC 9618 §4.5 (g) does), sorted; `[]` when the tree is NULL and no explicit policy was required.
 * On failure, `reason` is one of `no-acceptable-policy`, `policy-mapping-invalid`, `policy-tree-limit` or
 * `malformed-extension: <name>` (`certificatePolicies`, `policyMappings`, `policyConstraints`, `inhibitAnyPolicy`).
 */
export type PolicyOutcome =
  | {
      ok: true;
      /** the user-constrained policy set (§6.1.6 (g)(iii)); [] when the tree is NULL and no explicit policy was required */
      policies: string[];
    }
  | { ok: false; reason: string };

/** The extensions this module reads (RFC 5280 §4.2.1.4, .5, .11, .14). */
const EXT = {
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  policyConstraints: '2.5.29.36',
  inhibitAnyPolicy: '2.5.29.54',
} as const;
type ExtName = keyof typeof EXT;

/** A node of the policy graph: one per valid_policy at its depth. */
interface PolicyNode {
  validPolicy: string;
  /** expected_policy_set: the policies a child of this node may carry (the mapped ones after a policyMappings). */
  expected: Set<string>;
  /** The nodes of the previous depth this node descends from (none at depth 0). */
  parents: PolicyNode[];
}

/** One depth of the graph, keyed by valid_policy. */
type Level = Map<string, PolicyNode>;

/** The policy extensions of one certificate, parsed. */
interface CertPolicies {
  /** certificatePolicies' policy OIDs in order (anyPolicy included), or undefined when the extension is absent. */
  policies?: string[];
  /** policyMappings as issuerDomainPolicy → subjectDomainPolicy values, or undefined when absent. */
  mappings?: Map<string, Set<string>>;
  /** policyConstraints requireExplicitPolicy. */
  requireExplicitPolicy?: number;
  /** policyConstraints inhibitPolicyMapping. */
  inhibitPolicyMapping?: number;
  /** inhibitAnyPolicy's SkipCerts. */
  inhibitAnyPolicy?: number;
}

/** Thrown inside this module only, and turned into `{ ok: false, reason }` by `processPolicies`. */
class PolicyFailure {
  constructor(readonly reason: string) {}
}

/**
 * Runs the certificate policy part of RFC 5280 §6.1 (§6.1.2 initialisation, §6.1.3 (d)–(f), §6.1.4 (a), (b),
 * (h)–(j), §6.1.5 (a), (b), (g)) over `path`, in RFC 5280 order with the trust anchor excluded: `path[0]` is the
 * certificate the anchor issued, the last one the end entity. Counters are decremented only for certificates that
 * are not self-issued (`cert.selfIssued`). `maxNodes` bounds the policy graph (nodes plus parent links, summed
 * over the path): beyond it the result is `{ ok: false, reason: 'policy-tree-limit' }`.
 *
 * Never throws for certificate content; a malformed policy extension is `malformed-extension: <name>`. A
 * `maxNodes` that is not a positive integer is a RangeError.
 */
export function processPolicies(path: readonly CertInfo[], options: PolicyOptions = {}, maxNodes = DEFAULT_LIMITS.maxPolicyNodes): PolicyOutcome {
  if (!Number.isSafeInteger(maxNodes) || maxNodes < 1) throw new RangeError('processPolicies: maxNodes must be a positive integer');
  try {
    return run(path, options, maxNodes);
  } catch (e) {
    if (e instanceof PolicyFailure) return { ok: false, reason: e.reason };
    throw e;
  }
}

function run(path: readonly CertInfo[], options: PolicyOptions, maxNodes: number): PolicyOutcome {
  const n = path.length;
  const initial = new Set(options.initialPolicySet ?? [ANY_POLICY]);
  // §6.1.2 (a): the tree starts as one anyPolicy node of depth 0 whose expected_policy_set is {anyPolicy}.
  const root: PolicyNode = { validPolicy: ANY_POLICY, expected: new Set([ANY_POLICY]), parents: [] };
  /** levels[d] holds the nodes of depth d; null is the NULL tree. */
  let levels: Level[] | null = [new Map([[ANY_POLICY, root]])];
  let size = 1;
  const grow = (k: number): void => {
    size += k;
    if (size > maxNodes) throw new PolicyFailure('policy-tree-limit');
  };
  // §6.1.2 (d), (e), (f).
  let explicitPolicy = options.requireExplicitPolicy ? 0 : n + 1;
  let inhibitAnyPolicy = options.inhibitAnyPolicy ? 0 : n + 1;
  let policyMapping = options.inhibitPolicyMapping ? 0 : n + 1;

  for (let i = 1; i <= n; i++) {
    const cert = path[i - 1]!;
    const ext = readPolicyExtensions(cert);

    // §6.1.3 (d), (e).
    if (ext.policies === undefined) levels = null;
    else if (levels !== null) {
      const prev = levels[i - 1]!;
      const level: Level = new Map();
      const anyParent = prev.get(ANY_POLICY);
      // The nodes of depth i-1 by the policies they expect: one pass, so no step below is a product of sizes.
      const byExpected = new Map<string, PolicyNode[]>();
      for (const node of prev.values()) {
        for (const p of node.expected) {
          const list = byExpected.get(p);
          if (list) list.push(node);
          else byExpected.set(p, [node]);
        }
      }
      // (d)(1): each policy other than anyPolicy goes under the nodes that expect it, or failing those under anyPolicy.
      for (const p of ext.policies) {
        if (p === ANY_POLICY) continue;
        const parents = byExpected.get(p) ?? (anyParent ? [anyParent] : undefined);
        if (!parents) continue;
        grow(1 + parents.length);
        level.set(p, { validPolicy: p, expected: new Set([p]), parents: [...parents] });
      }
      // (d)(2): anyPolicy in the certificate stands for every expected policy that no node of depth i has yet.
      if (ext.policies.includes(ANY_POLICY) && (inhibitAnyPolicy > 0 || (i < n && cert.selfIssued))) {
        for (const [p, parents] of byExpected) {
          if (level.has(p)) continue;
          grow(1 + parents.length);
          level.set(p, { validPolicy: p, expected: new Set([p]), parents: [...parents] });
        }
      }
      levels.push(level);
      // (d)(3): nodes left without a child go, up to the root.
      levels = prune(levels);
    }
    // §6.1.3 (f).
    if (explicitPolicy <= 0 && levels === null) return { ok: false, reason: 'no-acceptable-policy' };

    if (i === n) {
      // §6.1.5 (a), (b).
      if (explicitPolicy > 0) explicitPolicy--;
      if (ext.requireExplicitPolicy === 0) explicitPolicy = 0;
      break;
    }

    // §6.1.4 (a): no mapping to or from anyPolicy.
    if (ext.mappings) {
      for (const [from, tos] of ext.mappings) {
        if (from === ANY_POLICY || tos.has(ANY_POLICY)) return { ok: false, reason: 'policy-mapping-invalid' };
      }
    }
    // §6.1.4 (b).
    if (ext.mappings && levels !== null) {
      const level = levels[i]!;
      if (policyMapping > 0) {
        const any = level.get(ANY_POLICY);
        for (const [from, tos] of ext.mappings) {
          const node = level.get(from);
          if (node) node.expected = new Set(tos);
          else if (any) {
            // (b)(1): a mapped policy the certificate only covered by anyPolicy gets a node of its own, a sibling
            // of the anyPolicy node (whose one parent is the anyPolicy node of the depth above).
            grow(1 + any.parents.length);
            level.set(from, { validPolicy: from, expected: new Set(tos), parents: [...any.parents] });
          }
        }
      } else {
        // (b)(2): mapping inhibited: the issuer-domain policies are dropped, and what is left without a child.
        for (const from of ext.mappings.keys()) level.delete(from);
        levels = prune(levels);
      }
    }

    // §6.1.4 (h), (i), (j).
    if (!cert.selfIssued) {
      if (explicitPolicy > 0) explicitPolicy--;
      if (policyMapping > 0) policyMapping--;
      if (inhibitAnyPolicy > 0) inhibitAnyPolicy--;
    }
    if (ext.requireExplicitPolicy !== undefined && ext.requireExplicitPolicy < explicitPolicy) explicitPolicy = ext.requireExplicitPolicy;
    if (ext.inhibitPolicyMapping !== undefined && ext.inhibitPolicyMapping < policyMapping) policyMapping = ext.inhibitPolicyMapping;
    if (ext.inhibitAnyPolicy !== undefined && ext.inhibitAnyPolicy < inhibitAnyPolicy) inhibitAnyPolicy = ext.inhibitAnyPolicy;
  }

  // §6.1.5 (g), as RFC 9618 §4.5 (g) computes it on the graph. Every node reaches depth n (pruning kept none
  // without a child), so the authorities-constrained set is read off the nodes directly below anyPolicy nodes.
  const authority = new Set<string>();
  if (levels !== null && n > 0) {
    for (let d = 1; d <= n; d++) {
      for (const node of levels[d]!.values()) {
        // A node with an anyPolicy parent has no other parent: (d)(1)(ii) and (b)(1) give it that one alone.
        const belowAny = node.parents.length === 1 && node.parents[0]!.validPolicy === ANY_POLICY;
        if (belowAny && node.validPolicy !== ANY_POLICY) authority.add(node.validPolicy);
      }
    }
    if (levels[n]!.has(ANY_POLICY)) authority.add(ANY_POLICY);
  }
  let user: Set<string>;
  if (initial.has(ANY_POLICY)) user = authority;
  else {
    user = new Set([...initial].filter((p) => authority.has(p)));
    if (authority.has(ANY_POLICY)) for (const p of initial) user.add(p);
  }
  if (explicitPolicy > 0 || user.size > 0) return { ok: true, policies: [...user].sort() };
  return { ok: false, reason: 'no-acceptable-policy' };
}

/**
 * Deletes, from the deepest level up, every node that no node of the next depth names as a parent (RFC 5280
 * §6.1.3 (d)(3), §6.1.4 (b)(2)). Returns null (the NULL tree) when the deepest level is empty, since then every
 * node goes.
 */
function prune(levels: Level[]): Level[] | null {
  for (let d = levels.length - 1; d > 0; d--) {
    if (levels[d]!.size === 0) return null;
    const used = new Set<PolicyNode>();
    for (const node of levels[d]!.values()) for (const p of node.parents) used.add(p);
    const above = levels[d - 1]!;
    for (const [k, node] of above) if (!used.has(node)) above.delete(k);
  }
  return levels[0]!.size === 0 ? null : levels;
}

/** The four policy extensions of `cert`; a malformed or repeated one throws `malformed-extension: <name>`. */
function readPolicyExtensions(cert: CertInfo): CertPolicies {
  const out: CertPolicies = {};
  const seen = new Set<string>();
  for (const e of cert.extensions) {
    const name = (Object.keys(EXT) as ExtName[]).find((k) => EXT[k] === e.oid);
    if (!name) continue;
    // RFC 5280 §4.2: a certificate MUST NOT include more than one instance of a particular extension.
    if (seen.has(name)) throw new PolicyFailure(`malformed-extension: ${name}`);
    seen.add(name);
    try {
      switch (name) {
        case 'certificatePolicies':
          out.policies = parseCertificatePolicies(e.value);
          break;
        case 'policyMappings':
          out.mappings = parsePolicyMappings(e.value);
          break;
        case 'policyConstraints': {
          const c = parsePolicyConstraints(e.value);
          if (c.require !== undefined) out.requireExplicitPolicy = c.require;
          if (c.inhibit !== undefined) out.inhibitPolicyMapping = c.inhibit;
          break;
        }
        case 'inhibitAnyPolicy': {
          const t = whole(e.value);
          if (t.cls !== 0 || t.tagNo !== TAG.INTEGER || t.constructed) bad();
          out.inhibitAnyPolicy = skipCerts(e.value, t);
          break;
        }
      }
    } catch (err) {
      if (err instanceof PolicyFailure) throw err;
      throw new PolicyFailure(`malformed-extension: ${name}`); // a CMSInvalid/CMSLimitExceeded from the reader
    }
  }
  return out;
}

function bad(): never {
  throw new Error('malformed');
}

/** The one DER element that `value` must consist of, definite-length. */
function whole(value: Uint8Array): Tlv {
  const t = readTlv(value, 0);
  if (t.end !== value.length || t.indefinite) bad();
  return t;
}

/** A universal, constructed, definite-length SEQUENCE's children. */
function sequence(buf: Uint8Array, t: Tlv | undefined): Tlv[] {
  if (!t || t.cls !== 0 || t.tagNo !== TAG.SEQUENCE || !t.constructed || t.indefinite) bad();
  return children(buf, t);
}

/**
 * certificatePolicies ::= SEQUENCE SIZE (1..MAX) OF PolicyInformation, PolicyInformation ::= SEQUENCE {
 * policyIdentifier OID, policyQualifiers SEQUENCE SIZE (1..MAX) OF PolicyQualifierInfo OPTIONAL },
 * PolicyQualifierInfo ::= SEQUENCE { policyQualifierId OID, qualifier ANY }. A policy OID named twice is malformed
 * (RFC 5280 §4.2.1.4: "A certificate policy OID MUST NOT appear more than once").
 */
function parseCertificatePolicies(value: Uint8Array): string[] {
  const infos = sequence(value, whole(value));
  if (infos.length === 0) bad();
  const out: string[] = [];
  const seen = new Set<string>();
  for (const info of infos) {
    const parts = sequence(value, info);
    if (parts.length < 1 || parts.length > 2) bad();
    const p = decodeOid(value, parts[0]);
    if (seen.has(p)) bad();
    seen.add(p);
    if (parts.length === 2) {
      const qualifiers = sequence(value, parts[1]);
      if (qualifiers.length === 0) bad();
      for (const q of qualifiers) {
        const qp = sequence(value, q);
        if (qp.length !== 2) bad();
        decodeOid(value, qp[0]);
      }
    }
    out.push(p);
  }
  return out;
}

/**
 * PolicyMappings ::= SEQUENCE SIZE (1..MAX) OF SEQUENCE { issuerDomainPolicy OID, subjectDomainPolicy OID }, as
 * each issuerDomainPolicy's set of subjectDomainPolicy values.
 */
function parsePolicyMappings(value: Uint8Array): Map<string, Set<string>> {
  const pairs = sequence(value, whole(value));
  if (pairs.length === 0) bad();
  const out = new Map<string, Set<string>>();
  for (const pair of pairs) {
    const [a, b, extra] = sequence(value, pair);
    if (extra) bad();
    const from = decodeOid(value, a);
    const to = decodeOid(value, b);
    const tos = out.get(from);
    if (tos) tos.add(to);
    else out.set(from, new Set([to]));
  }
  return out;
}

/**
 * PolicyConstraints ::= SEQUENCE { requireExplicitPolicy [0] SkipCerts OPTIONAL, inhibitPolicyMapping [1]
 * SkipCerts OPTIONAL }, IMPLICIT tags; an empty one is malformed (RFC 5280 §4.2.1.11: conforming CAs MUST NOT
 * issue it).
 */
function parsePolicyConstraints(value: Uint8Array): { require?: number; inhibit?: number } {
  const fields = sequence(value, whole(value));
  if (fields.length === 0 || fields.length > 2) bad();
  const out: { require?: number; inhibit?: number } = {};
  let last = -1;
  for (const f of fields) {
    if (f.cls !== 2 || f.constructed || f.tagNo > 1 || f.tagNo <= last) bad();
    last = f.tagNo;
    if (f.tagNo === 0) out.require = skipCerts(value, f);
    else out.inhibit = skipCerts(value, f);
  }
  return out;
}

/** SkipCerts ::= INTEGER (0..MAX): a DER non-negative INTEGER's content; huge values cap at 2^31 (no limit in practice). */
function skipCerts(buf: Uint8Array, t: Tlv): number {
  const b = buf.subarray(t.contentStart, t.contentEnd);
  if (b.length === 0 || (b[0]! & 0x80) !== 0) bad();
  if (b.length > 1 && b[0] === 0 && (b[1]! & 0x80) === 0) bad(); // not minimal: not DER
  let v = 0;
  for (const x of b) {
    v = v * 256 + x;
    if (v > 2 ** 31) return 2 ** 31;
  }
  return v;
}
