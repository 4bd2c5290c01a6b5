// A mail server's side: open every .eml of a folder with the keys of the domain's users (decrypt, then verify each
// signature), print one line per message and a summary. A message that fails is reported, never fatal.
// Run: node server-folder/index.mjs [mail-folder] [vectors-folder]
//   (defaults: the OpenSSL-made messages of the repository's vectors/openssl, and vectors/)
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CertificateStore, openMessage, SmimeError } from 'smime-core';

const vectors = process.argv[3] ?? fileURLToPath(new URL('../../vectors/', import.meta.url));
const folder = process.argv[2] ?? join(vectors, 'openssl');
const manifest = JSON.parse(await readFile(join(vectors, 'manifest.json'), 'utf8'));

// The server's store: every identity of alice and bob, old encryption keys included (old mail still opens), the
// CA chain and the trusted root.
// The sample certificates are judged as on the vectors' reference date, the day they were made for (some expire in
// 2028), so the example gives the same output whenever it is run; an application leaves `now` out (the real clock).
const store = new CertificateStore({ now: () => new Date(`${manifest.referenceDate}T12:00:00Z`) });
const users = Object.entries(manifest.identities).filter(([, id]) => id.p12 && ['alice', 'bob'].includes(id.person));
for (const [, id] of users) await store.importPkcs12(await readFile(join(vectors, id.p12)), manifest.password);
await store.addCertificate(await readFile(join(vectors, 'pki/chain.pem')));
store.addTrustAnchor(await readFile(join(vectors, 'pki/root-ca.cert.pem')));
console.log(`keys: ${users.map(([name]) => name).join(', ')}`);

const files = (await readdir(folder)).filter((f) => f.endsWith('.eml')).sort();
const tally = { opened: 0, valid: 0, failed: 0 };
for (const f of files) {
  try {
    const r = await openMessage(await readFile(join(folder, f)), { store });
    const layers = r.layers.map((l) => (l.type === 'signed' ? 'signed' : `${l.type}(${l.cipher})`)).join('>');
    const signers = r.signers.map((s) => `${s.email ?? '?'}=${s.status}`).join(',') || 'none';
    console.log(`${f}: ${layers} signers ${signers}${r.authenticated ? '' : ' unauthenticated'}`);
    tally.opened++;
    if (r.signers.length > 0 && r.signers.every((s) => s.status === 'valid')) tally.valid++;
  } catch (e) {
    if (!(e instanceof SmimeError)) throw e;
    console.log(`${f}: error ${e.code}`);
    tally.failed++;
  }
}
console.log(`${files.length} messages: ${tally.opened} opened, ${tally.valid} with every signature valid, ${tally.failed} failed`);
