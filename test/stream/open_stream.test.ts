/**
 * openStream (src/open_stream.ts): every message of vectors/manifest.json that openMessage opens, and nested
 * combinations (signed then encrypted, encrypted then signed, triple-wrapped, compressed inside and at the top), go
 * through openStream at chunk sizes 7, 4096 and whole to the same content and the same result as openMessage
 * (every field but `content`, the protected headers included); `openssl cms -sign -stream |
 * openssl cms -encrypt -stream` opens; a tampered inner signature is `invalid` in `done` as in openMessage; truncated
 * input errors the content and rejects `done`; what openStream refuses at its head is refused before anything streams.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { encryptMessage, openMessage, openStream, signMessage, type CertificateStore, type OpenResult } from '../../src/index.js';
import { nodeCrypto } from '../../src/crypto/node.js';
import { MIMEInvalid, SmimeError, CMSDecryptionFailed, MIMELimitExceeded } from '../../src/errors.js';
import { buildPkcs7Mime } from '../../src/mime/pkcs7_mime.js';
import { buildCompressedData } from '../../src/cms/compressed.js';
import { manifest, REFERENCE_DATE as AT, storeWith, vfile, sharedStoreWith } from '../_helpers/identities.js';
import { hasPeer, IN_CI, VECTORS } from '../_helpers/env.js';
import { collect, enc, source } from './_streams.js';

const node = nodeCrypto();

/** The fields openStream's `done` shares with openMessage's result. */
function shared(r: OpenResult): Omit<OpenResult, 'content'> {
  const { content: _c, ...rest } = r;
  return rest;
}

/** openStream of `bytes` in pieces of `size`: the content and `done`, or the error. */
async function streamed(bytes: Uint8Array, size: number, store: CertificateStore): Promise<{ content: Uint8Array; result: OpenResult }> {
  const { content, done } = await openStream(source(bytes, size).stream, { store, at: AT, harvest: false, crypto: node });
  const c = await collect(content);
  return { content: c, result: await done };
}

/** Opens `bytes` with openMessage and with openStream at 7, 4096 and whole: the same content and result. */
async function same(bytes: Uint8Array, store: CertificateStore, label: string): Promise<OpenResult> {
  const want = await openMessage(bytes, { store, at: AT, harvest: false, crypto: node });
  for (const size of [7, 4096, bytes.length]) {
    const got = await streamed(bytes, size, store);
    expect(Buffer.from(got.content).equals(Buffer.from(want.content)), `${label} in pieces of ${size}`).toBe(true);
    expect(shared(got.result)).toEqual(shared(want));
    expect(got.result.content.length).toBe(0);
  }
  return want;
}

interface Entry {
  id: string;
  file: string;
  algorithms?: { contentType?: { name: string }; contentEncryption?: { name: string } };
  identities?: string[];
}
const ENTRIES = manifest.messages as unknown as Entry[];

const storeOf = sharedStoreWith;

describe('openStream: the vectors openMessage opens', () => {
  it('has messages to test', () => expect(ENTRIES.length).toBeGreaterThan(40));
  for (const e of ENTRIES) {
    it(`${e.id}`, async () => {
      const store = await storeOf((e.identities ?? []).filter((n) => manifest.identities[n]));
      const bytes = vfile(e.file);
      await same(bytes, store, e.id);
    });
  }
});

