// Composing with mimetext, then signing and encrypting with smime-core: mimetext writes the message (headers,
// text and HTML alternatives, an attachment); smime-core signs it as Alice and encrypts it to Bob; Bob opens it.
// Run: node compose-mimetext/index.mjs [vectors-folder] [out.eml]   (default: the repository's vectors/, no file)
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMimeMessage } from 'mimetext';
import { CertificateStore, encryptMessage, openMessage, signMessage } from 'smime-core';

const vectors = process.argv[2] ?? fileURLToPath(new URL('../../vectors/', import.meta.url));
const outFile = process.argv[3];
const manifest = JSON.parse(await readFile(join(vectors, 'manifest.json'), 'utf8'));
// The sample certificates are judged as on the vectors' reference date, the day they were made for (some expire in
// 2028), so the example gives the same output whenever it is run; an application leaves `now` out (the real clock).
const now = () => new Date(`${manifest.referenceDate}T12:00:00Z`);

async function storeFor(own, others) {
  const store = new CertificateStore({ now });
  for (const name of own) await store.importPkcs12(await readFile(join(vectors, manifest.identities[name].p12)), manifest.password);
  for (const name of others) await store.addCertificate(await readFile(join(vectors, manifest.identities[name].cert)));
  await store.addCertificate(await readFile(join(vectors, 'pki/chain.pem')));
  store.addTrustAnchor(await readFile(join(vectors, 'pki/root-ca.cert.pem')));
  return store;
}
const alice = await storeFor(['alice-sign', 'alice-enc-2025'], ['bob']);
const bob = await storeFor(['bob'], []);

// 1. Compose with mimetext.
const msg = createMimeMessage();
msg.setSender({ name: 'Alice Example', addr: 'alice@example.com' });
msg.setRecipient({ name: 'Bob Example', addr: 'bob@example.com' });
msg.setSubject('Quarterly figures (signed and encrypted)');
msg.addMessage({ contentType: 'text/plain', data: 'Hi Bob,\r\n\r\nthe figures are attached.\r\n\r\nAlice' });
msg.addMessage({ contentType: 'text/html', data: '<p>Hi Bob,</p><p>the figures are <b>attached</b>.</p><p>Alice</p>' });
msg.addAttachment({ filename: 'figures.csv', contentType: 'text/csv', data: btoa('quarter,revenue\r\nQ3,1200\r\nQ4,1500\r\n') });
const composed = msg.asRaw();
console.log(`composed: ${composed.length} bytes, ${/^Content-Type: ([^;\r\n]+)/m.exec(composed)[1]}`);

// 2. Sign as Alice, 3. encrypt to Bob (AES-256-GCM) and to Alice's own certificate (her Sent folder).
const signed = await signMessage(composed, { store: alice, from: 'alice@example.com' });
console.log(`signed: ${signed.length} bytes, multipart/signed`);
const encrypted = await encryptMessage(signed, { store: alice, to: ['bob@example.com'], from: 'alice@example.com', cipher: 'aes-256-gcm' });
const head = new TextDecoder().decode(encrypted.subarray(0, 2000));
console.log(`encrypted: ${encrypted.length} bytes, ${/^Content-Type: ([^\r\n]+)/m.exec(head)[1]}`);
// The message headers stay outside the envelope (RFC 8551 §3); mimetext's Content-* headers are inside.
const outer = head.split('\r\n\r\n')[0].split('\r\n').map((l) => /^([\w-]+):/.exec(l)?.[1]).filter((h) => h && !/^(Content-|MIME-Version)/i.test(h));
console.log(`outer headers: ${outer.join(', ')}`);
if (outFile) {
  await writeFile(outFile, encrypted);
  console.log(`written: ${outFile}`);
}

// 4. Bob opens it: decrypt, verify, and find mimetext's parts inside.
const opened = await openMessage(encrypted, { store: bob });
const inner = new TextDecoder().decode(opened.content);
console.log(`opened: layers ${opened.layers.map((l) => (l.type === 'signed' ? 'signed' : `${l.type}(${l.cipher})`)).join(' > ')}, authenticated ${opened.authenticated}`);
for (const s of opened.signers) console.log(`signer: ${s.email} ${s.status}`);
console.log(`parts: ${[...inner.matchAll(/^Content-Type: ([^;\r\n]+)/gm)].map((m) => m[1]).join(', ')}`);
console.log(`attachment: ${/filename="?([^"\r\n]+)/.exec(inner)?.[1]}`);
