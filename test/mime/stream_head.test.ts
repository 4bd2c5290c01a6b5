/**
 * EntityHeadReader (src/mime/stream_head.ts): the head of an S/MIME message pushed in pieces gives what extractCms
 * gives for the whole message (headers, smime-type, the body), at every split point; refusals as extractCms's.
 * HeaderSectionBuffer, under it and readHeadSection: every pair of split points, the limit, linear time.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { EntityHeadReader, HeaderSectionBuffer, headerSectionEnd, type EntityHead } from '../../src/mime/stream_head.js';
import { extractCms } from '../../src/mime/extract.js';
import { Base64Decoder } from '../../src/lib/base64_stream.js';
import { MIMEInvalid, MIMELimitExceeded } from '../../src/errors.js';

const dir = new URL('../../vectors/openssl/', import.meta.url);
const enc = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

/** Pushes `pieces`; returns the head and the whole body (the rest plus the later pieces). */
function read(pieces: Uint8Array[], limits?: { maxHeaderBytes?: number }): { head: EntityHead; body: Uint8Array } {
  const r = new EntityHeadReader(limits);
  let head: EntityHead | undefined;
  const body: Uint8Array[] = [];
  for (const p of pieces) {
    if (head !== undefined) body.push(p);
    else head = r.push(p);
  }
  head ??= r.finish();
  return { head, body: Buffer.concat([head.rest, ...body]) };
}

/** The CMS of the body, decoded as the head says. */
function cmsOf(head: EntityHead, body: Uint8Array): Uint8Array {
  if (head.body === 'binary') return body;
  const d = new Base64Decoder();
  return Buffer.concat([d.write(body), d.end()]);
}

describe('EntityHeadReader', () => {
  const files = readdirSync(dir).filter((f) => f.startsWith('enc-') && f.endsWith('.eml'));
  it('finds what extractCms finds, at every split point of the head', () => {
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const m = new Uint8Array(readFileSync(new URL(f, dir)));
      const x = extractCms(m);
      // every split in the header section and a little past it
      const end = Math.min(m.length, headerSectionEnd(m) + 8);
      for (let a = 0; a <= end; a++) {
        const { head, body } = read([m.subarray(0, a), m.subarray(a)]);
        expect(head.kind, f).toBe(x.kind);
        expect(head.smimeType, f).toBe(x.smimeType);
        expect(head.headers.map((h) => [h.name, h.value]), f).toEqual(x.headers.map((h) => [h.name, h.value]));
        if (a % 17 === 0) expect(Buffer.from(cmsOf(head, body)).equals(Buffer.from(x.der)), `${f} at ${a}`).toBe(true);
      }
      // one byte at a time, LF line ends
      const lf = enc(Buffer.from(m).toString('latin1').replace(/\r\n/g, '\n'));
      const { head, body } = read([...lf.subarray(0, 1500)].map((b): Uint8Array => new Uint8Array([b])).concat([lf.subarray(1500)]));
      expect(head.smimeType).toBe(x.smimeType);
      expect(Buffer.from(cmsOf(head, body)).equals(Buffer.from(x.der)), f).toBe(true);
    }
  });

  it('takes raw DER/BER (first byte 0x30) as binary body with no headers', () => {
    const der = extractCms(new Uint8Array(readFileSync(new URL('enc-stream.eml', dir)))).der;
    const { head, body } = read([der.subarray(0, 1), der.subarray(1)]);
    expect(head).toMatchObject({ kind: 'unknown', headers: [], body: 'binary' });
    expect(Buffer.from(body).equals(Buffer.from(der))).toBe(true);
  });

  it('reads a binary body by its Content-Transfer-Encoding', () => {
    const { head, body } = read([enc('Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\nContent-Transfer-Encoding: binary\r\n\r\n0\x80'), enc('\x00\x00')]);
    expect(head.body).toBe('binary');
    expect(head.kind).toBe('enveloped');
    expect([...body]).toEqual([0x30, 0x80, 0, 0]);
  });

  it('refuses what extractCms refuses', () => {
    expect(() => read([enc('Content-Type: text/plain\r\n\r\nhello')])).toThrow(MIMEInvalid);
    expect(() => read([enc('Subject: x\r\n\r\nhello')])).toThrow(/no Content-Type/);
    expect(() => read([enc('Content-Type: application/pkcs7-mime\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nx')])).toThrow(/quoted-printable/);
    expect(() => read([enc('not a header\r\n\r\n')])).toThrow(MIMEInvalid);
    expect(() => read([])).toThrow(/empty body/);
    // a header section that never ends: within maxHeaderBytes, a limit error past it
    const big = enc('Content-Type: application/pkcs7-mime\r\nX-Pad: ' + 'a'.repeat(5000) + '\r\n');
    const pieces = Array.from({ length: Math.ceil(big.length / 100) }, (_, i) => big.subarray(i * 100, i * 100 + 100));
    expect(() => read(pieces, { maxHeaderBytes: 4096 })).toThrow(MIMELimitExceeded);
  });

  it('stops holding bytes at the limit, before the end of a huge header section', () => {
    const r = new EntityHeadReader({ maxHeaderBytes: 1000 });
    r.push(enc('Content-Type: application/pkcs7-mime\r\n'));
    let thrown: unknown;
    try {
      for (let i = 0; i < 1000; i++) r.push(enc('X-Pad: ' + 'a'.repeat(90) + '\r\n'));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(MIMELimitExceeded);
    expect((thrown as MIMELimitExceeded).limit).toBe('maxHeaderBytes');
  });
});

describe('HeaderSectionBuffer (the one gatherer of a stream header section)', () => {
  it('finds the end headerSectionEnd finds in the whole, at every pair of split points, CRLF and LF, and keeps the rest', () => {
    for (const text of ['A: 1\r\nB: 2\r\n\r\nbody\r\n', 'A: 1\nB: 2\n\nbody', '\r\nbody', '\nx', 'A: 1\r\n\r\n']) {
      const whole = enc(text);
      const end = headerSectionEnd(whole);
      for (let i = 0; i <= whole.length; i++) {
        for (let j = i; j <= whole.length; j++) {
          const b = new HeaderSectionBuffer(1000);
          let found;
          let after: Uint8Array[] = [];
          for (const p of [whole.subarray(0, i), whole.subarray(i, j), whole.subarray(j)]) {
            if (found) after.push(p);
            else found = b.push(p);
          }
          const label = `${JSON.stringify(text)} split at ${i}, ${j}`;
          expect(found, label).toBeDefined();
          expect(Buffer.from(found!.section).toString('latin1'), label).toBe(text.slice(0, end));
          expect(Buffer.concat([found!.rest, ...after]).toString('latin1'), label).toBe(text.slice(end));
          after = [];
        }
      }
    }
  });

  it('holds what it has (no empty line yet), and refuses more than maxHeaderBytes without one', () => {
    const b = new HeaderSectionBuffer(10);
    expect(b.push(enc('Subject: '))).toBeUndefined();
    expect(Buffer.from(b.held).toString('latin1')).toBe('Subject: ');
    expect(() => b.push(enc('xx'))).toThrow(MIMELimitExceeded);
  });

  it('1-byte pieces of a 1 MiB header section take linear time (a doubling buffer, the search resumed)', () => {
    const text = enc('X: ' + 'y'.repeat(1 << 20) + '\r\n\r\n');
    const b = new HeaderSectionBuffer(2 << 20);
    let found;
    for (let i = 0; i < text.length && !found; i++) found = b.push(text.subarray(i, i + 1));
    expect(found!.section.length).toBe(text.length);
  });
});
