/**
 * The Legacy Display Element's window (RFC 9788 §2.1.2; mime/header_protection.ts `legacyDisplayWindow`): one rule for
 * the buffer functions and the streams. Reading, an element is reported only when it ends within the first
 * `maxHeaderBytes` of the payload's body: decryptMessage/decryptStream, verifyMessage/verifyStream and
 * openMessage/openStream give the same `headerProtection`, field by field, for an element ending one byte inside,
 * exactly at and one byte past the limit. Writing, encryptMessage/encryptStream and signMessage/signStream refuse
 * alike (`MIMELimitExceeded`) where the element's place is past the look-ahead or where the element would end past the
 * window, and write the same entity otherwise. The limit is set small (`limits.maxHeaderBytes`) so the inputs stay small.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CertificateStore,
  decryptMessage,
  decryptStream,
  encryptMessage,
  encryptStream,
  openMessage,
  openStream,
  signMessage,
  signStream,
  verifyMessage,
  verifyStream,
  MIMELimitExceeded,
} from '../../src/index.js';
import { storeWith } from '../_helpers/identities.js';
import { chunked, collect, enc } from './_streams.js';

const td = new TextDecoder();
const t = (u: Uint8Array) => td.decode(u);
const MAX = 1024;
const limits = { maxHeaderBytes: MAX };
const CHUNKS = [7, 4096, Infinity];

const HEAD = 'From: Alice <alice@example.com>\r\nTo: alice@example.com\r\nSubject: Quarterly numbers\r\nDate: Mon, 30 Nov 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n';
const TAIL = 'The numbers are good.\r\n'.repeat(100);

let alice: CertificateStore;
beforeAll(async () => {
  alice = await storeWith(['alice-sign', 'alice-enc-2025']);
});

/** A message whose body holds a Legacy Display Element (already marked) ending `d` bytes from maxHeaderBytes into the body. */
function withElementAt(d: number, shape: 'text' | 'multipart'): string {
  if (shape === 'text') {
    // Short lines (a signed text keeps its lines as they are): Subject, Comments lines, the last one sized to fit.
    const lines = ['Subject: Quarterly numbers'];
    let n = lines[0]!.length + 2 + 2;
    while (MAX + d - n > 80) {
      lines.push(`Comments: ${'c'.repeat(50)}`);
      n += 62;
    }
    lines.push(`Comments: ${'c'.repeat(MAX + d - n - 12)}`);
    const element = `${lines.join('\r\n')}\r\n\r\n`;
    expect(element.length).toBe(MAX + d);
    return `${HEAD}Content-Type: text/plain; charset=utf-8; hp-legacy-display="1"\r\n\r\n${element}${TAIL}`;
  }
  const body = (filler: string) =>
    `--q\r\nContent-Type: application/octet-stream\r\n\r\n${filler}\r\n--q\r\nContent-Type: text/plain; hp-legacy-display="1"\r\n\r\n` +
    `Subject: Quarterly numbers\r\n\r\n${TAIL}--q--\r\n`;
  const end = (b: string) => b.indexOf('Subject: Quarterly numbers\r\n\r\n') + 'Subject: Quarterly numbers\r\n\r\n'.length;
  const filler = 'x'.repeat(MAX + d - end(body('')));
  const b = body(filler);
  expect(end(b)).toBe(MAX + d);
  return `${HEAD}Content-Type: multipart/mixed; boundary="q"\r\n\r\n${b}`;
}

describe('reading: an element ending within maxHeaderBytes of the body is reported by both sides, one past it by neither', () => {
  for (const shape of ['text', 'multipart'] as const) {
    for (const d of [-1, 0, 1]) {
      it(`${shape}, the element ends ${d < 0 ? 'one byte inside' : d === 0 ? 'exactly at' : 'one byte past'} the limit`, async () => {
        const msg = withElementAt(d, shape);
        const element = msg.slice(msg.indexOf('\r\n\r\n') + 4).split('\r\n\r\n')[0]!;
        const expected = d <= 0 ? (shape === 'text' ? element : 'Subject: Quarterly numbers') : undefined;
        // Encrypted (hp="cipher"): decryptMessage, decryptStream, openMessage, openStream.
        const m = await encryptMessage(msg, { store: alice, to: ['alice@example.com'], cipher: 'aes-256-cbc', protectHeaders: true, limits });
        const b = await decryptMessage(m, { store: alice, limits });
        expect(b.headerProtection?.hp).toBe('cipher');
        expect(b.headerProtection?.legacyDisplay).toBe(expected);
        const o = await openMessage(m, { store: alice, limits });
        expect(o.headerProtection).toEqual(b.headerProtection);
        for (const size of CHUNKS) {
          const s = await decryptStream(chunked(m, size), { store: alice, limits });
          expect(t(await collect(s.content))).toBe(t(b.content));
          expect((await s.done).headerProtection).toEqual(b.headerProtection);
          const os = await openStream(chunked(m, size), { store: alice, limits });
          expect(t(await collect(os.content))).toBe(t(o.content));
          expect((await os.done).headerProtection).toEqual(o.headerProtection);
        }
        // Signed (hp="clear"), multipart/signed and opaque: verifyMessage, verifyStream, openMessage, openStream.
        for (const detached of [true, false]) {
          const sm = await signMessage(msg, { store: alice, from: 'alice@example.com', protectHeaders: true, detached, limits });
          const v = await verifyMessage(sm, { store: alice, harvest: false, limits });
          expect(v.headerProtection?.hp).toBe('clear');
          expect(v.headerProtection?.legacyDisplay).toBe(expected);
          const ov = await openMessage(sm, { store: alice, limits });
          expect(ov.headerProtection).toEqual(v.headerProtection);
          for (const size of CHUNKS) {
            const s = await verifyStream(chunked(sm, size), { store: alice, harvest: false, limits });
            await collect(s.content);
            expect((await s.done).headerProtection).toEqual(v.headerProtection);
            const os = await openStream(chunked(sm, size), { store: alice, limits });
            await collect(os.content);
            expect((await os.done).headerProtection).toEqual(ov.headerProtection);
          }
        }
      });
    }
  }
});

