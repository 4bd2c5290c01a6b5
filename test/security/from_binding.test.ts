/**
 * Issue 10, finding 3: the From binding. A trusted signer (Bob, standing in for Mallory: a real, trusted
 * certificate of someone else) must not pass as Alice by putting her address where a scanner finds it, by adding
 * mailboxes or From headers, by an unparsable From, or by dropping From. Valid forms (quoted display names with
 * commas, encoded words, groups, comments, obsolete routes) still bind; SmtpUTF8Mailbox and IDNA domains bind.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { encryptMessage, openMessage, signMessage, verifyMessage, type CertificateStore } from '../../src/index.js';
import { x509 } from '../../src/certs/x509.js';
import { oid, seq, tlv } from '../../src/lib/der.js';
import { makePki, MESSAGE, storeFor, type TestPki } from '../sign/_pki.js';

let pki: TestPki;
let aliceStore: CertificateStore;
let bobStore: CertificateStore;
beforeAll(async () => {
  pki = await makePki();
  aliceStore = await storeFor(pki, ['alice-sign']);
  bobStore = await storeFor(pki, ['bob']);
});

/** MESSAGE with its From line replaced by `headers` (one or more header lines, CRLF-separated). */
const withFrom = (headers: string) => MESSAGE.replace('From: Alice <alice@example.com>\r\n', headers ? `${headers}\r\n` : '');

async function verdict(message: string, signer: 'alice' | 'bob') {
  const store = signer === 'alice' ? aliceStore : bobStore;
  const signed = await signMessage(message, { store, from: `${signer}@example.com` });
  const r = await verifyMessage(signed, { store: await storeFor(pki, []), harvest: false });
  expect(r.signers).toHaveLength(1);
  return r.signers[0]!;
}

describe('attacks: a trusted signer who is not Alice does not pass as Alice', () => {
  it('an address in the display name: From: bob@example.com <alice@example.com>', async () => {
    const s = await verdict(withFrom('From: bob@example.com <alice@example.com>'), 'bob');
    expect(s.status).toBe('address-mismatch');
    expect(s.reasons).toEqual(['address-mismatch: unparsable From']);
  });

  it('a quote inside a comment hides the real mailbox from a scanner: From: (") "bob@example.com" <alice@example.com>', async () => {
    const s = await verdict(withFrom('From: (") "bob@example.com" <alice@example.com>'), 'bob');
    expect(s.status).toBe('address-mismatch');
    expect(s.reasons).toEqual(['address-mismatch: alice@example.com']);
  });

  it('a quoted local part hides the mailbox from a scanner: From: "alice"@example.com', async () => {
    const s = await verdict(withFrom('From: "alice"@example.com'), 'bob');
    expect(s.status).toBe('address-mismatch');
    expect(s.reasons).toEqual(['address-mismatch: alice@example.com']);
  });

  it('several mailboxes in one From: every one must be the signer\'s', async () => {
    const s = await verdict(withFrom('From: Alice <alice@example.com>, Bob <bob@example.com>'), 'bob');
    expect(s.status).toBe('address-mismatch');
    expect(s.reasons).toEqual(['address-mismatch: alice@example.com']);
  });

  it('many mailboxes: the reason names the first ten the certificate lacks', async () => {
    const others = Array.from({ length: 12 }, (_, i) => `u${i}@example.com`);
    const s = await verdict(withFrom(`From: ${[...others, 'bob@example.com'].join(', ')}`), 'bob');
    expect(s.status).toBe('address-mismatch');
    expect(s.reasons).toEqual([`address-mismatch: ${others.slice(0, 10).join(', ')}, and 2 more`]);
  });

  it('a group in From: every member must be the signer\'s', async () => {
    const s = await verdict(withFrom('From: Friends: alice@example.com, bob@example.com;'), 'bob');
    expect(s.status).toBe('address-mismatch');
    expect(s.reasons).toEqual(['address-mismatch: alice@example.com']);
  });

  it('two From headers', async () => {
    const s = await verdict(withFrom('From: bob@example.com\r\nFrom: Alice <alice@example.com>'), 'bob');
    expect(s.status).toBe('address-mismatch');
    expect(s.reasons).toEqual(['address-mismatch: two From headers']);
  });

  it('no From in a message header (To, Subject, Date but no From)', async () => {
    const s = await verdict(withFrom(''), 'bob');
    expect(s.status).toBe('address-mismatch');
    expect(s.reasons).toEqual(['address-mismatch: no From']);
  });

  it('a From without a mailbox (an empty group) and no Sender', async () => {
    const s = await verdict(withFrom('From: Undisclosed authors:;'), 'bob');
    expect(s.status).toBe('address-mismatch');
    expect(s.reasons).toEqual(['address-mismatch: From has no mailbox']);
  });

  it('openMessage: an encrypted message whose From holds two mailboxes, signed inside by one of them', async () => {
    const signed = await signMessage(withFrom('From: alice@example.com, bob@example.com'), { store: bobStore, from: 'bob@example.com' });
    const enc = await encryptMessage(signed, { store: bobStore, to: ['bob@example.com'] });
    const r = await openMessage(enc, { store: bobStore, harvest: false });
    expect(r.signers.map((s) => [s.status, s.reasons])).toEqual([['address-mismatch', ['address-mismatch: alice@example.com']]]);
  });
});

