/**
 * `npm run demo`: the end-to-end story on the sample identities of vectors/ (made by vectors/generate.sh).
 * Node-only (it reads files), so it lives beside the CLI.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CertificateStore,
  decryptMessage,
  encryptMessage,
  importFromMessage,
  MissingRecipientCertificatesError,
  openMessage,
  signMessage,
  nodeCrypto,
  setCrypto,
  verifyMessage,
} from '../index.node.js';

const VECTORS = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'vectors');
const file = (rel: string) => new Uint8Array(readFileSync(join(VECTORS, rel)));
const text = (rel: string) => readFileSync(join(VECTORS, rel), 'utf8');
const manifest = JSON.parse(text('manifest.json')) as { password: string; referenceDate: string };
const PASSWORD = manifest.password;
/**
 * The day the story is set on: the vectors' reference date, the day their certificates were made for (some expire
 * in 2028). Every store's clock is set to it, so the demo tells the same story whenever it is run; an application
 * leaves `now` out (the real clock).
 */
const TODAY = new Date(`${manifest.referenceDate}T12:00:00Z`);
const now = (): Date => TODAY;
const td = new TextDecoder();

function step(title: string): void {
  console.log(`\n== ${title}`);
}
function say(line: string): void {
  console.log(`   ${line}`);
}
/**
 * A mail with one attachment, as a mail client composes it (multipart/mixed, the file base64 in 76-column lines).
 * Written out here: the demo runs from dist/ with the package's own dependencies only.
 */
function mailWithAttachment(from: string, subject: string, text: string, name: string, type: string, content: Uint8Array): string {
  const b64 = Buffer.from(content).toString('base64').replace(/.{1,76}/g, '$&\r\n');
  const boundary = 'demo-boundary-1';
  return (
    `From: ${from}\r\nTo: ${from}\r\nSubject: ${subject}\r\nDate: Sun, 29 Nov 2026 09:00:00 +0000\r\nMIME-Version: 1.0\r\n` +
    `Content-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n` +
    `--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n` +
    `--${boundary}\r\nContent-Type: ${type}; name="${name}"\r\nContent-Disposition: attachment; filename="${name}"\r\n` +
    `Content-Transfer-Encoding: base64\r\n\r\n${b64}--${boundary}--\r\n`
  );
}

function bodyOf(entity: Uint8Array): string {
  const s = td.decode(entity);
  const i = s.indexOf('\r\n\r\n');
  return (i >= 0 ? s.slice(i + 4) : s).trim().split(/\r?\n/)[0] ?? '';
}

