/**
 * RFC 5280 §6.3 CRL validation (src/path/revocation.ts) measured by NIST PKITS: §4.4 (CRLs), §4.5 (self-issued
 * certificates and CRL signing keys), §4.7.4–4.7.5 (cRLSign), §4.14 (distribution points, onlyContains…,
 * onlySomeReasons, indirect CRLs, cRLIssuer) and §4.15 (delta CRLs). Every certificate of the test's path
 * (`pkitsPath`) is checked against the message's CRLs, every certificate of the message being a possible CRL signer,
 * at 2020-01-01. A `Valid…` test: every certificate 'good'. An `Invalid…` test (and MissingCRLTest1): the first
 * certificate that is not 'good' is the one the table names, revoked or unknown for the reason it names.
 */
import { describe, expect, it } from 'vitest';
import { sharedAvailable } from '../_helpers/env.js';
import { pkitsRevocation } from './_revocation_pkits.js';
import { KU } from '../../src/certs/cert_info.js';
import { parseCrl } from '../../src/certs/crl.js';
import { appendRdn } from '../../src/certs/distribution_points.js';
import { checkRevocation, type RevocationInput } from '../../src/path/revocation.js';
import { integer } from '../../src/lib/der.js';
import { PathBudget } from '../../src/lib/limits.js';
import {
  ALICE,
  AT,
  CA,
  certIssuerExt,
  cnName,
  cnRdn,
  DAY,
  dirName,
  dp,
  entry,
  ext,
  idpExt,
  makeCrl,
  reasonExt,
  SHA1_RSA,
  withDps,
} from './_crl_builder.js';

const HAVE = sharedAvailable();

/** What an invalid test's first non-good certificate (its index in the path) must say. */
type Expected = [index: number, outcome: 'revoked' | string, reasonCode?: number];

