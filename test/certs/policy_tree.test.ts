/**
 * RFC 5280 §6.1 certificate policy processing (`processPolicies`), measured by NIST PKITS §4.8–4.12: every test of
 * those sections, on its certification path as the message carries it, under every setting of the initial policy
 * inputs that PKITS_POLICY_CASES lists, with the expected outcome and user-constrained policy set. Then the
 * extension syntax checks, and a hostile path whose policy mappings would make the RFC 5280 tree exponential.
 */
import { describe, expect, it } from 'vitest';
import { certInfo, type CertInfo } from '../../src/certs/cert_info.js';
import { ANY_POLICY, processPolicies, type PolicyOptions } from '../../src/path/policy_tree.js';
import { explicit, integer, octets, oid, seq, set, tlv, algorithmIdentifier } from '../../src/lib/der.js';
import { sharedAvailable } from '../_helpers/env.js';
import { pkitsPath } from '../_helpers/pkits.js';
import { P1, P2, PKITS_POLICY_CASES } from '../pkits/expected.js';

const HAVE = sharedAvailable();

const label = (s: PolicyOptions): string => {
  const parts: string[] = [];
  if (s.initialPolicySet) parts.push(`initial {${s.initialPolicySet.map((p) => (p === ANY_POLICY ? 'anyPolicy' : `P${p.split('.').pop()}`)).join(',')}}`);
  if (s.requireExplicitPolicy) parts.push('explicit');
  if (s.inhibitPolicyMapping) parts.push('mapping-inhibit');
  if (s.inhibitAnyPolicy) parts.push('any-inhibit');
  return parts.length ? parts.join(', ') : 'defaults';
};

