/** The MIME shapes decryptMessage accepts, and the shape encryptMessage writes (RFC 8551 §3, issue "foundation"). */
import { describe, expect, it } from 'vitest';
import { decryptMessage, encryptMessage } from '../../src/index.js';
import { storeWith, vfile } from '../_helpers/identities.js';

const td = new TextDecoder();

describe('MIME input and output', async () => {
  const store = await storeWith(['alice-enc-2025']);
  const lf = td.decode(vfile('openssl/enc-rsa15-aes256cbc.eml'));
  const body = lf.slice(lf.indexOf('\n\n') + 2);
  const plain = vfile('openssl/plain.txt');

  const variants: Record<string, string> = {
    'LF line ends (as stored)': lf,
    'CRLF line ends': lf.replace(/\n/g, '\r\n'),
    'application/x-pkcs7-mime': `Content-Type: application/x-pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"\nContent-Transfer-Encoding: base64\n\n${body}`,
    'application/octet-stream named *.p7m': `Content-Type: application/octet-stream; name="smime.p7m"\nContent-Transfer-Encoding: base64\n\n${body}`,
    'octet-stream with the name only in Content-Disposition': `Content-Type: application/octet-stream\nContent-Disposition: attachment; filename="mail.P7M"\nContent-Transfer-Encoding: base64\n\n${body}`,
    'no smime-type parameter': `Content-Type: application/pkcs7-mime\nContent-Transfer-Encoding: base64\n\n${body}`,
  };
  for (const [name, msg] of Object.entries(variants)) {
    it(`decrypts ${name}, byte for byte`, async () => {
      const r = await decryptMessage(msg, { store });
      expect(r.content).toEqual(plain);
    });
  }

  it('raw DER input', async () => {
    const der = new Uint8Array(Buffer.from(body, 'base64'));
    expect((await decryptMessage(der, { store })).content).toEqual(plain);
  });

  it('output: headers outside, Content-* inside, 76-column CRLF base64, attachment disposition', async () => {
    const msg =
      'From: Alice <alice@example.com>\nTo: alice@example.com\nCc: x@example.com\nSubject: =?utf-8?q?caf=C3=A9?=\nDate: Sun, 29 Nov 2026 10:00:00 +0000\nMessage-ID: <1@example.com>\n' +
      'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nBody line 1\nBody line 2\n';
    const out = td.decode(await encryptMessage(msg, { store, to: ['alice@example.com'] }));
    const [head, b64] = out.split('\r\n\r\n');
    for (const h of ['From: Alice <alice@example.com>', 'To: alice@example.com', 'Cc: x@example.com', 'Subject: =?utf-8?q?caf=C3=A9?=', 'Date: ', 'Message-ID: <1@example.com>', 'MIME-Version: 1.0'])
      expect(head).toContain(h);
    expect(head).toMatch(/Content-Type: application\/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"/);
    expect(head).toContain('Content-Disposition: attachment; filename="smime.p7m"');
    expect(head).toContain('Content-Transfer-Encoding: base64');
    expect(head).not.toContain('text/plain');
    expect(head.split('\r\n').filter((l) => /^Content-Type:/i.test(l))).toHaveLength(1);
    const lines = b64!.split('\r\n');
    expect(lines[lines.length - 1]).toBe('');
    for (const l of lines.slice(0, -2)) expect(l).toHaveLength(76);
    expect(out).not.toMatch(/[^\r]\n/);
    const r = await decryptMessage(out, { store });
    expect(td.decode(r.content)).toBe('Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nBody line 1\r\nBody line 2\r\n');
  });
});
