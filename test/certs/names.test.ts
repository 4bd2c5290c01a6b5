/**
 * certs/names.ts: Name comparison by RFC 5280 §7.1 (the simplified RFC 4518 string preparation). Each case builds
 * two Names with the DER writer and checks `namesMatch` both ways, and that `nameKey` agrees with it (the chain
 * builder indexes by `nameKey`, so the two must never disagree). Malformed Names match nothing but their own bytes
 * and never throw.
 */
import { describe, expect, it } from 'vitest';
import { certInfo } from '../../src/certs/cert_info.js';
import { nameKey, namesMatch } from '../../src/certs/names.js';
import { algorithmIdentifier, explicit, integer, octets, oid, seq, set, tlv } from '../../src/lib/der.js';

const CN = '2.5.4.3';
const O = '2.5.4.10';
const OU = '2.5.4.11';
const C = '2.5.4.6';

const enc = new TextEncoder();
const utf8 = (s: string) => tlv(0x0c, enc.encode(s));
const printable = (s: string) => tlv(0x13, enc.encode(s));
const ia5 = (s: string) => tlv(0x16, enc.encode(s));
const teletex = (s: string) => tlv(0x14, Uint8Array.from(s, (c) => c.charCodeAt(0)));
function bmp(s: string): Uint8Array {
  const b = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    b[2 * i] = s.charCodeAt(i) >> 8;
    b[2 * i + 1] = s.charCodeAt(i) & 0xff;
  }
  return tlv(0x1e, b);
}
function universal(s: string): Uint8Array {
  const cps = [...s].map((c) => c.codePointAt(0)!);
  const b = new Uint8Array(cps.length * 4);
  cps.forEach((cp, i) => new DataView(b.buffer).setUint32(4 * i, cp));
  return tlv(0x1c, b);
}
const ava = (type: string, value: Uint8Array) => seq(oid(type), value);
/** A Name: each RDN is a list of [type, value] pairs (more than one: a multi-valued RDN, in the order given). */
const name = (...rdns: [string, Uint8Array][][]) => seq(...rdns.map((r) => set(...r.map(([t, v]) => ava(t, v)))));
/** The usual single-valued C / O / CN name, with the given values. */
const dn = (c: Uint8Array, o: Uint8Array, cn: Uint8Array) => name([[C, c]], [[O, o]], [[CN, cn]]);
const BASE = dn(printable('US'), printable('Test Certificates 2011'), printable('Good CA'));

function match(a: Uint8Array, b: Uint8Array): boolean {
  const r = namesMatch(a, b);
  expect(namesMatch(b, a)).toBe(r);
  expect(nameKey(a) === nameKey(b)).toBe(r);
  return r;
}

