/**
 * CRL entries are read on demand (src/certs/crl_entries.ts): parseCrl checks the revokedCertificates entries without
 * reading them (checkTime instead of parseTime, no keys, no Dates), and only a CRL whose signature verified has
 * entries read, only those about the certificate asked (`entriesFor`). Counted with `crlEntryReads`, never timed:
 * a signed message carrying 64 forged CRLs of 100 000 entries each reads none. The lazy reads give what reading
 * every entry gives (`bySerial`), by walk and by index, on an indirect CRL and on every mutant of it that parses.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCrl, type CrlEntry } from '../../src/certs/crl.js';
import { crlEntryReads, serialKey } from '../../src/certs/crl_entries.js';
import { checkRevocation } from '../../src/path/revocation.js';
import { certInfo } from '../../src/certs/cert_info.js';
import { checkTime, parseTime } from '../../src/lib/time.js';
import { children, integer, readTlv, seq, tlv } from '../../src/lib/der.js';
import { concat, toHex } from '../../src/lib/bytes.js';
import { signMessage, verifyMessage } from '../../src/index.js';
import { thrown } from '../_helpers/thrown.js';
import { cmsOf, makePki, MESSAGE, storeFor, withCrls, type TestPki } from '../sign/_pki.js';
import { ALICE, AT, CA, certIssuerExt, cnName, DAY, entry, ext, genTime, makeCrl, reasonExt } from './_crl_builder.js';

const d = (n: number) => new Date(AT.getTime() - n * DAY);
/** The entries read in full while `f` runs. */
async function reads<T>(f: () => T | Promise<T>): Promise<{ value: T; reads: number }> {
  const before = crlEntryReads.count;
  const value = await f();
  return { value, reads: crlEntryReads.count - before };
}
/** A 4-octet serial 0x10xxxxxx for entry `i`. */
const serialOf = (i: number) => Uint8Array.of(0x10, (i >> 16) & 255, (i >> 8) & 255, i & 255);

describe('checkTime accepts exactly what parseTime accepts', () => {
  const enc = (s: string, tag: number) => Uint8Array.of(tag, s.length, ...new TextEncoder().encode(s));
  const same = (der: Uint8Array) => {
    const t = readTlv(der, 0);
    const p = thrown(() => parseTime(der, t));
    const c = thrown(() => checkTime(der, t));
    return { parse: p === undefined, check: c === undefined, ok: (p === undefined) === (c === undefined) };
  };

  it('on the edge cases of both forms: ranges, leap years, seconds, fractions, years 0–99', () => {
    const cases: [string, number][] = [];
    for (const s of [
      '200131235959Z', '2001312359Z', '491231235959Z', '500101000000Z', '000229000000Z', '010229000000Z', '960229000000Z',
      '201301000000Z', '200132000000Z', '200230000000Z', '200101250000Z', '200101240000Z', '200101006000Z', '200101000060Z',
      '200100000000Z', '200001000000Z', '2001010000Z0', '200101000000', '200101000000z', '20010100000Z', '2001010000000Z',
      '200101000000.5Z', '20010100000aZ', '2001010000+0Z', '', 'Z', '200431000000Z', '200430000000Z', '200631000000Z',
    ])
      cases.push([s, 0x17]);
    for (const s of [
      '20200131235959Z', '202001312359Z', '20000229000000Z', '19000229000000Z', '21000229000000Z', '24000229000000Z',
      '20240229120000Z', '20230229120000Z', '00990101000000Z', '00000101000000Z', '01000101000000Z', '09991231235959Z',
      '99991231235959Z', '20200101000000.5Z', '20200101000000,123Z', '20200101000000.Z', '202001010000.5Z', '202001010000Z',
      '20200101000000.5', '20200101000000.5.5Z', '20200101000060Z', '20201301000000Z', '20200100000000Z', '20200101240000Z',
      '2020010100000Z', '20200101000000ZZ', '2020010100000aZ', '20200101000000.aZ', '20201131000000Z', '20201130000000Z',
    ])
      cases.push([s, 0x18]);
    for (const [s, tag] of cases) {
      const r = same(enc(s, tag));
      expect(r.ok, `${s} (tag ${tag}): parseTime ${r.parse}, checkTime ${r.check}`).toBe(true);
    }
    // Accepted ones really are accepted, and a time of another class or tag is not a time.
    expect(same(enc('20240229120000Z', 0x18)).check).toBe(true);
    expect(same(enc('19000229000000Z', 0x18)).check).toBe(false);
    expect(same(enc('200101000000Z', 0x97)).ok).toBe(true);
    expect(same(enc('200101000000Z', 0x04)).ok).toBe(true);
  });

  it('on 40 000 random near-times', () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const alphabet = '0123456789012345678901234567890123456789Z.,z+- ';
    const pad = (n: number, w: number) => String(n).padStart(w, '0');
    let accepted = 0;
    for (let k = 0; k < 40_000; k++) {
      let s: string;
      const utc = rnd(2) === 0;
      if (rnd(3) === 0) s = Array.from({ length: rnd(20) }, () => alphabet[rnd(alphabet.length)]).join('');
      else {
        // plausible fields, sometimes out of range, sometimes without seconds, with a fraction, or one character changed
        const year = utc ? pad(rnd(100), 2) : pad(rnd(3) === 0 ? rnd(10000) : 1900 + rnd(300), 4);
        s = year + pad(rnd(14), 2) + pad(rnd(33), 2) + pad(rnd(26), 2) + pad(rnd(62), 2) + (rnd(4) === 0 ? '' : pad(rnd(62), 2));
        if (!utc && rnd(4) === 0) s += (rnd(2) ? '.' : ',') + '0123456789'.slice(0, rnd(4));
        s += 'Z';
        if (rnd(6) === 0) {
          const i = rnd(s.length);
          s = s.slice(0, i) + alphabet[rnd(alphabet.length)] + s.slice(i + 1);
        }
      }
      const r = same(enc(s, utc ? 0x17 : 0x18));
      expect(r.ok, `${s}: parseTime ${r.parse}, checkTime ${r.check}`).toBe(true);
      if (r.parse) accepted++;
    }
    expect(accepted).toBeGreaterThan(5000); // both verdicts are well represented
  });
});

