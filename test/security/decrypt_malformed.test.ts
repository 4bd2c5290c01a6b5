/**
 * Issue 10, finding 9 (the encryption half): every malformed part of an EnvelopedData, AuthEnvelopedData,
 * KeyTransRecipientInfo or KeyAgreeRecipientInfo ends in a SmimeError with a stable code and a message that names
 * the structure, never a TypeError (nor a TypeError's message wrapped in a CMSInvalid) from reading a child that
 * isn't there. Also: a huge INTEGER where a small one is expected is refused at once.
 */
import { describe, expect, it } from 'vitest';
import { decryptMessage, SmimeError } from '../../src/index.js';
import { algorithmIdentifier, explicit, integer, NULL, octets, oid, seq, tlv } from '../../src/lib/der.js';
import { KA_OIDS } from '../../src/cms/kari.js';
import { keyKind } from '../../src/certs/cert_info.js';
import { OIDS } from '../../src/cms/oids.js';
import { storeWith } from '../_helpers/identities.js';
import { AES256_CBC, AES256_GCM, authEnvelopedData, cbc, envelopedData, key32, ktri, MIME, rejection, ridOf, rsaPub, smime, wrapGood } from './_decrypt_envelope.js';
import { storeInternals } from '../../src/store/internal.js';

/** What a TypeError's message looks like, wrapped or not. */
const CRASH = /undefined|null|Cannot read|is not a function|is not iterable/;

