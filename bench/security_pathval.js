// Path validation (RFC 5280 §6.1) under attack: `CertificateStore.verifyCertificate` of a leaf whose path to the
// trust anchor is built of properly signed certificates (so path building reaches validation) and carries the
// hostile part, against the same call on a plain root → CA → leaf. Rows:
//
// 1. policy mappings 40×40 over 8 CAs (the root and 7 intermediates; path building goes at most 8 certificates
//    deep below the anchor): every intermediate asserts 40 policies and maps each of them to all 40, the leaf
//    asserts the 40. RFC 5280's valid_policy_tree would have 40^8 nodes at the leaf's depth (OpenSSL
//    CVE-2023-0464); the policy graph counts its nodes and parent links against maxPolicyNodes and the path is
//    `untrusted` with `policy-tree-limit`.
// 2. 5000 names under 6000 name constraints: a CA with 3000 permitted and 3000 excluded dNSName subtrees, a leaf
//    with 5000 subjectAltName dNSNames (each inside the last permitted subtree, outside every excluded one): 30
//    million comparisons unbounded (about a second); `untrusted` with `name-constraints-limit` after
//    maxNameConstraintChecks.
// 3. a CRL of 100 000 entries: the CA's signed CRL revokes 100 000 serials, none the leaf's: `valid`, against the
//    same with a CRL of one entry. The work: parseCrl's check of the 2.2 MB (a TLV walk, no entry read), hashing it
//    for its signature, and the lookup of the leaf's serial (a walk comparing serial octets, src/certs/crl_entries.ts).
//
// Every certificate and CRL is made with smime-core's own DER writer and WebCrypto ECDSA P-256 (bench/_certs.js).
import { CertificateStore } from '../dist/index.node.js';
import { oid, seq, tlv } from '../dist/lib/der.js';
import { CA_EXTS, EE_EXTS, cert, concat, crl, ext, newKey, spkiOf, utf8 } from './_certs.js';
import { check } from './_utils.js';

/** Intermediate CAs of the policy row (with the root, 8 CAs; see the header). */
const POLICY_CAS = 7;
/** Policies each of them asserts, and maps each to all of. */
const POLICIES = 40;
const PERMITTED = 3000;
const EXCLUDED = 3000;
const SAN_NAMES = 5000;
const CRL_ENTRIES = 100_000;

const OID = { certificatePolicies: '2.5.29.32', policyMappings: '2.5.29.33', nameConstraints: '2.5.29.30', san: '2.5.29.17' };
/** A GeneralName dNSName ([2] IMPLICIT IA5String). */
const dnsName = (s) => tlv(0x82, utf8(s));
/** A constructed value of many elements (too many to pass as arguments). */
const many = (id, parts) => tlv(id, concat(parts));

/** Distinct policy OIDs under an arc of the bench. */
const policyOids = Array.from({ length: POLICIES }, (_, i) => `1.3.6.1.4.1.55555.1.${i + 1}`);

/** certificatePolicies with the 40 policies (no qualifiers). */
function policiesExt() {
  return ext(OID.certificatePolicies, many(0x30, policyOids.map((p) => seq(oid(p)))));
}

/** policyMappings mapping each of the 40 policies to each of the 40. */
function mappingsExt() {
  const pairs = [];
  for (const from of policyOids) for (const to of policyOids) pairs.push(seq(oid(from), oid(to)));
  return ext(OID.policyMappings, many(0x30, pairs));
}

/** nameConstraints: `permitted` and `excluded` dNSName subtrees (GeneralSubtree with only its base). */
function nameConstraintsExt(permitted, excluded) {
  return ext(
    OID.nameConstraints,
    seq(many(0xa0, permitted.map((d) => seq(dnsName(d)))), many(0xa1, excluded.map((d) => seq(dnsName(d))))),
  );
}

/**
 * A store trusting a new root, and a leaf issued through `cas` intermediates (each given `caExts` besides the CA
 * ones; the leaf `leafExts` besides the end entity ones). With `crlSerials`, the last CA's CRL revoking them.
 * Returns what verifyCertificate is given.
 */
async function pki({ cas = 1, caExts = [], leafExts = [], crlSerials } = {}) {
  const keys = await Promise.all(Array.from({ length: cas + 2 }, () => newKey()));
  const spkis = await Promise.all(keys.map(spkiOf));
  const names = ['Bench PV Root', ...Array.from({ length: cas }, (_, i) => `Bench PV CA ${i + 1}`)];
  const root = await cert(names[0], names[0], spkis[0], keys[0].privateKey, CA_EXTS);
  const intermediates = [];
  for (let i = 1; i <= cas; i++) intermediates.push(await cert(names[i], names[i - 1], spkis[i], keys[i - 1].privateKey, [...CA_EXTS, ...caExts]));
  // The leaf's serial is far from the CRL's (which count from 1 000 000).
  const leaf = await cert('Bench PV Leaf', names[cas], spkis[cas + 1], keys[cas].privateKey, [...EE_EXTS, ...leafExts], { serial: 42 });
  const crls = crlSerials ? [await crl(names[cas], keys[cas].privateKey, crlSerials)] : [];
  const store = new CertificateStore();
  store.addTrustAnchor(root);
  return { store, leaf, options: { intermediates: intermediates.reverse(), crls } };
}

