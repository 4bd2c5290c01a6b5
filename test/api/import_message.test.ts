/**
 * importFromMessage: identities and certificates installed from a received message (issue 15, "Installing from a
 * received message"). The messages are built here by hand (multipart/mixed with base64 attachments), signed and
 * encrypted with the library, or made by OpenSSL (PKCS#12 files under other passwords, certs-only, a signature).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate as NodeX509 } from 'node:crypto';
import {
  CertificateStore,
  decryptMessage,
  encryptMessage,
  importFromMessage,
  MIMELimitExceeded,
  signMessage,
  verifyMessage,
} from '../../src/index.js';
import { extractCms } from '../../src/mime/extract.js';
import { atReference, certPem, CHAIN, manifest, PASSWORD, ROOT, storeWith, vfile } from '../_helpers/identities.js';
import { hasPeer, run, tmp, VECTORS } from '../_helpers/env.js';

const CRLF = '\r\n';
const id = (n: string) => manifest.identities[n]!;
const p12 = (n: string) => vfile(id(n).p12);
const der = (n: string) => new Uint8Array(new NodeX509(certPem(n)).raw);
const fp = (pem: string | Uint8Array) => new NodeX509(typeof pem === 'string' ? pem : Buffer.from(pem)).fingerprint256;

/** Base64 in 76-column CRLF lines. */
function b64(bytes: Uint8Array): string {
  return (Buffer.from(bytes).toString('base64').match(/.{1,76}/g) ?? []).join(CRLF);
}

/** One attachment part. */
function part(filename: string | null, type: string, content: Uint8Array | string): string {
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  const name = filename === null ? '' : `; name="${filename}"`;
  const disp = filename === null ? 'attachment' : `attachment; filename="${filename}"`;
  return `Content-Type: ${type}${name}${CRLF}Content-Transfer-Encoding: base64${CRLF}Content-Disposition: ${disp}${CRLF}${CRLF}${b64(bytes)}${CRLF}`;
}

/** A forwarded message as a message/rfc822 part. */
function forwarded(message: string): string {
  return `Content-Type: message/rfc822${CRLF}Content-Disposition: attachment; filename="fwd.eml"${CRLF}${CRLF}${message}${CRLF}`;
}

let boundaryN = 0;
/** A multipart/mixed message with a text part and `parts`. */
function mail(parts: string[], from = 'alice@example.com', to = 'alice@example.com', headers = true): string {
  const b = `=_b${++boundaryN}_`;
  const head = headers ? `From: ${from}${CRLF}To: ${to}${CRLF}Subject: my certificates${CRLF}Date: Mon, 7 Dec 2026 05:00:00 +0000${CRLF}` : '';
  const text = `Content-Type: text/plain; charset=utf-8${CRLF}${CRLF}Here they are.${CRLF}`;
  return `${head}MIME-Version: 1.0${CRLF}Content-Type: multipart/mixed; boundary="${b}"${CRLF}${CRLF}` + [text, ...parts].map((p) => `--${b}${CRLF}${p}`).join('') + `--${b}--${CRLF}`;
}

/** An empty store that trusts the sample root, as an administrator set it up (its clock at the reference date). */
function managedStore(opts: ConstructorParameters<typeof CertificateStore>[0] = {}): CertificateStore {
  const s = new CertificateStore({ now: atReference, ...opts });
  s.addTrustAnchor(ROOT());
  return s;
}