describe('malformed envelopes are typed errors', async () => {
  const store = await storeWith(['alice-enc-2025', 'ec-enc']);
  const alice = storeInternals(store).identities().find((i) => keyKind(i.info) === 'rsa')!;
  const ec = storeInternals(store).identities().find((i) => keyKind(i.info) === 'ec')!;
  const ek = wrapGood(rsaPub(alice), key32());
  const body = cbc(key32(), MIME);
  const goodRi = ktri(ridOf(alice), ek);

  async function expectInvalid(der: Uint8Array, what = ''): Promise<void> {
    const e = await rejection(decryptMessage(smime(der), { store }));
    expect(e, `${what}: ${e.name}: ${e.message}`).toBeInstanceOf(SmimeError);
    expect((e as SmimeError).code, what).toBe('ERR_CMS_INVALID');
    expect(e.message, what).not.toMatch(CRASH);
  }

  const contentAlgorithms: [string, Uint8Array][] = [
    ['SEQUENCE {}', seq()],
    ['an INTEGER', integer(1)],
    ['SEQUENCE { INTEGER }', seq(integer(1))],
    ['SEQUENCE { NULL }', seq(NULL)],
    ['RC2 with SEQUENCE {} parameters', algorithmIdentifier(OIDS.rc2CBC, seq())],
    ['RC2 with SEQUENCE { INTEGER, NULL }', algorithmIdentifier(OIDS.rc2CBC, seq(integer(58), NULL))],
    ['AES-GCM with SEQUENCE {} parameters', algorithmIdentifier(AES256_GCM, seq())],
    ['AES-CBC with no IV', algorithmIdentifier(AES256_CBC)],
  ];
  it('contentEncryptionAlgorithm: missing or wrong parts', async () => {
    for (const [name, alg] of contentAlgorithms) {
      await expectInvalid(envelopedData([goodRi], alg, body.ciphertext), name);
      await expectInvalid(authEnvelopedData([goodRi], alg, body.ciphertext, new Uint8Array(16)), name);
    }
  });

  it('contentEncryptionAlgorithm: an INTEGER parameter longer than 4 bytes is refused before it is read', async () => {
    // A BigInt read byte by byte is quadratic: 256 KiB took minutes (a fuzzed 1.1 MB message took 12 s).
    for (const n of [5, 64 * 1024]) {
      const len = new Uint8Array(n).fill(0x7f);
      len[n - 1] = 16;
      if (n === 5) len.fill(0, 0, 4); // 00 00 00 00 10: 16 written long
      await expectInvalid(authEnvelopedData([goodRi], algorithmIdentifier(AES256_GCM, seq(octets(new Uint8Array(12)), tlv(0x02, len))), body.ciphertext, new Uint8Array(16)), `${n} bytes`);
    }
  });

  const ktris: [string, Uint8Array][] = [
    ['rid SEQUENCE {}', seq(integer(0), seq(), algorithmIdentifier(OIDS.rsaEncryption, NULL), octets(ek))],
    ['rid SEQUENCE { issuer } without a serial', seq(integer(0), seq(alice.info.issuer), algorithmIdentifier(OIDS.rsaEncryption, NULL), octets(ek))],
    ['rid of an unknown kind', seq(integer(0), tlv(0x85, Uint8Array.of(1)), algorithmIdentifier(OIDS.rsaEncryption, NULL), octets(ek))],
    ['keyEncryptionAlgorithm SEQUENCE {}', seq(integer(0), ridOf(alice), seq(), octets(ek))],
    ['keyEncryptionAlgorithm an OCTET STRING', seq(integer(0), ridOf(alice), octets(ek), octets(ek))],
    ['RSA-OAEP hashFunc [0] {}', seq(integer(0), ridOf(alice), algorithmIdentifier(OIDS.rsaesOaep, seq(explicit(0))), octets(ek))],
    ['RSA-OAEP hashFunc [0] { SEQUENCE {} }', seq(integer(0), ridOf(alice), algorithmIdentifier(OIDS.rsaesOaep, seq(explicit(0, seq()))), octets(ek))],
    ['RSA-OAEP MGF1 without its hash', seq(integer(0), ridOf(alice), algorithmIdentifier(OIDS.rsaesOaep, seq(explicit(1, algorithmIdentifier(OIDS.mgf1)))), octets(ek))],
    ['RSA-OAEP pSource label not an OCTET STRING', seq(integer(0), ridOf(alice), algorithmIdentifier(OIDS.rsaesOaep, seq(explicit(2, algorithmIdentifier(OIDS.pSpecified, seq())))), octets(ek))],
    ['encryptedKey a SEQUENCE', seq(integer(0), ridOf(alice), algorithmIdentifier(OIDS.rsaEncryption, NULL), seq())],
  ];
  it('KeyTransRecipientInfo: missing or wrong parts', async () => {
    for (const [name, ri] of ktris) await expectInvalid(envelopedData([ri], body.alg, body.ciphertext), name);
  });

  const point = Uint8Array.of(4, ...new Uint8Array(64).fill(1));
  const originator = explicit(0, tlv(0xa1, algorithmIdentifier('1.2.840.10045.2.1', oid('1.2.840.10045.3.1.7')), tlv(0x03, Uint8Array.of(0), point)));
  const ka = algorithmIdentifier(KA_OIDS.stdDhSha256kdf, algorithmIdentifier('2.16.840.1.101.3.4.1.5'));
  const rek = seq(ridOf(ec), octets(new Uint8Array(40)));
  const karis: [string, Uint8Array][] = [
    ['empty', tlv(0xa1)],
    ['RecipientEncryptedKey with rid SEQUENCE {}', tlv(0xa1, integer(3), originator, ka, seq(seq(seq(), octets(new Uint8Array(40)))))],
    ['RecipientEncryptedKey SEQUENCE {}', tlv(0xa1, integer(3), originator, ka, seq(seq()))],
    ['originatorKey algorithm SEQUENCE {}', tlv(0xa1, integer(3), explicit(0, tlv(0xa1, seq(), tlv(0x03, Uint8Array.of(0), point))), ka, seq(rek))],
    ['keyEncryptionAlgorithm SEQUENCE {}', tlv(0xa1, integer(3), originator, seq(), seq(rek))],
    ['key wrap SEQUENCE {}', tlv(0xa1, integer(3), originator, algorithmIdentifier(KA_OIDS.stdDhSha256kdf, seq()), seq(rek))],
  ];
  it('KeyAgreeRecipientInfo: missing or wrong parts', async () => {
    for (const [name, ri] of karis) await expectInvalid(envelopedData([ri], body.alg, body.ciphertext), name);
  });

  it('EnvelopedData without its parts (and an empty content-encryption AlgorithmIdentifier)', async () => {
    await expectInvalid(envelopedData([goodRi], seq(), body.ciphertext));
    const ci = (...fields: Uint8Array[]) => seq(oid(OIDS.envelopedData), explicit(0, seq(...fields)));
    await expectInvalid(ci());
    await expectInvalid(ci(integer(0)));
    await expectInvalid(ci(integer(0), tlv(0x31, goodRi)));
    await expectInvalid(ci(integer(0), tlv(0x31, goodRi), seq()));
    await expectInvalid(ci(integer(0), tlv(0x31, goodRi), seq(oid(OIDS.data))));
    await expectInvalid(seq(oid(OIDS.envelopedData)));
  });
});
