/**
 * A CRL applies to a certificate when its issuer name matches the certificate's issuer by RFC 5280 §7.1 (the rule
 * of certs/names.ts), not only byte for byte: a CA may encode its name in its CRLs differently (UTF8String for
 * PrintableString, other capitalisation and spacing). The CRLs are built with the DER writer and signed with the
 * sample issuing CA of vectors/pki, as in crl.test.ts; Alice's signing certificate is the one revoked.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createPrivateKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { certInfo } from '../../src/certs/cert_info.js';
import { loadCertificates } from '../../src/certs/load.js';
import { namesMatch } from '../../src/certs/names.js';
import { signMessage, verifyMessage, type SignerResult } from '../../src/index.js';
import { algorithmIdentifier, explicit, implicitPrim, integer, NULL, octets, oid, seq, set, tlv } from '../../src/lib/der.js';
import { equal } from '../../src/lib/bytes.js';
import { VECTORS } from '../_helpers/env.js';
import { certPem, REFERENCE_DATE, storeWith } from '../_helpers/identities.js';

const SHA256_RSA = '1.2.840.113549.1.1.11';
const DAY = 86_400_000;
/** The CRLs are dated around the reference date, the time the sample stores judge at (see storeWith). */
const NOW = REFERENCE_DATE.getTime();
const CA_KEY = createPrivateKey(readFileSync(join(VECTORS, 'pki', 'issuing-ca.key.pem'), 'utf8'));
const CA = certInfo(loadCertificates(readFileSync(join(VECTORS, 'pki', 'issuing-ca.cert.pem'), 'utf8'))[0]!);
const ALICE = certInfo(loadCertificates(certPem('alice-sign'))[0]!);

const enc = new TextEncoder();
const rdn = (type: string, value: Uint8Array) => set(seq(oid(type), value));
const utf8 = (s: string) => tlv(0x0c, enc.encode(s));
const printable = (s: string) => tlv(0x13, enc.encode(s));
/** The issuing CA's name (C=US printable, O and CN UTF8String) in other case, spacing and string types. */
const REENCODED = seq(rdn('2.5.4.6', utf8('us')), rdn('2.5.4.10', utf8('  SMIME-CORE  Demo pki')), rdn('2.5.4.3', printable('SMIME-CORE demo ISSUING CA ')));
/** Another name: its CRL must not apply. */
const OTHER = seq(rdn('2.5.4.6', utf8('us')), rdn('2.5.4.10', utf8('smime-core demo PKI')), rdn('2.5.4.3', utf8('smime-core Demo Other CA')));

function utcTime(d: Date): Uint8Array {
  return tlv(0x17, enc.encode(d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'));
}
const ext = (id: string, value: Uint8Array) => seq(oid(id), octets(value));

/** A CRL signed by the issuing CA, naming `issuer`, revoking Alice for keyCompromise. */
function crl(issuer: Uint8Array): Uint8Array {
  const tbs = seq(
    integer(1),
    algorithmIdentifier(SHA256_RSA, NULL),
    issuer,
    utcTime(new Date(NOW - DAY)),
    utcTime(new Date(NOW + 30 * DAY)),
    seq(seq(tlv(0x02, ALICE.serial), utcTime(new Date(NOW - 5 * DAY)), seq(ext('2.5.29.21', tlv(0x0a, Uint8Array.of(1)))))),
    explicit(0, seq(ext('2.5.29.35', seq(implicitPrim(0, CA.ski!))))),
  );
  return seq(tbs, algorithmIdentifier(SHA256_RSA, NULL), tlv(0x03, Uint8Array.of(0), new Uint8Array(sign('sha256', tbs, CA_KEY))));
}

describe('CRL issuer matching by RFC 5280 §7.1', () => {
  let signed: Uint8Array;
  beforeAll(async () => {
    const alice = await storeWith(['alice-sign']);
    signed = await signMessage('From: alice@example.com\r\nTo: bob@example.com\r\nSubject: crl\r\nContent-Type: text/plain\r\n\r\nhello\r\n', {
      store: alice,
      from: 'alice@example.com',
    });
  });
  const signer = async (crls: Uint8Array[], trust = true): Promise<SignerResult> =>
    (await verifyMessage(signed, { store: await storeWith([], ['alice-sign'], { trust }), harvest: false, crls })).signers[0]!;
  const revoked = (s: SignerResult) => s.reasons.filter((r) => r.startsWith('revoked'));

  it('the re-encoded name differs in bytes but matches the CA subject and Alice issuer', () => {
    expect(equal(REENCODED, CA.subject)).toBe(false);
    expect(namesMatch(REENCODED, CA.subject)).toBe(true);
    expect(namesMatch(REENCODED, ALICE.issuer)).toBe(true);
    expect(namesMatch(OTHER, CA.subject)).toBe(false);
  });

  it('a CRL naming the CA in another encoding revokes (chain to the anchor found)', async () => {
    expect((await signer([])).status).toBe('valid');
    const s = await signer([crl(REENCODED)]);
    expect(s.status).toBe('revoked');
    expect(revoked(s)).toHaveLength(1);
  });

  it('without a chain (no anchor) the CA is still found as the CRL signer by name matching', async () => {
    const before = await signer([], false);
    expect(revoked(before)).toEqual([]);
    expect(revoked(await signer([crl(REENCODED)], false))).toHaveLength(1);
  });

  it('a CRL naming another CA does not apply, though the CA key signed it', async () => {
    const s = await signer([crl(OTHER)]);
    expect(s.status).toBe('valid');
    expect(revoked(s)).toEqual([]);
  });
});
