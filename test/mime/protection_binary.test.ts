/**
 * A body declared `Content-Transfer-Encoding: binary` is protected byte for byte (src/mime/protection.ts): its CR and
 * LF bytes are data, so splitForProtection does not canonicalise it (it did, and so changed binary attachments), and
 * encryptMessage, encryptStream and signMessage (whose prepareForSigning then base64-encodes the original bytes)
 * keep every byte. Text bodies are still made canonical.
 */
import { describe, expect, it } from 'vitest';
import { decryptMessage, encryptMessage, encryptStream, signMessage, verifyMessage } from '../../src/index.js';
import { splitForProtection } from '../../src/mime/protection.js';
import { parseEntity, getHeader } from '../../src/mime/entity.js';
import { decodeBase64 } from '../../src/lib/base64.js';
import { storeWith } from '../_helpers/identities.js';
import { collect, source } from '../stream/_streams.js';

const latin1 = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

/** Bytes with bare LF, bare CR, CR LF and LF CR in them, and every byte value. */
const DATA = new Uint8Array([...latin1('a\nb\rc\r\nd\n\re\n\n'), ...Array.from({ length: 512 }, (_, i) => i % 256), 0x0a]);

const message = (cte: string, type = 'application/octet-stream') =>
  new Uint8Array([...latin1(`From: alice@example.com\nTo: bob@example.com\nSubject: data\nContent-Type: ${type}\nContent-Transfer-Encoding: ${cte}\n\n`), ...DATA]);

/** The body of an entity (after its header section). */
const bodyOf = (entity: Uint8Array) => parseEntity(entity).body;

describe('splitForProtection and binary bodies', () => {
  it('a body declared binary goes in byte for byte; the headers are still CRLF', () => {
    for (const cte of ['binary', ' Binary ']) {
      const { inner } = splitForProtection(message(cte));
      expect(Buffer.from(inner.subarray(0, inner.indexOf(0x0a) + 1)).toString('latin1')).toBe('Content-Type: application/octet-stream\r\n');
      expect(Buffer.from(bodyOf(inner)).equals(Buffer.from(DATA)), cte).toBe(true);
    }
  });

  it('a text body (8bit, 7bit) is still made canonical', () => {
    for (const cte of ['8bit', '7bit']) {
      const body = bodyOf(splitForProtection(message(cte, 'text/plain')).inner);
      expect(body.length).toBeGreaterThan(DATA.length);
      expect(Buffer.from(body).includes(Buffer.from('a\r\nb\r\nc\r\nd\r\n\r\ne'))).toBe(true);
    }
  });

  it('encryptMessage and encryptStream keep the bytes: decryptMessage gives them back, the same from both', async () => {
    const store = await storeWith(['alice-enc-2025']);
    const opts = { store, to: ['alice@example.com'], cipher: 'aes-256-gcm' as const };
    const single = message('binary');
    const multipart = new Uint8Array([
      ...latin1('From: alice@example.com\nContent-Type: multipart/mixed; boundary=zz\nContent-Transfer-Encoding: binary\n\n--zz\nContent-Type: text/plain\n\nhi\n--zz\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: binary\n\n'),
      ...DATA,
      ...latin1('\n--zz--\n'),
    ]);
    for (const m of [single, multipart]) {
      const buffered = await decryptMessage(await encryptMessage(m, opts), { store });
      const streamed = await decryptMessage(await collect(await encryptStream(source(m, 7).stream, opts)), { store });
      expect(Buffer.from(streamed.content).equals(Buffer.from(buffered.content))).toBe(true);
      expect(Buffer.from(buffered.content).includes(Buffer.from(DATA))).toBe(true);
    }
    expect(Buffer.from(bodyOf((await decryptMessage(await encryptMessage(single, opts), { store })).content)).equals(Buffer.from(DATA))).toBe(true);
  });

  it('signMessage base64-encodes the original bytes of a binary body (prepareForSigning), verified', async () => {
    const store = await storeWith(['alice-sign']);
    for (const detached of [true, false]) {
      const r = await verifyMessage(await signMessage(message('binary'), { store, from: 'alice@example.com', detached }), { store, harvest: false });
      expect(r.signers.map((s) => s.status)).toEqual(['valid']);
      const e = parseEntity(r.content);
      expect(getHeader(e, 'content-transfer-encoding')?.trim().toLowerCase()).toBe('base64');
      expect(Buffer.from(decodeBase64(e.body)).equals(Buffer.from(DATA))).toBe(true);
    }
  });
});
