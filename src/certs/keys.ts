/**
 * Private key handling: PKCS#8 bytes, a CryptoKey (extractable or not) or an `ExternalKey`, the one interface every
 * private-key operation goes through ({@link externalKeyOf}), and the check that a key belongs to a certificate. Keys are compared through their public JWK members, which works for RSA, EC, X25519 and Ed25519
 * with any WebCrypto.
 */
import { UnsupportedAlgorithm } from '../errors.js';
import { toArrayBuffer } from '../lib/bytes.js';
import { getCrypto } from '../crypto/provider.js';
import { NIST_CURVES } from '../crypto/algorithms.js';
import { rsaPublicKeyBits } from '../crypto/rsa_key.js';
import type { ExternalKey } from '../crypto/external_key.js';
import { softwareKey, type SoftwareKeyParams } from '../crypto/software_key.js';
import { cryptoKeyAdapter } from '../crypto/webcrypto_key.js';
import { keyKind, type CertInfo } from './cert_info.js';

/**
 * A private key: PKCS#8 bytes, a CryptoKey (which may be non-extractable), or an `ExternalKey` (a token, a secure
 * element, a remote service). Whichever it holds, smime-core uses it through the `ExternalKey` interface;
 * `external` wins when several are set.
 */
export interface PrivateKeyRef {
  /** The PKCS#8 PrivateKeyInfo (DER), when the key came from a file. */
  pkcs8?: Uint8Array;
  /** The WebCrypto key, when the key was imported as one (it may be non-extractable). */
  cryptoKey?: CryptoKey;
  /** A key smime-core does not hold (`CertificateStore.importExternalIdentity`). */
  external?: ExternalKey;
}

/** The family and curve of a certificate's key, as the in-memory and CryptoKey implementations need them. */
export function keyParamsOf(info: CertInfo): SoftwareKeyParams {
  const kind = keyKind(info);
  if (kind === 'other') throw new UnsupportedAlgorithm(`public key algorithm ${info.keyAlgorithm}`, info.keyAlgorithm);
  return { type: kind, namedCurve: kind === 'ec' && info.curve ? NIST_CURVES[info.curve]?.name : undefined };
}

/**
 * The `ExternalKey` through which `ref` is used with the certificate `info`: `ref.external` itself, or an
 * implementation over its PKCS#8 (software_key.ts) or its CryptoKey (webcrypto_key.ts) bound to `crypto`.
 * Undefined when the ref holds no key. Cheap: the parsed and imported keys are cached by the PKCS#8 array.
 */
export function externalKeyOf(ref: PrivateKeyRef, info: CertInfo, crypto?: Crypto): ExternalKey | undefined {
  if (ref.external) return ref.external;
  if (ref.pkcs8) return softwareKey(ref.pkcs8, keyParamsOf(info), crypto);
  if (ref.cryptoKey) return cryptoKeyAdapter(ref.cryptoKey, keyParamsOf(info), crypto);
  return undefined;
}

/** The WebCrypto import parameters for a certificate's key kind (used to read public JWK members). */
export function importParams(info: CertInfo): AlgorithmIdentifier | RsaHashedImportParams | EcKeyImportParams {
  switch (keyKind(info)) {
    case 'rsa':
      return { name: 'RSA-OAEP', hash: 'SHA-256' };
    case 'ec': {
      const namedCurve = info.curve ? NIST_CURVES[info.curve]?.name : undefined;
      if (!namedCurve) throw new UnsupportedAlgorithm(`EC curve ${info.curve ?? '(none)'}`, info.curve);
      return { name: 'ECDH', namedCurve };
    }
    case 'x25519':
      return { name: 'X25519' };
    case 'ed25519':
      return { name: 'Ed25519' };
    default:
      throw new UnsupportedAlgorithm(`public key algorithm ${info.keyAlgorithm}`, info.keyAlgorithm);
  }
}

function publicMembers(jwk: JsonWebKey): string {
  return [jwk.kty, jwk.crv, jwk.n, jwk.e, jwk.x, jwk.y].join('|');
}

/** The public JWK members of a certificate's key. */
export async function certPublicId(info: CertInfo, crypto?: Crypto): Promise<string> {
  const c = getCrypto(crypto);
  const params = importParams(info);
  const usages: KeyUsage[] = keyKind(info) === 'rsa' ? ['encrypt'] : keyKind(info) === 'ed25519' ? ['verify'] : [];
  const key = await c.subtle.importKey('spki', toArrayBuffer(info.spki), params, true, usages);
  return publicMembers(await c.subtle.exportKey('jwk', key));
}

/**
 * True when the private key belongs to the certificate. A non-extractable CryptoKey can't be compared, so it is
 * accepted as the caller's statement (its algorithm family must still fit the certificate).
 */
export async function keyMatchesCert(key: PrivateKeyRef, info: CertInfo, crypto?: Crypto): Promise<boolean> {
  const c = getCrypto(crypto);
  let jwk: JsonWebKey;
  if (key.pkcs8) {
    const params = importParams(info);
    const usages: KeyUsage[] =
      keyKind(info) === 'rsa' ? ['decrypt'] : keyKind(info) === 'ed25519' ? ['sign'] : ['deriveBits'];
    let k: CryptoKey;
    try {
      k = await c.subtle.importKey('pkcs8', toArrayBuffer(key.pkcs8), params, true, usages);
    } catch {
      return false;
    }
    jwk = await c.subtle.exportKey('jwk', k);
  } else if (key.external) {
    return key.external.type === keyKind(info);
  } else if (key.cryptoKey) {
    if (!key.cryptoKey.extractable) return true;
    jwk = await c.subtle.exportKey('jwk', key.cryptoKey);
  } else return false;
  return publicMembers(jwk) === (await certPublicId(info, crypto));
}

/** Modulus size in bits of an RSA certificate's key (0 when its RSAPublicKey is malformed). */
export function rsaModulusBits(info: CertInfo): number {
  return rsaPublicKeyBits(info.publicKey);
}
