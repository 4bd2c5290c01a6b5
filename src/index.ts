/**
 * smime-core: S/MIME for mail apps. CMS SignedData, EnvelopedData and AuthEnvelopedData over MIME, with a
 * certificate store that keeps the history of encryption keys and refuses to encrypt to recipients without a
 * usable certificate.
 *
 * Every type that appears in a public signature is exported here; certificates are `@peculiar/x509`'s
 * `X509Certificate` everywhere. The public API is pinned by `api/smime-core.api.md` (test/package/api_report.test.ts).
 *
 * @module smime-core
 */
export { CertificateStore } from './store/store.js';
export type {
  Identity,
  CertificateStoreOptions,
  ContactPreference,
  EncryptionSelection,
  StoreInputOptions,
  VerifyCertificateOptions,
  CertificateVerification,
  StoreExportOptions,
  StoreImportOptions,
  ExternalIdentityOptions,
  DetachedIdentity,
  StoredCertificate,
  CertificateListOptions,
} from './store/store.js';
export type { SelectionLookupOptions } from './store/store.js';
export type { CertificateResolver, ResolverCacheOptions } from './store/resolver.js';
export type { PrivateKeyRef } from './certs/keys.js';
export type { ExternalKey, ExternalKeyType, ExternalOaepParams, ExternalOaepHash, ExternalDecryptAlgorithm, ExternalDecryptMode } from './crypto/external_key.js';
export type { PemOrDer } from './certs/load.js';
export type { PolicyOptions } from './path/policy_tree.js';
export type { OnlineOptions } from './store/online.js';
export { DEFAULT_ONLINE_LIMITS } from './path/fetcher.js';
export type { FetchLike, FetchResponseLike, LdapFetchLike, OnlineLimits, RevocationPolicy } from './path/fetcher.js';
export type { OcspCertIdHash } from './path/online.js';
export { encryptMessage, CONTENT_CIPHERS } from './encrypt.js';
export { encryptStream, type BccEncryptionStream } from './encrypt_stream.js';
export type { EncryptOptions, EncryptBccOptions, BccEncryption } from './encrypt.js';
export type { HeaderProtectionOptions } from './ops/header_protection.js';
export type { HeaderConfidentiality, HeaderField, HeaderMismatch, HeaderProtectionInfo } from './mime/header_protection.js';
export type { OaepHash } from './cms/ktri.js';
export { decryptMessage } from './decrypt.js';
export type { DecryptOptions, DecryptResult } from './decrypt.js';
export { decryptStream } from './decrypt_stream.js';
export type { DecryptStreamResult } from './decrypt_stream.js';
export { signMessage } from './sign.js';
export { signStream, scanForSigning } from './sign_stream.js';
export type { SignStreamOptions, SigningScan } from './sign_stream.js';
export type { SignOptions, SignDigest } from './sign.js';
export { verifyMessage, STATUS_PRECEDENCE } from './verify.js';
export { verifyStream } from './verify_stream.js';
export type { VerifyOptions, VerifyResult, SignerResult, SignerStatus } from './verify.js';
export { openMessage } from './open.js';
export { openStream } from './open_stream.js';
export type { OpenStreamResult } from './open_stream.js';
export { createCertsOnlyMessage, exportCertificates } from './certs_only.js';
export type { CertsOnlyMessageOptions } from './certs_only.js';
export type { OpenOptions, OpenResult, OpenLayer } from './open.js';
export type { OpenPart } from './ops/parts.js';
export { importFromMessage } from './import_message.js';
export type { ImportFromMessageOptions, ImportFromMessageResult, ImportSkipped } from './import_message.js';
export { inspectFile } from './inspect.js';
export type { Inspection, InspectOptions, InspectedCertificate, InspectedLayer, InspectedRecipient, InspectedSigner, InspectedCertRef } from './inspect.js';
export type { Pkcs12Outline } from './certs/pkcs12.js';
export { setCrypto, getCrypto } from './crypto/provider.js';
export { DEFAULT_POLICY } from './crypto/policy.js';
export { DEFAULT_LIMITS } from './lib/limits.js';
export type { Limits } from './lib/limits.js';
export type { AlgorithmPolicy } from './crypto/policy.js';
export type { ContentCipherName } from './cms/content_cipher.js';
export type { X509Certificate } from './certs/x509.js';
export * from './errors.js';