describe('importFromMessage: PKCS#12', () => {
  it("Alice mails her PKCS#12 files to herself; after the import she signs and decrypts", async () => {
    const store = managedStore();
    const message = mail([part('alice-sign.p12', 'application/x-pkcs12', p12('alice-sign')), part('alice-enc.pfx', 'application/octet-stream', p12('alice-enc-2025'))]);
    const r = await importFromMessage(message, { store, password: PASSWORD });
    expect(r.skipped).toEqual([]);
    expect(r.identities.map((i) => fp(i.certificate.toString('pem'))).sort()).toEqual([fp(certPem('alice-sign')), fp(certPem('alice-enc-2025'))].sort());
    expect(store.identities).toHaveLength(2);

    const signed = await signMessage(`Content-Type: text/plain${CRLF}${CRLF}hello${CRLF}`, { store, from: 'alice@example.com' });
    const bob = await storeWith(['bob']);
    const v = await verifyMessage(signed, { store: bob });
    expect(v.signers.map((s) => s.status)).toEqual(['valid']);

    const sender = await storeWith([], ['alice-enc-2025']);
    const enc = await encryptMessage(`Content-Type: text/plain${CRLF}${CRLF}secret${CRLF}`, { store: sender, to: ['alice@example.com'] });
    const d = await decryptMessage(enc, { store });
    expect(new TextDecoder().decode(d.content)).toContain('secret');
  });

  it('a password callback is asked once per file, by name; undefined and a wrong password are skipped, never guessed', async () => {
    const store = managedStore();
    const asked: string[] = [];
    const message = mail([
      part('sign.p12', 'application/pkcs12', p12('alice-sign')),
      part('enc.p12', 'application/pkcs12', p12('alice-enc-2025')),
      part('bob.p12', 'application/pkcs12', p12('bob')),
    ]);
    const r = await importFromMessage(message, {
      store,
      password: async (name) => {
        asked.push(name);
        return name === 'sign.p12' ? PASSWORD : name === 'enc.p12' ? 'not-the-password' : undefined;
      },
    });
    expect(asked).toEqual(['sign.p12', 'enc.p12', 'bob.p12']);
    expect(r.identities.map((i) => fp(i.certificate.toString('pem')))).toEqual([fp(certPem('alice-sign'))]);
    expect(r.skipped).toEqual([
      { name: 'enc.p12', reason: 'bad-password' },
      { name: 'bob.p12', reason: 'password-needed' },
    ]);
    expect(store.identities).toHaveLength(1);
  });

  it('without any password option a protected file is password-needed; a string password is used for every file', async () => {
    const none = await importFromMessage(mail([part('a.p12', 'application/x-pkcs12', p12('bob'))]), { store: managedStore() });
    expect(none).toEqual({ identities: [], certificates: [], skipped: [{ name: 'a.p12', reason: 'password-needed' }] });
    const wrong = await importFromMessage(mail([part('a.p12', 'application/x-pkcs12', p12('bob'))]), { store: managedStore(), password: 'x' });
    expect(wrong.skipped).toEqual([{ name: 'a.p12', reason: 'bad-password' }]);
  });

  it('a password callback that throws: the error is passed through and nothing is imported', async () => {
    const store = managedStore();
    const message = mail([part('bob.cer', 'application/pkix-cert', der('bob')), part('a.p12', 'application/x-pkcs12', p12('alice-sign'))]);
    await expect(importFromMessage(message, { store, password: async () => Promise.reject(new Error('user cancelled')) })).rejects.toThrow('user cancelled');
    expect(store.identities).toHaveLength(0);
    expect((await store.findEncryptionCertificate('bob@example.com')).certificate).toBeUndefined();
  });

  it('a file named .p12 that is not PKCS#12 is skipped as not-a-pkcs12; other attachments are ignored silently', async () => {
    const store = managedStore();
    const r = await importFromMessage(
      mail([part('x.p12', 'application/x-pkcs12', 'not a pkcs12 file'), part('photo.jpg', 'image/jpeg', new Uint8Array([0xff, 0xd8, 0xff])), part('notes.pdf', 'application/pdf', '%PDF-1.4')]),
      { store, password: PASSWORD },
    );
    expect(r).toEqual({ identities: [], certificates: [], skipped: [{ name: 'x.p12', reason: 'not-a-pkcs12' }] });
  });

  it('an encrypted message carrying a PKCS#12 is opened with the store and walked', async () => {
    const store = managedStore();
    await store.importPkcs12(p12('alice-enc-2025'), PASSWORD);
    const sender = await storeWith([], ['alice-enc-2025']);
    const inner = mail([part('alice-sign.p12', 'application/x-pkcs12', p12('alice-sign'))]);
    const enc = await encryptMessage(inner, { store: sender, to: ['alice@example.com'] });
    const r = await importFromMessage(enc, { store, password: PASSWORD });
    expect(r.skipped).toEqual([]);
    expect(r.identities.map((i) => fp(i.certificate.toString('pem')))).toEqual([fp(certPem('alice-sign'))]);

    // A bare CMS object given as the message (a .p7m file) is opened too.
    const other = managedStore();
    await other.importPkcs12(p12('alice-enc-2025'), PASSWORD);
    const r3 = await importFromMessage(extractCms(enc).der, { store: other, password: PASSWORD });
    expect(r3.identities.map((i) => fp(i.certificate.toString('pem')))).toEqual([fp(certPem('alice-sign'))]);

    // Without the key the layer is reported, not thrown.
    const r2 = await importFromMessage(enc, { store: managedStore(), password: PASSWORD });
    expect(r2).toEqual({ identities: [], certificates: [], skipped: [{ name: 'message', reason: 'cannot-decrypt' }] });
  });
});

