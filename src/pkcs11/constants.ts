/**
 * The PKCS#11 constants the adapter uses (PKCS#11 v2.40 / v3.0 values), written out so that nothing but
 * `openPkcs11Token` touches the binding. The binding's own parameter-structure tags (CK_PARAMS_*) are not PKCS#11
 * values: they are read from the loaded binding.
 */

/** Object classes (CKO_*). */
export const CKO = { CERTIFICATE: 0x1, PRIVATE_KEY: 0x3, SECRET_KEY: 0x4 } as const;

/** Attribute types (CKA_*). */
export const CKA = {
  CLASS: 0x0,
  TOKEN: 0x1,
  LABEL: 0x3,
  VALUE: 0x11,
  CERTIFICATE_TYPE: 0x80,
  KEY_TYPE: 0x100,
  ID: 0x102,
  SENSITIVE: 0x103,
  DECRYPT: 0x105,
  SIGN: 0x108,
  DERIVE: 0x10c,
  MODULUS: 0x120,
  VALUE_LEN: 0x161,
  EXTRACTABLE: 0x162,
  EC_PARAMS: 0x180,
} as const;

/** Key types (CKK_*). */
export const CKK = { RSA: 0x0, EC: 0x3, GENERIC_SECRET: 0x10, EC_EDWARDS: 0x40, EC_MONTGOMERY: 0x41 } as const;

/** Certificate types (CKC_*). */
export const CKC_X_509 = 0x0;
/** The normal user (CKU_USER). */
export const CKU_USER = 0x1;
/** Token flag: the token has been initialized (C_InitToken); an uninitialized one holds nothing to use. */
export const CKF_TOKEN_INITIALIZED = 0x400;
/** Session flags: CKF_SERIAL_SESSION (always set) and CKF_RW_SESSION. */
export const CKF_SERIAL_SESSION = 0x4;

/** Mechanisms (CKM_*). */
export const CKM = {
  RSA_PKCS: 0x1,
  RSA_X_509: 0x3,
  SHA1_RSA_PKCS: 0x6,
  RSA_PKCS_OAEP: 0x9,
  RSA_PKCS_PSS: 0xd,
  SHA1_RSA_PKCS_PSS: 0xe,
  SHA256_RSA_PKCS: 0x40,
  SHA384_RSA_PKCS: 0x41,
  SHA512_RSA_PKCS: 0x42,
  SHA256_RSA_PKCS_PSS: 0x43,
  SHA384_RSA_PKCS_PSS: 0x44,
  SHA512_RSA_PKCS_PSS: 0x45,
  SHA224_RSA_PKCS: 0x46,
  SHA224_RSA_PKCS_PSS: 0x47,
  SHA_1: 0x220,
  SHA256: 0x250,
  SHA224: 0x255,
  SHA384: 0x260,
  SHA512: 0x270,
  ECDSA: 0x1041,
  ECDH1_DERIVE: 0x1050,
  EDDSA: 0x1057,
} as const;

/** MGF1 generators (CKG_MGF1_*). */
export const CKG = { MGF1_SHA1: 0x1, MGF1_SHA256: 0x2, MGF1_SHA384: 0x3, MGF1_SHA512: 0x4, MGF1_SHA224: 0x5 } as const;

/** OAEP's encoding-parameter source: the label is given (CKZ_DATA_SPECIFIED). */
export const CKZ_DATA_SPECIFIED = 0x1;
/** ECDH without a key derivation function: the raw shared secret (CKD_NULL). */
export const CKD_NULL = 0x1;

/** Return values (CKR_*) the adapter tells apart. */
export const CKR = {
  DEVICE_ERROR: 0x30,
  DEVICE_MEMORY: 0x31,
  DEVICE_REMOVED: 0x32,
  FUNCTION_CANCELED: 0x50,
  PIN_INCORRECT: 0xa0,
  PIN_INVALID: 0xa1,
  PIN_LEN_RANGE: 0xa2,
  PIN_EXPIRED: 0xa3,
  PIN_LOCKED: 0xa4,
  SESSION_CLOSED: 0xb0,
  SESSION_COUNT: 0xb1,
  SESSION_HANDLE_INVALID: 0xb3,
  TOKEN_NOT_PRESENT: 0xe0,
  TOKEN_NOT_RECOGNIZED: 0xe1,
  USER_ALREADY_LOGGED_IN: 0x100,
  CRYPTOKI_NOT_INITIALIZED: 0x190,
  CRYPTOKI_ALREADY_INITIALIZED: 0x191,
} as const;
