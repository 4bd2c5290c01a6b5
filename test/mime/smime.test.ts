import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { MIMEInvalid } from '../../src/errors.js';
import { decodeBase64 } from '../../src/lib/base64.js';
import { getHeader, parseEntity } from '../../src/mime/entity.js';
import { parseContentType } from '../../src/mime/header_params.js';
import { splitMultipart } from '../../src/mime/multipart.js';
import { buildPkcs7Mime } from '../../src/mime/pkcs7_mime.js';
import { extractCms } from '../../src/mime/extract.js';
import { parseMultipartSigned } from '../../src/mime/multipart_signed.js';
import { prepareForSigning } from '../../src/mime/prepare_for_signing.js';
import { splitForProtection } from '../../src/mime/protection.js';
import { hasPeer, run, tmp, tryRun } from '../_helpers/env.js';

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const str = (b: Uint8Array) => Buffer.from(b).toString('latin1');

function err(f: () => unknown): { code?: string; message: string } {
  try {
    f();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected an error');
}

/** A small quoted-printable decoder, to check the encoder. */
function qpDecode(s: string): Uint8Array {
  const t = s.replace(/=\r\n/g, '');
  const out: number[] = [];
  for (let i = 0; i < t.length; i++) {
    if (t[i] === '=') {
      out.push(parseInt(t.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(t.charCodeAt(i));
  }
  return new Uint8Array(out);
}

describe('splitForProtection', () => {
  test('outer headers (not Content-*, not MIME-Version) and the canonical inner entity', () => {
    const msg =
      'From: Alice <a@example.com>\n' +
      'To: Bob <b@example.com>,\n Carol <c@example.com>\n' +
      'Subject: hi\n' +
      'MIME-Version: 1.0\n' +
      'Content-Type: text/plain;\n charset=utf-8\n' +
      'Message-ID: <1@example.com>\n' +
      'Content-Transfer-Encoding: 8bit\n' +
      '\n' +
      'Hello\nworld\n';
    const { outerHeaders, inner } = splitForProtection(bytes(msg));
    expect(str(outerHeaders)).toBe(
      'From: Alice <a@example.com>\r\nTo: Bob <b@example.com>,\r\n Carol <c@example.com>\r\nSubject: hi\r\nMessage-ID: <1@example.com>\r\n',
    );
    expect(str(inner)).toBe('Content-Type: text/plain;\r\n charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nHello\r\nworld\r\n');
  });

  test('CRLF input keeps exact bytes', () => {
    const msg = 'Date: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n';
    const { outerHeaders, inner } = splitForProtection(bytes(msg));
    expect(str(outerHeaders)).toBe('Date: x\r\n');
    expect(str(inner)).toBe('Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n');
  });

  test('no Content-Type → explicit text/plain; charset=us-ascii (the RFC 2045 default)', () => {
    const { outerHeaders, inner } = splitForProtection(bytes('Subject: s\r\n\r\nplain'));
    expect(str(outerHeaders)).toBe('Subject: s\r\n');
    expect(str(inner)).toBe('Content-Type: text/plain; charset=us-ascii\r\n\r\nplain');
  });

  test('headers only, last line without a line ending', () => {
    const { outerHeaders, inner } = splitForProtection(bytes('Subject: s\r\nContent-Type: text/plain'));
    expect(str(outerHeaders)).toBe('Subject: s\r\n');
    expect(str(inner)).toBe('Content-Type: text/plain\r\n\r\n');
  });
});

describe('buildPkcs7Mime + extractCms', () => {
  test('exact layout, 76-column base64, parses back', () => {
    const der = new Uint8Array(randomBytes(1000));
    der[0] = 0x30;
    const out = buildPkcs7Mime(bytes('From: a@example.com\r\nSubject: s\r\n'), 'enveloped-data', der);
    const s = str(out);
    const head =
      'From: a@example.com\r\nSubject: s\r\n' +
      'MIME-Version: 1.0\r\n' +
      'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"\r\n' +
      'Content-Transfer-Encoding: base64\r\n' +
      'Content-Disposition: attachment; filename="smime.p7m"\r\n' +
      '\r\n';
    expect(s.startsWith(head)).toBe(true);
    const b64 = s.slice(head.length);
    const lines = b64.split('\r\n');
    expect(lines.pop()).toBe('');
    expect(lines.slice(0, -1).every((l) => l.length === 76)).toBe(true);
    expect(b64.replace(/\r\n/g, '')).toBe(Buffer.from(der).toString('base64'));

    const x = extractCms(out);
    expect(x.kind).toBe('enveloped');
    expect(x.smimeType).toBe('enveloped-data');
    expect(Buffer.from(x.der).equals(Buffer.from(der))).toBe(true);
    expect(getHeader(x, 'subject')).toBe('s');
  });

  test('each smime-type, chunked DER, outer MIME-Version/Content-* replaced, LF outer headers', () => {
    const der = new Uint8Array(randomBytes(301));
    const chunks = [der.subarray(0, 1), der.subarray(1, 100), der.subarray(100)];
    const outer = bytes('Subject: s\nMIME-Version: 1.0\nContent-Type: text/plain\nTo: t\n');
    for (const [t, kind] of [
      ['enveloped-data', 'enveloped'],
      ['authEnveloped-data', 'authEnveloped'],
      ['signed-data', 'signed'],
    ] as const) {
      const out = buildPkcs7Mime(outer, t, chunks);
      const e = parseEntity(out);
      expect(e.headers.map((h) => h.name)).toEqual([
        'Subject',
        'To',
        'MIME-Version',
        'Content-Type',
        'Content-Transfer-Encoding',
        'Content-Disposition',
      ]);
      expect(str(out).indexOf('\n') - 1).toBe(str(out).indexOf('\r\n'));
      expect(parseContentType(getHeader(e, 'content-type')!).params).toEqual({ 'smime-type': t, name: 'smime.p7m' });
      const x = extractCms(out);
      expect(x.kind).toBe(kind);
      expect(Buffer.from(x.der).equals(Buffer.from(der))).toBe(true);
    }
    expect(() => buildPkcs7Mime(outer, 'receipt-data' as never, der)).toThrow(TypeError);
    expect(() => buildPkcs7Mime(outer, 'signed-data', new Uint8Array(0))).toThrow(TypeError);
    expect(err(() => buildPkcs7Mime(bytes('A: b\r\n\r\nbody'), 'signed-data', der)).code).toBe('ERR_MIME_INVALID');
    // Empty outer headers are fine.
    expect(str(buildPkcs7Mime(new Uint8Array(0), 'signed-data', der)).startsWith('MIME-Version: 1.0\r\n')).toBe(true);
  });

  test('extractCms: accepted variants', () => {
    const der = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x05]);
    const b64 = Buffer.from(der).toString('base64');
    const cases = [
      `Content-Type: application/x-pkcs7-mime; smime-type=signed-data\nContent-Transfer-Encoding: base64\n\n${b64}\n`,
      `Content-Type: application/pkcs7-mime\r\nContent-Transfer-Encoding: BASE64\r\n\r\n${b64}\r\n`,
      `Content-Type: application/octet-stream; name="SMIME.P7M"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}`,
      `Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}`,
    ];
    for (const c of cases) expect([...extractCms(bytes(c)).der]).toEqual([...der]);
    expect(extractCms(bytes(cases[0]!)).kind).toBe('signed');
    expect(extractCms(bytes(cases[1]!)).kind).toBe('unknown');
    expect(extractCms(bytes(cases[1]!)).smimeType).toBeUndefined();
    expect(extractCms(bytes('Content-Type: application/pkcs7-mime; smime-type=certs-only\r\n\r\nx')).kind).toBe('unknown');
    // Binary body: as is, zero-copy.
    const bin = new Uint8Array([...bytes('Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\nContent-Transfer-Encoding: binary\r\n\r\n'), ...der]);
    const x = extractCms(bin);
    expect([...x.der]).toEqual([...der]);
    expect(x.der.buffer).toBe(bin.buffer);
    // Raw DER.
    const raw = extractCms(der);
    expect(raw.kind).toBe('unknown');
    expect(raw.der).toBe(der);
    expect(raw.headers).toEqual([]);
  });

  test('extractCms: anything else is MIMEInvalid with a clear message', () => {
    expect(err(() => extractCms(bytes('Content-Type: text/plain\r\n\r\nhello'))).message).toBe(
      'not an S/MIME message: Content-Type is text/plain',
    );
    expect(err(() => extractCms(bytes('Subject: x\r\n\r\nhello'))).message).toMatch(/^not an S\/MIME message: no Content-Type/);
    expect(err(() => extractCms(bytes('Content-Type: multipart/signed; boundary=x\r\n\r\n'))).message).toMatch(/parseMultipartSigned/);
    expect(err(() => extractCms(bytes('Content-Type: application/octet-stream; name=a.bin\r\n\r\nx'))).code).toBe('ERR_MIME_INVALID');
    expect(err(() => extractCms(bytes('Content-Type: application/pkcs7-mime\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!'))).code).toBe(
      'ERR_MIME_INVALID',
    );
    expect(err(() => extractCms(bytes('Content-Type: application/pkcs7-mime\r\nContent-Transfer-Encoding: base64\r\n\r\n'))).message).toMatch(/empty/);
    expect(err(() => extractCms(bytes('Content-Type: application/pkcs7-mime\r\nContent-Transfer-Encoding: x-uue\r\n\r\nabc'))).code).toBe(
      'ERR_MIME_INVALID',
    );
    expect(() => extractCms('x' as never)).toThrow(TypeError);
  });
});

describe('parseMultipartSigned', () => {
  const sig = new Uint8Array([0x30, 0x80, 0x06, 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0]);
  const mk = (ct: string, sigType = 'application/pkcs7-signature', nl = '\r\n') =>
    bytes(
      [
        'From: a',
        `Content-Type: ${ct}`,
        '',
        'This is an S/MIME signed message',
        '',
        '--XX',
        'Content-Type: text/plain',
        '',
        'signed text',
        'second line',
        '',
        '--XX',
        `Content-Type: ${sigType}; name=smime.p7s`,
        'Content-Transfer-Encoding: base64',
        '',
        Buffer.from(sig).toString('base64'),
        '',
        '--XX--',
        '',
      ].join(nl),
    );

  test('signed part byte for byte (CRLF), signature decoded, micalg and protocol', () => {
    const r = parseMultipartSigned(mk('multipart/signed; protocol="application/pkcs7-signature"; micalg=SHA-256; boundary=XX'));
    expect(str(r.signedPart)).toBe('Content-Type: text/plain\r\n\r\nsigned text\r\nsecond line\r\n');
    expect([...r.signature]).toEqual([...sig]);
    expect(r.micalg).toBe('sha-256');
    expect(r.protocol).toBe('application/pkcs7-signature');
  });

  test('LF input: the signed part is canonicalised to CRLF', () => {
    const r = parseMultipartSigned(mk('multipart/signed; protocol="application/x-pkcs7-signature"; boundary="XX"', 'application/x-pkcs7-signature', '\n'));
    expect(str(r.signedPart)).toBe('Content-Type: text/plain\r\n\r\nsigned text\r\nsecond line\r\n');
    expect(r.protocol).toBe('application/x-pkcs7-signature');
    expect(r.micalg).toBeUndefined();
  });

  test('errors', () => {
    expect(err(() => parseMultipartSigned(mk('multipart/signed; protocol="application/pkcs7-signature"'))).message).toMatch(/boundary/);
    expect(err(() => parseMultipartSigned(mk('multipart/signed; protocol="application/pgp-signature"; boundary=XX'))).message).toMatch(
      /protocol/,
    );
    expect(err(() => parseMultipartSigned(mk('multipart/mixed; boundary=XX'))).code).toBe('ERR_MIME_INVALID');
    expect(err(() => parseMultipartSigned(mk('multipart/signed; boundary=XX', 'text/plain'))).message).toMatch(/second part/);
    const one = bytes('Content-Type: multipart/signed; protocol="application/pkcs7-signature"; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n');
    expect(err(() => parseMultipartSigned(one)).message).toMatch(/missing signature part/);
    const unclosed = bytes('Content-Type: multipart/signed; protocol="application/pkcs7-signature"; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b\r\n');
    expect(err(() => parseMultipartSigned(unclosed)).code).toBe('ERR_MIME_INVALID');
    // A missing protocol is tolerated when the second part is a PKCS #7 signature.
    expect(parseMultipartSigned(mk('multipart/signed; boundary=XX')).protocol).toBe('application/pkcs7-signature');
  });
});

describe('prepareForSigning', () => {
  test('a canonical 7-bit entity comes back as the same array', () => {
    const e = bytes('Content-Type: text/plain\r\n\r\nhello\r\n');
    expect(prepareForSigning(e)).toBe(e);
    const m = bytes('Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n');
    expect(prepareForSigning(m)).toBe(m);
  });

  test('LF becomes CRLF', () => {
    expect(str(prepareForSigning(bytes('Content-Type: text/plain\n\nhello\n')))).toBe('Content-Type: text/plain\r\n\r\nhello\r\n');
  });

  test('8-bit text → quoted-printable (round-trips, 76-column lines, trailing whitespace and "From " protected)', () => {
    const text = 'Gr\u00fc\u00dfe = \u20ac \r\nFrom me\r\n.\r\n' + 'x'.repeat(200) + '\u00e9\r\nend \t';
    const body = new Uint8Array(Buffer.from(text, 'utf8'));
    const input = new Uint8Array([...bytes('Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'), ...body]);
    const out = prepareForSigning(input);
    const e = parseEntity(out);
    expect(e.headers.map((h) => `${h.name}: ${h.value}`)).toEqual([
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
    ]);
    const qp = str(e.body);
    expect(/^[\x20-\x7e\r\n]*$/.test(qp)).toBe(true);
    expect(qp.split('\r\n').every((l) => l.length <= 76)).toBe(true);
    expect(qp).toContain('=46rom me');
    expect(qp).toContain('=20\r\n');
    expect(qp.endsWith('end =09')).toBe(true);
    expect(Buffer.from(qpDecode(qp)).equals(Buffer.from(body))).toBe(true);
  });

  test('lines over 998 bytes count as not 7-bit', () => {
    const input = bytes('Content-Type: text/plain\r\n\r\n' + 'a'.repeat(999) + '\r\n');
    const out = prepareForSigning(input);
    expect(out).not.toBe(input);
    expect(str(out)).toContain('Content-Transfer-Encoding: quoted-printable\r\n\r\n');
    const ok = bytes('Content-Type: text/plain\r\n\r\n' + 'a'.repeat(998) + '\r\n');
    expect(prepareForSigning(ok)).toBe(ok);
  });

  test('multipart: only the non-7-bit leaf is re-encoded (base64 for non-text), the rest is byte-exact', () => {
    const bin = new Uint8Array(randomBytes(500));
    bin.set([10, 13, 13, 10, 0, 10], 10); // bare LF, CRLF, NUL: binary data must not be line-end-converted
    const head =
      'Content-Type: multipart/mixed; boundary="b"\r\n\r\npreamble\r\n--b\r\nContent-Type: text/plain\r\n\r\nseven bit\r\n--b\r\n' +
      'Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\nContent-Disposition: attachment; filename=x.bin\r\n\r\n';
    const tail = '\r\n--b\r\nContent-Type: multipart/signed; boundary=s; protocol="application/pkcs7-signature"\r\n\r\n--s\r\n\r\n\u00ff\r\n--s\r\nContent-Type: application/pkcs7-signature\r\n\r\n\u0030\r\n--s--\r\n--b--\r\nepilogue\r\n';
    const input = new Uint8Array([...bytes(head), ...bin, ...bytes(tail)]);
    const out = prepareForSigning(input);
    const e = parseEntity(out);
    const parts = splitMultipart(e, 'b');
    expect(str(parts[0]!)).toBe('Content-Type: text/plain\r\n\r\nseven bit');
    const att = parseEntity(parts[1]!);
    expect(getHeader(att, 'content-transfer-encoding')).toBe('base64');
    expect(getHeader(att, 'content-disposition')).toBe('attachment; filename=x.bin');
    expect(Buffer.from(decodeBase64(att.body)).equals(Buffer.from(bin))).toBe(true);
    // The nested multipart/signed is untouched, 8-bit and all.
    expect(str(parts[2]!)).toBe(tail.slice(7, tail.indexOf('\r\n--b--')));
    expect(str(out).startsWith('Content-Type: multipart/mixed; boundary="b"\r\n\r\npreamble\r\n--b\r\n')).toBe(true);
    expect(str(out).endsWith('\r\n--b--\r\nepilogue\r\n')).toBe(true);
  });

  test('LF multipart structure is canonicalised, binary bytes are kept exactly', () => {
    const bin = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 10, 13, 10, 0, 0xff, 10]);
    const input = new Uint8Array([
      ...bytes('Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nline\n--b\nContent-Type: image/png\nContent-Transfer-Encoding: binary\n\n'),
      ...bin,
      ...bytes('\n--b--\n'),
    ]);
    const out = prepareForSigning(input);
    expect(/(^|[^\r])\n/.test(str(out))).toBe(false);
    const parts = splitMultipart(parseEntity(out), 'b');
    expect(str(parts[0]!)).toBe('Content-Type: text/plain\r\n\r\nline');
    const png = parseEntity(parts[1]!);
    expect(str(png.raw.subarray(0, png.headerEnd))).toBe('Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n');
    expect([...decodeBase64(png.body)]).toEqual([...bin]);
    expect(str(out).endsWith('\r\n--b--\r\n')).toBe(true);
  });

  test('message/rfc822 content is walked into; depth is limited', () => {
    const inner = 'Content-Type: text/plain\r\n\r\n\u00e9\r\n';
    const out = prepareForSigning(bytes('Content-Type: message/rfc822\r\n\r\n' + inner));
    expect(str(out)).toBe('Content-Type: message/rfc822\r\n\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=E9\r\n');
    let deep = 'Content-Type: text/plain\r\n\r\nx\r\n';
    for (let i = 0; i < 40; i++) deep = 'Content-Type: message/rfc822\r\n\r\n' + deep;
    expect(err(() => prepareForSigning(bytes(deep))).code).toBe('ERR_MIME_LIMIT_EXCEEDED');
    expect(prepareForSigning(bytes(deep), { maxDepth: 50 }).length).toBeGreaterThan(0);
  });

  test('a base64 leaf holding 8-bit data is MIMEInvalid', () => {
    const bad = bytes('Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n\u00ff\u00ff');
    expect(err(() => prepareForSigning(bad))).toBeInstanceOf(MIMEInvalid);
  });
});

