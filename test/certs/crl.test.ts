/**
 * The CRL parser (src/certs/crl.ts, crl_entries.ts, distribution_points.ts): every CRL and entry extension RFC 5280
 * §6.3 reads, indirect CRL entries (certificateIssuer carried to the following entries, RFC 5280 §5.3.3), unknown
 * critical extensions listed, serials by value, and hostile inputs: a CRL of 100 000 entries, too many distribution
 * points or names, deep nesting, every truncation and byte flip of a CRL with every extension — a CMSInvalid (or
 * another SmimeError), never a TypeError, in bounded time.
 */
import { describe, expect, it } from 'vitest';
import { parseCrl, parseIssuingDistributionPoint } from '../../src/certs/crl.js';
import { serialKey } from '../../src/certs/crl_entries.js';
import { ALL_REASONS, parseDistributionPoints } from '../../src/certs/distribution_points.js';
import { checkRevocation } from '../../src/path/revocation.js';
import { namesMatch } from '../../src/certs/names.js';
import { CMSInvalid, SmimeError } from '../../src/errors.js';
import { explicit, integer, seq, tlv } from '../../src/lib/der.js';
import { thrown } from '../_helpers/thrown.js';
import {
  ALICE,
  AT,
  CA,
  certIssuerExt,
  cnName,
  cnRdn,
  DAY,
  dirName,
  dp,
  entry,
  ext,
  genTime,
  idpExt,
  makeCrl,
  reasonExt,
  withDps,
} from './_crl_builder.js';

const OTHER = cnName('Other CA');
const THIRD = cnName('Third CA');
const d = (n: number) => new Date(AT.getTime() - n * DAY);

/** A CRL with every extension: IDP (indirect), cRLNumber, AKI, freshestCRL, an unknown non-critical one; entries of three issuers. */
function fullCrl(): Uint8Array {
  return makeCrl({
    number: 7,
    exts: [
      idpExt({ fullName: [dirName(cnName('dp1'))], indirect: true, onlySomeReasons: [1, 2] }),
      ext('2.5.29.35', seq(tlv(0x80, CA.ski!))),
      ext('2.5.29.46', seq(dp({ fullName: [dirName(cnName('delta'))] }))),
      ext('1.2.3.4', integer(5)),
    ],
    entries: [
      entry(Uint8Array.of(1), d(10), [reasonExt(1), ext('2.5.29.24', genTime(d(12)))]),
      entry(Uint8Array.of(2), d(9), [certIssuerExt(OTHER)]),
      entry(Uint8Array.of(3), d(8), [reasonExt(4)]),
      entry(Uint8Array.of(2), d(7), [certIssuerExt(THIRD), reasonExt(9)]),
      entry(Uint8Array.of(0x00, 0xff), d(6)),
      entry(Uint8Array.of(0xff), d(5), [certIssuerExt(CA.subject)]),
    ],
  });
}

