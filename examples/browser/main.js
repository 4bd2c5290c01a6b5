// smime-core in a browser page (bundled by Vite): import a PKCS#12 from a file input, then encrypt, decrypt, sign
// and verify. The result of each step is shown in #status (one line) and #output (the message).
import { CertificateStore, decryptMessage, encryptMessage, signMessage, SmimeError, verifyMessage } from 'smime-core';

const $ = (id) => document.getElementById(id);
let store = new CertificateStore();
const decoder = new TextDecoder();

$('message').value = 'Content-Type: text/plain; charset=utf-8\r\n\r\nHello from the browser.\r\n';

const fileBytes = async (input) => (input.files[0] ? new Uint8Array(await input.files[0].arrayBuffer()) : undefined);
const email = () => $('email').value.trim();
const recipients = () => ($('to').value.trim() ? $('to').value.split(',').map((s) => s.trim()) : [email()]);
/** The outer headers, from the address fields. */
const headers = () => `From: ${email()}\r\nTo: ${recipients().join(', ')}\r\nSubject: smime-core in the browser\r\n`;
/** The message to send: a textarea's value has LF line ends, mail wants CRLF. */
const message = () => headers() + $('message').value.replace(/\r?\n/g, '\r\n');

/** Runs one step; its result line goes to #status, a typed error's code too. */
function step(button, action) {
  $(button).addEventListener('click', async () => {
    $('status').textContent = `${button}…`;
    try {
      $('status').textContent = await action();
    } catch (e) {
      $('status').textContent = e instanceof SmimeError ? `error: ${e.code}: ${e.message}` : `error: ${e}`;
    }
  });
}

step('import', async () => {
  const p12 = await fileBytes($('p12'));
  if (!p12) return 'error: choose a .p12 file first';
  store = new CertificateStore();
  const identities = await store.importPkcs12(p12, $('password').value);
  const anchor = await fileBytes($('anchor'));
  if (anchor) store.addTrustAnchor(anchor);
  $('identity').textContent = identities.map((i) => `${i.certificate.subject} (until ${i.certificate.notAfter.toISOString().slice(0, 10)})`).join('; ');
  return `imported: ${identities.length} ${identities.length === 1 ? 'identity' : 'identities'}${anchor ? ', 1 trust anchor' : ''}`;
});

step('encrypt', async () => {
  const out = await encryptMessage(message(), { store, to: recipients(), from: email() });
  $('output').value = decoder.decode(out);
  return `encrypted: ${out.length} bytes to ${recipients().join(', ')}`;
});

step('decrypt', async () => {
  const r = await decryptMessage($('output').value, { store });
  $('output').value = decoder.decode(r.content);
  return `decrypted: ${r.cipher}, ${r.authenticated ? 'authenticated' : 'not authenticated'}`;
});

step('sign', async () => {
  const out = await signMessage(message(), { store, from: email() });
  $('output').value = decoder.decode(out);
  return `signed: ${out.length} bytes as ${email()}`;
});

step('verify', async () => {
  const r = await verifyMessage($('output').value, { store });
  return `verified: ${r.signers.map((s) => `${s.email} ${s.status}${s.reasons.length ? ` (${s.reasons.join(', ')})` : ''}`).join('; ')}`;
});
