/**
 * BigInt arithmetic for RSA (RFC 8017): modular exponentiation with a fixed window (and a plain one for public
 * exponents), modular inverse, bit length, and the byte conversions I2OSP / OS2IP (RFC 8017 §4).
 *
 * BigInt is not constant time: callers that use a secret exponent blind it (crypto/rsa.ts). Everything here is pure
 * and runs in browsers.
 */

/** Bit length of a non-negative bigint (0 for 0). */
export function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/**
 * Width of the window that needs the fewest modular multiplications for an `expBits`-bit exponent: 2^w − 1 to
 * build the table, then w squarings and one multiplication per further window. Depends only on the bit length.
 */
function windowBits(expBits: number): number {
  let best = 1;
  let bestCost = Infinity;
  for (let w = 1; w <= 6; w++) {
    const cost = (1 << w) - 1 + (Math.ceil(expBits / w) - 1) * (w + 1);
    if (cost < bestCost) {
      best = w;
      bestCost = cost;
    }
  }
  return best;
}

/**
 * base^exp mod m with a fixed window: the sequence of squarings and multiplications depends only on the bit length
 * of `exp`, not on its bits. (BigInt itself is not constant time; private operations are blinded as well.)
 * Reduction is BigInt `%`: on V8 a Montgomery or Barrett reduction written with BigInt operations needs three
 * multiplications and measured slower than one multiplication and one `%`, at every modulus size from 256 bits up.
 */
export function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  if (m <= 0n) throw new RangeError('modPow: modulus must be positive');
  if (exp < 0n) throw new RangeError('modPow: negative exponent');
  if (m === 1n) return 0n;
  base %= m;
  if (base < 0n) base += m;
  if (exp === 0n) return 1n;
  const bits = exp.toString(2);
  const w = windowBits(bits.length);
  const s = bits.padStart(Math.ceil(bits.length / w) * w, '0');
  const size = 1 << w;
  const table: bigint[] = new Array<bigint>(size);
  table[0] = 1n;
  table[1] = base;
  for (let i = 2; i < size; i++) table[i] = (table[i - 1]! * base) % m;
  let r = table[parseInt(s.slice(0, w), 2)]!;
  for (let i = w; i < s.length; i += w) {
    for (let k = 0; k < w; k++) r = (r * r) % m;
    r = (r * table[parseInt(s.slice(i, i + w), 2)]!) % m;
  }
  return r;
}

/**
 * base^exp mod m for a PUBLIC exponent (e, never d): plain left-to-right square-and-multiply, whose sequence of
 * operations follows the exponent's bits; for e = 65537 that is 17 multiplications instead of 27 with a window.
 * Longer exponents, and bases outside [0, m), go to {@link modPow}. Requires m > 1.
 */
export function modPowPublic(base: bigint, exp: bigint, m: bigint): bigint {
  if (exp <= 0n || exp >= 1n << 64n || base < 0n || base >= m) return modPow(base, exp, m);
  const bits = exp.toString(2);
  let r = base;
  for (let i = 1; i < bits.length; i++) {
    r = (r * r) % m;
    if (bits.charCodeAt(i) === 49) r = (r * base) % m;
  }
  return r;
}

/** a^−1 mod m (extended Euclid). Throws RangeError when gcd(a, m) ≠ 1. */
export function modInverse(a: bigint, m: bigint): bigint {
  if (m <= 0n) throw new RangeError('modInverse: modulus must be positive');
  a %= m;
  if (a < 0n) a += m;
  let r0 = m;
  let r1 = a;
  let t0 = 0n;
  let t1 = 1n;
  while (r1 !== 0n) {
    const q = r0 / r1;
    const r2 = r0 - q * r1;
    r0 = r1;
    r1 = r2;
    const t2 = t0 - q * t1;
    t0 = t1;
    t1 = t2;
  }
  if (r0 !== 1n) throw new RangeError('modInverse: not invertible');
  return t0 < 0n ? t0 + m : t0;
}

// ---------------------------------------------------------------------------------------------------------------// Byte conversions (RFC 8017 §4)

/** Integer-to-Octet-String: `x` as exactly `len` big-endian bytes. RangeError when it does not fit. */
export function i2osp(x: bigint, len: number): Uint8Array {
  if (x < 0n) throw new RangeError('i2osp: negative integer');
  const hex = x === 0n ? '' : x.toString(16);
  if (hex.length > len * 2) throw new RangeError('i2osp: integer too large');
  const h = hex.padStart(len * 2, '0');
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = parseInt(h.substring(i * 2, i * 2 + 2), 16);
  return out;
}

/** Octet-String-to-Integer: big-endian bytes to a non-negative bigint (0 for no bytes). */
export function os2ip(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  let h = '';
  for (let i = 0; i < b.length; i++) h += (b[i]! < 16 ? '0' : '') + b[i]!.toString(16);
  return BigInt('0x' + h);
}
