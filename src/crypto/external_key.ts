/**
 * The one interface through which every private-key operation goes: signing (SignerInfo signatures), RSA key
 * transport (KTRI, PKCS#1 v1.5 and OAEP) and key agreement (KARI, ECDH and X25519/X448). Keys smime-core holds
 * (PKCS#8 from a file or a PKCS#12) and WebCrypto `CryptoKey`s are implementations of it; so are keys it never sees:
 * a PKCS#11 token (`smime-core/pkcs11`), a secure element, an OS keychain, a remote signing service.
 *
 * An implementation offers the operations its key can do and leaves the others out. What it returns is checked by
 * the caller (lengths, ranges, the signature's form), so a faulty or hostile implementation ends in a `SmimeError`,
 * never in a wrong result.
 */

/** The key's algorithm family, as the certificate's SubjectPublicKeyInfo says. */
export type ExternalKeyType = 'rsa' | 'ec' | 'ed25519' | 'ed448' | 'x25519' | 'x448';

/** The hashes of RSAES-OAEP (the label hash, and MGF1's). */
export type ExternalOaepHash = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

/** RSAES-OAEP parameters (RFC 8017 §7.1, RFC 4055 §4.1) as the message names them. */
export interface ExternalOaepParams {
  /** Always 'rsaes-oaep'. */
  readonly name: 'rsaes-oaep';
  /** The label hash. */
  readonly hash: ExternalOaepHash;
  /** MGF1's hash (often equal to `hash`; RFC 4055 allows another). */
  readonly mgfHash: ExternalOaepHash;
  /** The label (pSourceFunc pSpecified), empty when absent. */
  readonly label: Uint8Array;
}

/**
 * What `ExternalKey.decrypt` is asked to do: the raw RSA private-key operation (RSADP, m = c^d mod n, left-padded
 * to the modulus length), PKCS#1 v1.5 decryption with the padding removed by the key, or OAEP decryption.
 */
export type ExternalDecryptAlgorithm = 'rsa-raw' | 'rsaes-pkcs1-v1_5' | ExternalOaepParams;

/** The names of the decryption forms a key may declare in `ExternalKey.decryptModes`. */
export type ExternalDecryptMode = 'rsa-raw' | 'rsaes-pkcs1-v1_5' | 'rsaes-oaep';

/**
 * A private key that may live outside smime-core: on a token, in a secure element, behind a remote service.
 *
 * @example
 * ```ts
 * const key: ExternalKey = {
 *   type: 'ec',
 *   sign: (data, algorithm) => remoteSigner.sign(data, algorithm.oid), // DER ECDSA-Sig-Value
 * };
 * await store.importExternalIdentity(certPem, key);
 * ```
 */
export interface ExternalKey {
  /** The key's algorithm family; it must fit the certificate it is imported with. */
  readonly type: ExternalKeyType;
  /**
   * Signs `data` (the DER of the signed attributes, never a hash) as `algorithm` says: its OID is the SignerInfo's
   * signatureAlgorithm (sha256WithRSAEncryption, id-RSASSA-PSS, ecdsa-with-SHA256, id-Ed25519, …) and `params`
   * the DER of its parameters when it has any (RSASSA-PSS-params). Returns the signature as CMS carries it: DER
   * ECDSA-Sig-Value for ECDSA, the raw signature otherwise. Absent: the key cannot sign.
   */
  sign?(data: Uint8Array, algorithm: { oid: string; params?: Uint8Array }): Promise<Uint8Array>;
  /**
   * RSA only. With 'rsa-raw', the raw private-key operation on `data` (as long as the modulus): m = c^d mod n,
   * left-padded to the modulus length; smime-core removes the padding in constant time (RFC 3218). With
   * 'rsaes-pkcs1-v1_5' or OAEP parameters, the key removes the padding itself and returns the message. Absent: the
   * key cannot decrypt.
   */
  decrypt?(data: Uint8Array, algorithm: ExternalDecryptAlgorithm): Promise<Uint8Array>;
  /**
   * Which forms of `decrypt` the key offers, preferred first. Absent: ['rsa-raw']. A key that declares
   * 'rsa-raw' is always asked for it (for v1.5 and OAEP alike), so padding is checked here, in constant time.
   */
  readonly decryptModes?: readonly ExternalDecryptMode[];
  /**
   * EC, X25519, X448: the raw shared secret (Z, the x-coordinate for ECDH) with the other party's public key, given
   * as SubjectPublicKeyInfo DER. Absent: the key cannot do key agreement.
   */
  deriveSecret?(publicKey: Uint8Array): Promise<Uint8Array>;
}