describe('importFromMessage: certificates', () => {
  it('.cer as DER and as PEM, .crt by name: added as certificates, and encryption to Bob works', async () => {
    const store = managedStore();
    await store.addCertificate(CHAIN());
    const message = mail([part('bob.cer', 'application/pkix-cert', der('bob')), part('dave.pem', 'application/x-pem-file', certPem('dave')), part('heidi.crt', 'application/octet-stream', certPem('heidi-subject-email'))]);
    const r = await importFromMessage(message, { store });
    expect(r.skipped).toEqual([]);
    expect(r.identities).toEqual([]);
    expect(r.certificates.map((c) => fp(c.toString('pem')))).toEqual([fp(certPem('bob')), fp(certPem('dave')), fp(certPem('heidi-subject-email'))]);
    const enc = await encryptMessage(`Content-Type: text/plain${CRLF}${CRLF}hi${CRLF}`, { store, to: ['bob@example.com'] });
    const d = await decryptMessage(enc, { store: await storeWith(['bob']) });
    expect(new TextDecoder().decode(d.content)).toContain('hi');
  });

  it('a file typed as a certificate that is not one is skipped as not-a-certificate', async () => {
    const r = await importFromMessage(mail([part('bob.cer', 'application/pkix-cert', 'garbage')]), { store: managedStore() });
    expect(r).toEqual({ identities: [], certificates: [], skipped: [{ name: 'bob.cer', reason: 'not-a-certificate' }] });
  });

  it('an attached self-signed root is never a trust anchor: the trust anchors are unchanged and what it issued stays untrusted', async () => {
    const store = managedStore();
    const anchorsBefore = store.trustAnchors.map((c) => fp(c.toString('pem')));
    const rootPem = readFileSync(join(VECTORS, 'pki', 'untrusted-root.cert.pem'), 'utf8');
    const r = await importFromMessage(mail([part('root.crt', 'application/x-x509-ca-cert', rootPem), part('grace.cer', 'application/pkix-cert', der('grace-untrusted'))]), { store });
    expect(r.certificates.map((c) => fp(c.toString('pem')))).toEqual([fp(rootPem), fp(certPem('grace-untrusted'))]);
    expect(store.trustAnchors.map((c) => fp(c.toString('pem')))).toEqual(anchorsBefore);
    const v = await store.verifyCertificate(certPem('grace-untrusted'));
    expect(v.status).toBe('untrusted');
    await expect(encryptMessage(`Content-Type: text/plain${CRLF}${CRLF}x${CRLF}`, { store, to: ['grace@example.com'] })).rejects.toMatchObject({
      code: 'ERR_MISSING_RECIPIENT_CERTIFICATES',
    });
  });

  it('a forwarded message (message/rfc822) with a .cer is walked', async () => {
    const store = managedStore();
    const inner = mail([part('bob.cer', 'application/pkix-cert', der('bob'))], 'bob@example.com', 'carol@example.com');
    const r = await importFromMessage(mail([forwarded(inner)]), { store });
    expect(r.skipped).toEqual([]);
    expect(r.certificates.map((c) => fp(c.toString('pem')))).toEqual([fp(certPem('bob'))]);
  });
});

describe('importFromMessage: signed messages', () => {
  it("a signed mail from Bob that verifies valid: Bob's certificate is learned, and encryptMessage to Bob works", async () => {
    const bob = await storeWith(['bob']);
    const signed = await signMessage(`From: bob@example.com${CRLF}To: alice@example.com${CRLF}Subject: hi${CRLF}Content-Type: text/plain${CRLF}${CRLF}hello${CRLF}`, {
      store: bob,
      from: 'bob@example.com',
    });
    const store = managedStore();
    const r = await importFromMessage(signed, { store });
    expect(r.skipped).toEqual([]);
    expect(r.certificates.map((c) => fp(c.toString('pem')))).toContain(fp(certPem('bob')));
    const enc = await encryptMessage(`Content-Type: text/plain${CRLF}${CRLF}hi bob${CRLF}`, { store, to: ['bob@example.com'] });
    expect(new TextDecoder().decode((await decryptMessage(enc, { store: bob })).content)).toContain('hi bob');
  });

  it('a signed message carrying a .cer: the signature teaches the signer, the attachment is walked', async () => {
    const bob = await storeWith(['bob']);
    const inner = mail([part('dave.cer', 'application/pkix-cert', der('dave'))], 'bob@example.com', 'alice@example.com', false);
    const signed = await signMessage(`From: bob@example.com${CRLF}To: alice@example.com${CRLF}Subject: x${CRLF}` + inner, { store: bob, from: 'bob@example.com', detached: false });
    const store = managedStore();
    const r = await importFromMessage(signed, { store });
    const got = r.certificates.map((c) => fp(c.toString('pem')));
    expect(got).toContain(fp(certPem('bob')));
    expect(got).toContain(fp(certPem('dave')));
  });

  it("OpenSSL's signed message from a self-signed signer is not valid: reported, and nothing of it is learned", async () => {
    const store = managedStore();
    const r = await importFromMessage(vfile('openssl/sig-selfsigned.eml'), { store });
    expect(r.skipped).toEqual([{ name: 'message', reason: 'signature-untrusted' }]);
    expect(r.certificates).toEqual([]);
    expect((await store.findEncryptionCertificate('mallory@example.com')).certificate).toBeUndefined();
  });
});