describe('interop with openssl cms', () => {
  const haveOpenssl = hasPeer('openssl', ['version']);
  let dir = '';
  let cert = '';
  let key = '';
  beforeAll(() => {
    if (!haveOpenssl) return;
    dir = tmp('smime-mime-');
    cert = join(dir, 'cert.pem');
    key = join(dir, 'key.pem');
    run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=mime test/emailAddress=test@example.com', '-days', '2']);
  });

  test.skipIf(!haveOpenssl)('enveloped-data: buildPkcs7Mime output is read by `openssl cms -inform SMIME`', () => {
    const message = bytes('From: test@example.com\nTo: test@example.com\nSubject: interop\nMIME-Version: 1.0\nContent-Type: text/plain\n\nsecret\nline 2\n');
    const { outerHeaders, inner } = splitForProtection(message);
    writeFileSync(join(dir, 'inner'), inner);
    const der = run('openssl', ['cms', '-encrypt', '-binary', '-aes256', '-in', join(dir, 'inner'), '-outform', 'DER', cert]);
    const built = buildPkcs7Mime(outerHeaders, 'enveloped-data', der);
    writeFileSync(join(dir, 'built.eml'), built);
    // openssl re-extracts exactly our DER ...
    const back = run('openssl', ['cms', '-cmsout', '-inform', 'SMIME', '-in', join(dir, 'built.eml'), '-outform', 'DER']);
    expect(Buffer.from(back).equals(Buffer.from(der))).toBe(true);
    // ... and decrypts it to the inner entity.
    const plain = run('openssl', ['cms', '-decrypt', '-binary', '-inform', 'SMIME', '-in', join(dir, 'built.eml'), '-inkey', key, '-recip', cert]);
    expect(str(plain)).toBe(str(inner));
    // extractCms agrees.
    const x = extractCms(built);
    expect(x.kind).toBe('enveloped');
    expect(Buffer.from(x.der).equals(Buffer.from(der))).toBe(true);
    expect(getHeader(x, 'subject')).toBe('interop');
  });

  test.skipIf(!haveOpenssl)('signed-data (opaque) and a 1 MiB body', () => {
    const body = new Uint8Array(randomBytes(1 << 20));
    const entity = new Uint8Array([...bytes('Content-Type: application/octet-stream\r\n\r\n'), ...body]);
    const prepared = prepareForSigning(entity);
    writeFileSync(join(dir, 'entity'), prepared);
    const der = run('openssl', ['cms', '-sign', '-binary', '-nodetach', '-md', 'sha256', '-in', join(dir, 'entity'), '-signer', cert, '-inkey', key, '-outform', 'DER']);
    const built = buildPkcs7Mime(bytes('Subject: signed\r\n'), 'signed-data', der);
    writeFileSync(join(dir, 'signed.eml'), built);
    const v = tryRun('openssl', ['cms', '-verify', '-binary', '-inform', 'SMIME', '-in', join(dir, 'signed.eml'), '-CAfile', cert]);
    expect(v.stderr).toContain('Verification successful');
    expect(Buffer.from(v.stdout).equals(Buffer.from(prepared))).toBe(true);
    expect(Buffer.from(extractCms(built).der).equals(Buffer.from(der))).toBe(true);
  });

  test.skipIf(!haveOpenssl)('multipart/signed made by openssl: the signed part verifies byte for byte', () => {
    const content = bytes('Content-Type: text/plain\r\n\r\nclear-signed\r\n\r\ntext with a trailing empty line\r\n\r\n');
    writeFileSync(join(dir, 'content'), content);
    const signed = run('openssl', ['cms', '-sign', '-binary', '-in', join(dir, 'content'), '-signer', cert, '-inkey', key, '-outform', 'SMIME', '-md', 'sha256']);
    const r = parseMultipartSigned(signed);
    expect(str(r.signedPart)).toBe(str(content));
    expect(r.micalg).toBe('sha-256');
    // And in LF form (as an mbox would store it).
    const lf = parseMultipartSigned(bytes(str(signed).replace(/\r\n/g, '\n')));
    expect(str(lf.signedPart)).toBe(str(content));
    writeFileSync(join(dir, 'sig.der'), r.signature);
    writeFileSync(join(dir, 'part'), r.signedPart);
    const v = tryRun('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', join(dir, 'sig.der'), '-content', join(dir, 'part'), '-CAfile', cert, '-out', join(dir, 'out')]);
    expect(v.stderr).toContain('Verification successful');
    expect(str(new Uint8Array(readFileSync(join(dir, 'out'))))).toBe(str(content));
  });
});
