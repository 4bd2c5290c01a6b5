/**
 * Signing for SignedData (RFC 5652 §5.4, §5.5): which certificates' keys smime-core can sign with (RSA, ECDSA on
 * P-256/384/521, Ed25519), the digest a signer uses, the SignerInfo's signatureAlgorithm (RSASSA-PKCS1-v1_5,
 * RSASSA-PSS per RFC 4056, ECDSA per RFC 5753/5754, Ed25519 per RFC 8419), and the signature itself through the
 * key's `ExternalKey.sign` (src/crypto/external_key.ts), checked and verified before it is used.
 */
import { KeyInvalid, KeyOperationRefused, SmimeError, UnsupportedAlgorithm } from '../errors.js';
import { DIGESTS, KEY_ALGORITHMS, MGF1_OID, NIST_CURVES, signatureOidFor, SIGNATURES, type WebCryptoHash } from '../crypto/algorithms.js';
import { ecdsaDerToP1363, verifySignature } from '../crypto/signatures.js';
import { rsaPkcs1v15Verify, rsaPssVerify } from '../crypto/rsa_sig.js';
import { keyKind, type CertInfo } from '../certs/cert_info.js';
import { externalKeyOf, rsaModulusBits, type PrivateKeyRef } from '../certs/keys.js';
import { algorithmIdentifier, children, decodeOid, explicit, integer, NULL, readAlgorithm, readTlv, seq, TAG } from '../lib/der.js';
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
  /** The signer's private key (used through `ExternalKey`, see {@link externalKeyOf}). */
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

/** The SignerInfo's signatureAlgorithm as `ExternalKey.sign` receives it: the OID and the DER of its parameters. */
export function signatureAlgorithmParts(p: SignParams): { oid: string; params?: Uint8Array } {
  const der = signatureAlgorithmFor(p);
  const top = readTlv(der, 0);
  const [oT, pT] = children(der, top);
  const oid = decodeOid(der, oT);
  // PKCS#1 v1.5's NULL is not a parameter worth passing; PSS's RSASSA-PSS-params are.
  if (!pT || pT.tagNo === TAG.NULL) return { oid };
  return { oid, params: der.slice(pT.start, pT.end) };
}

/** The signature's form is what the algorithm gives, else KeyOperationRefused. */
function checkSignatureForm(signer: CertInfo, sig: unknown): Uint8Array {
  if (!(sig instanceof Uint8Array)) throw new KeyOperationRefused('the key returned no signature');
  const kind = keyKind(signer);
  if (kind === 'rsa') {
    const k = (rsaModulusBits(signer) + 7) >> 3;
    if (sig.length !== k) throw new KeyOperationRefused(`the key's RSA signature is ${sig.length} bytes long, not ${k}`);
  } else if (kind === 'ec') {
    const size = signer.curve ? NIST_CURVES[signer.curve]?.size : undefined;
    const raw = size ? ecdsaDerToP1363(sig, size) : undefined;
    if (!raw || isZero(raw.subarray(0, size)) || isZero(raw.subarray(size))) {
      throw new KeyOperationRefused("the key's ECDSA signature is not a well-formed DER ECDSA-Sig-Value");
    }
  } else if (kind === 'ed25519' && sig.length !== 64) throw new KeyOperationRefused(`the key's Ed25519 signature is ${sig.length} bytes long, not 64`);
  return sig;
}

function isZero(b: Uint8Array): boolean {
  let d = 0;
  for (const x of b) d |= x;
  return d === 0;
}

/**
 * Whether `signature` verifies with the signer's certificate. RSA synchronously in TypeScript (one public-key
 * operation with e, no trip through WebCrypto's thread pool: it adds a few percent to a signature), ECDSA and
 * Ed25519 through WebCrypto.
 */
async function verifiesWithCertificate(p: SignParams, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (keyKind(p.signer) === 'rsa') {
    try {
      return p.pss
        ? rsaPssVerify(p.signer.spki, { hash: p.hash, mgfHash: p.hash, salt: DIGESTS[p.hash].length }, data, signature)
        : rsaPkcs1v15Verify(p.signer.spki, p.hash, data, signature);
    } catch {
      return false;
    }
  }
  const alg = signatureAlgorithmFor(p);
  const check = await verifySignature(readAlgorithm(alg, readTlv(alg, 0), 'signatureAlgorithm'), DIGESTS[p.hash].oid, p.signer, data, signature, p.crypto);
  return check.ok;
}

/**
 * Signs `data` (the DER of the signed attributes) through the key's `ExternalKey.sign` with the SignerInfo's
 * signatureAlgorithm, and returns the signature as CMS carries it. The signature is checked before it is used:
 * its form (RSA: the modulus length; ECDSA: a DER ECDSA-Sig-Value, r and s in range; Ed25519: 64 bytes), then
 * verified with the certificate's public key (unless it is a PKCS#8 key smime-core holds, matched to the certificate
 * at import), so that a key that is not the certificate's (a token with the wrong key) cannot produce a bad signature
 * silently: KeyOperationRefused. A key that cannot sign: KeyOperationRefused;
 * an identity without a key: KeyInvalid.
 */
export async function signBytes(p: SignParams, data: Uint8Array): Promise<Uint8Array> {
  const key = externalKeyOf(p.key, p.signer, p.crypto);
  if (!key) throw new KeyInvalid('the identity has no private key');
  if (typeof key.sign !== 'function') throw new KeyOperationRefused('the key cannot sign');
  const algorithm = signatureAlgorithmParts(p);
  let sig: unknown;
  try {
    sig = await key.sign(data, algorithm);
  } catch (e) {
    if (e instanceof SmimeError) throw e;
    throw new KeyOperationRefused(`the key refused to sign: ${e instanceof Error ? e.message : String(e)}`);
  }
  const signature = checkSignatureForm(p.signer, sig).slice();
  // A PKCS#8 key was matched to its certificate at import and signs through WebCrypto here: no second check (it
  // would add 45% to an ECDSA signature). Every other key (a token, a CryptoKey taken on the caller's word) is checked.
  const held = p.key.external === undefined && p.key.pkcs8 !== undefined;
  if (!held && !(await verifiesWithCertificate(p, data, signature))) throw new KeyOperationRefused("the key's signature does not verify with the certificate");
  return signature;
}
