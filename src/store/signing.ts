/**
 * Choosing the signing identity for an address, and the certificates that go with a signature.
 *
 * An identity qualifies when:
 * - it has a private key that can sign (every key smime-core holds can; an `ExternalKey` without `sign` is
 *   'key-cannot-sign');
 * - one of its certificate's addresses is the address, compared case-insensitively, as for encryption;
 * - the certificate is valid now (never an expired one);
 * - keyUsage (when present) has digitalSignature or nonRepudiation;
 * - extendedKeyUsage is absent, emailProtection or anyExtendedKeyUsage;
 * - smime-core can sign with its key (RSA, ECDSA P-256/384/521, Ed25519) and the algorithm policy accepts it
 *   (RSA of at least `minRsaBits`; the store's policy, or the one the call passes).
 *
 * Among those, a dedicated signing certificate (keyUsage present without keyEncipherment and keyAgreement) is
 * preferred over a dual-use one, then the newest notBefore.
 */
import { CertificateNotFound } from '../errors.js';
import { equal } from '../lib/bytes.js';
import { namesMatch } from '../certs/names.js';
import { canSignWith } from '../cms/signer.js';
import type { CertificateStore } from './store.js';
import { storeInternals, type StoredIdentity } from './internal.js';
import { ekuAllowsEmail, isValidAt, keyKind, KU, type CertInfo } from '../certs/cert_info.js';
import { rsaModulusBits } from '../certs/keys.js';
import { keyPolicyProblem, type AlgorithmPolicy } from '../crypto/policy.js';

/** keyUsage allows signing S/MIME content: digitalSignature or nonRepudiation (absent keyUsage allows all). */
export function allowsSigning(info: CertInfo): boolean {
  return info.keyUsage === undefined || info.keyUsage[KU.digitalSignature] === true || info.keyUsage[KU.nonRepudiation] === true;
}

/** A certificate only for signatures: keyUsage present, with neither keyEncipherment nor keyAgreement. */
export function isDedicatedSigningCert(info: CertInfo): boolean {
  return info.keyUsage !== undefined && !info.keyUsage[KU.keyEncipherment] && !info.keyUsage[KU.keyAgreement];
}

/** Why an identity can't sign for the address now, or undefined when it can. */
export function signingProblem(id: StoredIdentity, address: string, at: Date, policy: AlgorithmPolicy): string | undefined {
  const info = id.info;
  if (!info.emails.includes(address)) return 'address';
  if (!isValidAt(info, at)) return 'expired';
  if (!allowsSigning(info) || !ekuAllowsEmail(info)) return 'wrong-usage';
  if (!canSignWith(info)) return 'unsupported-key';
  const kind = keyKind(info);
  const weak = keyPolicyProblem(kind, kind === 'rsa' ? rsaModulusBits(info) : undefined, policy);
  if (weak) return weak;
  if (id.key.external) {
    if (typeof id.key.external.sign !== 'function') return 'key-cannot-sign';
  } else if (!id.key.pkcs8 && !id.key.cryptoKey) return 'no-key';
  return undefined;
}

/**
 * The signing identity for `from`, by the rules above, under `policy` (default: the store's). CertificateNotFound
 * names the address and the candidates' problems when none fits.
 */
export function selectSigningIdentity(
  store: CertificateStore,
  from: string,
  at: Date = store.now(),
  policy: AlgorithmPolicy = store.policy,
): StoredIdentity {
  const address = from.trim().toLowerCase();
  const problems = new Set<string>();
  const good: StoredIdentity[] = [];
  for (const id of storeInternals(store).identities()) {
    const p = signingProblem(id, address, at, policy);
    if (p === undefined) good.push(id);
    else if (p !== 'address') problems.add(p);
  }
  if (good.length === 0) {
    const why = problems.size ? ` (candidates: ${[...problems].join(', ')})` : '';
    throw new CertificateNotFound(`no signing certificate for ${address}${why}`);
  }
  good.sort((a, b) => {
    const d = Number(isDedicatedSigningCert(b.info)) - Number(isDedicatedSigningCert(a.info));
    if (d !== 0) return d;
    return b.info.notBefore.getTime() - a.info.notBefore.getTime();
  });
  return good[0]!;
}

/**
 * The intermediates of `leaf` from the store: a chain to a trust anchor when one exists (anchor left out), else
 * the certificates found by issuer-name matching (RFC 5280 §7.1, as path building: not byte for byte), up to a
 * self-issued one.
 */
export async function intermediatesFor(store: CertificateStore, leaf: CertInfo, at: Date): Promise<CertInfo[]> {
  const internals = storeInternals(store);
  const r = await internals.chain(leaf, at);
  if (r.chain) return r.chain.slice(1).filter((c) => !c.selfIssued && !internals.trustAnchors().some((a) => equal(a.der, c.der)));
  const out: CertInfo[] = [];
  const all = internals.allCertificates();
  let cur = leaf;
  for (let depth = 0; depth < 8 && !cur.selfIssued; depth++) {
    const issuer = all.find(
      (c) =>
        c.isCA &&
        !c.selfIssued &&
        namesMatch(c.subject, cur.issuer) &&
        (!cur.aki || !c.ski || equal(cur.aki, c.ski)) &&
        !out.includes(c) &&
        c !== leaf,
    );
    if (!issuer) break;
    out.push(issuer);
    cur = issuer;
  }
  return out;
}
