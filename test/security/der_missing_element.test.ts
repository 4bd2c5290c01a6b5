/**
 * Found by the fuzzer (test/fuzz, crl target): a structure with an element missing (an empty crlExtensions, an
 * Extension with no OID) made the callers of src/cms/der.ts pass `undefined` to `children`/`decodeOid`/
 * `stringContent`, which threw a TypeError. A missing element is malformed input: CMSInvalid, from der.ts itself,
 * for every caller at once.
 */
import { describe, expect, it } from 'vitest';
import { CMSInvalid, verifyMessage } from '../../src/index.js';
import { algorithmIdentifier, children, decodeOid, explicit, integer, NULL, oid, seq, set, stringContent, tlv } from '../../src/lib/der.js';
import { storeWith, vfile } from '../_helpers/identities.js';

const te = new TextEncoder();
const name = seq(set(seq(oid('2.5.4.3'), tlv(0x0c, te.encode('CA')))));
const time = tlv(0x17, te.encode('261101000000Z'));
const sigAlg = algorithmIdentifier('1.2.840.113549.1.1.11', NULL);

function crl(...tail: Uint8Array[]): Uint8Array {
  return seq(seq(integer(1), sigAlg, name, time, time, ...tail), sigAlg, tlv(0x03, Uint8Array.of(0, 1, 2, 3)));
}

describe('der.ts: a missing element is CMSInvalid', () => {
  const buf = Uint8Array.of(0x30, 0x00);
  it('children, decodeOid and stringContent of a missing element', () => {
    expect(() => children(buf, undefined)).toThrow(CMSInvalid);
    expect(() => decodeOid(buf, undefined)).toThrow(CMSInvalid);
    expect(() => stringContent(buf, undefined)).toThrow(CMSInvalid);
  });

  const cases: [string, Uint8Array][] = [
    ['an empty crlExtensions [0]', crl(explicit(0))],
    ['a CRL entry extension without an OID', crl(seq(seq(integer(5), time, seq(seq()))))],
    ['a crlExtensions Extension without an OID', crl(explicit(0, seq(seq())))],
  ];
  for (const [what, der] of cases) {
    it(`verifyMessage with a CRL with ${what}: CMSInvalid`, async () => {
      const store = await storeWith([]);
      await expect(verifyMessage(vfile('openssl/sig-rsa-detached.eml'), { store, crls: [der] })).rejects.toThrow(CMSInvalid);
    });
  }
});
