/**
 * `store.certificates({ email? })` lists what the store holds with its role, and `store.remove(…)` takes a
 * certificate out of every role it has (an identity keeps nothing: neither its key nor its certificate).
 */
import { describe, expect, it } from 'vitest';
import { CertificateStore, decryptMessage, encryptMessage, signMessage, verifyMessage } from '../../src/index.js';
import { atReference, CHAIN, certPem, manifest, PASSWORD, ROOT, vfile } from '../_helpers/identities.js';
import { x509 } from '../../src/certs/x509.js';

async function store(): Promise<CertificateStore> {
  const s = new CertificateStore({ now: atReference });
  await s.importPkcs12(vfile(manifest.identities['alice-enc-2025']!.p12), PASSWORD);
  await s.importPkcs12(vfile(manifest.identities['alice-sign']!.p12), PASSWORD);
  await s.addCertificate(certPem('bob'));
  await s.addCertificate(CHAIN());
  s.addTrustAnchor(ROOT());
  return s;
}

const serial = (pem: string) => new x509.X509Certificate(pem).serialNumber;

describe('certificates()', () => {
  it('lists every certificate once with its role', async () => {
    const s = await store();
    const list = s.certificates().map((c) => [c.role, c.certificate.serialNumber]);
    const roles = list.map((l) => l[0]);
    expect(roles.filter((r) => r === 'identity')).toHaveLength(2);
    expect(roles.filter((r) => r === 'contact')).toHaveLength(1);
    expect(roles.filter((r) => r === 'anchor')).toHaveLength(1);
    expect(roles.filter((r) => r === 'intermediate').length).toBeGreaterThanOrEqual(1);
    expect(list).toContainEqual(['contact', serial(certPem('bob'))]);
    expect(list).toContainEqual(['identity', serial(certPem('alice-enc-2025'))]);
    expect(list).toContainEqual(['anchor', serial(ROOT())]);
    // filtered by address, in any case
    expect(s.certificates({ email: 'ALICE@example.com' }).map((c) => c.role)).toEqual(['identity', 'identity']);
    expect(s.certificates({ email: 'bob@example.com' }).map((c) => c.certificate.serialNumber)).toEqual([serial(certPem('bob'))]);
    expect(s.certificates({ email: 'nobody@example.com' })).toEqual([]);
  });

  it('lists an identity once even when signed mail taught its certificate again', async () => {
    const s = await store();
    const signed = await signMessage('From: alice@example.com\r\n\r\nx\r\n', { store: s, from: 'alice@example.com' });
    await verifyMessage(signed, { store: s });
    expect(s.certificates({ email: 'alice@example.com' }).map((c) => c.role)).toEqual(['identity', 'identity']);
  });
});

describe('remove()', () => {
  it('removes a contact (by PEM, X509Certificate or DER), after which it is not selected', async () => {
    const s = await store();
    expect((await s.findEncryptionCertificate('bob@example.com')).certificate).toBeDefined();
    expect(s.remove(certPem('bob'))).toBe(true);
    expect(s.remove(certPem('bob'))).toBe(false);
    expect(await s.findEncryptionCertificate('bob@example.com')).toEqual({ reason: 'none' });
    const [bob] = await s.addCertificate(certPem('bob'));
    expect(s.remove(bob!)).toBe(true);
    await s.addCertificate(certPem('bob'));
    expect(s.remove(new Uint8Array(bob!.rawData))).toBe(true);
    expect(s.certificates({ email: 'bob@example.com' })).toEqual([]);
  });

  it('removes an identity completely: its key no longer decrypts and it is not listed', async () => {
    const s = await store();
    const enc = await encryptMessage('To: alice@example.com\r\n\r\nx\r\n', { store: s, to: ['alice@example.com'] });
    expect((await decryptMessage(enc, { store: s })).content.length).toBeGreaterThan(0);
    const id = s.identities.find((i) => i.certificate.serialNumber === serial(certPem('alice-enc-2025')))!;
    expect(s.remove(id)).toBe(true);
    expect(s.identities.map((i) => i.certificate.serialNumber)).toEqual([serial(certPem('alice-sign'))]);
    await expect(decryptMessage(enc, { store: s })).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_/) });
    expect(s.certificates().some((c) => c.certificate.serialNumber === id.certificate.serialNumber)).toBe(false);
    expect(s.remove(id)).toBe(false);
  });

  it('removes a trust anchor, after which paths to it fail', async () => {
    const s = await store();
    expect((await s.verifyCertificate(certPem('bob'))).status).toBe('valid');
    expect(s.remove(ROOT())).toBe(true);
    expect(s.trustAnchors).toEqual([]);
    expect(s.certificates().some((c) => c.role === 'anchor')).toBe(false);
  });

  it('drops a removed certificate from the contact preferences, keeping the capabilities', async () => {
    const s = new CertificateStore({ now: atReference });
    await s.addCertificate(CHAIN());
    s.addTrustAnchor(ROOT());
    const v = await verifyMessage(vfile('bc/sig-rsa-caps-keypref.eml'), { store: s });
    expect(v.signers[0]!.status).toBe('valid');
    const pref = s.preference('alice@example.com')!;
    expect(pref.certificate?.serialNumber).toBe(serial(certPem('alice-enc-2025')));
    expect(pref.capabilities?.length).toBeGreaterThan(0);
    expect(s.remove(certPem('alice-enc-2025'))).toBe(true);
    const after = s.preference('alice@example.com')!;
    expect(after.certificate).toBeUndefined();
    expect(after.capabilities).toEqual(pref.capabilities);
  });

  it('refuses what is not a certificate with a typed error', async () => {
    const s = await store();
    expect(() => s.remove(new Uint8Array([1, 2, 3]))).toThrow(expect.objectContaining({ code: expect.stringMatching(/^ERR_/) }));
  });
});