const openssl = hasPeer('openssl', ['version']);
describe.skipIf(!openssl)('importFromMessage with files OpenSSL made', () => {
  const dir = tmp('smime-import-');
  const keyFile = (n: string) => join(VECTORS, id(n).key);
  const certFile = (n: string) => join(VECTORS, id(n).cert);
  /** A PKCS#12 file of `n` under `password` (OpenSSL's defaults: PBES2, AES-256-CBC, SHA-256 MAC). */
  const export12 = (n: string, password: string) => {
    const out = join(dir, `${n}-${password.length}.p12`);
    run('openssl', ['pkcs12', '-export', '-in', certFile(n), '-inkey', keyFile(n), '-out', out, '-passout', `pass:${password}`]);
    return new Uint8Array(readFileSync(out));
  };

  it('two PKCS#12 files under different passwords, each answered by the callback; a passwordless one needs none', async () => {
    const store = managedStore();
    const message = mail([
      part('bob.p12', 'application/x-pkcs12', export12('bob', 'bob secret')),
      part('dave.pfx', 'application/x-pkcs12', export12('dave', 'dave-2')),
      part('frank.p12', 'application/x-pkcs12', export12('frank-signonly', '')),
    ]);
    const passwords: Record<string, string> = { 'bob.p12': 'bob secret', 'dave.pfx': 'dave-2' };
    const r = await importFromMessage(message, { store, password: async (name) => passwords[name] });
    expect(r.skipped).toEqual([]);
    expect(r.identities.map((i) => fp(i.certificate.toString('pem')))).toEqual([fp(certPem('bob')), fp(certPem('dave')), fp(certPem('frank-signonly'))]);
  });

  it("Bob's mail signed by OpenSSL: his certificate is learned and encryptMessage to Bob works", async () => {
    const content = join(dir, 'content.txt');
    writeFileSync(content, `Content-Type: text/plain${CRLF}${CRLF}from openssl${CRLF}`);
    const signed = run('openssl', ['smime', '-sign', '-in', content, '-signer', certFile('bob'), '-inkey', keyFile('bob'), '-certfile', join(VECTORS, 'pki', 'chain.pem'), '-from', 'bob@example.com', '-to', 'alice@example.com', '-subject', 'hi']);
    const store = managedStore();
    const r = await importFromMessage(signed, { store });
    expect(r.skipped).toEqual([]);
    expect(r.certificates.map((c) => fp(c.toString('pem')))).toContain(fp(certPem('bob')));
    await encryptMessage(`Content-Type: text/plain${CRLF}${CRLF}x${CRLF}`, { store, to: ['bob@example.com'] });
  });

  // Needs Part A of issue 15 (store.addCertificate accepts certs-only SignedData).
  it('a certs-only .p7c (application/pkcs7-mime; smime-type=certs-only) and a .p7b: their certificates are added', async () => {
    const p7 = run('openssl', ['crl2pkcs7', '-nocrl', '-certfile', certFile('bob'), '-certfile', certFile('dave'), '-outform', 'DER']);
    const p7pem = run('openssl', ['crl2pkcs7', '-nocrl', '-certfile', certFile('heidi-subject-email')]);
    const store = managedStore();
    const r = await importFromMessage(
      mail([part('smime.p7c', 'application/pkcs7-mime; smime-type=certs-only', p7), part('heidi.p7b', 'application/x-pkcs7-certificates', p7pem)]),
      { store },
    );
    expect(r.skipped).toEqual([]);
    expect(r.certificates.map((c) => fp(c.toString('pem'))).sort()).toEqual([fp(certPem('bob')), fp(certPem('dave')), fp(certPem('heidi-subject-email'))].sort());

    // A whole message that is a certs-only entity (RFC 8551 §3.6).
    const entity =
      `From: bob@example.com${CRLF}To: alice@example.com${CRLF}MIME-Version: 1.0${CRLF}` +
      `Content-Type: application/pkcs7-mime; smime-type=certs-only; name="smime.p7c"${CRLF}Content-Transfer-Encoding: base64${CRLF}` +
      `Content-Disposition: attachment; filename="smime.p7c"${CRLF}${CRLF}${b64(p7)}${CRLF}`;
    const r2 = await importFromMessage(entity, { store: managedStore() });
    expect(r2.skipped).toEqual([]);
    expect(r2.certificates.map((c) => fp(c.toString('pem'))).sort()).toEqual([fp(certPem('bob')), fp(certPem('dave'))].sort());
  });
});

