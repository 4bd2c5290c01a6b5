/**
 * Expected results of NIST PKITS §4.8–4.12 (certificate policies, requireExplicitPolicy, policy mappings,
 * inhibitPolicyMapping, inhibitAnyPolicy) for the RFC 5280 §6.1 policy inputs, one entry per (test, settings)
 * combination: `test` is the message name (`Signed<test>.eml`), `section` the PKITS.pdf section, `settings` the
 * initial inputs (absent ones at their PKITS default: initial-policy-set any-policy, the three flags off), `valid`
 * the expected outcome, and `policies` the expected user-constrained-policy-set when the path is valid.
 *
 * Source: Chromium's `net/third_party/nist-pkits/pkits_testcases-inl.h` (generated from PKITS.pdf by its
 * `generate_tests.py`; each "Subpart" there is one entry here), with the defaults of its `PkitsTestInfo`
 * constructor (in Chromium's `nist_pkits_unittest.cc`: initial policy set {anyPolicy}, expected user-constrained
 * policy set {NIST-test-policy-1} unless the test sets another). The five entries marked "by name" are the default-settings
 * run of a test Chromium only lists under other settings: PKITS.pdf names a test Valid/Invalid by its result under
 * the default settings; no policy set is asserted for them.
 */
import { ANY_POLICY, type PolicyOptions } from '../../src/path/policy_tree.js';

// The PKITS policy OIDs: NIST-test-policy-N is 2.16.840.1.101.3.2.1.48.N.
/** NIST-test-policy-1. */
export const P1 = '2.16.840.1.101.3.2.1.48.1';
/** NIST-test-policy-2. */
export const P2 = '2.16.840.1.101.3.2.1.48.2';
/** NIST-test-policy-3. */
export const P3 = '2.16.840.1.101.3.2.1.48.3';
/** NIST-test-policy-6. */
export const P6 = '2.16.840.1.101.3.2.1.48.6';

/** One PKITS policy case: a test run under one setting of the four initial policy inputs. */
export interface PkitsPolicyCase {
  /** The test's name, as in its message file name without `Signed` and `.eml`. */
  test: string;
  /** The PKITS.pdf section, e.g. '4.10.3'. */
  section: string;
  /** The initial policy inputs of this run. */
  settings: PolicyOptions;
  /** Whether the path validates under them. */
  valid: boolean;
  /** The user-constrained-policy-set of a valid run, where the source states it. */
  policies?: string[];
}