/** What encryptMessage and encryptStream (and signMessage/signStream for encryption) do with `msg`: the same refusal or the same entity. */
async function writersAgree(msg: string, refused: RegExp | undefined): Promise<void> {
  const eopts = { store: alice, to: ['alice@example.com'], cipher: 'aes-256-cbc' as const, protectHeaders: true, legacyDisplay: true, limits };
  const sopts = { store: alice, from: 'alice@example.com', protectHeaders: true, headerConfidentiality: 'baseline' as const, legacyDisplay: true, detached: false, limits };
  if (refused) {
    await expect(encryptMessage(msg, eopts)).rejects.toThrow(refused);
    await expect(encryptMessage(msg, eopts)).rejects.toBeInstanceOf(MIMELimitExceeded);
    await expect(signMessage(msg, sopts)).rejects.toBeInstanceOf(MIMELimitExceeded);
    for (const size of CHUNKS) {
      // Refused before the promise resolves: nothing emitted.
      await expect(encryptStream(chunked(enc(msg), size), eopts)).rejects.toThrow(refused);
      await expect(signStream(chunked(enc(msg), size), sopts)).rejects.toBeInstanceOf(MIMELimitExceeded);
    }
    return;
  }
  const b = await decryptMessage(await encryptMessage(msg, eopts), { store: alice, limits });
  expect(b.headerProtection?.legacyDisplay).toBe('Subject: Quarterly numbers');
  const sb = await verifyMessage(await signMessage(msg, sopts), { store: alice, harvest: false, limits });
  expect(sb.headerProtection?.legacyDisplay).toBe('Subject: Quarterly numbers');
  for (const size of CHUNKS) {
    const d = await decryptMessage(await collect(await encryptStream(chunked(enc(msg), size), eopts)), { store: alice, limits });
    expect(t(d.content)).toBe(t(b.content));
    expect(d.headerProtection).toEqual(b.headerProtection);
    const sv = await verifyMessage(await collect(await signStream(chunked(enc(msg), size), sopts)), { store: alice, harvest: false, limits });
    expect(t(sv.content)).toBe(t(sb.content));
    expect(sv.headerProtection).toEqual(sb.headerProtection);
  }
}

describe('writing: encryptMessage/encryptStream and signMessage/signStream refuse alike or write the same entity', () => {
  const html = (before: number, tagLine = '<body>\r\n') => `${HEAD}Content-Type: text/html\r\n\r\n<html><head>\r\n${'<meta name="x">\r\n'.repeat(before)}</head>${tagLine}<p>x</p>\r\n${TAIL}</body></html>\r\n`;
  it('a text/html part: written when its <body> tag and the element after it are within maxHeaderBytes of the body; refused by both when the element would end past it, or the tag is past the look-ahead', async () => {
    // Lines of 17 bytes: the tag's line ends 14 + 17n + 15 bytes into the body; the look-ahead is cut at a line end.
    // The element after the tag takes about 95 bytes.
    const last = Math.floor((MAX - 14 - 15) / 17);
    expect(enc(html(last)).length).toBeGreaterThan(MAX + 200);
    await writersAgree(html(last - 7), undefined);
    await writersAgree(html(last), /Legacy Display Element.*maxHeaderBytes/);
    await writersAgree(html(last + 1), /<body> tag.*maxHeaderBytes/);
  });
  it('a body of exactly maxHeaderBytes is planned whole (the element at its top); one byte more is a look-ahead (no <body> tag: refused)', async () => {
    const noTag = (n: number) => {
      const head = `${HEAD}Content-Type: text/html\r\n\r\n`;
      const text = '<p>x</p>\r\n'.repeat(Math.ceil(n / 10) + 1).slice(0, n - 2) + '\r\n';
      expect(text.length).toBe(n);
      return head + text;
    };
    await writersAgree(noTag(MAX), undefined);
    await writersAgree(noTag(MAX + 1), /<body> tag.*maxHeaderBytes/);
  });
  it('a main part that begins near the limit: written while the element ends within maxHeaderBytes of the body, refused once it would end past it', async () => {
    const mixed = (preamble: number) =>
      `${HEAD}Content-Type: multipart/mixed; boundary="q"\r\n\r\n${'p'.repeat(preamble)}\r\n--q\r\nContent-Type: text/plain\r\n\r\n${TAIL}--q\r\n` +
      `Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\neHl6\r\n--q--\r\n`;
    // The part's header section ends at preamble + 33; the element (28 bytes) and the part's new parameter (~25) follow.
    await writersAgree(mixed(MAX - 200), undefined);
    await writersAgree(mixed(MAX - 60), /Legacy Display Element.*maxHeaderBytes/);
    // Past the look-ahead altogether: the first part is not within it.
    await writersAgree(mixed(MAX + 10), /first part of a multipart.*maxHeaderBytes/);
  });
});
