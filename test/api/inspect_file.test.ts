/**
 * inspectFile (issue 13): what a file is without a key or a password. Certificates (PEM, bundle, DER), a PKCS#12
 * outline (pkcs12Outline), S/MIME layers with recipients (issuer/serial, key identifier, key agreement) and signers;
 * hostile input ends in an SmimeError, never a TypeError.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VECTORS } from '../_helpers/env.js';
import { atReference, PASSWORD } from '../_helpers/identities.js';
import { CertificateStore, encryptMessage, inspectFile, signMessage, SmimeError, type InspectedLayer } from '../../src/index.node.js';
import { pkcs12Outline } from '../../src/certs/pkcs12.js';

const v = (rel: string) => new Uint8Array(readFileSync(join(VECTORS, rel)));
const ISSUER = 'C=US, O=smime-core demo PKI, CN=smime-core Demo Issuing CA';

function layers(bytes: Uint8Array): InspectedLayer[] {
  const r = inspectFile(bytes);
  if (r.kind !== 'smime') throw new Error(`expected smime, got ${r.kind}`);
  return r.layers;
}

describe('inspectFile: certificates', () => {
  it('PEM and DER give the certificate and its addresses', () => {
    const pem = v('identities/bob.cert.pem');
    const r = inspectFile(pem);
    expect(r.kind).toBe('certificates');
    if (r.kind !== 'certificates') return;
    expect(r.certificates.map((c) => [c.certificate.serialNumber, c.certificate.issuer, c.emails])).toEqual([['2005', ISSUER, ['bob@example.com']]]);
    const der = new Uint8Array(r.certificates[0]!.certificate.rawData);
    const d = inspectFile(der);
    expect(d.kind === 'certificates' && d.certificates[0]!.certificate.serialNumber).toBe('2005');
  });

  it('a PEM bundle gives every certificate', () => {
    const r = inspectFile(v('pki/chain.pem'));
    expect(r.kind).toBe('certificates');
    expect(r.kind === 'certificates' && r.certificates.length).toBeGreaterThanOrEqual(1);
  });
});

describe('inspectFile: PKCS#12 without the password', () => {
  it("OpenSSL's layout: two safes, one encrypted, one shrouded key bag readable, a MAC", () => {
    expect(inspectFile(v('identities/bob.p12'))).toEqual({ kind: 'pkcs12', safes: 2, encryptedSafes: 1, bags: ['pkcs8ShroudedKeyBag'], mac: true });
  });

  it('a PFX whose authSafe is not data, or is malformed, is a Pkcs12 error', () => {
    const p12 = v('identities/bob.p12');
    expect(() => pkcs12Outline(p12.subarray(0, 200))).toThrow(SmimeError);
    const bad = Uint8Array.of(0x30, 0x08, 0x02, 0x01, 0x03, 0x30, 0x03, 0x06, 0x01, 0x00);
    expect(() => inspectFile(bad)).toThrow(SmimeError);
  });
});

describe('inspectFile: S/MIME messages', () => {
  it('enveloped: the cipher and each recipient by issuer and serial; nothing inside', () => {
    expect(layers(v('openssl/sig-then-enc.eml'))).toEqual([
      { type: 'enveloped', cipher: 'aes-256-cbc', recipients: [{ type: 'keyTransport', algorithm: 'rsaEncryption', issuer: ISSUER, serialNumber: '2005' }] },
    ]);
  });

  it('recipients by key identifier, by key agreement, with OAEP', () => {
    expect(layers(v('openssl/enc-keyid.eml'))[0]).toMatchObject({ recipients: [{ type: 'keyTransport', subjectKeyIdentifier: expect.stringMatching(/^[0-9a-f]{40}$/) }] });
    expect(layers(v('openssl/enc-ecdh-p384-gcm.eml'))).toEqual([
      { type: 'authEnveloped', cipher: 'aes-256-gcm', recipients: [{ type: 'keyAgreement', algorithm: 'stdDhSha1kdf', issuer: ISSUER, serialNumber: '200c' }] },
    ]);
    expect(layers(v('openssl/enc-oaep-sha256-gcm.eml'))[0]).toMatchObject({ recipients: [{ algorithm: 'rsaesOaep' }] });
  });

  it('signed then (inside) signed again: both layers, each signer with its certificate', async () => {
    const store = new CertificateStore({ now: atReference });
    await store.importPkcs12(v('identities/alice-sign.p12'), PASSWORD);
    const inner = await signMessage('Content-Type: text/plain\r\n\r\nhi\r\n', { store, from: 'alice@example.com', detached: false });
    const outer = await signMessage(inner, { store, from: 'alice@example.com' });
    const l = layers(outer);
    expect(l.map((x) => [x.type, x.type === 'signed' && x.detached])).toEqual([
      ['signed', true],
      ['signed', false],
    ]);
    for (const x of l) {
      if (x.type !== 'signed') continue;
      expect(x.signers).toHaveLength(1);
      expect(x.signers[0]!.emails).toEqual(['alice@example.com']);
      expect(x.signers[0]!.certificate?.subject).toMatch(/Alice/);
      expect(x.signers[0]!.signingTime).toBeInstanceOf(Date);
    }
  });

  it('an encryption layer inside a signed one is shown with its recipients', async () => {
    const store = new CertificateStore({ now: atReference });
    await store.importPkcs12(v('identities/alice-sign.p12'), PASSWORD);
    await store.addCertificate(v('identities/bob.cert.pem'));
    const enc = await encryptMessage('Content-Type: text/plain\r\n\r\nhi\r\n', { store, to: ['bob@example.com'], cipher: 'aes-128-gcm' });
    const signed = await signMessage(enc, { store, from: 'alice@example.com' });
    expect(layers(signed).map((x) => [x.type, x.type === 'signed' ? x.signers.length : x.cipher])).toEqual([
      ['signed', 1],
      ['authEnveloped', 'aes-128-gcm'],
    ]);
  });

  it('hostile input ends in an SmimeError, never a TypeError', () => {
    const inputs: Uint8Array[] = [
      new Uint8Array(0),
      Uint8Array.of(0x30),
      Uint8Array.of(0x30, 0x84, 0xff, 0xff, 0xff, 0xff),
      new TextEncoder().encode('Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\nContent-Transfer-Encoding: base64\r\n\r\nMAA=\r\n'),
      new TextEncoder().encode('Content-Type: multipart/signed; boundary=x\r\n\r\n--x\r\n\r\nhi\r\n--x--\r\n'),
      new TextEncoder().encode('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
      v('openssl/plain.txt'),
    ];
    // Random bytes that start like DER.
    for (let i = 0; i < 200; i++) {
      const b = new Uint8Array(8 + ((i * 37) % 200));
      for (let j = 0; j < b.length; j++) b[j] = (i * 131 + j * 17 + ((i * j) >> 3)) & 0xff;
      b[0] = 0x30;
      inputs.push(b);
    }
    // Truncations of real files.
    for (const f of ['identities/bob.p12', 'openssl/enc-to-bob-only.eml', 'openssl/sig-rsa-opaque.eml']) {
      const full = v(f);
      for (let n = 1; n < full.length; n += Math.max(1, Math.floor(full.length / 40))) inputs.push(full.subarray(0, n));
    }
    for (const b of inputs) {
      try {
        inspectFile(b);
      } catch (e) {
        expect(e, `${e}`).toBeInstanceOf(SmimeError);
      }
    }
  });
});
