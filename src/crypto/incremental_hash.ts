/**
 * Incremental digests (issue 16: signStream and verifyStream hash content as it passes; WebCrypto's `digest` is
 * one-shot). The platform's `incrementalHash` accelerator when it has one (Node: `createHash`), else @noble/hashes,
 * which has every hash of the registry (crypto/algorithms.ts), so browsers stream too. Same bytes either way.
 */
import { UnsupportedAlgorithm } from '../errors.js';
import { DIGESTS, type HashName } from './algorithms.js';
import { accelerators, getCrypto, type HashStream } from './provider.js';

export type { HashStream } from './provider.js';

/**
 * Starts an incremental digest of `name` for the provider `crypto` (its accelerator, or @noble/hashes).
 * `UnsupportedAlgorithm` for a name outside the registry.
 */
export function startHash(name: HashName, crypto?: Crypto): HashStream {
  const row = DIGESTS[name];
  if (!row) throw new UnsupportedAlgorithm(`digest ${String(name)}`);
  const fast = accelerators(getCrypto(crypto)).incrementalHash?.start(name);
  if (fast) return fast;
  const h = row.noble.create();
  return {
    update: (d) => void h.update(d),
    digest: () => h.digest(),
  };
}
