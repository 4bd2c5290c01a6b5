import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { MIMEInvalid, MIMELimitExceeded } from '../../src/errors.js';
import { DEFAULT_MIME_LIMITS, getHeader, getHeaders, parseEntity, resolveMimeLimits } from '../../src/mime/entity.js';
import { parseContentDisposition, parseContentType } from '../../src/mime/header_params.js';
import { splitMultipart, splitMultipartRanges } from '../../src/mime/multipart.js';
import { canonicalExtra, canonicalize } from '../../src/mime/canonical.js';

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const str = (b: Uint8Array) => Buffer.from(b).toString('latin1');

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code ?? (e as Error).name;
  }
  return undefined;
}

describe('parseEntity', () => {
  const msg =
    'From: Alice <alice@example.com>\r\n' +
    'Subject: a long\r\n subject\r\n\tfolded\r\n' +
    'content-TYPE: text/plain;\r\n charset=utf-8\r\n' +
    'X-Empty:\r\n' +
    'Obsolete : spaced name\r\n' +
    '\r\n' +
    'Body line 1\r\n\r\nBody: not a header\r\n';

  test('CRLF: headers with exact raw bytes, unfolded values, zero-copy body', () => {
    const b = bytes(msg);
    const e = parseEntity(b);
    expect(e.lineEnding).toBe('\r\n');
    expect(e.headers.map((h) => h.name)).toEqual(['From', 'Subject', 'content-TYPE', 'X-Empty', 'Obsolete']);
    expect(e.headers.map((h) => h.value)).toEqual([
      'Alice <alice@example.com>',
      'a long subject\tfolded',
      'text/plain; charset=utf-8',
      '',
      'spaced name',
    ]);
    expect(str(e.headers[1]!.raw)).toBe('Subject: a long\r\n subject\r\n\tfolded\r\n');
    expect(e.headers.map((h) => str(h.raw)).join('') + '\r\n').toBe(msg.slice(0, msg.indexOf('\r\n\r\n') + 4));
    expect(str(e.body)).toBe('Body line 1\r\n\r\nBody: not a header\r\n');
    expect(e.headerEnd).toBe(msg.indexOf('\r\n\r\n') + 4);
    expect(e.body.buffer).toBe(b.buffer); // zero-copy
    expect(e.raw).toBe(b);
    expect(getHeader(e, 'CONTENT-type')).toBe('text/plain; charset=utf-8');
    expect(getHeader(e, 'missing')).toBeUndefined();
    expect(getHeaders(e, 'from')).toHaveLength(1);
  });

  test('bare LF (mbox) input', () => {
    const lf = msg.replace(/\r\n/g, '\n');
    const e = parseEntity(bytes(lf));
    expect(e.lineEnding).toBe('\n');
    expect(e.headers[1]!.value).toBe('a long subject\tfolded');
    expect(str(e.headers[1]!.raw)).toBe('Subject: a long\n subject\n\tfolded\n');
    expect(str(e.body)).toBe('Body line 1\n\nBody: not a header\n');
  });

  test('mbox "From " separator as the first line is skipped', () => {
    const e = parseEntity(bytes('From alice@example.com Mon Jan  1 00:00:00 2024\nSubject: x\n\nbody\n'));
    expect(e.headers.map((h) => h.name)).toEqual(['Subject']);
    expect(str(e.body)).toBe('body\n');
  });

  test('no empty line: all headers, empty body; a non-header line is MIMEInvalid', () => {
    const e = parseEntity(bytes('A: 1\r\nB: 2\r\n'));
    expect(e.headers.map((h) => h.value)).toEqual(['1', '2']);
    expect(e.body.length).toBe(0);
    expect(e.headerEnd).toBe(12);
    const n = parseEntity(bytes('A: 1\r\nB: no line end'));
    expect(str(n.headers[1]!.raw)).toBe('B: no line end');
    expect(code(() => parseEntity(bytes('A: 1\r\nthis is not a header\r\n')))).toBe('ERR_MIME_INVALID');
    expect(code(() => parseEntity(bytes('just text')))).toBe('ERR_MIME_INVALID');
    expect(code(() => parseEntity(bytes(' continuation first\r\n\r\n')))).toBe('ERR_MIME_INVALID');
    expect(code(() => parseEntity(bytes(': empty name\r\n\r\n')))).toBe('ERR_MIME_INVALID');
  });

  test('empty input, and a body without headers', () => {
    const e = parseEntity(new Uint8Array(0));
    expect(e.headers).toEqual([]);
    expect(e.body.length).toBe(0);
    const p = parseEntity(bytes('\r\nonly a body\r\n'));
    expect(p.headers).toEqual([]);
    expect(p.headerEnd).toBe(2);
    expect(str(p.body)).toBe('only a body\r\n');
  });

  test('UTF-8 header values are decoded, other 8-bit bytes kept as Latin-1', () => {
    const u = parseEntity(new Uint8Array([...Buffer.from('Subject: h\u00e9llo \u20ac\r\n\r\n', 'utf8')]));
    expect(u.headers[0]!.value).toBe('h\u00e9llo \u20ac');
    const l = parseEntity(new Uint8Array([...bytes('Subject: h'), 0xe9, ...bytes('llo\r\n\r\n')]));
    expect(l.headers[0]!.value).toBe('h\u00e9llo');
  });
});

