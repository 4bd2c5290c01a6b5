/**
 * RFC 5280 §6.3 CRL validation (src/certs/revocation.ts) measured by NIST PKITS: §4.4 (CRLs), §4.5 (self-issued
 * certificates and CRL signing keys), §4.7.4–4.7.5 (cRLSign), §4.14 (distribution points, onlyContains…,
 * onlySomeReasons, indirect CRLs, cRLIssuer) and §4.15 (delta CRLs). Every certificate of the test's path
 * (`pkitsPath`) is checked against the message's CRLs, every certificate of the message being a possible CRL signer,
 * at 2020-01-01. A `Valid…` test: every certificate 'good'. An `Invalid…` test (and MissingCRLTest1): the first
 * certificate that is not 'good' is the one the table names, revoked or unknown for the reason it names.
 */
import { describe, expect, it } from 'vitest';
import { sharedAvailable } from '../_helpers/env.js';
import { pkitsRevocation } from './_revocation_pkits.js';

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
  it('the tables cover §4.4, §4.14 and §4.15 in full, and §4.5.6–4.5.8, §4.7.4–4.7.5', async () => {
    const { pkitsTests } = await import('../_helpers/pkits.js');
    const all = pkitsTests();
    const covered = new Set([...VALID, ...INVALID_NOT_BY_REVOCATION, ...Object.keys(INVALID)]);
    for (const t of covered) expect(all).toContain(t);
    // 21 (§4.4) + 8 (§4.5) + 2 (§4.7) + 35 (§4.14) + 10 (§4.15)
    expect(covered.size).toBe(76);
  });
});
