/**
 * Path validation (src/path/path_validation.ts) as the rest of the library meets it, beyond PKITS
 * (test/pkits/pkits.test.ts): encryptMessage's trust decision uses it (revocation by the store's CRLs, the store's
 * certificate policies); `CertificateStore.verifyCertificate` checks its input; path building tries the next
 * candidate when one fails validation; unknown critical extensions; revocation is required only below the first CA
 * of the path that has a CRL at hand.
 */
import { describe, expect, it } from 'vitest';
import {
  CertificateInvalid,
  CertificateStore,
  encryptMessage,
  MissingRecipientCertificatesError,
  verifyMessage,
} from '../../src/index.js';
import { certInfo } from '../../src/certs/cert_info.js';
import { loadCertificates } from '../../src/certs/load.js';
import { oid, seq } from '../../src/lib/der.js';
import { atReference, certPem, CHAIN, REFERENCE_DATE, ROOT } from '../_helpers/identities.js';
import { KU, makeCert, newKey, signedMessage } from '../security/_certs.js';
import { DAY, entry, makeCrl } from '../certs/_crl_builder.js';
import { rejection } from '../_helpers/thrown.js';

const CONTENT = 'From: alice@example.com\r\nContent-Type: text/plain\r\n\r\nhello\r\n';
const bobDer = () => loadCertificates(certPem('bob'))[0]!;
/** Bob's store judges the sample certificates at the reference date; its CRLs are dated around it. */
const NOW = REFERENCE_DATE;

/** A store that trusts the sample root and knows the issuing CA and Bob's certificate; its clock is at NOW. */
async function bobStore(options: ConstructorParameters<typeof CertificateStore>[0] = {}): Promise<CertificateStore> {
  const store = new CertificateStore({ now: atReference, ...options });
  store.addTrustAnchor(ROOT());
  await store.addCertificate(CHAIN());
  await store.addCertificate(certPem('bob'));
  return store;
}

/** encryptMessage to Bob: 'ok', or Bob's reason. */
async function encryptToBob(store: CertificateStore): Promise<string> {
  try {
    await encryptMessage(CONTENT, { store, to: ['bob@example.com'] });
    return 'ok';
  } catch (e) {
    if (!(e instanceof MissingRecipientCertificatesError)) throw e;
    return e.reasons['bob@example.com']!;
  }
}

const crlNow = (f: Parameters<typeof makeCrl>[0] = {}) =>
  makeCrl({ thisUpdate: new Date(NOW.getTime() - DAY), nextUpdate: new Date(NOW.getTime() + 30 * DAY), ...f });

describe("encryptMessage's trust decision is path validation", () => {
  it('a recipient revoked by a CRL the administrator added is refused as revoked', async () => {
    const store = await bobStore();
    expect(await encryptToBob(store)).toBe('ok');
    store.addCrl(crlNow({ entries: [entry(certInfo(bobDer()).serial, new Date(NOW.getTime() - DAY))] }));
    expect(await encryptToBob(store)).toBe('revoked');
    const v = await store.verifyCertificate(bobDer());
    expect(v.status).toBe('revoked');
    expect(v.reasons[0]).toMatch(/^revoked: /);
  });

  it("the store's certificatePolicies: a path without the required policy is refused", async () => {
    const certificatePolicies = { initialPolicySet: ['1.3.6.1.4.1.55555.1'], requireExplicitPolicy: true };
    const store = await bobStore({ certificatePolicies });
    expect(await encryptToBob(store)).toBe('untrusted');
    expect(await store.verifyCertificate(bobDer())).toEqual({ status: 'untrusted', reasons: ['no-acceptable-policy'] });
    // Without the requirement the same path is valid; it asserts no policy, so its policy set is empty.
    const plain = await bobStore();
    const v = await plain.verifyCertificate(bobDer());
    expect(v.status).toBe('valid');
    expect(v.path).toHaveLength(3);
    expect(v.policies).toEqual([]);
  });
});

describe('revocation is required below the first CA with a CRL at hand', () => {
  it("only the issuing CA's CRL: the leaf is checked, the issuing CA (whose issuer has no CRL here) is not", async () => {
    const store = await bobStore();
    expect((await store.verifyCertificate(bobDer(), { crls: [crlNow()] })).status).toBe('valid');
  });

  it("the root's CRL but none from the issuing CA: the leaf's status is unknown (PKITS 4.4.1)", async () => {
    const store = await bobStore();
    const rootCrl = crlNow({ signer: 'root' });
    expect(await store.verifyCertificate(bobDer(), { crls: [rootCrl] })).toEqual({
      status: 'untrusted',
      reasons: ['revocation-unknown: no-crl'],
    });
    // With both, valid; with the issuing CA revoked by the root, the leaf is 'issuer-revoked'.
    expect((await store.verifyCertificate(bobDer(), { crls: [rootCrl, crlNow()] })).status).toBe('valid');
    const caSerial = certInfo(loadCertificates(CHAIN())[0]!).serial;
    const revokedCa = crlNow({ signer: 'root', entries: [entry(caSerial, new Date(NOW.getTime() - DAY))] });
    const r = await store.verifyCertificate(bobDer(), { crls: [revokedCa, crlNow()] });
    expect(r.status).toBe('revoked');
    expect(r.reasons[0]).toMatch(/^issuer-revoked: /);
  });

  it('a forged CRL of the issuer leaves the status unknown, never valid', async () => {
    const store = await bobStore();
    expect(await store.verifyCertificate(bobDer(), { crls: [crlNow({ badSignature: true })] })).toEqual({
      status: 'untrusted',
      reasons: ['revocation-unknown: crl-signature-invalid'],
    });
  });
});

