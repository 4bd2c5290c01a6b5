/**
 * Keeping the store: export and import (src/store/persist.ts). A store with everything round-trips and behaves
 * exactly as before over every sample message of vectors/manifest.json and over new mail both ways; a wrong
 * password, every single-byte change and every truncation of a file are typed errors, never a store; the
 * iteration limit is enforced before any key derivation; an unknown version is named. Concurrent calls see a
 * consistent store, and export saves what the store held when it was called.
 */
import { describe, expect, it } from 'vitest';
import { CertificateStore, StoreBadPassword, StoreInvalid, verifyMessage, encryptMessage, signMessage } from '../../src/index.js';
import { kdfStats } from '../../src/crypto/kdf.js';
import { atReference, certPem, CHAIN, manifest, PASSWORD, ROOT, vfile } from '../_helpers/identities.js';
import { behaviour, crossMail, frankKey, fullStore, HAVE_ED25519 } from './_stores.js';

const PW = 'correct horse battery staple';

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('export and import', () => {
  it('round-trips a store with everything, which then behaves exactly as the original', async () => {
    const original = await fullStore();
    const file = await original.export({ password: PW, iterations: 1000 });
    const copy = await CertificateStore.import(file, { password: PW, now: atReference });
    // The detached identity (external key) is reported with its reference, then re-attached.
    expect(copy.detachedIdentities.map((d) => [d.certificate.serialNumber, d.reference, d.source])).toEqual([
      [original.identities.find((i) => i.source === 'external')!.certificate.serialNumber, 'token:frank', 'external'],
    ]);
    expect(copy.identities.length).toBe(original.identities.length - 1);
    await copy.importExternalIdentity(certPem('frank-signonly'), frankKey(), { reference: 'token:frank' });
    expect(copy.detachedIdentities).toEqual([]);
    expect(copy.allowUserTrust).toBe(true);
    expect(copy.identities.map((i) => i.certificate.serialNumber).sort()).toEqual(original.identities.map((i) => i.certificate.serialNumber).sort());
    expect(copy.trustAnchors.map((c) => c.serialNumber)).toEqual(original.trustAnchors.map((c) => c.serialNumber));
    expect(copy.crls).toEqual(original.crls);
    expect(copy.preference('bob@example.com')).toEqual(original.preference('bob@example.com'));
    expect(copy.preference('bob@example.com')?.capabilities?.length).toBeGreaterThan(0);
    expect(HAVE_ED25519 ? copy.identities.some((i) => i.certificate.publicKey.algorithm.name === 'Ed25519') : true).toBe(true);

    const before = await behaviour(original);
    const after = await behaviour(copy);
    expect(after).toEqual(before);
    // The sample messages were really opened (not all errors), and the explicit trust holds.
    expect(before.filter((r) => Array.isArray(r) && typeof r[1] === 'string' && r[1].startsWith('{')).length).toBeGreaterThan(30);
    expect(after).toContainEqual(['select', 'grace@example.com', expect.any(String)]);
    // New mail both ways: each store reads what the other writes, with the same results.
    const ab = await crossMail(original, copy);
    expect(ab).toEqual(await crossMail(copy, original));
    expect(ab).toEqual(await crossMail(original, original));
    expect(ab[1]).toEqual([['valid', '']]);
  }, 120_000);

  it('keeps a non-extractable CryptoKey identity detached and an extractable one with its key', async () => {
    const store = new CertificateStore();
    const pem = new TextDecoder().decode(vfile(manifest.identities['ec-sign']!.key));
    const der = Uint8Array.from(atob(pem.replace(/-----[^-]+-----|\s/g, '')), (c) => c.charCodeAt(0));
    for (const extractable of [false, true]) {
      const key = await crypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, extractable, ['sign']);
      const s = new CertificateStore();
      await s.importIdentity(certPem('ec-sign'), key);
      const copy = await CertificateStore.import(await s.export({ password: PW, iterations: 10 }), { password: PW, now: atReference });
      expect([copy.identities.length, copy.detachedIdentities.length]).toEqual(extractable ? [1, 0] : [0, 1]);
      if (extractable) {
        const signed = await signMessage('From: ecuser@example.com\r\n\r\nx\r\n', { store: copy, from: 'ecuser@example.com' });
        await copy.addCertificate(CHAIN());
        copy.addTrustAnchor(ROOT());
        expect((await verifyMessage(signed, { store: copy })).signers[0]!.status).toBe('valid');
      }
    }
    expect(store.identities).toEqual([]);
  });

  it('refuses a wrong password with StoreBadPassword', async () => {
    const store = new CertificateStore();
    await store.addCertificate(certPem('bob'));
    const file = await store.export({ password: PW, iterations: 10 });
    const e = await rejection(CertificateStore.import(file, { password: 'wrong' }));
    expect(e).toBeInstanceOf(StoreBadPassword);
    expect((e as StoreBadPassword).code).toBe('ERR_STORE_BAD_PASSWORD');
    expect((await CertificateStore.import(file, { password: PW })).certificates().length).toBe(1);
  });

  it('turns every single-byte change of a file into StoreBadPassword or StoreInvalid, never a store', async () => {
    const store = new CertificateStore();
    await store.addCertificate(certPem('bob'));
    const file = await store.export({ password: PW, iterations: 1 });
    const seen = { bad: 0, invalid: 0 };
    for (let i = 0; i < file.length; i++) {
      const f = file.slice();
      f[i]! ^= i % 2 === 0 ? 0x01 : 0x80;
      const e = await rejection(CertificateStore.import(f, { password: PW }));
      if (e instanceof StoreBadPassword) seen.bad++;
      else if (e instanceof StoreInvalid) seen.invalid++;
      else throw new Error(`byte ${i}: ${String(e)}`);
    }
    expect(seen.bad + seen.invalid).toBe(file.length);
    expect(seen.bad).toBeGreaterThan(file.length / 2); // the ciphertext and tag
    expect(seen.invalid).toBeGreaterThan(10); // the header
  });

  it('turns every truncation into StoreInvalid', async () => {
    const store = new CertificateStore();
    await store.addCertificate(certPem('bob'));
    const file = await store.export({ password: PW, iterations: 1 });
    for (let n = 0; n < file.length; n++) {
      const e = await rejection(CertificateStore.import(file.subarray(0, n), { password: PW }));
      if (!(e instanceof StoreInvalid)) throw new Error(`length ${n}: ${String(e)}`);
    }
    const longer = new Uint8Array(file.length + 1);
    longer.set(file);
    expect(await rejection(CertificateStore.import(longer, { password: PW }))).toBeInstanceOf(StoreInvalid);
  });

  it('refuses iterations above maxPbkdf2Iterations before any key derivation', async () => {
    const store = new CertificateStore();
    const file = await store.export({ password: PW, iterations: 5000 });
    const runs = kdfStats.runs;
    const e = await rejection(CertificateStore.import(file, { password: PW, limits: { maxPbkdf2Iterations: 4999 } }));
    expect(e).toBeInstanceOf(StoreInvalid);
    expect((e as Error).message).toMatch(/5000 PBKDF2 iterations, more than maxPbkdf2Iterations \(4999\)/);
    expect(kdfStats.runs).toBe(runs);
    await expect(store.export({ password: PW, iterations: 3_000_000 })).rejects.toThrow(RangeError);
    expect((await CertificateStore.import(file, { password: PW, limits: { maxPbkdf2Iterations: 5000 } })).identities).toEqual([]);
  });

  it('names a version it does not read, and refuses a file that is not a store', async () => {
    const file = await new CertificateStore().export({ password: PW, iterations: 1 });
    // SEQUENCE header, then UTF8String "smime-core store" (2 + 16 bytes), then INTEGER 1.
    const at = file.indexOf(0x0c) + 18;
    expect([...file.subarray(at, at + 3)]).toEqual([2, 1, 1]);
    const future = file.slice();
    future[at + 2] = 2;
    await expect(CertificateStore.import(future, { password: PW })).rejects.toThrow(/version 2 not supported/);
    await expect(CertificateStore.import(future, { password: PW })).rejects.toBeInstanceOf(StoreInvalid);
    await expect(CertificateStore.import(vfile(manifest.identities.bob!.p12), { password: PW })).rejects.toBeInstanceOf(StoreInvalid);
    await expect(CertificateStore.import(new Uint8Array(0), { password: PW })).rejects.toBeInstanceOf(StoreInvalid);
  });

  it('keeps the saved options under the caller’s', async () => {
    const s = new CertificateStore({ policy: { minRsaBits: 3072 }, limits: { maxParts: 10 }, allowUserTrust: true });
    const file = await s.export({ password: PW, iterations: 1 });
    const a = await CertificateStore.import(file, { password: PW });
    expect([a.policy.minRsaBits, a.limits.maxParts, a.allowUserTrust]).toEqual([3072, 10, true]);
    const b = await CertificateStore.import(file, { password: PW, policy: { minRsaBits: 2048 }, allowUserTrust: false });
    expect([b.policy.minRsaBits, b.limits.maxParts, b.allowUserTrust]).toEqual([2048, 10, false]);
  });

  it('measures export and import with the default 600 000 iterations', async () => {
    const store = await fullStore();
    let t = performance.now();
    const file = await store.export({ password: PW });
    const exportMs = performance.now() - t;
    t = performance.now();
    const copy = await CertificateStore.import(file, { password: PW });
    const importMs = performance.now() - t;
    console.log(`store of ${store.certificates().length} certificates, ${file.length} bytes: export ${exportMs.toFixed(0)} ms, import ${importMs.toFixed(0)} ms (600 000 iterations)`);
    expect(copy.certificates().length).toBe(store.certificates().length);
    expect(copy.certificates().filter((c) => c.detached).map((c) => c.certificate.serialNumber)).toEqual([copy.detachedIdentities[0]!.certificate.serialNumber]);
  }, 60_000);
});

