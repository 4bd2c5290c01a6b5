/**
 * The incremental pieces of encryptStream: base64 lines (src/lib/base64_stream.ts) and canonical line ends
 * (src/mime/canonical_stream.ts), each fed random splits, must give what the whole-buffer functions give.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Base64LineStream } from '../../src/lib/base64_stream.js';
import { encodeBase64Lines } from '../../src/lib/base64.js';
import { CanonicalLineEnds } from '../../src/mime/canonical_stream.js';
import { canonicalExtra, writeCanonical } from '../../src/mime/canonical.js';

/** `bytes` cut at the (sorted, deduplicated) offsets, grouped into writes of up to 3 parts. */
function pieces(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  return out;
}

describe('Base64LineStream', () => {
  it('gives encodeBase64Lines of the whole, whatever the split', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.integer({ min: 0, max: 2000 }), { maxLength: 20 }), fc.integer({ min: 1, max: 3 }), (data, cuts, group) => {
        const s = new Base64LineStream();
        const ps = pieces(data, cuts);
        const out: Uint8Array[] = [];
        for (let i = 0; i < ps.length; i += group) {
          const o = s.write(ps.slice(i, i + group));
          // Whole lines only: 78 bytes each.
          expect(o.length % 78).toBe(0);
          out.push(o);
        }
        out.push(s.end());
        expect(Buffer.concat(out).toString('latin1')).toBe(Buffer.from(encodeBase64Lines(data)).toString('latin1'));
      }),
      { numRuns: 500 },
    );
  });
});

describe('CanonicalLineEnds', () => {
  it('gives writeCanonical of the whole, whatever the split (CR LF split across pieces too)', () => {
    const byte = fc.constantFrom(13, 10, 65, 13, 10);
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 300 }), fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 30 }), (arr, cuts) => {
        const data = Uint8Array.from(arr);
        const want = new Uint8Array(data.length + canonicalExtra(data));
        writeCanonical(data, want, 0);
        const c = new CanonicalLineEnds();
        const out: Uint8Array[] = [];
        for (const p of pieces(data, cuts)) out.push(...c.write(p));
        out.push(...c.end());
        expect(Buffer.concat(out).toString('latin1')).toBe(Buffer.from(want).toString('latin1'));
      }),
      { numRuns: 1000 },
    );
  });

  it('a canonical piece comes back as a view of itself', () => {
    const p = new TextEncoder().encode('a\r\nb\r\n');
    const [v] = new CanonicalLineEnds().write(p);
    expect(v!.buffer).toBe(p.buffer);
  });
});
