/**
 * Harvesting: after a valid signature the store learns the message's certificates, the encryption key preference
 * (RFC 8551 §2.5.3 or Microsoft's 1.3.6.1.4.1.311.16.4) and the SMIMECapabilities, newest signingTime first; a
 * later encryptMessage follows them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decryptMessage, encryptMessage, signMessage, verifyMessage, CMSDecryptionFailed } from '../../src/index.js';
import { certInfo } from '../../src/certs/cert_info.js';
import { ATTR, attribute, encKeyPrefValue, issuerAndSerial, smimeCapabilitiesValue } from '../../src/cms/attributes.js';
import { OIDS } from '../../src/cms/oids.js';
import { customSignedMessage, makePki, MESSAGE, storeFor, type TestPki } from './_pki.js';
import { storeInternals } from '../../src/store/internal.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await makePki();
});

const customSigned = (signer: string, extraAttrs: Uint8Array[], certs: string[], signingTime = new Date()) =>
  customSignedMessage(pki, signer, (std) => [...std, ...extraAttrs], certs, signingTime);

const serial = (name: string) => pki.ids[name]!.cert.serialNumber.toLowerCase();

describe('harvesting from valid signatures', () => {
  it('an encryption key preference written by us steers a later encryptMessage, and the capabilities pick AES-256-GCM', async () => {
    // Alice signs with alice-sign; her current encryption identity is the older alice-enc-old.
    const alice = await storeFor(pki, ['alice-sign', 'alice-enc-old']);
    // Bob already has Alice's newer alice-enc from elsewhere.
    const bob = await storeFor(pki, ['bob'], ['alice-enc']);
    const before = await encryptMessage(MESSAGE, { store: bob, to: ['alice@example.com'] });
    await expect(decryptMessage(before, { store: alice })).rejects.toBeInstanceOf(CMSDecryptionFailed);
    expect((await bob.findEncryptionCertificate('alice@example.com')).certificate!.serialNumber.toLowerCase()).toBe(serial('alice-enc'));

    const signed = await signMessage(MESSAGE, { store: alice, from: 'alice@example.com' });
    const v = await verifyMessage(signed, { store: bob });
    expect(v.signers[0]!.status).toBe('valid');
    const pref = bob.preference('ALICE@example.com')!;
    expect(pref.certificate!.serialNumber.toLowerCase()).toBe(serial('alice-enc-old'));
    expect(pref.capabilities![0]).toBe(OIDS.aes256GCM);
    expect(pref.signingTime).toEqual(v.signers[0]!.signingTime);
    // The message's certificates are now known to Bob's store.
    expect(storeInternals(bob).allCertificates().some((c) => c.serialHex === serial('alice-sign'))).toBe(true);

    const after = await encryptMessage(MESSAGE, { store: bob, to: ['alice@example.com'] });
    const d = await decryptMessage(after, { store: alice });
    expect(d.recipient.serialNumber.toLowerCase()).toBe(serial('alice-enc-old'));
    expect(d.cipher).toBe('aes-256-gcm');
    expect(d.type).toBe('authEnveloped');
  });

  it('AES-256-GCM only when every recipient advertised it', async () => {
    const alice = await storeFor(pki, ['alice-sign', 'alice-enc']);
    const bobId = await storeFor(pki, ['bob']);
    const carol = await storeFor(pki, []);
    await verifyMessage(await signMessage(MESSAGE, { store: alice, from: 'alice@example.com' }), { store: carol });
    const onlyAlice = await encryptMessage(MESSAGE, { store: carol, to: ['alice@example.com', 'bob@example.com'] }).catch((e: unknown) => e);
    // Bob is not known yet: refused outright.
    expect((onlyAlice as { missing?: string[] }).missing).toEqual(['bob@example.com']);
    await carol.addCertificate(pki.ids.bob!.certPem);
    const cbc = await encryptMessage(MESSAGE, { store: carol, to: ['alice@example.com', 'bob@example.com'] });
    expect((await decryptMessage(cbc, { store: bobId })).cipher).toBe('aes-256-cbc');
    await verifyMessage(await signMessage(MESSAGE.replace('alice@', 'bob@'), { store: bobId, from: 'bob@example.com' }), { store: carol });
    const gcm = await encryptMessage(MESSAGE, { store: carol, to: ['alice@example.com', 'bob@example.com'] });
    expect((await decryptMessage(gcm, { store: bobId })).cipher).toBe('aes-256-gcm');
  });

  it("reads Microsoft's 1.3.6.1.4.1.311.16.4 alone, and follows advertised capabilities", async () => {
    const bob = await storeFor(pki, ['bob'], ['alice-enc']);
    const ms = attribute(ATTR.msEncKeyPref, issuerAndSerial(certInfo(pki.ids['alice-enc-old']!.der)));
    const caps = attribute(ATTR.smimeCapabilities, smimeCapabilitiesValue([OIDS.aes128CBC, OIDS.desEde3CBC]));
    const v = await verifyMessage(await customSigned('alice-sign', [ms, caps], ['alice-enc-old']), { store: bob });
    expect(v.signers[0]!.status).toBe('valid');
    const pref = bob.preference('alice@example.com')!;
    expect(pref.certificate!.serialNumber.toLowerCase()).toBe(serial('alice-enc-old'));
    expect(pref.capabilities).toEqual([OIDS.aes128CBC, OIDS.desEde3CBC]);
    const alice = await storeFor(pki, ['alice-enc-old']);
    const d = await decryptMessage(await encryptMessage(MESSAGE, { store: bob, to: ['alice@example.com'] }), { store: alice });
    expect(d.cipher).toBe('aes-128-cbc');
  });

  it('resolves the preferred certificate from the store when the message does not carry it', async () => {
    const bob = await storeFor(pki, ['bob'], ['alice-enc-old']);
    const pref = attribute(ATTR.encKeyPref, encKeyPrefValue(certInfo(pki.ids['alice-enc-old']!.der)));
    await verifyMessage(await customSigned('alice-sign', [pref], []), { store: bob });
    expect(bob.preference('alice@example.com')!.certificate!.serialNumber.toLowerCase()).toBe(serial('alice-enc-old'));
  });

  it('keeps the preference of the newest signingTime', async () => {
    const bob = await storeFor(pki, ['bob']);
    const prefOf = (n: string) => attribute(ATTR.encKeyPref, encKeyPrefValue(certInfo(pki.ids[n]!.der)));
    const now = Date.now();
    await verifyMessage(await customSigned('alice-sign', [prefOf('alice-enc')], ['alice-enc'], new Date(now - 1000_000)), { store: bob });
    await verifyMessage(await customSigned('alice-sign', [prefOf('alice-enc-old')], ['alice-enc-old'], new Date(now - 5000_000)), { store: bob });
    expect(bob.preference('alice@example.com')!.certificate!.serialNumber.toLowerCase()).toBe(serial('alice-enc'));
    await verifyMessage(await customSigned('alice-sign', [prefOf('alice-enc-old')], ['alice-enc-old'], new Date(now - 500_000)), { store: bob });
    expect(bob.preference('alice@example.com')!.certificate!.serialNumber.toLowerCase()).toBe(serial('alice-enc-old'));
  });

  it("ignores a preference naming another person's certificate", async () => {
    const bob = await storeFor(pki, ['bob']);
    const pref = attribute(ATTR.encKeyPref, encKeyPrefValue(certInfo(pki.ids['rita-revoked']!.der)));
    const v = await verifyMessage(await customSigned('alice-sign', [pref], ['rita-revoked']), { store: bob });
    expect(v.signers[0]!.status).toBe('valid');
    expect(bob.preference('alice@example.com')!.certificate).toBeUndefined();
  });

  it('learns nothing from a signature that is not valid, or when harvest is off', async () => {
    const alice = await storeFor(pki, ['alice-sign', 'alice-enc']);
    const bob = await storeFor(pki, ['bob']);
    const signed = new TextDecoder().decode(await signMessage(MESSAGE, { store: alice, from: 'alice@example.com' }));
    const v = await verifyMessage(signed.replace('Hello Bob', 'Hello Eve'), { store: bob });
    expect(v.signers[0]!.status).toBe('invalid');
    expect(bob.preference('alice@example.com')).toBeUndefined();
    expect(storeInternals(bob).allCertificates().some((c) => c.serialHex === serial('alice-enc'))).toBe(false);
    await verifyMessage(signed, { store: bob, harvest: false });
    expect(bob.preference('alice@example.com')).toBeUndefined();
    const untrusting = await storeFor(pki, ['bob'], [], { trust: false });
    expect((await verifyMessage(signed, { store: untrusting })).signers[0]!.status).toBe('untrusted');
    expect(untrusting.preference('alice@example.com')).toBeUndefined();
  });
});
