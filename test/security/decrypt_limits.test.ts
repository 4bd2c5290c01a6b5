/**
 * Issue 10, finding 7 (decryption): the work one message can cause is bounded by `maxRecipientInfos` (checked
 * while parsing, before any private-key work) and `maxKeyTrials` (private-key operations, refused before the
 * first one), from the store's limits or the call's `options.limits`. The work done before each error is counted
 * (RSA operations, key agreements, content decryptions), never timed.
 */
import { describe, expect, it } from 'vitest';
import { CertificateStore, CMSDecryptionFailed, CMSLimitExceeded, decryptMessage, openMessage } from '../../src/index.js';
import { algorithmIdentifier, explicit, integer, octets, oid, seq, tlv } from '../../src/lib/der.js';
import { KA_OIDS } from '../../src/cms/kari.js';
import { storeWith } from '../_helpers/identities.js';
import {
  authEnvelopedData,
  cbc,
  countingCrypto,
  envelopedData,
  gcm,
  key32,
  ktri,
  MIME,
  rejection,
  ridOf,
  rsaPub,
  smime,
  wrapBad,
  wrapGood,
} from './_decrypt_envelope.js';
import { storeInternals } from '../../src/store/internal.js';

/** The limit error a decryption ended in, and the work done before it. */
async function limitHit(message: string, store: CertificateStore, limits?: Record<string, number>) {
  const { crypto, counts } = countingCrypto();
  const e = await rejection(decryptMessage(message, { store, crypto, ...(limits ? { limits } : {}) }));
  expect(e).toBeInstanceOf(CMSLimitExceeded);
  return { limit: (e as CMSLimitExceeded).limit, counts };
}

const NO_WORK = { rsa: 0, decrypt: 0, bytes: 0, deriveBits: 0 };

