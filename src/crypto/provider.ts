/**
 * The WebCrypto provider. By default smime-core uses `globalThis.crypto` (browsers, Node ≥ 20, Deno, Bun).
 * Callers can replace it once with {@link setCrypto}, or per call with `options.crypto`.
 * On Node, `smime-core/node` offers a provider built on @peculiar/webcrypto (`nodeCrypto()`).
 */

let current: Crypto | undefined;

/** Sets the default WebCrypto implementation used when a call passes no `crypto` option. */
export function setCrypto(crypto: Crypto | undefined): void {
  if (crypto !== undefined && (typeof crypto !== 'object' || typeof crypto.subtle !== 'object')) {
    throw new TypeError('setCrypto: expected a WebCrypto Crypto object with a subtle property');
  }
  current = crypto;
}

/** The Crypto to use: the argument, else the one set with setCrypto, else globalThis.crypto. */
export function getCrypto(override?: Crypto): Crypto {
  const c = override ?? current ?? (globalThis as { crypto?: Crypto }).crypto;
  if (!c || !c.subtle) throw new TypeError('no WebCrypto implementation: pass options.crypto or call setCrypto()');
  return c;
}

export function randomBytes(n: number, crypto?: Crypto): Uint8Array {
  const c = getCrypto(crypto);
  const out = new Uint8Array(n);
  for (let o = 0; o < n; o += 65536) c.getRandomValues(out.subarray(o, Math.min(n, o + 65536)));
  return out;
}
