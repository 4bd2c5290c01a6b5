/**
 * The algorithm policy, in one place. A store carries a policy; each call may override parts of it.
 *
 * Defaults: RSA keys of at least 2048 bits, EC (P-256/384/521) and Edwards keys; SHA-1 and MD5 signatures are not
 * accepted as valid unless `allowWeak`; encryption never uses RC2, 3DES or DES (those only decrypt old mail).
 */
export interface AlgorithmPolicy {
  /** Minimum RSA modulus size for encryption, signing and accepted signatures. Default 2048. */
  minRsaBits: number;
  /** Accept SHA-1 and MD5 signatures (messages and certificate chains) as valid. Default false. */
  allowWeak: boolean;
}

export const DEFAULT_POLICY: Readonly<AlgorithmPolicy> = Object.freeze({ minRsaBits: 2048, allowWeak: false });

export function resolvePolicy(...layers: (Partial<AlgorithmPolicy> | undefined)[]): AlgorithmPolicy {
  const p: AlgorithmPolicy = { ...DEFAULT_POLICY };
  for (const l of layers) {
    if (!l) continue;
    if (l.minRsaBits !== undefined) {
      if (typeof l.minRsaBits !== 'number' || !Number.isInteger(l.minRsaBits) || l.minRsaBits < 512)
        throw new RangeError('policy.minRsaBits: expected an integer ≥ 512');
      p.minRsaBits = l.minRsaBits;
    }
    if (l.allowWeak !== undefined) {
      if (typeof l.allowWeak !== 'boolean') throw new TypeError('policy.allowWeak: expected a boolean');
      p.allowWeak = l.allowWeak;
    }
  }
  return p;
}

/** Signature algorithm OIDs that use SHA-1 or MD5. */
export const WEAK_SIGNATURE_OIDS = new Set([
  '1.2.840.113549.1.1.4', // md5WithRSAEncryption
  '1.2.840.113549.1.1.5', // sha1WithRSAEncryption
  '1.3.14.3.2.29', // sha1WithRSASignature (OIW)
  '1.2.840.10045.4.1', // ecdsa-with-SHA1
  '1.2.840.10040.4.3', // dsa-with-sha1
  '1.3.14.3.2.26', // sha1 (as a digest algorithm)
  '1.2.840.113549.2.5', // md5
]);