describe('parseContentType / parseContentDisposition', () => {
  test('type and parameters', () => {
    expect(parseContentType('Application/PKCS7-MIME; smime-type=enveloped-data; name="smime.p7m"')).toEqual({
      type: 'application/pkcs7-mime',
      params: { 'smime-type': 'enveloped-data', name: 'smime.p7m' },
    });
    const ms = parseContentType(
      'multipart/signed;\r\n micalg=SHA1;\tboundary="----=_NextBoundry____Fri,_06_Sep_2002_00:25:21";\r\n protocol="application/pkcs7-signature"',
    );
    expect(ms.type).toBe('multipart/signed');
    expect(ms.params).toEqual({
      micalg: 'SHA1',
      boundary: '----=_NextBoundry____Fri,_06_Sep_2002_00:25:21',
      protocol: 'application/pkcs7-signature',
    });
    expect(parseContentType('text/plain').params).toEqual({});
    expect(parseContentType('').type).toBe('');
    expect(parseContentType('text/plain (a comment); CHARSET = "us-ascii" (another)').params).toEqual({ charset: 'us-ascii' });
    expect(parseContentType('text/plain; a="x\\"y;z"; b=2').params).toEqual({ a: 'x"y;z', b: '2' });
    expect(parseContentType('text/plain; broken; a=1; a=2; b="unterminated').params).toEqual({ a: '1', b: 'unterminated' });
    expect(parseContentType('text/plain; __proto__=x').params).toEqual({});
  });

  test('RFC 2231 minimal: charset, percent-encoding, continuations', () => {
    expect(parseContentDisposition("attachment; filename*=utf-8''%E2%82%AC%20rates.txt").params.filename).toBe('\u20ac rates.txt');
    expect(parseContentDisposition("attachment; filename*=iso-8859-1'en'%E9t%E9.txt").params.filename).toBe('\u00e9t\u00e9.txt');
    const c = parseContentType("application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more%20; title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2=\"isn't it!\"");
    expect(c.params.title).toBe("This is even more ***fun*** isn't it!");
    // The RFC 2231 value wins over a plain one.
    expect(parseContentDisposition("attachment; filename=a.txt; filename*=UTF-8''b.txt").params.filename).toBe('b.txt');
    expect(parseContentDisposition('inline').type).toBe('inline');
  });
});

