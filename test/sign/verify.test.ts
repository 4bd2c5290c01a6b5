/**
 * verifyMessage: OpenSSL signatures (detached and opaque, RSA, RSA-PSS, ECDSA, SKI signer identifier, signer cert
 * only in the store) verify as valid; every status with a message that causes it; the precedence of statuses;
 * LF-only (mbox) copies; bad input gives a typed error or status, never a crash.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CMSInvalid, MIMEInvalid, signMessage, verifyMessage, encryptMessage, type CertificateStore } from '../../src/index.js';
import { STATUS_PRECEDENCE } from '../../src/verify.js';
import { hasPeer, run } from '../_helpers/env.js';
import { bytes, cmsOf, makePki, MESSAGE, multipartSigned, opensslSign, pkcs7Mime, storeFor, text, withCrls, type TestPki } from './_pki.js';

let pki: TestPki;
let bob: CertificateStore;
const DAY = 86_400_000;
beforeAll(async () => {
  pki = await makePki();
  bob = await storeFor(pki, ['bob']);
});

/** A verifying store that learns nothing between tests. */
const verifier = () => storeFor(pki, ['bob']);

const msgFrom = (addr: string) => MESSAGE.replace('From: Alice <alice@example.com>', `From: ${addr}`);

async function one(message: Uint8Array | string, opts: Record<string, unknown> = {}) {
  const r = await verifyMessage(message, { store: await verifier(), harvest: false, ...opts });
  expect(r.signers).toHaveLength(1);
  return r.signers[0]!;
}

describe.runIf(hasPeer('openssl', ['version']))('OpenSSL signatures verify as valid', () => {
  const cases: [string, string, string, string[]][] = [
    ['RSA detached', 'alice-sign', 'alice@example.com', []],
    ['RSA opaque', 'alice-sign', 'alice@example.com', ['-nodetach']],
    ['RSA SHA-512', 'alice-sign', 'alice@example.com', ['-md', 'sha512']],
    ['RSA-PSS', 'alice-sign', 'alice@example.com', ['-keyopt', 'rsa_padding_mode:pss']],
    ['RSA, signer by subject key identifier', 'alice-sign', 'alice@example.com', ['-keyid']],
    ['ECDSA P-256 detached', 'ec256', 'carol@example.com', []],
    ['ECDSA P-256 opaque', 'ec256', 'carol@example.com', ['-nodetach']],
    ['ECDSA P-384 SHA-384', 'ec384', 'carol384@example.com', ['-md', 'sha384']],
    ['ECDSA P-521 opaque', 'ec521', 'carol521@example.com', ['-nodetach', '-md', 'sha512']],
  ];
  for (const [name, id, addr, extra] of cases) {
    it(name, async () => {
      const msg = msgFrom(addr);
      const s = await one(opensslSign(pki, id, msg, extra));
      expect(s.status).toBe('valid');
      expect(s.reasons).toEqual([]);
      expect(s.email).toBe(addr);
      expect(s.certificate!.serialNumber.toLowerCase()).toBe(pki.ids[id]!.cert.serialNumber.toLowerCase());
      expect(s.signingTime).toBeInstanceOf(Date);
    });
  }

  it('returns the signed entity byte for byte', async () => {
    const r = await verifyMessage(opensslSign(pki, 'alice-sign', MESSAGE), { store: bob });
    expect(text(r.content)).toMatch(/^From: Alice <alice@example\.com>\r\n[\s\S]*Hello Bob,\r\nthis is signed\.\r\n$/);
    expect(r.detached).toBe(true);
  });

  it('takes the signer certificate from the store when the message has none', async () => {
    const signed = opensslSign(pki, 'alice-sign', MESSAGE, ['-nocerts']);
    const store = await storeFor(pki, ['bob'], ['alice-sign']);
    expect((await verifyMessage(signed, { store })).signers[0]!.status).toBe('valid');
    const s = await one(signed);
    expect(s.status).toBe('untrusted');
    expect(s.reasons).toEqual(['signer-certificate-not-found']);
    expect(s.certificate).toBeUndefined();
  });

  it('accepts application/x-pkcs7-signature', async () => {
    const signed = text(opensslSign(pki, 'alice-sign', MESSAGE)).replaceAll('application/pkcs7-signature', 'application/x-pkcs7-signature');
    expect(signed).toContain('protocol="application/x-pkcs7-signature"');
    expect((await one(signed)).status).toBe('valid');
  });

  it('accepts application/x-pkcs7-mime and a bare DER SignedData', async () => {
    const der = cmsOf(opensslSign(pki, 'alice-sign', MESSAGE, ['-nodetach']));
    expect((await one(text(pkcs7Mime(der)).replace('application/pkcs7-mime', 'application/x-pkcs7-mime'))).status).toBe('valid');
    // No From header: no address check.
    expect((await one(der)).status).toBe('valid');
  });
});

