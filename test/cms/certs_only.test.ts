/**
 * Issue 15, certs-only messages (RFC 8551 §3.6) without peers: what we write (exportCertificates DER and PEM,
 * createCertsOnlyMessage) is read back by addCertificate, verifyMessage and openMessage; BER (indefinite lengths),
 * x-pkcs7-mime and `.p7c` octet-stream are read; hostile input (over the limits, truncated, wrong content type,
 * signers or content present, a bad certificate) is a typed error and leaves the store as it was.
 */
import { describe, expect, it } from 'vitest';
import { CertificateStore, createCertsOnlyMessage, encryptMessage, exportCertificates, openMessage, signMessage, verifyMessage } from '../../src/index.js';
import { CertificateInvalid, CMSInvalid, CMSLimitExceeded, MIMEInvalid, SmimeError } from '../../src/errors.js';
import { buildCertsOnly, certificatesFromCertsOnly, readCertsOnly } from '../../src/cms/certs_only.js';
import { certsOnlyOfEntity } from '../../src/mime/certs_only.js';
import { children, integer, oid, readTlv, seq, set, sortDerSet, tlv } from '../../src/lib/der.js';
import { OIDS } from '../../src/cms/oids.js';
import { atReference, certPem, CHAIN, storeWith } from '../_helpers/identities.js';

const td = new TextDecoder();
const te = new TextEncoder();

function der(pem: string): Uint8Array[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/g)].map((m) => new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
}
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const BOB = der(certPem('bob'))[0]!;
const ALICE = der(certPem('alice-sign'))[0]!;
const CHAIN_DER = der(CHAIN());

/** BER with indefinite lengths: tag, 0x80, the parts, end-of-contents. */
const ber = (id: number, ...parts: Uint8Array[]) => new Uint8Array([id, 0x80, ...parts.flatMap((p) => [...p]), 0, 0]);

async function thrown(p: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
}