describe('splitMultipart', () => {
  const crlf =
    'Content-Type: multipart/mixed; boundary="b1"\r\n' +
    '\r\n' +
    'preamble line\r\n' +
    '--b1\r\n' +
    'Content-Type: text/plain\r\n' +
    '\r\n' +
    'part one\r\n' +
    '\r\n' + // a trailing empty line belongs to the part
    '--b1   \t\r\n' + // transport padding
    '\r\n' +
    'part two has no headers\r\n' +
    '--b1x is not a delimiter\r\n' +
    ' --b1 neither\r\n' +
    '--b1--\r\n' +
    'epilogue\r\n' +
    '--b1\r\n' + // after the close delimiter: epilogue
    'more epilogue\r\n';

  test('CRLF: exact bytes, preamble, padding, epilogue', () => {
    const b = bytes(crlf);
    const e = parseEntity(b);
    const parts = splitMultipart(e, 'b1');
    expect(parts.map(str)).toEqual([
      'Content-Type: text/plain\r\n\r\npart one\r\n',
      '\r\npart two has no headers\r\n--b1x is not a delimiter\r\n --b1 neither',
    ]);
    for (const p of parts) expect(p.buffer).toBe(b.buffer); // zero-copy
    const r = splitMultipartRanges(e.body, 'b1');
    expect(str(e.body.subarray(0, r.preambleEnd))).toBe('preamble line');
    expect(str(e.body.subarray(r.epilogueStart))).toBe('epilogue\r\n--b1\r\nmore epilogue\r\n');
  });

  test('LF-only input', () => {
    const e = parseEntity(bytes(crlf.replace(/\r\n/g, '\n')));
    expect(splitMultipart(e, 'b1').map(str)).toEqual([
      'Content-Type: text/plain\n\npart one\n',
      '\npart two has no headers\n--b1x is not a delimiter\n --b1 neither',
    ]);
  });

  test('no preamble, empty parts, close delimiter at the end without a line ending', () => {
    const e = parseEntity(bytes('Content-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\n--z\r\n\r\nx\r\n--z--'));
    expect(splitMultipart(e, 'z').map(str)).toEqual(['', '\r\nx']);
    const r = splitMultipartRanges(e.body, 'z');
    expect(r.preambleEnd).toBe(0);
    expect(r.epilogueStart).toBe(e.body.length);
  });

  test('a boundary with regex-special characters and a bare CR inside a part', () => {
    const e = parseEntity(bytes('\r\n--a.b*c(d)\r\nx\ry\r\n--a.b*c(d)--\r\n'));
    expect(splitMultipart(e, 'a.b*c(d)').map(str)).toEqual(['x\ry']);
  });

  test('errors: no delimiter, missing close delimiter, only a close delimiter, bad boundary', () => {
    const mk = (s: string) => parseEntity(bytes('\r\n' + s));
    expect(code(() => splitMultipart(mk('no delimiters here\r\n'), 'b'))).toBe('ERR_MIME_INVALID');
    expect(code(() => splitMultipart(mk('--b\r\npart\r\n--b\r\npart 2\r\n'), 'b'))).toBe('ERR_MIME_INVALID');
    expect(code(() => splitMultipart(mk('--b--\r\n'), 'b'))).toBe('ERR_MIME_INVALID');
    expect(code(() => splitMultipart(mk('--b\r\n--b--'), ''))).toBe('ERR_MIME_INVALID');
    expect(code(() => splitMultipart(mk('--b\r\n--b--'), 'b\u00e9'))).toBe('ERR_MIME_INVALID');
    let msg = '';
    try {
      splitMultipart(mk('--b\r\npart\r\n'), 'b');
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain('missing close delimiter');
  });

  test('maxParts', () => {
    const body = '\r\n' + '--q\r\n\r\nx\r\n'.repeat(20) + '--q--\r\n';
    expect(splitMultipart(parseEntity(bytes(body)), 'q')).toHaveLength(20);
    expect(code(() => splitMultipart(parseEntity(bytes(body)), 'q', { maxParts: 19 }))).toBe('ERR_MIME_LIMIT_EXCEEDED');
  });
});

describe('canonicalize', () => {
  test('returns the input itself when already canonical', () => {
    const b = bytes('a\r\nb\r\n\r\n');
    expect(canonicalize(b)).toBe(b);
    const empty = new Uint8Array(0);
    expect(canonicalize(empty)).toBe(empty);
    const none = bytes('no line ends');
    expect(canonicalize(none)).toBe(none);
  });

  test('bare LF and bare CR become CRLF', () => {
    expect(str(canonicalize(bytes('a\nb\n')))).toBe('a\r\nb\r\n');
    expect(str(canonicalize(bytes('\na\rb\r\nc\r')))).toBe('\r\na\r\nb\r\nc\r\n');
    expect(str(canonicalize(bytes('\r\r\n\n\r')))).toBe('\r\n\r\n\r\n\r\n');
  });

  test('random input matches a naive implementation', () => {
    const naive = (b: Uint8Array) => bytes(str(b).replace(/\r\n|\r|\n/g, '\r\n'));
    for (let k = 0; k < 200; k++) {
      const r = new Uint8Array(randomBytes(1 + (k * 37) % 3000));
      // lots of CR and LF, and long runs without
      for (let i = 0; i < r.length; i++) if (r[i]! % 7 === 0) r[i] = r[i]! % 2 ? 13 : 10;
      expect(str(canonicalize(r))).toBe(str(naive(r)));
    }
  });

  test('canonicalExtra counts each bare CR and bare LF, at every alignment, pairs across word edges included', () => {
    // The byte-by-byte count; canonicalExtra reads 32-bit words (exact CR/LF masks, pairs across a word's edge).
    const naiveExtra = (b: Uint8Array): number => {
      let n = 0;
      for (let i = 0; i < b.length; i++) {
        if (b[i] === 10 && (i === 0 || b[i - 1] !== 13)) n++;
        if (b[i] === 13 && (i + 1 >= b.length || b[i + 1] !== 10)) n++;
      }
      return n;
    };
    const alphabet = [13, 10, 13, 10, 9, 0, 0x1f, 0x20, 0x8d, 0x8a, 0x41, 0xff];
    for (let k = 0; k < 3000; k++) {
      const r = new Uint8Array(randomBytes(8 + (k % 61)));
      for (let i = 0; i < r.length; i++) r[i] = alphabet[r[i]! % alphabet.length]!;
      for (let off = 0; off < 4; off++) {
        const v = r.subarray(off, r.length - (k % 3));
        expect(canonicalExtra(v)).toBe(naiveExtra(v));
      }
    }
    // Canonical lines whose CRLF falls on every position of a word, the pair split across two words included.
    for (let len = 1; len < 12; len++) {
      const line = bytes(`${'x'.repeat(len)}\r\n`);
      const text = new Uint8Array(line.length * 40);
      for (let i = 0; i < 40; i++) text.set(line, i * line.length);
      for (let off = 0; off < 4; off++) expect(canonicalExtra(text.subarray(off))).toBe(naiveExtra(text.subarray(off)));
    }
  });
});

describe('limits', () => {
  test('defaults and validation like postal-mime (never silently off)', () => {
    expect(resolveMimeLimits()).toEqual(DEFAULT_MIME_LIMITS);
    expect(resolveMimeLimits({ maxParts: 5 }).maxParts).toBe(5);
    for (const bad of [0, -1, NaN, 1.5, Infinity, '10', null, true]) {
      expect(() => resolveMimeLimits({ maxHeaders: bad as never })).toThrow(RangeError);
    }
    expect(() => parseEntity(bytes('A: b\r\n\r\n'), { maxHeaderBytes: 0 })).toThrow(RangeError);
  });

  test('maxHeaders and maxHeaderBytes → MIMELimitExceeded', () => {
    const m = bytes('A: 1\r\nB: 2\r\nC: 3\r\n\r\nbody');
    expect(parseEntity(m, { maxHeaders: 3 }).headers).toHaveLength(3);
    expect(() => parseEntity(m, { maxHeaders: 2 })).toThrow(MIMELimitExceeded);
    expect(parseEntity(m, { maxHeaderBytes: 20 }).headers).toHaveLength(3);
    expect(() => parseEntity(m, { maxHeaderBytes: 19 })).toThrow(MIMELimitExceeded);
  });
});

describe('hostile input: typed errors, fast', () => {
  test('a 10 MB header line', () => {
    const b = new Uint8Array(10 * 1024 * 1024 + 20).fill(0x61);
    b.set(bytes('Subject: '), 0);
    b.set(bytes('\r\n\r\nbody'), b.length - 8);
    const t0 = performance.now();
    expect(code(() => parseEntity(b))).toBe('ERR_MIME_LIMIT_EXCEEDED');
    expect(performance.now() - t0).toBeLessThan(5000); // a hang guard, not a speed target
    // The same with no line end at all, and as garbage without a colon.
    expect(code(() => parseEntity(b.subarray(0, b.length - 8)))).toBe('ERR_MIME_LIMIT_EXCEEDED');
  });

  test('100k headers', () => {
    const b = bytes('X-A: 1\r\n'.repeat(100_000) + '\r\nbody');
    const t0 = performance.now();
    expect(code(() => parseEntity(b))).toBe('ERR_MIME_LIMIT_EXCEEDED');
    expect(performance.now() - t0).toBeLessThan(5000); // a hang guard, not a speed target
  });

  test('an unclosed 10 MB multipart', () => {
    const line = 'x'.repeat(76) + '\r\n';
    const b = bytes('Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n' + line.repeat(130_000) + '-- b\r\n--bb\r\n');
    const e = parseEntity(b);
    const t0 = performance.now();
    expect(code(() => splitMultipart(e, 'b'))).toBe('ERR_MIME_INVALID');
    expect(performance.now() - t0).toBeLessThan(5000); // a hang guard, not a speed target
  });

  test('a 10 MB body full of dashes and line ends', () => {
    const b = bytes('\r\n--b\r\n' + '-\n--\r\n---b-\r\n'.repeat(700_000) + '--b--\r\n');
    const t0 = performance.now();
    const parts = splitMultipart(parseEntity(b), 'b');
    expect(parts).toHaveLength(1);
    expect(performance.now() - t0).toBeLessThan(5000); // a hang guard, not a speed target
  });

  test('errors are MIMEInvalid instances', () => {
    expect(() => parseEntity(bytes('garbage'))).toThrow(MIMEInvalid);
  });
});
