import { CONTENT_CIPHERS, DIGESTS, KEY_ALGORITHMS, KEY_WRAPS, LEGACY_CIPHERS, MGF1_OID, P_SPECIFIED_OID, SIGNATURES } from '../crypto/algorithms.js';

/** Object identifiers used in CMS and S/MIME, by name: the content types, and the algorithms from the registry. */
export const OIDS = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  digestedData: '1.2.840.113549.1.7.5',
  encryptedData: '1.2.840.113549.1.7.6',
  authEnvelopedData: '1.2.840.113549.1.9.16.1.23',
  compressedData: '1.2.840.113549.1.9.16.1.9',
  /** id-alg-zlibCompress (RFC 3274 §2): the one compression algorithm CMS defines. */
  zlibCompress: '1.2.840.113549.1.9.16.3.8',


  // Algorithms: from the registry (crypto/algorithms.ts).
  rsaEncryption: KEY_ALGORITHMS.rsaEncryption.oid,
  rsaesOaep: KEY_ALGORITHMS.rsaesOaep.oid,
  mgf1: MGF1_OID,
  pSpecified: P_SPECIFIED_OID,
  rsassaPss: SIGNATURES.rsassaPss.oid,

  sha1: DIGESTS['SHA-1'].oid,
  sha224: DIGESTS['SHA-224'].oid,
  sha256: DIGESTS['SHA-256'].oid,
  sha384: DIGESTS['SHA-384'].oid,
  sha512: DIGESTS['SHA-512'].oid,
  md5: DIGESTS.MD5.oid,

  aes128CBC: CONTENT_CIPHERS['aes-128-cbc'].oid,
  aes192CBC: CONTENT_CIPHERS['aes-192-cbc'].oid,
  aes256CBC: CONTENT_CIPHERS['aes-256-cbc'].oid,
  aes128GCM: CONTENT_CIPHERS['aes-128-gcm'].oid,
  aes192GCM: CONTENT_CIPHERS['aes-192-gcm'].oid,
  aes256GCM: CONTENT_CIPHERS['aes-256-gcm'].oid,
  aes128Wrap: KEY_WRAPS.aes128.oid,
  aes192Wrap: KEY_WRAPS.aes192.oid,
  aes256Wrap: KEY_WRAPS.aes256.oid,
  desEde3CBC: LEGACY_CIPHERS.desEde3CBC.oid,
  desCBC: LEGACY_CIPHERS.desCBC.oid,
  rc2CBC: LEGACY_CIPHERS.rc2CBC.oid,
  chacha20Poly1305: CONTENT_CIPHERS['chacha20-poly1305'].oid,
} as const;

const NAMES: Record<string, string> = Object.fromEntries(Object.entries(OIDS).map(([k, v]) => [v, k]));

/** A readable name for an OID, or the OID itself. */
export function oidName(oid: string): string {
  return NAMES[oid] ?? oid;
}

/** The digests CMS content and ESS hashes use (MD5 excluded), by OID: from the registry. */
export const HASH_BY_OID: Record<string, 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512' | 'SHA-224'> = Object.fromEntries(
  Object.values(DIGESTS).flatMap((d) => (d.name === 'MD5' ? [] : [[d.oid, d.name]])),
);

/** The digest OIDs of the hashes RSA-OAEP takes, by name: from the registry. */
export const OID_BY_HASH: Record<string, string> = Object.fromEntries(
  Object.values(DIGESTS).flatMap((d) => (d.webCrypto ? [[d.name, d.oid]] : [])),
);