describe('path building and validation', () => {
  it('a candidate path that fails validation is not the end: the next one is tried', async () => {
    const [rootKey, caKey, leafKey] = await Promise.all([newKey(), newKey(), newKey()]);
    const root = await makeCert({ subject: 'PV Root', key: rootKey, ca: true, ku: [KU.keyCertSign, KU.cRLSign] });
    const issuer = { name: 'PV Root', key: rootKey };
    // Two certificates for the same CA name and key: the first may not sign certificates, the second may.
    const noCertSign = await makeCert({ subject: 'PV CA', key: caKey, issuer, ca: true, ku: [KU.digitalSignature] });
    const good = await makeCert({ subject: 'PV CA', key: caKey, issuer, ca: true, ku: [KU.keyCertSign] });
    const leaf = await makeCert({ subject: 'PV leaf', key: leafKey, issuer: { name: 'PV CA', key: caKey }, ku: [KU.digitalSignature], email: 'pv@example.com' });
    const store = new CertificateStore();
    store.addTrustAnchor(root);
    const only = await store.verifyCertificate(leaf, { intermediates: [noCertSign] });
    expect(only).toEqual({ status: 'untrusted', reasons: ['ca-key-usage: keyCertSign'] });
    const both = await store.verifyCertificate(leaf, { intermediates: [noCertSign, good] });
    expect(both.status).toBe('valid');
    expect(both.path?.[1]).toEqual(good);
    // The same through verifyMessage: the signer is valid, with the good CA's path.
    const msg = await signedMessage(leaf, leafKey, [noCertSign, good], 'pv@example.com');
    const s = (await verifyMessage(msg, { store, harvest: false })).signers[0]!;
    expect(s.status).toBe('valid');
    expect(s.policies).toEqual([]);
  });

  it('an unknown critical extension refuses the path; the same extension not critical is ignored (PKITS 4.16)', async () => {
    const [rootKey, leafKey] = await Promise.all([newKey(), newKey()]);
    const root = await makeCert({ subject: 'UC Root', key: rootKey, ca: true, ku: [KU.keyCertSign] });
    const mk = (critical: boolean) =>
      makeCert({
        subject: 'UC leaf',
        key: leafKey,
        issuer: { name: 'UC Root', key: rootKey },
        ku: [KU.digitalSignature],
        extensions: [{ oid: '1.3.6.1.4.1.55555.9', value: seq(oid('1.2.3')), critical }],
      });
    const store = new CertificateStore();
    store.addTrustAnchor(root);
    expect(await store.verifyCertificate(await mk(true))).toEqual({
      status: 'untrusted',
      reasons: ['unknown-critical-extension: 1.3.6.1.4.1.55555.9'],
    });
    expect((await store.verifyCertificate(await mk(false))).status).toBe('valid');
  });
});

describe('input checks', () => {
  it('verifyCertificate: malformed input is CertificateInvalid; bad options are TypeErrors', async () => {
    const store = await bobStore();
    expect(await rejection(store.verifyCertificate(new Uint8Array([0x30, 0x03, 1, 2, 3])))).toBeInstanceOf(CertificateInvalid);
    expect(await rejection(store.verifyCertificate('no certificate here'))).toBeInstanceOf(CertificateInvalid);
    expect(await rejection(store.verifyCertificate(bobDer(), { crls: [new Uint8Array([0x30, 0x00])] }))).toBeInstanceOf(CertificateInvalid);
    expect(await rejection(store.verifyCertificate(bobDer(), { at: new Date('nope') }))).toBeInstanceOf(TypeError);
  });

  it('certificatePolicies is checked: OIDs in dotted decimal, booleans', async () => {
    const store = await bobStore();
    for (const bad of [{ initialPolicySet: ['policy-1'] }, { initialPolicySet: [] }, { requireExplicitPolicy: 'yes' }, 'any']) {
      const e = await rejection(verifyMessage(CONTENT, { store, certificatePolicies: bad as never }));
      expect(e).toBeInstanceOf(TypeError);
      expect(String(e)).toMatch(/certificatePolicies/);
      expect(await rejection(store.verifyCertificate(bobDer(), { certificatePolicies: bad as never }))).toBeInstanceOf(TypeError);
    }
  });
});
