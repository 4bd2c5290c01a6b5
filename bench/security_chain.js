// Path building under attack (issue 10, finding 2): one verifyMessage of a signed message carrying 1000
// certificates that cross-sign each other (500 named X issued by Y, 500 named Y issued by X, one ECDSA P-256 key),
// with no path to the trust anchor. Before the path budget this took tens of seconds to hours; now the signer is
// `untrusted` ('path-building-limit') after at most maxPathSignatureChecks certificate checks.
//
// Rows: the first verification (certificate signatures not yet cached) and a second one of the same message (every
// signature check a cache hit, so the candidate budget is what bounds it). Each round makes a fresh certificate set.
// The certificates are made with smime-core's own DER writer (bench/_certs.js), not openssl, so a round takes a
// second, not minutes.
import { CertificateStore, verifyMessage } from '../dist/index.node.js';
import { buildSignedData } from '../dist/cms/signed.js';
import { certInfo } from '../dist/certs/cert_info.js';
import { CA_EXTS, EE_EXTS, cert, newKey, spkiOf, utf8 } from './_certs.js';
import { check } from './_utils.js';

const subtle = globalThis.crypto.subtle;
const N = 1000;

/**
 * A store trusting an unrelated root, and the hostile message (bare CMS SignedData); with `count` = 0 the same
 * message without the cross-signed certificates (the normal operation it is compared with).
 */
async function hostile(count = N) {
  const [k, root] = await Promise.all([newKey(), newKey()]);
  const [spki, rootSpki] = await Promise.all([spkiOf(k), spkiOf(root)]);
  const anchor = await cert('Bench Root', 'Bench Root', rootSpki, root.privateKey, CA_EXTS);
  const crossed = await Promise.all(
    Array.from({ length: count }, (_, i) => (i % 2 ? cert('X', 'Y', spki, k.privateKey, CA_EXTS) : cert('Y', 'X', spki, k.privateKey, CA_EXTS))),
  );
  const leaf = certInfo(await cert('Mallory', 'X', spki, k.privateKey, EE_EXTS));
  const pkcs8 = new Uint8Array(await subtle.exportKey('pkcs8', k.privateKey));
  const built = await buildSignedData(utf8('Content-Type: text/plain\r\n\r\nhello\r\n'), {
    signer: leaf,
    key: { pkcs8 },
    hash: 'SHA-256',
    encapsulate: true,
    certificates: [leaf, ...crossed.map((d) => certInfo(d))],
    signingTime: new Date(),
  });
  const message = new Uint8Array(built.length);
  let o = 0;
  for (const p of built.pieces) {
    message.set(p, o);
    o += p.length;
  }
  const store = new CertificateStore({ limits: { maxCertificates: 2 * N } });
  store.addTrustAnchor(anchor);
  return { store, message };
}

async function timed(store, message) {
  const t0 = performance.now();
  const r = await verifyMessage(message, { store, harvest: false });
  const ms = performance.now() - t0;
  const s = r.signers[0];
  check(s?.status === 'untrusted' && s.reasons.includes('path-building-limit'), `hostile chain is refused by the budget (${JSON.stringify(s)})`);
  return ms;
}

/**
 * The case for bench/security.js: each call verifies a fresh certificate set (first verification, nothing cached),
 * against the same message without the cross-signed certificates.
 */
export async function chainCases({ quick = false } = {}) {
  const sets = await Promise.all(Array.from({ length: quick ? 4 : 5 }, () => hostile()));
  const normal = await hostile(0);
  let next = 0;
  return [
    {
      name: `verifyMessage, ${N} cross-signed certificates`,
      hostile: () => {
        const { store, message } = sets[Math.min(next++, sets.length - 1)];
        return verifyMessage(message, { store, harvest: false });
      },
      normal: () => verifyMessage(normal.message, { store: normal.store, harvest: false }),
      normalName: 'verifyMessage, no certificates to chain',
    },
  ];
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The rows: `{ name, ms }`, the median of the rounds (1 with `quick`, else 5). */
export async function chainRows({ quick = false } = {}) {
  const cold = [];
  const warm = [];
  for (let i = 0; i < (quick ? 1 : 5); i++) {
    const { store, message } = await hostile();
    cold.push(await timed(store, message));
    warm.push(await timed(store, message));
  }
  return [
    { name: `verifyMessage, ${N} cross-signed certificates (first)`, ms: median(cold) },
    { name: `verifyMessage, ${N} cross-signed certificates (signatures cached)`, ms: median(warm) },
  ];
}
