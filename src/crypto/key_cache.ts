/**
 * Imported WebCrypto keys, kept so that the same key is not imported again for every message: an import is a call
 * into the provider (on Node a trip to the thread pool, 0.2–0.7 ms for RSA), as much as the signature it serves.
 *
 * - Public keys are cached by the bytes of the SubjectPublicKeyInfo (a certificate that comes inside each signed
 *   message is a new array every time), in a bounded map: nothing secret is in a key of that map.
 * - Private keys are cached by the identity of the store's PKCS#8 array (never by its bytes: no secret becomes a
 *   string), in a WeakMap that lets them go with the identity.
 *
 * Keys are made non-extractable, and per WebCrypto implementation: a CryptoKey of one implementation is useless to
 * another. A failed import is not cached.
 */
import { latin1, toArrayBuffer } from '../lib/bytes.js';
import { LruMap } from '../lib/lru.js';

/** Public keys kept per WebCrypto implementation (the least recently used go first). */
const MAX_PUBLIC = 256;
/** Imports of one private key kept (one per algorithm and usages: a handful at most). */
const MAX_PER_PRIVATE = 8;

type KeyCache = LruMap<string, Promise<CryptoKey>>;

interface Caches {
  pub: KeyCache;
  priv: WeakMap<Uint8Array, KeyCache>;
}

const bySubtle = new WeakMap<SubtleCrypto, Caches>();

function caches(subtle: SubtleCrypto): Caches {
  let c = bySubtle.get(subtle);
  if (!c) bySubtle.set(subtle, (c = { pub: new LruMap(MAX_PUBLIC), priv: new WeakMap() }));
  return c;
}

/** What makes two imports of the same bytes differ: the algorithm parameters and the usages. */
function paramsKey(alg: AlgorithmIdentifier | RsaHashedImportParams | EcKeyImportParams, usages: readonly KeyUsage[]): string {
  const a = typeof alg === 'string' ? { name: alg } : alg;
  const hash = (a as { hash?: AlgorithmIdentifier }).hash;
  const hashName = typeof hash === 'string' ? hash : (hash as { name?: string } | undefined)?.name;
  return `${a.name}|${hashName ?? ''}|${(a as { namedCurve?: string }).namedCurve ?? ''}|${[...usages].sort().join(',')}`;
}

function remember(cache: KeyCache, key: string, make: () => Promise<CryptoKey>): Promise<CryptoKey> {
  const hit = cache.get(key);
  if (hit) return hit;
  const p = make();
  cache.set(key, p);
  p.catch(() => {
    if (cache.peek(key) === p) cache.delete(key);
  });
  return p;
}

/** `subtle.importKey('spki', spki, alg, false, usages)`, cached by the SPKI's bytes. */
export function importPublicKey(
  subtle: SubtleCrypto,
  spki: Uint8Array,
  alg: AlgorithmIdentifier | RsaHashedImportParams | EcKeyImportParams,
  usages: KeyUsage[],
): Promise<CryptoKey> {
  return remember(caches(subtle).pub, `${paramsKey(alg, usages)}|${latin1(spki)}`, () => subtle.importKey('spki', toArrayBuffer(spki), alg, false, usages));
}

/** `subtle.importKey('pkcs8', pkcs8, alg, false, usages)`, cached by the identity of the `pkcs8` array. */
export function importPrivateKey(
  subtle: SubtleCrypto,
  pkcs8: Uint8Array,
  alg: AlgorithmIdentifier | RsaHashedImportParams | EcKeyImportParams,
  usages: KeyUsage[],
): Promise<CryptoKey> {
  const { priv } = caches(subtle);
  let m = priv.get(pkcs8);
  if (!m) priv.set(pkcs8, (m = new LruMap(MAX_PER_PRIVATE)));
  return remember(m, paramsKey(alg, usages), () => subtle.importKey('pkcs8', toArrayBuffer(pkcs8), alg, false, usages));
}