describe('concurrency', () => {
  it('stays consistent under interleaved verifications, encryptions and exports', async () => {
    const signedBy = async (n: string) => {
      const s = new CertificateStore({ now: atReference });
      await s.importPkcs12(vfile(manifest.identities[n]!.p12), PASSWORD);
      await s.addCertificate(CHAIN());
      const email = manifest.identities[n]!.email;
      return signMessage(`From: ${email}\r\nTo: alice@example.com\r\n\r\nhi\r\n`, { store: s, from: email });
    };
    const senders = ['bob', 'ec-sign', 'kim-anyeku', 'leo-case', 'heidi-subject-email'];
    const messages = await Promise.all(senders.map(signedBy));
    const make = async () => {
      const s = new CertificateStore({ now: atReference });
      await s.importPkcs12(vfile(manifest.identities['alice-enc-2025']!.p12), PASSWORD);
      await s.addCertificate(CHAIN());
      s.addTrustAnchor(ROOT());
      return s;
    };
    // Sequential reference.
    const seq = await make();
    const seqVerdicts: string[] = [];
    for (const m of messages) seqVerdicts.push((await verifyMessage(m, { store: seq })).signers[0]!.status);
    const seqSelect = await seq.selectRecipients(['bob@example.com', 'alice@example.com']);
    // Interleaved: verifications harvesting, encryptions selecting and exports, all at once.
    const conc = await make();
    const emptyExport = conc.export({ password: PW, iterations: 1 }); // snapshot taken now, before the harvests
    const jobs: Promise<unknown>[] = [];
    for (let round = 0; round < 4; round++) {
      for (const m of messages) jobs.push(verifyMessage(m, { store: conc }).then((r) => r.signers[0]!.status));
      jobs.push(encryptMessage('To: bob@example.com\r\n\r\nx\r\n', { store: conc, to: ['alice@example.com'] }).then(() => 'enc'));
      jobs.push(conc.export({ password: PW, iterations: 1 }).then(() => 'export'));
    }
    const results = await Promise.all(jobs);
    const verdicts = results.filter((r) => r !== 'enc' && r !== 'export');
    expect(verdicts).toEqual([...seqVerdicts, ...seqVerdicts, ...seqVerdicts, ...seqVerdicts]);
    expect(conc.certificates().map((c) => c.certificate.serialNumber).sort()).toEqual(seq.certificates().map((c) => c.certificate.serialNumber).sort());
    const sel = await conc.selectRecipients(['bob@example.com', 'alice@example.com']);
    expect([...sel].map(([a, c]) => [a, c.serialNumber])).toEqual([...seqSelect].map(([a, c]) => [a, c.serialNumber]));
    for (const s of senders) expect(conc.preference(manifest.identities[s]!.email)).toEqual(seq.preference(manifest.identities[s]!.email));
    // The export started first saved the store as it was then: no harvested contact.
    const early = await CertificateStore.import(await emptyExport, { password: PW, now: atReference });
    expect(early.certificates().filter((c) => c.role === 'contact').length).toBe(0);
    const late = await CertificateStore.import(await conc.export({ password: PW, iterations: 1 }), { password: PW, now: atReference });
    expect(await behaviourSmall(late)).toEqual(await behaviourSmall(seq));
  }, 60_000);
});

async function behaviourSmall(s: CertificateStore): Promise<unknown> {
  return Promise.all(['bob@example.com', 'ecuser@example.com', 'kim@example.com', 'leo@example.com', 'heidi@example.com'].map(async (e) => (await s.findEncryptionCertificate(e)).certificate?.serialNumber ?? (await s.findEncryptionCertificate(e)).reason));
}