// The old scanner skipped comments and ignored Sender, so these two held before the parser too; they guard the
// parser against regressing to reading comments or letting a Sender stand for a single author.
describe('guards: comments and Sender', () => {
  it('an address in a comment: From: <alice@example.com> (bob@example.com)', async () => {
    const s = await verdict(withFrom('From: <alice@example.com> (bob@example.com)'), 'bob');
    expect(s.status).toBe('address-mismatch');
    expect(s.reasons).toEqual(['address-mismatch: alice@example.com']);
  });

  it('a Sender does not stand for a single From mailbox', async () => {
    const s = await verdict(withFrom('From: alice@example.com\r\nSender: bob@example.com'), 'bob');
    expect(s.status).toBe('address-mismatch');
    expect(s.reasons).toEqual(['address-mismatch: alice@example.com']);
  });
});

describe('valid forms still bind the signer', () => {
  const forms = [
    'From: "Smith, Alice" <alice@example.com>',
    'From: "bob@example.com" <alice@example.com>',
    'From: =?utf-8?q?Al=C3=AFce_Smith?= <alice@example.com>',
    'From: =?UTF-8?B?QWxpY2UsIEluYy4=?= <alice@example.com>',
    'From: Authors: Alice <alice@example.com>;',
    'From: alice@example.com (Alice (at work))',
    'From: Alice <@relay.example:alice@example.com>',
    'From: ALICE@Example.COM',
    'From: John Q. Public <alice@example.com>',
  ];
  for (const from of forms)
    it(from, async () => {
      const s = await verdict(withFrom(from), 'alice');
      expect(s.reasons).toEqual([]);
      expect(s.status).toBe('valid');
      expect(s.email).toBe('alice@example.com');
    });

  it('a Sender stands for a From of several mailboxes (RFC 5322 §3.6.2)', async () => {
    const s = await verdict(withFrom('From: alice@example.com, carol@example.com\r\nSender: Bob <bob@example.com>'), 'bob');
    expect(s).toMatchObject({ status: 'valid', reasons: [], email: 'bob@example.com' });
  });

  it('a Sender stands for a From without a mailbox (RFC 6854)', async () => {
    const s = await verdict(withFrom('From: Undisclosed authors:;\r\nSender: bob@example.com'), 'bob');
    expect(s).toMatchObject({ status: 'valid', reasons: [], email: 'bob@example.com' });
  });

  it('a bare MIME entity (no message header) has no address to check', async () => {
    const s = await verdict('Content-Type: text/plain\r\n\r\nhello\r\n', 'bob');
    expect(s).toMatchObject({ status: 'valid', reasons: [] });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Internationalised addresses: a certificate with a SmtpUTF8Mailbox, and one with an A-label domain.

const PEM = (label: string, der: Uint8Array) => `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64')}\n-----END ${label}-----\n`;

/** A store holding a CA-issued ECDSA identity whose SAN is `san` (the GeneralNames, DER), trusting the root. */
async function identityWithSan(san: Uint8Array): Promise<CertificateStore> {
  const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: Math.floor(Math.random() * 0xffffff + 0x100000).toString(16),
    subject: 'CN=intl, O=smime-core tests',
    issuer: pki.ca.cert.subject,
    notBefore: new Date(Date.now() - 86_400_000),
    notAfter: new Date(Date.now() + 30 * 86_400_000),
    publicKey: keys.publicKey,
    signingKey: pki.ca.keys.privateKey,
    signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as Algorithm,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.4']),
      new x509.Extension('2.5.29.17', false, seq(san) as Uint8Array<ArrayBuffer>),
    ],
  });
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const store = await storeFor(pki, []);
  await store.importIdentity(cert.toString('pem'), PEM('PRIVATE KEY', pkcs8));
  return store;
}

const smtpUtf8 = (address: string) => tlv(0xa0, oid('1.3.6.1.5.5.7.8.9'), tlv(0xa0, tlv(0x0c, new TextEncoder().encode(address))));
const rfc822 = (address: string) => tlv(0x81, new TextEncoder().encode(address));

async function verdictFrom(store: CertificateStore, signAs: string, from: string) {
  const signed = await signMessage(withFrom(from), { store, from: signAs });
  const r = await verifyMessage(signed, { store: await storeFor(pki, []), harvest: false });
  return r.signers[0]!;
}

describe('internationalised addresses', () => {
  it('a SAN SmtpUTF8Mailbox binds its mailbox; the domain matches as U-label or A-label', async () => {
    const store = await identityWithSan(smtpUtf8('ünal@bücher.example'));
    for (const from of ['From: Ünal <ünal@bücher.example>', 'From: ünal@XN--BCHER-KVA.example']) {
      const s = await verdictFrom(store, 'ünal@bücher.example', from);
      expect(s.emails).toEqual(['ünal@bücher.example']);
      expect([s.status, s.reasons]).toEqual(['valid', []]);
    }
  });

  it('the non-ASCII part of a local part is compared exactly (no Unicode case folding)', async () => {
    const store = await identityWithSan(smtpUtf8('ünal@bücher.example'));
    const s = await verdictFrom(store, 'ünal@bücher.example', 'From: Ünal@bücher.example');
    expect(s.status).toBe('address-mismatch');
  });

  it('an rfc822Name with an A-label domain binds the U-label From', async () => {
    const store = await identityWithSan(rfc822('info@xn--bcher-kva.example'));
    const s = await verdictFrom(store, 'info@xn--bcher-kva.example', 'From: Info <info@Bücher.example>');
    expect([s.status, s.reasons]).toEqual(['valid', []]);
  });
});
