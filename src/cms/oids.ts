/** Object identifiers used in CMS and S/MIME, by name. */
export const OIDS = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  digestedData: '1.2.840.113549.1.7.5',
  encryptedData: '1.2.840.113549.1.7.6',
  authEnvelopedData: '1.2.840.113549.1.9.16.1.23',
  compressedData: '1.2.840.113549.1.9.16.1.9',

  rsaEncryption: '1.2.840.113549.1.1.1',
  rsaesOaep: '1.2.840.113549.1.1.7',
  mgf1: '1.2.840.113549.1.1.8',
  pSpecified: '1.2.840.113549.1.1.9',
  rsassaPss: '1.2.840.113549.1.1.10',

  sha1: '1.3.14.3.2.26',
  sha224: '2.16.840.1.101.3.4.2.4',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  md5: '1.2.840.113549.2.5',

  aes128CBC: '2.16.840.1.101.3.4.1.2',
  aes192CBC: '2.16.840.1.101.3.4.1.22',
  aes256CBC: '2.16.840.1.101.3.4.1.42',
  aes128GCM: '2.16.840.1.101.3.4.1.6',
  aes192GCM: '2.16.840.1.101.3.4.1.26',
  aes256GCM: '2.16.840.1.101.3.4.1.46',
  aes128Wrap: '2.16.840.1.101.3.4.1.5',
  aes192Wrap: '2.16.840.1.101.3.4.1.25',
  aes256Wrap: '2.16.840.1.101.3.4.1.45',
  desEde3CBC: '1.2.840.113549.3.7',
  desCBC: '1.3.14.3.2.7',
  rc2CBC: '1.2.840.113549.3.2',
  chacha20Poly1305: '1.2.840.113549.1.9.16.3.18',
} as const;

const NAMES: Record<string, string> = Object.fromEntries(Object.entries(OIDS).map(([k, v]) => [v, k]));

/** A readable name for an OID, or the OID itself. */
export function oidName(oid: string): string {
  return NAMES[oid] ?? oid;
}

export const HASH_BY_OID: Record<string, 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512' | 'SHA-224'> = {
  [OIDS.sha1]: 'SHA-1',
  [OIDS.sha224]: 'SHA-224',
  [OIDS.sha256]: 'SHA-256',
  [OIDS.sha384]: 'SHA-384',
  [OIDS.sha512]: 'SHA-512',
};

export const OID_BY_HASH: Record<string, string> = {
  'SHA-1': OIDS.sha1,
  'SHA-256': OIDS.sha256,
  'SHA-384': OIDS.sha384,
  'SHA-512': OIDS.sha512,
};
