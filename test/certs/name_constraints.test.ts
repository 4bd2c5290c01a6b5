/**
 * path/name_constraints.ts: RFC 5280 §4.2.1.10 name constraints over a path (§6.1.3 (b)(c), §6.1.4 (g)).
 *
 * First every NIST PKITS §4.13 test (38: DN, RFC822, DN and RFC822, DNS, URI) through `checkNameConstraints` on the
 * test's path: Valid… is ok, Invalid… is refused with a `name-constraints-violated` reason that names the form of
 * the offending name. Then the matching rules of each form on paths made here (a CA carrying the nameConstraints
 * under test, then the end entity), built by hand with the DER writer: signatures play no part in this check, so
 * the certificates carry a dummy one. Then malformed extensions, the path rules (intersection of permitted subtrees,
 * union of excluded ones, self-issued certificates), and a hostile certificate that must hit the comparison limit
 * quickly. PKITS cases are skipped with a notice when ../shared is absent (never under CI=true).
 */
import { describe, expect, it } from 'vitest';
import { certInfo, type CertInfo } from '../../src/certs/cert_info.js';
import { checkNameConstraints, type NameConstraintsOutcome } from '../../src/path/name_constraints.js';
import { formatName, nameKey, namesMatch, rdnKeys } from '../../src/certs/names.js';
import { algorithmIdentifier, explicit, integer, octets, oid, seq, set, tlv } from '../../src/lib/der.js';
import { sharedAvailable } from '../_helpers/env.js';
import { pkitsPath, pkitsTests } from '../_helpers/pkits.js';

const HAVE = sharedAvailable();

// ---------------------------------------------------------------------------------------------------------------
// DER building

const CN = '2.5.4.3';
const O = '2.5.4.10';
const OU = '2.5.4.11';
const C = '2.5.4.6';
const EMAIL = '1.2.840.113549.1.9.1';

const enc = new TextEncoder();
const utf8 = (s: string) => tlv(0x0c, enc.encode(s));
const printable = (s: string) => tlv(0x13, enc.encode(s));
const ia5 = (s: string) => tlv(0x16, enc.encode(s));
/** A Name: each RDN a list of [type, value] pairs. */
const name = (...rdns: [string, Uint8Array][][]) => seq(...rdns.map((r) => set(...r.map(([t, v]) => seq(oid(t), v)))));
/** A Name of single-valued RDNs, from `C=US/O=Org/CN=x` (PrintableString values). */
const dn = (s: string) =>
  s === '' ? seq() : name(...s.split('/').map((p): [string, Uint8Array][] => [[{ C, O, OU, CN }[p.split('=')[0]! as 'C']!, printable(p.slice(p.indexOf('=') + 1))]]));

/** GeneralNames. */
const rfc822 = (s: string) => tlv(0x81, enc.encode(s));
const dns = (s: string) => tlv(0x82, enc.encode(s));
const uri = (s: string) => tlv(0x86, enc.encode(s));
const dirName = (n: Uint8Array) => tlv(0xa4, n);
const ip = (...b: number[]) => tlv(0x87, Uint8Array.from(b));
const otherName = (type: string) => tlv(0xa0, oid(type), explicit(0, utf8('x')));
const registeredId = (type: string) => tlv(0x88, oid(type).subarray(2));

/** IPv6 bytes from 8 groups. */
const v6 = (...groups: number[]) => groups.flatMap((g) => [g >> 8, g & 0xff]);
/** An IPv6 mask of `bits` ones. */
const mask6 = (bits: number) => Array.from({ length: 16 }, (_, k) => (0xff << (8 - Math.max(0, Math.min(8, bits - 8 * k)))) & 0xff);

/** GeneralSubtree with the given base (and any extra fields, such as a minimum). */
const subtree = (base: Uint8Array, ...extra: Uint8Array[]) => seq(base, ...extra);
/** The nameConstraints value. */
function nc(permitted: Uint8Array[] = [], excluded: Uint8Array[] = []): Uint8Array {
  return seq(...(permitted.length ? [tlv(0xa0, ...permitted.map((b) => subtree(b)))] : []), ...(excluded.length ? [tlv(0xa1, ...excluded.map((b) => subtree(b)))] : []));
}

const SPKI = seq(algorithmIdentifier('1.2.840.10045.2.1', oid('1.2.840.10045.3.1.7')), tlv(0x03, Uint8Array.of(0, 4, ...new Array<number>(64).fill(7))));
const utc = (s: string) => tlv(0x17, enc.encode(s));
const ext = (id: string, value: Uint8Array, critical = false) => seq(oid(id), ...(critical ? [Uint8Array.of(0x01, 0x01, 0xff)] : []), octets(value));

interface Spec {
  subject: Uint8Array;
  issuer: Uint8Array;
  ca?: boolean;
  /** The nameConstraints extension value(s). */
  nc?: Uint8Array | Uint8Array[];
  /** subjectAltName GeneralNames (already encoded); no extension when absent. */
  san?: Uint8Array[];
}

