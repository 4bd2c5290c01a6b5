/**
 * Header protection (RFC 9788) on the stream functions: decryptStream and verifyStream resolve `done` with the
 * `headerProtection` (and the From binding's signer results) decryptMessage and verifyMessage give on the same
 * message, field by field, at chunk sizes 7, 4096 and whole, over every header-protection message the buffer tests
 * use (the round-trip shapes × policies × legacy display, tampered and forged outer fields, RFC 8551 message/rfc822
 * wrappers, the 2019 LAMPS protected-headers samples); and what the look-ahead (mime/payload_prefix.ts) does not see.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import {
  CertificateStore,
  decryptMessage,
  decryptStream,
  encryptMessage,
  encryptStream,
  openMessage,
  signMessage,
  signStream,
  verifyMessage,
  verifyStream,
  type DecryptResult,
  type VerifyResult,
} from '../../src/index.js';
import { manifest, OPENSSL_AT_REFERENCE, storeWith } from '../_helpers/identities.js';
import { ROOT_CA_FILE as ROOT } from '../_helpers/peers.js';
import { hasPeer, run, SHARED_VECTORS, sharedAvailable, tmp, tryRun, VECTORS } from '../_helpers/env.js';
import { parseEntity } from '../../src/mime/entity.js';
import { concat } from '../../src/lib/bytes.js';
import { PayloadPrefix } from '../../src/mime/payload_prefix.js';
import { protectMessage, readHeaderProtection } from '../../src/mime/header_protection.js';
import { SmimeError } from '../../src/errors.js';
import { chunked, collect, enc, source } from './_streams.js';

const td = new TextDecoder();
const t = (u: Uint8Array) => td.decode(u);

const MSG =
  'From: Alice <alice@example.com>\r\nTo: alice@example.com\r\nSubject: Quarterly numbers\r\nDate: Mon, 30 Nov 2026 10:00:00 +0100\r\n' +
  'Message-ID: <hp-1@example.com>\r\nKeywords: finance\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe numbers are good.\r\n';
const MULTI =
  'From: Alice <alice@example.com>\r\nTo: alice@example.com\r\nSubject: With a picture\r\nMIME-Version: 1.0\r\n' +
  'Content-Type: multipart/mixed; boundary="b1"\r\n\r\npreamble\r\n--b1\r\nContent-Type: multipart/alternative; boundary="b2"\r\n\r\n' +
  '--b2\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHello =3D world\r\n' +
  '--b2\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body class="x"><p>Hello</p></body></html>\r\n--b2--\r\n' +
  '--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQF\r\n--b1--\r\nepilogue\r\n';

const CHUNKS = [7, 4096, Infinity];

let alice: CertificateStore;
beforeAll(async () => {
  alice = await storeWith(['alice-sign', 'alice-enc-2025']);
});

/** decryptStream's `done` and content, the stream read to its end. */
async function decryptS(m: Uint8Array, store: CertificateStore, size: number): Promise<{ r: DecryptResult; content: Uint8Array }> {
  const { content, done } = await decryptStream(chunked(m, size), { store });
  const bytes = await collect(content);
  return { r: await done, content: bytes };
}

async function verifyS(m: Uint8Array, store: CertificateStore, size: number): Promise<{ r: VerifyResult; content: Uint8Array }> {
  const { content, done } = await verifyStream(chunked(m, size), { store, harvest: false });
  const bytes = await collect(content);
  return { r: await done, content: bytes };
}

/** The stream's result against the buffer's, field by field (the content compared apart: it streamed). */
async function sameDecrypt(m: Uint8Array, store: CertificateStore): Promise<DecryptResult> {
  const b = await decryptMessage(m, { store });
  for (const size of CHUNKS) {
    const s = await decryptS(m, store, size);
    expect(t(s.content)).toBe(t(b.content));
    expect(s.r.headerProtection).toEqual(b.headerProtection);
    expect({ ...s.r, recipient: undefined }).toEqual({ ...b, content: new Uint8Array(0), recipient: undefined });
  }
  return b;
}

