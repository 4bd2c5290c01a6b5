/**
 * encryptStream with `protectHeaders` and an opaque signed message (application/pkcs7-mime; smime-type=signed-data)
 * longer than the look-ahead: its payload's header section is read from the CMS (ops/opaque_signed_head.ts: base64
 * decoded as it comes, the BER walked to the eContent) and the message refused unless it says hp="cipher", as
 * encryptMessage refuses it, on the same code. Signed by signMessage and signStream (with and without protectHeaders
 * and headerConfidentiality) and by `openssl cms -sign -nodetach -stream`; encryptStream and encryptMessage agree (both
 * refuse with the same error, or both encrypt and decryptMessage gives the same entity back); a truncated or garbled
 * payload is an SmimeError before anything is emitted, in both. A multipart/signed message is checked on the same
 * look-ahead by both.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  CertificateStore,
  decryptMessage,
  encryptMessage,
  encryptStream,
  openMessage,
  signMessage,
  signStream,
  MIMELimitExceeded,
  SmimeError,
} from '../../src/index.js';
import { storeWith } from '../_helpers/identities.js';
import { hasPeer, IN_CI, VECTORS } from '../_helpers/env.js';
import { chunked, collect, enc } from './_streams.js';

const td = new TextDecoder();
const t = (u: Uint8Array) => td.decode(u);
const MAX = 1024;
const limits = { maxHeaderBytes: MAX };

const MSG =
  'From: Alice <alice@example.com>\r\nTo: alice@example.com\r\nSubject: Quarterly numbers\r\nDate: Mon, 30 Nov 2026 10:00:00 +0100\r\n' +
  `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${'The numbers are good.\r\n'.repeat(300)}`;

let alice: CertificateStore;
beforeAll(async () => {
  alice = await storeWith(['alice-sign', 'alice-enc-2025']);
});

const eopts = () => ({ store: alice, to: ['alice@example.com'], cipher: 'aes-256-cbc' as const, protectHeaders: true, limits });

/** The error a promise rejects with (undefined when it resolves). */
async function errorOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return e;
  }
}

/** An error as text, the operation's name left out (encryptMessage's and encryptStream's say the same otherwise). */
const said = (e: unknown) => String(e).replace(/encrypt(Message|Stream)/g, 'encrypt…');

/**
 * encryptMessage and encryptStream (chunk sizes 7, 4096, whole) on the same signed message: the same refusal (class
 * and message), or entities decryptMessage gives back alike (the signed message, which still verifies when `isSigned`).
 */
async function agree(signed: Uint8Array, refused: RegExp | undefined, isSigned = true): Promise<void> {
  const body = signed.length - t(signed).indexOf('\r\n\r\n');
  expect(body).toBeGreaterThan(2 * MAX); // longer than the look-ahead: the stream has to read on
  const be = await errorOf(encryptMessage(signed, eopts()));
  for (const size of [7, 4096, Infinity]) {
    const se = await errorOf(encryptStream(chunked(signed, size), eopts()));
    expect(said(se)).toBe(said(be));
    if (be) {
      expect((se as Error).constructor).toBe((be as Error).constructor);
      continue;
    }
    const d = await decryptMessage(await collect((await encryptStream(chunked(signed, size), eopts())) as ReadableStream<Uint8Array>), { store: alice });
    const b = await decryptMessage(await encryptMessage(signed, eopts()), { store: alice });
    expect(t(d.content)).toBe(t(b.content));
    expect(d.headerProtection).toEqual(b.headerProtection);
    if (isSigned) expect((await openMessage(d.content, { store: alice })).signers[0]?.status).toBe('valid');
  }
  if (refused) expect(String(be)).toMatch(refused);
  else expect(be).toBeUndefined();
}