describe('every status, each with a message that causes it', () => {
  it('valid: our own signature', async () => {
    const store = await storeFor(pki, ['alice-sign', 'alice-enc']);
    const s = await one(await signMessage(MESSAGE, { store, from: 'alice@example.com' }));
    expect(s).toMatchObject({ status: 'valid', reasons: [], email: 'alice@example.com', digestAlgorithm: 'SHA-256' });
  });

  it('invalid: the signed part was altered (digest mismatch)', async () => {
    const store = await storeFor(pki, ['alice-sign']);
    const signed = text(await signMessage(MESSAGE, { store, from: 'alice@example.com' })).replace('Hello Bob', 'Hello Eve');
    const s = await one(signed);
    expect(s.status).toBe('invalid');
    expect(s.reasons).toContain('digest-mismatch');
  });

  it('invalid: the signature bytes were altered (signature mismatch)', async () => {
    const store = await storeFor(pki, ['alice-sign']);
    const m = await signMessage(MESSAGE, { store, from: 'alice@example.com', detached: false });
    const der = cmsOf(m);
    der[der.length - 10] ^= 0x01; // inside the RSA signature, the last field
    const s = await one(pkcs7Mime(der));
    expect(s.status).toBe('invalid');
    expect(s.reasons).toEqual(['signature-mismatch']);
  });

  it('invalid: a signature over other content', async () => {
    const store = await storeFor(pki, ['alice-sign']);
    const a = await signMessage(MESSAGE, { store, from: 'alice@example.com' });
    const other = bytes('Content-Type: text/plain\r\n\r\nsomething else\r\n');
    const s = await one(multipartSigned(other, cmsOf(a)));
    expect(s.status).toBe('invalid');
    expect(s.reasons).toContain('digest-mismatch');
  });

  it.runIf(hasPeer('openssl', ['version']))('invalid: SHA-1 is a weak algorithm unless allowWeak', async () => {
    const signed = opensslSign(pki, 'alice-sign', MESSAGE, ['-md', 'sha1']);
    const s = await one(signed);
    expect(s.status).toBe('invalid');
    expect(s.reasons).toEqual(['weak-algorithm']);
    expect(s.digestAlgorithm).toBe('SHA-1');
    expect((await one(signed, { policy: { allowWeak: true } })).status).toBe('valid');
  });

  it.runIf(hasPeer('openssl', ['version']))('invalid: an unsupported algorithm (DSA) is reported, not thrown', async () => {
    const d = pki.dir;
    run('openssl', ['genpkey', '-genparam', '-algorithm', 'DSA', '-pkeyopt', 'dsa_paramgen_bits:2048', '-out', join(d, 'dsa.param')]);
    run('openssl', ['genpkey', '-paramfile', join(d, 'dsa.param'), '-out', join(d, 'dsa.key')]);
    const csr = run('openssl', ['req', '-new', '-key', join(d, 'dsa.key'), '-subj', '/CN=dsa']);
    writeFileSync(join(d, 'dsa.csr'), csr);
    writeFileSync(join(d, 'dsa.ext'), 'subjectAltName=email:dsa@example.com\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection\n');
    const cert = run('openssl', ['x509', '-req', '-in', join(d, 'dsa.csr'), '-CA', pki.ca.certFile, '-CAkey', pki.ca.keyFile, '-days', '30', '-extfile', join(d, 'dsa.ext'), '-set_serial', '777']);
    writeFileSync(join(d, 'dsa.cert.pem'), cert);
    writeFileSync(join(d, 'msg-dsa.eml'), msgFrom('dsa@example.com'));
    const signed = run('openssl', ['cms', '-sign', '-signer', join(d, 'dsa.cert.pem'), '-inkey', join(d, 'dsa.key'), '-in', join(d, 'msg-dsa.eml')]);
    const s = await one(signed);
    expect(s.status).toBe('invalid');
    expect(s.reasons.some((r) => /^unsupported-algorithm: 2\.16\.840\.1\.101\.3\.4\.3\.2|^unsupported-algorithm: 1\.2\.840\.10040\.4\./.test(r))).toBe(true);
    expect(s.email).toBe('dsa@example.com');
  });

  it.runIf(hasPeer('openssl', ['version']))('untrusted: a chain to a root that is not a trust anchor', async () => {
    const s = await one(opensslSign(pki, 'grace-untrusted', msgFrom('grace@example.com'), ['-certfile', pki.otherRoot.certFile]));
    expect(s.status).toBe('untrusted');
    expect(s.reasons).toEqual(['no-chain-to-trust-anchor']);
  });

  it.runIf(hasPeer('openssl', ['version']))('untrusted: a self-signed certificate claiming the sender address', async () => {
    const s = await one(opensslSign(pki, 'mallory-self', MESSAGE));
    expect(s.status).toBe('untrusted');
    expect(s.email).toBe('alice@example.com');
  });

  it('untrusted: a store without any trust anchor', async () => {
    const store = await storeFor(pki, ['alice-sign']);
    const signed = await signMessage(MESSAGE, { store, from: 'alice@example.com' });
    const r = await verifyMessage(signed, { store: await storeFor(pki, ['bob'], [], { trust: false }) });
    expect(r.signers[0]!.status).toBe('untrusted');
  });

  it.runIf(hasPeer('openssl', ['version']))('expired: the certificate was not valid at the signing time', async () => {
    const s = await one(opensslSign(pki, 'dave-expired', msgFrom('dave@example.com')));
    expect(s.status).toBe('expired');
    expect(s.reasons).toEqual(['certificate-expired']);
  });

  it('expired: no signingTime, and the certificate is not valid now', async () => {
    const signed = opensslSign(pki, 'dave-expired', msgFrom('dave@example.com'), ['-noattr']);
    const s = await one(signed);
    expect(s.signingTime).toBeUndefined();
    expect(s.status).toBe('expired');
    // The same message checked at a time inside the certificate's validity is valid.
    const at = new Date(pki.ids['dave-expired']!.cert.notBefore.getTime() + DAY);
    expect((await one(signed, { at })).status).toBe('valid');
  });

  it('expired: signed while the certificate was valid (the signer says), verified after it expired', async () => {
    // The signingTime is the signer's claim: whoever holds an expired key can backdate it. Verified now (the
    // default) the certificate is expired, and the reason says when it was valid; with verifyAt: 'signing-time'
    // (archival verification, for callers who trust the claim) it is valid.
    const inside = new Date(pki.ids['dave-expired']!.cert.notBefore.getTime() + DAY);
    const store = await storeFor(pki, ['dave-expired'], [], { now: () => inside });
    const signed = await signMessage(msgFrom('dave@example.com'), { store, from: 'dave@example.com' });
    const s = await one(signed);
    expect(s.signingTime!.getTime()).toBe(Math.floor(inside.getTime() / 1000) * 1000);
    expect(s.status).toBe('expired');
    expect(s.reasons).toEqual([`certificate-expired; valid at claimed signing time ${s.signingTime!.toISOString()}`]);
    const archival = await one(signed, { verifyAt: 'signing-time' });
    expect(archival.status).toBe('valid');
    expect(archival.reasons).toEqual([]);
  });

  it('revoked: by a CRL the message carries', async () => {
    const store = await storeFor(pki, ['rita-revoked']);
    const opaque = await signMessage(msgFrom('rita@example.com'), { store, from: 'rita@example.com', detached: false });
    expect((await one(opaque)).status).toBe('valid');
    const withCrl = pkcs7Mime(withCrls(cmsOf(opaque), [pki.crlDer]), 'From: rita@example.com\r\n');
    const s = await one(withCrl);
    expect(s.status).toBe('revoked');
    expect(s.reasons).toHaveLength(1);
    expect(s.reasons[0]).toMatch(/^revoked: .* \(reason 1\)$/);
  });

  it('revoked: by a CRL the caller supplies; with only a forged CRL the revocation status is unknown, not valid', async () => {
    const store = await storeFor(pki, ['rita-revoked']);
    const signed = await signMessage(msgFrom('rita@example.com'), { store, from: 'rita@example.com' });
    const pem = `-----BEGIN X509 CRL-----\n${Buffer.from(pki.crlDer).toString('base64')}\n-----END X509 CRL-----\n`;
    expect((await one(signed, { crls: [pem] })).status).toBe('revoked');
    const forged = new Uint8Array(pki.crlDer);
    forged[forged.length - 5] ^= 0xff;
    // RFC 5280 §6.3: a CRL whose signature fails says nothing; the issuer's CRL was asked for, so the status is
    // unknown (OpenSSL -crl_check: "CRL signature failure").
    const f = await one(signed, { crls: [forged] });
    expect(f.status).toBe('untrusted');
    expect(f.reasons).toContain('revocation-unknown: crl-signature-invalid');
    // Other certificates of the same CA are not affected.
    const alice = await storeFor(pki, ['alice-sign']);
    expect((await one(await signMessage(MESSAGE, { store: alice, from: 'alice@example.com' }), { crls: [pem] })).status).toBe('valid');
  });

  it.runIf(hasPeer('openssl', ['version']))('wrong-usage: a TLS-only certificate (EKU serverAuth)', async () => {
    const s = await one(opensslSign(pki, 'erin-tls', msgFrom('erin@example.com')));
    expect(s.status).toBe('wrong-usage');
    expect(s.reasons).toEqual(['wrong-usage: extendedKeyUsage']);
  });

  it.runIf(hasPeer('openssl', ['version']))('wrong-usage: keyUsage without digitalSignature and nonRepudiation', async () => {
    const s = await one(opensslSign(pki, 'erin-ku', msgFrom('erin2@example.com')));
    expect(s.status).toBe('wrong-usage');
    expect(s.reasons).toEqual(['wrong-usage: keyUsage']);
  });

  it('address-mismatch: the signer is not the From address', async () => {
    const store = await storeFor(pki, ['alice-sign']);
    const signed = await signMessage(msgFrom('"Alice" <ceo@example.com>'), { store, from: 'alice@example.com' });
    const s = await one(signed);
    expect(s.status).toBe('address-mismatch');
    expect(s.reasons).toEqual(['address-mismatch: ceo@example.com']);
    expect(s.email).toBe('alice@example.com');
  });

  it('reports the worst status by the issue order and lists every finding', async () => {
    expect(STATUS_PRECEDENCE).toEqual(['invalid', 'untrusted', 'expired', 'revoked', 'wrong-usage', 'address-mismatch']);
    // Tampered, under another From address: invalid wins, both are listed.
    const ours = await storeFor(pki, ['alice-sign']);
    const signed = await signMessage(msgFrom('ceo@example.com'), { store: ours, from: 'alice@example.com' });
    const tampered = text(signed).replace('Hello Bob', 'Hello Eve');
    const s = await one(tampered);
    expect(s.status).toBe('invalid');
    expect(s.reasons).toEqual(['digest-mismatch', 'address-mismatch: ceo@example.com']);
    if (hasPeer('openssl', ['version'])) {
      // OpenSSL puts From inside the signed entity: that From is checked. wrong-usage wins over address-mismatch,
      // expired over address-mismatch.
      const tls = opensslSign(pki, 'erin-tls', msgFrom('x@example.com'));
      const t = await one(tls);
      expect(t.status).toBe('wrong-usage');
      expect(t.reasons).toEqual(['wrong-usage: extendedKeyUsage', 'address-mismatch: x@example.com']);
      const late = await one(tls, { at: new Date(Date.now() + 400 * DAY) });
      expect(late.status).toBe('expired'); // verified at `at` (now), the certificate has expired
      const archival = await one(tls, { at: new Date(Date.now() + 400 * DAY), verifyAt: 'signing-time' });
      expect(archival.status).toBe('wrong-usage'); // at the claimed signingTime it had not
      const old = await one(opensslSign(pki, 'dave-expired', msgFrom('x@example.com')));
      expect(old.status).toBe('expired');
      expect(old.reasons).toEqual(['certificate-expired', 'address-mismatch: x@example.com']);
    }
  });
});

