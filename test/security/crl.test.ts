/**
 * Issue 10, findings 9 (CRL part) and 10: a malformed CRL is a CMSInvalid from parseCrl (never a TypeError),
 * addCrl refuses it with CertificateInvalid at once instead of storing it, and no stored CRL can make
 * verifyMessage throw. The CRLs are built here with the DER writer and signed with the sample issuing CA of
 * vectors/pki, so the good one really revokes Alice's signing certificate.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createPrivateKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCrl } from '../../src/certs/crl.js';
import { certInfo } from '../../src/certs/cert_info.js';
import { loadCertificates } from '../../src/certs/load.js';
import { CertificateInvalid, CertificateStore, CMSInvalid, SmimeError, signMessage, verifyMessage } from '../../src/index.js';
import { algorithmIdentifier, explicit, implicitPrim, integer, NULL, octets, oid, seq, tlv } from '../../src/lib/der.js';
import { VECTORS } from '../_helpers/env.js';
import { atReference, CHAIN, REFERENCE_DATE, ROOT, certPem, storeWith } from '../_helpers/identities.js';
import { thrown } from '../_helpers/thrown.js';

const SHA256_RSA = '1.2.840.113549.1.1.11';
const DAY = 86_400_000;
/** The CRLs are dated around the reference date, the time the sample stores judge at (see storeWith). */
const NOW = REFERENCE_DATE.getTime();
const CA_KEY = createPrivateKey(readFileSync(join(VECTORS, 'pki', 'issuing-ca.key.pem'), 'utf8'));
const CA = certInfo(loadCertificates(readFileSync(join(VECTORS, 'pki', 'issuing-ca.cert.pem'), 'utf8'))[0]!);
const ALICE = certInfo(loadCertificates(certPem('alice-sign'))[0]!);
const CA_SKI = CA.ski!;

function utcTime(d: Date): Uint8Array {
  const s = d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  return tlv(0x17, new TextEncoder().encode(s));
}
const ext = (id: string, value: Uint8Array, critical = false) =>
  seq(oid(id), ...(critical ? [Uint8Array.of(0x01, 0x01, 0xff)] : []), octets(value));
const reason = (code: number) => ext('2.5.29.21', tlv(0x0a, Uint8Array.of(code)));
const entry = (serial: Uint8Array, extensions?: Uint8Array[]) =>
  seq(tlv(0x02, serial), utcTime(new Date(NOW - 5 * DAY)), ...(extensions ? [seq(...extensions)] : []));

type Fields = 'version' | 'innerAlg' | 'issuer' | 'thisUpdate' | 'nextUpdate' | 'revoked' | 'exts';

/** A CRL by the issuing CA revoking Alice (keyCompromise); `tbs` replaces or (null) drops fields. */
function crl(tbs: Partial<Record<Fields, Uint8Array | null>> = {}, outer: { alg?: Uint8Array; sig?: Uint8Array; extra?: Uint8Array[] } = {}): Uint8Array {
  const fields: Record<Fields, Uint8Array | null> = {
    version: integer(1),
    innerAlg: algorithmIdentifier(SHA256_RSA, NULL),
    issuer: CA.subject,
    thisUpdate: utcTime(new Date(NOW - DAY)),
    nextUpdate: utcTime(new Date(NOW + 30 * DAY)),
    revoked: seq(entry(ALICE.serial, [reason(1)])),
    exts: explicit(0, seq(ext('2.5.29.35', seq(implicitPrim(0, CA_SKI))))),
    ...tbs,
  };
  const order: Fields[] = ['version', 'innerAlg', 'issuer', 'thisUpdate', 'nextUpdate', 'revoked', 'exts'];
  const tbsDer = seq(...order.map((k) => fields[k]).filter((x): x is Uint8Array => x !== null));
  const sig = outer.sig ?? tlv(0x03, Uint8Array.of(0), new Uint8Array(sign('sha256', tbsDer, CA_KEY)));
  return seq(tbsDer, outer.alg ?? algorithmIdentifier(SHA256_RSA, NULL), sig, ...(outer.extra ?? []));
}

const pemOf = (der: Uint8Array) => `-----BEGIN X509 CRL-----\n${Buffer.from(der).toString('base64')}\n-----END X509 CRL-----\n`;