describe('encryptStream and encryptMessage agree on an opaque signed message longer than the look-ahead', () => {
  const sign = { store: alice, from: 'alice@example.com', detached: false };
  it('signMessage without protectHeaders, and with protectHeaders (hp="clear"): both refuse', async () => {
    await agree(await signMessage(MSG, { ...sign, store: alice }), /hp="cipher"/);
    await agree(await signMessage(MSG, { ...sign, store: alice, protectHeaders: true }), /hp="cipher"/);
  });
  it('signMessage with protectHeaders and headerConfidentiality (hp="cipher"): both encrypt it as it is', async () => {
    await agree(await signMessage(MSG, { ...sign, store: alice, protectHeaders: true, headerConfidentiality: 'baseline', legacyDisplay: true }), undefined);
  });
  it('signStream (BER, indefinite lengths, the eContent in chunks): the same answers', async () => {
    const s = (o: object) => signStream(chunked(enc(MSG), 4096), { ...sign, store: alice, ...o }).then(collect);
    await agree(await s({}), /hp="cipher"/);
    await agree(await s({ protectHeaders: true }), /hp="cipher"/);
    await agree(await s({ protectHeaders: true, headerConfidentiality: 'shy' }), undefined);
  });
  it('an encrypted message encrypted again (no SignedData inside): both encrypt it as it is', async () => {
    const once = await encryptMessage(MSG, { store: alice, to: ['alice@example.com'], cipher: 'aes-256-cbc' });
    await agree(once, undefined, false);
    const inner = await decryptMessage(await collect((await encryptStream(chunked(once, 7), eopts())) as ReadableStream<Uint8Array>), { store: alice });
    expect(t((await decryptMessage(inner.content, { store: alice })).content)).toContain('The numbers are good.');
  });
  it('a payload whose header section does not end within maxHeaderBytes: MIMELimitExceeded from both', async () => {
    const long = MSG.replace('Subject: Quarterly numbers\r\n', `Subject: Quarterly numbers\r\n${'X-Filler: 0123456789012345678901234567890123456789\r\n'.repeat(30)}`);
    const signed = await signMessage(long, { ...sign, store: alice, protectHeaders: true, headerConfidentiality: 'baseline' });
    await agree(signed, /maxHeaderBytes/);
    await expect(encryptMessage(signed, eopts())).rejects.toBeInstanceOf(MIMELimitExceeded);
    // Within the default limit, it is read and encrypted.
    const b = await decryptMessage(await encryptMessage(signed, { ...eopts(), limits: {} }), { store: alice });
    const s = await decryptMessage(await collect((await encryptStream(chunked(signed, 4096), { ...eopts(), limits: {} })) as ReadableStream<Uint8Array>), { store: alice });
    expect(t(s.content)).toBe(t(b.content));
  });
});