describe('line endings', () => {
  it('a signed message stored with LF line ends (mbox) still verifies', async () => {
    const store = await storeFor(pki, ['alice-sign']);
    for (const detached of [true, false]) {
      const signed = text(await signMessage(MESSAGE, { store, from: 'alice@example.com', detached }));
      const lf = signed.replaceAll('\r\n', '\n');
      expect(lf).not.toContain('\r');
      const r = await verifyMessage(`From alice@example.com Sun Nov 29 10:00:00 2026\n${lf}`, { store: await verifier() });
      expect(r.signers[0]!.status).toBe('valid');
      expect(text(r.content)).toContain('Hello Bob,\r\n');
    }
  });

  it.runIf(hasPeer('openssl', ['version']))('an OpenSSL message converted to LF verifies', async () => {
    const lf = text(opensslSign(pki, 'ec256', msgFrom('carol@example.com'))).replaceAll('\r\n', '\n');
    expect((await one(lf)).status).toBe('valid');
  });
});

describe('bad input: a typed error or status, never a crash', () => {
  let good: string;
  beforeAll(async () => {
    const store = await storeFor(pki, ['alice-sign']);
    good = text(await signMessage(MESSAGE, { store, from: 'alice@example.com' }));
  });

  it('a broken boundary', async () => {
    const b = /boundary="([^"]+)"/.exec(good)![1]!;
    await expect(verifyMessage(good.replace(`boundary="${b}"`, 'boundary="nope"'), { store: bob })).rejects.toBeInstanceOf(MIMEInvalid);
    await expect(verifyMessage(good.replace(`--${b}--`, `--${b}`), { store: bob })).rejects.toBeInstanceOf(MIMEInvalid);
  });

  it('a missing signature part', async () => {
    const b = /boundary="([^"]+)"/.exec(good)![1]!;
    const cut = good.slice(0, good.lastIndexOf(`\r\n--${b}\r\nContent-Type: application/pkcs7-signature`)) + `\r\n--${b}--\r\n`;
    const e = await verifyMessage(cut, { store: bob }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MIMEInvalid);
    expect((e as MIMEInvalid).code).toBe('ERR_MIME_INVALID');
  });

  it('a garbage p7s', async () => {
    const entity = bytes('Content-Type: text/plain\r\n\r\nhi\r\n');
    for (const garbage of [bytes('not a signature at all'), new Uint8Array([0x30, 0x82, 0x01]), new Uint8Array([0x30, 0x03, 0x06, 0x01, 0x00])]) {
      const e = await verifyMessage(multipartSigned(entity, garbage), { store: bob }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CMSInvalid);
    }
    const e = await verifyMessage(text(multipartSigned(entity, bytes('x'))).replace(/Content-Transfer-Encoding: base64\r\n\r\n[^\r]*/, 'Content-Transfer-Encoding: base64\r\n\r\n!!!!'), { store: bob }).catch((x: unknown) => x);
    expect((e as { code?: string }).code).toMatch(/^ERR_(MIME|CMS)_INVALID$/);
  });

  it('not a signed message at all', async () => {
    await expect(verifyMessage(MESSAGE, { store: bob })).rejects.toBeInstanceOf(MIMEInvalid);
    const enc = await encryptMessage(MESSAGE, { store: bob, to: ['bob@example.com'] });
    await expect(verifyMessage(enc, { store: bob })).rejects.toBeInstanceOf(CMSInvalid);
    await expect(verifyMessage(MESSAGE, { store: undefined as never })).rejects.toBeInstanceOf(TypeError);
  });

  it('a truncated opaque message', async () => {
    const store = await storeFor(pki, ['alice-sign']);
    const der = cmsOf(await signMessage(MESSAGE, { store, from: 'alice@example.com', detached: false }));
    await expect(verifyMessage(pkcs7Mime(der.subarray(0, der.length - 40)), { store: bob })).rejects.toBeInstanceOf(CMSInvalid);
  });
});

