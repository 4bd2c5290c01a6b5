// The PKCS#1 v1.5 oracle check (issue 10, finding 6): the time of one key try in the trial-key fallback (no
// RecipientIdentifier names the key), with a good padding around a wrong CEK and with a bad padding. Both must do
// the same work (RFC 3218 §2.3.2: a bad padding goes on with a random CEK); test/security/decrypt_oracle.test.ts
// proves it by counting, this shows what is left in time (JavaScript promises no constant time). Each message has
// one KeyTransRecipientInfo that names nobody and bob's key is tried on it; the decryption fails either way.
import { randomBytes, createCipheriv } from 'node:crypto';
import { decryptMessage } from '../dist/index.node.js';
import { algorithmIdentifier, explicit, integer, NULL, octets, oid, seq, set, tlv } from '../dist/lib/der.js';
import { OIDS } from '../dist/cms/oids.js';
import { storeInternals } from '../dist/store/internal.js';
import { i2osp, os2ip } from '../dist/crypto/bigint.js';
import { parseRsaPublicKey } from '../dist/crypto/rsa_key.js';
import { rsaPublic, rsaesPkcs1v15Encrypt } from '../dist/crypto/rsa.js';
import { bobStore, check, KiB, makeMessage, measure, sizeName } from './_utils.js';

const AES256_CBC = '2.16.840.1.101.3.4.1.42';

/** EnvelopedData (AES-256-CBC) with one PKCS#1 v1.5 KeyTransRecipientInfo naming no certificate, as base64 MIME. */
function fallbackMessage(store, content, encryptedKey) {
  const id = storeInternals(store).identities()[0];
  const rid = seq(id.info.issuer, integer(0x7a11ce));
  const ri = seq(integer(0), rid, algorithmIdentifier(OIDS.rsaEncryption, NULL), octets(encryptedKey));
  const iv = randomBytes(16);
  const c = createCipheriv('aes-256-cbc', randomBytes(32), iv);
  const ct = new Uint8Array(Buffer.concat([c.update(content), c.final()]));
  const eci = seq(oid(OIDS.data), algorithmIdentifier(AES256_CBC, octets(iv)), tlv(0x80, ct));
  const der = seq(oid(OIDS.envelopedData), explicit(0, seq(integer(0), set(ri), eci)));
  const b64 = Buffer.from(der).toString('base64').replace(/.{1,76}/g, '$&\r\n');
  return `MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}`;
}

/** An encrypted key whose padding is bad (EM = 00 01 …). */
function badPadding(pub) {
  const k = Math.ceil(pub.n.toString(16).length / 2);
  const em = new Uint8Array(randomBytes(k));
  em[0] = 0;
  em[1] = 1;
  return i2osp(rsaPublic(pub, os2ip(em)), k);
}

/**
 * Rows `{ name, ms }`: the median time of one failed decryption with a good and with a bad padding, per message
 * size (`quick`: one small size, fewer rounds).
 */
export async function oracleRows({ quick = false } = {}) {
  const store = await bobStore();
  const pub = parseRsaPublicKey(storeInternals(store).identities()[0].info.spki);
  const sizes = quick ? [KiB] : [KiB, 64 * KiB, 1024 * KiB];
  const rows = [];
  for (const size of sizes) {
    const { inner } = makeMessage(size);
    const good = fallbackMessage(store, inner, rsaesPkcs1v15Encrypt(pub, randomBytes(32)));
    const bad = fallbackMessage(store, inner, badPadding(pub));
    const fails = async (m) => {
      const ok = await decryptMessage(m, { store }).then(
        () => false,
        (e) => e.code === 'ERR_CMS_DECRYPTION_FAILED',
      );
      check(ok, 'a fallback try with the wrong key fails with CMSDecryptionFailed');
    };
    await fails(good);
    await fails(bad);
    const ms = await measure(
      { good: () => fails(good), bad: () => fails(bad) },
      quick ? { rounds: 1, iterations: 20, gcEach: false } : { rounds: 3, iterations: 50, gcEach: false },
    );
    rows.push({ name: `fallback try, good padding, ${sizeName(size)}`, ms: ms.good });
    rows.push({ name: `fallback try, bad padding, ${sizeName(size)}`, ms: ms.bad });
  }
  return rows;
}