describe('a multipart/signed message: its signed part checked on the same look-ahead by both', () => {
  it('a signed part that starts past maxHeaderBytes of the body (a long preamble): MIMELimitExceeded from both; a short preamble: both encrypt', async () => {
    const signed = t(await signMessage(MSG, { store: alice, from: 'alice@example.com', protectHeaders: true, headerConfidentiality: 'baseline' }));
    const at = signed.indexOf('\r\n\r\n') + 4;
    const withPreamble = (n: number) => enc(`${signed.slice(0, at)}${'preamble line of text\r\n'.repeat(n)}${signed.slice(at)}`);
    await agree(withPreamble(60), /signed part's header section.*maxHeaderBytes/);
    await expect(encryptMessage(withPreamble(60), eopts())).rejects.toBeInstanceOf(MIMELimitExceeded);
    await agree(withPreamble(2), undefined);
  });
});

describe('a truncated or garbled opaque signed message: an SmimeError from both, nothing emitted', () => {
  it('cut before its payload\'s header section ends, a byte outside base64, a CMS that is not a ContentInfo, a detached signature', async () => {
    const signed = t(await signMessage(MSG, { store: alice, from: 'alice@example.com', detached: false, protectHeaders: true, headerConfidentiality: 'baseline' }));
    const at = signed.indexOf('\r\n\r\n') + 4;
    const head = signed.slice(0, at);
    const b64 = signed.slice(at);
    const detached = t(await signMessage(MSG, { store: alice, from: 'alice@example.com' }));
    const sig = /Content-Type: application\/pkcs7-signature[^]*?\r\n\r\n([A-Za-z0-9+/=\r\n]+)/.exec(detached)![1]!;
    const cases: [string, string][] = [
      ['truncated', head + b64.slice(0, 160)],
      ['not base64', head + b64.slice(0, 10) + '!' + b64.slice(11)],
      ['not a ContentInfo', head + 'AAAA' + b64.slice(4)],
      ['a detached signature', head + sig],
      ['empty', head],
    ];
    for (const [name, m] of cases) {
      const bytes = enc(m);
      const be = await errorOf(encryptMessage(bytes, eopts()));
      expect(be, name).toBeInstanceOf(name === 'a detached signature' ? TypeError : SmimeError);
      for (const size of [7, 4096, Infinity]) {
        const se = await errorOf(encryptStream(chunked(bytes, size), eopts()));
        expect(said(se), name).toBe(said(be));
      }
    }
  });
});

describe('hostile bodies: the same answer from both, within the limits', () => {
  it('a body of blank lines (nothing decoded): MIMELimitExceeded once 3 × maxHeaderBytes are read, from both', async () => {
    const m = enc(`From: a@example.com\r\nMIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=signed-data\r\nContent-Transfer-Encoding: base64\r\n\r\n${'\r\n'.repeat(4000)}`);
    await agree(m, /3 × maxHeaderBytes/);
  });
  it('60 mutations of the first 400 bytes of an opaque signed body: encryptMessage and encryptStream give the same error or both encrypt', async () => {
    const signed = await signMessage(MSG, { store: alice, from: 'alice@example.com', detached: false, protectHeaders: true, headerConfidentiality: 'baseline' });
    const at = t(signed).indexOf('\r\n\r\n') + 4;
    const alphabet = enc('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n!');
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const outcomes = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const m = signed.slice();
      for (let k = 0; k <= rnd(3); k++) m[at + rnd(400)] = alphabet[rnd(alphabet.length)]!;
      const be = await errorOf(encryptMessage(m, eopts()));
      if (be !== undefined) expect(be instanceof SmimeError || be instanceof TypeError).toBe(true);
      for (const size of [7, Infinity]) expect(said(await errorOf(encryptStream(chunked(m, size), eopts())))).toBe(said(be));
      outcomes.add(be === undefined ? 'encrypted' : (be as Error).name);
    }
    expect(outcomes.size).toBeGreaterThan(1);
  });
});

describe.skipIf(!hasPeer('openssl', ['version']) && !IN_CI)('openssl cms -sign -nodetach -stream', () => {
  const id = (n: string, ext: string) => join(VECTORS, 'identities', `${n}.${ext}.pem`);
  const osign = (content: string) =>
    new Uint8Array(
      execFileSync('openssl', ['cms', '-sign', '-nodetach', '-stream', '-signer', id('alice-sign', 'cert'), '-inkey', id('alice-sign', 'key'), '-certfile', join(VECTORS, 'pki/chain.pem')], {
        input: content,
      }),
    );
  const outer = 'From: alice@example.com\r\nTo: alice@example.com\r\nSubject: [...]\r\n';
  it('a payload without hp: both refuse; one that says hp="cipher": both encrypt it, decryptMessage gives it back', async () => {
    const text = 'streamed line of text\r\n'.repeat(200);
    await agree(enc(outer + t(osign(`Content-Type: text/plain\r\n\r\n${text}`))), /hp="cipher"/);
    const protectedPayload =
      'From: alice@example.com\r\nTo: alice@example.com\r\nSubject: Quarterly numbers\r\nHP-Outer: From: alice@example.com\r\n' +
      `HP-Outer: To: alice@example.com\r\nHP-Outer: Subject: [...]\r\nContent-Type: text/plain; hp="cipher"\r\n\r\n${text}`;
    const signed = enc(outer + t(osign(protectedPayload)));
    await agree(signed, undefined);
    const back = await openMessage(await encryptMessage(signed, eopts()), { store: alice });
    expect(back.headerProtection?.hp).toBe('cipher');
    expect(back.headerProtection?.headers.find((h) => h.name === 'Subject')?.value).toBe('Quarterly numbers');
  });
});
