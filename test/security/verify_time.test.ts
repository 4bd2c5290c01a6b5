/**
 * Finding 4 of the security review: the time a signature is verified at. The signingTime attribute is a claim made
 * by whoever holds the key, so by default validity and revocation are judged **now** (the store's clock or
 * `options.at`): an expired certificate with a backdated signingTime is `expired`, and a revocation for any reason
 * dated before now counts. `verifyAt: 'signing-time'` keeps the archival behaviour for callers who trust the claim.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { x509 } from '../../src/certs/x509.js';
import { signMessage, verifyMessage } from '../../src/index.js';
import { cmsOf, makePki, MESSAGE, pkcs7Mime, storeFor, withCrls, type TestPki } from '../sign/_pki.js';

const DAY = 86_400_000;
let pki: TestPki;
beforeAll(async () => {
  pki = await makePki();
});

const msgFrom = (addr: string) => MESSAGE.replace('From: Alice <alice@example.com>', `From: ${addr}`);

/** A CRL by the issuing CA revoking rita-revoked at `date` for `reason` (RFC 5280 CRLReason). */
async function crlFor(reason: x509.X509CrlReason, date: Date): Promise<Uint8Array> {
  const ca = pki.ca as unknown as { cert: x509.X509Certificate; keys: CryptoKeyPair };
  const crl = await x509.X509CrlGenerator.create({
    issuer: ca.cert.subject,
    thisUpdate: new Date(Date.now() - 2 * DAY),
    nextUpdate: new Date(Date.now() + 30 * DAY),
    signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as Algorithm,
    signingKey: ca.keys.privateKey,
    entries: [{ serialNumber: pki.ids['rita-revoked']!.cert.serialNumber, revocationDate: date, reason }],
    extensions: [await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey)],
  });
  return new Uint8Array(crl.rawData);
}

/** Rita's message, signed (by its signingTime) ten days ago, carrying `crl`. */
async function ritaSignedEarlierWith(crl: Uint8Array): Promise<Uint8Array> {
  const tenDaysAgo = new Date(Date.now() - 10 * DAY);
  const store = await storeFor(pki, ['rita-revoked'], [], { now: () => tenDaysAgo });
  const opaque = await signMessage(msgFrom('rita@example.com'), { store, from: 'rita@example.com', detached: false });
  return pkcs7Mime(withCrls(cmsOf(opaque), [crl]), 'From: rita@example.com\r\n');
}

async function verdict(message: Uint8Array, opts: Record<string, unknown> = {}) {
  const store = await storeFor(pki, ['bob']);
  const r = await verifyMessage(message, { store, harvest: false, ...opts });
  expect(r.signers).toHaveLength(1);
  return r.signers[0]!;
}

describe('verification time (default: now)', () => {
  it('an expired certificate with a backdated signingTime is expired; the reason says when it was valid', async () => {
    const cert = pki.ids['dave-expired']!.cert;
    const claimed = new Date(cert.notBefore.getTime() + DAY);
    const thief = await storeFor(pki, ['dave-expired'], [], { now: () => claimed }); // the thief sets the clock back
    const signed = await signMessage(msgFrom('dave@example.com'), { store: thief, from: 'dave@example.com' });
    const s = await verdict(signed);
    expect(s.status).toBe('expired');
    expect(s.reasons).toEqual([`certificate-expired; valid at claimed signing time ${s.signingTime!.toISOString()}`]);
    // The archival option trusts the claim.
    expect((await verdict(signed, { verifyAt: 'signing-time' })).status).toBe('valid');
    // `at` is "now": at a time inside the validity, it is valid again.
    expect((await verdict(signed, { at: new Date(cert.notBefore.getTime() + 2 * DAY) })).status).toBe('valid');
  });

  for (const [name, reason] of [
    ['superseded', x509.X509CrlReason.superseded],
    ['certificateHold', x509.X509CrlReason.certificateHold],
    ['affiliationChanged', x509.X509CrlReason.affiliationChanged],
  ] as const) {
    it(`a ${name} revocation dated after the claimed signing time but before now counts`, async () => {
      const msg = await ritaSignedEarlierWith(await crlFor(reason, new Date(Date.now() - 5 * DAY)));
      const s = await verdict(msg);
      expect(s.status).toBe('revoked');
      expect(s.reasons[0]).toMatch(new RegExp(`^revoked: .* \\(reason ${reason}\\)$`));
      // Archival: the signer claims to have signed before the revocation, and the reason is no compromise.
      expect((await verdict(msg, { verifyAt: 'signing-time' })).status).toBe('valid');
    });
  }

  it('a keyCompromise revocation counts in both modes, whatever its date', async () => {
    const msg = await ritaSignedEarlierWith(await crlFor(x509.X509CrlReason.keyCompromise, new Date(Date.now() - 5 * DAY)));
    expect((await verdict(msg)).status).toBe('revoked');
    expect((await verdict(msg, { verifyAt: 'signing-time' })).status).toBe('revoked');
  });

  it('a revocation dated after now does not count yet; removeFromCRL never counts', async () => {
    const future = await ritaSignedEarlierWith(await crlFor(x509.X509CrlReason.superseded, new Date(Date.now() + 5 * DAY)));
    expect((await verdict(future)).status).toBe('valid');
    const removed = await ritaSignedEarlierWith(await crlFor(x509.X509CrlReason.removeFromCRL, new Date(Date.now() - 5 * DAY)));
    expect((await verdict(removed)).status).toBe('valid');
    expect((await verdict(removed, { verifyAt: 'signing-time' })).status).toBe('valid');
  });

  it('verifyAt is checked', async () => {
    const store = await storeFor(pki, ['bob']);
    await expect(verifyMessage(msgFrom('x@example.com'), { store, verifyAt: 'yesterday' as never })).rejects.toThrow(RangeError);
  });
});
