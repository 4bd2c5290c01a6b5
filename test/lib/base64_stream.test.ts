/**
 * The incremental pieces of encryptStream: base64 lines (src/lib/base64_stream.ts) and canonical line ends
 * (src/mime/canonical_stream.ts), each fed random splits, must give what the whole-buffer functions give.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Base64Decoder, Base64LineStream } from '../../src/lib/base64_stream.js';
import { decodeBase64, encodeBase64Lines } from '../../src/lib/base64.js';
import { CanonicalLineEnds } from '../../src/mime/canonical_stream.js';
import { canonicalExtra, writeCanonical } from '../../src/mime/canonical.js';
import { pieces } from '../_helpers/pieces.js';


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

describe('Base64Decoder', () => {
  /** The whole-buffer result: the bytes, or the error class name. */
  function whole(text: Uint8Array): string {
    try {
      return Buffer.from(decodeBase64(text)).toString('hex');
    } catch (e) {
      return (e as Error).constructor.name;
    }
  }
  /** The stream result for `text` cut into `ps`. */
  function streamed(ps: Uint8Array[]): string {
    const d = new Base64Decoder();
    const out: Uint8Array[] = [];
    try {
      for (const p of ps) out.push(d.write(p));
      out.push(d.end());
      return Buffer.concat(out).toString('hex');
    } catch (e) {
      return (e as Error).constructor.name;
    }
  }
  const enc = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

  const cases = [
    '',
    'QQ==',
    'QUI=',
    'QUJD',
    'QUJDRA==\r\n',
    Buffer.from(encodeBase64Lines(new Uint8Array(200).map((_, i) => i * 7))).toString('latin1'),
    'QU JD\r\nRE VG\n\n',
    'QQ=\r\n=',
    'QQ = =  \r\n',
    // refused, each for its own reason
    'QUJ',
    'Q',
    'QQ=',
    'Q===',
    'QQ=A',
    'QQ==QQ==',
    'QUI=\r\nA',
    'QU*D',
    'QUJD\u0000',
    'QUJD=',
    '====',
  ];
  it('gives decodeBase64 of the whole (or the same refusal) at every split point, and at every pair of split points', () => {
    for (const c of cases) {
      const t = enc(c);
      const expected = whole(t);
      expect(streamed([t]), c).toBe(expected);
      for (let a = 0; a <= t.length; a++) {
        expect(streamed([t.subarray(0, a), t.subarray(a)]), `${JSON.stringify(c)} at ${a}`).toBe(expected);
        if (t.length > 40) continue;
        for (let b = a; b <= t.length; b++) {
          expect(streamed([t.subarray(0, a), t.subarray(a, b), t.subarray(b)]), `${JSON.stringify(c)} at ${a},${b}`).toBe(expected);
        }
      }
      // one byte at a time
      expect(streamed([...t].map((x) => new Uint8Array([x]))), c).toBe(expected);
    }
  });

  it('gives decodeBase64 of the whole for random data, line lengths and splits', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.constantFrom(4, 64, 76, 996),
        fc.boolean(),
        fc.array(fc.integer({ min: 0, max: 4200 }), { maxLength: 30 }),
        (data, line, lf, cuts) => {
          let text = Buffer.from(encodeBase64Lines(data, line)).toString('latin1');
          if (lf) text = text.replace(/\r\n/g, '\n');
          const t = enc(text);
          expect(streamed(pieces(t, cuts))).toBe(Buffer.from(data).toString('hex'));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('holds at most 3 chars between pieces: each write returns every whole group', () => {
    const t = enc(Buffer.from(new Uint8Array(3000).fill(0xab)).toString('base64'));
    const d = new Base64Decoder();
    let total = 0;
    let chars = 0;
    for (let i = 0; i < t.length; i += 13) {
      total += d.write(t.subarray(i, i + 13)).length;
      chars = Math.min(i + 13, t.length);
      expect(total).toBe(Math.floor(chars / 4) * 3);
    }
    total += d.end().length;
    expect(total).toBe(3000);
  });

  it('reports MIMEInvalid (the refusals of decodeBase64) with the offset in the whole input', () => {
    const d = new Base64Decoder();
    d.write(enc('QUJD\r\n'));
    expect(() => d.write(enc('QU*D'))).toThrow(/unexpected byte 0x2a at offset 8/);
  });
});