/** Each way a CRL can be malformed, by name. */
const MALFORMED: [string, () => Uint8Array][] = [
  ['an empty signatureAlgorithm (SEQUENCE {})', () => crl({}, { alg: seq() })],
  ['an empty tbsCertList signature AlgorithmIdentifier', () => crl({ innerAlg: seq() })],
  ['a signatureAlgorithm that is not a SEQUENCE', () => crl({}, { alg: oid(SHA256_RSA) })],
  ['a signatureAlgorithm that is a primitive with the SEQUENCE tag number', () => crl({}, { alg: tlv(0x10, oid(SHA256_RSA)) })],
  ['inner and outer signature algorithms that differ', () => crl({ innerAlg: algorithmIdentifier('1.2.840.113549.1.1.13', NULL) })],
  ['no signatureValue', () => seq(...childrenOf(crl()).slice(0, 2))],
  ['a signatureValue that is an OCTET STRING', () => crl({}, { sig: octets(new Uint8Array(256)) })],
  ['an empty signatureValue BIT STRING', () => crl({}, { sig: tlv(0x03) })],
  ['a fourth top-level element', () => crl({}, { extra: [NULL] })],
  ['a tbsCertList that is an INTEGER', () => seq(integer(5), algorithmIdentifier(SHA256_RSA, NULL), tlv(0x03, Uint8Array.of(0, 1)))],
  ['version 3 (v4)', () => crl({ version: integer(3) })],
  ['an issuer that is an INTEGER', () => crl({ issuer: integer(7) })],
  ['no issuer, no thisUpdate (tbsCertList ends after the signature)', () => crl({ issuer: null, thisUpdate: null, nextUpdate: null, revoked: null, exts: null })],
  ['a thisUpdate that is an INTEGER', () => crl({ thisUpdate: integer(20260101) })],
  ['a thisUpdate that is not a time', () => crl({ thisUpdate: tlv(0x17, new TextEncoder().encode('notatimeZ')) })],
  ['a nextUpdate that is not a time', () => crl({ nextUpdate: tlv(0x18, new TextEncoder().encode('2026')) })],
  ['a revoked entry that is empty', () => crl({ revoked: seq(seq()) })],
  ['a revoked entry that is an INTEGER', () => crl({ revoked: seq(integer(1)) })],
  ['a revoked entry without a revocation date', () => crl({ revoked: seq(seq(tlv(0x02, ALICE.serial))) })],
  ['a revoked entry whose serial is an OCTET STRING', () => crl({ revoked: seq(seq(octets(ALICE.serial), utcTime(new Date(NOW)))) })],
  ['a revoked entry whose serial is empty', () => crl({ revoked: seq(seq(tlv(0x02), utcTime(new Date(NOW)))) })],
  ['a revoked entry with a bad date', () => crl({ revoked: seq(seq(tlv(0x02, ALICE.serial), tlv(0x17, new TextEncoder().encode('99')))) })],
  ['an entry extension that is an empty SEQUENCE', () => crl({ revoked: seq(entry(ALICE.serial, [seq()])) })],
  ['an entry extension without a value', () => crl({ revoked: seq(entry(ALICE.serial, [seq(oid('2.5.29.21'))])) })],
  ['an entry extension whose id is not an OID', () => crl({ revoked: seq(entry(ALICE.serial, [seq(integer(1), octets(tlv(0x0a, Uint8Array.of(1))))])) })],
  ['an entry extension whose value is not an OCTET STRING', () => crl({ revoked: seq(entry(ALICE.serial, [seq(oid('2.5.29.21'), tlv(0x0a, Uint8Array.of(1)))])) })],
  ['entry extensions that are not a SEQUENCE', () => crl({ revoked: seq(seq(tlv(0x02, ALICE.serial), utcTime(new Date(NOW)), integer(1))) })],
  ['an empty reasonCode value', () => crl({ revoked: seq(entry(ALICE.serial, [ext('2.5.29.21', new Uint8Array(0))])) })],
  ['a reasonCode ENUMERATED of length 0', () => crl({ revoked: seq(entry(ALICE.serial, [ext('2.5.29.21', tlv(0x0a))])) })],
  ['a reasonCode that is an INTEGER', () => crl({ revoked: seq(entry(ALICE.serial, [ext('2.5.29.21', integer(1))])) })],
  ['a reasonCode of two octets', () => crl({ revoked: seq(entry(ALICE.serial, [ext('2.5.29.21', tlv(0x0a, Uint8Array.of(0, 1)))])) })],
  ['a reasonCode of 7 (unused)', () => crl({ revoked: seq(entry(ALICE.serial, [reason(7)])) })],
  ['a reasonCode of 200', () => crl({ revoked: seq(entry(ALICE.serial, [reason(200)])) })],
  ['a reasonCode with trailing bytes', () => crl({ revoked: seq(entry(ALICE.serial, [ext('2.5.29.21', Uint8Array.of(0x0a, 1, 1, 0))])) })],
  ['an empty crlExtensions [0]', () => crl({ exts: tlv(0xa0) })],
  ['crlExtensions [0] holding an INTEGER', () => crl({ exts: explicit(0, integer(1)) })],
  ['a crlExtension that is an empty SEQUENCE', () => crl({ exts: explicit(0, seq(seq())) })],
  ['an authorityKeyIdentifier with an empty value', () => crl({ exts: explicit(0, seq(ext('2.5.29.35', new Uint8Array(0)))) })],
  ['an authorityKeyIdentifier that is an OCTET STRING', () => crl({ exts: explicit(0, seq(ext('2.5.29.35', octets(CA_SKI)))) })],
  ['a critical flag that is an INTEGER', () => crl({ exts: explicit(0, seq(seq(oid('2.5.29.20'), integer(1), octets(integer(1))))) })],
  ['a field after crlExtensions', () => crl({ exts: seq(explicit(0, seq()), NULL).subarray(2) })],
];

