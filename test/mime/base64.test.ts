import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, test } from 'vitest';
import { MIMEInvalid } from '../../src/errors.js';
import {
  base64LinesLength,
  decodeBase64,
  encodeBase64Lines,
  encodeBase64LinesInto,
  getBase64Codec,
  setBase64Codec,
} from '../../src/lib/base64.js';

/** Node's reference: base64 in lines of `n` chars, each ended by CRLF. */
function ref(data: Uint8Array, n = 76): string {
  const s = Buffer.from(data).toString('base64');
  let out = '';
  for (let i = 0; i < s.length; i += n) out += s.slice(i, i + n) + '\r\n';
  return out;
}

const str = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

/** Deterministic PRNG so failures reproduce. */
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
}

function randomSplit(data: Uint8Array, rand: () => number): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let i = 0;
  while (i < data.length) {
    const n = Math.floor(rand() * 8) === 0 ? 0 : Math.floor(rand() * 7); // many tiny parts, some empty
    parts.push(data.subarray(i, i + n));
    i += n;
  }
  if (rand() < 0.5) parts.push(new Uint8Array(0));
  return parts;
}

afterEach(() => setBase64Codec(undefined));

describe('encodeBase64Lines', () => {
  test('matches Buffer for random sizes 0..10000 (76-column CRLF lines)', () => {
    const rand = rng(1);
    const sizes = [0, 1, 2, 3, 4, 5, 56, 57, 58, 59, 113, 114, 115, 10000];
    for (let k = 0; k < 300; k++) sizes.push(Math.floor(rand() * 10001));
    for (const n of sizes) {
      const data = new Uint8Array(randomBytes(n));
      const enc = encodeBase64Lines(data);
      expect(str(enc)).toBe(ref(data));
      expect(enc.length).toBe(base64LinesLength(n));
    }
  });

  test('other line lengths', () => {
    const data = new Uint8Array(randomBytes(1000));
    for (const n of [4, 8, 64, 72, 76, 996]) expect(str(encodeBase64Lines(data, n))).toBe(ref(data, n));
    for (const bad of [0, 3, 6, 77, 1000, NaN, -4]) expect(() => encodeBase64Lines(data, bad)).toThrow(RangeError);
  });

  test('across part boundaries (3-byte groups straddling parts, empty parts)', () => {
    const rand = rng(2);
    for (let k = 0; k < 300; k++) {
      const data = new Uint8Array(randomBytes(Math.floor(rand() * 2000)));
      const parts = randomSplit(data, rand);
      expect(str(encodeBase64Lines(parts))).toBe(ref(data));
    }
    // Every split point of a small input, 2 and 3 parts.
    const d = new Uint8Array(randomBytes(61));
    for (let a = 0; a <= d.length; a++) {
      expect(str(encodeBase64Lines([d.subarray(0, a), d.subarray(a)]))).toBe(ref(d));
      for (let b = a; b <= d.length; b += 7) {
        expect(str(encodeBase64Lines([d.subarray(0, a), d.subarray(a, b), d.subarray(b)]))).toBe(ref(d));
      }
    }
  });

  test('writes into a buffer at an offset (odd and even) without touching the rest', () => {
    const data = new Uint8Array(randomBytes(500));
    for (const off of [0, 1, 2, 3, 7]) {
      const out = new Uint8Array(off + base64LinesLength(500) + 3).fill(0xee);
      const end = encodeBase64LinesInto([data], 76, out, off);
      expect(end).toBe(off + base64LinesLength(500));
      expect(str(out.subarray(off, end))).toBe(ref(data));
      expect([...out.subarray(0, off), ...out.subarray(end)].every((b) => b === 0xee)).toBe(true);
    }
    // An output view with an odd byteOffset (no 16-bit stores possible).
    const backing = new Uint8Array(base64LinesLength(500) + 1);
    const view = backing.subarray(1);
    encodeBase64LinesInto([data], 76, view, 0);
    expect(str(view)).toBe(ref(data));
    expect(() => encodeBase64LinesInto([data], 76, new Uint8Array(10), 0)).toThrow(RangeError);
  });

  test('rejects non-bytes', () => {
    expect(() => encodeBase64Lines('abc' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => encodeBase64Lines([new Uint8Array(1), 'x' as unknown as Uint8Array])).toThrow(TypeError);
  });
});

describe('decodeBase64', () => {
  test('round-trips random sizes 0..10000 and matches Buffer', () => {
    const rand = rng(3);
    for (let k = 0; k < 300; k++) {
      const n = k < 10 ? k : Math.floor(rand() * 10001);
      const data = new Uint8Array(randomBytes(n));
      const enc = encodeBase64Lines(data);
      expect(Buffer.from(decodeBase64(enc)).equals(Buffer.from(data))).toBe(true);
      // Unwrapped, LF lines, odd line lengths, spaces and tabs.
      const plain = Buffer.from(data).toString('base64');
      expect(Buffer.from(decodeBase64(bytes(plain))).equals(Buffer.from(data))).toBe(true);
      const lf = plain.replace(/.{64}/g, '$&\n');
      expect(Buffer.from(decodeBase64(bytes(lf))).equals(Buffer.from(data))).toBe(true);
      const odd = plain.replace(/.{37}/g, '$& \t\r\n');
      expect(Buffer.from(decodeBase64(bytes(odd))).equals(Buffer.from(Buffer.from(odd, 'base64')))).toBe(true);
    }
  });

  test('start/end range, whitespace around and inside the padding', () => {
    const enc = bytes('xxQUJDRA==yy');
    expect(str(decodeBase64(enc, 2, 10))).toBe('ABCD');
    expect(str(decodeBase64(bytes('\r\n  QUJDRA=\r\n= \r\n')))).toBe('ABCD');
    expect(str(decodeBase64(bytes('QUI=')))).toBe('AB');
    expect(decodeBase64(bytes('')).length).toBe(0);
    expect(decodeBase64(bytes(' \r\n')).length).toBe(0);
    expect(() => decodeBase64(enc, 5, 2)).toThrow(RangeError);
    expect(() => decodeBase64(enc, 0, 99)).toThrow(RangeError);
  });

  test.each([
    ['QUJD$', 'unexpected byte'],
    ['QUJDRA==\u0000', 'unexpected byte'],
    ['QU\u00e9JD', 'unexpected byte'],
    ['QUJD-_==', 'unexpected byte'], // base64url is not MIME base64
    ['QUJDR', 'truncated'],
    ['QUJ', 'truncated'],
    ['QQ', 'truncated'],
    ['Q', 'truncated'],
    ['QQ=', 'incomplete padding'],
    ['Q===', 'misplaced padding'],
    ['=QUJ', 'misplaced padding'],
    ['QQ==QQ==', 'data after padding'],
    ['QUI=QUJD', 'data after padding'],
    ['QQ=A', 'incomplete padding'],
    ['QUJDRA==$', 'unexpected byte'],
  ])('garbage or truncated %j → MIMEInvalid', (input, what) => {
    let err: unknown;
    try {
      decodeBase64(bytes(input));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MIMEInvalid);
    expect((err as MIMEInvalid).code).toBe('ERR_MIME_INVALID');
    expect((err as Error).message).toMatch(/^invalid base64/);
    expect((err as Error).message).toContain(what);
  });

  test('random truncations of valid base64 either decode to a prefix or throw MIMEInvalid', () => {
    const data = new Uint8Array(randomBytes(300));
    const enc = encodeBase64Lines(data);
    for (let cut = 0; cut < enc.length; cut++) {
      try {
        const d = decodeBase64(enc.subarray(0, cut));
        expect(Buffer.from(d).equals(Buffer.from(data.subarray(0, d.length)))).toBe(true);
      } catch (e) {
        expect((e as MIMEInvalid).code).toBe('ERR_MIME_INVALID');
      }
    }
  });
});

describe('setBase64Codec', () => {
  test('a plugged codec is used, may decline, and can be removed', () => {
    let encCalls = 0;
    let decCalls = 0;
    setBase64Codec({
      encode(parts, lineLength, out, offset) {
        encCalls++;
        if (parts.length !== 1) return false; // decline: the built-in handles several parts
        const s = Buffer.from(parts[0]!).toString('base64');
        const ob = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
        let o = offset;
        for (let i = 0; i < s.length; i += lineLength) {
          o += ob.write(s.slice(i, i + lineLength), o, 'latin1');
          ob[o++] = 13;
          ob[o++] = 10;
        }
        return true;
      },
      decode(input) {
        decCalls++;
        const s = Buffer.from(input).toString('latin1');
        if (!/^[A-Za-z0-9+/=\r\n \t]*$/.test(s) || s.replace(/[\r\n \t]/g, '').length % 4 !== 0) return undefined;
        return new Uint8Array(Buffer.from(s, 'base64'));
      },
    });
    expect(getBase64Codec()).toBeDefined();
    const data = new Uint8Array(randomBytes(1000));
    expect(str(encodeBase64Lines(data))).toBe(ref(data));
    // Several parts: declined as a whole, then asked again for the second part's run of whole lines.
    expect(str(encodeBase64Lines([data.subarray(0, 1), data.subarray(1)]))).toBe(ref(data));
    expect(encCalls).toBe(3);
    expect(Buffer.from(decodeBase64(encodeBase64Lines(data))).equals(Buffer.from(data))).toBe(true);
    expect(() => decodeBase64(bytes('QUJD$'))).toThrow(MIMEInvalid); // declined → built-in throws
    expect(decCalls).toBe(2);
    expect(encCalls).toBe(4);

    setBase64Codec(undefined);
    expect(getBase64Codec()).toBeUndefined();
    encodeBase64Lines(data);
    decodeBase64(bytes('QUJD'));
    expect(encCalls).toBe(4);
    expect(decCalls).toBe(2);
  });

  test('rejects a non-object codec', () => {
    expect(() => setBase64Codec(42 as never)).toThrow(TypeError);
    expect(() => setBase64Codec({ encode: 1 } as never)).toThrow(TypeError);
  });
});

describe('speed (sanity, not a benchmark)', () => {
  test('4 MiB encodes and decodes well under a second', () => {
    const data = new Uint8Array(randomBytes(4 << 20));
    const t0 = performance.now();
    const enc = encodeBase64Lines(data);
    const dec = decodeBase64(enc);
    expect(performance.now() - t0).toBeLessThan(5000); // a hang guard, not a speed target
    expect(Buffer.from(dec).equals(Buffer.from(data))).toBe(true);
  });
});

/** `data` in pieces of 0 to about 4000 bytes (lines straddle them). */
function pieces(data: Uint8Array, rand: () => number): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < data.length; ) {
    const n = Math.floor(rand() ** 2 * 4000);
    parts.push(data.subarray(i, i + n));
    i += n;
  }
  return parts;
}