describe('parseCrl reads no entry; a lookup reads only the entries with that serial', () => {
  let der: Uint8Array;
  beforeAll(() => {
    const entries: Uint8Array[] = [];
    for (let i = 0; i < 100_000; i++) entries.push(entry(serialOf(i), d(2), i % 3 === 0 ? [reasonExt(1)] : undefined));
    entries.splice(77_777, 0, entry(ALICE.serial, d(3), [reasonExt(1), ext('2.5.29.24', genTime(d(4)))]));
    der = makeCrl({ entries });
  });

  it('100 001 entries: checked at parse time, none read; the revocation check reads the one about Alice', async () => {
    const { value: crl, reads: atParse } = await reads(() => parseCrl(der));
    expect(atParse).toBe(0);
    expect(crl.entryCount).toBe(100_001);
    expect(crl.unknownCriticalEntryExtension).toBe(false);
    const { value: r, reads: atCheck } = await reads(() =>
      checkRevocation({ cert: ALICE, issuer: CA, crls: [crl], pool: [], at: AT, validateCrlSigner: async () => false }),
    );
    expect(r).toEqual({ status: 'revoked', date: d(3), reason: 1 });
    expect(atCheck).toBe(1);
  });

  it('entriesFor: the matches only, by value; nothing for an absent serial', async () => {
    const crl = parseCrl(der);
    const { value: none, reads: r0 } = await reads(() => crl.entriesFor(Uint8Array.of(0x42)));
    expect(none).toEqual([]);
    expect(r0).toBe(0);
    const { value: one, reads: r1 } = await reads(() => crl.entriesFor(Uint8Array.of(0x00, ...serialOf(99_999))));
    expect(r1).toBe(1);
    expect(one.map((e) => [e.key, e.reason, e.date])).toEqual([[serialKey(serialOf(99_999)), 1, d(2)]]);
    const alice = crl.entriesFor(ALICE.serial)[0]!;
    expect(alice.invalidityDate).toEqual(d(4));
    expect(alice.extensions.map((x) => x.oid)).toEqual(['2.5.29.21', '2.5.29.24']);
  });

  it('a CRL kept and looked up again and again: the same answers after the index replaces the walk', async () => {
    const crl = parseCrl(der);
    const asked = [serialOf(0), serialOf(5), ALICE.serial, serialOf(99_999), Uint8Array.of(0x42), serialOf(50_000)];
    const first = asked.map((s) => crl.entriesFor(s)); // 6 walks
    const { value: again, reads: n } = await reads(() => [...asked, ...asked].map((s) => crl.entriesFor(s))); // the index from the 3rd
    expect(again).toEqual([...first, ...first]);
    expect(n).toBe(2 * 5);
    expect(first.map((l) => l.length)).toEqual([1, 1, 1, 1, 0, 1]);
  });
});

