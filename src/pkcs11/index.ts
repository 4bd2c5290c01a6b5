/**
 * `smime-core/pkcs11` (Node only): keys on PKCS#11 tokens (smart cards, PIV tokens, HSMs, SoftHSM) as `ExternalKey`s.
 *
 * `openPkcs11Token` loads the module through the optional peer dependency pkcs11js (`npm install pkcs11js`), finds
 * the token, logs in, and `identities()` returns each certificate on the token with its private key. Importing this
 * entry does not load pkcs11js; `openPkcs11Token` does. The main entry (`smime-core`) never imports this one.
 *
 * @example
 * ```ts
 * import { openPkcs11Token } from 'smime-core/pkcs11';
 * const token = await openPkcs11Token({ module: '/usr/lib/softhsm/libsofthsm2.so', token: 'mail', pin });
 * await token.importInto(store); // each certificate with its key, as store.importExternalIdentity(certificate, key)
 * await token.close();
 * ```
 * @module
 */
export { openPkcs11Token, Pkcs11Token, type Pkcs11Identity, type Pkcs11Options, type Pkcs11TokenInfo } from './token.js';
export type {
  ExternalDecryptAlgorithm,
  ExternalDecryptMode,
  ExternalKey,
  ExternalKeyType,
  ExternalOaepHash,
  ExternalOaepParams,
} from '../crypto/external_key.js';
