/**
 * Issue 10, finding 12: the ESS signing-certificate attributes (RFC 2634 v1, RFC 5035 v2).
 * - What we write: one SigningCertificateV2 with one ESSCertIDv2 (SHA-256 of the signer certificate, hashAlgorithm
 *   left out as the DEFAULT, issuerSerial with the issuer as a directoryName), in DER order; OpenSSL 3 verifies it
 *   with `-cades` (only then does `cms -verify` check ESS, and then it requires the attribute), NSS and Bouncy Castle
 *   verify it.
 * - What we check: the FIRST ESSCertID of v1 or v2 must name the certificate verified with (hash of its DER with the
 *   stated hash; issuerSerial, when present, equal), else `signing-certificate-mismatch`; malformed is
 *   `malformed-attribute: signingCertificate`. The mismatching messages are signed with our code after the attribute
 *   is changed, so the signature itself holds. v1 comes from OpenSSL (`-cades -md sha1`) and is built here too.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { signMessage, verifyMessage, type VerifyOptions } from '../../src/index.js';
import { ATTR, attribute } from '../../src/cms/attributes.js';
import { algorithmIdentifier, integer, octets, oid, seq, sortDerSet, tlv } from '../../src/lib/der.js';
import { OIDS } from '../../src/cms/oids.js';
import { parseSignedData } from '../../src/cms/signed.js';
import { certInfo } from '../../src/certs/cert_info.js';
import { run } from '../_helpers/env.js';
import {
  cmsOf,
  CUSTOM_ENTITY,
  customSignedMessage,
  makePki,
  MESSAGE,
  multipartSigned,
  opensslSign,
  storeFor,
  text,
  type TestPki,
} from '../sign/_pki.js';
import { bcVerifyDetached, compileBc, HAVE, nssDatabase, nssVerifyDetached, opensslVerifyDetached } from './_peers.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await makePki();
}, 120_000);

const h = (alg: string, b: Uint8Array) => new Uint8Array(createHash(alg).update(b).digest());
const der = (name: string) => pki.ids[name]!.der;
/** IssuerSerial ::= SEQUENCE { issuer GeneralNames (one directoryName [4]), serialNumber } */
const issuerSerialOf = (name: string, serial?: Uint8Array) => {
  const i = certInfo(der(name));
  return seq(seq(tlv(0xa4, i.issuer)), integer(serial ?? i.serial));
};
/** ESSCertIDv2 with the hashAlgorithm left out (SHA-256) or stated. */
const idV2 = (name: string, o: { hash?: 'sha256' | 'sha384'; stateHash?: boolean; issuerSerial?: Uint8Array | null } = {}) =>
  seq(
    ...(o.stateHash ? [algorithmIdentifier(o.hash === 'sha384' ? OIDS.sha384 : OIDS.sha256)] : []),
    octets(h(o.hash ?? 'sha256', der(name))),
    ...(o.issuerSerial === null ? [] : [o.issuerSerial ?? issuerSerialOf(name)]),
  );
const v2 = (...ids: Uint8Array[]) => attribute(ATTR.signingCertificateV2, seq(seq(...ids)));
/** ESSCertID (v1): SHA-1 of the certificate and its issuerSerial. */
const v1 = (name: string) => attribute(ATTR.signingCertificate, seq(seq(seq(octets(h('sha1', der(name))), issuerSerialOf(name)))));

async function verdict(message: Uint8Array, opts: Partial<VerifyOptions> = {}) {
  const r = await verifyMessage(message, { store: await storeFor(pki, []), harvest: false, ...opts });
  expect(r.signers).toHaveLength(1);
  return { status: r.signers[0]!.status, reasons: r.signers[0]!.reasons };
}

/** alice-sign signs CUSTOM_ENTITY with the standard attributes plus `extra`. */
const aliceWith = (...extra: Uint8Array[]) => customSignedMessage(pki, 'alice-sign', (std) => [...std, ...extra]);

function signedAttrsOf(cms: Uint8Array) {
  const si = parseSignedData(cms).signerInfos[0]!;
  return { si, attrs: si.signedAttrs! };
}