async function sameVerify(m: Uint8Array, store: CertificateStore): Promise<VerifyResult> {
  const b = await verifyMessage(m, { store, harvest: false });
  for (const size of CHUNKS) {
    const s = await verifyS(m, store, size);
    expect(t(s.content)).toBe(t(b.content));
    expect(s.r.headerProtection).toEqual(b.headerProtection);
    expect(s.r.signers.map((x) => [x.status, x.email, x.reasons])).toEqual(b.signers.map((x) => [x.status, x.email, x.reasons]));
    expect(s.r.detached).toBe(b.detached);
  }
  return b;
}

const POLICIES = ['baseline', 'shy', 'none'] as const;

describe('decryptStream reports what decryptMessage reports', () => {
  for (const body of [MSG, MULTI]) {
    for (const hcp of POLICIES) {
      for (const legacyDisplay of [false, true]) {
        it(`${body === MSG ? 'text/plain' : 'multipart'}, hcp ${hcp}${legacyDisplay ? ', legacy display' : ''}`, async () => {
          const m = await encryptMessage(body, { store: alice, to: ['alice@example.com'], cipher: 'aes-256-cbc', protectHeaders: true, headerConfidentiality: hcp, legacyDisplay });
          const b = await sameDecrypt(m, alice);
          expect(b.headerProtection?.hp).toBe('cipher');
          if (legacyDisplay && hcp !== 'none') expect(b.headerProtection?.legacyDisplay).toContain('Subject: ');
          else expect(b.headerProtection?.legacyDisplay).toBeUndefined();
        });
      }
    }
  }

  it('signed then encrypted (the signed entity inside has no protected fields of its own outside the signature)', async () => {
    const s = await signMessage(MSG, { store: alice, from: 'alice@example.com', protectHeaders: true, headerConfidentiality: 'baseline' });
    await sameDecrypt(await encryptMessage(s, { store: alice, to: ['alice@example.com'], cipher: 'aes-256-cbc', protectHeaders: true }), alice);
  });

  it('an outer Subject rewritten in transit is the same mismatch', async () => {
    const m = await encryptMessage(MSG, { store: alice, to: ['alice@example.com'], cipher: 'aes-256-cbc', protectHeaders: true });
    const b = await sameDecrypt(enc(t(m).replace('Subject: [...]', 'Subject: Invoice overdue')), alice);
    expect(b.headerProtection?.mismatches).toEqual([{ name: 'subject', outer: ['Invoice overdue'], expected: ['[...]'] }]);
  });

  it('a malformed hp, no protection at all, compressed content inside', async () => {
    const bogus = 'From: alice@example.com\r\nSubject: outer only\r\nContent-Type: text/plain; hp="bogus"\r\n\r\nx\r\n';
    expect((await sameDecrypt(await encryptMessage(bogus, { store: alice, to: ['alice@example.com'], cipher: 'aes-256-cbc' }), alice)).headerProtection?.problems).toEqual(['hp-malformed: "bogus"']);
    expect((await sameDecrypt(await encryptMessage(MSG, { store: alice, to: ['alice@example.com'], cipher: 'aes-256-cbc' }), alice)).headerProtection).toBeUndefined();
    const c = await encryptMessage(MSG, { store: alice, to: ['alice@example.com'], cipher: 'aes-256-cbc', protectHeaders: true, legacyDisplay: true, compress: true });
    expect((await sameDecrypt(c, alice)).compressed).toBe(true);
  });
});