describe('nodeBase64Codec (the Node entry plugs it in)', () => {
  test('Base64LineWriter and encodeBase64Lines with it give Buffer’s lines, for pieces cut anywhere', async () => {
    const { installNodeAccelerators } = await import('../../src/crypto/node.js');
    setBase64Codec(undefined);
    installNodeAccelerators(); // what the Node entry does: Node's base64 is plugged in
    const nodeBase64Codec = getBase64Codec()!;
    expect(nodeBase64Codec?.encode).toBeTypeOf('function');
    const { Base64LineWriter } = await import('../../src/lib/base64.js');
    let runs = 0;
    setBase64Codec({ encode: (...a) => (nodeBase64Codec.encode!(...a) ? (runs++, true) : false) });
    const rand = rng(7);
    for (let k = 0; k < 60; k++) {
      const n = Math.floor(rand() * 40000);
      const data = new Uint8Array(randomBytes(n));
      expect(str(encodeBase64Lines(data))).toBe(ref(data));
      expect(str(encodeBase64Lines(pieces(data, rand)))).toBe(ref(data));
      // The writer as encryptMessage drives it: pieces of any length into one buffer, a line in progress between them.
      const out = new Uint8Array(base64LinesLength(n) + 5).fill(0xee);
      const w = new Base64LineWriter(out, 3, 76);
      for (const p of pieces(data, rand)) w.write(p);
      expect(w.end()).toBe(3 + base64LinesLength(n));
      expect(str(out.subarray(3, 3 + base64LinesLength(n)))).toBe(ref(data));
      expect([...out.subarray(0, 3), ...out.subarray(3 + base64LinesLength(n))].every((b) => b === 0xee)).toBe(true);
    }
    expect(runs).toBeGreaterThan(100); // whole lines went to the native encoder, also after a piece ended mid-line
    // Declines what is not one run of whole lines.
    const out = new Uint8Array(200);
    expect(nodeBase64Codec.encode!([new Uint8Array(56)], 76, out, 0)).toBe(false);
    expect(nodeBase64Codec.encode!([new Uint8Array(57), new Uint8Array(57)], 76, out, 0)).toBe(false);
    expect(nodeBase64Codec.encode!([new Uint8Array(0)], 76, out, 0)).toBe(false);
  });
});