describe('signing writes ESS signing-certificate-v2', () => {
  for (const signer of ['alice-sign', 'ec256'] as const) {
    it(`${signer}: one SigningCertificateV2 naming the signer certificate, in DER order`, async () => {
      const id = pki.ids[signer]!;
      const store = await storeFor(pki, [signer]);
      const out = await signMessage(MESSAGE.replace('alice@example.com', id.email), { store, from: id.email });
      const { si, attrs } = signedAttrsOf(cmsOf(out));
      const ess = attrs.filter((a) => a.type === ATTR.signingCertificateV2);
      expect(ess).toHaveLength(1);
      expect(attrs.some((a) => a.type === ATTR.signingCertificate)).toBe(false);
      // exactly: SEQUENCE { SEQUENCE OF { ESSCertIDv2 { certHash SHA-256, issuerSerial } } }, no hashAlgorithm
      expect(si.buf.subarray(ess[0]!.element.start, ess[0]!.element.end)).toEqual(v2(idV2(signer)));
      const encodings = attrs.map((a) => si.buf.slice(a.element.start, a.element.end));
      expect(encodings).toEqual(sortDerSet(encodings));
      expect(await verdict(out)).toEqual({ status: 'valid', reasons: [] });
    });
  }

  it.runIf(HAVE.openssl)('OpenSSL 3 `cms -verify -cades` (which checks ESS) verifies it, and prints it as id-smime-aa-signingCertificateV2', async () => {
    const store = await storeFor(pki, ['alice-sign']);
    const out = await signMessage(MESSAGE, { store, from: 'alice@example.com' });
    const cms = cmsOf(out);
    const content = (await verifyMessage(out, { store, harvest: false })).content;
    const v = opensslVerifyDetached(pki, cms, content, ['-cades']);
    expect(v.output).toContain('CAdES Verification successful');
    expect(v.ok).toBe(true);
    const printed = text(run('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER'], cms));
    expect(printed).toContain('id-smime-aa-signingCertificateV2 (1.2.840.113549.1.9.16.2.47)');
  });

  it.runIf(HAVE.nss)('NSS cmsutil -D: GoodSignature', async () => {
    const store = await storeFor(pki, ['alice-sign']);
    const out = await signMessage(MESSAGE, { store, from: 'alice@example.com' });
    const cms = cmsOf(out);
    expect(signedAttrsOf(cms).attrs.map((a) => a.type)).toContain(ATTR.signingCertificateV2);
    const content = (await verifyMessage(out, { store, harvest: false })).content;
    const v = nssVerifyDetached(pki, nssDatabase(pki), cms, content);
    expect(v.output).toContain('signer0.status=GoodSignature');
  });

  it.runIf(HAVE.bc)('Bouncy Castle (SmimePeer verify): valid', async () => {
    const store = await storeFor(pki, ['ec256']);
    const out = await signMessage(MESSAGE, { store, from: 'carol@example.com' });
    const cms = cmsOf(out);
    expect(signedAttrsOf(cms).attrs.map((a) => a.type)).toContain(ATTR.signingCertificateV2);
    const content = (await verifyMessage(out, { store, harvest: false })).content;
    const v = bcVerifyDetached(pki, compileBc(pki), cms, content);
    expect(v.output).toContain('status=valid');
    expect(v.ok).toBe(true);
  }, 60_000);
});