function childrenOf(der: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let p = der[1]! & 0x80 ? 2 + (der[1]! & 0x7f) : 2;
  while (p < der.length) {
    const l0 = der[p + 1]!;
    const n = l0 & 0x80 ? l0 & 0x7f : 0;
    let len = n ? 0 : l0;
    for (let i = 0; i < n; i++) len = len * 256 + der[p + 2 + i]!;
    const end = p + 2 + n + len;
    out.push(der.subarray(p, end));
    p = end;
  }
  return out;
}


describe('parseCrl: a malformed CRL is a CMSInvalid, never a TypeError', () => {
  it('the well-formed CRL parses: Alice revoked for keyCompromise, the AKI read', () => {
    const c = parseCrl(crl());
    expect([...c.revoked.values()].map((e) => e.reason)).toEqual([1]);
    expect(Buffer.from(c.aki!).equals(Buffer.from(CA_SKI))).toBe(true);
    expect(c.nextUpdate).toBeInstanceOf(Date);
  });

  it('a v1 CRL (no version, no extensions, no entries) parses', () => {
    const c = parseCrl(crl({ version: null, revoked: null, exts: null, nextUpdate: null }));
    expect(c.revoked.size).toBe(0);
  });

  it.each(MALFORMED)('%s', (_name, make) => {
    const e = thrown(() => parseCrl(make()));
    expect(e).toBeInstanceOf(CMSInvalid);
  });

  it('every truncation and every single-byte change of a good CRL is parsed or a SmimeError', () => {
    const good = crl();
    let errors = 0;
    for (let n = 0; n < good.length; n++) {
      const e = thrown(() => parseCrl(good.subarray(0, n)));
      expect(e).toBeInstanceOf(SmimeError);
      errors++;
    }
    for (let i = 0; i < good.length; i++) {
      for (const x of [0xff, 0x01, 0x80]) {
        const m = good.slice();
        m[i] ^= x;
        const e = thrown(() => parseCrl(m));
        if (e !== undefined) {
          expect(e).toBeInstanceOf(SmimeError);
          errors++;
        }
      }
    }
    expect(errors).toBeGreaterThan(good.length);
  });
});

