/**
 * The bulk path end to end: encryptMessage writes the entity into the tail of its output and base64s the envelope
 * over it as the ciphertext comes; decryptMessage decrypts in the buffer it decoded. Sizes across the chunk size,
 * bare-LF bodies, tiny messages, OpenSSL both ways, the caller's input never written, and Node's provider.
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decryptMessage, encryptMessage } from '../../src/index.js';
import { CHUNK } from '../../src/cms/content_cipher.js';
import { openEnvelope } from '../../src/cms/enveloped.js';
import { nodeCrypto } from '../../src/crypto/node.js';
import { extractCms } from '../../src/mime/extract.js';
import { manifest, storeWith } from '../_helpers/identities.js';
import { hasPeer, run, tmp, VECTORS } from '../_helpers/env.js';
import { storeInternals } from '../../src/store/internal.js';

const te = new TextEncoder();
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
const HEAD = 'From: alice@example.com\r\nTo: bob@example.com\r\nSubject: bulk\r\nMIME-Version: 1.0\r\n';
const CT = 'Content-Type: application/octet-stream\r\n';

/** A message with a body of `n` printable bytes in lines ended by `eol`; returns it and the entity decryption gives. */
function message(n: number, eol: '\r\n' | '\n'): { msg: Uint8Array; inner: Uint8Array } {
  const body = Buffer.alloc(n, 0x41);
  for (let i = 70; i < n; i += 72) body[i] = 10;
  const text = body.toString('latin1');
  const lines = eol === '\n' ? text : text.replace(/\n/g, '\r\n');
  return {
    msg: te.encode(HEAD + CT + '\r\n' + lines.replace(/\r\n/g, eol === '\n' ? '\n' : '\r\n')),
    inner: te.encode(CT + '\r\n' + text.replace(/\n/g, '\r\n')),
  };
}

const CIPHERS = ['aes-256-cbc', 'aes-256-gcm'] as const;

describe('encryptMessage → decryptMessage across chunk boundaries', async () => {
  const store = await storeWith(['bob']);
  for (const cipher of CIPHERS) {
    it(`${cipher}: sizes around CHUNK, CRLF and bare-LF bodies`, async () => {
      for (const n of [CHUNK - 100, CHUNK + 1000, 2 * CHUNK + 333]) {
        for (const eol of ['\r\n', '\n'] as const) {
          const { msg, inner } = message(n, eol);
          const copy = msg.slice();
          const out = await encryptMessage(msg, { store, to: ['bob@example.com'], cipher });
          expect(same(msg, copy)).toBe(true);
          const r = await decryptMessage(out, { store });
          expect(same(r.content, inner)).toBe(true);
        }
      }
    });

    it(`${cipher}: tiny messages (the envelope's base64 never overtakes the entity still to encrypt)`, async () => {
      for (let n = 0; n < 120; n++) {
        const msg = te.encode('Subject: s\r\n\r\n' + 'x'.repeat(n));
        const out = await encryptMessage(msg, { store, to: ['bob@example.com'], cipher });
        expect(new TextDecoder().decode((await decryptMessage(out, { store })).content)).toBe(
          'Content-Type: text/plain; charset=us-ascii\r\n\r\n' + 'x'.repeat(n),
        );
      }
    });

    it(`${cipher}: a string message is decoded and decrypted in its own bytes`, async () => {
      const { msg, inner } = message(2 * CHUNK + 5, '\r\n');
      const out = new TextDecoder().decode(await encryptMessage(msg, { store, to: ['bob@example.com'], cipher }));
      for (const text of [out, out.replace(/\r\n/g, '\n')]) {
        const r = await decryptMessage(text, { store });
        expect(same(r.content, inner)).toBe(true);
      }
    });

    it(`${cipher}: the caller's input is never written, base64 or raw DER`, async () => {
      const { msg, inner } = message(2 * CHUNK + 5, '\r\n');
      const out = await encryptMessage(msg, { store, to: ['bob@example.com'], cipher });
      const outCopy = out.slice();
      expect(same((await decryptMessage(out, { store })).content, inner)).toBe(true);
      expect(same(out, outCopy)).toBe(true);
      const der = extractCms(out).der.slice();
      const derCopy = der.slice();
      expect(same((await decryptMessage(der, { store })).content, inner)).toBe(true);
      expect(same(der, derCopy)).toBe(true);
      // openEnvelope writes in the DER only when told it may.
      expect(same((await openEnvelope(der, storeInternals(store).identities())).content, inner)).toBe(true);
      expect(same(der, derCopy)).toBe(true);
      const r = await openEnvelope(der, storeInternals(store).identities(), undefined, { inPlace: true });
      expect(same(r.content, inner)).toBe(true);
      expect(same(der, derCopy)).toBe(false);
    });

    it(`${cipher}: with overwriteInput the input's own bytes are decoded and decrypted over (no second buffer)`, async () => {
      const { msg, inner } = message(2 * CHUNK + 5, '\r\n');
      const out = await encryptMessage(msg, { store, to: ['bob@example.com'], cipher });
      for (const input of [out.slice(), extractCms(out).der.slice()]) {
        const copy = input.slice();
        const r = await decryptMessage(input, { store, overwriteInput: true });
        expect(same(r.content, inner)).toBe(true);
        expect(same(input, copy)).toBe(false); // worked over
        // CBC decrypts in the input's own buffer (WebCrypto's GCM, one call, returns a new one).
        if (cipher === 'aes-256-cbc') expect(r.content.buffer === input.buffer).toBe(true);
      }
      // A wrong store: the uniform failure, and nothing else to see.
      const other = await storeWith(['alice-enc-2025']);
      const err = await decryptMessage(out.slice(), { store: other, overwriteInput: true }).catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe('ERR_CMS_DECRYPTION_FAILED');
    });
  }
});

