/**
 * smime-core on Node: everything of `smime-core`, with Node's accelerators registered for Node's own
 * `globalThis.crypto` (incremental AES and the raw RSA private-key operation on node:crypto; see
 * src/crypto/node.ts). The package's `node` export condition points here, so `import 'smime-core'` on Node gets
 * them; browsers and other runtimes get src/index.ts. A `Crypto` injected with `setCrypto` or `options.crypto`
 * is used as it is.
 *
 * @module smime-core
 */
import { installNodeAccelerators } from './crypto/node.js';

installNodeAccelerators();

export * from './index.js';
export { nodeCrypto } from './crypto/node.js';