/** Every PKITS §4.8–4.12 test under every setting its source gives (91 runs of 63 tests). */
export const PKITS_POLICY_CASES: PkitsPolicyCase[] = [
  { test: 'AllCertificatesSamePolicyTest1', section: '4.8.1', settings: { requireExplicitPolicy: true }, valid: true, policies: [P1] },
  { test: 'AllCertificatesSamePolicyTest1', section: '4.8.1', settings: { initialPolicySet: [P1], requireExplicitPolicy: true }, valid: true, policies: [P1] },
  { test: 'AllCertificatesSamePolicyTest1', section: '4.8.1', settings: { initialPolicySet: [P2], requireExplicitPolicy: true }, valid: false },
  { test: 'AllCertificatesSamePolicyTest1', section: '4.8.1', settings: { initialPolicySet: [P1, P2], requireExplicitPolicy: true }, valid: true, policies: [P1] },
  { test: 'AllCertificatesNoPoliciesTest2', section: '4.8.2', settings: {}, valid: true, policies: [] },
  { test: 'AllCertificatesNoPoliciesTest2', section: '4.8.2', settings: { requireExplicitPolicy: true }, valid: false },
  { test: 'DifferentPoliciesTest3', section: '4.8.3', settings: {}, valid: true, policies: [] },
  { test: 'DifferentPoliciesTest3', section: '4.8.3', settings: { requireExplicitPolicy: true }, valid: false },
  { test: 'DifferentPoliciesTest3', section: '4.8.3', settings: { initialPolicySet: [P1, P2], requireExplicitPolicy: true }, valid: false },
  { test: 'DifferentPoliciesTest4', section: '4.8.4', settings: {}, valid: false },
  { test: 'DifferentPoliciesTest5', section: '4.8.5', settings: {}, valid: false },
  { test: 'OverlappingPoliciesTest6', section: '4.8.6', settings: {}, valid: true, policies: [P1] },
  { test: 'OverlappingPoliciesTest6', section: '4.8.6', settings: { initialPolicySet: [P1] }, valid: true, policies: [P1] },
  { test: 'OverlappingPoliciesTest6', section: '4.8.6', settings: { initialPolicySet: [P2] }, valid: false },
  { test: 'DifferentPoliciesTest7', section: '4.8.7', settings: {}, valid: false },
  { test: 'DifferentPoliciesTest8', section: '4.8.8', settings: {}, valid: false },
  { test: 'DifferentPoliciesTest9', section: '4.8.9', settings: {}, valid: false },
  { test: 'AllCertificatesSamePoliciesTest10', section: '4.8.10', settings: {}, valid: true, policies: [P1, P2] },
  { test: 'AllCertificatesSamePoliciesTest10', section: '4.8.10', settings: { initialPolicySet: [P1] }, valid: true, policies: [P1] },
  { test: 'AllCertificatesSamePoliciesTest10', section: '4.8.10', settings: { initialPolicySet: [P2] }, valid: true, policies: [P2] },
  { test: 'AllCertificatesAnyPolicyTest11', section: '4.8.11', settings: {}, valid: true, policies: [ANY_POLICY] },
  { test: 'AllCertificatesAnyPolicyTest11', section: '4.8.11', settings: { initialPolicySet: [P1] }, valid: true, policies: [P1] },
  { test: 'DifferentPoliciesTest12', section: '4.8.12', settings: {}, valid: false },
  { test: 'AllCertificatesSamePoliciesTest13', section: '4.8.13', settings: { initialPolicySet: [P1] }, valid: true, policies: [P1] },
  { test: 'AllCertificatesSamePoliciesTest13', section: '4.8.13', settings: { initialPolicySet: [P2] }, valid: true, policies: [P2] },
  { test: 'AllCertificatesSamePoliciesTest13', section: '4.8.13', settings: { initialPolicySet: [P3] }, valid: true, policies: [P3] },
  { test: 'AnyPolicyTest14', section: '4.8.14', settings: { initialPolicySet: [P1] }, valid: true, policies: [P1] },
  { test: 'AnyPolicyTest14', section: '4.8.14', settings: { initialPolicySet: [P2] }, valid: false },
  { test: 'UserNoticeQualifierTest15', section: '4.8.15', settings: {}, valid: true, policies: [P1] },
  { test: 'UserNoticeQualifierTest16', section: '4.8.16', settings: {}, valid: true, policies: [P1] },
  { test: 'UserNoticeQualifierTest17', section: '4.8.17', settings: {}, valid: true, policies: [P1] },
  { test: 'UserNoticeQualifierTest18', section: '4.8.18', settings: { initialPolicySet: [P1] }, valid: true, policies: [P1] },
  { test: 'UserNoticeQualifierTest18', section: '4.8.18', settings: { initialPolicySet: [P2] }, valid: true, policies: [P2] },
  { test: 'UserNoticeQualifierTest19', section: '4.8.19', settings: {}, valid: true, policies: [P1] },
  { test: 'CPSPointerQualifierTest20', section: '4.8.20', settings: { initialPolicySet: [P1], requireExplicitPolicy: true }, valid: true, policies: [P1] },
  { test: 'ValidRequireExplicitPolicyTest1', section: '4.9.1', settings: {}, valid: true, policies: [] },
  { test: 'ValidRequireExplicitPolicyTest2', section: '4.9.2', settings: {}, valid: true, policies: [] },
  { test: 'InvalidRequireExplicitPolicyTest3', section: '4.9.3', settings: {}, valid: false },
  { test: 'ValidRequireExplicitPolicyTest4', section: '4.9.4', settings: {}, valid: true, policies: [P1] },
  { test: 'InvalidRequireExplicitPolicyTest5', section: '4.9.5', settings: {}, valid: false },
  { test: 'ValidSelfIssuedrequireExplicitPolicyTest6', section: '4.9.6', settings: {}, valid: true, policies: [] },
  { test: 'InvalidSelfIssuedrequireExplicitPolicyTest7', section: '4.9.7', settings: {}, valid: false },
  { test: 'InvalidSelfIssuedrequireExplicitPolicyTest8', section: '4.9.8', settings: {}, valid: false },
  { test: 'ValidPolicyMappingTest1', section: '4.10.1', settings: {}, valid: true }, // by name (PKITS.pdf: valid under the default settings)
  { test: 'ValidPolicyMappingTest1', section: '4.10.1', settings: { initialPolicySet: [P1] }, valid: true, policies: [P1] },
  { test: 'ValidPolicyMappingTest1', section: '4.10.1', settings: { initialPolicySet: [P2] }, valid: false },
  { test: 'ValidPolicyMappingTest1', section: '4.10.1', settings: { inhibitPolicyMapping: true }, valid: false },
  { test: 'InvalidPolicyMappingTest2', section: '4.10.2', settings: {}, valid: false },
  { test: 'InvalidPolicyMappingTest2', section: '4.10.2', settings: { inhibitPolicyMapping: true }, valid: false },
  { test: 'ValidPolicyMappingTest3', section: '4.10.3', settings: {}, valid: true }, // by name (PKITS.pdf: valid under the default settings)
  { test: 'ValidPolicyMappingTest3', section: '4.10.3', settings: { initialPolicySet: [P1] }, valid: false },
  { test: 'ValidPolicyMappingTest3', section: '4.10.3', settings: { initialPolicySet: [P2] }, valid: true, policies: [P2] },
  { test: 'InvalidPolicyMappingTest4', section: '4.10.4', settings: {}, valid: false },
  { test: 'ValidPolicyMappingTest5', section: '4.10.5', settings: {}, valid: true }, // by name (PKITS.pdf: valid under the default settings)
  { test: 'ValidPolicyMappingTest5', section: '4.10.5', settings: { initialPolicySet: [P1] }, valid: true, policies: [P1] },
  { test: 'ValidPolicyMappingTest5', section: '4.10.5', settings: { initialPolicySet: [P6] }, valid: false },
  { test: 'ValidPolicyMappingTest6', section: '4.10.6', settings: {}, valid: true }, // by name (PKITS.pdf: valid under the default settings)
  { test: 'ValidPolicyMappingTest6', section: '4.10.6', settings: { initialPolicySet: [P1] }, valid: true, policies: [P1] },
  { test: 'ValidPolicyMappingTest6', section: '4.10.6', settings: { initialPolicySet: [P6] }, valid: false },
  { test: 'InvalidMappingFromanyPolicyTest7', section: '4.10.7', settings: {}, valid: false },
  { test: 'InvalidMappingToanyPolicyTest8', section: '4.10.8', settings: {}, valid: false },
  { test: 'ValidPolicyMappingTest9', section: '4.10.9', settings: {}, valid: true, policies: [P1] },
  { test: 'InvalidPolicyMappingTest10', section: '4.10.10', settings: {}, valid: false },
  { test: 'ValidPolicyMappingTest11', section: '4.10.11', settings: {}, valid: true, policies: [P1] },
  { test: 'ValidPolicyMappingTest12', section: '4.10.12', settings: {}, valid: true }, // by name (PKITS.pdf: valid under the default settings)
  { test: 'ValidPolicyMappingTest12', section: '4.10.12', settings: { initialPolicySet: [P1] }, valid: true, policies: [P1] },
  { test: 'ValidPolicyMappingTest12', section: '4.10.12', settings: { initialPolicySet: [P2] }, valid: true, policies: [P2] },
  { test: 'ValidPolicyMappingTest13', section: '4.10.13', settings: {}, valid: true, policies: [P1] },
  { test: 'ValidPolicyMappingTest14', section: '4.10.14', settings: {}, valid: true, policies: [P1] },
  { test: 'InvalidinhibitPolicyMappingTest1', section: '4.11.1', settings: {}, valid: false },
  { test: 'ValidinhibitPolicyMappingTest2', section: '4.11.2', settings: {}, valid: true, policies: [P1] },
  { test: 'InvalidinhibitPolicyMappingTest3', section: '4.11.3', settings: {}, valid: false },
  { test: 'ValidinhibitPolicyMappingTest4', section: '4.11.4', settings: {}, valid: true, policies: [P2] },
  { test: 'InvalidinhibitPolicyMappingTest5', section: '4.11.5', settings: {}, valid: false },
  { test: 'InvalidinhibitPolicyMappingTest6', section: '4.11.6', settings: {}, valid: false },
  { test: 'ValidSelfIssuedinhibitPolicyMappingTest7', section: '4.11.7', settings: {}, valid: true, policies: [P1] },
  { test: 'InvalidSelfIssuedinhibitPolicyMappingTest8', section: '4.11.8', settings: {}, valid: false },
  { test: 'InvalidSelfIssuedinhibitPolicyMappingTest9', section: '4.11.9', settings: {}, valid: false },
  { test: 'InvalidSelfIssuedinhibitPolicyMappingTest10', section: '4.11.10', settings: {}, valid: false },
  { test: 'InvalidSelfIssuedinhibitPolicyMappingTest11', section: '4.11.11', settings: {}, valid: false },
  { test: 'InvalidinhibitAnyPolicyTest1', section: '4.12.1', settings: {}, valid: false },
  { test: 'ValidinhibitAnyPolicyTest2', section: '4.12.2', settings: {}, valid: true, policies: [P1] },
  { test: 'inhibitAnyPolicyTest3', section: '4.12.3', settings: {}, valid: true, policies: [P1] },
  { test: 'inhibitAnyPolicyTest3', section: '4.12.3', settings: { inhibitAnyPolicy: true }, valid: false },
  { test: 'InvalidinhibitAnyPolicyTest4', section: '4.12.4', settings: {}, valid: false },
  { test: 'InvalidinhibitAnyPolicyTest5', section: '4.12.5', settings: {}, valid: false },
  { test: 'InvalidinhibitAnyPolicyTest6', section: '4.12.6', settings: {}, valid: false },
  { test: 'ValidSelfIssuedinhibitAnyPolicyTest7', section: '4.12.7', settings: {}, valid: true, policies: [P1] },
  { test: 'InvalidSelfIssuedinhibitAnyPolicyTest8', section: '4.12.8', settings: {}, valid: false },
  { test: 'ValidSelfIssuedinhibitAnyPolicyTest9', section: '4.12.9', settings: {}, valid: true, policies: [P1] },
  { test: 'InvalidSelfIssuedinhibitAnyPolicyTest10', section: '4.12.10', settings: {}, valid: false },
];
