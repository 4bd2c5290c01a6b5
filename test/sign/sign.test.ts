/**
 * signMessage: identity selection, output format, signed attributes (sorted, S/MIME attributes, encryption key
 * preference), certificates set, algorithms; and every variant verified by `openssl cms -verify -purpose smimesign`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signMessage, CertificateNotFound, CertificateStore } from '../../src/index.js';
import { parseSignedData } from '../../src/cms/signed.js';
import { ATTR, readSmimeAttributes, refMatches } from '../../src/cms/attributes.js';
import { CIPHERS, ENCRYPTION_CIPHERS } from '../../src/cms/content_cipher.js';
import { certInfo } from '../../src/certs/cert_info.js';
import { hasPeer, tryRun } from '../_helpers/env.js';
import { bytes, cmsOf, makePki, MESSAGE, storeFor, text, type TestPki } from './_pki.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await makePki();
});

const serialOf = (pki: TestPki, name: string) => certInfo(pki.ids[name]!.der).serialHex;

function signerSerial(message: Uint8Array): string {
  const sd = parseSignedData(cmsOf(message));
  const sid = sd.signerInfos[0]!.sid;
  if (!('serial' in sid)) throw new Error('expected issuerAndSerialNumber');
  return Buffer.from(sid.serial).toString('hex');
}

function opensslVerify(message: Uint8Array, extra: string[] = []) {
  const f = join(pki.dir, `ours-${Math.random().toString(36).slice(2)}.eml`);
  writeFileSync(f, message);
  return tryRun('openssl', ['cms', '-verify', '-purpose', 'smimesign', '-CAfile', pki.rootFile, '-in', f, ...extra]);
}

describe('signing identity selection', () => {
  it('prefers a dedicated signing cert over a newer dual-use one', async () => {
    const store = await storeFor(pki, ['alice-dual', 'alice-sign', 'alice-enc']);
    // alice-dual (notBefore now-10d) is newer than alice-sign (now-30d) but has keyEncipherment.
    expect(signerSerial(await signMessage(MESSAGE, { store, from: 'alice@example.com' }))).toBe(serialOf(pki, 'alice-sign'));
  });

  it('uses a dual-use cert when it is the only one, and matches the address case-insensitively', async () => {
    const store = await storeFor(pki, ['bob']);
    expect(signerSerial(await signMessage(MESSAGE, { store, from: 'BOB@Example.COM' }))).toBe(serialOf(pki, 'bob'));
  });

  it('never signs with an expired cert, and names the address when nothing qualifies', async () => {
    const store = await storeFor(pki, ['dave-expired']);
    const e = await signMessage(MESSAGE, { store, from: 'dave@example.com' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CertificateNotFound);
    expect((e as CertificateNotFound).code).toBe('ERR_CERTIFICATE_NOT_FOUND');
    expect((e as Error).message).toContain('dave@example.com');
    expect((e as Error).message).toContain('expired');
  });

  it('skips an expired cert when a valid one exists', async () => {
    const store = await storeFor(pki, ['alice-expired', 'alice-sign']);
    expect(signerSerial(await signMessage(MESSAGE, { store, from: 'alice@example.com' }))).toBe(serialOf(pki, 'alice-sign'));
  });

  it('refuses a TLS-only cert (EKU serverAuth) and a keyEncipherment-only cert', async () => {
    for (const [id, addr] of [
      ['erin-tls', 'erin@example.com'],
      ['erin-ku', 'erin2@example.com'],
    ] as const) {
      const store = await storeFor(pki, [id]);
      const e = await signMessage(MESSAGE, { store, from: addr }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CertificateNotFound);
      expect((e as Error).message).toContain('wrong-usage');
    }
  });

  it('accepts a cert without EKU', async () => {
    const store = await storeFor(pki, ['noeku']);
    expect(signerSerial(await signMessage(MESSAGE, { store, from: 'kim@example.com' }))).toBe(serialOf(pki, 'noeku'));
  });

  it('throws CertificateNotFound for an address with no identity, and validates options', async () => {
    const store = await storeFor(pki, ['alice-sign']);
    await expect(signMessage(MESSAGE, { store, from: 'nobody@example.com' })).rejects.toThrow(/nobody@example\.com/);
    await expect(signMessage(MESSAGE, { store, from: 'alice@example.com', digest: 'sha1' as never })).rejects.toBeInstanceOf(RangeError);
    await expect(signMessage(MESSAGE, { store: undefined as never, from: 'a@b' })).rejects.toBeInstanceOf(TypeError);
    await expect(signMessage(MESSAGE, { store: new CertificateStore(), from: 'alice@example.com' })).rejects.toBeInstanceOf(CertificateNotFound);
  });
});

describe('output format', () => {
  it('is multipart/signed with micalg, protocol and smime.p7s by default; message headers stay outside', async () => {
    const store = await storeFor(pki, ['alice-sign']);
    const out = text(await signMessage(MESSAGE, { store, from: 'alice@example.com' }));
    const [head] = out.split('\r\n\r\n');
    expect(head).toMatch(/^From: Alice <alice@example\.com>\r\nTo: bob@example\.com\r\nSubject: hello\r\nDate: /);
    expect(head).toContain('MIME-Version: 1.0');
    expect(head).toMatch(/Content-Type: multipart\/signed; protocol="application\/pkcs7-signature"; micalg=sha-256;\r\n boundary="/);
    expect(out).toContain('Content-Type: application/pkcs7-signature; name="smime.p7s"');
    expect(out).toContain('Content-Disposition: attachment; filename="smime.p7s"');
    expect(out).toContain('Content-Transfer-Encoding: base64');
    // The signed part holds the Content-* headers and the body, not the message headers.
    const boundary = /boundary="([^"]+)"/.exec(out)![1]!;
    const part1 = out.split(`--${boundary}\r\n`)[1]!;
    expect(part1.startsWith('Content-Type: text/plain; charset=utf-8\r\n\r\nHello Bob,\r\n')).toBe(true);
    expect(part1).not.toContain('Subject:');
    expect(parseSignedData(cmsOf(bytes(out))).eContent).toBeUndefined();
  });

  it('is application/pkcs7-mime; smime-type=signed-data with detached: false', async () => {
    const store = await storeFor(pki, ['alice-sign']);
    const out = text(await signMessage(MESSAGE, { store, from: 'alice@example.com', detached: false }));
    expect(out).toMatch(/^From: Alice <alice@example\.com>\r\n/);
    expect(out).toContain('Content-Type: application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"');
    const sd = parseSignedData(cmsOf(bytes(out)));
    expect(text(sd.eContent!)).toBe('Content-Type: text/plain; charset=utf-8\r\n\r\nHello Bob,\r\nthis is signed.\r\n');
  });

  it('canonicalises LF to CRLF and gives an 8-bit body a 7-bit transfer encoding before signing', async () => {
    const store = await storeFor(pki, ['alice-sign']);
    const msg = 'From: alice@example.com\nSubject: x\nContent-Type: text/plain; charset=utf-8\n\nGrüße aus Köln\n';
    const out = await signMessage(msg, { store, from: 'alice@example.com', detached: false });
    const content = text(parseSignedData(cmsOf(out)).eContent!);
    expect(content).toContain('Content-Transfer-Encoding: quoted-printable\r\n');
    expect(content).toContain('Gr=C3=BC=C3=9Fe aus K=C3=B6ln\r\n');
    expect(/[^\r]\n/.test(content)).toBe(false);
  });

  it('uses micalg sha-384 / sha-512 on request and SHA-2 digests only', async () => {
    const store = await storeFor(pki, ['alice-sign']);
    for (const [digest, micalg, oid] of [
      ['SHA-384', 'sha-384', '2.16.840.1.101.3.4.2.2'],
      ['SHA-512', 'sha-512', '2.16.840.1.101.3.4.2.3'],
    ] as const) {
      const out = await signMessage(MESSAGE, { store, from: 'alice@example.com', digest });
      expect(text(out)).toContain(`micalg=${micalg}`);
      const sd = parseSignedData(cmsOf(out));
      expect(sd.digestAlgorithms).toEqual([oid]);
      expect(sd.signerInfos[0]!.digestAlgorithm.oid).toBe(oid);
    }
  });
});

describe('signed attributes and certificates', () => {
  it('are DER-sorted and hold contentType, messageDigest, signingTime, SMIMECapabilities, both key preferences and ESS signing-certificate-v2', async () => {
    const store = await storeFor(pki, ['alice-sign', 'alice-enc']);
    const out = await signMessage(MESSAGE, { store, from: 'alice@example.com' });
    const sd = parseSignedData(cmsOf(out));
    const si = sd.signerInfos[0]!;
    const encodings = si.signedAttrs!.map((a) => Buffer.from(si.buf.subarray(a.element.start, a.element.end)));
    const sorted = [...encodings].sort(Buffer.compare);
    expect(encodings).toEqual(sorted);
    expect(si.signedAttrs!.map((a) => a.type).sort()).toEqual(
      [
        ATTR.contentType,
        ATTR.messageDigest,
        ATTR.signingTime,
        ATTR.smimeCapabilities,
        ATTR.encKeyPref,
        ATTR.msEncKeyPref,
        ATTR.signingCertificateV2,
      ].sort(),
    );
    const smime = readSmimeAttributes(si.buf, si.signedAttrs!);
    expect(smime.capabilities).toEqual(ENCRYPTION_CIPHERS.map((c) => CIPHERS[c].oid));
    const enc = certInfo(pki.ids['alice-enc']!.der);
    expect(refMatches(smime.encKeyPref!, enc)).toBe(true);
    expect(refMatches(smime.msEncKeyPref!, enc)).toBe(true);
    // RFC 8551 form: [0] IMPLICIT IssuerAndSerialNumber (tag 0xa0).
    const pref = si.signedAttrs!.find((a) => a.type === ATTR.encKeyPref)!;
    expect(si.buf[pref.values[0]!.start]).toBe(0xa0);
    // The certificates: signer, issuing CA, encryption cert (no root).
    const serials = sd.certificates.map((c) => c.serialHex).sort();
    expect(serials).toEqual([serialOf(pki, 'alice-sign'), certInfo(pki.ca.der).serialHex, serialOf(pki, 'alice-enc')].sort());
  });

  it('leave out the key preference when the signing cert is the encryption cert', async () => {
    const store = await storeFor(pki, ['bob']);
    const sd = parseSignedData(cmsOf(await signMessage(MESSAGE, { store, from: 'bob@example.com' })));
    const types = sd.signerInfos[0]!.signedAttrs!.map((a) => a.type);
    expect(types).not.toContain(ATTR.encKeyPref);
    expect(types).not.toContain(ATTR.msEncKeyPref);
    expect(types).toContain(ATTR.smimeCapabilities);
    expect(sd.certificates).toHaveLength(2);
  });

  it('name the newest encryption identity', async () => {
    const store = await storeFor(pki, ['alice-sign', 'alice-enc-old', 'alice-enc']);
    const si = parseSignedData(cmsOf(await signMessage(MESSAGE, { store, from: 'alice@example.com' }))).signerInfos[0]!;
    const smime = readSmimeAttributes(si.buf, si.signedAttrs!);
    expect(refMatches(smime.encKeyPref!, certInfo(pki.ids['alice-enc']!.der))).toBe(true);
  });
});

describe.runIf(hasPeer('openssl', ['version']))('openssl cms -verify -purpose smimesign accepts ours', () => {
  const cases: [string, string, Record<string, unknown>][] = [
    ['RSA, detached', 'alice@example.com', {}],
    ['RSA, opaque', 'alice@example.com', { detached: false }],
    ['RSA SHA-512, detached', 'alice@example.com', { digest: 'SHA-512' }],
    ['RSA-PSS, detached', 'alice@example.com', { pss: true }],
    ['ECDSA P-256, detached', 'carol@example.com', {}],
    ['ECDSA P-256, opaque', 'carol@example.com', { detached: false }],
    ['ECDSA P-384 SHA-384, detached', 'carol384@example.com', { digest: 'SHA-384' }],
    ['ECDSA P-521 SHA-512, opaque', 'carol521@example.com', { digest: 'SHA-512', detached: false }],
  ];
  for (const [name, from, opts] of cases) {
    it(name, async () => {
      const store = await storeFor(pki, ['alice-sign', 'alice-enc', 'ec256', 'ec384', 'ec521']);
      const out = await signMessage(MESSAGE, { store, from, ...opts });
      const r = opensslVerify(out);
      expect(r.stderr).toContain('Verification successful');
      expect(r.status).toBe(0);
      expect(text(r.stdout)).toContain('Hello Bob,');
    });
  }

  it('and rejects ours once tampered', async () => {
    const store = await storeFor(pki, ['alice-sign']);
    const out = text(await signMessage(MESSAGE, { store, from: 'alice@example.com' })).replace('Hello Bob', 'Hello Eve');
    expect(opensslVerify(bytes(out)).status).not.toBe(0);
  });
});
