/**
 * The incremental BER reader and the indefinite-length writer (src/lib/ber_stream.ts).
 * Every CMS blob of vectors/manifest.json (OpenSSL's `-stream` BER among them) is pushed split at every point (a
 * sample of them for the 300 KiB one, plus byte by byte) and must give the structure der.ts reads; hostile input ends
 * in CMSInvalid / CMSLimitExceeded with the reader's memory bounded.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BerCapture, BerStreamReader, EOC, indefiniteHeader, OctetStringChunker, type BerHandler, type BerHeader } from '../../src/lib/ber_stream.js';
import { children, readTlv, stringContent, TAG, tlv, type Tlv } from '../../src/lib/der.js';
import { extractCms } from '../../src/mime/extract.js';
import { parseMultipartSigned } from '../../src/mime/multipart_signed.js';
import { CMSInvalid, CMSLimitExceeded } from '../../src/errors.js';
import { manifest, vfile } from '../_helpers/identities.js';

/**
 * The structure der.ts reads, as lines: `S cls tag c len depth offset`, `D len` (a primitive's content length),
 * `E offset`. The content bytes themselves are checked by the stream's recorder against the input, where its
 * header says they are (a native compare: hashing 300 KiB in JavaScript for each of the 8,600 split points of
 * enc-stream was most of this file's time).
 */
function derTrace(buf: Uint8Array): string[] {
  const out: string[] = [];
  const walk = (t: Tlv, depth: number): void => {
    const len = t.indefinite ? -1 : t.contentEnd - t.contentStart;
    out.push(`S ${t.cls} ${t.tagNo} ${t.constructed ? 1 : 0} ${len} ${depth} ${t.start}`);
    if (t.constructed) for (const c of children(buf, t, depth)) walk(c, depth + 1);
    else if (len > 0) out.push(`D ${len}`);
    out.push(`E ${t.end}`);
  };
  walk(readTlv(buf, 0), 0);
  return out;
}

/**
 * A handler that records the same lines, merging the data of one element (which may come in many calls); each
 * piece of data must be the bytes of `input` at the element's content offset (header offset + header length + the
 * data so far), else an `X offset` line records the difference.
 */
function recorder(input: Uint8Array): { handler: BerHandler; lines: string[]; offsetOf: () => number } {
  const lines: string[] = [];
  let dataLen = 0;
  let ends = 0;
  const handler: BerHandler = {
    start(h: BerHeader) {
      lines.push(`S ${h.cls} ${h.tagNo} ${h.constructed ? 1 : 0} ${h.length} ${h.depth} ${h.offset}`);
      dataLen = 0;
    },
    data(bytes: Uint8Array, h: BerHeader) {
      if (bytes.length === 0) throw new Error('empty data call');
      const at = h.offset + h.headerLength + dataLen;
      if (Buffer.compare(bytes, input.subarray(at, at + bytes.length)) !== 0) lines.push(`X ${at}`);
      dataLen += bytes.length;
    },
    end(h: BerHeader) {
      if (!h.constructed && dataLen > 0) lines.push(`D ${dataLen}`);
      dataLen = 0;
      // The end offset: header offset + header + content, or (indefinite) unknown here: filled in below.
      lines.push(`E ${h.length >= 0 ? h.offset + h.headerLength + h.length : -1}`);
      ends++;
    },
  };
  return { handler, lines, offsetOf: () => ends };
}

/** Reads `buf` pushed in the pieces cut at `cuts` (sorted offsets), returning the trace. */
function streamTrace(buf: Uint8Array, cuts: number[]): string {
  const { handler, lines } = recorder(buf);
  const r = new BerStreamReader(handler);
  let prev = 0;
  for (const c of [...cuts, buf.length]) {
    r.push(buf.subarray(prev, c));
    if (r.buffered > 12) throw new Error(`${r.buffered} bytes buffered`);
    prev = c;
  }
  r.finish();
  if (!r.done || r.offset + r.trailing !== buf.length) throw new Error('not done at the end');
  return lines.join('\n');
}

/** der.ts's trace with the ends of indefinite elements as -1 (the stream handler knows them only by their EOC). */
function expected(buf: Uint8Array): string {
  const t = derTrace(buf);
  // Replace an indefinite element's end by -1: find starts with len -1 and their matching E.
  const stack: boolean[] = [];
  return t.map((l) => {
    if (l.startsWith('S ')) stack.push(l.split(' ')[4] === '-1');
    else if (l.startsWith('E ')) return stack.pop() ? 'E -1' : l;
    return l;
  }).join('\n');
}