describe('namesMatch: RFC 5280 §7.1 name comparison', () => {
  it('the same bytes match', () => {
    expect(match(BASE, BASE.slice())).toBe(true);
  });

  it('insignificant whitespace: leading and trailing removed, internal runs collapsed', () => {
    expect(match(BASE, dn(printable('US'), printable('  Test   Certificates 2011 '), printable('Good  CA   ')))).toBe(true);
    expect(match(BASE, dn(printable('US'), utf8('Test\tCertificates\u00a02011'), printable('Good CA')))).toBe(true);
    // Whitespace inside a word is significant.
    expect(match(BASE, dn(printable('US'), printable('Test Certificates 2011'), printable('GoodCA')))).toBe(false);
    expect(match(BASE, dn(printable('US'), printable('Test Certificates 2011'), printable('Goo d CA')))).toBe(false);
  });

  it('RFC 4518 §2.2 map: soft hyphens, zero-width and control characters ignored, other separators are spaces', () => {
    expect(match(BASE, dn(printable('US'), utf8('Test \u00adCerti\u200bficates\u3000 2011'), utf8('Good\u0085C\u0007A\uFEFF')))).toBe(true);
    // Mapped to nothing is not a space.
    expect(match(BASE, dn(printable('US'), utf8('Test Certificates 2011'), utf8('Good\u00adCA')))).toBe(false);
    expect(match(BASE, dn(printable('US'), utf8('Test Certificates 2011'), utf8('\u2003Good\u2028CA\u000b')))).toBe(true);
    // A variation selector after a letter is dropped; an ordinary character in its place is not.
    expect(match(BASE, dn(printable('US'), utf8('Test Certificates 2011'), utf8('Good CA\ufe0f')))).toBe(true);
    expect(match(BASE, dn(printable('US'), utf8('Test Certificates 2011'), utf8('Good CA.')))).toBe(false);
  });

  it('case is not significant, in ASCII and beyond (Unicode lower case after NFKC)', () => {
    expect(match(BASE, dn(printable('us'), printable('TEST certificates 2011'), printable('gOOD ca')))).toBe(true);
    const a = dn(printable('FR'), utf8('École Ÿ'), utf8('Straße'));
    expect(match(a, dn(printable('FR'), utf8('éCOLE ÿ'), utf8('STRAßE')))).toBe(true);
    // NFKC: a precomposed é and e + combining acute, fullwidth letters and their ASCII forms.
    expect(match(a, dn(printable('FR'), utf8('E\u0301cole \u0178'), utf8('Ｓｔｒａße')))).toBe(true);
    expect(match(a, dn(printable('FR'), utf8('Ecole Ÿ'), utf8('Straße')))).toBe(false);
    // A letter NFKC makes a capital (ℌ → H) still compares in lower case.
    expect(match(name([[CN, utf8('\u210c CA')]]), name([[CN, printable('h ca')]]))).toBe(true);
  });

  it('PrintableString, UTF8String, BMPString, UniversalString, TeletexString and IA5String of the same text match', () => {
    for (const other of [utf8, bmp, universal, teletex, ia5]) {
      expect(match(BASE, dn(printable('US'), other('Test Certificates 2011'), other('Good CA')))).toBe(true);
    }
    const nonAscii = dn(printable('DE'), utf8('Müller 𝔸'), utf8('Zoë'));
    expect(match(nonAscii, dn(printable('DE'), universal('Müller 𝔸'), bmp('Zoë')))).toBe(true);
    expect(match(nonAscii, dn(printable('DE'), utf8('Muller 𝔸'), bmp('Zoë')))).toBe(false);
  });

  it('the AVAs of a multi-valued RDN match in any order, but not split into separate RDNs', () => {
    const a = name([[C, printable('US')]], [[O, printable('Org')], [CN, printable('Bob')]]);
    expect(match(a, name([[C, printable('US')]], [[CN, utf8('bob')], [O, utf8('ORG')]]))).toBe(true);
    expect(match(a, name([[C, printable('US')]], [[O, printable('Org')]], [[CN, printable('Bob')]]))).toBe(false);
    expect(match(a, name([[C, printable('US')]], [[O, printable('Org')], [CN, printable('Bob')], [OU, printable('X')]]))).toBe(false);
  });

  it('the RDNs must be in the same order', () => {
    expect(match(BASE, name([[C, printable('US')]], [[CN, printable('Good CA')]], [[O, printable('Test Certificates 2011')]]))).toBe(false);
  });

  it('a different attribute type with the same value does not match', () => {
    expect(match(BASE, name([[C, printable('US')]], [[OU, printable('Test Certificates 2011')]], [[CN, printable('Good CA')]]))).toBe(false);
  });

  it('a different number of RDNs does not match', () => {
    expect(match(BASE, name([[C, printable('US')]], [[O, printable('Test Certificates 2011')]]))).toBe(false);
    expect(match(BASE, name([[C, printable('US')]], [[O, printable('Test Certificates 2011')]], [[CN, printable('Good CA')]], [[CN, printable('Good CA')]]))).toBe(false);
    expect(match(BASE, seq())).toBe(false);
  });

  it('a different value does not match', () => {
    expect(match(BASE, dn(printable('US'), printable('Test Certificates 2011'), printable('Bad CA')))).toBe(false);
  });

  it('a value that is not a string matches only the same encoding, byte for byte', () => {
    const withSerial = (v: Uint8Array) => name([[C, printable('US')]], [['2.5.4.5', v]]);
    expect(match(withSerial(octets(enc.encode('AB'))), withSerial(octets(enc.encode('AB'))))).toBe(true);
    expect(match(withSerial(octets(enc.encode('AB'))), withSerial(octets(enc.encode('ab'))))).toBe(false);
    expect(match(withSerial(octets(enc.encode('AB'))), withSerial(utf8('AB')))).toBe(false);
    expect(match(withSerial(integer(1)), withSerial(integer(2)))).toBe(false);
  });

  it('a string that does not decode for its type matches only its own bytes', () => {
    const badUtf8 = tlv(0x0c, Uint8Array.of(0x47, 0xc3, 0x28));
    const highPrintable = tlv(0x13, Uint8Array.of(0x41, 0xe9));
    const oddBmp = tlv(0x1e, Uint8Array.of(0, 0x41, 0));
    for (const bad of [badUtf8, highPrintable, oddBmp]) {
      // The rest of the name is still prepared: the bad value compares byte for byte.
      expect(match(dn(printable('US'), printable('Org'), bad), dn(utf8('us'), utf8('ORG'), bad.slice()))).toBe(true);
      expect(match(dn(printable('US'), printable('Org'), bad), dn(printable('US'), printable('Org'), utf8('G(')))).toBe(false);
    }
    expect(match(dn(printable('US'), printable('Org'), highPrintable), dn(printable('US'), printable('Org'), teletex('Aé')))).toBe(false);
  });

  it('malformed Names never throw and match only their own bytes', () => {
    const malformed: Uint8Array[] = [
      new Uint8Array(0),
      BASE.subarray(0, BASE.length - 1), // truncated
      Uint8Array.of(...BASE, 0), // trailing byte
      set(BASE.subarray(2)), // a SET, not a SEQUENCE
      seq(set()), // an empty RDN
      seq(set(seq(oid(CN)))), // an AVA without a value
      seq(set(seq(oid(CN), printable('Good CA'), printable('x')))), // an AVA with three elements
      seq(set(seq(integer(3), printable('Good CA')))), // a type that is not an OID
      seq(seq(seq(oid(CN), printable('Good CA')))), // an RDN that is a SEQUENCE
      seq(set(printable('Good CA'))), // an AVA that is a string
      Uint8Array.of(0x30, 0x84, 0xff, 0xff, 0xff, 0xff), // a length beyond the input
    ];
    const good = name([[CN, printable('Good CA')]]);
    for (const m of malformed) {
      expect(() => namesMatch(m, good)).not.toThrow();
      expect(match(m, good)).toBe(false);
      expect(match(m, m.slice())).toBe(true);
    }
    for (let i = 0; i < malformed.length; i++)
      for (let j = i + 1; j < malformed.length; j++) expect(match(malformed[i]!, malformed[j]!)).toBe(false);
  });

  it('writes neither input', () => {
    const a = dn(printable('US'), printable('  Org '), printable('CA'));
    const b = dn(utf8('us'), utf8('org'), utf8('ca'));
    const [a0, b0] = [a.slice(), b.slice()];
    expect(namesMatch(a, b)).toBe(true);
    expect(a).toEqual(a0);
    expect(b).toEqual(b0);
  });

  it('certInfo.selfIssued follows the same rule (issuer and subject differing only in encoding)', () => {
    const cert = (issuer: Uint8Array, subject: Uint8Array) => {
      const time = (s: string) => tlv(0x17, enc.encode(s));
      const spki = seq(algorithmIdentifier('1.2.840.10045.2.1', oid('1.2.840.10045.3.1.7')), tlv(0x03, Uint8Array.of(0, 4, ...new Uint8Array(64))));
      const alg = algorithmIdentifier('1.2.840.10045.4.3.2');
      const tbs = seq(explicit(0, integer(2)), integer(1), alg, issuer, seq(time('200101000000Z'), time('300101000000Z')), subject, spki);
      return seq(tbs, alg, tlv(0x03, Uint8Array.of(0, 1)));
    };
    const other = dn(utf8(' us'), utf8('TEST  CERTIFICATES 2011'), bmp('good ca'));
    expect(certInfo(cert(BASE, other)).selfIssued).toBe(true);
    expect(certInfo(cert(BASE, BASE)).selfIssued).toBe(true);
    expect(certInfo(cert(BASE, dn(printable('US'), printable('Test Certificates 2011'), printable('Other CA')))).selfIssued).toBe(false);
  });
});
