/**
 * What the signature verifiers (src/crypto/signatures.ts) take, made from bare DER in tests that have no certificate:
 * the SubjectPublicKeyInfo fields of a key, and a parsed AlgorithmIdentifier.
 */
import type { SignerPublicKey } from '../../src/crypto/signatures.js';
import { algorithmIdentifier, children, decodeOid, readAlgorithm, readTlv, type ParsedAlgorithm } from '../../src/lib/der.js';

/** The SubjectPublicKeyInfo fields the verifiers need, read from an SPKI. */
export function keyOf(spki: Uint8Array): SignerPublicKey {
  const [algT, bitsT] = children(spki, readTlv(spki, 0));
  const [oidT, paramT] = children(spki, algT!);
  return {
    spki,
    keyAlgorithm: decodeOid(spki, oidT!),
    curve: paramT && paramT.tagNo === 6 ? decodeOid(spki, paramT) : undefined,
    publicKey: spki.subarray(bitsT!.contentStart + 1, bitsT!.contentEnd),
  };
}

/** The AlgorithmIdentifier of `oid` (with `params`), parsed as a SignerInfo's would be. */
export function alg(oid: string, params?: Uint8Array): ParsedAlgorithm {
  const der = algorithmIdentifier(oid, params);
  return readAlgorithm(der, readTlv(der, 0), 'test');
}