/** An indirect CRL: entries of three issuers (certificateIssuer carried to the following entries), repeated serials, serials equal by value. */
function indirectCrl(): Uint8Array {
  const other = cnName('Other CA');
  const third = cnName('Third CA');
  return makeCrl({
    exts: [ext('2.5.29.28', seq(tlv(0x84, Uint8Array.of(0xff))), true)],
    entries: [
      entry(Uint8Array.of(1), d(10), [reasonExt(1), ext('2.5.29.24', genTime(d(12)))]),
      entry(Uint8Array.of(2), d(9), [certIssuerExt(other)]),
      entry(Uint8Array.of(3), d(8), [reasonExt(4)]),
      entry(Uint8Array.of(2), d(7), [certIssuerExt(third), reasonExt(9)]),
      entry(Uint8Array.of(0x00, 0xff), d(6)),
      entry(Uint8Array.of(0xff), d(5), [certIssuerExt(CA.subject)]),
      entry(Uint8Array.of(0x00, 0x00, 0xff), d(4), [ext('1.2.3.4', integer(1))]),
      entry(Uint8Array.of(1), d(3), [reasonExt(8)]),
    ],
  });
}

/** The serials of the revokedCertificates of `der` (a CRL that parses), read with the generic reader. */
function serialsOf(der: Uint8Array): Uint8Array[] {
  const f = children(der, children(der, readTlv(der, 0))[0]!);
  let i = f[0]!.tagNo === 2 ? 3 : 2; // past the version, signature and issuer
  i += f[i + 1] && (f[i + 1]!.tagNo === 23 || f[i + 1]!.tagNo === 24) ? 2 : 1; // past thisUpdate and nextUpdate
  const list = f[i];
  if (!list || list.cls !== 0 || list.tagNo !== 16) return [];
  return children(der, list).map((e) => {
    const sn = readTlv(der, e.contentStart, e.contentEnd);
    return der.subarray(sn.contentStart, sn.contentEnd);
  });
}

/** An entry as plain data, every field (so that one comparison covers a whole CRL's lookups). */
const plain = (e: CrlEntry) => [
  toHex(e.serial),
  e.key,
  e.date.getTime(),
  e.reason,
  e.invalidityDate?.getTime(),
  e.certificateIssuer?.map(toHex),
  e.unknownCritical,
  e.extensions.map((x) => [x.oid, x.critical, toHex(x.value)]),
];

/** Checks that every lookup (by walk, then by index) gives what reading all the entries gives. */
function lookupsMatchFullRead(der: Uint8Array): void {
  const full = parseCrl(der).bySerial;
  const asked = [...serialsOf(der), Uint8Array.of(0x7f), Uint8Array.of(0x00)];
  const crl = parseCrl(der);
  const got: unknown[] = [];
  const want: unknown[] = [];
  for (let round = 0; round < 2; round++) {
    for (const s of asked) {
      got.push(crl.entriesFor(s).map(plain));
      want.push((full.get(serialKey(s)) ?? []).map(plain));
    }
  }
  expect(asked.length * 2).toBeGreaterThan(8); // the second round is by index
  expect(got).toEqual(want);
}

