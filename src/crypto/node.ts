/**
 * Node's crypto provider: the one module in src/ (besides the CLI) that may use Node-only APIs.
 * `smime-core/node` exports it: `setCrypto(nodeCrypto())` makes every call use @peculiar/webcrypto, which runs on
 * Node's OpenSSL. It also plugs Node's native base64 into the MIME layer (`useNodeBase64()`).
 */
import { Crypto as PeculiarCrypto } from '@peculiar/webcrypto';

let instance: Crypto | undefined;

/** A WebCrypto `Crypto` backed by Node's OpenSSL (@peculiar/webcrypto), created once. */
export function nodeCrypto(): Crypto {
  instance ??= new PeculiarCrypto() as unknown as Crypto;
  return instance;
}