describe('parseCrl: every field', () => {
  it('reads version, issuer, times, cRLNumber, IDP, AKI, freshestCRL, and the entries with their issuer', () => {
    const c = parseCrl(fullCrl());
    expect(c.version).toBe(2);
    expect(namesMatch(c.issuer, CA.subject)).toBe(true);
    expect(c.thisUpdate).toEqual(new Date(AT.getTime() - DAY));
    expect(c.nextUpdate).toEqual(new Date(AT.getTime() + 30 * DAY));
    expect(c.crlNumber).toBe(7n);
    expect(c.deltaCrlIndicator).toBeUndefined();
    expect(Buffer.from(c.aki!).equals(Buffer.from(CA.ski!))).toBe(true);
    const idp = c.issuingDistributionPoint!;
    expect(idp.indirectCRL).toBe(true);
    expect(idp.onlyContainsUserCerts || idp.onlyContainsCACerts || idp.onlyContainsAttributeCerts).toBe(false);
    expect(idp.onlySomeReasons).toBe((1 << 1) | (1 << 2));
    expect(namesMatch(idp.distributionPoint!.fullName![0]!.name!, cnName('dp1'))).toBe(true);
    expect(c.freshestCrl).toHaveLength(1);
    expect(c.extensions.map((e) => [e.oid, e.critical])).toEqual([
      ['2.5.29.20', false],
      ['2.5.29.28', true],
      ['2.5.29.35', false],
      ['2.5.29.46', false],
      ['1.2.3.4', false],
    ]);
    expect(c.unknownCritical).toEqual([]);
    expect(c.unknownCriticalEntryExtension).toBe(false);

    expect(c.entries.map((e) => [e.key, e.reason])).toEqual([
      ['01', 1],
      ['02', undefined],
      ['03', 4],
      ['02', 9],
      ['00ff', undefined],
      ['ff', undefined],
    ]);
    expect(c.entries[0]!.invalidityDate).toEqual(d(12));
    // certificateIssuer applies to its entry and the following ones, until another one (RFC 5280 §5.3.3)
    const issuerOf = (i: number) => c.entries[i]!.certificateIssuer;
    expect(issuerOf(0)).toBeUndefined();
    expect(namesMatch(issuerOf(1)![0]!, OTHER)).toBe(true);
    expect(namesMatch(issuerOf(2)![0]!, OTHER)).toBe(true);
    expect(namesMatch(issuerOf(3)![0]!, THIRD)).toBe(true);
    expect(namesMatch(issuerOf(4)![0]!, THIRD)).toBe(true);
    expect(namesMatch(issuerOf(5)![0]!, CA.subject)).toBe(true);
    // `revoked` keeps the entries of the CRL issuer's own certificates (before any certificateIssuer) only
    expect([...c.revoked.keys()]).toEqual(['01']);
    expect(c.bySerial.get('02')).toHaveLength(2);
  });

  it('a delta CRL: deltaCRLIndicator, critical', () => {
    const c = parseCrl(makeCrl({ number: 9, delta: 7 }));
    expect(c.deltaCrlIndicator).toBe(7n);
    expect(c.crlNumber).toBe(9n);
    expect(c.extensions.find((e) => e.oid === '2.5.29.27')!.critical).toBe(true);
  });

  it('a v1 CRL without nextUpdate or extensions', () => {
    const c = parseCrl(makeCrl({ version: null, nextUpdate: null, number: null }));
    expect(c.version).toBe(1);
    expect(c.nextUpdate).toBeUndefined();
    expect(c.extensions).toEqual([]);
  });

  it('lists unknown critical CRL and entry extensions, ignores unknown non-critical ones', () => {
    const c = parseCrl(
      makeCrl({
        exts: [ext('1.2.3.4', integer(1), true), ext('1.2.3.5', integer(1))],
        entries: [entry(Uint8Array.of(5), d(3), [ext('1.2.3.6', integer(1), true)]), entry(Uint8Array.of(6), d(3), [ext('1.2.3.7', integer(1))])],
      }),
    );
    expect(c.unknownCritical).toEqual(['1.2.3.4']);
    expect(c.entries[0]!.unknownCritical).toEqual(['1.2.3.6']);
    expect(c.entries[1]!.unknownCritical).toEqual([]);
    expect(c.unknownCriticalEntryExtension).toBe(true);
  });

  it('IDP: nameRelativeToCRLIssuer, onlyContainsUserCerts/CACerts/AttributeCerts', () => {
    const rel = parseCrl(makeCrl({ exts: [idpExt({ relative: cnRdn('part'), onlyUser: true })] })).issuingDistributionPoint!;
    expect(rel.distributionPoint!.nameRelativeToCRLIssuer![0]).toBe(0x31);
    expect(rel.onlyContainsUserCerts).toBe(true);
    expect(parseCrl(makeCrl({ exts: [idpExt({ onlyCA: true })] })).issuingDistributionPoint!.onlyContainsCACerts).toBe(true);
    expect(parseCrl(makeCrl({ exts: [idpExt({ onlyAttr: true })] })).issuingDistributionPoint!.onlyContainsAttributeCerts).toBe(true);
  });

  it('cRLDistributionPoints: names, reasons, cRLIssuer', () => {
    const dps = parseDistributionPoints(seq(dp({ fullName: [dirName(cnName('a')), tlv(0x86, new TextEncoder().encode('http://x/crl'))], reasons: [1, 8] }), dp({ crlIssuer: [dirName(OTHER)] })));
    expect(dps).toHaveLength(2);
    expect(dps[0]!.distributionPoint!.fullName!.map((g) => g.tag)).toEqual([4, 6]);
    expect(dps[0]!.reasons).toBe((1 << 1) | (1 << 8));
    expect(dps[1]!.distributionPoint).toBeUndefined();
    expect(namesMatch(dps[1]!.cRLIssuer![0]!.name!, OTHER)).toBe(true);
    expect(ALL_REASONS).toBe(0x1fe);
  });

  it('serials compare by value: 255 (00 FF) is not -1 (FF), a redundant leading octet aside', () => {
    expect(serialKey(Uint8Array.of(0x00, 0xff))).not.toBe(serialKey(Uint8Array.of(0xff)));
    expect(serialKey(Uint8Array.of(0x00, 0x05))).toBe(serialKey(Uint8Array.of(0x05)));
    expect(serialKey(Uint8Array.of(0xff, 0x85))).toBe(serialKey(Uint8Array.of(0x85)));
    expect(serialKey(Uint8Array.of(0xff, 0x05))).toBe('ff05');
  });
});