describe('revoked versus the other statuses', () => {
  it('revoked and address-mismatch: revoked; revoked and tampered: invalid', async () => {
    const store = await storeFor(pki, ['rita-revoked']);
    const opaque = await signMessage(msgFrom('someone@example.com'), { store, from: 'rita@example.com', detached: false });
    const der = withCrls(cmsOf(opaque), [pki.crlDer]);
    const s = await one(pkcs7Mime(der, 'From: someone@example.com\r\n'));
    expect(s.status).toBe('revoked');
    expect(s.reasons[1]).toBe('address-mismatch: someone@example.com');
    const detached = await signMessage(msgFrom('rita@example.com'), { store, from: 'rita@example.com' });
    const sig = withCrls(cmsOf(detached), [pki.crlDer]);
    const t = await one(multipartSigned(bytes('Content-Type: text/plain\r\n\r\naltered\r\n'), sig, 'From: rita@example.com\r\n'));
    expect(t.status).toBe('invalid');
    expect(t.reasons[0]).toBe('digest-mismatch');
    expect(t.reasons[1]).toMatch(/^revoked: /);
  });
});

describe('malformed signed attributes make the signer invalid, not the message unreadable', () => {
  it('a missing messageDigest, a duplicated signingTime, a contentType that is no OID', async () => {
    const { ATTR, attribute, encodeTime } = await import('../../src/cms/attributes.js');
    const { customSignedMessage } = await import('./_pki.js');
    const noDigest = await customSignedMessage(pki, 'alice-sign', (std) => std.filter((_, i) => i !== 1));
    expect(await one(noDigest)).toMatchObject({ status: 'invalid', reasons: ['missing-attribute: messageDigest'] });
    const twoTimes = await customSignedMessage(pki, 'alice-sign', (std) => [...std, attribute(ATTR.signingTime, encodeTime(new Date(0)))]);
    expect((await one(twoTimes)).reasons).toContain('malformed-attribute: signingTime');
    const badType = await customSignedMessage(pki, 'alice-sign', (std) => [attribute(ATTR.contentType, new Uint8Array([0x86, 0x01, 0x00])), ...std.slice(1)]);
    const s = await one(badType);
    expect(s.status).toBe('invalid');
    expect(s.reasons[0]).toMatch(/^malformed-signer-info: |^content-type-mismatch$/);
    const good = await customSignedMessage(pki, 'alice-sign', (std) => std);
    expect((await one(good)).status).toBe('valid');
  });
});
