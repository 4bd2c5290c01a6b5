import { WEAK_HASHES, WEAK_SIGNATURE_OIDS } from './algorithms.js';

/**
 * The algorithm policy, in one place. A store carries a policy (`new CertificateStore({ policy })`); each call may
 * override parts of it (`options.policy` on signMessage, verifyMessage and openMessage, layered over the store's).
 *
 * Defaults:
 * - RSA keys of at least 2048 bits (`minRsaBits`); EC keys (P-256/384/521) and Edwards keys (Ed25519) are accepted.
 *   A smaller RSA signer makes a signature `invalid` ('weak-key'); such an identity is not chosen to sign, and such
 *   a certificate is not chosen to encrypt to.
 * - SHA-1 and MD5 (and MD2) signatures are `invalid` ('weak-algorithm') unless `allowWeak`; certificate chains
 *   signed with them count as untrusted unless `allowWeak`.
 * - Encryption never uses RC2, 3DES or DES (those only decrypt old mail, and the result says `legacy`).
 * - Algorithms we don't implement (DSA, for instance) are reported as `unsupported-algorithm: <oid>` in a
 *   signer's reasons, or thrown as `UnsupportedAlgorithm` (ERR_UNSUPPORTED_ALGORITHM) naming the OID.
 */
export interface AlgorithmPolicy {
  /** Minimum RSA modulus size for encryption, signing and accepted signatures. Default 2048. */
  minRsaBits: number;
  /** Accept SHA-1 and MD5 signatures (messages and certificate chains) as valid. Default false. */
  allowWeak: boolean;
}

/** The default algorithm policy: RSA keys of at least 2048 bits, no SHA-1 or MD5 signatures. */
export const DEFAULT_POLICY: Readonly<AlgorithmPolicy> = Object.freeze({ minRsaBits: 2048, allowWeak: false });

/**
 * The policy in force: the defaults, then each layer in order (later layers win; undefined members are skipped).
 * Bad values throw TypeError/RangeError naming `what` (e.g. 'verifyMessage: options.policy').
 */
export function resolvePolicy(...layers: (Partial<AlgorithmPolicy> | undefined)[]): AlgorithmPolicy {
  return resolvePolicyFor('policy', ...layers);
}

export function resolvePolicyFor(what: string, ...layers: (Partial<AlgorithmPolicy> | undefined)[]): AlgorithmPolicy {
  const p: AlgorithmPolicy = { ...DEFAULT_POLICY };
  for (const l of layers) {
    if (l === undefined) continue;
    if (l === null || typeof l !== 'object') throw new TypeError(`${what}: expected an object`);
    if (l.minRsaBits !== undefined) {
      if (typeof l.minRsaBits !== 'number' || !Number.isInteger(l.minRsaBits) || l.minRsaBits < 512)
        throw new RangeError(`${what}.minRsaBits: expected an integer ≥ 512`);
      p.minRsaBits = l.minRsaBits;
    }
    if (l.allowWeak !== undefined) {
      if (typeof l.allowWeak !== 'boolean') throw new TypeError(`${what}.allowWeak: expected a boolean`);
      p.allowWeak = l.allowWeak;
    }
  }
  return p;
}

/** Signature and digest algorithm OIDs that use SHA-1, MD5 or MD2, and the hash names that do (from the registry). */
export { WEAK_HASHES, WEAK_SIGNATURE_OIDS };

/** True when a hash (by name, e.g. 'SHA-1') is too weak for signatures. */
export function isWeakHash(name: string | undefined): boolean {
  return name !== undefined && WEAK_HASHES.has(name);
}

/**
 * Whether the policy accepts a signer's (or recipient's) public key: 'weak-key' for an RSA modulus below
 * `minRsaBits`, else undefined. EC and Edwards keys are accepted (their curves are checked where they are used).
 */
export function keyPolicyProblem(kind: string, rsaBits: number | undefined, policy: AlgorithmPolicy): 'weak-key' | undefined {
  if (kind === 'rsa' && rsaBits !== undefined && rsaBits < policy.minRsaBits) return 'weak-key';
  return undefined;
}