describe('entriesFor gives what reading every entry gives', () => {
  it('an indirect CRL: the certificateIssuer in force, serials by value, repeated serials, by walk and by index', () => {
    const der = indirectCrl();
    lookupsMatchFullRead(der);
    const crl = parseCrl(der);
    expect(crl.entriesFor(Uint8Array.of(2)).map((e) => [e.reason, e.certificateIssuer?.length])).toEqual([
      [undefined, 1],
      [9, 1],
    ]);
    // 00 00 FF is 255 like 00 FF, under the certificateIssuer of the entry before it (CA.subject); FF is -1
    expect(crl.entriesFor(Uint8Array.of(0xff)).map((e) => e.date)).toEqual([d(5)]);
    const e255 = crl.entriesFor(Uint8Array.of(0x00, 0xff));
    expect(e255.map((e) => e.date)).toEqual([d(6), d(4)]);
    expect(e255[1]!.certificateIssuer).toEqual([CA.subject]);
    expect([...crl.revoked.keys()]).toEqual(['01']); // the others are under a certificateIssuer
  });

  it('every byte flip of it that parses: reading all entries never fails, and every lookup agrees with it', () => {
    const good = indirectCrl();
    let parsed = 0;
    for (let i = 0; i < good.length; i++) {
      for (const x of [0xff, 0x01, 0x80]) {
        const m = good.slice();
        m[i] ^= x;
        if (thrown(() => parseCrl(m)) !== undefined) continue;
        parsed++;
        lookupsMatchFullRead(m);
      }
    }
    expect(parsed).toBeGreaterThan(100);
  }, 60_000);

  it('an unknown critical entry extension is known at parse time, before any entry is read', async () => {
    const der = makeCrl({ entries: [entry(Uint8Array.of(5), d(3)), entry(Uint8Array.of(6), d(3), [ext('1.2.3.6', integer(1), true)])] });
    const { value: crl, reads: n } = await reads(() => parseCrl(der));
    expect(crl.unknownCriticalEntryExtension).toBe(true);
    expect(n).toBe(0);
    const r = await checkRevocation({ cert: ALICE, issuer: CA, crls: [crl], pool: [], at: AT, validateCrlSigner: async () => false });
    expect(r).toEqual({ status: 'unknown', reason: 'crl-unknown-critical-extension' });
  });
});

describe('a signed message carrying 64 forged CRLs of 100 000 entries each', () => {
  let pki: TestPki;
  let signedDer: Uint8Array;
  beforeAll(async () => {
    pki = await makePki();
    const alice = await storeFor(pki, ['alice-sign']);
    signedDer = cmsOf(await signMessage(MESSAGE, { store: alice, from: 'alice@example.com', detached: false }));
  });

  it('reads no entry: the CRLs fail their signature check before any entry is looked at', async () => {
    // The signer's CA as issuer, its real CRL's algorithms, a signature that does not verify.
    const real = pki.crlDer;
    const [, algT, sigT] = children(real, readTlv(real, 0));
    const piece = (t: { start: number; end: number }) => real.subarray(t.start, t.end);
    const now = Date.now();
    const utc = (ms: number) => tlv(0x17, new TextEncoder().encode(new Date(ms).toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'));
    const entries: Uint8Array[] = [];
    for (let i = 0; i < 100_000; i++) entries.push(seq(tlv(0x02, serialOf(i)), utc(now - 3 * DAY)));
    const tbs = seq(
      integer(1),
      piece(algT!),
      certInfo(pki.ca.der).subject,
      utc(now - DAY),
      utc(now + 7 * DAY),
      seq(concat(entries)),
    );
    const sig = real.slice(sigT!.start, sigT!.end);
    sig[sig.length - 5]! ^= 0x55;
    const forged = seq(tbs, piece(algT!), sig);
    expect(parseCrl(forged).entryCount).toBe(100_000);

    const cms = withCrls(signedDer, Array.from({ length: 64 }, () => forged));
    const message = concat([
      new TextEncoder().encode(
        'From: alice@example.com\r\nTo: bob@example.com\r\nSubject: t\r\nMIME-Version: 1.0\r\n' +
          'Content-Type: application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"\r\nContent-Transfer-Encoding: binary\r\n\r\n',
      ),
      cms,
    ]);
    const store = await storeFor(pki, ['bob']);
    const { value: r, reads: n } = await reads(() => verifyMessage(message, { store, harvest: false }));
    expect(n).toBe(0);
    const s = r.signers[0]!;
    // The CRLs were considered (the CA's, current) and refused for their signature: the status is not "valid".
    expect(s.status).toBe('untrusted');
    expect(s.reasons.join(' ')).toMatch(/crl-signature-invalid|crl-check-limit/);
  }, 120_000);
});