let serial = 1;
/**
 * A certificate with a dummy signature: the fields certInfo reads and the extensions under test. certInfo refuses
 * a certificate whose extension value is not one DER element, so such a nameConstraints value (bad DER) is put in
 * the parsed CertInfo's `extensions` instead: `checkNameConstraints` must cope with any CertInfo.
 */
function cert(s: Spec): CertInfo {
  try {
    return build(s, false);
  } catch {
    return build(s, true);
  }
}

function build(s: Spec, substitute: boolean): CertInfo {
  const ncs = s.nc === undefined ? [] : Array.isArray(s.nc) ? s.nc : [s.nc];
  const exts: Uint8Array[] = [ext('2.5.29.19', s.ca ? seq(Uint8Array.of(0x01, 0x01, 0xff)) : seq(), true)];
  for (const v of ncs) exts.push(ext('2.5.29.30', substitute ? seq() : v, true));
  if (s.san) exts.push(ext('2.5.29.17', seq(...s.san)));
  const tbs = seq(
    explicit(0, integer(2)),
    integer(serial++),
    algorithmIdentifier('1.2.840.10045.4.3.2'),
    s.issuer,
    seq(utc('200101000000Z'), utc('300101000000Z')),
    s.subject,
    SPKI,
    explicit(3, seq(...exts)),
  );
  const info = certInfo(seq(tbs, algorithmIdentifier('1.2.840.10045.4.3.2'), tlv(0x03, Uint8Array.of(0, 0x30, 0))));
  if (substitute) info.extensions.filter((e) => e.oid === '2.5.29.30').forEach((e, k) => (e.value = ncs[k]!));
  return info;
}

const ROOT = dn('C=US/O=Org/CN=Root');
const CA = dn('C=US/O=Org/CN=CA');

/** Root → CA (carrying `constraints`) → the end entity (issued by CA). */
function check(constraints: Uint8Array | Uint8Array[], ee: { subject?: Uint8Array; san?: Uint8Array[] }, maxChecks?: number): NameConstraintsOutcome {
  const ca = cert({ subject: CA, issuer: ROOT, ca: true, nc: constraints });
  const leaf = cert({ subject: ee.subject ?? dn(''), issuer: CA, san: ee.san });
  return checkNameConstraints([ca, leaf], maxChecks);
}
const ok = { ok: true };
const violated = (text: string) => ({ ok: false, reason: `name-constraints-violated: ${text}` });
const MALFORMED = { ok: false, reason: 'malformed-extension: nameConstraints' };

/** The outcome for an end entity with only these SAN names and an empty subject. */
const sanCheck = (constraints: Uint8Array, ...names: Uint8Array[]) => check(constraints, { san: names });

// ---------------------------------------------------------------------------------------------------------------
// PKITS §4.13

const FORM: Record<string, string> = {
  DN: 'directoryName',
  SelfIssuedDN: 'directoryName',
  RFC822: 'rfc822Name',
  DNandRFC822: 'rfc822Name',
  DNS: 'dNSName',
  URI: 'uniformResourceIdentifier',
};

