/**
 * A `Crypto` whose "random" bytes are one fixed byte, for tests whose outcome would otherwise depend on a random
 * draw. The case: an RSA PKCS#1 v1.5 key transport that fails (a bad padding, a CEK of the wrong length) yields a
 * random CEK and the content is decrypted with it anyway (RFC 3218 §2.3, src/cms/ktri.ts); for a RecipientInfo that
 * names the key, a padded cipher (AES-CBC, 3DES) then gets a valid padding about once in 256 runs and the garbage
 * comes back as the content. With a fixed fill AND a fixed ciphertext (a vector file, never a message encrypted in
 * the test) the run is the same every time.
 *
 * The fill is no guarantee by itself: each test's vector must fail under it, once checked. FIXED_FILL fails for
 * vectors/openssl/enc-rsa15-aes256cbc.eml (0x9f would give 223 bytes of garbage) and for bc-java-mail's test128 and
 * test256 (0x00 would open test128); every fill was tried on each through decryptMessage.
 */

import { countingCrypto } from './counting_crypto.js';

/** The byte every "random" value is filled with. */
export const FIXED_FILL = 0x5a;

/**
 * The platform's WebCrypto with getRandomValues filling with `fill` (no accelerators: the plain WebCrypto paths):
 * counting_crypto.ts's `fill` option, its counts unused.
 */
export function fixedRandomCrypto(fill = FIXED_FILL): Crypto {
  return countingCrypto({ fill }).crypto;
}