describe('importFromMessage: hostile messages', () => {
  const cer = part('bob.cer', 'application/pkix-cert', der('bob'));

  it('10 000 attachments: MIMELimitExceeded (maxParts) quickly, and nothing imported', async () => {
    const store = managedStore();
    const t0 = performance.now();
    const err = await importFromMessage(mail(Array.from({ length: 10_000 }, () => cer)), { store }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MIMELimitExceeded);
    expect((err as MIMELimitExceeded).limit).toBe('maxParts');
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(await store.findEncryptionCertificate('bob@example.com')).toMatchObject({ reason: expect.any(String) });
  });

  it('more certificate files than maxAttachments: MIMELimitExceeded (maxAttachments) before anything is imported', async () => {
    const store = managedStore();
    await store.addCertificate(CHAIN());
    const err = await importFromMessage(mail(Array.from({ length: 65 }, () => cer)), { store }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_MIME_LIMIT_EXCEEDED', limit: 'maxAttachments' });
    expect((await store.findEncryptionCertificate('bob@example.com')).certificate).toBeUndefined();
    // The limit is a limit like the others: raised per call.
    const r = await importFromMessage(mail(Array.from({ length: 65 }, () => cer)), { store, limits: { maxAttachments: 100 } });
    expect(r.certificates.map((c) => fp(c.toString('pem')))).toEqual([fp(certPem('bob'))]); // listed once
  });

  it('deeply nested multiparts and deeply forwarded messages: MIMELimitExceeded (maxMimeDepth)', async () => {
    let nested = cer;
    for (let i = 0; i < 100; i++) nested = `Content-Type: multipart/mixed; boundary="n${i}"${CRLF}${CRLF}--n${i}${CRLF}${nested}--n${i}--${CRLF}`;
    await expect(importFromMessage(`From: a@example.com${CRLF}MIME-Version: 1.0${CRLF}${nested}`, { store: managedStore() })).rejects.toMatchObject({
      code: 'ERR_MIME_LIMIT_EXCEEDED',
      limit: 'maxMimeDepth',
    });
    let fwd = mail([cer]);
    for (let i = 0; i < 40; i++) fwd = mail([forwarded(fwd)]);
    const store = managedStore();
    await expect(importFromMessage(fwd, { store })).rejects.toMatchObject({ code: 'ERR_MIME_LIMIT_EXCEEDED', limit: 'maxMimeDepth' });
    // Within the limit it is found.
    let ok = mail([cer]);
    for (let i = 0; i < 5; i++) ok = mail([forwarded(ok)]);
    expect((await importFromMessage(ok, { store })).certificates).toHaveLength(1);
  });

  it('a 50 MB attachment: above maxInputBytes it is refused at once; below, a 50 MB non-certificate is skipped, not a hang', async () => {
    const big = new Uint8Array(50 * 1024 * 1024).fill(0x41);
    const message = mail([part('big.cer', 'application/pkix-cert', big)]);
    const limited = managedStore({ limits: { maxInputBytes: 10 * 1024 * 1024 } });
    await expect(importFromMessage(message, { store: limited })).rejects.toMatchObject({ code: 'ERR_MIME_LIMIT_EXCEEDED', limit: 'maxInputBytes' });
    const t0 = performance.now();
    const r = await importFromMessage(message, { store: managedStore() });
    expect(r).toEqual({ identities: [], certificates: [], skipped: [{ name: 'big.cer', reason: 'not-a-certificate' }] });
    expect(performance.now() - t0).toBeLessThan(30_000);
  }, 60_000);

  it('bad arguments are TypeErrors; a message that is not MIME imports nothing', async () => {
    await expect(importFromMessage(mail([]), undefined as never)).rejects.toThrow(TypeError);
    await expect(importFromMessage(mail([]), { store: {} as never })).rejects.toThrow(TypeError);
    await expect(importFromMessage(mail([]), { store: managedStore(), password: 42 as never })).rejects.toThrow(TypeError);
    expect(await importFromMessage('just some text', { store: managedStore() })).toEqual({ identities: [], certificates: [], skipped: [] });
  });
});