async function main(): Promise<void> {
  setCrypto(nodeCrypto());
  console.log('smime-core demo: Alice (managed user), Bob (one dual-use cert), Carol (no cert)');
  console.log(`(set on ${manifest.referenceDate}, the sample certificates' reference date: every store's clock says so)`);

  step('Alice imports her PKCS#12 files: a signing cert and three generations of encryption certs');
  const alice = new CertificateStore({ now });
  for (const name of ['alice-sign', 'alice-enc-2021', 'alice-enc-2023', 'alice-enc-2025']) {
    const [id] = await alice.importPkcs12(file(`identities/${name}.p12`), PASSWORD);
    const expired = id!.certificate.notAfter.getTime() < TODAY.getTime();
    say(`${name.padEnd(15)} serial ${id!.certificate.serialNumber}  valid ${id!.certificate.notBefore.toISOString().slice(0, 10)} → ${id!.certificate.notAfter.toISOString().slice(0, 10)}${expired ? '  (expired, kept for old mail)' : ''}`);
  }
  say('(alice-enc-2021.p12 is a legacy file: RC2-40 certificates, 3DES key, SHA-1 MAC, as Windows writes)');
  alice.addTrustAnchor(text('pki/root-ca.cert.pem'));
  await alice.addCertificate(text('identities/bob.cert.pem'));

  const message =
    'From: alice@example.com\r\nTo: bob@example.com\r\nSubject: Quarterly numbers\r\nDate: Sun, 29 Nov 2026 10:00:00 +0000\r\n' +
    'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHi Bob, the numbers are attached in spirit.\r\n';

  step('Alice encrypts to Bob, with her own copy');
  const smime = await encryptMessage(message, { store: alice, to: ['bob@example.com'], from: 'alice@example.com' });
  const head = td.decode(smime.subarray(0, 600));
  say(`${smime.length} bytes; ${head.match(/Content-Type: [^\r]*/)![0]}`);
  say(`headers kept outside: ${['From', 'To', 'Subject'].filter((h) => head.includes(`${h}: `)).join(', ')}`);
  const self = await decryptMessage(smime, { store: alice });
  say(`Alice's sent copy opens with her ${self.recipient.notBefore.getFullYear()} encryption cert (${self.cipher})`);

  step('Alice encrypts to Bob and Carol');
  try {
    await encryptMessage(message, { store: alice, to: ['bob@example.com', 'carol@example.com'], from: 'alice@example.com' });
    say('UNEXPECTED: it was encrypted');
    process.exitCode = 1;
  } catch (e) {
    if (!(e instanceof MissingRecipientCertificatesError)) throw e;
    say(`refused (${e.code}): no usable certificate for ${e.missing.map((m) => `${m} (${e.reasons[m]})`).join(', ')}`);
    say('nothing was encrypted; the app asks Alice to remove those recipients');
  }

  step('Bob decrypts');
  const bob = new CertificateStore({ now });
  await bob.importPkcs12(file('identities/bob.p12'), PASSWORD);
  bob.addTrustAnchor(text('pki/root-ca.cert.pem'));
  const got = await decryptMessage(smime, { store: bob });
  say(`opened with Bob's cert ${got.recipient.serialNumber} (${got.keyTransport}, ${got.cipher}): "${bodyOf(got.content)}"`);

  step('A message encrypted years ago to Alice\'s expired 2021 cert');
  const old = await decryptMessage(file('openssl/enc-old-2021.eml'), { store: alice });
  say(`still opens: key of the cert valid ${old.recipient.notBefore.toISOString().slice(0, 10)} → ${old.recipient.notAfter.toISOString().slice(0, 10)}; "${bodyOf(old.content)}"`);

  step('Alice signs and encrypts to Bob; Bob opens it');
  const signed = await signMessage(message, { store: alice, from: 'alice@example.com' });
  say(`signed with her signing cert (multipart/signed, ${td.decode(signed).match(/micalg=[^;\r\n]*/)![0]})`);
  const both = await encryptMessage(signed, { store: alice, to: ['bob@example.com'], from: 'alice@example.com' });
  await bob.addCertificate(text('pki/chain.pem'));
  const opened = await openMessage(both, { store: bob });
  say(`layers: ${opened.layers.map((l) => l.type).join(' → ')}; content: "${bodyOf(opened.content)}"`);
  for (const s of opened.signers) say(`signer ${s.email}: ${s.status}`);

  step("Bob's store learnt Alice's encryption preference from her signed mail");
  const pref = bob.preference('alice@example.com');
  say(`preferred encryption cert: serial ${pref?.certificate?.serialNumber ?? '(none)'} (her signing cert is a different one)`);
  const reply = await encryptMessage('Subject: Re: numbers\r\nContent-Type: text/plain\r\n\r\nThanks!\r\n', {
    store: bob,
    to: ['alice@example.com'],
    from: 'bob@example.com',
  });
  const back = await decryptMessage(reply, { store: alice });
  say(`Bob's reply opens with Alice's cert serial ${back.recipient.serialNumber} (${back.cipher})`);

  step('Alice mails her PKCS#12 to herself and installs it on her new laptop from the attachment');
  const selfMail = mailWithAttachment('alice@example.com', 'my encryption certificate', 'For the new laptop.', 'alice-enc-2025.p12', 'application/x-pkcs12', file('identities/alice-enc-2025.p12'));
  say(`a ${selfMail.length}-byte mail with alice-enc-2025.p12 attached (application/x-pkcs12)`);
  const laptop = new CertificateStore({ now });
  const installed = await importFromMessage(selfMail, {
    store: laptop,
    password: async (name) => {
      say(`the laptop asks Alice for the password of "${name}"`);
      return PASSWORD;
    },
  });
  for (const id of installed.identities) say(`installed identity serial ${id.certificate.serialNumber} (valid until ${id.certificate.notAfter.toISOString().slice(0, 10)})`);
  say(`trust anchors added by the mail: ${laptop.certificates().filter((c) => c.role === 'anchor').length} (what arrives by mail is never trusted)`);
  const onLaptop = await decryptMessage(reply, { store: laptop });
  say(`Bob's reply opens on the laptop: "${bodyOf(onLaptop.content)}"`);

  step("Bob's mail client quits and starts again: his store is saved and restored");
  const bobPassword = 'bob-store-secret';
  const dir = mkdtempSync(join(tmpdir(), 'smime-demo-'));
  try {
    const storeFile = join(dir, 'bob.store');
    writeFileSync(storeFile, await bob.export({ password: bobPassword }));
    say(`first run: store.export → ${readFileSync(storeFile).length} bytes (encrypted and authenticated under his password)`);
    const restored = await CertificateStore.import(new Uint8Array(readFileSync(storeFile)), { password: bobPassword, now });
    const roles = new Map<string, number>();
    for (const c of restored.certificates()) roles.set(c.role, (roles.get(c.role) ?? 0) + 1);
    say(`second run: CertificateStore.import → ${[...roles].map(([r, n]) => `${n} ${r}`).join(', ')}`);
    const again = await openMessage(both, { store: restored });
    say(`the signed and encrypted mail still opens: "${bodyOf(again.content)}"; ${again.signers.map((s) => `signer ${s.email}: ${s.status}`).join('; ')}`);
    say(`Alice's preferred encryption cert is remembered: serial ${restored.preference('alice@example.com')?.certificate?.serialNumber ?? '(none)'}`);
    try {
      await CertificateStore.import(new Uint8Array(readFileSync(storeFile)), { password: 'guess', now });
      say('UNEXPECTED: a wrong password opened the store');
      process.exitCode = 1;
    } catch (e) {
      say(`a wrong password: ${(e as { code?: string }).code ?? String(e)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  step('Header protection (RFC 9788): Alice signs and encrypts with the Subject hidden outside');
  const forEncryption = await signMessage(message, { store: alice, from: 'alice@example.com', protectHeaders: true, headerConfidentiality: 'baseline' });
  const hidden = await encryptMessage(forEncryption, { store: alice, to: ['bob@example.com'], from: 'alice@example.com', protectHeaders: true });
  const outerSubject = td.decode(hidden.subarray(0, 600)).match(/^Subject: [^\r]*/m)![0];
  say(`what every server sees: ${outerSubject}`);
  const inside = await openMessage(hidden, { store: bob });
  say(`what Bob sees: Subject: ${inside.headers?.find((h) => h.name === 'Subject')?.value} (hp="${inside.headerProtection?.hp}", signer ${inside.signers[0]?.email}: ${inside.signers[0]?.status})`);
  say(`fields Alice left outside (HP-Outer): ${inside.headerProtection?.exposed?.map((h) => h.name).join(', ')}; mismatches: ${inside.headerProtection?.mismatches.length}`);

  step('A tampered copy');
  const tampered = td.decode(signed).replace('the numbers', 'THE NUMBERS');
  const v = await verifyMessage(tampered, { store: bob });
  say(`verifies as: ${v.signers.map((s) => `${s.status} (${s.reasons.join(', ')})`).join('; ')}`);
  console.log('\ndemo finished');
}

main().catch((e: unknown) => {
  console.error(`demo failed: ${e instanceof Error ? `${(e as { code?: string }).code ?? e.name}: ${e.message}` : String(e)}`);
  process.exitCode = 1;
});