describe('verifyStream reports what verifyMessage reports (headerProtection, and the From binding)', () => {
  for (const detached of [true, false]) {
    const form = detached ? 'multipart/signed' : 'opaque';
    it(`${form}, hp="clear"`, async () => {
      const b = await sameVerify(await signMessage(MSG, { store: alice, from: 'alice@example.com', detached, protectHeaders: true }), alice);
      expect(b.headerProtection?.hp).toBe('clear');
      expect(b.signers[0]!.status).toBe('valid');
    });
    it(`${form}, hp="cipher" (to be encrypted next): hp-cipher-without-encryption, as verifyMessage says`, async () => {
      const b = await sameVerify(await signMessage(MULTI, { store: alice, from: 'alice@example.com', detached, protectHeaders: true, headerConfidentiality: 'shy', legacyDisplay: true }), alice);
      expect(b.headerProtection?.problems).toEqual(['hp-cipher-without-encryption']);
      expect(b.headerProtection?.legacyDisplay).toContain('Subject: With a picture');
    });
    it(`${form}: a forged outer From is reported (outer-from-differs), the signer stays valid`, async () => {
      const signed = await signMessage(MSG, { store: alice, from: 'alice@example.com', detached, protectHeaders: true });
      const b = await sameVerify(enc(t(signed).replace('From: Alice <alice@example.com>', 'From: Mallory <mallory@example.com>')), alice);
      expect(b.signers[0]!.status).toBe('valid');
      expect(b.signers[0]!.reasons).toContain('outer-from-differs');
    });
    it(`${form}: a protected From the certificate lacks is address-mismatch, whatever the outside says`, async () => {
      const signed = await signMessage(MSG.replace('From: Alice <alice@example.com>', 'From: ceo@example.com'), { store: alice, from: 'alice@example.com', detached, protectHeaders: true });
      const b = await sameVerify(enc(t(signed).replace('From: ceo@example.com', 'From: Alice <alice@example.com>')), alice);
      expect(b.signers[0]!.status).toBe('address-mismatch');
    });
  }

  const wrapper = (param: string, innerFrom: string) =>
    `From: alice@example.com\r\nTo: alice@example.com\r\nSubject: outer\r\nMIME-Version: 1.0\r\nContent-Type: message/rfc822${param}\r\n\r\n` +
    `From: ${innerFrom}\r\nTo: alice@example.com\r\nSubject: inner\r\nContent-Type: text/plain\r\n\r\nwrapped\r\n`;
  for (const [param, from, status] of [
    ['; forwarded=no', 'alice@example.com', 'valid'],
    ['; forwarded=no', 'ceo@example.com', 'address-mismatch'],
    ['', 'carol@example.com', 'valid'],
  ] as const) {
    it(`message/rfc822 wrapper${param}, wrapped From ${from}: ${status}`, async () => {
      const b = await sameVerify(await signMessage(wrapper(param, from), { store: alice, from: 'alice@example.com' }), alice);
      expect(b.headerProtection?.form).toBe('message-rfc822');
      expect(b.signers[0]!.status).toBe(status);
    });
  }
});

