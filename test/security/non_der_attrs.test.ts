/**
 * Issue 10, finding 11: signed attributes that are not DER. RFC 5652 §5.4 signs "the DER encoding of the
 * SignedAttributes"; smime-core used to verify over the bytes as sent, whatever their encoding.
 *
 * Decision, by the majority of OpenSSL 3, NSS (cmsutil) and Bouncy Castle, asked at test time on messages built
 * here (each with a valid signature over its signed attributes exactly as sent):
 * - an unsorted SET OF Attribute: OpenSSL and NSS verify over the order as sent and accept; Bouncy Castle re-sorts
 *   and rejects. Majority: accept. We keep verifying over the order as sent.
 * - a long-form length (on one Attribute, or on the SET itself) or an indefinite length: all three re-encode to DER
 *   and reject. Majority: reject. We verify over the minimal-length re-encoding, so such a signature is `invalid`
 *   with the reason `non-der-signed-attributes`.
 * - the other side of re-encoding: long-form lengths as sent over a signature of the DER form: all three accept, and
 *   so do we.
 * Each case asserts what each peer said (when installed; CI=true requires them), so a peer change shows up here.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyMessage } from '../../src/index.js';
import { ATTR, attribute, encodeTime, issuerAndSerial, signedAttributesDer } from '../../src/cms/attributes.js';
import { algorithmIdentifier, integer, octets, oid, seq, set, sortDerSet, tlv } from '../../src/lib/der.js';
import { OIDS } from '../../src/cms/oids.js';
import { signatureAlgorithmFor, signBytes } from '../../src/cms/signer.js';
import { certInfo } from '../../src/certs/cert_info.js';
import { CUSTOM_ENTITY, makePki, multipartSigned, storeFor, type TestPki } from '../sign/_pki.js';
import { bcVerifyDetachedServed, HAVE, nssDatabase, nssVerifyDetached, opensslVerifyDetached } from './_peers.js';

let pki: TestPki;
let nssDb = '';
let std: Uint8Array[] = [];
beforeAll(async () => {
  pki = await makePki();
  if (HAVE.nss) nssDb = nssDatabase(pki);
  const md = new Uint8Array(await crypto.subtle.digest('SHA-256', CUSTOM_ENTITY as Uint8Array<ArrayBuffer>));
  std = sortDerSet([
    attribute(ATTR.contentType, oid(OIDS.data)),
    attribute(ATTR.messageDigest, octets(md)),
    attribute(ATTR.signingTime, encodeTime(new Date())),
  ]);
}, 120_000);

/**
 * A detached SignedData by alice-sign whose SignerInfo carries `sent` (a SET OF Attribute, sent as [0] IMPLICIT)
 * and a signature over `signed` (by default `sent`, as sent).
 */
async function signedData(sent: Uint8Array, signed = sent): Promise<Uint8Array> {
  const id = pki.ids['alice-sign']!;
  const info = certInfo(id.der);
  const params = { signer: info, key: { pkcs8: id.pkcs8 }, hash: 'SHA-256' as const };
  const sig = await signBytes(params, signed);
  const implicit = new Uint8Array(sent);
  implicit[0] = 0xa0;
  const si = seq(integer(1), issuerAndSerial(info), algorithmIdentifier(OIDS.sha256), implicit, signatureAlgorithmFor(params), tlv(0x04, sig));
  const sd = seq(integer(1), set(algorithmIdentifier(OIDS.sha256)), seq(oid(OIDS.data)), tlv(0xa0, id.der, pki.ca.der), set(si));
  return seq(oid(OIDS.signedData), tlv(0xa0, sd));
}

/** `el` (whose length fits one octet) with its length in the long form 0x81 nn. */
function longForm(el: Uint8Array): Uint8Array {
  expect(el[1]! < 0x80).toBe(true);
  return Uint8Array.from([el[0]!, 0x81, el[1]!, ...el.subarray(2)]);
}

/** `el` with an indefinite length (constructed; the end-of-contents octets added). */
function indefinite(el: Uint8Array): Uint8Array {
  expect(el[1]! < 0x80).toBe(true);
  return Uint8Array.from([el[0]!, 0x80, ...el.subarray(2), 0, 0]);
}

async function ours(cms: Uint8Array) {
  const r = await verifyMessage(multipartSigned(CUSTOM_ENTITY, cms, 'From: alice@example.com\r\n'), {
    store: await storeFor(pki, []),
    harvest: false,
  });
  return { status: r.signers[0]!.status, reasons: r.signers[0]!.reasons };
}

