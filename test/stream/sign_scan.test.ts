/**
 * signStream decided up front (issue 16): `scanForSigning` reads a message once and `signStream(..., { scan })` then
 * signs exactly the entity signMessage signs (byte for byte, for 7-bit, 8-bit text declared 7bit or not at all, a
 * plain text file without headers, binary, long lines, a multipart mixing them); `sevenBitText: 'quoted-printable'`
 * (a pipe) encodes 7bit or undeclared text quoted-printable from the start, so nothing is refused half-way, and it
 * verifies; input that changed between the passes errors the stream.
 */
import { describe, expect, it } from 'vitest';
import { scanForSigning, signMessage, signStream, verifyMessage, type CertificateStore } from '../../src/index.js';
import { MIMEInvalid } from '../../src/errors.js';
import { storeWith } from '../_helpers/identities.js';
import { collect, enc, source } from './_streams.js';

let storeP: Promise<CertificateStore> | undefined;
const store = (): Promise<CertificateStore> => (storeP ??= storeWith(['alice-sign']));

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const HEAD = 'From: alice@example.com\r\nTo: bob@example.com\r\nSubject: scan\r\n';
const longLine = 'x'.repeat(1500);
const binary = Uint8Array.from({ length: 5000 }, (_, i) => (i * 131 + (i >> 3)) & 0xff);

/** The inputs: name and bytes. */
const INPUTS: [string, Uint8Array][] = [
  ['7-bit text', enc(`${HEAD}Content-Type: text/plain; charset=us-ascii\r\n\r\nHello Bob.\r\nFrom here = on.  \r\n`)],
  ['8-bit text declared 7bit', latin1(`${HEAD}Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 7bit\r\n\r\ncaf\u00e9 au lait\r\n`)],
  ['8-bit text, no Content-Transfer-Encoding, LF', enc(`${HEAD}Content-Type: text/plain; charset=utf-8\n\nna\u00efve caf\u00e9\nsecond line\n`.replace(/\r\n/g, '\n'))],
  ['8-bit text declared 8bit but clean', enc(`${HEAD}Content-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\nplain ascii\r\n`)],
  ['8-bit text, an empty header section', enc('\nDear Bob,\n\nthe caf\u00e9 is open.\n')],
  ['7-bit text, an empty header section', enc('\nDear Bob,\n\nsee you there.\n')],
  ['a long line', enc(`${HEAD}Content-Type: text/plain\r\n\r\n${longLine}\r\nshort\r\n`)],
  ['binary, no Content-Transfer-Encoding', new Uint8Array([...enc(`${HEAD}Content-Type: application/octet-stream\r\n\r\n`), ...binary])],
  ['non-text in 7-bit lines', enc(`${HEAD}Content-Type: application/json\r\n\r\n{"a": 1}\n{"b": 2}\n`)],
  [
    'multipart: 7-bit, 8-bit, binary, long line, nested message',
    new Uint8Array([
      ...latin1(
        `${HEAD}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\npreamble\r\n--b1\r\nContent-Type: text/plain\r\n\r\nclean\r\n--b1\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nd\u00e9j\u00e0 vu\r\n--b1\r\nContent-Type: text/html\r\n\r\n${longLine}\r\n--b1\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: text/plain\r\n\r\n\u00fcber\r\n--b1\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      ...binary,
      ...enc('\r\n--b1--\r\nepilogue\r\n'),
    ]),
  ],
];

/** The signed entity of a signed message (verifyMessage's content), and its signers' statuses. */
async function signedEntity(signed: Uint8Array, s: CertificateStore): Promise<{ content: string; statuses: string[] }> {
  const r = await verifyMessage(signed, { store: s });
  return { content: Buffer.from(r.content).toString('latin1'), statuses: r.signers.map((x) => x.status) };
}

describe('scanForSigning then signStream: signMessage\'s entity, byte for byte', () => {
  for (const [name, msg] of INPUTS) {
    it(name, async () => {
      const s = await store();
      const want = await signedEntity(await signMessage(msg, { store: s, from: 'alice@example.com' }), s);
      expect(want.statuses).toEqual(['valid']);
      for (const size of [7, 4096, msg.length]) {
        const scan = await scanForSigning(source(msg, size).stream, { store: s });
        for (const detached of [true, false]) {
          const out = await collect(await signStream(source(msg, size).stream, { store: s, from: 'alice@example.com', detached, scan }));
          const got = await signedEntity(out, s);
          expect(got.statuses).toEqual(['valid']);
          expect(got.content).toBe(want.content);
        }
      }
    });
  }
});

describe("sevenBitText: 'quoted-printable' (input read once)", () => {
  it('8-bit text declared 7bit or undeclared: quoted-printable from the start, valid; the default refuses half-way', async () => {
    const s = await store();
    for (const [, msg] of INPUTS.filter(([n]) => /^8-bit text(?!.*clean)|multipart/.test(n))) {
      const out = await collect(await signStream(source(msg, 100).stream, { store: s, from: 'alice@example.com', sevenBitText: 'quoted-printable' }));
      const got = await signedEntity(out, s);
      expect(got.statuses).toEqual(['valid']);
      expect(got.content).toMatch(/Content-Transfer-Encoding: quoted-printable\r\n/);
      expect(/[\x80-\xff]/.test(got.content)).toBe(false);
      await expect(collect(await signStream(source(msg, 100).stream, { store: s, from: 'alice@example.com' }))).rejects.toBeInstanceOf(MIMEInvalid);
    }
  });

  it('7-bit text stays readable: the quoted-printable of clean lines is the lines', async () => {
    const s = await store();
    const out = await collect(await signStream(source(INPUTS[5]![1], 3).stream, { store: s, from: 'alice@example.com', sevenBitText: 'quoted-printable' }));
    const got = await signedEntity(out, s);
    expect(got.content).toBe('Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nDear Bob,\r\n\r\nsee you there.\r\n');
  });
});

describe('the two passes must read the same bytes', () => {
  it('a part the scan found clean that now holds 8-bit data, or another count of parts: MIMEInvalid', async () => {
    const s = await store();
    const clean = INPUTS[0]![1];
    const scan = await scanForSigning(source(clean, 4096).stream, { store: s });
    expect(scan).toEqual({ clean: [true], bytes: clean.length });
    const dirty = latin1(Buffer.from(clean).toString('latin1').replace('Hello', 'H\u00e9llo'));
    await expect(collect(await signStream(source(dirty, 4096).stream, { store: s, from: 'alice@example.com', scan }))).rejects.toBeInstanceOf(MIMEInvalid);
    const multi = INPUTS[INPUTS.length - 1]![1];
    await expect(collect(await signStream(source(multi, 4096).stream, { store: s, from: 'alice@example.com', scan }))).rejects.toBeInstanceOf(MIMEInvalid);
    await expect(signStream(source(clean, 4096).stream, { store: s, from: 'alice@example.com', scan: { clean: ['x'] } as never })).rejects.toBeInstanceOf(TypeError);
    await expect(signStream(source(clean, 4096).stream, { store: s, from: 'alice@example.com', sevenBitText: 'qp' as never })).rejects.toBeInstanceOf(RangeError);
  });
});
