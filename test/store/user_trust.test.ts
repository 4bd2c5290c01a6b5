/**
 * Explicit trust (`trustCertificate`, only with `allowUserTrust: true`): a leaf without a path to an anchor is
 * trusted for verification (status valid, reason 'trusted-explicitly') and for encryption; its own validity still
 * counts; the decision survives export/import and is honoured only where user trust is allowed.
 */
import { describe, expect, it } from 'vitest';
import { CertificateStore, encryptMessage, signMessage, verifyMessage } from '../../src/index.js';
import { atReference, CHAIN, certPem, manifest, PASSWORD, ROOT, vfile } from '../_helpers/identities.js';

const PW = 'pw';

async function signedBy(name: string): Promise<Uint8Array> {
  const s = new CertificateStore({ now: atReference });
  await s.importPkcs12(vfile(manifest.identities[name]!.p12), PASSWORD);
  const email = manifest.identities[name]!.email;
  return signMessage(`From: ${email}\r\nTo: alice@example.com\r\nSubject: s\r\n\r\nhello\r\n`, { store: s, from: email });
}

async function managed(allowUserTrust?: boolean): Promise<CertificateStore> {
  const s = new CertificateStore(allowUserTrust === undefined ? { now: atReference } : { allowUserTrust, now: atReference });
  await s.addCertificate(CHAIN());
  s.addTrustAnchor(ROOT());
  return s;
}

describe('explicit trust', () => {
  it('is refused (TypeError) by a store created without allowUserTrust', async () => {
    const s = await managed();
    expect(s.allowUserTrust).toBe(false);
    expect(() => s.trustCertificate(certPem('grace-untrusted'))).toThrow(TypeError);
    expect(() => s.trustCertificate(certPem('grace-untrusted'))).toThrow(/allowUserTrust: true/);
    expect(s.certificates()).toHaveLength(2); // nothing added: the CA certificates of CHAIN
  });

  it('makes a partner without a path valid with reason trusted-explicitly, for verification and encryption', async () => {
    const msg = await signedBy('grace-untrusted');
    const s = await managed(true);
    await s.addCertificate(certPem('grace-untrusted'));
    const before = await verifyMessage(msg, { store: s });
    expect(before.signers[0]!.status).toBe('untrusted');
    expect(await s.findEncryptionCertificate('grace@example.com')).toEqual({ reason: 'untrusted' });
    expect((await s.verifyCertificate(certPem('grace-untrusted'))).status).toBe('untrusted');

    const cert = s.trustCertificate(certPem('grace-untrusted'));
    expect(s.certificates({ email: 'grace@example.com' })).toEqual([{ certificate: cert, role: 'contact', trustedExplicitly: true }]);
    const after = await verifyMessage(msg, { store: s });
    expect(after.signers[0]!.status).toBe('valid');
    expect(after.signers[0]!.reasons).toEqual(['trusted-explicitly']);
    expect((await s.findEncryptionCertificate('grace@example.com')).certificate?.serialNumber).toBe(cert.serialNumber);
    expect(await s.verifyCertificate(certPem('grace-untrusted'))).toMatchObject({ status: 'valid', reasons: ['trusted-explicitly'] });
    const enc = await encryptMessage('To: grace@example.com\r\n\r\nx\r\n', { store: s, to: ['grace@example.com'] });
    expect(enc.length).toBeGreaterThan(100);
    // A signer with a path to an anchor is not affected.
    const alice = await verifyMessage(await signedBy('alice-sign'), { store: s });
    expect([alice.signers[0]!.status, alice.signers[0]!.reasons]).toEqual(['valid', []]);
  });

  it('does not make an expired certificate usable', async () => {
    const s = await managed(true);
    s.trustCertificate(certPem('dave'));
    expect(await s.findEncryptionCertificate('dave@example.com')).toEqual({ reason: 'expired' });
    expect((await s.verifyCertificate(certPem('dave'))).status).toBe('expired');
  });

  it('survives export/import, is honoured only where user trust is allowed, and goes with remove', async () => {
    const s = await managed(true);
    s.trustCertificate(certPem('grace-untrusted'));
    const file = await s.export({ password: PW, iterations: 1 });
    const msg = await signedBy('grace-untrusted');

    const same = await CertificateStore.import(file, { password: PW, now: atReference });
    expect((await verifyMessage(msg, { store: same })).signers[0]!.reasons).toEqual(['trusted-explicitly']);

    const strict = await CertificateStore.import(file, { password: PW, allowUserTrust: false, now: atReference });
    expect((await verifyMessage(msg, { store: strict })).signers[0]!.status).toBe('untrusted');
    expect(await strict.findEncryptionCertificate('grace@example.com')).toEqual({ reason: 'untrusted' });
    // kept, though not honoured: a store exported from there still carries it
    const again = await CertificateStore.import(await strict.export({ password: PW, iterations: 1 }), { password: PW, allowUserTrust: true, now: atReference });
    expect((await verifyMessage(msg, { store: again })).signers[0]!.status).toBe('valid');

    expect(same.remove(certPem('grace-untrusted'))).toBe(true);
    expect((await verifyMessage(msg, { store: same })).signers[0]!.status).toBe('untrusted');
    expect(same.certificates({ email: 'grace@example.com' })).toEqual([]);
  });
});