/** What each installed peer says of `cms` (true: a good signature). */
async function peers(cms: Uint8Array): Promise<{ openssl?: boolean; nss?: boolean; bc?: boolean }> {
  const bc = HAVE.bc ? bcVerifyDetachedServed(pki, cms, CUSTOM_ENTITY) : undefined; // runs while the others do
  return {
    ...(HAVE.openssl ? { openssl: opensslVerifyDetached(pki, cms, CUSTOM_ENTITY).ok } : {}),
    ...(HAVE.nss ? { nss: nssVerifyDetached(pki, nssDb, cms, CUSTOM_ENTITY).ok } : {}),
    ...(bc ? { bc: (await bc).ok } : {}),
  };
}

/** `expected` restricted to the installed peers. */
function installed(expected: { openssl: boolean; nss: boolean; bc: boolean }) {
  return Object.fromEntries(Object.entries(expected).filter(([k]) => HAVE[k as keyof typeof HAVE]));
}

describe('signed attributes that are not DER, signed as sent', () => {
  it('the DER form itself: everyone says valid (the control)', async () => {
    const cms = await signedData(set(...std));
    expect(await peers(cms)).toEqual(installed({ openssl: true, nss: true, bc: true }));
    expect(await ours(cms)).toEqual({ status: 'valid', reasons: [] });
  }, 60_000);

  it('an unsorted SET: OpenSSL and NSS accept, Bouncy Castle rejects; we accept (the order as sent is signed)', async () => {
    const sent = set(...[...std].reverse());
    expect(sent).not.toEqual(set(...std));
    const cms = await signedData(sent);
    expect(await peers(cms)).toEqual(installed({ openssl: true, nss: true, bc: false }));
    expect(await ours(cms)).toEqual({ status: 'valid', reasons: [] });
  }, 60_000);

  const lengths: [string, () => Uint8Array][] = [
    ['a long-form length on one Attribute', () => set(longForm(std[0]!), ...std.slice(1))],
    ['a long-form length on the SET', () => longForm(set(...std))],
    ['an indefinite length on one Attribute', () => set(std[0]!, indefinite(std[1]!), std[2]!)],
  ];
  for (const [name, sent] of lengths) {
    it(`${name}: all three peers reject; so do we (non-der-signed-attributes)`, async () => {
      const cms = await signedData(sent());
      expect(await peers(cms)).toEqual(installed({ openssl: false, nss: false, bc: false }));
      expect(await ours(cms)).toEqual({ status: 'invalid', reasons: ['non-der-signed-attributes'] });
    }, 60_000);
  }
});

describe('signed attributes sent with long-form lengths over a signature of their DER', () => {
  it('all three peers accept (they verify over the DER); so do we', async () => {
    const der = set(...std);
    const sent = longForm(set(longForm(std[0]!), ...std.slice(1)));
    const cms = await signedData(sent, der);
    expect(await peers(cms)).toEqual(installed({ openssl: true, nss: true, bc: true }));
    expect(await ours(cms)).toEqual({ status: 'valid', reasons: [] });
  }, 60_000);
});

describe('signedAttributesDer (what the signature is checked over)', () => {
  it('returns DER input itself, and re-encodes every length minimally at every depth, tags and order kept', () => {
    const der = set(...std);
    expect(signedAttributesDer(der)).toBe(der);
    const unsorted = set(...[...std].reverse());
    expect(signedAttributesDer(unsorted)).toBe(unsorted);
    // a high-number context tag [31] (two identifier octets) with a long-form length, inside an indefinite SEQUENCE
    // with a three-octet length form, inside a long-form SET
    const inner = Uint8Array.of(0x9f, 0x1f, 0x82, 0x00, 0x02, 0xaa, 0xbb);
    const mid = Uint8Array.of(0x30, 0x80, ...inner, 0x04, 0x81, 0x01, 0xcc, 0x00, 0x00);
    const sent = Uint8Array.of(0x31, 0x82, 0x00, mid.length, ...mid);
    expect(signedAttributesDer(sent)).toEqual(Uint8Array.of(0x31, 0x0a, 0x30, 0x08, 0x9f, 0x1f, 0x02, 0xaa, 0xbb, 0x04, 0x01, 0xcc));
  });
});
