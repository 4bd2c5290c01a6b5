/**
 * Issue 10, findings 1 and 2: chain building honours basicConstraints pathLenConstraint and keyUsage keyCertSign
 * (for verifyMessage and for encryptMessage's trust decision), exactly where `openssl verify` refuses the same
 * chains; and path building through certificates that cross-sign each other is bounded by the call's PathBudget
 * (counted signature checks, not time), while a legitimate chain among decoys still verifies. Also: a signature
 * check that threw is not cached as a "no".
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, DEFAULT_LIMITS, encryptMessage, MissingRecipientCertificatesError, verifyMessage } from '../../src/index.js';
import { buildChain } from '../../src/path/chain.js';
import { certInfo } from '../../src/certs/cert_info.js';
import { PathBudget } from '../../src/lib/limits.js';
import { hasPeer, tmp, tryRun } from '../_helpers/env.js';
import { countingCrypto, KU, makeCert, newKey, pemFile, signedMessage, type Key } from './_certs.js';
import { storeInternals } from '../../src/store/internal.js';

const CA_KU = [KU.keyCertSign, KU.cRLSign];
const LEAF_KU = [KU.digitalSignature, KU.keyAgreement];
const CONTENT = 'Content-Type: text/plain\r\n\r\nhello\r\n';

interface Case {
  anchor: Uint8Array;
  /** Intermediates, leaf side first. */
  inters: Uint8Array[];
  leaf: Uint8Array;
  leafKey: Key;
  /** The CAs' keys, anchor first. */
  caKeys: Key[];
  email: string;
}

/**
 * A chain anchor → intermediates → leaf. `cas` lists the CAs from the anchor down: their pathLen and keyUsage.
 */
async function chainOf(tag: string, cas: { pathLen?: number; ku?: number[] }[]): Promise<Case> {
  const keys = await Promise.all(cas.map(() => newKey()));
  const ders: Uint8Array[] = [];
  for (let i = 0; i < cas.length; i++) {
    const subject = `${tag} CA ${i}`;
    const issuer = i === 0 ? undefined : { name: `${tag} CA ${i - 1}`, key: keys[i - 1]! };
    ders.push(await makeCert({ subject, key: keys[i]!, issuer, ca: true, pathLen: cas[i]!.pathLen, ku: cas[i]!.ku ?? CA_KU }));
  }
  const leafKey = await newKey();
  const email = `${tag.toLowerCase().replace(/\W+/g, '-')}@example.com`;
  const leaf = await makeCert({
    subject: `${tag} leaf`,
    key: leafKey,
    issuer: { name: `${tag} CA ${cas.length - 1}`, key: keys[cas.length - 1]! },
    ku: LEAF_KU,
    email,
  });
  return { anchor: ders[0]!, inters: ders.slice(1).reverse(), leaf, leafKey, caKeys: keys, email };
}

/** `openssl verify` of the case: exit status and output. */
function opensslVerify(c: Case): { ok: boolean; out: string } {
  const dir = tmp('smime-chain-');
  const args = ['verify', '-CAfile', pemFile(dir, 'anchor.pem', [c.anchor])];
  if (c.inters.length) args.push('-untrusted', pemFile(dir, 'inters.pem', c.inters));
  args.push(pemFile(dir, 'leaf.pem', [c.leaf]));
  const r = tryRun('openssl', args);
  return { ok: r.status === 0, out: new TextDecoder().decode(r.stdout) + r.stderr };
}

async function verifyCase(c: Case) {
  const store = new CertificateStore();
  store.addTrustAnchor(c.anchor);
  const msg = await signedMessage(c.leaf, c.leafKey, c.inters, c.email);
  return (await verifyMessage(msg, { store, harvest: false })).signers[0]!;
}

/** encryptMessage to the case's leaf: 'ok', or the recipient's reason. */
async function encryptCase(c: Case): Promise<string> {
  const store = new CertificateStore();
  store.addTrustAnchor(c.anchor);
  for (const d of [c.leaf, ...c.inters]) await store.addCertificate(d);
  try {
    await encryptMessage(CONTENT, { store, to: [c.email] });
    return 'ok';
  } catch (e) {
    if (!(e instanceof MissingRecipientCertificatesError)) throw e;
    return e.reasons[c.email]!;
  }
}

