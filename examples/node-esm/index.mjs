// smime-core from an ES module on Node: Alice signs a message and encrypts it to Bob; Bob opens it.
// Run: node node-esm/index.mjs [vectors-folder]   (default: the repository's vectors/)
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CertificateStore, decryptMessage, encryptMessage, MissingRecipientCertificatesError, openMessage, signMessage } from 'smime-core';

const vectors = process.argv[2] ?? fileURLToPath(new URL('../../vectors/', import.meta.url));
const manifest = JSON.parse(await readFile(join(vectors, 'manifest.json'), 'utf8'));
const password = manifest.password;
const file = (rel) => readFile(join(vectors, rel));
// The sample certificates are judged as on the vectors' reference date, the day they were made for (some expire in
// 2028), so the example gives the same output whenever it is run; an application leaves `now` out (the real clock).
const now = () => new Date(`${manifest.referenceDate}T12:00:00Z`);

// Each person's store: their own identities (PKCS#12), the other's certificate, the CA chain, the trusted root.
async function storeFor(own, others) {
  const store = new CertificateStore({ now });
  for (const name of own) await store.importPkcs12(await file(manifest.identities[name].p12), password);
  for (const name of others) await store.addCertificate(await file(manifest.identities[name].cert));
  await store.addCertificate(await file('pki/chain.pem'));
  store.addTrustAnchor(await file('pki/root-ca.cert.pem'));
  return store;
}
const alice = await storeFor(['alice-sign', 'alice-enc-2025'], ['bob']);
const bob = await storeFor(['bob'], ['alice-sign', 'alice-enc-2025']);

const message = [
  'From: alice@example.com',
  'To: bob@example.com',
  'Subject: Lunch',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'See you at noon.',
  '',
].join('\r\n');

// Alice signs (multipart/signed), then encrypts the signed message to Bob (and to herself, to read her Sent folder).
const signed = await signMessage(message, { store: alice, from: 'alice@example.com' });
console.log(`signed: ${signed.length} bytes, multipart/signed`);
const encrypted = await encryptMessage(signed, { store: alice, to: ['bob@example.com'], from: 'alice@example.com' });
console.log(`encrypted: ${encrypted.length} bytes to bob@example.com and alice@example.com`);

// Bob decrypts only, then opens every layer (decrypt, then verify).
const dec = await decryptMessage(encrypted, { store: bob });
console.log(`decrypted: cipher ${dec.cipher}, authenticated ${dec.authenticated}, key of ${dec.recipient.subject}`);
const opened = await openMessage(encrypted, { store: bob });
console.log(`opened: layers ${opened.layers.map((l) => l.type).join(' > ')}`);
for (const s of opened.signers) console.log(`signer: ${s.email} ${s.status}`);
console.log(`content: ${JSON.stringify(new TextDecoder().decode(opened.content).split('\r\n\r\n')[1])}`);

// Nobody has a certificate for carol: encryption is refused, and the error names her.
try {
  await encryptMessage(message, { store: alice, to: ['bob@example.com', 'carol@example.com'] });
} catch (e) {
  if (!(e instanceof MissingRecipientCertificatesError)) throw e;
  console.log(`refused: ${e.code}, missing ${e.missing.join(', ')}`);
}
