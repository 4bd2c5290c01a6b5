// smime-core from CommonJS on Node (require of an ES module: Node >= 20.19). Bob signs an opaque message with
// RSA-PSS, verifies it, and decrypts a message that OpenSSL encrypted to him.
// Run: node node-cjs/index.cjs [vectors-folder]   (default: the repository's vectors/)
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { CertificateStore, signMessage, verifyMessage, decryptMessage, SmimeError } = require('smime-core');

const vectors = process.argv[2] || join(__dirname, '..', '..', 'vectors');
const manifest = JSON.parse(readFileSync(join(vectors, 'manifest.json'), 'utf8'));
const file = (rel) => readFileSync(join(vectors, rel));

async function main() {
  // The sample certificates are judged as on the vectors' reference date, the day they were made for (some expire in
  // 2028), so the example gives the same output whenever it is run; an application leaves `now` out (the real clock).
  const store = new CertificateStore({ now: () => new Date(`${manifest.referenceDate}T12:00:00Z`) });
  await store.importPkcs12(file(manifest.identities.bob.p12), manifest.password);
  await store.addCertificate(file('pki/chain.pem'));
  store.addTrustAnchor(file('pki/root-ca.cert.pem'));

  const message = 'From: bob@example.com\r\nTo: alice@example.com\r\nSubject: Report\r\nContent-Type: text/plain\r\n\r\nThe numbers are in.\r\n';
  const signed = await signMessage(message, { store, from: 'bob@example.com', detached: false, pss: true });
  console.log(`signed: ${signed.length} bytes, application/pkcs7-mime; smime-type=signed-data, RSA-PSS`);
  const verified = await verifyMessage(signed, { store });
  for (const s of verified.signers) console.log(`signer: ${s.email} ${s.status}`);

  const fromOpenssl = await decryptMessage(file('openssl/enc-to-bob-only.eml'), { store });
  console.log(`decrypted OpenSSL's message: cipher ${fromOpenssl.cipher}, key transport ${fromOpenssl.keyTransport}`);
  const text = Buffer.from(fromOpenssl.content).toString('utf8');
  console.log(`content: ${JSON.stringify(text.split('\r\n\r\n')[1].split('\r\n')[0])}`);

  // Every failure caused by input is a SmimeError with a stable code.
  try {
    await decryptMessage('Content-Type: text/plain\r\n\r\nnot S/MIME\r\n', { store });
  } catch (e) {
    if (!(e instanceof SmimeError)) throw e;
    console.log(`not S/MIME: ${e.code}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