describe('decryption limits', async () => {
  const store = await storeWith(['alice-enc-2025']);
  const alice = storeInternals(store).identities()[0]!;
  const pub = rsaPub(alice);
  const body = cbc(key32(), MIME);
  /** EnvelopedData with `n` KeyTransRecipientInfos for alice's key that don't name her (or do, with `named`). */
  const bogus = (n: number, named = false): string => {
    const ri = ktri(ridOf(alice, !named), wrapBad(pub));
    return smime(envelopedData(Array.from({ length: n }, () => ri), body.alg, body.ciphertext));
  };

  it('maxRecipientInfos: more RecipientInfos than the limit is refused before any private-key operation', async () => {
    expect(await limitHit(bogus(1025), store)).toEqual({ limit: 'maxRecipientInfos', counts: NO_WORK });
    expect(await limitHit(bogus(4), store, { maxRecipientInfos: 3 })).toEqual({ limit: 'maxRecipientInfos', counts: NO_WORK });
    // At the limit: every try is made, and the message fails like any other.
    const { crypto, counts } = countingCrypto();
    const e = await rejection(decryptMessage(bogus(3), { store, crypto, limits: { maxRecipientInfos: 3 } }));
    expect(e).toBeInstanceOf(CMSDecryptionFailed);
    expect(counts.rsa).toBe(3);
  });

  it('maxKeyTrials: the fallback is refused whole, before its first private-key operation', async () => {
    expect(await limitHit(bogus(65), store)).toEqual({ limit: 'maxKeyTrials', counts: NO_WORK });
    expect(await limitHit(bogus(3), store, { maxKeyTrials: 2 })).toEqual({ limit: 'maxKeyTrials', counts: NO_WORK });
    const { crypto, counts } = countingCrypto();
    expect(await rejection(decryptMessage(bogus(2), { store, crypto, limits: { maxKeyTrials: 2 } }))).toBeInstanceOf(CMSDecryptionFailed);
    expect(counts).toMatchObject({ rsa: 2, decrypt: 2 });
    // Every RSA identity is a try on every RecipientInfo: 2 keys × 2 RecipientInfos > 3.
    const two = await storeWith(['alice-enc-2025', 'bob']);
    expect(await limitHit(bogus(2), two, { maxKeyTrials: 3 })).toEqual({ limit: 'maxKeyTrials', counts: NO_WORK });
    // The store's own limits apply when the call gives none.
    const strict = await storeWith(['alice-enc-2025'], [], { limits: { maxKeyTrials: 1 } });
    expect(await limitHit(bogus(2), strict)).toEqual({ limit: 'maxKeyTrials', counts: NO_WORK });
    // openMessage uses the store's limits too.
    const e = await rejection(openMessage(bogus(2), { store: strict }));
    expect(e).toBeInstanceOf(CMSLimitExceeded);
    expect((e as CMSLimitExceeded).limit).toBe('maxKeyTrials');
  });

  it('maxKeyTrials: RecipientInfos that name our certificate count too; a message within the limits opens', async () => {
    expect(await limitHit(bogus(65, true), store)).toEqual({ limit: 'maxKeyTrials', counts: NO_WORK });
    expect(await limitHit(bogus(2, true), store, { maxKeyTrials: 1 })).toEqual({ limit: 'maxKeyTrials', counts: NO_WORK });
    // One matched try, however many others: the matched recipient opens it before the fallback is counted.
    const cek = key32();
    const sealed = gcm(cek, MIME);
    const others = Array.from({ length: 100 }, () => ktri(ridOf(alice, true), wrapBad(pub)));
    const auth = smime(authEnvelopedData([ktri(ridOf(alice), wrapGood(pub, cek)), ...others], sealed.alg, sealed.ciphertext, sealed.mac));
    const { crypto, counts } = countingCrypto();
    const r = await decryptMessage(auth, { store, crypto, limits: { maxKeyTrials: 1 } });
    expect(Buffer.from(r.content).equals(Buffer.from(MIME))).toBe(true);
    expect(counts.rsa).toBe(1);
  });

  it('the limits are validated: 0 or an unknown limit is an argument error', async () => {
    await expect(decryptMessage(bogus(1), { store, limits: { maxKeyTrials: 0 } })).rejects.toBeInstanceOf(RangeError);
    await expect(decryptMessage(bogus(1), { store, limits: { maxKeyTrial: 5 } as never })).rejects.toBeInstanceOf(TypeError);
  });

  describe('KeyAgreeRecipientInfo', async () => {
    const ec = await storeWith(['ec-enc']);
    const id = storeInternals(ec).identities()[0]!;
    // An originator key that is never used: every case stops before the key agreement.
    const point = new Uint8Array(65).fill(1);
    point[0] = 4;
    /** One KARI with `n` RecipientEncryptedKeys naming the EC identity. */
    const kari = (n: number): string => {
      const rek = seq(ridOf(id), octets(new Uint8Array(40)));
      const originator = explicit(0, tlv(0xa1, algorithmIdentifier('1.2.840.10045.2.1', oid('1.2.840.10045.3.1.7')), tlv(0x03, Uint8Array.of(0), point)));
      const ka = algorithmIdentifier(KA_OIDS.stdDhSha256kdf, algorithmIdentifier('2.16.840.1.101.3.4.1.5'));
      const ri = tlv(0xa1, integer(3), originator, ka, seq(...Array.from({ length: n }, () => rek)));
      return smime(envelopedData([ri], body.alg, body.ciphertext));
    };

    it('each RecipientEncryptedKey counts as a recipient (maxRecipientInfos)', async () => {
      expect(await limitHit(kari(1025), ec)).toEqual({ limit: 'maxRecipientInfos', counts: NO_WORK });
    });

    it('each RecipientEncryptedKey that names us is a key trial (maxKeyTrials)', async () => {
      expect(await limitHit(kari(65), ec)).toEqual({ limit: 'maxKeyTrials', counts: NO_WORK });
      // Within the limit each is tried (and fails: the originator key is no point on the curve).
      const { crypto } = countingCrypto();
      await expect(decryptMessage(kari(2), { store: ec, crypto })).rejects.toBeInstanceOf(CMSDecryptionFailed);
    });
  });
});
