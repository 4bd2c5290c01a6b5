/**
 * The stream decoder (`Base64Decoder`) with Node's native decoder plugged in (`decodeLines` of the codec that
 * `installNodeAccelerators` sets, what the package's `node` entry does) against the built-in TypeScript decoder
 * alone: the same bytes, or the same `MIMEInvalid` with the same message, for base64 lines cut anywhere, with
 * whitespace, padding and bytes outside the alphabet (the URL-safe '-' and '_' that Node's decoder would take, NUL,
 * 0xff…) put anywhere.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Base64Decoder } from '../../src/lib/base64_stream.js';
import { encodeBase64Lines, getBase64Codec, setBase64Codec, type Base64Codec } from '../../src/lib/base64.js';
import { installNodeAccelerators } from '../../src/crypto/node.js';
import { pieces } from '../_helpers/pieces.js';

afterEach(() => setBase64Codec(undefined));

/** The Node codec, as the Node entry installs it. */
function nodeCodec(): Base64Codec {
  setBase64Codec(undefined);
  installNodeAccelerators();
  const c = getBase64Codec()!;
  setBase64Codec(undefined);
  expect(c.decodeLines).toBeTypeOf('function');
  return c;
}


/** The decoder's result for the pieces: the bytes as hex, or the error's class and message. */
function streamed(ps: Uint8Array[]): string {
  const d = new Base64Decoder();
  const out: Uint8Array[] = [];
  try {
    for (const p of ps) out.push(d.write(p));
    out.push(d.end());
    return Buffer.concat(out).toString('hex');
  } catch (e) {
    return `${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
}

/** Bytes that are not base64 chars in a line (or are, misplaced): each must be refused or skipped as the built-in decoder does. */
const ODD = [45, 95, 61, 42, 0, 0xff, 0x80, 32, 9, 13, 10, 12, 46, 65];

describe('Base64Decoder with Node’s native decoder', () => {
  it('gives what the TypeScript decoder gives (bytes, or the same error and message), for lines cut anywhere and odd bytes anywhere', () => {
    const codec = nodeCodec();
    let accepted = 0;
    let declined = 0;
    const counting: Base64Codec = {
      decodeLines: (...a) => {
        const ok = codec.decodeLines!(...a);
        if (ok) accepted++;
        else declined++;
        return ok;
      },
    };
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 800, maxLength: 12000 }),
        fc.constantFrom(64, 76, 4, 996, 72),
        fc.boolean(),
        fc.array(fc.integer({ min: 0, max: 17000 }), { maxLength: 6 }),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...ODD), fc.boolean()), { maxLength: 3 }),
        (data, line, lf, cuts, odd) => {
          let text = Buffer.from(encodeBase64Lines(data, line)).toString('latin1');
          if (lf) text = text.replace(/\r\n/g, '\n');
          const bytes = [...Buffer.from(text, 'latin1')];
          // Odd bytes: written over a byte, or put between two.
          for (const [at, b, insert] of odd) {
            const i = at % bytes.length;
            if (insert) bytes.splice(i, 0, b);
            else bytes[i] = b;
          }
          const t = Uint8Array.from(bytes);
          const ps = pieces(t, cuts);
          setBase64Codec(undefined);
          const expected = streamed(ps);
          setBase64Codec(counting);
          expect(streamed(ps)).toBe(expected);
          if (odd.length === 0) expect(expected).toBe(Buffer.from(data).toString('hex'));
        },
      ),
      { numRuns: 400 },
    );
    // Both ways were taken: runs decoded natively, and runs declined (then decoded, or refused, by TypeScript).
    // (accepted: mean 134.5, sd 9.5 over 1 230 unseeded runs; the bound sits 7 sd below, not 3.5)
    expect(accepted).toBeGreaterThan(60);
    expect(declined).toBeGreaterThan(20);
  });

  it('declines a run holding anything but its chars and line ends', () => {
    const codec = nodeCodec();
    const good = Buffer.from(encodeBase64Lines(new Uint8Array(570).map((_, i) => i * 13)));
    const chars = (good.length / 78) * 76;
    const out = new Uint8Array(1000);
    expect(codec.decodeLines!(good, chars, out, 0)).toBe(true);
    expect(Buffer.from(out.subarray(0, 570))).toEqual(Buffer.from(new Uint8Array(570).map((_, i) => i * 13)));
    for (const b of ODD.filter((x) => x !== 65)) {
      const bad = Buffer.from(good);
      bad[100] = b;
      expect(codec.decodeLines!(bad, chars, out, 0), `byte ${b}`).toBe(false);
    }
    // Padding at the end of the run, and no room for the output.
    const padded = Buffer.from(good);
    padded[good.length - 3] = 61;
    expect(codec.decodeLines!(padded, chars, out, 0)).toBe(false);
    expect(codec.decodeLines!(good, chars, new Uint8Array(569), 0)).toBe(false);
  });
});
