/**
 * encryptMessage with smime-core/ldap as the store's resolver, against a real slapd: from a store that holds no
 * recipient certificate (only the sample trust anchor and its intermediate), bob (userCertificate;binary), ivan
 * (userSMIMECertificate, a certs-only PKCS#7) and alice (an expired and a current certificate: the current one is
 * chosen) succeed; carol (an entry without a certificate) is refused 'none'; with slapd stopped, 'lookup-failed' with
 * the resolver's error as the cause. (Needs the store's `resolver` option: issue 15, part C1.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CMSDecryptionFailed, decryptMessage, encryptMessage, MissingRecipientCertificatesError, type CertificateStoreOptions } from '../../src/index.js';
import { ldapResolver, type LdapCertificateResolver } from '../../src/ldap/index.js';
import { storeWith } from '../_helpers/identities.js';
import { hasSlapd, startSlapd, type Slapd } from '../_helpers/slapd.js';
import { sampleEntries } from './_directory.js';

const MIME = 'Content-Type: text/plain\r\n\r\nfrom the directory\r\n';

describe.runIf(hasSlapd())('encryptMessage with an LDAP resolver', () => {
  let slapd: Slapd;
  let resolver: LdapCertificateResolver;
  beforeAll(async () => {
    slapd = await startSlapd({ entries: sampleEntries() });
    resolver = ldapResolver({ url: slapd.url, baseDN: slapd.baseDN, bindDN: slapd.bindDN, password: slapd.password, timeoutMs: 5000 });
  }, 30_000);
  afterAll(async () => {
    await resolver?.close();
    await slapd?.stop();
  });

  // The store's options as part C1 defines them (`resolver`); cast so this file compiles before that lands.
  const empty = () => storeWith([], [], { resolver } as CertificateStoreOptions);

  it('bob, ivan and alice resolve from the directory, with the right certificate', async () => {
    const store = await empty();
    const out = await encryptMessage(MIME, { store, to: ['bob@example.com', 'ivan@example.com', 'alice@example.com'] });
    for (const who of ['bob', 'ivan-noski', 'alice-enc-2025']) {
      const d = await decryptMessage(out, { store: await storeWith([who]) });
      expect(new TextDecoder().decode(d.content)).toContain('from the directory');
    }
    // Alice's expired 2021 certificate, also in the directory, was not used.
    await expect(decryptMessage(out, { store: await storeWith(['alice-enc-2021']) })).rejects.toBeInstanceOf(CMSDecryptionFailed);
  });

  it('carol (an entry without a certificate) is refused as none; dave (expired) as expired', async () => {
    const store = await empty();
    const e = await encryptMessage(MIME, { store, to: ['bob@example.com', 'carol@example.com', 'dave@example.com'] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MissingRecipientCertificatesError);
    expect((e as MissingRecipientCertificatesError).reasons).toEqual({ 'carol@example.com': 'none', 'dave@example.com': 'expired' });
  });

  it('what the resolver returns, added to a store by hand, is what encryptMessage selects (no store hook needed)', async () => {
    const store = await storeWith([]);
    const found = await resolver(['bob@example.com', 'ivan@example.com', 'alice@example.com', 'carol@example.com'], new AbortController().signal);
    expect(Object.keys(found).sort()).toEqual(['alice@example.com', 'bob@example.com', 'ivan@example.com']);
    for (const list of Object.values(found)) for (const c of list) await store.addCertificate(c);
    const out = await encryptMessage(MIME, { store, to: ['bob@example.com', 'ivan@example.com', 'alice@example.com'] });
    for (const who of ['bob', 'ivan-noski', 'alice-enc-2025']) expect((await decryptMessage(out, { store: await storeWith([who]) })).content.length).toBeGreaterThan(0);
    await expect(decryptMessage(out, { store: await storeWith(['alice-enc-2021']) })).rejects.toBeInstanceOf(CMSDecryptionFailed);
  });

  it('with slapd stopped: lookup-failed, the resolver error kept as the cause', async () => {
    const other = await startSlapd({ entries: sampleEntries() });
    const r = ldapResolver({ url: other.url, baseDN: other.baseDN, timeoutMs: 3000 });
    await other.stop();
    try {
      const store = await storeWith([], [], { resolver: r } as CertificateStoreOptions);
      const e = await encryptMessage(MIME, { store, to: ['bob@example.com'] }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(MissingRecipientCertificatesError);
      expect((e as MissingRecipientCertificatesError).reasons).toEqual({ 'bob@example.com': 'lookup-failed' });
      expect(String(((e as MissingRecipientCertificatesError).cause as Error)?.message)).toMatch(/LDAP/);
    } finally {
      await r.close();
    }
  }, 30_000);
});
