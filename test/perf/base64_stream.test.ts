/** The incremental base64 writer and in-place decoding that the bulk encrypt/decrypt path uses. */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, test } from 'vitest';
import { MIMEInvalid } from '../../src/errors.js';
import {
  Base64LineWriter,
  base64LinesLength,
  decodeBase64,
  decodeBase64Into,
  maxDecodedLength,
  setBase64Codec,
} from '../../src/lib/base64.js';

function ref(data: Uint8Array, n = 76): string {
  const s = Buffer.from(data).toString('base64');
  let out = '';
  for (let i = 0; i < s.length; i += n) out += s.slice(i, i + n) + '\r\n';
  return out;
}
const str = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
}

/** Writes `data` through a Base64LineWriter in pieces cut at `cuts`, after `lead` bytes of other output. */
function writeInPieces(data: Uint8Array, cuts: number[], lineLength = 76, lead = 0): Uint8Array {
  const out = new Uint8Array(lead + base64LinesLength(data.length, lineLength) + 8).fill(0xee);
  const w = new Base64LineWriter(out, lead, lineLength);
  let at = 0;
  for (const c of [...cuts, data.length]) {
    w.write(data.subarray(at, c));
    at = c;
  }
  const end = w.end();
  expect(end).toBe(lead + base64LinesLength(data.length, lineLength));
  expect([...out.subarray(end)].every((b) => b === 0xee)).toBe(true); // nothing written past the end
  return out.subarray(lead, end);
}

afterEach(() => setBase64Codec(undefined));

describe('Base64LineWriter', () => {
  test('any split of the input gives the same lines as Buffer', () => {
    const rand = rng(7);
    for (let k = 0; k < 400; k++) {
      const n = k < 20 ? k : Math.floor(rand() * 5000);
      const data = new Uint8Array(randomBytes(n));
      const cuts: number[] = [];
      for (let c = 0; c < n; c += Math.floor(rand() * (rand() < 0.3 ? 4 : 300))) cuts.push(c);
      const lead = Math.floor(rand() * 5); // odd output offsets too
      expect(str(writeInPieces(data, cuts, 76, lead))).toBe(ref(data));
    }
  });

  test('pieces at 1 MiB chunk boundaries (not multiples of 3), other line lengths', () => {
    const data = new Uint8Array(randomBytes((3 << 20) + 5));
    expect(str(writeInPieces(data, [1 << 20, 2 << 20, 3 << 20]))).toBe(ref(data));
    const small = new Uint8Array(randomBytes(1000));
    for (const n of [4, 64, 996]) expect(str(writeInPieces(small, [1, 2, 500], n))).toBe(ref(small, n));
  });

  test('hands runs of whole lines to a plugged codec, and only those', () => {
    const runs: number[] = [];
    setBase64Codec({
      encode(parts, lineLength, out, offset) {
        expect(parts.length).toBe(1);
        expect(parts[0]!.length % ((lineLength / 4) * 3)).toBe(0);
        runs.push(parts[0]!.length);
        const s = ref(parts[0]!, lineLength);
        out.set(bytes(s), offset);
        return true;
      },
    });
    const data = new Uint8Array(randomBytes(10000));
    expect(str(writeInPieces(data, [100, 5000]))).toBe(ref(data));
    expect(runs.length).toBeGreaterThan(0);
    setBase64Codec({ encode: () => false }); // a codec that declines: the built-in writes everything
    expect(str(writeInPieces(data, [57, 114]))).toBe(ref(data));
  });

  test('rejects bad line lengths and offsets', () => {
    expect(() => new Base64LineWriter(new Uint8Array(10), 0, 75)).toThrow(RangeError);
    expect(() => new Base64LineWriter(new Uint8Array(10), 11)).toThrow(RangeError);
  });
});

describe('decodeBase64Into', () => {
  test('decodes in place (the output never overtakes the input) for any line layout', () => {
    const rand = rng(3);
    for (let k = 0; k < 300; k++) {
      const n = Math.floor(rand() * 3000);
      const data = new Uint8Array(randomBytes(n));
      const line = [4, 8, 64, 76, 996][k % 5]!;
      let text = ref(data, line);
      if (k % 3 === 1) text = text.replace(/\r\n/g, '\n');
      if (k % 7 === 2) text = ' \t' + text.replace(/(.{5})/g, '$1 ');
      const buf = bytes('xyz' + text);
      const end = decodeBase64Into(buf, 3, buf.length, buf, k % 4);
      expect(Buffer.from(buf.subarray(k % 4, end)).equals(Buffer.from(data))).toBe(true);
    }
  });

  test('same results and errors as decodeBase64', () => {
    for (const bad of ['QUJD$', 'QUI', 'Q===', 'QUI=QUJD', 'QU=I']) {
      const b = bytes(bad);
      let e1: unknown;
      let e2: unknown;
      try {
        decodeBase64(b);
      } catch (e) {
        e1 = e;
      }
      try {
        decodeBase64Into(b, 0, b.length, b, 0);
      } catch (e) {
        e2 = e;
      }
      expect(e1).toBeInstanceOf(MIMEInvalid);
      expect((e2 as Error).message).toBe((e1 as Error).message);
    }
    const big = new Uint8Array(randomBytes(100000));
    const enc = bytes(ref(big));
    const out = new Uint8Array(maxDecodedLength(enc.length));
    expect(Buffer.from(out.subarray(0, decodeBase64Into(enc, 0, enc.length, out, 0))).equals(Buffer.from(big))).toBe(true);
  });

  test('refuses an output that is too small or overlaps input not yet read', () => {
    const enc = bytes(ref(new Uint8Array(randomBytes(300))));
    expect(() => decodeBase64Into(enc, 0, enc.length, new Uint8Array(10), 0)).toThrow(RangeError);
    expect(() => decodeBase64Into(enc, 0, 100, enc, 10)).toThrow(RangeError);
    expect(() => decodeBase64Into(enc, 0, 100, enc.subarray(50), 0)).toThrow(RangeError);
  });
});