describe('openStream: nested layers', () => {
  let store: CertificateStore;
  const MSG = enc('From: alice@example.com\r\nTo: bob@example.com\r\nSubject: layers\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello Bob,\r\nthis is wrapped.\r\n');
  const sign = (m: Uint8Array, detached = true, compress = false) => signMessage(m, { store, from: 'alice@example.com', detached, compress });
  const encrypt = (m: Uint8Array, cipher: 'aes-256-cbc' | 'aes-256-gcm' = 'aes-256-gcm', compress = false) => encryptMessage(m, { store, to: ['bob@example.com'], cipher, compress });
  beforeAll(async () => {
    store = await storeWith(['alice-sign', 'bob']);
  });
  /** Large enough that the end of the message comes after every layer's head has been read. */
  const BIG = enc(`From: alice@example.com\r\nContent-Type: text/plain\r\n\r\n${'a line of the body\r\n'.repeat(10000)}`);
  const kinds = (r: OpenResult) => r.layers.map((l) => (l.type === 'signed' ? `signed${l.detached ? '' : '-opaque'}` : l.type));

  it('signed then encrypted (multipart/signed and opaque; GCM and CBC)', async () => {
    expect(kinds(await same(await encrypt(await sign(MSG)), store, 'sig-enc'))).toEqual(['authEnveloped', 'signed']);
    const r = await same(await encrypt(await sign(MSG, false), 'aes-256-cbc'), store, 'opaque-enc-cbc');
    expect(kinds(r)).toEqual(['enveloped', 'signed-opaque']);
    expect(r.authenticated).toBe(true);
  });

  it('encrypted then signed, and triple-wrapped', async () => {
    const r = await same(await sign(await encrypt(MSG, 'aes-256-cbc')), store, 'enc-sig');
    expect(kinds(r)).toEqual(['signed', 'enveloped']);
    expect(r.authenticated).toBe(false);
    expect(kinds(await same(await sign(await encrypt(await sign(MSG, false)), true), store, 'triple'))).toEqual(['signed', 'authEnveloped', 'signed-opaque']);
  });

  it('compressed: inside an envelope, inside a signature, at the top, and under a signature inside an envelope', async () => {
    expect(kinds(await same(await encrypt(MSG, 'aes-256-gcm', true), store, 'enc-compressed'))).toEqual(['authEnveloped', 'compressed']);
    expect(kinds(await same(await sign(MSG, false, true), store, 'sig-compressed'))).toEqual(['signed-opaque', 'compressed']);
    const top = buildPkcs7Mime(enc('From: alice@example.com\r\n'), 'compressed-data', await buildCompressedData(MSG));
    expect(kinds(await same(top, store, 'compressed'))).toEqual(['compressed']);
    expect(kinds(await same(await encrypt(await sign(MSG, true, true)), store, 'enc-sig-compressed'))).toEqual(['authEnveloped', 'signed', 'compressed']);
  });

  it('protected headers (RFC 9788): headers and headerProtection as openMessage reads them, legacy display included', async () => {
    const M = enc('From: alice@example.com\r\nTo: bob@example.com\r\nSubject: the real subject\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello Bob,\r\nthis is wrapped.\r\n');
    const signed = await signMessage(M, { store, from: 'alice@example.com', protectHeaders: true });
    const inner = await signMessage(M, { store, from: 'alice@example.com', protectHeaders: true, headerConfidentiality: 'baseline' });
    const both = await encryptMessage(inner, { store, to: ['bob@example.com'], cipher: 'aes-256-gcm', protectHeaders: true });
    const display = await encryptMessage(M, { store, to: ['bob@example.com'], protectHeaders: true, legacyDisplay: true });
    for (const m of [signed, both, display]) {
      const want = await same(m, store, 'protected');
      expect(want.headerProtection).toBeDefined();
      expect(want.headers?.some((h) => h.name.toLowerCase() === 'subject')).toBe(true);
    }
  });

  it('a compressed layer found inside an envelope counts toward maxDepth, as in openMessage', async () => {
    const m = await encrypt(MSG, 'aes-256-gcm', true);
    await expect(openMessage(m, { store, maxDepth: 1, crypto: node })).rejects.toBeInstanceOf(MIMELimitExceeded);
    const { content, done } = await openStream(source(m, 4096).stream, { store, maxDepth: 1, crypto: node });
    await collect(content);
    await expect(done).rejects.toBeInstanceOf(MIMELimitExceeded);
  });

  it('maxInputBytes holds for every layer, a compressed message at the top included', async () => {
    const top = buildPkcs7Mime(enc('From: alice@example.com\r\n'), 'compressed-data', await buildCompressedData(BIG));
    for (const m of [top, await encrypt(BIG), await sign(BIG, false)]) {
      // Found while the layers' heads are read (a small message: openStream rejects), or as the content streams.
      let opened;
      try {
        opened = await openStream(source(m, 4096).stream, { store, crypto: node, limits: { maxInputBytes: m.length - 1000 } });
      } catch (e) {
        expect(e).toBeInstanceOf(MIMELimitExceeded);
        continue;
      }
      await expect(collect(opened.content)).rejects.toBeInstanceOf(MIMELimitExceeded);
      await expect(opened.done).rejects.toBeInstanceOf(MIMELimitExceeded);
    }
  });

  it('a tampered inner signature: done says invalid, as openMessage does', async () => {
    const signed = Buffer.from(await sign(MSG)).toString('latin1').replace('this is wrapped.', 'this is wrappeD.');
    const r = await same(await encrypt(enc(signed)), store, 'tampered');
    expect(r.signers.map((s) => s.status)).toEqual(['invalid']);
  });

  it('truncated input: the content errors and done rejects with a SmimeError', async () => {
    for (const whole of [await encrypt(await sign(BIG)), await encrypt(await sign(BIG, false), 'aes-256-cbc'), await sign(await encrypt(BIG))]) {
      const cut = whole.subarray(0, Math.floor(whole.length * 0.7));
      const { content, done } = await openStream(source(cut, 4096).stream, { store, crypto: node });
      const err = await collect(content).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SmimeError);
      await expect(done).rejects.toBeInstanceOf(SmimeError);
    }
  });

  it('a bad GCM tag: the content errors with CMSDecryptionFailed', async () => {
    const m = Buffer.from(await encrypt(await sign(BIG))).toString('latin1');
    // Flip one base64 character near the end of the body (the tag), keeping it valid base64.
    const at = m.lastIndexOf('\r\n', m.length - 4) - 5;
    const bad = enc(m.slice(0, at) + (m[at] === 'A' ? 'B' : 'A') + m.slice(at + 1));
    const { content, done } = await openStream(source(bad, 4096).stream, { store, crypto: node });
    await expect(collect(content)).rejects.toBeInstanceOf(CMSDecryptionFailed);
    await expect(done).rejects.toBeInstanceOf(CMSDecryptionFailed);
  });

  it('refused at the head: not S/MIME at the top, no key named, too many layers', async () => {
    await expect(openStream(source(MSG, 4096).stream, { store, crypto: node })).rejects.toBeInstanceOf(MIMEInvalid);
    const other = await storeWith(['alice-enc-2025']);
    await expect(openStream(source(await encrypt(MSG), 4096).stream, { store: other, crypto: node })).rejects.toBeInstanceOf(CMSDecryptionFailed);
    await expect(openStream(source(await sign(await encrypt(await sign(MSG))), 4096).stream, { store, maxDepth: 2, crypto: node })).rejects.toBeInstanceOf(MIMELimitExceeded);
  });

  it('without an incremental AES (a browser without the Node accelerators), AES-GCM still streams (portable decryption)', async () => {
    const { webcrypto } = await import('node:crypto');
    const plain = { subtle: webcrypto.subtle, getRandomValues: webcrypto.getRandomValues.bind(webcrypto) } as unknown as Crypto;
    const { content, done } = await openStream(source(await encrypt(await sign(MSG)), 4096).stream, { store, crypto: plain });
    const got = await collect(content);
    const r = await done;
    expect(r.layers.map((l) => l.type)).toEqual(['authEnveloped', 'signed']);
    expect(r.signers[0]?.status).toBe('valid');
    expect(Buffer.from(got).includes(Buffer.from('this is wrapped.'))).toBe(true);
  });
});

