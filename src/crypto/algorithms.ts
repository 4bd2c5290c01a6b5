/**
 * The one registry of the algorithms smime-core knows: for each its OID, its name, its kind and sizes, its hash and
 * its WebCrypto parameters, and whether it is weak. Every table elsewhere (CMS, PKCS#12, RSA, key agreement, the
 * policy, the certificate model) is derived from these, never redeclared.
 *
 * Sources: RFC 3279, 4055, 5754, 5758, 8017 (RSA and its hashes), RFC 5480 and 5753 (ECDSA, ECDH, curves),
 * RFC 8410, 8418, 8419 (Edwards curves), RFC 3565, 5084, 8103 (content ciphers), RFC 3394 (key wrap),
 * RFC 7292 and 8018 (PBE, PBKDF2, HMAC PRFs), RFC 8551 §3.4.3.2 (micalg).
 */
import { md5, sha1 } from '@noble/hashes/legacy.js';
import { sha224, sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import type { CHash } from '@noble/hashes/utils.js';

// -----------------------------------------------------------------------------------------------------------------
// Digests

/** The hashes smime-core computes, spelled as WebCrypto spells them. */
export type HashName = 'MD5' | 'SHA-1' | 'SHA-224' | 'SHA-256' | 'SHA-384' | 'SHA-512';

/** The hashes WebCrypto's digest, RSASSA-PKCS1-v1_5, RSA-PSS, RSA-OAEP and ECDSA take. */
export type WebCryptoHash = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

/** A digest algorithm (one row of {@link DIGESTS}). */
export interface DigestAlgorithm {
  readonly kind: 'digest';
  readonly name: HashName;
  /** The CMS/X.509 digest algorithm OID. */
  readonly oid: string;
  /** The digest length in bytes. */
  readonly length: number;
  /** The compression function's block length in bytes (HMAC's and the PKCS#12 KDF's `v`). */
  readonly blockLength: number;
  /** The micalg parameter of multipart/signed (RFC 8551 §3.4.3.2). */
  readonly micalg: string;
  /** The HMAC-with-this-hash PRF OID (RFC 8018 §B.1.2), when one is defined. */
  readonly hmacOid?: string;
  /** Whether WebCrypto's digest() has it (SHA-224 and MD5 come from @noble/hashes only). */
  readonly webCrypto: boolean;
  /** Too weak for signatures (RFC 8551 §2.2). */
  readonly weak: boolean;
  /** The @noble/hashes implementation (for HMAC and PBKDF2 over it). */
  readonly noble: CHash;
  /** The synchronous digest (@noble/hashes). */
  readonly hash: (data: Uint8Array) => Uint8Array;
}

function digestRow(row: Omit<DigestAlgorithm, 'kind' | 'hash'>): DigestAlgorithm {
  return { kind: 'digest', ...row, hash: (d) => row.noble(d) };
}

/** Every digest smime-core computes, by name. */
export const DIGESTS: Readonly<Record<HashName, DigestAlgorithm>> = {
  MD5: digestRow({ name: 'MD5', oid: '1.2.840.113549.2.5', length: 16, blockLength: 64, micalg: 'md5', webCrypto: false, weak: true, noble: md5 }),
  'SHA-1': digestRow({ name: 'SHA-1', oid: '1.3.14.3.2.26', length: 20, blockLength: 64, micalg: 'sha-1', hmacOid: '1.2.840.113549.2.7', webCrypto: true, weak: true, noble: sha1 }),
  'SHA-224': digestRow({ name: 'SHA-224', oid: '2.16.840.1.101.3.4.2.4', length: 28, blockLength: 64, micalg: 'sha-224', hmacOid: '1.2.840.113549.2.8', webCrypto: false, weak: false, noble: sha224 }),
  'SHA-256': digestRow({ name: 'SHA-256', oid: '2.16.840.1.101.3.4.2.1', length: 32, blockLength: 64, micalg: 'sha-256', hmacOid: '1.2.840.113549.2.9', webCrypto: true, weak: false, noble: sha256 }),
  'SHA-384': digestRow({ name: 'SHA-384', oid: '2.16.840.1.101.3.4.2.2', length: 48, blockLength: 128, micalg: 'sha-384', hmacOid: '1.2.840.113549.2.10', webCrypto: true, weak: false, noble: sha384 }),
  'SHA-512': digestRow({ name: 'SHA-512', oid: '2.16.840.1.101.3.4.2.3', length: 64, blockLength: 128, micalg: 'sha-512', hmacOid: '1.2.840.113549.2.11', webCrypto: true, weak: false, noble: sha512 }),
};

/** MD2 (RFC 1319): recognised only, so that a signature made with it is reported as weak. */
export const MD2_OID = '1.2.840.113549.2.2';

/** Hash names (as smime-core reports them) that make a signature weak: SHA-1, MD5 and MD2. */
export const WEAK_HASHES: ReadonlySet<string> = new Set([...Object.values(DIGESTS).filter((d) => d.weak).map((d) => d.name), 'MD2']);

const DIGEST_BY_OID: ReadonlyMap<string, DigestAlgorithm> = new Map(Object.values(DIGESTS).map((d) => [d.oid, d]));
const DIGEST_BY_HMAC_OID: ReadonlyMap<string, DigestAlgorithm> = new Map(
  Object.values(DIGESTS).flatMap((d) => (d.hmacOid ? [[d.hmacOid, d] as const] : [])),
);

/** Whether `name` is one of the {@link HashName}s. */
export function isHashName(name: string | undefined): name is HashName {
  return name !== undefined && Object.prototype.hasOwnProperty.call(DIGESTS, name);
}

/** Whether WebCrypto computes (and signs, verifies, wraps with) this hash. */
export function isWebCryptoHash(name: string | undefined): name is WebCryptoHash {
  return isHashName(name) && DIGESTS[name].webCrypto;
}

/** The digest algorithm with this OID, if smime-core computes it. */
export function digestAlgorithmByOid(oid: string): DigestAlgorithm | undefined {
  return DIGEST_BY_OID.get(oid);
}

/** The hash of an HMAC PRF OID (hmacWithSHA1 … hmacWithSHA512), if known. */
export function digestByHmacOid(oid: string): DigestAlgorithm | undefined {
  return DIGEST_BY_HMAC_OID.get(oid);
}

// -----------------------------------------------------------------------------------------------------------------
// Public keys and curves

/** The key kinds smime-core tells apart. */
export type KeyKind = 'rsa' | 'ec' | 'x25519' | 'x448' | 'ed25519' | 'ed448';

/** SubjectPublicKeyInfo algorithm OIDs by name, and the kind of key each names. */
export const KEY_ALGORITHMS = {
  rsaEncryption: { oid: '1.2.840.113549.1.1.1', kind: 'rsa' },
  rsaesOaep: { oid: '1.2.840.113549.1.1.7', kind: 'rsa' },
  rsassaPss: { oid: '1.2.840.113549.1.1.10', kind: 'rsa' },
  ecPublicKey: { oid: '1.2.840.10045.2.1', kind: 'ec' },
  x25519: { oid: '1.3.101.110', kind: 'x25519' },
  x448: { oid: '1.3.101.111', kind: 'x448' },
  ed25519: { oid: '1.3.101.112', kind: 'ed25519' },
  ed448: { oid: '1.3.101.113', kind: 'ed448' },
} as const satisfies Record<string, { oid: string; kind: KeyKind }>;

/**
 * The kind of key a SubjectPublicKeyInfo algorithm OID names, for certificates: rsaEncryption and id-RSASSA-PSS are
 * RSA keys (an id-RSAES-OAEP SPKI is not taken as a certificate key; RSA key parsing accepts it, see rsa_key.ts).
 */
export function keyKindOfOid(oid: string): KeyKind | 'other' {
  return CERTIFICATE_KEY_KINDS.get(oid) ?? 'other';
}

const CERTIFICATE_KEY_KINDS: ReadonlyMap<string, KeyKind> = new Map(
  Object.entries(KEY_ALGORITHMS).flatMap(([name, k]) => (name === 'rsaesOaep' ? [] : [[k.oid, k.kind] as const])),
);

/** A NIST curve: its WebCrypto name and the byte length of a coordinate (also of an ECDH shared secret). */
export interface NistCurve {
  readonly name: 'P-256' | 'P-384' | 'P-521';
  readonly size: number;
}

/** The NIST curves by OID (RFC 5480 §2.1.1.1). */
export const NIST_CURVES: Readonly<Record<string, NistCurve>> = {
  '1.2.840.10045.3.1.7': { name: 'P-256', size: 32 },
  '1.3.132.0.34': { name: 'P-384', size: 48 },
  '1.3.132.0.35': { name: 'P-521', size: 66 },
};

/** The shared secret length in bits of X25519 and X448 (RFC 7748). */
export const MONTGOMERY_BITS: Readonly<Record<'x25519' | 'x448', number>> = { x25519: 256, x448: 448 };

// -----------------------------------------------------------------------------------------------------------------
// Signatures

/** How a signature algorithm signs: the key it needs. */
export type SignatureScheme = 'rsa-pkcs1' | 'rsa-pss' | 'ecdsa' | 'ed25519' | 'dsa';

/** A signature algorithm (one row of {@link SIGNATURES}). */
export interface SignatureAlgorithm {
  readonly kind: 'signature';
  readonly oid: string;
  readonly scheme: SignatureScheme;
  /** The hash the OID names; absent when the parameters (PSS) or the digestAlgorithm (CMS with a bare key OID) say. */
  readonly hash?: HashName | 'MD2';
  /** Uses SHA-1, MD5 or MD2 (RFC 8551 §2.2). */
  readonly weak: boolean;
}

function sig(oid: string, scheme: SignatureScheme, hash?: HashName | 'MD2'): SignatureAlgorithm {
  return { kind: 'signature', oid, scheme, hash, weak: hash !== undefined && WEAK_HASHES.has(hash) };
}

/** Signature algorithm OIDs by name (RFC 8017 App. C, RFC 3279, RFC 5754, RFC 5758, RFC 8410). */
export const SIGNATURES = {
  md2WithRSA: sig('1.2.840.113549.1.1.2', 'rsa-pkcs1', 'MD2'),
  md5WithRSA: sig('1.2.840.113549.1.1.4', 'rsa-pkcs1', 'MD5'),
  sha1WithRSA: sig('1.2.840.113549.1.1.5', 'rsa-pkcs1', 'SHA-1'),
  sha1WithRSAOiw: sig('1.3.14.3.2.29', 'rsa-pkcs1', 'SHA-1'),
  sha224WithRSA: sig('1.2.840.113549.1.1.14', 'rsa-pkcs1', 'SHA-224'),
  sha256WithRSA: sig('1.2.840.113549.1.1.11', 'rsa-pkcs1', 'SHA-256'),
  sha384WithRSA: sig('1.2.840.113549.1.1.12', 'rsa-pkcs1', 'SHA-384'),
  sha512WithRSA: sig('1.2.840.113549.1.1.13', 'rsa-pkcs1', 'SHA-512'),
  rsassaPss: sig('1.2.840.113549.1.1.10', 'rsa-pss'),
  ecdsaSha1: sig('1.2.840.10045.4.1', 'ecdsa', 'SHA-1'),
  ecdsaSha224: sig('1.2.840.10045.4.3.1', 'ecdsa', 'SHA-224'),
  ecdsaSha256: sig('1.2.840.10045.4.3.2', 'ecdsa', 'SHA-256'),
  ecdsaSha384: sig('1.2.840.10045.4.3.3', 'ecdsa', 'SHA-384'),
  ecdsaSha512: sig('1.2.840.10045.4.3.4', 'ecdsa', 'SHA-512'),
  ed25519: sig('1.3.101.112', 'ed25519'),
  /** DSA (recognised, not implemented: WebCrypto has no DSA). */
  dsa: sig('1.2.840.10040.4.1', 'dsa'),
  dsaSha1: sig('1.2.840.10040.4.3', 'dsa', 'SHA-1'),
  dsaSha1Oiw: sig('1.3.14.3.2.27', 'dsa', 'SHA-1'),
  dsaSha224: sig('2.16.840.1.101.3.4.3.1', 'dsa', 'SHA-224'),
  dsaSha256: sig('2.16.840.1.101.3.4.3.2', 'dsa', 'SHA-256'),
  dsaSha384: sig('2.16.840.1.101.3.4.3.3', 'dsa', 'SHA-384'),
  dsaSha512: sig('2.16.840.1.101.3.4.3.4', 'dsa', 'SHA-512'),
} as const;

const SIGNATURE_BY_OID: ReadonlyMap<string, SignatureAlgorithm> = new Map(Object.values(SIGNATURES).map((s) => [s.oid, s]));

/** The signature algorithm with this OID, if known. */
export function signatureByOid(oid: string): SignatureAlgorithm | undefined {
  return SIGNATURE_BY_OID.get(oid);
}

/** The signature algorithm OID of a scheme and hash, when the registry has one (never for PSS or Ed25519). */
export function signatureOidFor(scheme: 'rsa-pkcs1' | 'ecdsa', hash: HashName): string | undefined {
  for (const s of SIGNATURE_BY_OID.values()) if (s.scheme === scheme && s.hash === hash && s.oid !== SIGNATURES.sha1WithRSAOiw.oid) return s.oid;
  return undefined;
}

/** The mask generation function MGF1 (RFC 8017 §B.2.1), as PSS and OAEP parameters name it. */
export const MGF1_OID = '1.2.840.113549.1.1.8';
/** pSpecified, the OAEP label source (RFC 8017 §A.2.1). */
export const P_SPECIFIED_OID = '1.2.840.113549.1.1.9';

/**
 * Signature and digest algorithm OIDs that use SHA-1, MD5 or MD2: every weak row of {@link SIGNATURES} and of
 * {@link DIGESTS}, and MD2.
 */
export const WEAK_SIGNATURE_OIDS: ReadonlySet<string> = new Set([
  ...Object.values(SIGNATURES).filter((s) => s.weak).map((s) => s.oid),
  ...Object.values(DIGESTS).filter((d) => d.weak).map((d) => d.oid),
  MD2_OID,
]);

// -----------------------------------------------------------------------------------------------------------------
// Content encryption and key wrap

/** The content-encryption algorithms smime-core reads, as the API names them. */
export type ContentCipherName =
  | 'aes-128-cbc'
  | 'aes-192-cbc'
  | 'aes-256-cbc'
  | 'aes-128-gcm'
  | 'aes-192-gcm'
  | 'aes-256-gcm'
  | 'chacha20-poly1305';

/** A content-encryption algorithm that smime-core writes and reads. */
export interface ContentCipherSpec {
  readonly oid: string;
  readonly keyLength: number;
  readonly mode: 'cbc' | 'gcm' | 'chacha';
}

/** The content ciphers, by API name (RFC 3565, RFC 5084, RFC 8103). */
export const CONTENT_CIPHERS: Readonly<Record<ContentCipherName, ContentCipherSpec>> = {
  'aes-128-cbc': { oid: '2.16.840.1.101.3.4.1.2', keyLength: 16, mode: 'cbc' },
  'aes-192-cbc': { oid: '2.16.840.1.101.3.4.1.22', keyLength: 24, mode: 'cbc' },
  'aes-256-cbc': { oid: '2.16.840.1.101.3.4.1.42', keyLength: 32, mode: 'cbc' },
  'aes-128-gcm': { oid: '2.16.840.1.101.3.4.1.6', keyLength: 16, mode: 'gcm' },
  'aes-192-gcm': { oid: '2.16.840.1.101.3.4.1.26', keyLength: 24, mode: 'gcm' },
  'aes-256-gcm': { oid: '2.16.840.1.101.3.4.1.46', keyLength: 32, mode: 'gcm' },
  'chacha20-poly1305': { oid: '1.2.840.113549.1.9.16.3.18', keyLength: 32, mode: 'chacha' },
};

/** Legacy block ciphers, decrypted only (old mail and PKCS#12 files): never chosen to encrypt. */
export const LEGACY_CIPHERS = {
  desEde3CBC: { oid: '1.2.840.113549.3.7', keyLength: 24, blockLength: 8 },
  desCBC: { oid: '1.3.14.3.2.7', keyLength: 8, blockLength: 8 },
  rc2CBC: { oid: '1.2.840.113549.3.2', blockLength: 8 },
} as const;

/** The AES key wrap sizes smime-core writes. */
export type KeyWrapName = 'aes128' | 'aes192' | 'aes256';

/** AES key wrap (RFC 3394, RFC 3565 §2.3.2) by name: its OID and KEK length in bytes. */
export const KEY_WRAPS: Readonly<Record<KeyWrapName, { readonly oid: string; readonly keyLength: number }>> = {
  aes128: { oid: '2.16.840.1.101.3.4.1.5', keyLength: 16 },
  aes192: { oid: '2.16.840.1.101.3.4.1.25', keyLength: 24 },
  aes256: { oid: '2.16.840.1.101.3.4.1.45', keyLength: 32 },
};

// -----------------------------------------------------------------------------------------------------------------
// Key agreement (RFC 5753 §7.1.4, RFC 8418 §2.2)

/** A key agreement scheme: its KDF (ANSI X9.63 or HKDF), the KDF's hash, and whether it is cofactor DH. */
export interface KeyAgreementScheme {
  readonly oid: string;
  readonly kdf: 'x963' | 'hkdf';
  readonly hash: 'SHA-1' | 'SHA-224' | 'SHA-256' | 'SHA-384' | 'SHA-512';
  readonly cofactor: boolean;
}

function ka(oid: string, kdf: 'x963' | 'hkdf', hash: KeyAgreementScheme['hash'], cofactor = false): KeyAgreementScheme {
  return { oid, kdf, hash, cofactor };
}

/** Key agreement scheme OIDs (the keyEncryptionAlgorithm of a KARI), by name. */
export const KEY_AGREEMENTS = {
  stdDhSha1kdf: ka('1.3.133.16.840.63.0.2', 'x963', 'SHA-1'),
  stdDhSha224kdf: ka('1.3.132.1.11.0', 'x963', 'SHA-224'),
  stdDhSha256kdf: ka('1.3.132.1.11.1', 'x963', 'SHA-256'),
  stdDhSha384kdf: ka('1.3.132.1.11.2', 'x963', 'SHA-384'),
  stdDhSha512kdf: ka('1.3.132.1.11.3', 'x963', 'SHA-512'),
  cofactorDhSha1kdf: ka('1.3.133.16.840.63.0.3', 'x963', 'SHA-1', true),
  cofactorDhSha224kdf: ka('1.3.132.1.14.0', 'x963', 'SHA-224', true),
  cofactorDhSha256kdf: ka('1.3.132.1.14.1', 'x963', 'SHA-256', true),
  cofactorDhSha384kdf: ka('1.3.132.1.14.2', 'x963', 'SHA-384', true),
  cofactorDhSha512kdf: ka('1.3.132.1.14.3', 'x963', 'SHA-512', true),
  /** id-alg-dhSinglePass-stdDH-hkdf-sha256/384/512-scheme (RFC 8418 §2.2). */
  stdDhHkdfSha256: ka('1.2.840.113549.1.9.16.3.19', 'hkdf', 'SHA-256'),
  stdDhHkdfSha384: ka('1.2.840.113549.1.9.16.3.20', 'hkdf', 'SHA-384'),
  stdDhHkdfSha512: ka('1.2.840.113549.1.9.16.3.21', 'hkdf', 'SHA-512'),
  /**
   * id-alg-hkdf-with-sha256/384/512 (RFC 8619) name the HKDF itself, not a key agreement scheme; a sender that put
   * them in a KARI can only have meant the RFC 8418 scheme with that hash, so they are read as such.
   */
  hkdfSha256: ka('1.2.840.113549.1.9.16.3.28', 'hkdf', 'SHA-256'),
  hkdfSha384: ka('1.2.840.113549.1.9.16.3.29', 'hkdf', 'SHA-384'),
  hkdfSha512: ka('1.2.840.113549.1.9.16.3.30', 'hkdf', 'SHA-512'),
} as const;

// -----------------------------------------------------------------------------------------------------------------
// Password-based encryption (RFC 7292 App. C, RFC 8018)

/** The PKCS#12 PBE schemes (RFC 7292 App. C) and the PKCS#5 v2 ones (RFC 8018), by name. */
export const PBE = {
  pbeWithSHAAnd128BitRC4: { oid: '1.2.840.113549.1.12.1.1' },
  pbeWithSHAAnd40BitRC4: { oid: '1.2.840.113549.1.12.1.2' },
  pbeWithSHAAnd3KeyTripleDESCBC: { oid: '1.2.840.113549.1.12.1.3', keyLength: 24 },
  pbeWithSHAAnd2KeyTripleDESCBC: { oid: '1.2.840.113549.1.12.1.4', keyLength: 16 },
  pbeWithSHAAnd128BitRC2CBC: { oid: '1.2.840.113549.1.12.1.5', keyLength: 16 },
  pbeWithSHAAnd40BitRC2CBC: { oid: '1.2.840.113549.1.12.1.6', keyLength: 5 },
  pbes2: { oid: '1.2.840.113549.1.5.13' },
  pbkdf2: { oid: '1.2.840.113549.1.5.12' },
  pbmac1: { oid: '1.2.840.113549.1.5.14' },
} as const;
