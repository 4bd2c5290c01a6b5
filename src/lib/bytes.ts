/** Small byte helpers. Internal: not exported from the package. Everything works on Uint8Array (no Buffer). */

const te = new TextEncoder();
const td = new TextDecoder('utf-8');
const tdLatin1 = new TextDecoder('latin1');

export function utf8(s: string): Uint8Array {
  return te.encode(s);
}

export function fromUtf8(b: Uint8Array): string {
  return td.decode(b);
}

/** Bytes to a string, one char per byte (for header parsing where bytes must survive unchanged). */
export function latin1(b: Uint8Array): string {
  return tdLatin1.decode(b);
}

/** A string whose chars are all < 256 to bytes, one byte per char. */
export function fromLatin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i]!.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(h: string): Uint8Array {
  const clean = h.replace(/[^0-9a-fA-F]/g, '');
  const out = new Uint8Array(clean.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.substr(i * 2, 2), 16);
  return out;
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Constant-time comparison of two equal-length arrays (returns false at once on a length mismatch). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/**
 * An ArrayBuffer holding exactly the bytes of `b` (what WebCrypto wants): `b`'s own buffer when `b` spans
 * all of it, else a copy. Never `b.slice()`: on a Node Buffer (a Uint8Array subclass) `slice` returns a view of the
 * same memory, whose `.buffer` is the whole shared pool.
 */
export function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer) return b.buffer;
  return copyBytes(b).buffer as ArrayBuffer;
}

/** A copy of `b` in a fresh plain Uint8Array of its own (whatever subclass `b` is: see `toArrayBuffer`). */
export function copyBytes(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  out.set(b);
  return out;
}

/**
 * A plain Uint8Array view of a caller's bytes (no copy). A Node `Buffer`, or any other Uint8Array subclass, becomes a
 * plain view of the same memory, so that every `slice` and `subarray` further down behaves as Uint8Array's (a Buffer's
 * `slice` is a view, and code that means to copy before changing a byte would otherwise write into the caller's
 * buffer). Views at any offset of any ArrayBuffer (pooled Buffers, SharedArrayBuffer) are fine: nothing reads
 * `.buffer` without its offset and length.
 */
export function plainView(b: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(b) === Uint8Array.prototype ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Accepts `Uint8Array | ArrayBuffer | string` input (a string is taken as UTF-8 text) and returns a plain Uint8Array
 * (see `plainView`). The caller's bytes are never written: functions that change bytes in place copy first, unless
 * the caller said otherwise (`overwriteInput`).
 */
export function toBytes(input: Uint8Array | ArrayBuffer | string, what = 'input'): Uint8Array {
  if (typeof input === 'string') return utf8(input);
  if (input instanceof Uint8Array) return plainView(input);
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  throw new TypeError(`${what}: expected Uint8Array, ArrayBuffer or string, got ${typeof input}`);
}
