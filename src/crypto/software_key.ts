/**
 * The `ExternalKey` of a key smime-core holds in memory as PKCS#8 (from a PEM file, a PKCS#12, or exported from an
 * extractable CryptoKey). RSA decryption is the raw operation ('rsa-raw': the blinded CRT RSADP of rsa.ts, with the
 * provider's native accelerator), so the padding is removed by the caller in constant time; signing and key
 * agreement go through WebCrypto, with the imported CryptoKeys cached by the identity of the PKCS#8 array
 * (key_cache.ts) and the parsed RSA key likewise: no parse or import per call.
 */
import { KeyInvalid, KeyOperationRefused } from '../errors.js';
import { toArrayBuffer } from '../lib/bytes.js';
import { getCrypto } from './provider.js';
import { importPrivateKey } from './key_cache.js';
import { i2osp } from './bigint.js';
import { ciphertextRep, rsaByteLength, rsaPrivate } from './rsa.js';
import { parseRsaPrivateKey, type RsaPrivateKey } from './rsa_key.js';
import { ecdsaP1363ToDer } from './signatures.js';
import { webCryptoSignParams } from './sign_params.js';
import type { ExternalDecryptAlgorithm, ExternalKey, ExternalKeyType } from './external_key.js';

/** What a software key needs besides its PKCS#8: its family, and for EC its WebCrypto curve name. */
export interface SoftwareKeyParams {
  /** The key's family (the certificate's). */
  type: ExternalKeyType;
  /** The WebCrypto curve name ('P-256', 'P-384', 'P-521') of an EC key. */
  namedCurve?: string;
}

/**
 * Parsed RSA keys, by the store's PKCS#8 array (which nobody writes): a key is parsed and checked once, and the
 * same object (with its DER) reaches rsa.ts every time, for its native accelerator's cache.
 */
const parsedKeys = new WeakMap<Uint8Array, RsaPrivateKey>();

/** The parsed RSA private key of `pkcs8`, parsed once per array. */
export function rsaPrivateKeyOf(pkcs8: Uint8Array): RsaPrivateKey {
  let k = parsedKeys.get(pkcs8);
  if (!k) {
    k = parseRsaPrivateKey(pkcs8);
    parsedKeys.set(pkcs8, k);
  }
  return k;
}

/** Keys made here: their raw RSA result is already checked by re-encryption (rsaPrivate), so callers need not. */
const selfChecked = new WeakSet<ExternalKey>();

/** True for a key made by {@link softwareKey}: its 'rsa-raw' results are checked before they are returned. */
export function isSelfCheckedKey(key: ExternalKey): boolean {
  return selfChecked.has(key);
}

/** The bits of the shared secret of an agreement key: the field size. */
function agreementBits(type: ExternalKeyType, namedCurve: string | undefined): number {
  if (type === 'x25519') return 256;
  if (type === 'x448') return 448;
  return namedCurve === 'P-256' ? 256 : namedCurve === 'P-384' ? 384 : 528;
}

/**
 * An `ExternalKey` over PKCS#8 bytes held in memory, with `crypto` (default: the global WebCrypto) for signing and
 * key agreement. Keep the same `pkcs8` array from call to call: the caches are keyed by its identity.
 */
export function softwareKey(pkcs8: Uint8Array, params: SoftwareKeyParams, crypto?: Crypto): ExternalKey {
  const { type, namedCurve } = params;
  let key: ExternalKey;
  if (type === 'rsa') {
    key = {
      type,
      decryptModes: ['rsa-raw'],
      async decrypt(data: Uint8Array, algorithm: ExternalDecryptAlgorithm): Promise<Uint8Array> {
        if (algorithm !== 'rsa-raw') throw new KeyOperationRefused('this key decrypts with rsa-raw only');
        const priv = rsaPrivateKeyOf(pkcs8);
        const c = ciphertextRep(priv, data);
        if (c === undefined) throw new KeyOperationRefused('rsa-raw: the input is not a representative of this key (length or range)');
        return i2osp(rsaPrivate(priv, c, crypto), rsaByteLength(priv));
      },
      sign: (data, algorithm) => webCryptoSign(pkcs8, type, namedCurve, data, algorithm, crypto),
    };
  } else if (type === 'ec' || type === 'x25519' || type === 'x448') {
    const name = type === 'ec' ? 'ECDH' : type === 'x25519' ? 'X25519' : 'X448';
    const agreeAlg = type === 'ec' ? ({ name, namedCurve } as EcKeyImportParams) : { name };
    const bits = agreementBits(type, namedCurve);
    key = {
      type,
      async deriveSecret(spki: Uint8Array): Promise<Uint8Array> {
        const s = getCrypto(crypto).subtle;
        const priv = await importPrivateKey(s, pkcs8, agreeAlg, ['deriveBits']);
        const pub = await s.importKey('spki', toArrayBuffer(spki), agreeAlg, true, []);
        return new Uint8Array(await s.deriveBits({ name, public: pub } as EcdhKeyDeriveParams, priv, bits));
      },
    };
    if (type === 'ec') key = { ...key, sign: (data, algorithm) => webCryptoSign(pkcs8, type, namedCurve, data, algorithm, crypto) };
  } else {
    key = { type, sign: (data, algorithm) => webCryptoSign(pkcs8, type, namedCurve, data, algorithm, crypto) };
  }
  selfChecked.add(key);
  return key;
}

/** Signs with the PKCS#8 key through WebCrypto (the import cached), ECDSA in DER. */
async function webCryptoSign(
  pkcs8: Uint8Array,
  type: ExternalKeyType,
  namedCurve: string | undefined,
  data: Uint8Array,
  algorithm: { oid: string; params?: Uint8Array },
  crypto?: Crypto,
): Promise<Uint8Array> {
  const p = webCryptoSignParams(type, namedCurve, algorithm);
  const s = getCrypto(crypto).subtle;
  let k: CryptoKey;
  try {
    k = await importPrivateKey(s, pkcs8, p.importAlg, ['sign']);
  } catch (e) {
    throw new KeyInvalid(`the signing key could not be imported: ${e instanceof Error ? e.message : String(e)}`);
  }
  const sig = new Uint8Array(await s.sign(p.alg, k, data as Uint8Array<ArrayBuffer>));
  return p.ecdsa ? ecdsaP1363ToDer(sig) : sig;
}