describe('basicConstraints pathLenConstraint and keyUsage keyCertSign', () => {
  // Each refused chain, the openssl error it must give, and the same chain with the constraint satisfied.
  const cases: { name: string; bad: () => Promise<Case>; good: () => Promise<Case>; openssl: string; reason: string }[] = [
    {
      name: 'a sub-CA below an intermediate with pathLenConstraint 0',
      bad: () => chainOf('PathLen Inter', [{}, { pathLen: 0 }, {}]),
      good: () => chainOf('PathLen Inter OK', [{}, { pathLen: 1 }, {}]),
      openssl: 'path length constraint exceeded',
      reason: 'path-length-exceeded',
    },
    {
      name: 'a CA:TRUE intermediate whose keyUsage is digitalSignature only',
      bad: () => chainOf('KU Inter', [{}, { ku: [KU.digitalSignature] }]),
      good: () => chainOf('KU Inter OK', [{}, { ku: [KU.keyCertSign] }]),
      openssl: 'key usage does not include certificate signing',
      reason: 'ca-key-usage: keyCertSign',
    },
    // The trust anchor's own constraints: openssl verify checks them, and so do we (see src/path/path_validation.ts).
    {
      name: 'an intermediate below a trust anchor with pathLenConstraint 0',
      bad: () => chainOf('PathLen Root', [{ pathLen: 0 }, {}]),
      good: () => chainOf('PathLen Root OK', [{ pathLen: 1 }, {}]),
      openssl: 'path length constraint exceeded',
      reason: 'path-length-exceeded',
    },
    {
      name: 'a trust anchor whose keyUsage is digitalSignature only',
      bad: () => chainOf('KU Root', [{ ku: [KU.digitalSignature] }]),
      good: () => chainOf('KU Root OK', [{ ku: [KU.keyCertSign] }]),
      openssl: 'key usage does not include certificate signing',
      reason: 'ca-key-usage: keyCertSign',
    },
  ];

  for (const t of cases) {
    it(`refuses ${t.name}, as openssl verify does (verifyMessage and encryptMessage)`, async () => {
      const [bad, good] = await Promise.all([t.bad(), t.good()]);
      if (hasPeer('openssl', ['version'])) {
        const o = opensslVerify(bad);
        expect(o.ok).toBe(false);
        expect(o.out).toContain(t.openssl);
        expect(opensslVerify(good).ok).toBe(true);
      }
      const s = await verifyCase(bad);
      expect(s.status).toBe('untrusted');
      // The path reaches the anchor; path validation (RFC 5280 §6.1.4) names the constraint it breaks.
      expect(s.reasons).toContain(t.reason);
      expect(s.reasons).not.toContain('no-chain-to-trust-anchor');
      expect(await encryptCase(bad)).toBe('untrusted');
      // The same shape with the constraint satisfied is trusted: the refusal is the constraint's.
      expect((await verifyCase(good)).status).toBe('valid');
      expect(await encryptCase(good)).toBe('ok');
    });
  }
});