const verify = ({ store, leaf, options }, limits) => store.verifyCertificate(leaf, { ...options, limits });
const serials = (n) => Array.from({ length: n }, (_, i) => 1_000_000 + i);

/** Checks that verifying `setup` (with `limits`) gives `status`, and `reason` among the reasons when given. */
async function expect(what, setup, status, reason, limits) {
  const r = await verify(setup, limits);
  check(r.status === status && (reason === undefined || r.reasons.includes(reason)), `${what}: ${status}${reason ? ` (${reason})` : ''}, got ${JSON.stringify(r)}`);
}

/**
 * The name-constraints row's PKI: a CA with 3000 permitted and 3000 excluded dNSName subtrees and a leaf with 5000
 * dNSNames, each inside the last permitted subtree; with `constrained` false the same bytes sit in a non-critical
 * private extension, so the normal operation parses certificates of the same size and only the constraints differ.
 */
function namesPki(constrained) {
  const permitted = Array.from({ length: PERMITTED }, (_, i) => `p${i}.bench.example`);
  const excluded = Array.from({ length: EXCLUDED }, (_, i) => `x${i}.bench.example`);
  const sans = Array.from({ length: SAN_NAMES }, (_, i) => dnsName(`h${i}.p${PERMITTED - 1}.bench.example`));
  const nc = nameConstraintsExt(permitted, excluded);
  const caExt = constrained ? nc : ext('1.3.6.1.4.1.55555.9', nc, false);
  return pki({ caExts: [caExt], leafExts: [ext(OID.san, many(0x30, sans), false)] });
}

/**
 * The cases for bench/security.js (`{ name, hostile, normal, normalName, expectOk? }`), each checked to settle as
 * stated before it is returned. `quick` changes nothing: each verification is a fraction of a second.
 */
export async function pathValidationCases({ quick = false } = {}) {
  void quick;
  const policies = policiesExt();
  const [normal, policy, names, namesSameSize, bigCrl, smallCrl] = await Promise.all([
    pki(),
    pki({ cas: POLICY_CAS, caExts: [policies, mappingsExt()], leafExts: [policies] }),
    namesPki(true),
    namesPki(false),
    pki({ crlSerials: serials(CRL_ENTRIES) }),
    pki({ crlSerials: serials(1) }),
  ]);
  await expect('root → CA → leaf', normal, 'valid');
  await expect('the name-constraints certificates without constraints', namesSameSize, 'valid');
  await expect('the CRL of one entry', smallCrl, 'valid');
  await expect('policy mappings', policy, 'untrusted', 'policy-tree-limit');
  await expect('name constraints', names, 'untrusted', 'name-constraints-limit');
  // Without the limits both paths are valid: the limit is what refuses them, not a flaw in how they are made.
  await expect('policy mappings without the limit', policy, 'valid', undefined, { maxPolicyNodes: 1_000_000 });
  await expect('name constraints without the limit', names, 'valid', undefined, { maxNameConstraintChecks: 100_000_000 });
  await expect('the CRL of 100 000 entries', bigCrl, 'valid');
  // `valid` with a CRL of the leaf's CA at hand means the CRL was verified and used (an unusable one leaves the
  // leaf's status unknown, which is `untrusted`); and a CRL made the same way that lists the leaf revokes it.
  await expect('a CRL that revokes the leaf', await pki({ crlSerials: [42] }), 'revoked');
  return [
    {
      name: `verifyCertificate, policy mappings ${POLICIES}×${POLICIES} over ${POLICY_CAS + 1} CAs`,
      hostile: () => verify(policy),
      normal: () => verify(normal),
      normalName: 'verifyCertificate, root → CA → leaf',
    },
    {
      name: `verifyCertificate, ${SAN_NAMES} names under ${PERMITTED + EXCLUDED} name constraints`,
      hostile: () => verify(names),
      normal: () => verify(namesSameSize),
      normalName: 'verifyCertificate, the same certificates, the constraints in an unknown extension',
    },
    {
      name: 'verifyCertificate, a CRL of 100 000 entries',
      hostile: () => verify(bigCrl),
      normal: () => verify(smallCrl),
      normalName: 'verifyCertificate, root → CA → leaf, CRL of 1 entry',
      expectOk: true,
    },
  ];
}