const INVALID: Record<string, Expected> = {
  // §4.4 CRLs
  MissingCRLTest1: [1, 'no-crl'],
  InvalidRevokedCATest2: [1, 'revoked', 1],
  InvalidRevokedEETest3: [1, 'revoked', 1],
  InvalidBadCRLSignatureTest4: [1, 'crl-signature-invalid'],
  InvalidBadCRLIssuerNameTest5: [1, 'no-crl'],
  InvalidWrongCRLTest6: [1, 'no-crl'],
  InvalidUnknownCRLEntryExtensionTest8: [1, 'crl-unknown-critical-extension'],
  InvalidUnknownCRLExtensionTest9: [1, 'crl-unknown-critical-extension'],
  InvalidUnknownCRLExtensionTest10: [1, 'crl-unknown-critical-extension'],
  InvalidOldCRLnextUpdateTest11: [1, 'crl-stale'],
  Invalidpre2000CRLnextUpdateTest12: [1, 'crl-stale'],
  InvalidNegativeSerialNumberTest15: [1, 'revoked', 1],
  InvalidLongSerialNumberTest18: [1, 'revoked', 1],
  InvalidSeparateCertificateandCRLKeysTest20: [1, 'revoked', 1],
  // the certificate of the CA's CRL signing key is revoked: the CRL's signer is not trusted
  InvalidSeparateCertificateandCRLKeysTest21: [1, 'crl-signer-untrusted'],
  // §4.5 self-issued certificates
  InvalidBasicSelfIssuedOldWithNewTest2: [2, 'revoked', 1],
  InvalidBasicSelfIssuedNewWithOldTest5: [1, 'revoked', 1],
  InvalidBasicSelfIssuedCRLSigningKeyTest7: [1, 'revoked', 1],
  // §4.7 the CA's keyUsage lacks cRLSign
  InvalidkeyUsageCriticalcRLSignFalseTest4: [1, 'crl-signer-untrusted'],
  InvalidkeyUsageNotCriticalcRLSignFalseTest5: [1, 'crl-signer-untrusted'],
  // §4.14 distribution points
  InvaliddistributionPointTest2: [1, 'revoked', 1],
  InvaliddistributionPointTest3: [1, 'crl-out-of-scope'],
  InvaliddistributionPointTest6: [1, 'revoked', 1],
  InvaliddistributionPointTest8: [1, 'crl-out-of-scope'],
  InvaliddistributionPointTest9: [1, 'crl-out-of-scope'],
  InvalidonlyContainsUserCertsCRLTest11: [1, 'crl-out-of-scope'],
  InvalidonlyContainsCACertsCRLTest12: [1, 'crl-out-of-scope'],
  InvalidonlyContainsAttributeCertsTest14: [1, 'crl-out-of-scope'],
  InvalidonlySomeReasonsTest15: [1, 'revoked', 1],
  InvalidonlySomeReasonsTest16: [1, 'revoked', 6],
  InvalidonlySomeReasonsTest17: [1, 'crl-reasons-incomplete'],
  InvalidonlySomeReasonsTest20: [1, 'revoked', 1],
  InvalidonlySomeReasonsTest21: [1, 'revoked', 3],
  InvalidIDPwithindirectCRLTest23: [1, 'revoked', 1],
  // the distribution point's cRLIssuer (indirectCRL CA1x) issued no CRL here
  InvalidIDPwithindirectCRLTest26: [1, 'no-crl'],
  // cRLIssuer names Good CA, whose CRL is not an indirect CRL
  InvalidcRLIssuerTest27: [1, 'crl-out-of-scope'],
  InvalidcRLIssuerTest31: [1, 'revoked', 1],
  InvalidcRLIssuerTest32: [1, 'revoked', 1],
  InvalidcRLIssuerTest34: [1, 'revoked', 1],
  // cRLIssuer names indirectCRL CA6, and only indirectCRL CA5's CRL is there
  InvalidcRLIssuerTest35: [1, 'no-crl'],
  // §4.15 delta CRLs
  InvaliddeltaCRLIndicatorNoBaseTest1: [1, 'crl-delta-without-base'],
  InvaliddeltaCRLTest3: [1, 'revoked', 1],
  InvaliddeltaCRLTest4: [1, 'revoked', 1],
  InvaliddeltaCRLTest6: [1, 'revoked', 1],
  InvaliddeltaCRLTest9: [1, 'revoked', 1],
  // the complete CRL is stale (the delta CRL's base is a later one)
  InvaliddeltaCRLTest10: [1, 'crl-stale'],
};

const VALID = [
  // §4.4
  'ValidTwoCRLsTest7',
  'ValidGeneralizedTimeCRLnextUpdateTest13',
  'ValidNegativeSerialNumberTest14',
  'ValidLongSerialNumberTest16',
  'ValidLongSerialNumberTest17',
  'ValidSeparateCertificateandCRLKeysTest19',
  // §4.5
  'ValidBasicSelfIssuedOldWithNewTest1',
  'ValidBasicSelfIssuedNewWithOldTest3',
  'ValidBasicSelfIssuedNewWithOldTest4',
  'ValidBasicSelfIssuedCRLSigningKeyTest6',
  // §4.14
  'ValiddistributionPointTest1',
  'ValiddistributionPointTest4',
  'ValiddistributionPointTest5',
  'ValiddistributionPointTest7',
  'ValidNoissuingDistributionPointTest10',
  'ValidonlyContainsCACertsCRLTest13',
  'ValidonlySomeReasonsTest18',
  'ValidonlySomeReasonsTest19',
  'ValidIDPwithindirectCRLTest22',
  'ValidIDPwithindirectCRLTest24',
  'ValidIDPwithindirectCRLTest25',
  'ValidcRLIssuerTest28',
  'ValidcRLIssuerTest29',
  'ValidcRLIssuerTest30',
  'ValidcRLIssuerTest33',
  // §4.15
  'ValiddeltaCRLTest2',
  'ValiddeltaCRLTest5',
  'ValiddeltaCRLTest7',
  'ValiddeltaCRLTest8',
];

