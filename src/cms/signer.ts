/**
 * Signing for SignedData (RFC 5652 §5.4, §5.5): which certificates' keys smime-core can sign with (RSA, ECDSA on
 * P-256/384/521, Ed25519), the digest a signer uses, the SignerInfo's signatureAlgorithm (RSASSA-PKCS1-v1_5,
 * RSASSA-PSS per RFC 4056, ECDSA per RFC 5753/5754, Ed25519 per RFC 8419), and the signature itself through
 * WebCrypto, with the signing key imported (or re-imported from an extractable CryptoKey) for the algorithm.
 */
import { KeyInvalid, UnsupportedAlgorithm } from '../errors.js';
import { getCrypto } from '../crypto/provider.js';
import { importPrivateKey } from '../crypto/key_cache.js';
import { DIGESTS, KEY_ALGORITHMS, MGF1_OID, NIST_CURVES, signatureOidFor, SIGNATURES, type WebCryptoHash } from '../crypto/algorithms.js';
import { ecdsaP1363ToDer } from '../crypto/signatures.js';
import { keyKind, type CertInfo } from '../certs/cert_info.js';
import type { PrivateKeyRef } from '../certs/keys.js';
import { algorithmIdentifier, explicit, integer, NULL, seq } from '../lib/der.js';
import { oidName } from './oids.js';

/** The hashes a signer may be asked for (WebCrypto's spelling). */
export type HashName = WebCryptoHash;

/** Whether smime-core can sign with this certificate's key type (RSA, ECDSA on P-256/384/521, Ed25519). */
export function canSignWith(info: CertInfo): boolean {
  const kind = keyKind(info);
  if (kind === 'rsa') return info.keyAlgorithm === KEY_ALGORITHMS.rsaEncryption.oid;
  if (kind === 'ec') return !!info.curve && info.curve in NIST_CURVES;
  return kind === 'ed25519';
}

/**
 * The digest a signer uses when `requested` is asked for: RFC 8419 §3 makes SHA-512 the only message digest for
 * Ed25519 with signed attributes, so an Ed25519 signer always uses SHA-512; RSA and ECDSA use what is asked.
 */
export function signingHash(signer: CertInfo, requested: HashName): HashName {
  return keyKind(signer) === 'ed25519' ? 'SHA-512' : requested;
}

/** What signing needs: the signer's certificate and key, the hash, and the provider. */
export interface SignParams {
  /** The signer's certificate. */
  signer: CertInfo;
  key: PrivateKeyRef;
  hash: HashName;
  /** RSASSA-PSS (salt = hash length, MGF1 with the same hash) instead of PKCS#1 v1.5. RSA only. */
  pss?: boolean;
  crypto?: Crypto;
}

/** The SignerInfo's signatureAlgorithm for the signer, as DER. */
export function signatureAlgorithmFor(p: SignParams): Uint8Array {
  const kind = keyKind(p.signer);
  if (kind === 'rsa') {
    if (p.pss) {
      const h = algorithmIdentifier(DIGESTS[p.hash].oid);
      const params = seq(explicit(0, h), explicit(1, algorithmIdentifier(MGF1_OID, h)), explicit(2, integer(DIGESTS[p.hash].length)));
      return algorithmIdentifier(SIGNATURES.rsassaPss.oid, params);
    }
    return algorithmIdentifier(signatureOidFor('rsa-pkcs1', p.hash)!, NULL);
  }
  if (kind === 'ec') return algorithmIdentifier(signatureOidFor('ecdsa', p.hash)!);
  // RFC 8419 §2.3 / RFC 8410 §3: id-Ed25519 with the parameters absent.
  if (kind === 'ed25519') return algorithmIdentifier(SIGNATURES.ed25519.oid);
  throw new UnsupportedAlgorithm(`signing with a ${oidName(p.signer.keyAlgorithm)} key`, p.signer.keyAlgorithm);
}

/** The WebCrypto key and algorithm to sign with; a CryptoKey of another algorithm is re-imported when extractable. */
async function signingKey(p: SignParams): Promise<{ key: CryptoKey; alg: AlgorithmIdentifier | RsaPssParams | EcdsaParams }> {
  const c = getCrypto(p.crypto).subtle;
  const kind = keyKind(p.signer);
  let importAlg: RsaHashedImportParams | EcKeyImportParams | Algorithm;
  let alg: AlgorithmIdentifier | RsaPssParams | EcdsaParams;
  if (kind === 'rsa') {
    importAlg = { name: p.pss ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5', hash: p.hash };
    alg = p.pss ? { name: 'RSA-PSS', saltLength: DIGESTS[p.hash].length } : { name: 'RSASSA-PKCS1-v1_5' };
  } else if (kind === 'ec') {
    const curve = p.signer.curve ? NIST_CURVES[p.signer.curve] : undefined;
    if (!curve) throw new UnsupportedAlgorithm(`EC curve ${p.signer.curve ?? '(none)'}`, p.signer.curve);
    importAlg = { name: 'ECDSA', namedCurve: curve.name };
    alg = { name: 'ECDSA', hash: p.hash };
  } else if (kind === 'ed25519') {
    // PureEdDSA over the DER of the signed attributes (RFC 8419 §3.1): no hash parameter.
    importAlg = { name: 'Ed25519' };
    alg = { name: 'Ed25519' };
  } else throw new UnsupportedAlgorithm(`signing with a ${oidName(p.signer.keyAlgorithm)} key`, p.signer.keyAlgorithm);

  let pkcs8 = p.key.pkcs8;
  const ck = p.key.cryptoKey;
  if (!pkcs8 && ck) {
    const a = ck.algorithm as { name: string; hash?: { name: string }; namedCurve?: string };
    const fits =
      a.name === importAlg.name &&
      (kind === 'ed25519'
        ? true
        : kind === 'ec'
          ? a.namedCurve === (importAlg as EcKeyImportParams).namedCurve
          : a.hash?.name === p.hash) &&
      ck.usages.includes('sign');
    if (fits) return { key: ck, alg };
    if (!ck.extractable)
      throw new KeyInvalid(
        `the signing key is a non-extractable ${a.name}${a.hash ? `/${a.hash.name}` : ''} CryptoKey; it can't sign with ${importAlg.name}/${p.hash}`,
      );
    pkcs8 = new Uint8Array(await c.exportKey('pkcs8', ck));
  }
  if (!pkcs8) throw new KeyInvalid('the identity has no private key');
  try {
    return { key: await importPrivateKey(c, pkcs8, importAlg, ['sign']), alg };
  } catch (e) {
    throw new KeyInvalid(`the signing key could not be imported: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Signs `data` (the DER of the signed attributes) and returns the signature as CMS carries it. */
export async function signBytes(p: SignParams, data: Uint8Array): Promise<Uint8Array> {
  const { key, alg } = await signingKey(p);
  const sig = new Uint8Array(await getCrypto(p.crypto).subtle.sign(alg, key, data as Uint8Array<ArrayBuffer>));
  return keyKind(p.signer) === 'ec' ? ecdsaP1363ToDer(sig) : sig;
}