describe('parseCrl: malformed extensions are CMSInvalid', () => {
  const bad: [string, () => Uint8Array][] = [
    ['a cRLNumber that is negative', () => makeCrl({ number: null, exts: [ext('2.5.29.20', tlv(0x02, Uint8Array.of(0x80)))] })],
    ['a cRLNumber that is an OCTET STRING', () => makeCrl({ number: null, exts: [ext('2.5.29.20', tlv(0x04, Uint8Array.of(1)))] })],
    ['a cRLNumber of 30 octets', () => makeCrl({ number: null, exts: [ext('2.5.29.20', tlv(0x02, new Uint8Array(30).fill(1)))] })],
    ['a deltaCRLIndicator with trailing bytes', () => makeCrl({ exts: [ext('2.5.29.27', Uint8Array.of(2, 1, 1, 0), true)] })],
    ['the same extension twice', () => makeCrl({ exts: [ext('2.5.29.20', integer(2))] })],
    ['an IDP that is not a SEQUENCE', () => makeCrl({ exts: [ext('2.5.29.28', integer(1), true)] })],
    ['an IDP with two onlyContains… asserted', () => makeCrl({ exts: [idpExt({ onlyUser: true, onlyCA: true })] })],
    ['an IDP with a field out of order', () => makeCrl({ exts: [ext('2.5.29.28', seq(tlv(0x84, Uint8Array.of(0xff)), tlv(0x81, Uint8Array.of(0xff))), true)] })],
    ['an IDP with an unknown field [9]', () => makeCrl({ exts: [ext('2.5.29.28', seq(tlv(0x89, Uint8Array.of(0xff))), true)] })],
    ['an IDP boolean of two octets', () => makeCrl({ exts: [ext('2.5.29.28', seq(tlv(0x81, Uint8Array.of(0xff, 0))), true)] })],
    ['an IDP with an empty fullName', () => makeCrl({ exts: [ext('2.5.29.28', seq(explicit(0, explicit(0))), true)] })],
    ['an IDP directoryName that is not a Name', () => makeCrl({ exts: [ext('2.5.29.28', seq(explicit(0, explicit(0, tlv(0xa4, integer(1))))), true)] })],
    ['an IDP onlySomeReasons with a bad unused-bits octet', () => makeCrl({ exts: [ext('2.5.29.28', seq(tlv(0x83, Uint8Array.of(9, 0x80))), true)] })],
    ['a freshestCRL that is empty', () => makeCrl({ exts: [ext('2.5.29.46', seq())] })],
    ['a certificateIssuer that is not GeneralNames', () => makeCrl({ entries: [entry(Uint8Array.of(1), d(1), [ext('2.5.29.29', integer(1), true)])] })],
    ['a certificateIssuer with an empty GeneralNames', () => makeCrl({ entries: [entry(Uint8Array.of(1), d(1), [ext('2.5.29.29', seq(), true)])] })],
    ['an invalidityDate that is a UTCTime', () => makeCrl({ entries: [entry(Uint8Array.of(1), d(1), [ext('2.5.29.24', tlv(0x17, new TextEncoder().encode('260101000000Z')))])] })],
    ['an entry with reasonCode twice', () => makeCrl({ entries: [entry(Uint8Array.of(1), d(1), [reasonExt(1), reasonExt(2)])] })],
  ];
  it.each(bad)('%s', (_n, make) => {
    expect(thrown(() => parseCrl(make()))).toBeInstanceOf(CMSInvalid);
  });

  it('distribution points: more than 64, or more than 64 names in one, or neither name nor issuer', () => {
    const many = seq(...Array.from({ length: 65 }, (_, i) => dp({ fullName: [dirName(cnName(`dp${i}`))] })));
    expect(thrown(() => parseDistributionPoints(many))).toBeInstanceOf(CMSInvalid);
    const names = seq(dp({ fullName: Array.from({ length: 65 }, (_, i) => dirName(cnName(`n${i}`))) }));
    expect(thrown(() => parseDistributionPoints(names))).toBeInstanceOf(CMSInvalid);
    expect(thrown(() => parseDistributionPoints(seq(seq())))).toBeInstanceOf(CMSInvalid);
    expect(thrown(() => parseIssuingDistributionPoint(new Uint8Array(0)))).toBeInstanceOf(CMSInvalid);
  });
});