describe('path building through cross-signed certificates', () => {
  const N = 1000;
  let key: Key;
  /** N certificates: N/2 named X issued by Y, N/2 named Y issued by X, all CAs, all with one key. */
  let crossed: Uint8Array[];
  let attackLeaf: Uint8Array;
  let anchor: Uint8Array;

  beforeAll(async () => {
    key = await newKey();
    const rootKey = await newKey();
    anchor = await makeCert({ subject: 'Cross Root', key: rootKey, ca: true, ku: CA_KU });
    const x = { name: 'Cross X', key };
    const y = { name: 'Cross Y', key };
    crossed = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        makeCert(i % 2 ? { subject: x.name, key, issuer: y, ca: true, ku: CA_KU } : { subject: y.name, key, issuer: x, ca: true, ku: CA_KU }),
      ),
    );
    attackLeaf = await makeCert({ subject: 'Mallory', key, issuer: x, ku: LEAF_KU, email: 'mallory@example.com' });
  });

  it(`a message with ${N} cross-signed certificates: untrusted, 'path-building-limit', signature checks within the budget`, async () => {
    const msg = await signedMessage(attackLeaf, key, crossed, 'mallory@example.com');
    // The code before the budget would check signatures for hours; stop it after ten budgets' worth.
    const { crypto, verifies } = countingCrypto(10 * DEFAULT_LIMITS.maxPathSignatureChecks);
    // maxCertificates is raised so that this message reaches path building once the certificate count is limited.
    const store = new CertificateStore({ crypto, limits: { maxCertificates: 2 * N } });
    store.addTrustAnchor(anchor);
    const s = (await verifyMessage(msg, { store, harvest: false })).signers[0]!;
    expect(s.status).toBe('untrusted');
    expect(s.reasons).toContain('path-building-limit');
    // The message's own signature, plus the certificate checks the budget allows.
    expect(verifies()).toBeLessThanOrEqual(DEFAULT_LIMITS.maxPathSignatureChecks + 1);
  });

  it("encryptMessage to a recipient whose certificates are the cross-signed set: 'untrusted'", async () => {
    const { crypto, verifies } = countingCrypto(10 * DEFAULT_LIMITS.maxPathSignatureChecks);
    const store = new CertificateStore({ crypto, limits: { maxPathSignatureChecks: 16 } });
    store.addTrustAnchor(anchor);
    await store.addCertificate(attackLeaf);
    // As signature harvesting would learn them from a message.
    for (const d of crossed) storeInternals(store).learnCertificate(certInfo(d));
    const err = await encryptMessage(CONTENT, { store, to: ['mallory@example.com'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingRecipientCertificatesError);
    expect((err as MissingRecipientCertificatesError).reasons).toEqual({ 'mallory@example.com': 'untrusted' });
    expect(verifies()).toBeLessThanOrEqual(16);
    // And the chain's own answer says why.
    const r = await storeInternals(store).chain(certInfo(attackLeaf), new Date());
    expect(r).toEqual({ problem: 'path-building-limit' });
  });

  it('one budget serves the whole call: a second chain after the budget is spent gets path-building-limit', async () => {
    const store = new CertificateStore({ limits: { maxPathSignatureChecks: 8, maxPathCandidates: 16 } });
    store.addTrustAnchor(anchor);
    const pool = crossed.map((d) => certInfo(d));
    const budget = new PathBudget(store.limits);
    expect(await storeInternals(store).chain(certInfo(attackLeaf), new Date(), { extra: pool, allowWeak: false, budget })).toEqual({ problem: 'path-building-limit' });
    // Signature checks already made by the tests above are cached (no check spent), so either count may run out.
    expect(budget.exhausted).toBe(true);
    expect(budget.signatureChecks).toBeLessThanOrEqual(8);
    expect(budget.candidates).toBeLessThanOrEqual(16);
    const legit = await chainOf('Shared Budget', [{}, {}]);
    const r = await storeInternals(store).chain(certInfo(legit.leaf), new Date(), { extra: legit.inters.map((d) => certInfo(d)), allowWeak: false, budget });
    expect(r.problem).toBe('path-building-limit');
  });

  it('a legitimate chain (leaf, 2 intermediates, root) among decoys still verifies, through the issuers that may sign', async () => {
    const c = await chainOf('Legit', [{}, {}, {}]);
    // Leaf side first: i1 is "Legit CA 2" (the leaf's issuer), i2 is "Legit CA 1", the anchor "Legit CA 0".
    const [i1, i2] = c.inters as [Uint8Array, Uint8Array];
    // Decoys named like the intermediates, with another key and no key identifiers (so only their signatures
    // tell them apart; each costs one check)…
    const otherKey = await newKey();
    const decoys: Uint8Array[] = [];
    for (let i = 0; i < 10; i++) {
      decoys.push(await makeCert({ subject: 'Legit CA 2', key: otherKey, issuer: { name: 'Legit CA 1', key: otherKey }, ca: true, ku: CA_KU, keyIds: false }));
      decoys.push(await makeCert({ subject: 'Legit CA 1', key: otherKey, issuer: { name: 'Legit CA 0', key: otherKey }, ca: true, ku: CA_KU, keyIds: false }));
    }
    // …and "Legit CA 1" again, same key, signed by the anchor, whose keyUsage forbids signing certificates: its
    // signature holds and it comes before the real one, yet no path may go through it.
    const noCertSign = await makeCert({
      subject: 'Legit CA 1',
      key: c.caKeys[1]!,
      issuer: { name: 'Legit CA 0', key: c.caKeys[0]! },
      ca: true,
      ku: [KU.digitalSignature],
    });
    const { crypto, verifies } = countingCrypto(10 * DEFAULT_LIMITS.maxPathSignatureChecks);
    const store = new CertificateStore({ crypto, limits: { maxCertificates: 2 * N } });
    store.addTrustAnchor(c.anchor);
    const msg = await signedMessage(c.leaf, c.leafKey, [...decoys, ...crossed, noCertSign, i2, i1], c.email);
    const s = (await verifyMessage(msg, { store, harvest: false })).signers[0]!;
    expect(s.status).toBe('valid');
    expect(s.reasons).toEqual([]);
    expect(verifies()).toBeLessThanOrEqual(DEFAULT_LIMITS.maxPathSignatureChecks + 1);
    // The path goes through the real upper intermediate, not the one that may not sign certificates.
    const r = await storeInternals(store).chain(certInfo(c.leaf), new Date(), { extra: [noCertSign, i2, i1].map((d) => certInfo(d)) });
    expect(r.chain?.map((x) => x.der)).toEqual([c.leaf, i1, i2, c.anchor]);
  });
});

