/**
 * ECDSA verification of a digest (a "prehashed" verify, SEC 1 §4.1.4 from step 4 on), which WebCrypto lacks: its
 * ECDSA hashes the message itself. A stream's SignerInfo without signed attributes signs the content, whose digest the
 * reader computed as it went by; this checks the signature against that digest (crypto/signatures.ts
 * `verifySignatureOverDigest`), on @noble/curves' P-256, P-384 and P-521, loaded when first needed (most mail has
 * signed attributes, and a small content is verified whole through WebCrypto).
 */
import type { NistCurve } from './algorithms.js';

/** @noble/curves' NIST curves, loaded on first use: `import 'smime-core'` does not load them. */
const nist = () => import('@noble/curves/nist.js');

/**
 * Whether `signature` (r‖s, IEEE P1363, each `curve.size` bytes: crypto/signatures.ts `ecdsaDerToP1363` of the DER
 * the SignerInfo carries) is an ECDSA signature of `digest` under `publicKey` (the SEC 1 point of the
 * SubjectPublicKeyInfo). The digest is truncated to the order's bit length as FIPS 186-5 §6.4.2 says (SHA-512 on
 * P-256), or taken whole when shorter (SHA-256 on P-521). A high S is accepted, as WebCrypto and OpenSSL accept it;
 * r or s outside [1, n-1], a point off the curve or the point at infinity is false. Never throws for bad input.
 */
export async function ecdsaVerifyDigest(curve: NistCurve, publicKey: Uint8Array, digest: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (signature.length !== 2 * curve.size) return false;
  const m = await nist();
  const ecdsa = curve.name === 'P-256' ? m.p256 : curve.name === 'P-384' ? m.p384 : m.p521;
  try {
    return ecdsa.verify(signature, digest, publicKey, { prehash: false, lowS: false, format: 'compact' });
  } catch {
    return false;
  }
}