describe.skipIf(!HAVE)('PKITS 4.8–4.12 certificate policies', () => {
  it('covers the 63 tests of §4.8–4.12 in 91 runs', () => {
    expect(PKITS_POLICY_CASES).toHaveLength(91);
    expect(new Set(PKITS_POLICY_CASES.map((c) => c.test)).size).toBe(63);
  });

  for (const c of PKITS_POLICY_CASES) {
    it(`${c.section} ${c.test} (${label(c.settings)}): ${c.valid ? 'valid' : 'invalid'}`, () => {
      const r = processPolicies(pkitsPath(c.test), c.settings);
      if (c.valid) {
        expect(r).toEqual({ ok: true, policies: r.ok ? r.policies : [] });
        if (c.policies) expect(r.ok && r.policies).toEqual([...c.policies].sort());
      } else {
        expect(r.ok).toBe(false);
      }
    });
  }

  it('names: Valid… tests validate and Invalid… tests fail under the default settings', () => {
    const names = [...new Set(PKITS_POLICY_CASES.map((c) => c.test))];
    const valid = names.filter((t) => t.startsWith('Valid'));
    const invalid = names.filter((t) => t.startsWith('Invalid'));
    expect(valid.length + invalid.length).toBe(42);
    for (const t of valid) expect(processPolicies(pkitsPath(t)).ok, t).toBe(true);
    for (const t of invalid) expect(processPolicies(pkitsPath(t)).ok, t).toBe(false);
  });

  it('gives the reason of each kind of failure', () => {
    const reason = (t: string, s: PolicyOptions = {}) => {
      const r = processPolicies(pkitsPath(t), s);
      return r.ok ? 'ok' : r.reason;
    };
    expect(reason('InvalidMappingFromanyPolicyTest7')).toBe('policy-mapping-invalid');
    expect(reason('InvalidMappingToanyPolicyTest8')).toBe('policy-mapping-invalid');
    expect(reason('InvalidRequireExplicitPolicyTest3')).toBe('no-acceptable-policy');
    expect(reason('DifferentPoliciesTest3', { requireExplicitPolicy: true })).toBe('no-acceptable-policy');
    expect(reason('ValidPolicyMappingTest1', { initialPolicySet: [P2] })).toBe('no-acceptable-policy');
  });

  it('decrements the counters only for certificates that are not self-issued (4.9.6 vs 4.9.7, 4.12.7 vs 4.12.8)', () => {
    const p6 = pkitsPath('ValidSelfIssuedrequireExplicitPolicyTest6');
    expect(p6.map((c) => c.selfIssued)).toEqual([false, true, false]);
    expect(processPolicies(p6)).toEqual({ ok: true, policies: [] });
    // The same path with the self-issued certificate taken for an ordinary one uses up requireExplicitPolicy 2.
    const notSelf = p6.map((c) => ({ ...c, selfIssued: false }));
    expect(processPolicies(notSelf)).toEqual({ ok: false, reason: 'no-acceptable-policy' });
    const p7 = pkitsPath('ValidSelfIssuedinhibitAnyPolicyTest7');
    expect(processPolicies(p7)).toEqual({ ok: true, policies: [P1] });
    expect(processPolicies(p7.map((c) => ({ ...c, selfIssued: false })))).toEqual({ ok: false, reason: 'no-acceptable-policy' });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Certificates built here: unsigned (processPolicies checks no signature), parsed by certInfo like any other.

const CP = '2.5.29.32';
const PM = '2.5.29.33';
const PC = '2.5.29.36';
const IAP = '2.5.29.54';
const pol = (k: number): string => `1.3.6.1.4.1.55555.1.${k}`;

function name(cn: string): Uint8Array {
  return seq(set(seq(oid('2.5.4.3'), tlv(0x0c, new TextEncoder().encode(cn)))));
}
function ext(id: string, value: Uint8Array): Uint8Array {
  return seq(oid(id), octets(value));
}
const utc = (s: string): Uint8Array => tlv(0x17, new TextEncoder().encode(s));
/** A P-256 SubjectPublicKeyInfo with a fixed point: nothing here reads the key. */
const SPKI = seq(seq(oid('1.2.840.10045.2.1'), oid('1.2.840.10045.3.1.7')), tlv(0x03, new Uint8Array([0, 4, ...new Array<number>(64).fill(1)])));

let serial = 1;
function cert(issuer: string, subject: string, extensions: Uint8Array[]): CertInfo {
  const tbs = seq(
    explicit(0, integer(2)),
    integer(serial++),
    algorithmIdentifier('1.2.840.10045.4.3.2'),
    name(issuer),
    seq(utc('200101000000Z'), utc('300101000000Z')),
    name(subject),
    SPKI,
    explicit(3, seq(...extensions)),
  );
  return certInfo(seq(tbs, algorithmIdentifier('1.2.840.10045.4.3.2'), tlv(0x03, Uint8Array.of(0, 0x30, 0))));
}
const policies = (...ids: string[]): Uint8Array => seq(...ids.map((p) => seq(oid(p))));
const mappings = (pairs: [string, string][]): Uint8Array => seq(...pairs.map(([a, b]) => seq(oid(a), oid(b))));

describe('processPolicies on built paths', () => {
  it('keeps a policy the whole path asserts and drops one the end entity does not', () => {
    const path = [cert('Root', 'CA', [ext(CP, policies(pol(1), pol(2)))]), cert('CA', 'EE', [ext(CP, policies(pol(1)))])];
    expect(processPolicies(path)).toEqual({ ok: true, policies: [pol(1)] });
    expect(processPolicies(path, { initialPolicySet: [pol(2)] })).toEqual({ ok: true, policies: [] });
    expect(processPolicies(path, { initialPolicySet: [pol(2)], requireExplicitPolicy: true })).toEqual({ ok: false, reason: 'no-acceptable-policy' });
  });

  it('maps an issuer-domain policy to the subject domain, and not when mapping is inhibited', () => {
    const path = [
      cert('Root', 'CA', [ext(CP, policies(pol(1))), ext(PM, mappings([[pol(1), pol(9)]]))]),
      cert('CA', 'EE', [ext(CP, policies(pol(9)))]),
    ];
    expect(processPolicies(path, { requireExplicitPolicy: true })).toEqual({ ok: true, policies: [pol(1)] });
    expect(processPolicies(path, { requireExplicitPolicy: true, inhibitPolicyMapping: true })).toEqual({ ok: false, reason: 'no-acceptable-policy' });
  });

  it('maps a policy the CA only covers by anyPolicy (RFC 5280 §6.1.4 (b)(1), second sentence)', () => {
    // As PKITS 4.10.9's CA, but the end entity asserts the subject-domain policy: it descends from the issuer-domain
    // node made for the mapping, so the user-constrained set names the issuer-domain policy.
    const path = [
      cert('Root', 'CA', [ext(CP, policies(ANY_POLICY)), ext(PM, mappings([[pol(1), pol(2)]]))]),
      cert('CA', 'EE', [ext(CP, policies(pol(2)))]),
    ];
    expect(processPolicies(path)).toEqual({ ok: true, policies: [pol(1)] });
    expect(processPolicies(path, { initialPolicySet: [pol(2)], requireExplicitPolicy: true })).toEqual({ ok: false, reason: 'no-acceptable-policy' });
  });

  it("the end entity's own requireExplicitPolicy 0 applies (RFC 5280 §6.1.5 (b))", () => {
    const root = cert('Root', 'CA', [ext(CP, policies(pol(1)))]);
    const plain = [root, cert('CA', 'EE', [])];
    expect(processPolicies(plain)).toEqual({ ok: true, policies: [] });
    const strict = [root, cert('CA', 'EE', [ext(PC, seq(tlv(0x80, Uint8Array.of(0))))])];
    expect(processPolicies(strict)).toEqual({ ok: false, reason: 'no-acceptable-policy' });
  });

  it('an anyPolicy end entity under a user set: the user set (RFC 5280 §6.1.5 (g)(iii)(3))', () => {
    const path = [cert('Root', 'CA', [ext(CP, policies(ANY_POLICY))]), cert('CA', 'EE', [ext(CP, policies(ANY_POLICY))])];
    expect(processPolicies(path)).toEqual({ ok: true, policies: [ANY_POLICY] });
    expect(processPolicies(path, { initialPolicySet: [pol(3), pol(4)] })).toEqual({ ok: true, policies: [pol(3), pol(4)] });
    expect(processPolicies(path, { inhibitAnyPolicy: true, requireExplicitPolicy: true })).toEqual({ ok: false, reason: 'no-acceptable-policy' });
  });

  it('an empty path: nothing to constrain', () => {
    expect(processPolicies([])).toEqual({ ok: true, policies: [] });
  });

  it('refuses a maxNodes that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => processPolicies([], {}, bad)).toThrow(RangeError);
  });
});

describe('malformed policy extensions', () => {
  const truncated = (c: CertInfo): CertInfo => ({ ...c, extensions: c.extensions.map((e) => ({ ...e, value: e.value.subarray(0, 5) })) });
  const ee = (exts: Uint8Array[]) => [cert('Root', 'EE', exts)];
  const ca = (exts: Uint8Array[]) => [cert('Root', 'CA', exts), cert('CA', 'EE', [ext(CP, policies(pol(1)))])];
  const cases: [string, CertInfo[], string][] = [
    ['a policy OID twice', ee([ext(CP, policies(pol(1), pol(1)))]), 'certificatePolicies'],
    ['an empty certificatePolicies', ee([ext(CP, seq())]), 'certificatePolicies'],
    ['trailing bytes', ee([ext(CP, Uint8Array.of(...policies(pol(1)), 0))]), 'certificatePolicies'],
    ['not a SEQUENCE', ee([ext(CP, oid(pol(1)))]), 'certificatePolicies'],
    // certInfo itself refuses a certificate whose extension value is truncated; CertInfo objects come from elsewhere too.
    ['a truncated value', [truncated(cert('Root', 'EE', [ext(CP, policies(pol(1)))]))], 'certificatePolicies'],
    ['an empty qualifier list', ee([ext(CP, seq(seq(oid(pol(1)), seq())))]), 'certificatePolicies'],
    ['a qualifier without its value', ee([ext(CP, seq(seq(oid(pol(1)), seq(seq(oid('1.3.6.1.5.5.7.2.1'))))))]), 'certificatePolicies'],
    ['two certificatePolicies extensions', ee([ext(CP, policies(pol(1))), ext(CP, policies(pol(2)))]), 'certificatePolicies'],
    ['a mapping with one OID', ca([ext(CP, policies(pol(1))), ext(PM, seq(seq(oid(pol(1)))))]), 'policyMappings'],
    ['an empty policyMappings', ca([ext(CP, policies(pol(1))), ext(PM, seq())]), 'policyMappings'],
    ['an empty policyConstraints', ca([ext(CP, policies(pol(1))), ext(PC, seq())]), 'policyConstraints'],
    ['a negative requireExplicitPolicy', ca([ext(CP, policies(pol(1))), ext(PC, seq(tlv(0x80, Uint8Array.of(0xff))))]), 'policyConstraints'],
    ['policyConstraints fields out of order', ca([ext(CP, policies(pol(1))), ext(PC, seq(tlv(0x81, Uint8Array.of(1)), tlv(0x80, Uint8Array.of(1))))]), 'policyConstraints'],
    ['an inhibitAnyPolicy that is no INTEGER', ca([ext(CP, policies(pol(1))), ext(IAP, octets(Uint8Array.of(1)))]), 'inhibitAnyPolicy'],
    ['an empty inhibitAnyPolicy INTEGER', ca([ext(CP, policies(pol(1))), ext(IAP, Uint8Array.of(0x02, 0x00))]), 'inhibitAnyPolicy'],
  ];
  for (const [what, path, extName] of cases) {
    it(`${what}: malformed-extension: ${extName}`, () => {
      expect(processPolicies(path)).toEqual({ ok: false, reason: `malformed-extension: ${extName}` });
    });
  }

  it('well-formed qualifiers, policyConstraints and inhibitAnyPolicy are accepted', () => {
    const cps = seq(oid('1.3.6.1.5.5.7.2.1'), tlv(0x16, new TextEncoder().encode('https://example.com/cps')));
    const path = [
      cert('Root', 'CA', [ext(CP, seq(seq(oid(pol(1)), seq(cps)))), ext(PC, seq(tlv(0x80, Uint8Array.of(0)))), ext(IAP, integer(0))]),
      cert('CA', 'EE', [ext(CP, policies(pol(1)))]),
    ];
    expect(processPolicies(path)).toEqual({ ok: true, policies: [pol(1)] });
  });
});

describe('hostile policy mappings (CVE-2023-0464)', () => {
  /**
   * Every CA asserts K policies and maps each of them to all K: the RFC 5280 tree gets K^depth nodes at the
   * bottom (here 40^8 ≈ 6.5·10^12). The graph has K nodes per depth and K² parent links per mapping step.
   */
  const K = 40;
  const DEPTH = 8;
  const ids = Array.from({ length: K }, (_, k) => pol(k));
  const all: [string, string][] = ids.flatMap((a) => ids.map((b): [string, string] => [a, b]));
  const path: CertInfo[] = [];
  for (let d = 0; d < DEPTH; d++) path.push(cert(d === 0 ? 'Root' : `CA${d - 1}`, `CA${d}`, [ext(CP, policies(...ids)), ext(PM, mappings(all))]));
  path.push(cert(`CA${DEPTH - 1}`, 'EE', [ext(CP, policies(...ids))]));

  it('ends in policy-tree-limit (its time: npm run bench, security)', () => {
    expect(processPolicies(path)).toEqual({ ok: false, reason: 'policy-tree-limit' });
  });

  it('with a large enough limit the graph holds it in polynomial size (K² links per depth) and validates', () => {
    const r = processPolicies(path, {}, 1_000_000);
    expect(r).toEqual({ ok: true, policies: [...ids].sort() });
  });

  it('one policyMappings of 20000 pairs from one policy: linear work, and the anyPolicy expansion hits the limit', () => {
    const many: [string, string][] = Array.from({ length: 20000 }, (_, k): [string, string] => [pol(1), `1.3.6.1.4.1.55555.2.${k}`]);
    const ca = cert('Root', 'WideCA', [ext(CP, policies(pol(1))), ext(PM, mappings(many))]);
    expect(processPolicies([ca, cert('WideCA', 'WideEE', [ext(CP, policies('1.3.6.1.4.1.55555.2.19999'))])])).toEqual({ ok: true, policies: [pol(1)] });
    expect(processPolicies([ca, cert('WideCA', 'WideEE', [ext(CP, policies(ANY_POLICY))])])).toEqual({ ok: false, reason: 'policy-tree-limit' });
  });

  it('a path without mappings of the same size stays under the default limit', () => {
    const plain: CertInfo[] = [];
    for (let d = 0; d < 5; d++) plain.push(cert(d === 0 ? 'Root' : `PCA${d - 1}`, `PCA${d}`, [ext(CP, policies(...ids.slice(0, 20)))]));
    plain.push(cert('PCA4', 'PEE', [ext(CP, policies(...ids.slice(0, 20)))]));
    expect(processPolicies(plain)).toEqual({ ok: true, policies: ids.slice(0, 20).sort() });
  });
});
