/**
 * Bad input to the encryption half: each case ends in a typed SmimeError with a stable code, no output, no hang.
 */
import { describe, expect, it } from 'vitest';
import { CertificateStore, decryptMessage, encryptMessage, SmimeError } from '../../src/index.js';
import { manifest, PASSWORD, storeWith, vfile } from '../_helpers/identities.js';

const td = new TextDecoder();
const te = new TextEncoder();

async function code(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected a rejection').toBeInstanceOf(SmimeError);
  return (e as SmimeError).code;
}

/** The base64 body of an S/MIME message and the headers in front of it. */
function split(msg: Uint8Array): { head: string; body: string } {
  const s = td.decode(msg);
  const m = /\r?\n\r?\n/.exec(s)!;
  const i = m.index + m[0].length;
  return { head: s.slice(0, i), body: s.slice(i) };
}

function derOf(msg: Uint8Array): Uint8Array {
  return new Uint8Array(Buffer.from(split(msg).body, 'base64'));
}

function smimeWith(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{1,76}/g, '$&\r\n');
  return `MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}`;
}

describe('bad input', async () => {
  const store = await storeWith(['alice-enc-2025']);
  const good = vfile('openssl/enc-rsa15-aes256cbc.eml');

  it('garbage base64', async () => {
    const { head, body } = split(good);
    const bad = head + body.slice(0, 40) + '!!*&^%' + body.slice(40);
    expect(await code(decryptMessage(bad, { store }))).toBe('ERR_MIME_INVALID');
  });

  it('truncated base64 (not a whole number of quanta)', async () => {
    const { head, body } = split(good);
    const b = body.replace(/\s+/g, '');
    expect(await code(decryptMessage(head + b.slice(0, b.length - 3), { store }))).toBe('ERR_MIME_INVALID');
  });

  it('truncated BER', async () => {
    const der = derOf(good);
    for (const cut of [1, 10, 100, der.length - 40, der.length - 1]) {
      expect(await code(decryptMessage(smimeWith(der.subarray(0, cut)), { store }))).toBe('ERR_CMS_INVALID');
    }
  });

  it('deeply nested BER (indefinite lengths) is bounded', async () => {
    const depth = 100_000;
    const der = new Uint8Array(depth * 2 + depth * 2);
    for (let i = 0; i < depth; i++) {
      der[i * 2] = 0x30;
      der[i * 2 + 1] = 0x80;
    }
    const t0 = Date.now();
    const c = await code(decryptMessage(smimeWith(der), { store }));
    expect(['ERR_CMS_INVALID', 'ERR_CMS_LIMIT_EXCEEDED']).toContain(c);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('a length field larger than the input', async () => {
    const der = Uint8Array.of(0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x06, 0x00);
    expect(await code(decryptMessage(smimeWith(der), { store }))).toBe('ERR_CMS_INVALID');
  });

  it('a CMS type that is not encrypted', async () => {
    // ContentInfo { data, [0] OCTET STRING "x" }
    const der = Uint8Array.of(0x30, 0x10, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01, 0xa0, 0x03, 0x04, 0x01, 0x78);
    expect(await code(decryptMessage(smimeWith(der), { store }))).toBe('ERR_CMS_INVALID');
  });

  it('not S/MIME at all', async () => {
    expect(await code(decryptMessage('Subject: hi\r\nContent-Type: text/plain\r\n\r\nhello\r\n', { store }))).toBe('ERR_MIME_INVALID');
    expect(await code(decryptMessage(new Uint8Array(0), { store }))).toMatch(/ERR_MIME_INVALID|ERR_CMS_INVALID/);
  });

  it('an unknown content-encryption algorithm names its OID', async () => {
    const der = derOf(good);
    // Rewrite the AES-256-CBC OID (2.16.840.1.101.3.4.1.42) to an unassigned arc (.99).
    const oid = Uint8Array.of(0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a);
    const at = Buffer.from(der).indexOf(Buffer.from(oid));
    expect(at).toBeGreaterThan(0);
    const bad = der.slice();
    bad[at + oid.length - 1] = 0x63;
    const e = await decryptMessage(smimeWith(bad), { store }).catch((x: unknown) => x);
    expect((e as SmimeError).code).toBe('ERR_UNSUPPORTED_ALGORITHM');
    expect((e as Error).message).toContain('2.16.840.1.101.3.4.1.99');
  });

  it('a tampered GCM message fails like a wrong key', async () => {
    const der = derOf(vfile('openssl/enc-aes256gcm.eml'));
    const bad = der.slice();
    bad[bad.length - 30] ^= 1;
    expect(await code(decryptMessage(smimeWith(bad).replace('enveloped-data', 'authEnveloped-data'), { store }))).toBe('ERR_CMS_DECRYPTION_FAILED');
  });

  it('a wrong PKCS#12 password', async () => {
    const s = new CertificateStore();
    for (const name of ['alice-enc-2025', 'alice-enc-2021', 'alice-enc-2023']) {
      const e = await s.importPkcs12(vfile(manifest.identities[name]!.p12), PASSWORD + 'x').catch((x: unknown) => x);
      expect((e as SmimeError).code).toBe('ERR_PKCS12_BAD_PASSWORD');
      expect((e as Error).message).not.toContain(PASSWORD);
    }
    expect(s.identities.length).toBe(0);
  });

  it('no key at all, and a message for someone else', async () => {
    expect(await code(decryptMessage(good, { store: new CertificateStore() }))).toBe('ERR_CMS_DECRYPTION_FAILED');
    expect(await code(decryptMessage(vfile('openssl/enc-to-bob-only.eml'), { store }))).toBe('ERR_CMS_DECRYPTION_FAILED');
  });

  it('encryption with bad arguments throws TypeError/RangeError, not a partial result', async () => {
    await expect(encryptMessage('x', { store, to: [] })).rejects.toBeInstanceOf(TypeError);
    await expect(encryptMessage('x', { store, to: ['bob@example.com'], cipher: 'rc2' as never })).rejects.toBeInstanceOf(RangeError);
  });

  it('a garbage certificate and key are typed errors', async () => {
    const s = new CertificateStore();
    expect(await code(s.addCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'))).toBe('ERR_CERTIFICATE_INVALID');
    expect(await code(s.addCertificate(te.encode('hello')))).toBe('ERR_CERTIFICATE_INVALID');
    expect(await code(s.importPkcs12(te.encode('not a pkcs12'), 'pw'))).toMatch(/ERR_PKCS12_INVALID/);
  });
});