/** The CMS blobs of the vectors (the signature part of multipart/signed ones). */
function blobs(): { id: string; der: Uint8Array }[] {
  const out: { id: string; der: Uint8Array }[] = [];
  for (const m of manifest.messages) {
    const bytes = vfile(m.file);
    let der: Uint8Array | undefined;
    try {
      der = extractCms(bytes).der;
    } catch {
      try {
        der = parseMultipartSigned(bytes).signature;
      } catch {
        der = undefined;
      }
    }
    if (der && der.length > 0 && der[0] === 0x30) {
      const top = readTlv(der, 0);
      out.push({ id: m.id, der: der.subarray(0, top.end) });
    }
  }
  return out;
}

const BLOBS = blobs();

describe('BerStreamReader on the vectors', () => {
  it('has the vectors, OpenSSL -stream BER among them', () => {
    expect(BLOBS.length).toBeGreaterThanOrEqual(40);
    const s = BLOBS.find((b) => b.id === 'enc-stream');
    expect(s).toBeDefined();
    // Indefinite lengths and a constructed [0] of OCTET STRING chunks.
    const lines = expected(s!.der).split('\n');
    expect(lines.filter((l) => / -1 /.test(l)).length).toBeGreaterThan(3);
    expect(lines.filter((l) => l.startsWith('S 0 4 0 4096 ')).length).toBeGreaterThan(70);
  });

  for (const { id, der } of BLOBS) {
    it(`${id}: every split point gives der.ts's structure`, () => {
      const want = expected(der);
      expect(streamTrace(der, [])).toBe(want);
      // Every split point for messages up to 16 KiB, a sample (every header of the first 8 KiB, and 400 spread) beyond.
      const points: number[] = [];
      if (der.length <= 16384) for (let i = 1; i < der.length; i++) points.push(i);
      else {
        for (let i = 1; i < 8192; i++) points.push(i);
        for (let k = 1; k <= 400; k++) points.push(Math.floor((der.length * k) / 401));
      }
      for (const p of points) {
        const got = streamTrace(der, [p]);
        if (got !== want) expect(got, `split at ${p}`).toBe(want);
      }
    });
  }

  it('enc-stream: byte by byte, and in random pieces', () => {
    const { der } = BLOBS.find((b) => b.id === 'enc-stream')!;
    const want = expected(der);
    expect(streamTrace(der, Array.from({ length: der.length - 1 }, (_, i) => i + 1))).toBe(want);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: der.length - 1 }), { maxLength: 60 }), (cuts) => {
        expect(streamTrace(der, cuts.sort((a, b) => a - b))).toBe(want);
      }),
      { numRuns: 50 },
    );
  });

  it('the content of the constructed OCTET STRING streams out as der.ts joins it', () => {
    const { der } = BLOBS.find((b) => b.id === 'enc-stream')!;
    // encryptedContent is [0] IMPLICIT constructed, the only context-class tag 0 holding OCTET STRINGs.
    const parts: Uint8Array[] = [];
    let inside = -1;
    const r = new BerStreamReader({
      start(h) {
        if (h.cls === 2 && h.tagNo === 0 && h.constructed && h.depth === 4) inside = h.depth;
      },
      data(b, h) {
        if (inside >= 0 && h.depth === inside + 1) parts.push(b.slice());
      },
      end(h) {
        if (h.depth === inside) inside = -1;
      },
    });
    for (let i = 0; i < der.length; i += 1000) r.push(der.subarray(i, i + 1000));
    r.finish();
    // der.ts: ContentInfo → [0] → EnvelopedData → EncryptedContentInfo → [0].
    const ci = readTlv(der, 0);
    const env = children(der, children(der, children(der, ci)[1])[0]);
    const eci = children(der, env[env.length - 1]);
    const joined = stringContent(der, eci[2]);
    const total = parts.reduce((n, p) => n + p.length, 0);
    expect(total).toBe(joined.length);
    expect(Buffer.concat(parts).equals(Buffer.from(joined))).toBe(true);
    expect(total).toBeGreaterThan(300_000);
  });
});

