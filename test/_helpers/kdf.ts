/**
 * Reference pieces for the PKCS#12 KDF tests: the RFC 7292 Appendix B.2 KDF written independently with node:crypto
 * (BigInt arithmetic for the I_j update), and the BMPString password encoding the KDF takes.
 */
import { createHash } from 'node:crypto';

/** RFC 7292 Appendix B.2, written independently with node:crypto, as the reference for the KDF. */
export function referenceKdf(hash: string, u: number, v: number, pw: Uint8Array, salt: Uint8Array, id: number, iter: number, n: number): Uint8Array {
  const D = Buffer.alloc(v, id);
  const rep = (x: Uint8Array) => (x.length === 0 ? Buffer.alloc(0) : Buffer.from(Array.from({ length: v * Math.ceil(x.length / v) }, (_, i) => x[i % x.length]!)));
  let I = Buffer.concat([rep(salt), rep(pw)]);
  const out: Buffer[] = [];
  for (let got = 0; got < n; got += u) {
    let A = createHash(hash).update(Buffer.concat([D, I])).digest();
    for (let r = 1; r < iter; r++) A = createHash(hash).update(A).digest();
    out.push(A);
    const B = BigInt('0x' + Buffer.from(Array.from({ length: v }, (_, i) => A[i % u]!)).toString('hex'));
    const chunks: Buffer[] = [];
    for (let j = 0; j < I.length; j += v) {
      const Ij = BigInt('0x' + I.subarray(j, j + v).toString('hex'));
      const s = ((Ij + B + 1n) % (1n << BigInt(8 * v))).toString(16).padStart(2 * v, '0');
      chunks.push(Buffer.from(s, 'hex'));
    }
    I = Buffer.concat(chunks);
  }
  return new Uint8Array(Buffer.concat(out).subarray(0, n));
}

/** `s` as a BMPString (UTF-16BE) with its 2-byte terminator, as the PKCS#12 KDF takes a password. */
export const bmp = (s: string): Uint8Array => {
  const b = Buffer.alloc(2 * s.length + 2);
  for (let i = 0; i < s.length; i++) b.writeUInt16BE(s.charCodeAt(i), 2 * i);
  return new Uint8Array(b);
};
