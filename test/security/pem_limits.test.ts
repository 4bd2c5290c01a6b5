/**
 * Issue 10, finding 7 (PEM part): a PEM bundle's certificate blocks are counted before any is decoded
 * (`maxPemCertificates`), the store's inputs obey `maxInputBytes`, a file of BEGIN lines without END is read in
 * one pass (the former regular expression rescanned the rest of the text from every BEGIN), and a Node Buffer
 * that is a view into a pool is copied, not kept.
 */
import { describe, expect, it } from 'vitest';
import { CertificateStore, CMSLimitExceeded, CertificateInvalid, SmimeError } from '../../src/index.js';
import { loadCertificates } from '../../src/certs/load.js';
import { pemBlocks } from '../../src/lib/pem.js';
import { CHAIN, ROOT, certPem } from '../_helpers/identities.js';
import { thrown } from '../_helpers/thrown.js';
import { storeInternals } from '../../src/store/internal.js';

const ALICE = certPem('alice-sign');
/** A block with a certificate label whose body is not a certificate: decoding it would fail. */
const JUNK = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';


function expectLimit(e: unknown, limit: string): void {
  expect(e).toBeInstanceOf(CMSLimitExceeded);
  expect((e as CMSLimitExceeded).code).toBe('ERR_CMS_LIMIT_EXCEEDED');
  expect((e as CMSLimitExceeded).limit).toBe(limit);
}

describe('maxPemCertificates', () => {
  it('the default (10 000) refuses a bundle of 10 001 blocks before decoding any', () => {
    // Were any block decoded first, this would be a CertificateInvalid (the bodies are not certificates).
    expectLimit(thrown(() => new CertificateStore().addTrustAnchor(JUNK.repeat(10_001))), 'maxPemCertificates');
    expectLimit(thrown(() => loadCertificates(JUNK.repeat(10_001))), 'maxPemCertificates');
  });

  it('the store’s limit applies to addCertificate and addTrustAnchor; a bundle at the limit is read', async () => {
    const store = new CertificateStore({ limits: { maxPemCertificates: 3 } });
    expect(await store.addCertificate(ALICE + CHAIN())).toHaveLength(3);
    let err: unknown;
    await store.addCertificate(ALICE + CHAIN() + ROOT()).catch((e: unknown) => (err = e));
    expectLimit(err, 'maxPemCertificates');
    expectLimit(thrown(() => store.addTrustAnchor(ROOT().repeat(4))), 'maxPemCertificates');
    expect(store.addTrustAnchor(ROOT().repeat(3))).toHaveLength(3);
  });

  it('blocks with other labels do not count', async () => {
    const store = new CertificateStore({ limits: { maxPemCertificates: 1 } });
    const other = '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n'.repeat(5);
    expect(await store.addCertificate(other + ALICE + other)).toHaveLength(1);
  });
});

describe('maxInputBytes for the store’s certificate and CRL inputs', () => {
  it('refuses a PEM string, DER bytes and a CRL above the limit', async () => {
    const der = loadCertificates(ALICE)[0]!;
    const store = new CertificateStore({ limits: { maxInputBytes: der.length - 1 } });
    let err: unknown;
    await store.addCertificate(der).catch((e: unknown) => (err = e));
    expectLimit(err, 'maxInputBytes');
    expectLimit(thrown(() => store.addTrustAnchor(ALICE)), 'maxInputBytes');
    expectLimit(thrown(() => store.addTrustAnchor(der.buffer.slice(der.byteOffset, der.byteOffset + der.length) as ArrayBuffer)), 'maxInputBytes');
    expectLimit(thrown(() => store.addCrl(new Uint8Array(der.length))), 'maxInputBytes');
    // At the limit it is read.
    const ok = new CertificateStore({ limits: { maxInputBytes: der.length } });
    expect(await ok.addCertificate(der)).toHaveLength(1);
  });
});

describe('PEM scanning', () => {
  it('60 000 BEGIN lines without an END are read in one pass: no certificate found', () => {
    const text = '-----BEGIN CERTIFICATE-----\nAAAA\n'.repeat(60_000);
    const e = thrown(() => new CertificateStore().addTrustAnchor(text));
    expect(e).toBeInstanceOf(CertificateInvalid);
    expect(pemBlocks(text)).toEqual([]);
  });

  it('finds the same blocks as before: labels, RFC 1421 headers, text around and between blocks', () => {
    const der = loadCertificates(ALICE)[0]!;
    const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
    const text =
      'Bag Attributes\n    friendlyName: alice\n' +
      `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n` +
      '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n' +
      '-----BEGIN BROKEN-----\n' +
      `-----BEGIN TRUSTED CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n${b64}\n-----END TRUSTED CERTIFICATE-----\n` +
      '-----BEGIN lower-----\nAAAA\n-----END lower-----\n';
    const blocks = pemBlocks(text);
    expect(blocks.map((b) => b.label)).toEqual(['CERTIFICATE', 'X509 CRL', 'TRUSTED CERTIFICATE']);
    expect(Buffer.from(blocks[0]!.der).equals(Buffer.from(der))).toBe(true);
    expect(Buffer.from(blocks[2]!.der).equals(Buffer.from(der))).toBe(true);
    expect(loadCertificates(text)).toHaveLength(2);
  });
});

describe('certificates in a Node Buffer that is a view into a larger pooled ArrayBuffer', () => {
  for (const form of ['DER', 'PEM'] as const) {
    it(`addTrustAnchor and addCertificate (${form}) read it, write nothing into it, and keep a copy`, async () => {
      const der = loadCertificates(ALICE)[0]!;
      const file = form === 'DER' ? der : new TextEncoder().encode(ALICE);
      const pool = Buffer.alloc(file.length + 200, 0x30);
      pool.set(file, 41);
      const view = pool.subarray(41, 41 + file.length);
      const before = Buffer.from(pool);
      const store = new CertificateStore();
      const [anchor] = store.addTrustAnchor(view);
      const [cert] = await store.addCertificate(view);
      expect(Buffer.compare(pool, before)).toBe(0);
      pool.fill(0);
      for (const c of [anchor!, cert!]) expect(c.subject).toBe('C=US, O=smime-core demo, CN=Alice Example');
      expect(Buffer.from(store.trustAnchors[0]!.rawData).equals(Buffer.from(der))).toBe(true);
      expect(Buffer.from(storeInternals(store).allCertificates()[0]!.der).equals(Buffer.from(der))).toBe(true);
      expect(storeInternals(store).trustAnchors()[0]!.emails).toEqual(['alice@example.com']);
    });
  }

  it('errors stay typed for junk in a pooled Buffer', () => {
    const pool = Buffer.alloc(300, 0x30);
    const e = thrown(() => new CertificateStore().addTrustAnchor(pool.subarray(10, 200)));
    expect(e).toBeInstanceOf(SmimeError);
  });
});

describe('PEM base64', () => {
  it('bad base64 inside a certificate or CRL block is certificate input: CertificateInvalid, not MIMEInvalid', async () => {
    const { CertificateStore: Store, CertificateInvalid: Invalid } = await import('../../src/index.js');
    const store = new Store();
    const bad = (label: string) => `-----BEGIN ${label}-----\nMIIB$$$$****\n-----END ${label}-----\n`;
    await expect(store.addCertificate(bad('CERTIFICATE'))).rejects.toBeInstanceOf(Invalid);
    expect(() => store.addCrl(bad('X509 CRL'))).toThrow(Invalid);
  });
});