/**
 * Invalid for a reason other than revocation: the end entity's certificate is signed with the CA's CRL signing key,
 * whose certificate does not allow certificate signing (RFC 5280 §6.1.4 (n), path validation's check). Every
 * certificate's revocation status is good.
 */
const INVALID_NOT_BY_REVOCATION = ['InvalidBasicSelfIssuedCRLSigningKeyTest8'];

describe.skipIf(!HAVE)('PKITS CRL tests (§4.4, §4.5, §4.7.4–5, §4.14, §4.15): checkRevocation on every certificate of the path', () => {
  for (const test of [...VALID, ...INVALID_NOT_BY_REVOCATION]) {
    it(`${test}: every certificate good`, async () => {
      const r = await pkitsRevocation(test);
      expect(r.length).toBeGreaterThan(0);
      expect(r.map((s) => s.status)).toEqual(r.map(() => ({ status: 'good' })));
    });
  }
  for (const [test, [index, outcome, code]] of Object.entries(INVALID)) {
    it(`${test}: certificate ${index} ${outcome}${code !== undefined ? ` (reason ${code})` : ''}`, async () => {
      const r = await pkitsRevocation(test);
      const first = r.find((s) => s.status.status !== 'good');
      expect(first?.index).toBe(index);
      const st = first!.status;
      if (outcome === 'revoked') {
        expect(st.status).toBe('revoked');
        if (st.status === 'revoked') {
          expect(st.reason).toBe(code);
          expect(st.date).toBeInstanceOf(Date);
        }
      } else {
        expect(st).toEqual({ status: 'unknown', reason: outcome });
      }
    });
  }
  it('every other Valid PKITS test: every certificate good, but the DSA-signed CRLs of 4.1.4–4.1.5 (unsupported)', async () => {
    const { pkitsTests } = await import('../_helpers/pkits.js');
    const DSA = ['ValidDSASignaturesTest4', 'ValidDSAParameterInheritanceTest5'];
    const others = pkitsTests().filter((t) => t.startsWith('Valid') && !VALID.includes(t));
    expect(others).toHaveLength(59);
    for (const test of others) {
      const r = await pkitsRevocation(test);
      const notGood = r.filter((s) => s.status.status !== 'good').map((s) => s.status);
      if (DSA.includes(test)) {
        expect(notGood.length, test).toBeGreaterThan(0);
        for (const st of notGood) expect(st, test).toEqual({ status: 'unknown', reason: 'crl-unsupported-algorithm' });
      } else expect(notGood, test).toEqual([]);
    }
  }, 60_000);

  it('the tables cover §4.4, §4.14 and §4.15 in full, and §4.5.6–4.5.8, §4.7.4–4.7.5', async () => {
    const { pkitsTests } = await import('../_helpers/pkits.js');
    const all = pkitsTests();
    const covered = new Set([...VALID, ...INVALID_NOT_BY_REVOCATION, ...Object.keys(INVALID)]);
    for (const t of covered) expect(all).toContain(t);
    // 21 (§4.4) + 8 (§4.5) + 2 (§4.7) + 35 (§4.14) + 10 (§4.15)
    expect(covered.size).toBe(76);
  });
});