describe.skipIf(!hasPeer('openssl') && !IN_CI)('openStream: OpenSSL', () => {
  it('openssl cms -sign -stream | openssl cms -encrypt -stream opens, signer valid', async () => {
    const store = await storeWith(['bob']);
    const id = (n: string, ext: string) => join(VECTORS, 'identities', `${n}.${ext}.pem`);
    const msg = 'Content-Type: text/plain\r\n\r\n' + 'streamed line of text\r\n'.repeat(5000);
    const signed = execFileSync('openssl', ['cms', '-sign', '-stream', '-signer', id('alice-sign', 'cert'), '-inkey', id('alice-sign', 'key'), '-certfile', join(VECTORS, 'pki/chain.pem')], { input: msg });
    const wrapped = execFileSync('openssl', ['cms', '-encrypt', '-stream', '-aes256', id('bob', 'cert')], { input: signed });
    const r = await same(new Uint8Array(wrapped), store, 'openssl');
    expect(r.layers.map((l) => l.type)).toEqual(['enveloped', 'signed']);
    expect(r.signers.map((s) => [s.email, s.status])).toEqual([['alice@example.com', 'valid']]);
  });
});

describe('openStream: hostile input ends in a SmimeError', () => {
  it('mutated vectors (flipped bytes, cuts, insertions): a result or a SmimeError, never another error', async () => {
    const files = ['openssl/enc-aes256gcm.eml', 'openssl/enc-rsa15-aes256cbc.eml', 'openssl/sig-rsa-detached.eml', 'openssl/sig-rsa-opaque.eml', 'openssl/sig-then-enc.eml', 'bc/sig-ecdsa-opaque.eml'];
    const store = await storeWith(['alice-enc-2025', 'bob']);
    let x = 0x9e3779b9;
    const rnd = (n: number) => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    let errors = 0;
    for (const f of files) {
      const base = vfile(f);
      for (let k = 0; k < 40; k++) {
        const m = new Uint8Array(base);
        let b: Uint8Array = m;
        const at = rnd(m.length);
        if (k % 3 === 0) b = m.subarray(0, at);
        else if (k % 3 === 1) for (let j = 0; j < 1 + rnd(4); j++) m[rnd(m.length)] = rnd(256);
        else b = new Uint8Array([...m.subarray(0, at), ...Array.from({ length: 1 + rnd(40) }, () => rnd(256)), ...m.subarray(at)]);
        try {
          const { content, done } = await openStream(source(b, 1 + rnd(5000)).stream, { store, at: AT, harvest: false, crypto: node });
          await collect(content).catch(() => {});
          await done;
        } catch (e) {
          errors++;
          expect(e, `${f} mutation ${k}: ${(e as Error).stack}`).toBeInstanceOf(SmimeError);
        }
      }
    }
    expect(errors).toBeGreaterThan(40);
  });
});
