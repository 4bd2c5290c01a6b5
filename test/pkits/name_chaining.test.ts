/**
 * NIST PKITS §4.3 (name chaining), run as the suite's signed S/MIME messages (PKITS §6.2.2) through verifyMessage
 * with the PKITS trust anchor. Issuer and subject names must match by RFC 5280 §7.1 (string preparation: case,
 * insignificant whitespace, PrintableString vs UTF8String), not byte for byte, and still not match when the issuer
 * name differs or its RDNs are in another order.
 *
 * The end-entity certificates carry no e-mail address while the messages' From is sender@testcertificates.gov, so
 * an `address-mismatch` is expected: "valid" here means no reason other than address-mismatch ones. Skipped with a
 * notice when ../shared is absent (never under CI=true).
 */
import { describe, expect, it } from 'vitest';
import { CertificateStore, verifyMessage, type SignerResult } from '../../src/index.js';
import { shared, sharedAvailable } from '../_helpers/env.js';

const HAVE = sharedAvailable();
/** Inside every PKITS certificate's validity (2010–2030). */
const AT = new Date('2020-01-01T00:00:00Z');

async function verifyPkits(test: string): Promise<SignerResult> {
  const store = new CertificateStore();
  store.addTrustAnchor(shared('pkits/certs/TrustAnchorRootCertificate.crt'));
  const r = await verifyMessage(shared(`pkits/smime/Signed${test}.eml`), { store, at: AT });
  expect(r.signers).toHaveLength(1);
  return r.signers[0]!;
}

/** The reasons that are not the expected address-mismatch. */
const problems = (s: SignerResult) => s.reasons.filter((r) => !r.startsWith('address-mismatch'));

const VALID = [
  'ValidNameChainingWhitespaceTest3',
  'ValidNameChainingWhitespaceTest4',
  'ValidNameChainingCapitalizationTest5',
  'ValidNameChainingUIDsTest6',
  'ValidRFC3280MandatoryAttributeTypesTest7',
  'ValidRFC3280OptionalAttributeTypesTest8',
  'ValidUTF8StringEncodedNamesTest9',
  'ValidRolloverfromPrintableStringtoUTF8StringTest10',
  'ValidUTF8StringCaseInsensitiveMatchTest11',
];

const INVALID = ['InvalidNameChainingEETest1', 'InvalidNameChainingOrderTest2'];

describe.skipIf(!HAVE)('PKITS 4.3 name chaining', () => {
  for (const test of VALID) {
    it(`${test}: valid (only address-mismatch, as the EE certificate has no address)`, async () => {
      const s = await verifyPkits(test);
      expect(problems(s)).toEqual([]);
      expect(['valid', 'address-mismatch']).toContain(s.status);
    });
  }
  for (const test of INVALID) {
    it(`${test}: not valid (no chain to the trust anchor)`, async () => {
      const s = await verifyPkits(test);
      expect(problems(s)).toContain('no-chain-to-trust-anchor');
      expect(s.status).toBe('untrusted');
    });
  }
});
