/**
 * One-shot AES-CBC decryption through WebCrypto (with its PKCS#7 padding check), for small payloads such as the
 * encrypted bags of a PKCS#12 file. Large CMS content is decrypted in chunks by cms/content_cipher.ts.
 */
import { UnsupportedAlgorithm } from '../errors.js';
import { getCrypto } from './provider.js';

/**
 * AES-CBC decryption of `data` with `key` (16, 24 or 32 bytes) and the 16-byte `iv`, padding removed; null when the
 * decryption fails (a bad padding: a wrong key, in practice). UnsupportedAlgorithm when the provider refuses the key
 * (Chromium has no 192-bit AES).
 */
export async function aesCbcDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array, crypto?: Crypto): Promise<Uint8Array | null> {
  const c = getCrypto(crypto);
  let ck: CryptoKey;
  try {
    ck = await c.subtle.importKey('raw', key as Uint8Array<ArrayBuffer>, 'AES-CBC', false, ['decrypt']);
  } catch {
    // Chromium refuses 192-bit AES keys.
    throw new UnsupportedAlgorithm(`AES-${key.length * 8}-CBC in this WebCrypto implementation`);
  }
  try {
    const iv2 = iv.slice();
    return new Uint8Array(await c.subtle.decrypt({ name: 'AES-CBC', iv: iv2 }, ck, data as Uint8Array<ArrayBuffer>));
  } catch {
    return null;
  }
}