describe.skipIf(!HAVE)('PKITS 4.13 name constraints', () => {
  const tests = HAVE ? pkitsTests().filter((t) => t.includes('nameConstraints')) : [];

  it('there are 38 of them: DN 1–20, RFC822 21–26, DN and RFC822 27–29, DNS 30–33 and 38, URI 34–37', () => {
    expect(tests).toHaveLength(38);
    const numbers = tests.map((t) => Number(/Test(\d+)$/.exec(t)![1])).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 38 }, (_, k) => k + 1));
  });

  for (const test of tests) {
    const [, validity, kind] = /^(Valid|Invalid)(.*)nameConstraintsTest\d+$/.exec(test)!;
    if (validity === 'Valid') {
      it(`${test}: ok`, () => {
        expect(checkNameConstraints(pkitsPath(test))).toEqual({ ok: true });
      });
    } else {
      it(`${test}: refused, naming a ${FORM[kind!]}`, () => {
        const r = checkNameConstraints(pkitsPath(test));
        expect(r.ok).toBe(false);
        expect(!r.ok && r.reason).toMatch(new RegExp(`^name-constraints-violated: ${FORM[kind!]} `));
      });
    }
  }

  it('the reasons name the offending names exactly (a sample)', () => {
    const reason = (t: string) => (checkNameConstraints(pkitsPath(t)) as { reason: string }).reason;
    expect(reason('InvalidDNnameConstraintsTest2')).toBe(
      'name-constraints-violated: directoryName CN=Invalid DN nameConstraints EE Certificate Test2,OU=excludedSubtree1,O=Test Certificates 2011,C=US',
    );
    expect(reason('InvalidRFC822nameConstraintsTest22')).toBe('name-constraints-violated: rfc822Name Test22EE@testcertificates.gov');
    expect(reason('InvalidDNSnameConstraintsTest38')).toBe('name-constraints-violated: dNSName mytestcertificates.gov');
    expect(reason('InvalidURInameConstraintsTest37')).toBe('name-constraints-violated: uniformResourceIdentifier ftp://invalidcertificates.gov:21/test37/');
    // Test 20: the end entity is self-issued, so (being last) its names are checked all the same.
    expect(reason('InvalidSelfIssuedDNnameConstraintsTest20')).toBe('name-constraints-violated: directoryName CN=nameConstraints DN1 CA,O=Test Certificates 2011,C=US');
  });

  it('without the CA certificates that carry the constraints the same end entities pass (the constraints, not the names, refuse them)', () => {
    for (const t of ['InvalidDNnameConstraintsTest2', 'InvalidRFC822nameConstraintsTest22', 'InvalidDNSnameConstraintsTest31', 'InvalidURInameConstraintsTest35']) {
      const path = pkitsPath(t);
      expect(checkNameConstraints(path.slice(-1))).toEqual({ ok: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Matching rules per form

describe('dNSName: suffix by whole labels', () => {
  const host = nc([dns('example.com')]);
  it('the name itself and names with more labels on the left', () => {
    expect(sanCheck(host, dns('example.com'))).toEqual(ok);
    expect(sanCheck(host, dns('www.example.com'), dns('a.b.example.com'))).toEqual(ok);
  });
  it('not a name that merely ends with the same characters, nor one with labels on the right', () => {
    expect(sanCheck(host, dns('badexample.com'))).toEqual(violated('dNSName badexample.com'));
    expect(sanCheck(host, dns('example.com.evil.net'))).toEqual(violated('dNSName example.com.evil.net'));
    expect(sanCheck(host, dns('www.example.com'), dns('other.org'))).toEqual(violated('dNSName other.org'));
  });
  it('ASCII case does not matter, either side', () => {
    expect(sanCheck(nc([dns('Example.COM')]), dns('WWW.example.Com'))).toEqual(ok);
  });
  it('a leading-dot constraint holds only the names below the domain', () => {
    const domain = nc([dns('.example.com')]);
    expect(sanCheck(domain, dns('host.example.com'))).toEqual(ok);
    expect(sanCheck(domain, dns('example.com'))).toEqual(violated('dNSName example.com'));
    expect(sanCheck(domain, dns('xexample.com'))).toEqual(violated('dNSName xexample.com'));
  });
  it('excluded: the same rule refuses', () => {
    const ex = nc([], [dns('example.com')]);
    expect(sanCheck(ex, dns('mail.example.com'))).toEqual(violated('dNSName mail.example.com'));
    expect(sanCheck(ex, dns('EXAMPLE.COM'))).toEqual(violated('dNSName EXAMPLE.COM'));
    expect(sanCheck(ex, dns('badexample.com'), dns('example.org'))).toEqual(ok);
  });
  it('an empty constraint holds every name', () => {
    expect(sanCheck(nc([dns('')]), dns('anything.example'))).toEqual(ok);
    expect(sanCheck(nc([], [dns('')]), dns('anything.example'))).toEqual(violated('dNSName anything.example'));
  });
  it('a name that is no domain name violates the constraints of its form only', () => {
    expect(sanCheck(host, dns('www.example.com.'))).toEqual(violated('dNSName www.example.com. (unreadable)'));
    expect(sanCheck(host, dns('a..example.com'))).toEqual(violated('dNSName a..example.com (unreadable)'));
    expect(sanCheck(nc([], [dns('evil.com')]), dns('bad host.evil.com'))).toEqual(violated('dNSName bad host.evil.com (unreadable)'));
    // Only rfc822Name is constrained: the dNSName is not looked at.
    expect(sanCheck(nc([rfc822('example.com')]), dns('bad host'), rfc822('a@example.com'))).toEqual(ok);
  });
  it('a wildcard name is a name with a * label', () => {
    expect(sanCheck(host, dns('*.example.com'))).toEqual(ok);
    expect(sanCheck(host, dns('*.badexample.com'))).toEqual(violated('dNSName *.badexample.com'));
  });
});

describe('rfc822Name: mailbox, host and .domain constraints', () => {
  it('a host constraint holds the mailboxes at that host only, in any ASCII case', () => {
    const host = nc([rfc822('example.com')]);
    expect(sanCheck(host, rfc822('alice@example.com'), rfc822('Bob@EXAMPLE.com'))).toEqual(ok);
    expect(sanCheck(host, rfc822('alice@mail.example.com'))).toEqual(violated('rfc822Name alice@mail.example.com'));
    expect(sanCheck(host, rfc822('alice@badexample.com'))).toEqual(violated('rfc822Name alice@badexample.com'));
  });
  it('a .domain constraint holds the mailboxes at hosts inside the domain, not at the domain itself', () => {
    const domain = nc([rfc822('.example.com')]);
    expect(sanCheck(domain, rfc822('alice@mail.example.com'), rfc822('bob@a.b.example.com'))).toEqual(ok);
    expect(sanCheck(domain, rfc822('alice@example.com'))).toEqual(violated('rfc822Name alice@example.com'));
  });
  it('a mailbox constraint: the local part exactly, the domain in any case', () => {
    const box = nc([rfc822('alice@example.com')]);
    expect(sanCheck(box, rfc822('alice@Example.COM'))).toEqual(ok);
    expect(sanCheck(box, rfc822('Alice@example.com'))).toEqual(violated('rfc822Name Alice@example.com'));
    expect(sanCheck(box, rfc822('bob@example.com'))).toEqual(violated('rfc822Name bob@example.com'));
    expect(sanCheck(box, rfc822('alice@mail.example.com'))).toEqual(violated('rfc822Name alice@mail.example.com'));
  });
  it('excluded hosts and domains refuse', () => {
    const ex = nc([], [rfc822('bad.example'), rfc822('.evil.example')]);
    expect(sanCheck(ex, rfc822('x@BAD.example'))).toEqual(violated('rfc822Name x@BAD.example'));
    expect(sanCheck(ex, rfc822('x@mx.evil.example'))).toEqual(violated('rfc822Name x@mx.evil.example'));
    expect(sanCheck(ex, rfc822('x@evil.example'), rfc822('x@mx.bad.example'))).toEqual(ok);
  });
  it('an address without @, with an empty local part or a bad domain cannot be compared: refused', () => {
    const host = nc([], [rfc822('example.com')]);
    expect(sanCheck(host, rfc822('example.com'))).toEqual(violated('rfc822Name example.com (unreadable)'));
    expect(sanCheck(host, rfc822('@example.org'))).toEqual(violated('rfc822Name @example.org (unreadable)'));
    expect(sanCheck(host, rfc822('a@[192.0.2.1]'))).toEqual(violated('rfc822Name a@[192.0.2.1] (unreadable)'));
    expect(sanCheck(host, tlv(0x81, Uint8Array.of(0x61, 0x40, 0xe9, 0x0a)))).toEqual(violated('rfc822Name a@\\xe9\\x0a (unreadable)'));
  });
  it('the subject emailAddress attribute is checked as an rfc822Name (RFC 5280 §4.2.1.10)', () => {
    const subject = name([[C, printable('US')]], [[CN, printable('Alice')]], [[EMAIL, ia5('alice@evil.example')]]);
    expect(check(nc([rfc822('.example.com')]), { subject })).toEqual(violated('rfc822Name alice@evil.example'));
    expect(check(nc([], [rfc822('evil.example')]), { subject, san: [rfc822('alice@good.example')] })).toEqual(violated('rfc822Name alice@evil.example'));
    const good = name([[CN, printable('Alice')]], [[EMAIL, ia5('alice@mx.example.com')]]);
    expect(check(nc([rfc822('.example.com')]), { subject: good })).toEqual(ok);
  });
});

describe('uniformResourceIdentifier: the host of the URI', () => {
  const host = nc([uri('host.example.com')]);
  it('the host, whatever the scheme, user information, port, path, query or case', () => {
    expect(sanCheck(host, uri('http://host.example.com/x'))).toEqual(ok);
    expect(sanCheck(host, uri('https://user:pw@HOST.Example.com:8443/p?q=1#f'))).toEqual(ok);
    expect(sanCheck(host, uri('ldap://host.example.com'))).toEqual(ok);
  });
  it('a host constraint is that host only', () => {
    expect(sanCheck(host, uri('http://www.host.example.com/'))).toEqual(violated('uniformResourceIdentifier http://www.host.example.com/'));
    expect(sanCheck(host, uri('http://example.com/'))).toEqual(violated('uniformResourceIdentifier http://example.com/'));
  });
  it('user information that looks like the host does not count', () => {
    expect(sanCheck(host, uri('http://host.example.com@evil.net/'))).toEqual(violated('uniformResourceIdentifier http://host.example.com@evil.net/'));
    expect(sanCheck(host, uri('http://host.example.com:pw@evil.net:80/'))).toEqual(violated('uniformResourceIdentifier http://host.example.com:pw@evil.net:80/'));
  });
  it('.domain: the hosts inside the domain, not the domain itself', () => {
    const domain = nc([uri('.example.com')]);
    expect(sanCheck(domain, uri('http://a.example.com/'), uri('ftp://a.b.example.com:21/'))).toEqual(ok);
    expect(sanCheck(domain, uri('http://example.com/'))).toEqual(violated('uniformResourceIdentifier http://example.com/'));
    expect(sanCheck(nc([], [uri('.example.com')]), uri('http://a.example.com/'))).toEqual(violated('uniformResourceIdentifier http://a.example.com/'));
    expect(sanCheck(nc([], [uri('.example.com')]), uri('http://example.com/'))).toEqual(ok);
  });
  it('a URI without an authority, with an IP literal, an empty host or a bad port cannot be compared: refused', () => {
    const ex = nc([], [uri('.example.com')]);
    for (const u of ['urn:isbn:0451450523', 'mailto:a@b.example.com', 'http://[2001:db8::1]/', 'http://192.0.2.1/', 'file:///etc/passwd', 'http://a.example.com:x/']) {
      expect(sanCheck(ex, uri(u))).toEqual(violated(`uniformResourceIdentifier ${u} (unreadable)`));
    }
  });
});

describe('iPAddress: address and mask', () => {
  it('IPv4: inside and outside the network', () => {
    const v4 = nc([ip(192, 0, 2, 0, 255, 255, 255, 0)]);
    expect(sanCheck(v4, ip(192, 0, 2, 55))).toEqual(ok);
    expect(sanCheck(v4, ip(192, 0, 3, 1))).toEqual(violated('iPAddress 192.0.3.1'));
    expect(sanCheck(nc([], [ip(10, 0, 0, 0, 255, 0, 0, 0)]), ip(10, 1, 2, 3))).toEqual(violated('iPAddress 10.1.2.3'));
    expect(sanCheck(nc([], [ip(10, 0, 0, 0, 255, 0, 0, 0)]), ip(11, 1, 2, 3))).toEqual(ok);
  });
  it('IPv6 with a /32 and with a mask that is not on a byte boundary (/33)', () => {
    const p32 = nc([tlv(0x87, Uint8Array.from([...v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), ...mask6(32)]))]);
    expect(sanCheck(p32, ip(...v6(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1)))).toEqual(ok);
    expect(sanCheck(p32, ip(...v6(0x2001, 0xdb9, 0, 0, 0, 0, 0, 1)))).toEqual(violated('iPAddress 2001:db9:0:0:0:0:0:1'));
    const p33 = nc([tlv(0x87, Uint8Array.from([...v6(0x2001, 0xdb8, 0x8000, 0, 0, 0, 0, 0), ...mask6(33)]))]);
    expect(sanCheck(p33, ip(...v6(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 1)))).toEqual(ok);
    expect(sanCheck(p33, ip(...v6(0x2001, 0xdb8, 0x7fff, 0, 0, 0, 0, 1)))).toEqual(violated('iPAddress 2001:db8:7fff:0:0:0:0:1'));
  });
  it('an IPv4 address is not inside an IPv6 network (nor the other way round)', () => {
    const p0 = nc([tlv(0x87, Uint8Array.from([...v6(0, 0, 0, 0, 0, 0, 0, 0), ...mask6(0)]))]);
    expect(sanCheck(p0, ip(...v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)))).toEqual(ok);
    expect(sanCheck(p0, ip(192, 0, 2, 1))).toEqual(violated('iPAddress 192.0.2.1'));
    expect(sanCheck(nc([ip(0, 0, 0, 0, 0, 0, 0, 0)]), ip(...v6(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201)))).toEqual(violated('iPAddress 0:0:0:0:0:ffff:c000:201'));
  });
  it('an address of the wrong length cannot be compared: refused', () => {
    expect(sanCheck(nc([], [ip(10, 0, 0, 0, 255, 0, 0, 0)]), ip(10, 0, 0))).toEqual(violated('iPAddress 0x0a0000 (unreadable)'));
  });
});

describe('directoryName: the RDN-sequence prefix rule with RFC 5280 §7.1 comparison', () => {
  const org = nc([dirName(dn('C=US/O=Org'))]);
  it('a subject with extra RDNs below the base is inside; one that differs or is shorter is not', () => {
    expect(check(org, { subject: dn('C=US/O=Org/CN=Alice') })).toEqual(ok);
    expect(check(org, { subject: dn('C=US/O=Org/OU=Unit/CN=Alice') })).toEqual(ok);
    expect(check(org, { subject: dn('C=US/O=Other/CN=Alice') })).toEqual(violated('directoryName CN=Alice,O=Other,C=US'));
    expect(check(org, { subject: dn('C=US') })).toEqual(violated('directoryName C=US'));
    // The RDN order matters; the same RDNs in another order are another name.
    expect(check(org, { subject: dn('O=Org/C=US/CN=Alice') })).toEqual(violated('directoryName CN=Alice,C=US,O=Org'));
    // An extra RDN in the middle is not a prefix.
    expect(check(org, { subject: dn('C=US/OU=Unit/O=Org/CN=Alice') })).toEqual(violated('directoryName CN=Alice,O=Org,OU=Unit,C=US'));
  });
  it('case, insignificant whitespace and string type do not matter (§7.1)', () => {
    expect(check(org, { subject: name([[C, utf8('us')]], [[O, utf8('  ORG ')]], [[CN, printable('Alice')]]) })).toEqual(ok);
    expect(check(nc([dirName(name([[O, utf8('Big   Org')]]))]), { subject: name([[O, printable('big org')]], [[CN, printable('x')]]) })).toEqual(ok);
    expect(check(org, { subject: name([[C, printable('US')]], [[O, printable('Or g')]]) })).toEqual(violated('directoryName O=Or g,C=US'));
  });
  it('a multi-valued RDN matches in any AVA order, and only as a whole', () => {
    const base = nc([dirName(name([[C, printable('US')]], [[O, printable('Org')], [OU, printable('Unit')]]))]);
    expect(check(base, { subject: name([[C, printable('US')]], [[OU, printable('unit')], [O, printable('org')]], [[CN, printable('x')]]) })).toEqual(ok);
    expect(check(base, { subject: name([[C, printable('US')]], [[O, printable('Org')]], [[OU, printable('Unit')]]) })).toEqual(
      violated('directoryName OU=Unit,O=Org,C=US'),
    );
  });
  it('excluded: a subject below the base is refused, a sibling is not', () => {
    const ex = nc([], [dirName(dn('C=US/O=Org/OU=Bad'))]);
    expect(check(ex, { subject: dn('C=US/O=Org/OU=Bad/CN=x') })).toEqual(violated('directoryName CN=x,OU=Bad,O=Org,C=US'));
    expect(check(ex, { subject: dn('C=US/O=Org/OU=Good/CN=x') })).toEqual(ok);
  });
  it('an empty subject is not checked against directoryName constraints; its subjectAltName names are', () => {
    expect(check(org, { subject: dn(''), san: [rfc822('a@example.com')] })).toEqual(ok);
    expect(check(org, { subject: dn(''), san: [dirName(dn('C=US/O=Elsewhere'))] })).toEqual(violated('directoryName O=Elsewhere,C=US'));
    expect(check(org, { subject: dn(''), san: [dirName(dn('C=US/O=Org/CN=Alice'))] })).toEqual(ok);
  });
  it('the subject DN is rendered readably (RFC 4514 order and escapes) in the reason', () => {
    const subject = name([[C, printable('US')]], [[O, utf8('A, B + C')]], [[CN, utf8('Zoë\n')]]);
    expect(check(org, { subject })).toEqual(violated('directoryName CN=Zo\\C3\\AB\\0A,O=A\\, B \\+ C,C=US'));
  });
});

describe('forms we do not compare', () => {
  it('a constrained otherName, x400Address, ediPartyName or registeredID is refused, not let through', () => {
    const on = nc([otherName('1.3.6.1.5.5.7.8.9')]);
    expect(sanCheck(on, otherName('1.3.6.1.5.5.7.8.9'))).toEqual(violated('otherName 1.3.6.1.5.5.7.8.9 (unsupported name form)'));
    expect(sanCheck(nc([], [registeredId('1.2.3.4')]), registeredId('1.2.3.5'))).toEqual(violated('registeredID (unsupported name form)'));
    expect(sanCheck(nc([tlv(0xa3, seq())]), tlv(0xa3, seq()))).toEqual(violated('x400Address (unsupported name form)'));
    expect(sanCheck(nc([], [tlv(0xa5, tlv(0xa1, utf8('p')))]), tlv(0xa5, tlv(0xa1, utf8('q'))))).toEqual(violated('ediPartyName (unsupported name form)'));
  });
  it('names of other forms, and unconstrained unsupported forms, are checked as usual', () => {
    const on = nc([otherName('1.3.6.1.5.5.7.8.9'), dns('example.com')]);
    expect(sanCheck(on, dns('www.example.com'))).toEqual(ok);
    expect(sanCheck(nc([dns('example.com')]), dns('www.example.com'), otherName('1.2.3'), registeredId('1.2.3'))).toEqual(ok);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Malformed extensions

describe('malformed nameConstraints and subjectAltName', () => {
  const ee = { san: [dns('www.example.com')] };
  it('minimum other than 0, or any maximum: malformed; a zero minimum spelt out is tolerated', () => {
    const withExtra = (...extra: Uint8Array[]) => seq(tlv(0xa0, subtree(dns('example.com'), ...extra)));
    expect(check(withExtra(tlv(0x80, Uint8Array.of(1))), ee)).toEqual(MALFORMED);
    expect(check(withExtra(tlv(0x81, Uint8Array.of(3))), ee)).toEqual(MALFORMED);
    expect(check(withExtra(tlv(0x80, Uint8Array.of(0)), tlv(0x81, Uint8Array.of(0))), ee)).toEqual(MALFORMED);
    expect(check(withExtra(tlv(0x80, Uint8Array.of(0))), ee)).toEqual(ok);
  });
  it('bad DER, an empty sequence, empty subtrees, fields out of order, a GeneralName of no form: malformed', () => {
    for (const v of [
      Uint8Array.of(0x30, 0x05, 0xa0),
      Uint8Array.of(0x04, 0x00),
      seq(),
      seq(tlv(0xa0)),
      seq(tlv(0xa1, subtree(dns('a.com'))), tlv(0xa0, subtree(dns('b.com')))),
      seq(tlv(0xa2, subtree(dns('a.com')))),
      seq(tlv(0xa0, subtree(tlv(0x89, Uint8Array.of(1))))),
      seq(tlv(0xa0, subtree(tlv(0xa2, dns('x'))))),
      seq(tlv(0xa0, seq())),
      Uint8Array.of(...seq(tlv(0xa0, subtree(dns('a.com')))), 0),
    ]) {
      expect(check(v, ee)).toEqual(MALFORMED);
    }
  });
  it('bases that cannot be read: malformed', () => {
    for (const base of [rfc822('@example.com'), rfc822(''), rfc822('a@'), dns('.'), dns('a..b'), uri(''), uri('http://example.com/'), ip(10, 0, 0, 0, 255), ip(10, 0, 0, 0, 255, 0, 255, 0), dirName(Uint8Array.of(0x30, 0x03, 0x31, 0x01, 0x00))]) {
      expect(check(nc([base]), ee)).toEqual(MALFORMED);
    }
  });
  it('two nameConstraints extensions in one certificate: malformed', () => {
    expect(check([nc([dns('example.com')]), nc([dns('example.com')])], ee)).toEqual(MALFORMED);
  });
  it('a subjectAltName with a GeneralName of no form, when names must be checked', () => {
    expect(check(nc([dns('example.com')]), { san: [dns('www.example.com'), tlv(0x89, Uint8Array.of(1))] })).toEqual({
      ok: false,
      reason: 'malformed-extension: subjectAltName',
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The path

describe('the path: intersection of permitted subtrees, union of excluded ones, self-issued certificates', () => {
  const root = ROOT;
  const ca1 = dn('C=US/O=Org/CN=CA1');
  const ca2 = dn('C=US/O=Org/CN=CA2');

  it('permitted subtrees of two CAs: a name must lie in both', () => {
    const a = cert({ subject: ca1, issuer: root, ca: true, nc: nc([dns('example.com')]) });
    const b = cert({ subject: ca2, issuer: ca1, ca: true, nc: nc([dns('www.example.com'), dns('other.org')]) });
    const leaf = (n: string) => cert({ subject: dn(''), issuer: ca2, san: [dns(n)] });
    expect(checkNameConstraints([a, b, leaf('a.www.example.com')])).toEqual(ok);
    expect(checkNameConstraints([a, b, leaf('mail.example.com')])).toEqual(violated('dNSName mail.example.com'));
    expect(checkNameConstraints([a, b, leaf('other.org')])).toEqual(violated('dNSName other.org'));
  });
  it('disjoint permitted subtrees permit no name of that form, and leave other forms alone', () => {
    const a = cert({ subject: ca1, issuer: root, ca: true, nc: nc([dns('example.com')]) });
    const b = cert({ subject: ca2, issuer: ca1, ca: true, nc: nc([dns('example.org')]) });
    expect(checkNameConstraints([a, b, cert({ subject: dn(''), issuer: ca2, san: [dns('example.org')] })])).toEqual(violated('dNSName example.org'));
    expect(checkNameConstraints([a, b, cert({ subject: dn(''), issuer: ca2, san: [rfc822('x@anywhere.net')] })])).toEqual(ok);
  });
  it('excluded subtrees of two CAs: both apply', () => {
    const a = cert({ subject: ca1, issuer: root, ca: true, nc: nc([], [dns('a.example')]) });
    const b = cert({ subject: ca2, issuer: ca1, ca: true, nc: nc([], [dns('b.example')]) });
    const leaf = (n: string) => cert({ subject: dn(''), issuer: ca2, san: [dns(n)] });
    expect(checkNameConstraints([a, b, leaf('x.a.example')])).toEqual(violated('dNSName x.a.example'));
    expect(checkNameConstraints([a, b, leaf('x.b.example')])).toEqual(violated('dNSName x.b.example'));
    expect(checkNameConstraints([a, b, leaf('x.c.example')])).toEqual(ok);
  });
  it('intermediate CA certificates are checked too (their subject DN)', () => {
    const a = cert({ subject: ca1, issuer: root, ca: true, nc: nc([dirName(dn('C=US/O=Org'))]) });
    const b = cert({ subject: dn('C=US/O=Rogue/CN=CA2'), issuer: ca1, ca: true });
    const leaf = cert({ subject: dn('C=US/O=Org/CN=EE'), issuer: dn('C=US/O=Rogue/CN=CA2') });
    expect(checkNameConstraints([a, b, leaf])).toEqual(violated('directoryName CN=CA2,O=Rogue,C=US'));
  });
  it('a self-issued intermediate is not checked, but its own constraints apply below it; a self-issued last one is checked', () => {
    const a = cert({ subject: ca1, issuer: root, ca: true, nc: nc([dirName(dn('C=US/O=Org/OU=Inside'))]) });
    const selfIssued = cert({ subject: ca1, issuer: ca1, ca: true, nc: nc([], [dns('bad.example')]) });
    expect(selfIssued.selfIssued).toBe(true);
    const leaf = (san: Uint8Array[]) => cert({ subject: dn('C=US/O=Org/OU=Inside/CN=EE'), issuer: ca1, san });
    expect(checkNameConstraints([a, selfIssued, leaf([dns('good.example')])])).toEqual(ok);
    expect(checkNameConstraints([a, selfIssued, leaf([dns('x.bad.example')])])).toEqual(violated('dNSName x.bad.example'));
    expect(checkNameConstraints([a, selfIssued])).toEqual(violated('directoryName CN=CA1,O=Org,C=US'));
  });
  it("the end entity's own nameConstraints constrain nothing (and are not read)", () => {
    const leaf = cert({ subject: dn('C=US/O=Org/CN=EE'), issuer: CA, nc: Uint8Array.of(0x30, 0x01) });
    expect(checkNameConstraints([cert({ subject: CA, issuer: ROOT, ca: true }), leaf])).toEqual(ok);
    expect(checkNameConstraints([leaf])).toEqual(ok);
    expect(checkNameConstraints([])).toEqual(ok);
  });
  it('without any name constraints, certificate names are not even parsed', () => {
    const leaf = cert({ subject: dn('C=US/CN=EE'), issuer: CA, san: [tlv(0x89, Uint8Array.of(1))] });
    expect(checkNameConstraints([cert({ subject: CA, issuer: ROOT, ca: true }), leaf])).toEqual(ok);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Limits

describe('the comparison limit', () => {
  it('counts name × subtree comparisons against maxChecks', () => {
    const two = nc([], [dns('a.example'), dns('b.example')]);
    expect(sanCheck(two, dns('c.example'))).toEqual(ok);
    expect(check(two, { san: [dns('c.example')] }, 2)).toEqual(ok);
    expect(check(two, { san: [dns('c.example')] }, 1)).toEqual({ ok: false, reason: 'name-constraints-limit' });
    expect(check(two, { san: [dns('c.example'), dns('d.example')] }, 3)).toEqual({ ok: false, reason: 'name-constraints-limit' });
  });
  it('maxChecks must be a non-negative integer', () => {
    for (const bad of [-1, 1.5, Number.NaN, Infinity]) expect(() => check(nc([dns('a.example')]), {}, bad)).toThrow(RangeError);
  });
  it('a hostile certificate with thousands of names under thousands of constraints stops at the limit (its time: npm run bench, security)', () => {
    const constraints = nc(
      Array.from({ length: 3000 }, (_, k) => dns(`p${k}.example`)),
      Array.from({ length: 3000 }, (_, k) => dns(`x${k}.example`)),
    );
    const san = Array.from({ length: 5000 }, (_, k) => dns(`h${k}.p2999.example`));
    const ca = cert({ subject: CA, issuer: ROOT, ca: true, nc: constraints });
    const leaf = cert({ subject: dn(''), issuer: CA, san });
    expect(checkNameConstraints([ca, leaf])).toEqual({ ok: false, reason: 'name-constraints-limit' });
    // The names are all allowed: with room for all the work the answer is ok, so the limit is what stopped it.
    const few = cert({ subject: dn(''), issuer: CA, san: san.slice(0, 10) });
    expect(checkNameConstraints([ca, few])).toEqual({ ok: false, reason: 'name-constraints-limit' });
    expect(checkNameConstraints([ca, few], 10 * 6000)).toEqual(ok);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// names.ts additions

describe('names.ts: rdnKeys and formatName', () => {
  it('rdnKeys gives one key per RDN, equal exactly when the RDNs match by §7.1, and agrees with nameKey', () => {
    const a = name([[C, printable('US')]], [[O, printable('Org')], [OU, utf8('Unit')]]);
    const b = name([[C, utf8('us ')]], [[OU, printable('UNIT')], [O, utf8('org')]]);
    expect(rdnKeys(a)).toHaveLength(2);
    expect(rdnKeys(a)).toEqual(rdnKeys(b));
    expect(namesMatch(a, b)).toBe(true);
    expect(nameKey(a)).toBe(nameKey(b));
    expect(rdnKeys(dn('C=US/O=Other'))![0]).toBe(rdnKeys(a)![0]);
    expect(rdnKeys(dn('C=US/O=Other'))![1]).not.toBe(rdnKeys(a)![1]);
    expect(rdnKeys(seq())).toEqual([]);
    expect(rdnKeys(Uint8Array.of(0x30, 0x02, 0x31, 0x00))).toBeUndefined();
    expect(rdnKeys(Uint8Array.of(0x30, 0x05))).toBeUndefined();
  });
  it('formatName: RFC 4514 order, short names, escapes, hex for non-strings, a length cap', () => {
    expect(formatName(dn('C=US/O=Org/CN=Alice'))).toBe('CN=Alice,O=Org,C=US');
    expect(formatName(name([[O, printable('a')], [CN, printable('b')]]))).toBe('O=a+CN=b');
    expect(formatName(name([[CN, utf8('#x ')]]))).toBe('CN=\\#x\\ ');
    expect(formatName(name([['1.2.3.4', integer(5)]]))).toBe('1.2.3.4=#020105');
    expect(formatName(seq())).toBe('');
    expect(formatName(Uint8Array.of(1, 2))).toBe('(malformed name)');
    expect(formatName(name([[CN, utf8('x'.repeat(500))]]))).toBe(`CN=${'x'.repeat(253)}…`);
  });
});