describe('hostile CRLs and distribution points: bounded, SmimeError, never a TypeError', () => {
  it('a CRL of 100 000 entries parses in bounded time, and a lookup is by serial', async () => {
    const entries: Uint8Array[] = [];
    for (let i = 0; i < 100_000; i++) entries.push(entry(Uint8Array.of(0x10, i >> 16, (i >> 8) & 255, i & 255), d(2)));
    const der = makeCrl({ entries });
    const c = parseCrl(der);
    expect(c.entries).toHaveLength(100_000);
    const r = await checkRevocation({ cert: ALICE, issuer: CA, crls: [c], pool: [], at: AT, validateCrlSigner: async () => false });
    expect(r).toEqual({ status: 'good' });
  });

  it('deep nesting inside an extension is a SmimeError (the BER depth limit)', () => {
    let deep = integer(1);
    for (let i = 0; i < 200; i++) deep = seq(deep);
    const e = thrown(() => parseCrl(makeCrl({ exts: [ext('2.5.29.28', deep, true)] })));
    expect(e).toBeInstanceOf(SmimeError);
  });

  it('a certificate with 1000 distribution points, or a malformed extension: unknown, quickly', async () => {
    const crl = parseCrl(makeCrl());
    const base = { issuer: CA, crls: [crl], pool: [], at: AT, validateCrlSigner: async () => false };
    const many = withDps(ALICE, Array.from({ length: 1000 }, (_, i) => dp({ fullName: [dirName(cnName(`dp${i}`))] })));
    expect(await checkRevocation({ ...base, cert: many })).toEqual({ status: 'unknown', reason: 'malformed-crl-distribution-points' });
    expect(await checkRevocation({ ...base, cert: withDps(ALICE, integer(3)) })).toEqual({ status: 'unknown', reason: 'malformed-crl-distribution-points' });
  });

  it('every truncation and byte flip of a CRL with every extension parses or is a SmimeError, and checkRevocation never throws', async () => {
    const good = fullCrl();
    let errors = 0;
    const parsed = [];
    for (let n = 0; n < good.length; n++) {
      const e = thrown(() => parseCrl(good.subarray(0, n)));
      expect(e).toBeInstanceOf(SmimeError);
      errors++;
    }
    for (let i = 0; i < good.length; i++) {
      for (const x of [0xff, 0x01, 0x80]) {
        const m = good.slice();
        m[i] ^= x;
        try {
          parsed.push(parseCrl(m));
        } catch (e) {
          expect(e).toBeInstanceOf(SmimeError);
          errors++;
        }
      }
    }
    expect(errors).toBeGreaterThan(good.length);
    expect(parsed.length).toBeGreaterThan(0);
    // The mutants that parse: whatever they say, a status (never an exception).
    const sample = parsed.filter((_, i) => i % 7 === 0);
    for (const c of sample) {
      const r = await checkRevocation({ cert: ALICE, issuer: CA, crls: [c], pool: [], at: AT, validateCrlSigner: async () => false });
      expect(['good', 'revoked', 'unknown']).toContain(r.status);
    }
  }, 60_000);
});