describe('writing', () => {
  it('exportCertificates der: a ContentInfo SignedData v1, no digest algorithms, id-data without content, the certificates as a sorted DER SET, no signers', () => {
    const out = exportCertificates([certPem('bob'), CHAIN(), certPem('bob')], 'der') as Uint8Array;
    const top = readTlv(out, 0);
    expect(top.end).toBe(out.length);
    const [t, c] = children(out, top);
    expect(hex(out.subarray(t!.start, t!.end))).toBe(hex(oid(OIDS.signedData)));
    const sd = children(out, children(out, c!)[0]!);
    expect(sd.map((x) => out[x.start])).toEqual([0x02, 0x31, 0x30, 0xa0, 0x31]);
    expect(sd[1]!.contentEnd - sd[1]!.contentStart).toBe(0);
    expect(hex(out.subarray(sd[2]!.start, sd[2]!.end))).toBe(hex(seq(oid(OIDS.data))));
    const certs = children(out, sd[3]!).map((x) => hex(out.subarray(x.start, x.end)));
    expect(certs).toEqual(sortDerSet([BOB, ...CHAIN_DER]).map(hex)); // duplicate dropped, DER order
    expect(sd[4]!.contentEnd - sd[4]!.contentStart).toBe(0);
    expect(readCertsOnly(out).certificates.map(hex).sort()).toEqual([BOB, ...CHAIN_DER].map(hex).sort());
  });

  it('exportCertificates pem: a PKCS7 block of 64-column lines holding the same DER', () => {
    const pem = exportCertificates([BOB], 'pem') as string;
    expect(pem).toMatch(/^-----BEGIN PKCS7-----\n([A-Za-z0-9+/=]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END PKCS7-----\n$/);
    const body = pem.replace(/-----[A-Z0-9 ]+-----/g, '').replace(/\s+/g, '');
    expect(hex(new Uint8Array(Buffer.from(body, 'base64')))).toBe(hex(exportCertificates([BOB], 'der') as Uint8Array));
    expect(certificatesFromCertsOnly(te.encode(pem)).map(hex)).toEqual([hex(BOB)]);
  });

  it('accepts X509Certificate objects and refuses an empty list, a non-certificate and a bad format', async () => {
    const store = new CertificateStore();
    const [x] = await store.addCertificate(certPem('bob'));
    expect(hex(readCertsOnly(exportCertificates([x!], 'der') as Uint8Array).certificates[0]!)).toBe(hex(BOB));
    expect(await thrown(() => exportCertificates([], 'der'))).toBeInstanceOf(CertificateInvalid);
    expect(await thrown(() => exportCertificates([seq(integer(1))], 'der'))).toBeInstanceOf(CertificateInvalid);
    expect(await thrown(() => exportCertificates([BOB], 'p7c' as 'der'))).toBeInstanceOf(TypeError);
  });

  it('createCertsOnlyMessage: the headers given, then the certs-only MIME headers, base64 in 76-column CRLF lines', () => {
    const msg = td.decode(createCertsOnlyMessage([certPem('bob'), CHAIN()], { headers: { From: 'bob@example.com', Subject: 'My certificate', 'Content-Type': 'text/plain' } }));
    const [head, body] = msg.split('\r\n\r\n') as [string, string];
    expect(head.split('\r\n')).toEqual([
      'From: bob@example.com',
      'Subject: My certificate',
      'MIME-Version: 1.0',
      'Content-Type: application/pkcs7-mime; smime-type=certs-only; name="smime.p7c"',
      'Content-Transfer-Encoding: base64',
      'Content-Disposition: attachment; filename="smime.p7c"',
    ]);
    const lines = body.split('\r\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -2).every((l) => l.length === 76)).toBe(true);
    expect(hex(new Uint8Array(Buffer.from(lines.join(''), 'base64')))).toBe(hex(buildCertsOnly([BOB, ...CHAIN_DER])));
  });

  it('createCertsOnlyMessage refuses header injection', async () => {
    expect(await thrown(() => createCertsOnlyMessage([BOB], { headers: { Subject: 'x\r\nBcc: eve@example.com' } }))).toBeInstanceOf(MIMEInvalid);
    expect(await thrown(() => createCertsOnlyMessage([BOB], { headers: { 'Bad Name': 'x' } }))).toBeInstanceOf(MIMEInvalid);
  });
});

describe('reading with addCertificate', () => {
  const forms: [string, () => Uint8Array | string][] = [
    ['DER', () => exportCertificates([BOB, ...CHAIN_DER], 'der') as Uint8Array],
    ['PEM PKCS7 (string)', () => exportCertificates([BOB, ...CHAIN_DER], 'pem') as string],
    ['PEM CMS (bytes)', () => te.encode((exportCertificates([BOB, ...CHAIN_DER], 'pem') as string).replace(/PKCS7/g, 'CMS'))],
    ['the MIME entity', () => createCertsOnlyMessage([BOB, ...CHAIN_DER], { headers: { From: 'bob@example.com' } })],
    ['the MIME entity as a string, LF line ends', () => td.decode(createCertsOnlyMessage([BOB, ...CHAIN_DER])).replace(/\r\n/g, '\n')],
    ['application/x-pkcs7-mime', () => td.decode(createCertsOnlyMessage([BOB, ...CHAIN_DER])).replace('application/pkcs7-mime', 'application/x-pkcs7-mime')],
    [
      'application/octet-stream named .p7c',
      () => td.decode(createCertsOnlyMessage([BOB, ...CHAIN_DER])).replace('application/pkcs7-mime; smime-type=certs-only; name="smime.p7c"', 'application/octet-stream; name="bob.p7c"'),
    ],
    [
      'BER with indefinite lengths (as Outlook and openssl crl2pkcs7 write)',
      () => ber(0x30, oid(OIDS.signedData), ber(0xa0, ber(0x30, integer(1), set(), ber(0x30, oid(OIDS.data)), ber(0xa0, BOB, ...CHAIN_DER), tlv(0xa1), set()))),
    ],
    [
      'an empty eContent (an OCTET STRING of no bytes, as NSS cmsutil -O writes)',
      () => seq(oid(OIDS.signedData), tlv(0xa0, seq(integer(1), set(), seq(oid(OIDS.data), tlv(0xa0, tlv(0x04))), tlv(0xa0, BOB, ...CHAIN_DER), set()))),
    ],
  ];
  for (const [name, make] of forms) {
    it(`${name}: every certificate is added and returned; Bob is then an encryption recipient`, async () => {
      const store = new CertificateStore({ now: atReference });
      store.addTrustAnchor(CHAIN_DER[1]!);
      const added = await store.addCertificate(make());
      expect(added.map((c) => hex(new Uint8Array(c.rawData))).sort()).toEqual([BOB, ...CHAIN_DER].map(hex).sort());
      expect((await store.findEncryptionCertificate('bob@example.com')).certificate?.serialNumber).toBe(added.find((c) => hex(new Uint8Array(c.rawData)) === hex(BOB))!.serialNumber);
      expect(store.trustAnchors).toHaveLength(1); // nothing in a certs-only becomes an anchor
    });
  }

  it('a PKCS7 block and CERTIFICATE blocks in one PEM text: all of them', async () => {
    const store = new CertificateStore();
    const added = await store.addCertificate((exportCertificates([BOB], 'pem') as string) + certPem('alice-sign'));
    expect(added.map((c) => hex(new Uint8Array(c.rawData))).sort()).toEqual([BOB, ALICE].map(hex).sort());
  });

  it('the MIME recogniser: certs-only types only', () => {
    expect(certsOnlyOfEntity(createCertsOnlyMessage([BOB]))).toBeInstanceOf(Uint8Array);
    expect(certsOnlyOfEntity(te.encode('Content-Type: application/pkcs7-mime; smime-type=signed-data\r\n\r\nAAAA'))).toBeUndefined();
    expect(certsOnlyOfEntity(te.encode('Content-Type: text/plain\r\n\r\nhello'))).toBeUndefined();
  });
});

describe('verifyMessage and openMessage: a result kind', () => {
  it('verifyMessage: certsOnly holds the certificates, signers and content are empty, nothing is learnt', async () => {
    const store = new CertificateStore();
    const r = await verifyMessage(createCertsOnlyMessage([BOB, ...CHAIN_DER]), { store });
    expect(r.signers).toEqual([]);
    expect(r.content.length).toBe(0);
    expect(r.detached).toBe(false);
    expect(r.certsOnly!.map((c) => hex(new Uint8Array(c.rawData))).sort()).toEqual([BOB, ...CHAIN_DER].map(hex).sort());
    expect((await store.findEncryptionCertificate('bob@example.com')).certificate).toBeUndefined();
    const d = await verifyMessage(exportCertificates([BOB], 'der') as Uint8Array, { store });
    expect(d.certsOnly).toHaveLength(1);
    const nssForm = seq(oid(OIDS.signedData), tlv(0xa0, seq(integer(1), set(), seq(oid(OIDS.data), tlv(0xa0, tlv(0x04))), tlv(0xa0, BOB), set())));
    expect((await verifyMessage(nssForm, { store })).certsOnly).toHaveLength(1);
  });

  it('a signed message has no certsOnly field', async () => {
    const alice = await storeWith(['alice-sign']);
    const signed = await signMessage('Content-Type: text/plain\r\n\r\nhi\r\n', { store: alice, from: 'alice@example.com', detached: false });
    const r = await verifyMessage(signed, { store: alice });
    expect(r.certsOnly).toBeUndefined();
    expect(r.signers.map((s) => s.status)).toEqual(['valid']);
  });

  it("openMessage: one layer of type 'certs-only'; inside an encryption layer, after it", async () => {
    const store = new CertificateStore();
    const r = await openMessage(createCertsOnlyMessage([BOB]), { store });
    expect(r.layers).toHaveLength(1);
    expect(r.layers[0]!.type).toBe('certs-only');
    expect(r.layers[0]!.type === 'certs-only' && r.layers[0]!.certificates.map((c) => hex(new Uint8Array(c.rawData)))).toEqual([hex(BOB)]);
    expect(r.signers).toEqual([]);
    expect(r.encrypted).toBe(false);
    expect(r.content.length).toBe(0);

    const bob = await storeWith(['bob']);
    const enc = await encryptMessage(createCertsOnlyMessage([ALICE], { headers: { From: 'alice@example.com', To: 'bob@example.com' } }), { store: bob, to: ['bob@example.com'] });
    const o = await openMessage(enc, { store: bob });
    expect(o.layers.map((l) => l.type)).toEqual(['enveloped', 'certs-only']);
    expect(o.encrypted).toBe(true);
    expect(o.layers[1]!.type === 'certs-only' && hex(new Uint8Array(o.layers[1]!.certificates[0]!.rawData))).toBe(hex(ALICE));
  });
});

describe('hostile input: typed errors, the store unchanged', () => {
  async function refused(input: Uint8Array | string, limits?: object): Promise<unknown> {
    const store = new CertificateStore({ now: atReference });
    const e = await thrown(store.addCertificate(input, limits ? { limits } : undefined));
    expect(e).toBeInstanceOf(SmimeError);
    expect((await store.findEncryptionCertificate('bob@example.com')).certificate).toBeUndefined();
    expect(store.crls).toHaveLength(0);
    return e;
  }

  it('10 001 certificates (default maxPemCertificates 10 000): CMSLimitExceeded before any is parsed; 10 000 go in', async () => {
    const many = (n: number) => buildCertsOnlyRaw(Array.from({ length: n }, () => BOB));
    const e = await refused(many(10_001));
    expect(e).toBeInstanceOf(CMSLimitExceeded);
    expect((e as CMSLimitExceeded).limit).toBe('maxPemCertificates');
    expect(await new CertificateStore().addCertificate(many(10_000))).toHaveLength(10_000);
    const small = await refused(many(3), { maxPemCertificates: 2 });
    expect((small as CMSLimitExceeded).limit).toBe('maxPemCertificates');
    // a message is bounded by maxCertificates (256)
    expect(await thrown(verifyMessage(many(257), { store: new CertificateStore() }))).toBeInstanceOf(CMSLimitExceeded);
  });

  it('a PKCS7 block with CERTIFICATE blocks beside it: all count against maxPemCertificates', async () => {
    const pem = (exportCertificates([BOB], 'pem') as string) + certPem('alice-sign') + certPem('dave');
    const e = await refused(pem, { maxPemCertificates: 2 });
    expect((e as CMSLimitExceeded).limit).toBe('maxPemCertificates');
    expect(await new CertificateStore({ limits: { maxPemCertificates: 3 } }).addCertificate(pem)).toHaveLength(3);
  });

  it('above maxInputBytes: CMSLimitExceeded', async () => {
    const e = await refused(exportCertificates([BOB], 'der') as Uint8Array, { maxInputBytes: 100 });
    expect((e as CMSLimitExceeded).limit).toBe('maxInputBytes');
  });

  it('truncated, at every length: a typed error, never a TypeError', async () => {
    const full = exportCertificates([BOB], 'der') as Uint8Array;
    for (let n = 1; n < full.length; n += 7) await refused(full.subarray(0, n));
    const mime = td.decode(createCertsOnlyMessage([BOB]));
    await refused(mime.slice(0, mime.length - 200));
  });

  it('wrong content type (envelopedData, data): CMSInvalid', async () => {
    const e = await refused(seq(oid(OIDS.envelopedData), tlv(0xa0, seq(integer(0)))));
    expect(e).toBeInstanceOf(CMSInvalid);
    expect((e as Error).message).toMatch(/not certs-only/);
    expect(await thrown(() => readCertsOnly(seq(oid(OIDS.data), tlv(0xa0, tlv(0x04)))))).toBeInstanceOf(CMSInvalid);
  });

  it('a signed message (signers and content): CMSInvalid saying so, none of its certificates taken', async () => {
    const alice = await storeWith(['alice-sign']);
    const signed = await signMessage('Content-Type: text/plain\r\n\r\nhi\r\n', { store: alice, from: 'alice@example.com', detached: false });
    const e = await refused(signed);
    expect(e).toBeInstanceOf(CMSInvalid);
    expect((e as Error).message).toMatch(/not certs-only: the SignedData has content \(a signed message\)/);
    expect(await refused('Content-Type: text/plain\r\n\r\nhello\r\n')).toBeInstanceOf(CertificateInvalid);
    const derOf = new Uint8Array(Buffer.from(td.decode(signed).split(/\r\n\r\n/)[1]!.replace(/\s+/g, ''), 'base64'));
    const e2 = await refused(derOf);
    expect(e2).toBeInstanceOf(CMSInvalid);
    expect((e2 as Error).message).toMatch(/has content \(a signed message\)/);
    // a signer without content (a detached signature) is not certs-only either
    const detached = await signMessage('Content-Type: text/plain\r\n\r\nhi\r\n', { store: alice, from: 'alice@example.com' });
    const sig = td.decode(detached).split(/Content-Type: application\/(?:x-)?pkcs7-signature[^]*?\r\n\r\n/)[1]!.split('\r\n--')[0]!;
    const e3 = await refused(new Uint8Array(Buffer.from(sig.replace(/\s+/g, ''), 'base64')));
    expect((e3 as Error).message).toMatch(/1 signer \(a signed message/);
  });

  it('a SET entry that is not a certificate: CertificateInvalid, nothing added', async () => {
    const e = await refused(buildCertsOnlyRaw([BOB, seq(integer(1), integer(2))]));
    expect(e).toBeInstanceOf(CertificateInvalid);
  });

  it('a bad CRL inside: CertificateInvalid, nothing added', async () => {
    const e = await refused(buildCertsOnly([BOB], [seq(integer(1))]));
    expect(e).toBeInstanceOf(CertificateInvalid);
  });
});

/** A certs-only with exactly these SET entries (duplicates kept, unsorted). */
function buildCertsOnlyRaw(certs: Uint8Array[]): Uint8Array {
  return seq(oid(OIDS.signedData), tlv(0xa0, seq(integer(1), set(), seq(oid(OIDS.data)), tlv(0xa0, ...certs), set())));
}

describe('CLI reports (the shape only)', () => {
  it("smime open: a 'certs-only' layer with each certificate; smime verify: no signer, says certs-only", async () => {
    const { cli } = await import('../_helpers/cli.js');
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const d = mkdtempSync(join(tmpdir(), 'certs-only-cli-'));
    const msg = createCertsOnlyMessage([BOB]);
    const o = await cli(['open', '--report', join(d, 'open.json')], msg);
    expect(o.code, o.err).toBe(0);
    expect(o.out.length).toBe(0);
    const rep = JSON.parse(readFileSync(join(d, 'open.json'), 'utf8'));
    expect(rep.layers).toHaveLength(1);
    expect(rep.layers[0].type).toBe('certs-only');
    expect(rep.layers[0].certificates).toHaveLength(1);
    expect(JSON.stringify(rep.layers[0].certificates[0])).toMatch(/Bob Example/);
    const v = await cli(['verify', '--report', join(d, 'verify.json')], msg);
    expect(v.code).not.toBe(0);
    expect(v.err).toMatch(/no signer \(a certs-only message with 1 certificate\(s\)\)/);
    expect(JSON.parse(readFileSync(join(d, 'verify.json'), 'utf8')).layers[0].type).toBe('certs-only');
  });
});