describe('verifying checks the first ESSCertID against the signer certificate', () => {
  it('v2 naming another certificate (a valid signature over it) is invalid: signing-certificate-mismatch', async () => {
    const m = await aliceWith(v2(idV2('bob')));
    expect(await verdict(m)).toEqual({ status: 'invalid', reasons: ['signing-certificate-mismatch'] });
    // the same with the right certificate is valid: only the attribute differs
    expect(await verdict(await aliceWith(v2(idV2('alice-sign'))))).toEqual({ status: 'valid', reasons: [] });
    if (HAVE.openssl) {
      // OpenSSL 3 agrees when it checks ESS (-cades); without -cades it checks only the signature, which holds
      const v = opensslVerifyDetached(pki, cmsOf(m), CUSTOM_ENTITY, ['-cades']);
      expect(v.ok).toBe(false);
      expect(v.output).toContain('CAdES Verification failure');
      expect(v.output).toContain('ess cert id not found');
      expect(opensslVerifyDetached(pki, cmsOf(m), CUSTOM_ENTITY).ok).toBe(true);
    }
  });

  it('the right hash with a wrong issuerSerial is a mismatch; no issuerSerial is fine', async () => {
    const wrongSerial = issuerSerialOf('alice-sign', Uint8Array.of(0x7f, 0x01));
    expect(await verdict(await aliceWith(v2(idV2('alice-sign', { issuerSerial: wrongSerial }))))).toEqual({
      status: 'invalid',
      reasons: ['signing-certificate-mismatch'],
    });
    const otherIssuer = seq(seq(tlv(0xa4, certInfo(pki.otherRoot.der).subject)), integer(certInfo(der('alice-sign')).serial));
    expect((await verdict(await aliceWith(v2(idV2('alice-sign', { issuerSerial: otherIssuer }))))).reasons).toEqual([
      'signing-certificate-mismatch',
    ]);
    expect(await verdict(await aliceWith(v2(idV2('alice-sign', { issuerSerial: null }))))).toEqual({ status: 'valid', reasons: [] });
  });

  it('only the first ESSCertID names the signer: [other, signer] is a mismatch, [signer, CA] is valid', async () => {
    const ca = seq(octets(h('sha256', pki.ca.der)));
    expect((await verdict(await aliceWith(v2(idV2('bob'), idV2('alice-sign'))))).reasons).toEqual(['signing-certificate-mismatch']);
    expect(await verdict(await aliceWith(v2(idV2('alice-sign'), ca)))).toEqual({ status: 'valid', reasons: [] });
  });

  it('a stated hashAlgorithm (SHA-384) is used for the hash', async () => {
    expect(await verdict(await aliceWith(v2(idV2('alice-sign', { hash: 'sha384', stateHash: true }))))).toEqual({ status: 'valid', reasons: [] });
    // a SHA-384 hash read as the default SHA-256 does not match
    expect((await verdict(await aliceWith(v2(idV2('alice-sign', { hash: 'sha384' }))))).reasons).toEqual(['signing-certificate-mismatch']);
  });

  it.runIf(HAVE.openssl)('v1 from OpenSSL (-cades -md sha1) is checked: valid as sent, a mismatch under another signer', async () => {
    const cms = opensslSign(pki, 'alice-sign', CUSTOM_ENTITY, ['-cades', '-md', 'sha1', '-binary', '-outform', 'DER']);
    const { si, attrs } = signedAttrsOf(cms);
    const ess = attrs.find((a) => a.type === ATTR.signingCertificate);
    expect(ess).toBeDefined();
    expect(attrs.some((a) => a.type === ATTR.signingCertificateV2)).toBe(false);
    // SHA-1 signature: weak, so allowWeak; the ESS attribute adds nothing to the reasons
    const asSent = await verdict(multipartSigned(CUSTOM_ENTITY, cms, 'From: alice@example.com\r\n'), { policy: { allowWeak: true } });
    expect(asSent).toEqual({ status: 'valid', reasons: [] });
    // OpenSSL's v1 attribute, carried in a message bob signs: it names alice-sign, not bob
    const value = si.buf.slice(ess!.element.start, ess!.element.end);
    const byBob = await customSignedMessage(pki, 'bob', (std) => [...std, value]);
    expect(await verdict(byBob)).toEqual({ status: 'invalid', reasons: ['signing-certificate-mismatch'] });
  });

  it('v1 (SHA-1 ESSCertID) under a SHA-256 signature is valid and not weak; naming another certificate is a mismatch', async () => {
    expect(await verdict(await aliceWith(v1('alice-sign')))).toEqual({ status: 'valid', reasons: [] });
    expect(await verdict(await aliceWith(v1('bob')))).toEqual({ status: 'invalid', reasons: ['signing-certificate-mismatch'] });
    // both versions are checked
    expect((await verdict(await aliceWith(v1('alice-sign'), v2(idV2('bob'))))).reasons).toEqual(['signing-certificate-mismatch']);
  });

  it('a malformed attribute is invalid: malformed-attribute: signingCertificate', async () => {
    const bad = [
      attribute(ATTR.signingCertificateV2, integer(1)), // not a SEQUENCE
      attribute(ATTR.signingCertificateV2, seq(seq())), // no ESSCertID
      attribute(ATTR.signingCertificateV2, seq(seq(seq(oid(OIDS.sha256))))), // no certHash
      attribute(ATTR.signingCertificate, seq(seq(seq(octets(h('sha1', der('alice-sign'))), integer(5))))), // issuerSerial no SEQUENCE
      attribute(ATTR.signingCertificateV2, seq(seq(seq(octets(h('sha256', der('alice-sign'))), issuerSerialOf('alice-sign'), integer(1))))), // extra field
    ];
    for (const [i, a] of bad.entries()) {
      expect([i, await verdict(await aliceWith(a))]).toEqual([i, { status: 'invalid', reasons: ['malformed-attribute: signingCertificate'] }]);
    }
    // two values, or the attribute twice
    const twice = await aliceWith(v2(idV2('alice-sign')), v2(idV2('alice-sign', { issuerSerial: null })));
    expect(await verdict(twice)).toEqual({ status: 'invalid', reasons: ['malformed-attribute: signingCertificate'] });
  });
});