describe('checkRevocation on CRLs built here (the sample issuing CA and Alice)', () => {
  const serial = ALICE.serial;
  const d = (n: number) => new Date(AT.getTime() + n * DAY);
  const check = (crls: Uint8Array[], more: Partial<RevocationInput> = {}) =>
    checkRevocation({ cert: ALICE, issuer: CA, crls: crls.map((c) => parseCrl(c)), pool: [], at: AT, validateCrlSigner: async () => false, ...more });

  it('good: a current CRL by the issuer that does not list the certificate', async () => {
    expect(await check([makeCrl({ entries: [entry(Uint8Array.of(0x42), d(-3))] })])).toEqual({ status: 'good' });
  });

  it('no-crl: no CRL at all, or only CRLs of another issuer', async () => {
    expect(await check([])).toEqual({ status: 'unknown', reason: 'no-crl' });
    expect(await check([makeCrl({ issuer: cnName('Someone else') })])).toEqual({ status: 'unknown', reason: 'no-crl' });
  });

  it('revoked: the date and reason code of the entry; removeFromCRL in a complete CRL does not revoke', async () => {
    expect(await check([makeCrl({ entries: [entry(serial, d(-3), [reasonExt(1)])] })])).toEqual({ status: 'revoked', date: new Date(utcDate(d(-3))), reason: 1 });
    expect(await check([makeCrl({ entries: [entry(serial, d(-3))] })])).toEqual({ status: 'revoked', date: new Date(utcDate(d(-3))) });
    expect(await check([makeCrl({ entries: [entry(serial, d(-3), [reasonExt(8)])] })])).toEqual({ status: 'good' });
  });

  it('atSigningTime: a compromise revokes whatever its date, another reason only from its date on', async () => {
    const later = (reason: number) => [makeCrl({ thisUpdate: d(-1), entries: [entry(serial, d(5), [reasonExt(reason)])] })];
    expect((await check(later(1), { atSigningTime: true })).status).toBe('revoked');
    expect(await check(later(4), { atSigningTime: true })).toEqual({ status: 'good' });
    // judged now, a revocation dated after `at` does not count yet
    expect(await check(later(1))).toEqual({ status: 'good' });
  });

  it('freshness: a CRL not yet valid, or past its nextUpdate, is not usable', async () => {
    expect(await check([makeCrl({ thisUpdate: d(1), nextUpdate: d(30) })])).toEqual({ status: 'unknown', reason: 'crl-not-yet-valid' });
    expect(await check([makeCrl({ thisUpdate: d(-30), nextUpdate: d(-1) })])).toEqual({ status: 'unknown', reason: 'crl-stale' });
    // a stale one beside a current one: the current one decides
    expect(await check([makeCrl({ thisUpdate: d(-30), nextUpdate: d(-1) }), makeCrl()])).toEqual({ status: 'good' });
  });

  it('the signature: a bad one, a weak one (SHA-1) unless allowed, an unsupported one', async () => {
    expect(await check([makeCrl({ badSignature: true })])).toEqual({ status: 'unknown', reason: 'crl-signature-invalid' });
    expect(await check([makeCrl({ alg: SHA1_RSA })])).toEqual({ status: 'unknown', reason: 'crl-weak-algorithm' });
    expect(await check([makeCrl({ alg: SHA1_RSA })], { allowWeak: true })).toEqual({ status: 'good' });
    // dsa-with-SHA256: an algorithm we don't implement
    expect(await check([makeCrl({ alg: '2.16.840.1.101.3.4.3.2' })])).toEqual({ status: 'unknown', reason: 'crl-unsupported-algorithm' });
  });

  it('unknown critical extensions of the CRL or of an entry make it unusable; non-critical ones do not', async () => {
    expect(await check([makeCrl({ exts: [ext('1.2.3.4', integer(1), true)] })])).toEqual({ status: 'unknown', reason: 'crl-unknown-critical-extension' });
    expect(await check([makeCrl({ entries: [entry(Uint8Array.of(9), d(-2), [ext('1.2.3.4', integer(1), true)])] })])).toEqual({
      status: 'unknown',
      reason: 'crl-unknown-critical-extension',
    });
    expect(await check([makeCrl({ exts: [ext('1.2.3.4', integer(1))] })])).toEqual({ status: 'good' });
  });

  it('a signer other than the issuer must be in the pool, allowed to sign CRLs, and accepted by validateCrlSigner', async () => {
    // The path's issuer has the CA's name and another key: the CA's certificate in the pool signed the CRL.
    const rolledOver = { ...CA, der: Uint8Array.of(1), spki: Uint8Array.of(1, 2, 3) };
    const asked: string[] = [];
    const r = await check([makeCrl()], { issuer: rolledOver, pool: [CA], validateCrlSigner: async () => (asked.push('x'), false) });
    expect(r).toEqual({ status: 'unknown', reason: 'crl-signer-untrusted' });
    expect(asked).toEqual(['x']);
    expect(await check([makeCrl()], { issuer: rolledOver, pool: [CA], validateCrlSigner: async () => true })).toEqual({
      status: 'good',
    });
    // keyUsage without cRLSign
    const noCrlSign = { ...CA, keyUsage: CA.keyUsage!.map((b, i) => (i === KU.cRLSign ? false : b)) };
    expect(await check([makeCrl()], { issuer: noCrlSign })).toEqual({ status: 'unknown', reason: 'crl-signer-untrusted' });
    // the issuer itself (same name and key) is never asked about
    expect(await check([makeCrl()], { pool: [CA], validateCrlSigner: async () => (asked.push('y'), false) })).toEqual({ status: 'good' });
    expect(asked).toEqual(['x']);
  });

  it('scope: onlyContainsCACerts / AttributeCerts leave out an end entity; onlyContainsUserCerts covers it', async () => {
    expect(await check([makeCrl({ exts: [idpExt({ onlyCA: true })] })])).toEqual({ status: 'unknown', reason: 'crl-out-of-scope' });
    expect(await check([makeCrl({ exts: [idpExt({ onlyAttr: true })] })])).toEqual({ status: 'unknown', reason: 'crl-out-of-scope' });
    expect(await check([makeCrl({ exts: [idpExt({ onlyUser: true })] })])).toEqual({ status: 'good' });
    expect(await check([makeCrl({ exts: [idpExt({ onlyUser: true })] })], { cert: { ...ALICE, isCA: true } })).toEqual({
      status: 'unknown',
      reason: 'crl-out-of-scope',
    });
  });

  it('scope: IDP and certificate distribution point names, full or relative to the CRL issuer', async () => {
    const rel = withDps(ALICE, [dp({ relative: cnRdn('part 1') })]);
    const full = withDps(ALICE, [dp({ fullName: [dirName(appendRdn(CA.subject, cnRdn('part 1')))] })]);
    const idpRel = makeCrl({ exts: [idpExt({ relative: cnRdn('part 1') })] });
    const idpFull = makeCrl({ exts: [idpExt({ fullName: [dirName(appendRdn(CA.subject, cnRdn('part 1')))] })] });
    const other = makeCrl({ exts: [idpExt({ relative: cnRdn('part 2') })] });
    for (const cert of [rel, full]) {
      expect(await check([idpRel], { cert })).toEqual({ status: 'good' });
      expect(await check([idpFull], { cert })).toEqual({ status: 'good' });
      expect(await check([other], { cert })).toEqual({ status: 'unknown', reason: 'crl-out-of-scope' });
    }
    // A certificate without cRLDistributionPoints against a CRL whose IDP names a distribution point
    expect(await check([other])).toEqual({ status: 'unknown', reason: 'crl-out-of-scope' });
  });

  it('reasons: onlySomeReasons CRLs must together cover every reason; the DP reasons limit what is needed', async () => {
    const keyOnly = makeCrl({ number: 1, exts: [idpExt({ onlySomeReasons: [1, 2] })] });
    const rest = makeCrl({ number: 2, exts: [idpExt({ onlySomeReasons: [3, 4, 5, 6, 7, 8] })] });
    expect(await check([keyOnly])).toEqual({ status: 'unknown', reason: 'crl-reasons-incomplete' });
    expect(await check([keyOnly, rest])).toEqual({ status: 'good' });
    // the rest is there but stale: the stale one is the reason
    const staleRest = makeCrl({ number: 2, thisUpdate: d(-30), nextUpdate: d(-2), exts: [idpExt({ onlySomeReasons: [3, 4, 5, 6, 7, 8] })] });
    expect(await check([keyOnly, staleRest])).toEqual({ status: 'unknown', reason: 'crl-stale' });
  });

  it('indirect CRLs: entries under a certificateIssuer belong to that issuer; a DP cRLIssuer needs indirectCRL', async () => {
    const indirect = makeCrl({
      exts: [idpExt({ indirect: true })],
      entries: [entry(Uint8Array.of(1), d(-3)), entry(serial, d(-3), [certIssuerExt(cnName('Other CA'))]), entry(Uint8Array.of(2), d(-3))],
    });
    expect(await check([indirect])).toEqual({ status: 'good' });
    const direct = makeCrl({ exts: [idpExt({ indirect: true })], entries: [entry(serial, d(-3), [certIssuerExt(cnName('Other CA'))]), entry(serial, d(-2), [certIssuerExt(CA.subject), reasonExt(1)])] });
    expect(await check([direct])).toMatchObject({ status: 'revoked', reason: 1 });
    // the certificate's DP says its CRL comes from the CA itself as an indirect CRL issuer
    const viaCrlIssuer = withDps(ALICE, [dp({ crlIssuer: [dirName(CA.subject)] })]);
    expect(await check([makeCrl()], { cert: viaCrlIssuer })).toEqual({ status: 'unknown', reason: 'crl-out-of-scope' });
    expect(await check([makeCrl({ exts: [idpExt({ indirect: true })] })], { cert: viaCrlIssuer })).toEqual({ status: 'good' });
  });

  it('delta CRLs: applied with their base (removeFromCRL un-revokes), never alone, not to an older base', async () => {
    const base = makeCrl({ number: 5, entries: [entry(serial, d(-10), [reasonExt(6)])] });
    const unhold = makeCrl({ number: 6, delta: 5, entries: [entry(serial, d(-2), [reasonExt(8)])] });
    const revoke = makeCrl({ number: 6, delta: 5, entries: [entry(serial, d(-2), [reasonExt(1)])] });
    expect(await check([base])).toMatchObject({ status: 'revoked', reason: 6 });
    expect(await check([base, unhold])).toEqual({ status: 'good' });
    expect(await check([makeCrl({ number: 5 }), revoke])).toMatchObject({ status: 'revoked', reason: 1 });
    expect(await check([revoke])).toEqual({ status: 'unknown', reason: 'crl-delta-without-base' });
    // a delta whose base is newer than the complete CRL does not apply to it
    expect(await check([makeCrl({ number: 4 }), makeCrl({ number: 6, delta: 5, entries: [entry(serial, d(-2), [reasonExt(1)])] })])).toEqual({
      status: 'good',
    });
    // a delta signed by another key (here: a broken signature) is not used; the stale delta makes the base not current
    expect(await check([base, makeCrl({ number: 6, delta: 5, badSignature: true, entries: [entry(serial, d(-2), [reasonExt(8)])] })])).toEqual({
      status: 'unknown',
      reason: 'crl-signature-invalid',
    });
    expect(await check([makeCrl({ number: 5 }), makeCrl({ number: 6, delta: 5, thisUpdate: d(-30), nextUpdate: d(-1) })])).toEqual({
      status: 'unknown',
      reason: 'crl-stale',
    });
  });

  it('bounded: each CRL signature check spends from the budget, and results are cached per CRL and key', async () => {
    const der = makeCrl({ number: 77 });
    const budget = new PathBudget({ maxPathSignatureChecks: 1, maxPathCandidates: 10 });
    expect(await check([der], { budget })).toEqual({ status: 'good' });
    expect(budget.signatureChecks).toBe(1);
    // the same CRL parsed again: cached by content, no check spent
    expect(await check([der.slice()], { budget })).toEqual({ status: 'good' });
    expect(budget.signatureChecks).toBe(1);
    // another CRL: the budget is spent
    expect(await check([makeCrl({ number: 78 })], { budget })).toEqual({ status: 'unknown', reason: 'crl-check-limit' });
    expect(budget.exhausted).toBe(true);
  });
});

function utcDate(d: Date): number {
  return Math.floor(d.getTime() / 1000) * 1000;
}