describe('addCrl parses on add; no stored CRL breaks verifyMessage', () => {
  let signed: Uint8Array;
  beforeAll(async () => {
    const alice = await storeWith(['alice-sign']);
    signed = await signMessage(
      'From: alice@example.com\r\nTo: bob@example.com\r\nSubject: crl\r\nContent-Type: text/plain\r\n\r\nhello\r\n',
      { store: alice, from: 'alice@example.com' },
    );
  });
  const verifier = () => storeWith([], ['alice-sign']);
  const status = async (store: CertificateStore, opts: Record<string, unknown> = {}) =>
    (await verifyMessage(signed, { store, harvest: false, ...opts })).signers[0]!.status;

  it('a good CRL added to the store revokes', async () => {
    const store = await verifier();
    expect(await status(store)).toBe('valid');
    expect(store.addCrl(crl())).toBe(1);
    expect(await status(store)).toBe('revoked');
  });

  it.each(MALFORMED)('addCrl refuses %s with CertificateInvalid; verification still works', async (_n, make) => {
    const store = await verifier();
    const e = thrown(() => store.addCrl(make()));
    expect(e).toBeInstanceOf(CertificateInvalid);
    expect((e as SmimeError).code).toBe('ERR_CERTIFICATE_INVALID');
    expect(store.crls).toHaveLength(0);
    expect(await status(store)).toBe('valid');
  });

  it('a PEM bundle with a good and a malformed CRL adds neither; bad base64 is a CertificateInvalid too', async () => {
    const store = await verifier();
    const e = thrown(() => store.addCrl(pemOf(crl()) + pemOf(crl({ exts: tlv(0xa0) }))));
    expect(e).toBeInstanceOf(CertificateInvalid);
    expect(store.crls).toHaveLength(0);
    const e2 = thrown(() => store.addCrl(pemOf(crl()) + '-----BEGIN X509 CRL-----\n!!!!\n-----END X509 CRL-----\n'));
    expect(e2).toBeInstanceOf(CertificateInvalid);
    expect(store.crls).toHaveLength(0);
  });

  it('verifyMessage uses the CRLs addCrl parsed, never what a subclass shows: a malformed one there breaks nothing', async () => {
    const bad = crl({ revoked: seq(entry(ALICE.serial, [seq()])) });
    /** A store that shows CRLs it never added (a subclass overriding the public getter). */
    class RawCrls extends CertificateStore {
      constructor(readonly raw: Uint8Array[]) {
        super({ now: atReference });
      }
      override get crls(): readonly Uint8Array[] {
        return this.raw;
      }
    }
    const make = async (raw: Uint8Array[]) => {
      const s = new RawCrls(raw);
      await s.addCertificate(certPem('alice-sign'));
      await s.addCertificate(CHAIN());
      s.addTrustAnchor(ROOT());
      return s;
    };
    expect(await status(await make([bad, crl()]))).toBe('valid'); // neither reached the store
    const s = await make([bad]);
    s.addCrl(crl());
    expect(await status(s)).toBe('revoked'); // the one addCrl parsed counts
  });

  it('a malformed CRL passed in options.crls is a CMSInvalid, not a TypeError', async () => {
    const store = await verifier();
    for (const make of [() => crl({}, { alg: seq() }), () => crl({ exts: tlv(0xa0) }), () => crl({ revoked: seq(entry(ALICE.serial, [seq()])) })]) {
      let err: unknown;
      await verifyMessage(signed, { store, harvest: false, crls: [make()] }).catch((e: unknown) => (err = e));
      expect(err).toBeInstanceOf(CMSInvalid);
    }
  });

  it('addCrl copies a Buffer that is a view into a larger pool: later writes to the pool change nothing', async () => {
    const store = await verifier();
    const der = crl();
    const pool = Buffer.alloc(der.length + 64, 0x30);
    pool.set(der, 17);
    const view = pool.subarray(17, 17 + der.length);
    expect(store.addCrl(view)).toBe(1);
    expect(store.addCrl(pemOf(view))).toBe(1);
    pool.fill(0);
    expect(await status(store)).toBe('revoked');
    expect(Buffer.from(store.crls[0]!).equals(Buffer.from(der))).toBe(true);
  });
});

describe('time fields out of range', () => {
  it('a month 13 or a 25th hour is malformed, not rolled over into another date', async () => {
    const { parseTime } = await import('../../src/lib/time.js');
    const { readTlv } = await import('../../src/lib/der.js');
    const t = (s: string, tag = 0x17) => {
      const b = new Uint8Array([tag, s.length, ...new TextEncoder().encode(s)]);
      return () => parseTime(b, readTlv(b, 0));
    };
    expect(t('200131235959Z')().toISOString()).toBe('2020-01-31T23:59:59.000Z');
    for (const bad of ['201301000000Z', '200132000000Z', '200230000000Z', '200101250000Z', '200101006000Z', '200101000060Z'])
      expect(t(bad), bad).toThrow(/malformed time/);
    expect(t('20211301000000Z', 0x18)).toThrow(/malformed time/);
  });
});
