/** Every encryption-certificate selection rule, each with a certificate of vectors/identities that breaks it. */
import { describe, expect, it } from 'vitest';
import { CertificateStore, encryptMessage, MissingRecipientCertificatesError } from '../../src/index.js';
import { certInfo } from '../../src/certs/cert_info.js';
import { loadCertificates } from '../../src/certs/load.js';
import { atReference, certPem, CHAIN, storeWith } from '../_helpers/identities.js';

const MSG = 'From: alice@example.com\r\nTo: x\r\nSubject: t\r\nContent-Type: text/plain\r\n\r\nhello\r\n';
const serialOf = (name: string) => certInfo(loadCertificates(certPem(name))[0]!).serialHex;

async function select(store: CertificateStore, email: string) {
  const s = await store.findEncryptionCertificate(email);
  return { serial: s.certificate?.serialNumber.toLowerCase(), reason: s.reason };
}

describe('encryption certificate selection', () => {
  it('takes a cert whose SAN rfc822Name matches, case-insensitively', async () => {
    const store = await storeWith([], ['bob', 'leo-case']);
    expect((await select(store, 'BOB@example.COM')).serial).toBe(serialOf('bob'));
    expect((await select(store, 'leo@example.com')).serial).toBe(serialOf('leo-case'));
  });

  it('falls back to the subject emailAddress when there is no SAN', async () => {
    const store = await storeWith([], ['heidi-subject-email']);
    expect((await select(store, 'heidi@example.com')).serial).toBe(serialOf('heidi-subject-email'));
  });

  it('says none when no certificate names the address', async () => {
    const store = await storeWith([], ['bob']);
    expect(await select(store, 'carol@example.com')).toEqual({ serial: undefined, reason: 'none' });
  });

  it('rejects an expired certificate', async () => {
    const store = await storeWith([], ['dave']);
    expect((await select(store, 'dave@example.com')).reason).toBe('expired');
  });

  it('accepts the same certificate at a time inside its validity', async () => {
    const store = await storeWith([], ['dave'], { now: () => new Date('2021-06-01T00:00:00Z') });
    expect((await select(store, 'dave@example.com')).serial).toBe(serialOf('dave'));
  });

  it('rejects an RSA cert without keyEncipherment', async () => {
    const store = await storeWith([], ['frank-signonly']);
    expect((await select(store, 'frank@example.com')).reason).toBe('wrong-usage');
  });

  it('rejects a TLS-only cert (EKU serverAuth)', async () => {
    const store = await storeWith([], ['erin-tls']);
    expect((await select(store, 'erin@example.com')).reason).toBe('wrong-usage');
  });

  it('accepts EKU anyExtendedKeyUsage and an absent EKU', async () => {
    const store = await storeWith([], ['kim-anyeku']);
    expect((await select(store, 'kim@example.com')).serial).toBe(serialOf('kim-anyeku'));
    const store2 = await storeWith([], ['kim-noeku']);
    expect((await select(store2, 'kim@example.com')).serial).toBe(serialOf('kim-noeku'));
  });

  it('rejects an RSA key under 2048 bits by policy, and accepts it when the policy allows', async () => {
    const store = await storeWith([], ['judy-rsa1024']);
    expect((await select(store, 'judy@example.com')).reason).toBe('wrong-usage');
    const lax = await storeWith([], ['judy-rsa1024'], { policy: { minRsaBits: 1024 } });
    expect((await select(lax, 'judy@example.com')).serial).toBe(serialOf('judy-rsa1024'));
  });

  it('with trust anchors, rejects a cert that does not chain to one', async () => {
    const store = await storeWith([], ['grace-untrusted']);
    expect((await select(store, 'grace@example.com')).reason).toBe('untrusted');
    // Without anchors there is nothing to chain to, and the rule does not apply.
    const open = await storeWith([], ['grace-untrusted'], { trust: false });
    expect((await select(open, 'grace@example.com')).serial).toBe(serialOf('grace-untrusted'));
  });

  it('without the intermediate in the store, the chain is broken: untrusted', async () => {
    const store = new CertificateStore({ now: atReference });
    await store.addCertificate(certPem('bob'));
    store.addTrustAnchor(CHAIN().split(/(?=-----BEGIN CERTIFICATE)/)[1]!);
    expect((await select(store, 'bob@example.com')).reason).toBe('untrusted');
  });

  it('takes an EC keyAgreement cert', async () => {
    const store = await storeWith([], ['ec-enc']);
    expect((await select(store, 'ecuser@example.com')).serial).toBe(serialOf('ec-enc'));
  });

  it('among several qualifying certs takes the newest notBefore; expired ones never', async () => {
    const store = await storeWith(['alice-enc-2021', 'alice-enc-2023', 'alice-enc-2025', 'alice-sign']);
    expect((await select(store, 'alice@example.com')).serial).toBe(serialOf('alice-enc-2025'));
    const in2022 = await storeWith(['alice-enc-2021', 'alice-enc-2023', 'alice-enc-2025'], [], {
      now: () => new Date('2022-06-01T00:00:00Z'),
    });
    expect((await select(in2022, 'alice@example.com')).serial).toBe(serialOf('alice-enc-2021'));
  });

  it('refuses to encrypt, naming every recipient without a usable cert, and the sender', async () => {
    const store = await storeWith([], ['bob', 'dave', 'erin-tls', 'grace-untrusted']);
    const err = await encryptMessage(MSG, {
      store,
      to: ['bob@example.com', 'carol@example.com', 'dave@example.com', 'erin@example.com', 'grace@example.com'],
      from: 'alice@example.com',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingRecipientCertificatesError);
    const e = err as MissingRecipientCertificatesError;
    expect(e.code).toBe('ERR_MISSING_RECIPIENT_CERTIFICATES');
    expect(e.missing.sort()).toEqual(['alice@example.com', 'carol@example.com', 'dave@example.com', 'erin@example.com', 'grace@example.com']);
    expect(e.reasons).toEqual({
      'carol@example.com': 'none',
      'dave@example.com': 'expired',
      'erin@example.com': 'wrong-usage',
      'grace@example.com': 'untrusted',
      'alice@example.com': 'none',
    });
    for (const m of e.missing) expect(e.message).toContain(m);
  });
});
