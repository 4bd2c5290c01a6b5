/**
 * The WebCrypto form of a CMS signature algorithm, as `ExternalKey.sign` receives it (an OID and the DER of its
 * parameters): the import parameters of the private key and the sign() parameters. Shared by the in-memory key
 * (software_key.ts) and the CryptoKey adapter (webcrypto_key.ts).
 */
import { KeyOperationRefused } from '../errors.js';
import { algorithmIdentifier, readAlgorithm, readTlv } from '../lib/der.js';
import { isWebCryptoHash, signatureByOid, type WebCryptoHash } from './algorithms.js';
import { readPssParams } from './signatures.js';
import type { ExternalKeyType } from './external_key.js';

/** What WebCrypto needs to sign as a CMS signature algorithm asks. */
export interface WebCryptoSignParams {
  /** importKey() parameters for the private key. */
  importAlg: RsaHashedImportParams | EcKeyImportParams | Algorithm;
  /** sign() parameters. */
  alg: Algorithm | RsaPssParams | EcdsaParams;
  /** The hash, when the algorithm has one (not Ed25519). */
  hash?: WebCryptoHash;
  /** Whether the signature is ECDSA (WebCrypto gives r‖s; CMS carries DER). */
  ecdsa: boolean;
}

/**
 * The WebCrypto parameters for signing with a key of `type` (`namedCurve`: its WebCrypto curve name, for EC) as
 * `algorithm` says. KeyOperationRefused when the algorithm does not fit the key or WebCrypto lacks it.
 */
export function webCryptoSignParams(
  type: ExternalKeyType,
  namedCurve: string | undefined,
  algorithm: { oid: string; params?: Uint8Array },
): WebCryptoSignParams {
  const s = signatureByOid(algorithm.oid);
  const refuse = (): never => {
    throw new KeyOperationRefused(`signing: the algorithm ${algorithm.oid} does not fit a ${type} key or is not available`);
  };
  if (!s) return refuse();
  if (type === 'rsa' && s.scheme === 'rsa-pkcs1' && s.hash && isWebCryptoHash(s.hash)) {
    return { importAlg: { name: 'RSASSA-PKCS1-v1_5', hash: s.hash }, alg: { name: 'RSASSA-PKCS1-v1_5' }, hash: s.hash, ecdsa: false };
  }
  if (type === 'rsa' && s.scheme === 'rsa-pss') {
    let pss: ReturnType<typeof readPssParams>;
    try {
      const der = algorithmIdentifier(algorithm.oid, algorithm.params);
      pss = readPssParams(readAlgorithm(der, readTlv(der, 0), 'RSASSA-PSS'));
    } catch {
      pss = undefined;
    }
    // WebCrypto's RSA-PSS uses MGF1 with the signature's hash.
    if (!pss || !isWebCryptoHash(pss.hash) || pss.mgfHash !== pss.hash) return refuse();
    const hash = pss.hash as WebCryptoHash;
    return { importAlg: { name: 'RSA-PSS', hash }, alg: { name: 'RSA-PSS', saltLength: pss.salt } as RsaPssParams, hash, ecdsa: false };
  }
  if (type === 'ec' && s.scheme === 'ecdsa' && s.hash && isWebCryptoHash(s.hash) && namedCurve) {
    return { importAlg: { name: 'ECDSA', namedCurve }, alg: { name: 'ECDSA', hash: s.hash } as EcdsaParams, hash: s.hash, ecdsa: true };
  }
  // PureEdDSA over the data (RFC 8419 §3.1): no hash parameter.
  if (type === 'ed25519' && s.scheme === 'ed25519') return { importAlg: { name: 'Ed25519' }, alg: { name: 'Ed25519' }, ecdsa: false };
  return refuse();
}
