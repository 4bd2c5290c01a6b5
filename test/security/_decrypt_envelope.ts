/**
 * Builders for the decryption security tests: EnvelopedData and AuthEnvelopedData assembled field by field (so a
 * test can put any RecipientInfo, any key transport block and any AlgorithmIdentifier in them), and a counting
 * `Crypto` that reports the work a decryption did: RSA private-key operations (through its own raw RSA
 * accelerator, Node's, which counts and computes), content decryptions and the bytes they took, and key agreements.
 * An injected Crypto gets no other accelerator (src/crypto/provider.ts), so every content decryption is a WebCrypto
 * `decrypt` call it sees.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { StoredIdentity as Identity } from '../../src/store/internal.js';
import { algorithmIdentifier, explicit, integer, NULL, octets, oid, seq, set, tlv } from '../../src/lib/der.js';
import { OIDS } from '../../src/cms/oids.js';
import { ACCELERATORS } from '../../src/crypto/provider.js';
import { nodeAccelerators } from '../../src/crypto/node.js';
import { countingCrypto as counting, type CryptoCounts } from '../_helpers/counting_crypto.js';
import { i2osp, os2ip } from '../../src/crypto/bigint.js';
import { parseRsaPublicKey, type RsaPublicKey } from '../../src/crypto/rsa_key.js';
import { rsaPublic, rsaesPkcs1v15Encrypt } from '../../src/crypto/rsa.js';

export const AES256_GCM = '2.16.840.1.101.3.4.1.46';
export const AES256_CBC = '2.16.840.1.101.3.4.1.42';

/** A MIME entity, as S/MIME encrypts. */
export const MIME = new TextEncoder().encode('Content-Type: text/plain; charset=us-ascii\r\n\r\nHello from the fallback.\r\n');

/** The work counts of a decryption: RSA private-key operations, content decryptions and their bytes, key agreements. */
export type Counts = Pick<CryptoCounts, 'rsa' | 'decrypt' | 'bytes' | 'deriveBits'>;

/** A Crypto over the platform's that counts the work done through it; `fill` replaces getRandomValues' output. */
export function countingCrypto(fill?: number): { crypto: Crypto; counts: Counts } {
  const { crypto, counts: all } = counting({ fill, rawRsa: true });
  // A live view of the four counts the tests compare whole.
  const counts: Counts = {
    get rsa() {
      return all.rsa;
    },
    get decrypt() {
      return all.decrypt;
    },
    get bytes() {
      return all.bytes;
    },
    get deriveBits() {
      return all.deriveBits;
    },
  };
  return { crypto, counts };
}

/** A Crypto with Node's accelerators (incremental AES: content is decrypted in place when the message is ours). */
export function acceleratedCrypto(): Crypto {
  const g = globalThis.crypto;
  return { subtle: g.subtle, getRandomValues: (a: never) => g.getRandomValues(a), [ACCELERATORS]: nodeAccelerators } as unknown as Crypto;
}

/** The RSA public key of an identity. */
export function rsaPub(id: Identity): RsaPublicKey {
  return parseRsaPublicKey(id.info.spki);
}

/** issuerAndSerialNumber naming the identity's certificate, or (with `other`) a serial number nobody has. */
export function ridOf(id: Identity, other = false): Uint8Array {
  return seq(id.info.issuer, other ? integer(0x7a11ce) : integer(id.info.serial));
}

/** A KeyTransRecipientInfo with PKCS#1 v1.5 key transport. */
export function ktri(rid: Uint8Array, encryptedKey: Uint8Array): Uint8Array {
  return seq(integer(0), rid, algorithmIdentifier(OIDS.rsaEncryption, NULL), octets(encryptedKey));
}

/** PKCS#1 v1.5 encryption of `cek` (a good padding). */
export function wrapGood(pub: RsaPublicKey, cek: Uint8Array): Uint8Array {
  return rsaesPkcs1v15Encrypt(pub, cek);
}

/** An encrypted key whose PKCS#1 v1.5 padding is bad: EM starts 00 01 instead of 00 02. */
export function wrapBad(pub: RsaPublicKey): Uint8Array {
  const k = Math.ceil(pub.n.toString(16).length / 2);
  const em = new Uint8Array(randomBytes(k));
  em[0] = 0;
  em[1] = 1;
  return i2osp(rsaPublic(pub, os2ip(em)), k);
}

/** ContentInfo(EnvelopedData) with these RecipientInfos, content-encryption AlgorithmIdentifier and ciphertext. */
export function envelopedData(ris: Uint8Array[], alg: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const eci = seq(oid(OIDS.data), alg, tlv(0x80, ciphertext));
  return seq(oid(OIDS.envelopedData), explicit(0, seq(integer(0), set(...ris), eci)));
}

/** ContentInfo(AuthEnvelopedData). */
export function authEnvelopedData(ris: Uint8Array[], alg: Uint8Array, ciphertext: Uint8Array, mac: Uint8Array): Uint8Array {
  const eci = seq(oid(OIDS.data), alg, tlv(0x80, ciphertext));
  return seq(oid(OIDS.authEnvelopedData), explicit(0, seq(integer(0), set(...ris), eci, octets(mac))));
}

/** AES-256-GCM: the AlgorithmIdentifier, ciphertext and tag. */
export function gcm(key: Uint8Array, plain: Uint8Array): { alg: Uint8Array; ciphertext: Uint8Array; mac: Uint8Array } {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  const ciphertext = new Uint8Array(Buffer.concat([c.update(plain), c.final()]));
  return { alg: algorithmIdentifier(AES256_GCM, seq(octets(nonce), integer(16))), ciphertext, mac: new Uint8Array(c.getAuthTag()) };
}

/** AES-256-CBC with PKCS#7 padding: the AlgorithmIdentifier and ciphertext. */
export function cbc(key: Uint8Array, plain: Uint8Array): { alg: Uint8Array; iv: Uint8Array; ciphertext: Uint8Array } {
  const iv = new Uint8Array(randomBytes(16));
  const c = createCipheriv('aes-256-cbc', key, iv);
  return { alg: algorithmIdentifier(AES256_CBC, octets(iv)), iv, ciphertext: new Uint8Array(Buffer.concat([c.update(plain), c.final()])) };
}

/** A key other than the content's under which the CBC ciphertext still has a valid padding (one in ~256 does). */
export function luckyKey(iv: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  for (;;) {
    const k = new Uint8Array(randomBytes(32));
    const d = createDecipheriv('aes-256-cbc', k, iv);
    try {
      d.update(ciphertext);
      d.final();
      return k;
    } catch {
      /* bad padding: next */
    }
  }
}

/** The DER as an application/pkcs7-mime message. */
export function smime(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{1,76}/g, '$&\r\n');
  return `MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}`;
}

/** What a promise rejected with (test/_helpers/thrown.ts), for the decryption tests that import it from here. */
export { rejection } from '../_helpers/thrown.js';

export const key32 = (): Uint8Array => new Uint8Array(randomBytes(32));