describe('path building explores each certificate once per depth', () => {
  it('a mesh of re-issued CAs with no way out (3^7 paths) is answered "untrusted" within the budget, not by the limit', async () => {
    // Layers "Mesh 1" … "Mesh 7", three certificates each with one key per layer, each issued by the next layer's
    // name and key: every certificate of a layer verifies under every certificate of the next, so there are 3^7
    // paths; the top layer claims the anchor's name but not its key. Without the visited set the search would spend
    // the whole candidate budget and answer 'path-building-limit'.
    const layers = 7;
    const keys = await Promise.all(Array.from({ length: layers + 1 }, () => newKey()));
    const rootKey = await newKey();
    const anchor = await makeCert({ subject: 'Mesh Root', key: rootKey, ca: true, ku: CA_KU });
    const pool: Uint8Array[] = [];
    for (let l = 1; l <= layers; l++) {
      const issuer = l === layers ? { name: 'Mesh Root', key: keys[0]! } : { name: `Mesh ${l + 1}`, key: keys[l + 1]! };
      for (let i = 0; i < 3; i++) pool.push(await makeCert({ subject: `Mesh ${l}`, key: keys[l]!, issuer, ca: true, ku: CA_KU, keyIds: false }));
    }
    const leafKey = await newKey();
    const leaf = await makeCert({ subject: 'Mesh leaf', key: leafKey, issuer: { name: 'Mesh 1', key: keys[1]! }, ku: LEAF_KU, email: 'mesh@example.com', keyIds: false });
    const budget = new PathBudget(DEFAULT_LIMITS);
    const r = await buildChain(certInfo(leaf), pool.map((d) => certInfo(d)), [certInfo(anchor)], new Date(), { budget });
    expect(r).toEqual({ problem: 'untrusted' });
    expect(budget.exhausted).toBe(false);
    // Each certificate is a candidate once per depth it is reached at (here: one), plus the anchor for the top
    // three; and every one must be looked at to answer 'untrusted', all of it spent from the budget given.
    expect(budget.candidates).toBeLessThanOrEqual(3 * layers + 3);
    expect(budget.candidates).toBeGreaterThanOrEqual(3 * layers);
  });
});

describe('signature check cache', () => {
  it('a check that threw is not cached as "not signed by"', async () => {
    const c = await chainOf('Cache', [{}]);
    const leaf = certInfo(c.leaf);
    const anchors = [certInfo(c.anchor)];
    const failing = countingCrypto(0); // every subtle.verify throws
    expect(await buildChain(leaf, [], anchors, new Date(), { crypto: failing.crypto })).toEqual({ problem: 'untrusted' });
    expect(failing.verifies()).toBe(1);
    // The same bytes with a WebCrypto that works: checked again, and trusted.
    const working = countingCrypto();
    const r = await buildChain(certInfo(c.leaf.slice()), [], anchors, new Date(), { crypto: working.crypto });
    expect(r.chain?.length).toBe(2);
    expect(working.verifies()).toBe(1);
  });
});
