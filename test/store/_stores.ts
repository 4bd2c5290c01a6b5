/** Shared set-up of the store-keeping tests: a store with everything in it, and a fingerprint of what it does. */
import { createHash } from 'node:crypto';
import {
  CertificateStore,
  decryptMessage,
  encryptMessage,
  openMessage,
  signMessage,
  verifyMessage,
  type CertificateStoreOptions,
} from '../../src/index.js';
import { atReference, CHAIN, certPem, manifest, PASSWORD, REFERENCE_DATE, ROOT, vfile } from '../_helpers/identities.js';
import { nodeExternalKey } from '../_helpers/external_keys.js';
import { shared, sharedAvailable, VECTORS } from '../_helpers/env.js';
import { makeCrl } from '../certs/_crl_builder.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const OWN = ['alice-sign', 'alice-sign-2022', 'alice-enc-2021', 'alice-enc-2023', 'alice-enc-2025', 'bob', 'dave', 'ec-sign', 'ec-enc', 'kim-anyeku', 'leo-case'];
export const OTHERS = ['heidi-subject-email', 'ivan-noski', 'grace-untrusted', 'kim-noeku', 'judy-rsa1024', 'mallory-selfsigned', 'erin-tls'];
export const HAVE_ED25519 = sharedAvailable();

/** A store holding everything the format keeps: identities (PKCS#12 RSA and EC, expired encryption history, an
 * Ed25519 PKCS#8 when the shared vectors are there, an extractable CryptoKey, an external key), contacts, anchors,
 * a CRL, preferences (from a signed message), and an explicit trust decision. Its clock is at the reference date
 * (the clock is no part of the saved store: give `CertificateStore.import` `now: atReference` too). */
export async function fullStore(opts: CertificateStoreOptions = {}): Promise<CertificateStore> {
  const store = new CertificateStore({ allowUserTrust: true, now: atReference, ...opts });
  for (const n of OWN) await store.importPkcs12(vfile(manifest.identities[n]!.p12), PASSWORD);
  for (const n of OTHERS) await store.addCertificate(certPem(n));
  await store.addCertificate(CHAIN());
  store.addTrustAnchor(ROOT());
  const now = REFERENCE_DATE.getTime();
  store.addCrl(makeCrl({ thisUpdate: new Date(now - 86_400_000), nextUpdate: new Date(now + 30 * 86_400_000) }));
  if (HAVE_ED25519) await store.importIdentity(shared('rfc9216/keys/lamps-carlos.crt'), shared('rfc9216/keys/lamps-carlos.p8.pem'));
  // frank signs through an external key (saved detached, with its reference)
  const frankKey = readFileSync(join(VECTORS, manifest.identities['frank-signonly']!.key), 'utf8');
  await store.importExternalIdentity(certPem('frank-signonly'), nodeExternalKey(frankKey), { reference: 'token:frank' });
  store.trustCertificate(certPem('grace-untrusted'));
  // a preference, harvested from a signed message of Bob's
  const bobStore = new CertificateStore({ now: atReference });
  await bobStore.importPkcs12(vfile(manifest.identities.bob!.p12), PASSWORD);
  await bobStore.addCertificate(CHAIN());
  const signed = await signMessage('From: bob@example.com\r\nTo: alice@example.com\r\nSubject: hi\r\n\r\nhello\r\n', { store: bobStore, from: 'bob@example.com' });
  await verifyMessage(signed, { store });
  return store;
}

export const frankKey = (): ReturnType<typeof nodeExternalKey> =>
  nodeExternalKey(readFileSync(join(VECTORS, manifest.identities['frank-signonly']!.key), 'utf8'));

function digest(b: Uint8Array | string): string {
  return createHash('sha256').update(b).digest('hex').slice(0, 16);
}

/** What a store does with every sample message and some new mail, as comparable plain data. */
export async function behaviour(store: CertificateStore): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const m of manifest.messages) {
    const bytes = vfile(m.file);
    try {
      const r = await openMessage(bytes, { store });
      out.push([m.id, JSON.stringify(r, (k, v) => (v instanceof Uint8Array ? digest(v) : k === 'certificate' && v ? String(v.serialNumber) : v))]);
    } catch (e) {
      out.push([m.id, (e as { code?: string }).code ?? String(e)]);
    }
  }
  const emails = [...new Set(Object.values(manifest.identities).map((i) => i.email))];
  for (const e of emails) {
    const sel = await store.findEncryptionCertificate(e);
    out.push(['select', e, sel.certificate?.serialNumber ?? sel.reason]);
  }
  for (const e of emails) out.push(['preference', e, JSON.stringify(store.preference(e) ?? null, (k, v) => (k === 'certificate' && v ? v.serialNumber : v))]);
  out.push(['certificates', store.certificates().map((c) => `${c.role}:${c.certificate.serialNumber}:${c.trustedExplicitly ?? false}`)]);
  out.push(['crls', store.crls.map(digest)]);
  return out;
}

/** Mail made by `a`, opened by `b`: encryption to alice, bob and ecuser, and a signature by alice and by ecuser. */
export async function crossMail(a: CertificateStore, b: CertificateStore): Promise<unknown[]> {
  const out: unknown[] = [];
  const mail = 'From: alice@example.com\r\nTo: bob@example.com\r\nSubject: t\r\n\r\nround trip\r\n';
  const enc = await encryptMessage(mail, { store: a, to: ['alice@example.com', 'bob@example.com', 'ecuser@example.com'] });
  out.push((await decryptMessage(enc, { store: b })).content.length);
  for (const from of ['alice@example.com', 'ecuser@example.com', 'frank@example.com', ...(HAVE_ED25519 ? ['carlos@smime.example'] : [])]) {
    const s = await signMessage(mail.replace('alice@', from.split('@')[0] + '@'), { store: a, from });
    const v = await verifyMessage(s, { store: b });
    out.push(v.signers.map((x) => [x.status, x.reasons.join(',')]));
  }
  return out;
}
