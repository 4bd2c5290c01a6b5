/**
 * Loading an optional peer dependency: pkcs11js for smime-core/pkcs11, ldapts for smime-core/ldap. Each is loaded
 * with a dynamic `import()` of a non-literal specifier, only when first needed, so neither `import 'smime-core'` nor
 * a bundler ever pulls it in; one that is not installed (or does not load, or lacks what the entry needs) is one
 * error: `TokenUnavailable` (`ERR_TOKEN_UNAVAILABLE`, the code smime-core/pkcs11 has always documented for a missing
 * pkcs11js) whose message names the peer and the command that installs it, the loader's own failure on `cause`.
 */
import { TokenUnavailable } from '../errors.js';

/** An optional peer dependency as an entry needs it: what to import, what to take from it, how to install it. */
export interface OptionalPeer<T> {
  /** The package name (the specifier of the `import()`). */
  readonly name: string;
  /** The entry that needs it, for the message (`smime-core/pkcs11`). */
  readonly neededBy: string;
  /** The package as the message names it, when more than its name (`ldapts 8.x`). Default `name`. */
  readonly label?: string;
  /** The command that installs it (`npm install pkcs11js`). */
  readonly install: string;
  /** What the entry uses of the loaded module (its namespace object), or undefined when the module lacks it. */
  readonly pick: (mod: unknown) => T | undefined;
}

/** The error for a peer that cannot be loaded: `<neededBy> needs the optional peer dependency <label>: <install>`. */
export function optionalPeerMissing(peer: Pick<OptionalPeer<unknown>, 'name' | 'neededBy' | 'label' | 'install'>, cause?: unknown): TokenUnavailable {
  return new TokenUnavailable(`${peer.neededBy} needs the optional peer dependency ${peer.label ?? peer.name}: ${peer.install}`, { cause });
}

/** Imports `peer` once and picks what the entry uses; any failure → `optionalPeerMissing`. */
async function importPeer<T>(peer: OptionalPeer<T>): Promise<T> {
  const name = peer.name;
  let picked: T | undefined;
  try {
    picked = peer.pick(await import(name));
  } catch (e) {
    throw optionalPeerMissing(peer, e);
  }
  if (picked === undefined) throw optionalPeerMissing(peer, new Error(`${name} does not export what ${peer.neededBy} uses`));
  return picked;
}

/**
 * A loader of `peer`: the first call imports it, later calls share that import; a failed import is forgotten (the
 * next call tries again, e.g. once the package is installed), and rejects every caller that shared it with the
 * `optionalPeerMissing` error.
 */
export function optionalPeer<T>(peer: OptionalPeer<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= importPeer(peer).catch((e: unknown) => {
      loading = undefined;
      throw e;
    });
    return loading;
  };
}
