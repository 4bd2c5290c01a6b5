/**
 * Test-side revocation of a PKITS test's path: every certificate of `pkitsPath(test)` checked with `checkRevocation`
 * against the message's CRLs, with every certificate of the message (and the anchor) as possible CRL signers, and
 * a `validateCrlSigner` that finds the signer's chain to the PKITS anchor and checks each certificate of it the same
 * way, recursively (depth-bounded; a signer whose check is already in progress, as a self-issued CRL signing key
 * whose own CRL it signs, is not checked again). The chain: src/path/chain.ts `buildChain`, or, as that leaves out
 * self-issued intermediates (key rollover certificates, PKITS 4.5 and the SelfIssued tests), a chain by names and
 * key identifiers whose every signature is checked.
 */
import { buildChain } from '../../src/path/chain.js';
import type { CertInfo } from '../../src/certs/cert_info.js';
import { parseCrl, type ParsedCrl } from '../../src/certs/crl.js';
import { checkRevocation, type RevocationStatus } from '../../src/path/revocation.js';
import { equal, latin1 } from '../../src/lib/bytes.js';
import { namesMatch } from '../../src/certs/names.js';
import { verifySignature } from '../../src/crypto/signatures.js';
import { readAlgorithm, readTlv } from '../../src/lib/der.js';
import { PathBudget } from '../../src/lib/limits.js';
import { PKITS_AT, pkitsAnchor, pkitsPath, pkitsSignedData } from '../_helpers/pkits.js';

/** One certificate's status on the path. */
export interface PathStatus {
  index: number;
  status: RevocationStatus;
}

/** The revocation status of every certificate of `path` (RFC 5280 §6.1 order), each issuer being the previous one or `anchor`. */
export async function pathRevocation(
  path: readonly CertInfo[],
  anchor: CertInfo,
  crls: readonly ParsedCrl[],
  pool: readonly CertInfo[],
  at: Date,
  depth = 0,
  inProgress: Set<string> = new Set(),
  budget: PathBudget = new PathBudget({ maxPathSignatureChecks: 4096, maxPathCandidates: 4096 }),
): Promise<PathStatus[]> {
  const out: PathStatus[] = [];
  for (let i = 0; i < path.length; i++) {
    const cert = path[i]!;
    const issuer = i === 0 ? anchor : path[i - 1]!;
    const status = await checkRevocation({
      cert,
      issuer,
      crls,
      pool,
      at,
      budget,
      validateCrlSigner: async (signer) => {
        const k = latin1(signer.der);
        if (inProgress.has(k)) return true; // its own check is under way further up
        if (depth >= 4) return false;
        const chain = (await buildChain(signer, pool, [anchor], at, { budget })).chain ?? (await nameChain(signer, pool, anchor));
        if (!chain) return false;
        inProgress.add(k);
        try {
          const signerPath = chain.slice(0, -1).reverse();
          const r = await pathRevocation(signerPath, anchor, crls, pool, at, depth + 1, inProgress, budget);
          return r.every((s) => s.status.status === 'good');
        } finally {
          inProgress.delete(k);
        }
      },
    });
    out.push({ index: i, status });
  }
  return out;
}

/**
 * A chain from `cert` to `anchor` (leaf first, anchor last) by RFC 5280 §7.1 name matching and key identifiers,
 * self-issued certificates included, each link's signature verified; undefined when there is none within 10.
 */
async function nameChain(cert: CertInfo, pool: readonly CertInfo[], anchor: CertInfo): Promise<CertInfo[] | undefined> {
  const out = [cert];
  const linked = async (child: CertInfo, parent: CertInfo): Promise<boolean> => {
    if (!namesMatch(child.issuer, parent.subject) || (child.aki && parent.ski && !equal(child.aki, parent.ski))) return false;
    const alg = readAlgorithm(child.signatureAlgorithm, readTlv(child.signatureAlgorithm, 0), 'certificate signatureAlgorithm');
    return (await verifySignature(alg, undefined, parent, child.tbs, child.signature)).ok;
  };
  for (let c = cert; out.length <= 10; ) {
    if (await linked(c, anchor)) return [...out, anchor];
    let next: CertInfo | undefined;
    for (const x of pool) {
      if (x === c || equal(x.der, c.der) || out.includes(x)) continue;
      if (await linked(c, x)) {
        next = x;
        break;
      }
    }
    if (!next) return undefined;
    out.push((c = next));
  }
  return undefined;
}

/** A PKITS test's path statuses, with the message's CRLs and certificates. */
export async function pkitsRevocation(test: string): Promise<PathStatus[]> {
  const sd = pkitsSignedData(test);
  const anchor = pkitsAnchor();
  const crls = sd.crls.map((d) => parseCrl(d));
  return pathRevocation(pkitsPath(test), anchor, crls, [...sd.certificates, anchor], PKITS_AT);
}
