/**
 * The `ExternalKey` of a WebCrypto `CryptoKey` (which may be non-extractable). It offers what WebCrypto can do
 * with it:
 * - sign, when the key's algorithm fits the signature asked for; an extractable key of another algorithm is
 *   exported and re-imported for it (as the in-memory key does);
 * - decrypt: an extractable RSA key does the raw operation (through its PKCS#8, see software_key.ts); a
 *   non-extractable RSA-OAEP key only OAEP with the hash it was imported with (MGF1 with the same hash), since
 *   WebCrypto has no PKCS#1 v1.5 decryption and no raw RSA;
 * - deriveSecret, for an ECDH, X25519 or X448 key.
 */
import { KeyInvalid, KeyOperationRefused } from '../errors.js';
import { toArrayBuffer } from '../lib/bytes.js';
import { getCrypto } from './provider.js';
import { ecdsaP1363ToDer } from './signatures.js';
import { webCryptoSignParams } from './sign_params.js';
import { softwareKey, type SoftwareKeyParams } from './software_key.js';
import type { ExternalDecryptAlgorithm, ExternalDecryptMode, ExternalKey, ExternalOaepParams } from './external_key.js';

/** The PKCS#8 of extractable keys, exported once (the same array each time, for the caches keyed by it). */
const exported = new WeakMap<CryptoKey, Promise<Uint8Array>>();

function pkcs8Of(ck: CryptoKey, crypto?: Crypto): Promise<Uint8Array> {
  let p = exported.get(ck);
  if (!p) {
    p = getCrypto(crypto)
      .subtle.exportKey('pkcs8', ck)
      .then((b) => new Uint8Array(b));
    exported.set(ck, p);
    p.catch(() => exported.delete(ck));
  }
  return p;
}

/** Adapters made here, with their CryptoKey: for the explanation of what such a key cannot do. */
const adapters = new WeakMap<ExternalKey, CryptoKey>();

/** The CryptoKey behind `key` when it is an adapter made by {@link cryptoKeyAdapter}. */
export function adaptedCryptoKey(key: ExternalKey): CryptoKey | undefined {
  return adapters.get(key);
}

/**
 * Why this adapter cannot decrypt with OAEP `params` (hash and MGF1 hash both the key's hash), or undefined when
 * it can or `key` is not an adapter.
 */
export function webCryptoOaepProblem(key: ExternalKey, params: ExternalOaepParams): string | undefined {
  const ck = adapters.get(key);
  if (!ck || ck.extractable) return undefined;
  const hash = (ck.algorithm as RsaHashedKeyAlgorithm).hash?.name;
  if (params.hash !== hash || params.mgfHash !== hash) {
    return `this non-extractable RSA-OAEP CryptoKey was imported with ${hash ?? '(no hash)'}; the message uses OAEP with ${params.hash}${params.mgfHash !== params.hash ? ` and MGF1 with ${params.mgfHash}` : ''}`;
  }
  return undefined;
}

/** An `ExternalKey` over a WebCrypto CryptoKey; `params` say the key's family (the certificate's). */
export function cryptoKeyAdapter(ck: CryptoKey, params: SoftwareKeyParams, crypto?: Crypto): ExternalKey {
  const { type, namedCurve } = params;
  const a = ck.algorithm as { name: string; hash?: { name: string }; namedCurve?: string };
  const key: {
    type: SoftwareKeyParams['type'];
    decryptModes?: readonly ExternalDecryptMode[];
    sign?: ExternalKey['sign'];
    decrypt?: ExternalKey['decrypt'];
    deriveSecret?: ExternalKey['deriveSecret'];
  } = { type };
  const canSign = ck.usages.includes('sign') || ck.extractable;
  if (canSign && type !== 'x25519' && type !== 'x448') {
    key.sign = async (data, algorithm) => {
      const p = webCryptoSignParams(type, namedCurve, algorithm);
      const fits =
        a.name === p.importAlg.name &&
        (type === 'ed25519' ? true : type === 'ec' ? a.namedCurve === namedCurve : a.hash?.name === p.hash) &&
        ck.usages.includes('sign');
      if (!fits) {
        if (!ck.extractable) {
          throw new KeyInvalid(
            `the signing key is a non-extractable ${a.name}${a.hash ? `/${a.hash.name}` : ''} CryptoKey; it can't sign with ${p.importAlg.name}/${p.hash ?? ''}`,
          );
        }
        return softwareKey(await pkcs8Of(ck, crypto), params, crypto).sign!(data, algorithm);
      }
      const sig = new Uint8Array(await getCrypto(crypto).subtle.sign(p.alg, ck, data as Uint8Array<ArrayBuffer>));
      return p.ecdsa ? ecdsaP1363ToDer(sig) : sig;
    };
  }
  if (type === 'rsa') {
    if (ck.extractable) {
      key.decryptModes = ['rsa-raw'];
      key.decrypt = async (data, algorithm) => softwareKey(await pkcs8Of(ck, crypto), params, crypto).decrypt!(data, algorithm);
    } else if (a.name === 'RSA-OAEP' && ck.usages.includes('decrypt')) {
      key.decryptModes = ['rsaes-oaep'];
      key.decrypt = async (data: Uint8Array, algorithm: ExternalDecryptAlgorithm) => {
        if (typeof algorithm !== 'object' || algorithm.name !== 'rsaes-oaep') {
          throw new KeyOperationRefused('a non-extractable RSA-OAEP CryptoKey can only do RSA-OAEP (WebCrypto has no PKCS#1 v1.5 or raw RSA decryption)');
        }
        const problem = webCryptoOaepProblem(key as ExternalKey, algorithm);
        if (problem) throw new KeyOperationRefused(problem);
        const p: RsaOaepParams = { name: 'RSA-OAEP' };
        if (algorithm.label.length) p.label = toArrayBuffer(algorithm.label);
        return new Uint8Array(await getCrypto(crypto).subtle.decrypt(p, ck, toArrayBuffer(data)));
      };
    }
  }
  if ((type === 'ec' || type === 'x25519' || type === 'x448') && (ck.usages.includes('deriveBits') || ck.extractable)) {
    key.deriveSecret = async (spki) => {
      if (!ck.usages.includes('deriveBits') || (a.name !== 'ECDH' && a.name !== 'X25519' && a.name !== 'X448')) {
        return softwareKey(await pkcs8Of(ck, crypto), params, crypto).deriveSecret!(spki);
      }
      const s = getCrypto(crypto).subtle;
      const pub = await s.importKey('spki', toArrayBuffer(spki), a.name === 'ECDH' ? { name: 'ECDH', namedCurve: a.namedCurve! } : { name: a.name }, true, []);
      const bits = a.name === 'X25519' ? 256 : a.name === 'X448' ? 448 : a.namedCurve === 'P-256' ? 256 : a.namedCurve === 'P-384' ? 384 : 528;
      return new Uint8Array(await s.deriveBits({ name: a.name, public: pub } as EcdhKeyDeriveParams, ck, bits));
    };
  }
  adapters.set(key as ExternalKey, ck);
  return key as ExternalKey;
}