describe.runIf(sharedAvailable())('the 2019 LAMPS protected-headers samples (protected-headers="v1")', () => {
  const dir = join(SHARED_VECTORS, 'lamps-protected-headers-2019');
  const file = (n: string) => new Uint8Array(readFileSync(join(dir, n)));
  let bob: CertificateStore;
  beforeAll(async () => {
    bob = new CertificateStore({ now: () => new Date('2019-12-01T00:00:00Z') });
    await bob.importPkcs12(new Uint8Array(Buffer.from(readFileSync(join(dir, 'bob.p12'), 'latin1').replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')), 'bob');
    bob.addTrustAnchor(readFileSync(join(dir, 'sample-ca.pem'), 'utf8'));
  });
  for (const name of ['smime-onepart-signed.eml', 'smime-multipart-signed.eml', 'smime-sign+enc.inner', 'smime-sign+enc+legacy-disp.inner']) {
    it(`verify ${name}`, async () => {
      const b = await sameVerify(file(name), bob);
      expect(b.headerProtection?.form).toBe('protected-headers-v1');
    });
  }
  // The encrypted samples are 3DES (decryptStream reads it block by block, as decryptMessage); their decrypted entity is
  // also encrypted again with AES-CBC by OpenSSL (byte for byte, -binary), under the samples' own outer header fields.
  for (const name of ['smime-sign+enc.eml', 'smime-sign+enc+legacy-disp.eml', 'smime-enc+legacy-disp.eml']) {
    it.runIf(hasPeer('openssl', ['version']))(`decrypt ${name} (encrypted again with AES by OpenSSL)`, async () => {
      expect((await sameDecrypt(file(name), bob)).cipher).toBe('des-ede3-cbc');
      const inner = (await decryptMessage(file(name), { store: bob })).content;
      const d = tmp('smime-hp-stream-');
      writeFileSync(join(d, 'inner'), inner);
      const again = run('openssl', ['cms', '-encrypt', '-binary', '-aes-256-cbc', '-in', join(d, 'inner'), join(dir, 'bob.crt.pem')]);
      const outer = parseEntity(file(name)).headers.filter((h) => !/^(content-|mime-version)/i.test(h.name));
      const b = await sameDecrypt(concat([...outer.map((h) => h.raw), again]), bob);
      // Signed inside: the protected fields are the signed entity's (verifyStream reads them), none here.
      expect(b.headerProtection?.form).toBe(name.includes('sign') ? undefined : 'protected-headers-v1');
      if (!name.includes('sign')) expect(b.headerProtection?.legacyDisplay).toBe("Subject: BarCorp contract signed, let's go!");
    });
  }
});

describe('the look-ahead: the payload\'s header section, and maxHeaderBytes of its body when it protects its fields', () => {
  it('a legacy display element past maxHeaderBytes of the body is reported by neither decryptMessage nor the stream', async () => {
    // A first part larger than the look-ahead, then the text part with the element.
    const big = 'x'.repeat(2000);
    const late = MSG.replace('Content-Type: text/plain; charset=utf-8\r\n\r\nThe numbers are good.\r\n',
      `Content-Type: multipart/mixed; boundary="q"\r\n\r\n--q\r\nContent-Type: application/octet-stream\r\n\r\n${big}\r\n--q\r\n` +
      'Content-Type: text/plain; hp-legacy-display="1"\r\n\r\nSubject: Quarterly numbers\r\n\r\nThe numbers are good.\r\n--q--\r\n');
    const m = await encryptMessage(late, { store: alice, to: ['alice@example.com'], cipher: 'aes-256-cbc', protectHeaders: true });
    const limits = { maxHeaderBytes: 1024 };
    const b = await decryptMessage(m, { store: alice, limits });
    expect(b.headerProtection?.legacyDisplay).toBeUndefined();
    expect(b.headerProtection?.headers.map((h) => h.name)).toContain('Subject');
    const { content, done } = await decryptStream(chunked(m, 4096), { store: alice, limits });
    await collect(content);
    const s = await done;
    expect(s.headerProtection).toEqual(b.headerProtection);
    // With the default maxHeaderBytes (1 MiB) it is within: both report it.
    expect((await decryptS(m, alice, 4096)).r.headerProtection).toEqual((await decryptMessage(m, { store: alice })).headerProtection);
  });
});

/** The stream's output, read to its end. */
const out = async (p: Promise<ReadableStream<Uint8Array>>) => collect(await p);

describe('encryptStream: protectHeaders, headerConfidentiality, legacyDisplay as encryptMessage', () => {
  for (const body of [MSG, MULTI]) {
    for (const hcp of POLICIES) {
      it(`${body === MSG ? 'text/plain' : 'multipart'}, hcp ${hcp}, legacy display: decryptMessage gives the same entity and headerProtection`, async () => {
        const opts = { store: alice, to: ['alice@example.com'], cipher: 'aes-256-cbc' as const, protectHeaders: true, headerConfidentiality: hcp, legacyDisplay: true };
        const b = await decryptMessage(await encryptMessage(body, opts), { store: alice });
        for (const size of CHUNKS) {
          const m = await out(encryptStream(chunked(enc(body), size), opts));
          const d = await decryptMessage(m, { store: alice });
          expect(t(d.content)).toBe(t(b.content));
          expect(d.headerProtection).toEqual(b.headerProtection);
          expect(t(m.subarray(0, parseEntity(m).headerEnd))).toBe(t((await encryptMessage(body, opts)).subarray(0, parseEntity(m).headerEnd)));
        }
        if (hcp !== 'none') expect(b.headerProtection?.legacyDisplay).toContain('Subject: ');
      });
    }
  }

  it('a body longer than the look-ahead: the element at the top, the rest streamed as it is (maxHeaderBytes 1024)', async () => {
    const long = MULTI.replace('Hello =3D world\r\n', `Hello =3D world\r\n${'line of text\r\n'.repeat(500)}`);
    const opts = { store: alice, to: ['alice@example.com'], cipher: 'aes-256-cbc' as const, protectHeaders: true, legacyDisplay: true, limits: { maxHeaderBytes: 1024 } };
    // The multipart/alternative runs past the look-ahead: its later alternatives can't take the element. Refused.
    await expect(encryptStream(chunked(enc(long), 100), opts)).rejects.toThrow(/multipart\/alternative.*maxHeaderBytes/);
    const mixed = long.replace('multipart/alternative', 'multipart/mixed');
    const plain = MSG.replace('The numbers are good.\r\n', 'The numbers are good.\n'.repeat(500));
    for (const body of [mixed, plain]) {
      const b = await decryptMessage(await encryptMessage(body, opts), { store: alice });
      for (const size of [7, 100, 4096, Infinity]) {
        const d = await decryptMessage(await out(encryptStream(chunked(enc(body), size), opts)), { store: alice });
        expect(t(d.content)).toBe(t(b.content));
        expect(d.headerProtection).toEqual(b.headerProtection);
      }
    }
    // A text/html part whose <body> tag is not within the look-ahead: refused, not guessed.
    const html = MSG.replace('text/plain; charset=utf-8\r\n\r\nThe numbers are good.\r\n', `text/html\r\n\r\n<html><head>${'<meta name="x">\r\n'.repeat(100)}</head><body><p>x</p></body></html>\r\n`);
    await expect(encryptStream(chunked(enc(html), 4096), opts)).rejects.toThrow(/<body> tag.*maxHeaderBytes/);
    expect((await decryptMessage(await out(encryptStream(chunked(enc(html), 4096), { ...opts, limits: {} })), { store: alice })).headerProtection?.legacyDisplay).toContain('Subject: Quarterly numbers');
  });

  it('a multipart/signed payload that does not say hp="cipher" is refused as encryptMessage refuses it (it would leave the Subject outside), within the look-ahead or past it', async () => {
    const long = MSG.replace('The numbers are good.\r\n', 'The numbers are good.\r\n'.repeat(200));
    const limits = { maxHeaderBytes: 1024 };
    for (const body of [MSG, long]) {
      const clear = await signMessage(body, { store: alice, from: 'alice@example.com', protectHeaders: true });
      await expect(encryptMessage(clear, { store: alice, to: ['alice@example.com'], protectHeaders: true, limits })).rejects.toThrow(/hp="cipher"/);
      for (const size of [7, 4096]) {
        await expect(encryptStream(chunked(clear, size), { store: alice, to: ['alice@example.com'], protectHeaders: true, limits })).rejects.toThrow(/hp="cipher"/);
        await expect(encryptStream(chunked(clear, size), { store: alice, to: ['alice@example.com'], protectHeaders: true, legacyDisplay: true, limits })).rejects.toThrow(/hp="cipher"/);
      }
      // Opaque: its payload's header section is read from the CMS, within the look-ahead or past it
      // (test/stream/encrypt_opaque_signed.test.ts has the rest).
      const opaque = await signMessage(body, { store: alice, from: 'alice@example.com', protectHeaders: true, detached: false });
      await expect(encryptMessage(opaque, { store: alice, to: ['alice@example.com'], protectHeaders: true, limits })).rejects.toThrow(/hp="cipher"/);
      for (const size of [7, 4096]) await expect(encryptStream(chunked(opaque, size), { store: alice, to: ['alice@example.com'], cipher: 'aes-256-cbc', protectHeaders: true, limits })).rejects.toThrow(/hp="cipher"/);
      // Signed for encryption (hp="cipher"): encrypted as it is, the same entity as encryptMessage's.
      const cipher = await signMessage(body, { store: alice, from: 'alice@example.com', protectHeaders: true, headerConfidentiality: 'baseline' });
      const opts = { store: alice, to: ['alice@example.com'], cipher: 'aes-256-cbc' as const, protectHeaders: true, limits };
      const b = await decryptMessage(await encryptMessage(cipher, opts), { store: alice });
      for (const size of [7, 4096]) expect(t((await decryptMessage(await out(encryptStream(chunked(cipher, size), opts)), { store: alice })).content)).toBe(t(b.content));
    }
  });
});

describe('signStream: protectHeaders (hp="clear"), and headerConfidentiality + legacyDisplay for a message encrypted next', () => {
  for (const detached of [true, false]) {
    for (const extra of [{}, { headerConfidentiality: 'shy' as const, legacyDisplay: true }]) {
      it(`${detached ? 'multipart/signed' : 'opaque'}${'legacyDisplay' in extra ? ', hcp shy, legacy display' : ''}: verifyMessage gives the same entity and headerProtection`, async () => {
        const opts = { store: alice, from: 'alice@example.com', detached, protectHeaders: true, ...extra };
        for (const body of [MSG, MULTI]) {
          const b = await verifyMessage(await signMessage(body, opts), { store: alice, harvest: false });
          for (const size of CHUNKS) {
            const v = await verifyMessage(await out(signStream(chunked(enc(body), size), opts)), { store: alice, harvest: false });
            expect(v.signers.map((s) => s.status)).toEqual(['valid']);
            expect(t(v.content)).toBe(t(b.content));
            expect(v.headerProtection).toEqual(b.headerProtection);
          }
        }
      });
    }
  }

  it('signed then encrypted, both on streams: openMessage reads the protected headers', async () => {
    const s = await out(signStream(chunked(enc(MULTI), 7), { store: alice, from: 'alice@example.com', protectHeaders: true, headerConfidentiality: 'baseline', legacyDisplay: true }));
    const m = await out(encryptStream(chunked(s, 7), { store: alice, to: ['alice@example.com'], cipher: 'aes-256-cbc', protectHeaders: true }));
    const o = await openMessage(m, { store: alice });
    expect(o.signers.map((x) => x.status)).toEqual(['valid']);
    expect(o.headerProtection).toMatchObject({ form: 'hp', hp: 'cipher', mismatches: [], problems: [] });
    expect(o.headerProtection?.legacyDisplay).toContain('Subject: With a picture');
  });
});

describe('encryptStream with bcc: one stream per copy, fed in lockstep', () => {
  const BCC_MSG = MSG.replace('To: alice@example.com\r\n', 'To: alice@example.com\r\nBcc: bob@example.com, leo@example.com\r\n');
  let store: CertificateStore;
  let bob: CertificateStore;
  let leo: CertificateStore;
  beforeAll(async () => {
    store = await storeWith(['alice-sign', 'alice-enc-2025'], ['bob', 'leo-case']);
    bob = await storeWith(['bob']);
    leo = await storeWith(['leo-case']);
  });
  const opts = () => ({ store, to: ['alice@example.com'], from: 'alice@example.com', bcc: ['bob@example.com', 'leo@example.com'], cipher: 'aes-256-cbc' as const, protectHeaders: true, legacyDisplay: true });

  it('the same copies as encryptMessage: each decrypts to the same entity, only for its own recipient, and none names the Bcc recipients', async () => {
    const b = await encryptMessage(BCC_MSG, opts());
    for (const size of CHUNKS) {
      const r = await encryptStream(chunked(enc(BCC_MSG), size), opts());
      expect(r.bcc.map((x) => x.address)).toEqual(['bob@example.com', 'leo@example.com']);
      const [main, toBob, toLeo] = await Promise.all([collect(r.message), collect(r.bcc[0]!.message), collect(r.bcc[1]!.message)]);
      for (const m of [main, toBob, toLeo]) expect(t(m.subarray(0, parseEntity(m).headerEnd))).not.toMatch(/bcc|bob@|leo@/i);
      const want = (await decryptMessage(b.message, { store: alice })).content;
      expect(t((await decryptMessage(main, { store: alice })).content)).toBe(t(want));
      expect(t((await decryptMessage(toBob, { store: bob })).content)).toBe(t((await decryptMessage(b.bcc[0]!.message, { store: bob })).content));
      expect(t((await decryptMessage(toLeo, { store: leo })).content)).toBe(t(want));
      await expect(decryptMessage(toBob, { store: alice })).rejects.toThrow(/decrypt/i);
      await expect(decryptMessage(main, { store: bob })).rejects.toThrow(/decrypt/i);
      expect(t(want)).not.toMatch(/^bcc:/im);
    }
  });

  it('the refusal covers the Bcc recipients, before anything is read past the head; bad bcc options are TypeErrors', async () => {
    const err = await encryptStream(chunked(enc(MSG), 64), { ...opts(), bcc: ['nobody@example.com', 'bob@example.com'] }).catch((e: unknown) => e);
    expect((err as { missing?: string[] }).missing).toEqual(['nobody@example.com']);
    await expect(encryptStream(chunked(enc(MSG), 64), { ...opts(), bcc: [] })).rejects.toThrow(TypeError);
  });

  it('memory stays bounded: a copy read alone stalls after a chunk (the others must be read too); cancelling them frees it', async () => {
    const big = enc(BCC_MSG + 'y\r\n'.repeat(200_000));
    const src = source(big, 16384);
    const r = await encryptStream(src.stream, { ...opts(), legacyDisplay: undefined, protectHeaders: undefined });
    const reader = r.message.getReader();
    let got = 0;
    const readAll = (async () => {
      for (;;) {
        const x = await reader.read();
        if (x.done) return;
        got += x.value.length;
      }
    })();
    await new Promise((res) => setTimeout(res, 200));
    expect(src.pulls()).toBeLessThan(6); // stalled: the Bcc copies have not taken the first chunk
    expect(got).toBeLessThan(big.length);
    await r.bcc[0]!.message.cancel();
    await r.bcc[1]!.message.cancel();
    await readAll;
    expect(got).toBeGreaterThan(big.length);
  });
});

describe.runIf(hasPeer('openssl', ['version']))('OpenSSL reads what the streams write', () => {
  let d = '';
  beforeAll(() => {
    d = tmp('smime-hp-stream-');
  });
  const vf = (n: string) => join(VECTORS, n);
  it('encryptStream with legacyDisplay (and a Bcc copy): openssl cms -decrypt gives the entity decryptMessage gives', async () => {
    const store = await storeWith(['alice-sign', 'alice-enc-2025'], ['bob']);
    const r = await encryptStream(chunked(enc(MULTI.replace('To: alice@example.com\r\n', 'To: alice@example.com\r\nBcc: bob@example.com\r\n')), 7), { store, to: ['alice@example.com'], bcc: ['bob@example.com'], cipher: 'aes-256-cbc', protectHeaders: true, legacyDisplay: true });
    const [main] = await Promise.all([collect(r.message), collect(r.bcc[0]!.message)]);
    writeFileSync(join(d, 'enc.eml'), main);
    const id = manifest.identities['alice-enc-2025'] as unknown as Record<string, string>;
    const plain = run('openssl', ['cms', '-decrypt', '-in', join(d, 'enc.eml'), '-recip', vf(id.cert!), '-inkey', vf(id.key!)]);
    expect(t(plain)).toBe(t((await decryptMessage(main, { store: alice })).content));
    expect(t(plain)).toContain('Subject: With a picture');
  });
  it('signStream with protectHeaders: openssl cms -verify succeeds and gives the protected payload', async () => {
    const s = await out(signStream(chunked(enc(MSG), 7), { store: alice, from: 'alice@example.com', protectHeaders: true }));
    writeFileSync(join(d, 'signed.eml'), s);
    const v = tryRun('openssl', ['cms', '-verify', '-purpose', 'smimesign', ...OPENSSL_AT_REFERENCE, '-CAfile', ROOT, '-in', join(d, 'signed.eml')]);
    expect(v.stderr).toContain('Verification successful');
    expect(t(v.stdout).replace(/\r\n/g, '\n')).toBe(t((await verifyMessage(s, { store: alice, harvest: false })).content).replace(/\r\n/g, '\n'));
    expect(t(v.stdout)).toContain('hp="clear"');
  });
});

describe('PayloadPrefix: what it holds', () => {
  const see = (bytes: Uint8Array, size: number, max = 1024) => {
    const p = new PayloadPrefix(max);
    for (let i = 0; i < bytes.length; i += size) p.see(bytes.subarray(i, i + size));
    return p;
  };
  it('an unprotected payload: its header section only; a protected one: maxHeaderBytes of body more; whole when it ends within', () => {
    const body = 'z'.repeat(5000);
    const plain = enc(`Content-Type: text/plain\r\n\r\n${body}`);
    const hp = enc(`Subject: s\r\nContent-Type: text/plain; hp="clear"\r\n\r\n${body}`);
    for (const size of [1, 7, 4096, 100_000]) {
      const a = see(plain, size);
      expect(t(a.bytes)).toBe('Content-Type: text/plain\r\n\r\n');
      expect(a.whole).toBe(false);
      const b = see(hp, size);
      expect(b.bytes.length).toBe(hp.indexOf(0x7a) + 1024);
      expect(b.whole).toBe(false);
      expect(b.headers().map((h) => h.name)).toEqual(['Subject', 'Content-Type']);
      const small = see(hp.subarray(0, 600), size);
      expect(small.whole).toBe(true);
      expect(t(small.bytes)).toBe(t(hp.subarray(0, 600)));
    }
  });
  it('a header section past maxHeaderBytes: no headers, nothing read as protected (readHeaderProtection says undefined, as for the whole)', () => {
    const long = enc(`Subject: ${'s'.repeat(3000)}\r\nContent-Type: text/plain; hp="clear"\r\n\r\nbody\r\n`);
    const p = see(long, 7);
    expect(p.headers()).toEqual([]);
    expect(p.bytes.length).toBe(1028);
    expect(readHeaderProtection(p.bytes, [], false, { maxHeaderBytes: 1024 }, !p.whole)).toBeUndefined();
    expect(readHeaderProtection(long, [], false, { maxHeaderBytes: 1024 })).toBeUndefined();
  });
  it('every cut of a protected multipart payload: the fields as from the whole; the legacy display once its text is within', () => {
    const payload = enc(
      'Subject: Quarterly numbers\r\nHP-Outer: Subject: [...]\r\nContent-Type: multipart/mixed; boundary="q"; hp="cipher"\r\n\r\n--q\r\n' +
        'Content-Type: text/plain; hp-legacy-display="1"\r\n\r\nSubject: Quarterly numbers\r\n\r\nThe numbers.\r\n--q--\r\n',
    );
    const whole = readHeaderProtection(payload, [], true)!;
    const textEnd = payload.indexOf(0x0a, t(payload).indexOf('Subject: Quarterly numbers\r\n\r\n', 60)) + 3;
    for (let cut = t(payload).indexOf('\r\n\r\n') + 4; cut < payload.length; cut++) {
      const r = readHeaderProtection(payload.subarray(0, cut), [], true, undefined, true)!;
      expect({ ...r, legacyDisplay: undefined }).toEqual({ ...whole, legacyDisplay: undefined });
      expect(r.legacyDisplay).toBe(cut >= textEnd ? whole.legacyDisplay : undefined);
    }
  });
});

describe('protectMessage on a look-ahead (open): a prefix of what it gives the whole message, or a refusal', () => {
  const HTML = MSG.replace('text/plain; charset=utf-8\r\n\r\nThe numbers are good.\r\n', 'text/html\r\n\r\n<html><head><title>t</title></head>\r\n<body class="b">\r\n<p>The numbers.</p>\r\n</body></html>\r\n');
  it('every cut at a line end of every message (and mutated ones): the same bytes as far as they go, else an SmimeError', () => {
    let rnd = 7;
    const next = () => (rnd = (rnd * 1103515245 + 12345) >>> 0);
    const messages = [MSG, MULTI, HTML];
    for (let k = 0; k < 40; k++) {
      const m = MULTI.split('');
      for (let j = 0; j < 3; j++) m[60 + (next() % (m.length - 60))] = '-\r\n:;="'[next() % 7]!;
      messages.push(m.join(''));
    }
    let same = 0;
    for (const message of messages) {
      const bytes = enc(message);
      let whole: Uint8Array | undefined;
      try {
        whole = protectMessage(bytes, { hp: 'cipher', legacyDisplay: true }).inner;
      } catch (e) {
        expect(e).toBeInstanceOf(SmimeError);
      }
      const bodyAt = message.indexOf('\r\n\r\n') + 4;
      for (let cut = bodyAt; cut < bytes.length; cut = bytes.indexOf(10, cut) + 1 || bytes.length) {
        try {
          const part = protectMessage(bytes.subarray(0, cut), { hp: 'cipher', legacyDisplay: true, open: true }).inner;
          if (whole) {
            expect(t(whole).startsWith(t(part))).toBe(true);
            same++;
          }
        } catch (e) {
          expect(e).toBeInstanceOf(SmimeError);
        }
      }
    }
    expect(same).toBeGreaterThan(50);
  });
});
