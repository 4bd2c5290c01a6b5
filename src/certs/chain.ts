/**
 * Chain building and checking: from a leaf, through the store's intermediates (and the message's certificates), up
 * to a trust anchor, at a given time. Certificate signatures are checked by the same code as message signatures
 * (cms/signed.ts `verifySignature`: RSA PKCS#1 v1.5 with any hash including MD5/SHA-224, RSA-PSS, ECDSA, Ed25519),
 * so an old MD5 or SHA-1 chain verifies when the policy allows weak algorithms; names and key identifiers link the
 * certificates; each issuer must be a CA valid at that time. Depth is bounded.
 */
import { WEAK_SIGNATURE_OIDS } from '../crypto/policy.js';
import { children, decodeOid, readTlv } from '../cms/der.js';
import { verifySignature } from '../cms/signed.js';
import { equal, latin1 } from '../lib/bytes.js';
import { LruMap } from '../lib/lru.js';
import { isValidAt, type CertInfo } from './cert_info.js';

export interface ChainResult {
  /** Leaf first, anchor last, when a chain was found. */
  chain?: CertInfo[];
  /** Why no chain: 'untrusted' (no path to an anchor), 'expired' (an issuer was outside its validity). */
  problem?: 'untrusted' | 'expired' | 'weak-algorithm';
}

const MAX_DEPTH = 8;
const verified = new WeakMap<Uint8Array, WeakMap<Uint8Array, boolean>>();

/**
 * Signature checks by content: the certificates inside each signed message are new arrays every time, so the
 * identity cache above misses them. The key is the whole DER of the certificate (what was signed, the algorithm and
 * the signature) and the issuer's whole public key, so a hit is the same check; public data only. Bounded.
 */
const verifiedByContent = new LruMap<string, boolean>(512);

async function signedBy(child: CertInfo, issuer: CertInfo, crypto?: Crypto): Promise<boolean> {
  let m = verified.get(child.der);
  const hit = m?.get(issuer.der);
  if (hit !== undefined) return hit;
  const contentKey = `${latin1(child.der)}\u0000${latin1(issuer.spki)}`;
  const known = verifiedByContent.get(contentKey);
  if (known !== undefined) {
    if (!m) verified.set(child.der, (m = new WeakMap()));
    m.set(issuer.der, known);
    return known;
  }
  let ok = false;
  try {
    const der = child.signatureAlgorithm;
    const [oT, pT] = children(der, readTlv(der, 0));
    const alg = { oid: decodeOid(der, oT!), der, params: pT };
    ok = (await verifySignature(alg, undefined, issuer, child.tbs, child.signature, crypto)).ok;
  } catch {
    ok = false;
  }
  if (!m) verified.set(child.der, (m = new WeakMap()));
  m.set(issuer.der, ok);
  verifiedByContent.set(contentKey, ok);
  return ok;
}

function couldIssue(child: CertInfo, issuer: CertInfo): boolean {
  if (!equal(child.issuer, issuer.subject)) return false;
  if (child.aki && issuer.ski && !equal(child.aki, issuer.ski)) return false;
  return true;
}

/**
 * Finds a path from `leaf` to one of `anchors`, using `pool` for intermediates. Every certificate on the path must
 * be valid at `at`. Returns the first path found.
 */
export async function buildChain(
  leaf: CertInfo,
  pool: readonly CertInfo[],
  anchors: readonly CertInfo[],
  at: Date,
  opts: { allowWeak?: boolean; crypto?: Crypto } = {},
): Promise<ChainResult> {
  let sawExpired = false;
  let sawWeak = false;
  const walk = async (cert: CertInfo, path: CertInfo[]): Promise<CertInfo[] | undefined> => {
    // Is the cert itself an anchor?
    if (anchors.some((a) => equal(a.der, cert.der))) return path;
    if (path.length > MAX_DEPTH) return undefined;
    for (const anchor of anchors) {
      if (!couldIssue(cert, anchor)) continue;
      if (!isValidAt(anchor, at)) {
        sawExpired = true;
        continue;
      }
      if (!opts.allowWeak && WEAK_SIGNATURE_OIDS.has(cert.signatureAlgorithmOid)) {
        sawWeak = true;
        continue;
      }
      if (await signedBy(cert, anchor, opts.crypto)) return [...path, anchor];
    }
    for (const inter of pool) {
      if (inter.selfIssued || !inter.isCA || !couldIssue(cert, inter)) continue;
      if (path.some((p) => equal(p.der, inter.der))) continue;
      if (!isValidAt(inter, at)) {
        sawExpired = true;
        continue;
      }
      if (!opts.allowWeak && WEAK_SIGNATURE_OIDS.has(cert.signatureAlgorithmOid)) {
        sawWeak = true;
        continue;
      }
      if (!(await signedBy(cert, inter, opts.crypto))) continue;
      const found = await walk(inter, [...path, inter]);
      if (found) return found;
    }
    return undefined;
  };
  const chain = await walk(leaf, [leaf]);
  if (chain) return { chain };
  return { problem: sawWeak ? 'weak-algorithm' : sawExpired ? 'expired' : 'untrusted' };
}