describe('BerCapture and the raw bytes', () => {
  /** der.ts's elements at `depth`, as their exact bytes. */
  function elementsAt(buf: Uint8Array, depth: number): string[] {
    const out: string[] = [];
    const walk = (t: Tlv, d: number): void => {
      if (d === depth) return void out.push(Buffer.from(buf.subarray(t.start, t.end)).toString('hex'));
      if (t.constructed) for (const c of children(buf, t, d)) walk(c, d + 1);
    };
    walk(readTlv(buf, 0), 0);
    return out;
  }

  for (const id of ['enc-stream', 'enc-multi', 'sig-rsa-opaque', 'bc-enc-oaep-gcm', 'gpgsm-sig-rsa-detached']) {
    it(`${id}: the raw bytes are the input, and the elements captured at depths 1–3 are der.ts's`, () => {
      const { der } = BLOBS.find((b) => b.id === id)!;
      fc.assert(
        fc.property(fc.uniqueArray(fc.integer({ min: 1, max: der.length - 1 }), { maxLength: 40 }), fc.integer({ min: 1, max: 3 }), (cuts, depth) => {
          const got: string[] = [];
          const raw: Uint8Array[] = [];
          const cap = new BerCapture(
            { start() {}, data() {}, end() {}, raw: (b) => void raw.push(b.slice()) },
            (h) => h.depth === depth,
            (_h, bytes) => void got.push(Buffer.from(bytes).toString('hex')),
            1 << 20,
          );
          const r = new BerStreamReader(cap.handler);
          let prev = 0;
          for (const c of [...cuts.sort((a, b) => a - b), der.length]) {
            r.push(der.subarray(prev, c));
            prev = c;
          }
          r.finish();
          expect(Buffer.concat(raw).equals(Buffer.from(der))).toBe(true);
          expect(got).toEqual(elementsAt(der, depth));
        }),
        { numRuns: 25 },
      );
    });
  }

  it('a capture larger than maxBytes: CMSLimitExceeded naming the limit, before the element ends', () => {
    const { der } = BLOBS.find((b) => b.id === 'enc-stream')!;
    const cap = new BerCapture({ start() {}, data() {}, end() {} }, (h) => h.depth === 0, () => {}, 100_000, 'maxCmsHeaderBytes');
    const r = new BerStreamReader(cap.handler);
    let e: unknown;
    let read = 0;
    try {
      for (let i = 0; i < der.length; i += 4096, read = i) r.push(der.subarray(i, i + 4096));
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(CMSLimitExceeded);
    expect((e as CMSLimitExceeded).limit).toBe('maxCmsHeaderBytes');
    expect(read).toBeLessThan(110_000);
  });
});

/** Reads `bytes` in one push and finishes: the error thrown. */
function errorOf(bytes: Uint8Array, limits?: { maxDepth?: number; maxElements?: number }, pieces = 1): unknown {
  const r = new BerStreamReader({ start() {}, data() {}, end() {} }, limits);
  try {
    const step = Math.ceil(bytes.length / pieces);
    for (let i = 0; i < bytes.length; i += step) r.push(bytes.subarray(i, i + step));
    r.finish();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('BerStreamReader on hostile input', () => {
  it('every truncation of a real message is CMSInvalid at finish()', () => {
    const { der } = BLOBS.find((b) => b.id === 'enc-aes256gcm')!;
    for (let n = 0; n < der.length; n++) {
      const e = errorOf(der.subarray(0, n), undefined, 3);
      expect(e, `prefix ${n}`).toBeInstanceOf(CMSInvalid);
    }
    expect(errorOf(der)).toBeUndefined();
  });

  it('deep nesting: CMSLimitExceeded (maxBerDepth) at depth 65, whatever the input length', () => {
    const deep = new Uint8Array(2 * 100_000);
    for (let i = 0; i < deep.length; i += 2) {
      deep[i] = 0x30;
      deep[i + 1] = 0x80;
    }
    const e = errorOf(deep, undefined, 777);
    expect(e).toBeInstanceOf(CMSLimitExceeded);
    expect((e as CMSLimitExceeded).limit).toBe('maxBerDepth');
    // The limit is der.ts's: depth 64 is read, 65 is not; and it is configurable.
    const nest = (n: number) => new Uint8Array([...deep.subarray(0, 2 * n), 0x05, 0x00, ...new Uint8Array(2 * n)]);
    expect(errorOf(nest(64))).toBeUndefined();
    expect(() => readTlv(nest(64), 0)).not.toThrow();
    expect(errorOf(nest(65))).toBeInstanceOf(CMSLimitExceeded);
    expect(() => readTlv(nest(65), 0)).toThrow(CMSLimitExceeded);
    expect(errorOf(nest(64), { maxDepth: 10 })).toBeInstanceOf(CMSLimitExceeded);
  });

  it('too many elements in one value: CMSLimitExceeded (maxBerElements)', () => {
    const many = new Uint8Array([0x30, 0x80, ...new Array(2000).fill([0x05, 0x00]).flat(), 0, 0]);
    expect(errorOf(many)).toBeUndefined();
    const e = errorOf(many, { maxElements: 1000 });
    expect(e).toBeInstanceOf(CMSLimitExceeded);
    expect((e as CMSLimitExceeded).limit).toBe('maxBerElements');
  });

  it('a huge length is not allocated: data streams, truncation is CMSInvalid', () => {
    let seen = 0;
    const r = new BerStreamReader({ start() {}, data: (b) => void (seen += b.length), end() {} });
    r.push(Uint8Array.of(0x04, 0x86, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff));
    const chunk = new Uint8Array(1 << 20);
    for (let i = 0; i < 64; i++) r.push(chunk);
    expect(seen).toBe(64 << 20);
    expect(r.buffered).toBe(0);
    expect(() => r.finish()).toThrow(CMSInvalid);
  });

  it('lengths and tags beyond der.ts limits, and misplaced end-of-contents, are CMSInvalid', () => {
    const cases: number[][] = [
      [0x04, 0x87, 1, 0, 0, 0, 0, 0, 0], // 7 length octets
      [0x1f, 0x81, 0x81, 0x81, 0x81, 0x01, 0x00], // 5-octet tag number
      [0x04, 0x80, 0x00, 0x00], // indefinite primitive
      [0x30, 0x02, 0x00, 0x00], // EOC in a definite value
      [0x00, 0x00], // EOC at the top
      [0x30, 0x03, 0x04, 0x05, 0x00], // child longer than its parent
      [0x30, 0x80, 0x30, 0x02, 0x05, 0x00], // indefinite never closed
      [0x30, 0x04, 0x30, 0x80, 0x05, 0x00, 0x00, 0x00], // indefinite cut by its definite parent
      [0x30, 0x01, 0x04], // header past the parent's end
      [],
    ];
    for (const c of cases) {
      for (const pieces of [1, c.length || 1]) expect(errorOf(Uint8Array.from(c), undefined, pieces), JSON.stringify(c)).toBeInstanceOf(CMSInvalid);
    }
  });

  it('a reader that failed refuses further input (CMSInvalid)', () => {
    const r = new BerStreamReader({ start() {}, data() {}, end() {} });
    expect(() => r.push(Uint8Array.of(0x04, 0x80))).toThrow(CMSInvalid);
    expect(() => r.push(Uint8Array.of(0))).toThrow(CMSInvalid);
    expect(() => r.finish()).toThrow(CMSInvalid);
  });

  it('bytes after the top-level element are counted, not parsed', () => {
    const r = new BerStreamReader({ start() {}, data() {}, end() {} });
    r.push(Uint8Array.of(0x05, 0x00, 0xff, 0xff));
    r.push(Uint8Array.of(0x01));
    r.finish();
    expect(r.done).toBe(true);
    expect(r.offset).toBe(2);
    expect(r.trailing).toBe(3);
  });

  it('random bytes never end in anything but CMSInvalid / CMSLimitExceeded (or a whole element)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 1, max: 7 }), (bytes, pieces) => {
        const e = errorOf(bytes, { maxDepth: 8, maxElements: 50 }, pieces);
        if (e !== undefined) expect(e instanceof CMSInvalid || e instanceof CMSLimitExceeded).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('indefinite-length writer', () => {
  it('OctetStringChunker + indefiniteHeader + EOC: BER that der.ts and the stream reader read back', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.array(fc.integer({ min: 0, max: 700 }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 1000 }),
        (content, writes, size) => {
          const pieces: Uint8Array[] = [];
          const sink = (p: Uint8Array) => pieces.push(p);
          sink(indefiniteHeader(0x30));
          sink(tlv(0x06, Uint8Array.of(0x2a)));
          sink(indefiniteHeader(0x80)); // [0] IMPLICIT OCTET STRING, constructed
          const ch = new OctetStringChunker(sink, size);
          let i = 0;
          for (const w of writes) {
            ch.write(content.subarray(i, i + w));
            i = Math.min(content.length, i + w);
          }
          ch.write(content.subarray(i));
          ch.end();
          sink(EOC);
          sink(EOC);
          const ber = Buffer.concat(pieces);
          const top = readTlv(ber, 0);
          expect(top.end).toBe(ber.length);
          const [o, c] = children(ber, top);
          expect(o!.tagNo).toBe(TAG.OID);
          expect(c!.indefinite).toBe(true);
          // Every chunk but the last is `size` long.
          const chunks = children(ber, c);
          chunks.slice(0, -1).forEach((k) => expect(k.contentEnd - k.contentStart).toBe(size));
          expect(chunks.length).toBe(Math.ceil(content.length / size));
          expect(Buffer.from(stringContent(ber, c)).equals(Buffer.from(content))).toBe(true);
          expect(streamTrace(ber, [Math.floor(ber.length / 2)])).toBe(expected(ber));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses bad arguments', () => {
    expect(() => indefiniteHeader(0x1f)).toThrow(RangeError);
    expect(() => indefiniteHeader(256)).toThrow(RangeError);
    expect(() => new OctetStringChunker(() => {}, 0)).toThrow(RangeError);
    expect(indefiniteHeader(0x04)).toEqual(Uint8Array.of(0x24, 0x80));
  });
});