describe('OpenSSL both ways at 3 MiB', async () => {
  const store = await storeWith(['bob']);
  const bob = manifest.identities.bob!;
  for (const cipher of CIPHERS) {
    it(`${cipher}: openssl cms opens ours; we open openssl's, plain and -stream`, async () => {
      if (!hasPeer('openssl', ['version'])) return;
      const dir = tmp();
      const { msg, inner } = message(3 * CHUNK + 7, '\r\n');
      const ours = join(dir, 'ours.p7m');
      writeFileSync(ours, await encryptMessage(msg, { store, to: ['bob@example.com'], cipher }));
      const plain = run('openssl', ['cms', '-decrypt', '-binary', '-in', ours, '-recip', join(VECTORS, bob.cert), '-inkey', join(VECTORS, bob.key)]);
      expect(same(plain, inner)).toBe(true);
      writeFileSync(join(dir, 'in.eml'), inner);
      for (const extra of [[], ['-stream']]) {
        const theirs = run('openssl', ['cms', '-encrypt', '-binary', `-${cipher}`, ...extra, '-in', join(dir, 'in.eml'), join(VECTORS, bob.cert)]);
        expect(same((await decryptMessage(theirs, { store })).content, inner)).toBe(true);
      }
    });
  }
});

describe("Node's provider (smime-core/node)", async () => {
  const store = await storeWith(['bob']);
  it('encrypts and decrypts with Node’s own AES and SHA, and loads @peculiar/webcrypto for the rest', async () => {
    const crypto = nodeCrypto();
    expect(nodeCrypto()).toBe(crypto);
    const { msg, inner } = message(2 * CHUNK + 1, '\n');
    for (const cipher of CIPHERS) {
      const out = await encryptMessage(msg, { store, to: ['bob@example.com'], cipher, crypto });
      expect(same((await decryptMessage(out, { store, crypto })).content, inner)).toBe(true);
    }
    const aes = await crypto.subtle.importKey('raw', new Uint8Array(32), 'AES-GCM', false, ['encrypt']);
    expect(aes).toBeInstanceOf(globalThis.CryptoKey);
    const data = new Uint8Array(randomBytes(1000));
    expect(Buffer.from(await crypto.subtle.digest('SHA-256', data)).equals(createHash('sha256').update(data).digest())).toBe(true);
    const hmac = await crypto.subtle.importKey('raw', new Uint8Array(32), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    expect(hmac).not.toBeInstanceOf(globalThis.CryptoKey); // @peculiar's
    expect((await crypto.subtle.sign('HMAC', hmac, data)).byteLength).toBe(32);
    const r = new Uint8Array(16);
    expect(crypto.getRandomValues(r)).toBe(r);
  });
});
