/**
 * encryptStream (src/encrypt_stream.ts): BER with indefinite lengths in base64 as it goes, decrypted by today's
 * decryptMessage and by `openssl cms -decrypt` to the entity encryptMessage would have encrypted; refusals before
 * anything is read or emitted; backpressure (the input is read as the output is pulled).
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decryptMessage, encryptMessage, encryptStream, openMessage, type CertificateStore } from '../../src/index.js';
import { splitForProtection } from '../../src/mime/protection.js';
import { nodeCrypto } from '../../src/crypto/node.js';
import { extractCms } from '../../src/mime/extract.js';
import { readTlv } from '../../src/lib/der.js';
import { MIMELimitExceeded, MissingRecipientCertificatesError } from '../../src/errors.js';
import { manifest, storeWith } from '../_helpers/identities.js';
import { hasPeer, run, tmp, VECTORS } from '../_helpers/env.js';

/** A stream of `bytes` in pieces of `size` (or of the sizes in turn), counting the pulls. */
function source(bytes: Uint8Array, size: number | number[]): { stream: ReadableStream<Uint8Array>; pulls: () => number } {
  let at = 0;
  let pulls = 0;
  let k = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        pulls++;
        if (at >= bytes.length) return c.close();
        const n = typeof size === 'number' ? size : size[k++ % size.length]!;
        c.enqueue(bytes.slice(at, at + n));
        at += n;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulls: () => pulls };
}

async function collect(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of s as unknown as AsyncIterable<Uint8Array>) parts.push(p);
  return new Uint8Array(Buffer.concat(parts));
}

const enc = (s: string) => new TextEncoder().encode(s);
const concat2 = (a: Uint8Array, b: Uint8Array) => new Uint8Array(Buffer.concat([a, b]));
const MSG = 'From: alice@example.com\r\nTo: bob@example.com\r\nSubject: stream\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello Bob, caf\u00e9.\r\n';
/** Bare LF and bare CR line ends, a Content-* header not last, no final line end. */
const LF_MSG = 'Content-Transfer-Encoding: 8bit\nFrom: alice@example.com\nContent-Type: text/plain\nTo: bob@example.com\n\nline 1\nline 2\rline 3\r\n\r\nend';

let storeP: Promise<CertificateStore> | undefined;
async function store(): Promise<CertificateStore> {
  storeP ??= (async () => {
    const s = await storeWith(['alice-enc-2025']);
    await s.addCertificate(readFileSync(join(VECTORS, manifest.identities.bob!.cert), 'utf8'));
    return s;
  })();
  return storeP;
}

function bigMessage(n: number): Uint8Array {
  const head = enc('From: alice@example.com\r\nTo: bob@example.com\r\nContent-Type: application/octet-stream\r\n\r\n');
  const out = new Uint8Array(head.length + n);
  out.set(head);
  // Bytes with CR and LF in every arrangement, deterministic.
  let x = 12345;
  for (let i = head.length; i < out.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const VARIANTS = [
  { name: 'aes-256-cbc on WebCrypto', cipher: 'aes-256-cbc' as const, crypto: undefined },
  { name: 'aes-128-cbc on Node', cipher: 'aes-128-cbc' as const, crypto: nodeCrypto() },
  { name: 'aes-256-gcm on Node', cipher: 'aes-256-gcm' as const, crypto: nodeCrypto() },
  // No accelerator (src/crypto/incremental_fallback.ts): AES-GCM on WebCrypto AES-CTR + GHASH, ChaCha20-Poly1305 portable.
  { name: 'aes-128-gcm on WebCrypto AES-CTR + GHASH', cipher: 'aes-128-gcm' as const, crypto: undefined },
  { name: 'chacha20-poly1305 on the portable cipher', cipher: 'chacha20-poly1305' as const, crypto: undefined },
];
const AEAD = (cipher: string) => cipher.endsWith('gcm') || cipher.startsWith('chacha');

describe('encryptStream', () => {
  for (const v of VARIANTS) {
    describe(v.name, () => {
      for (const [label, msg, sizes] of [
        ['a CRLF message in 7-byte pieces', enc(MSG), 7],
        ['an LF message in 1-byte pieces', enc(LF_MSG), 1],
        ['3 MiB of binary body in uneven pieces', bigMessage(3 << 20), [1, 65536, 13, 1 << 20, 4095, 3 << 20]],
      ] as const) {
        it(`${label}: decryptMessage gives the entity encryptMessage encrypts`, async () => {
          const s = await store();
          const out = await collect(await encryptStream(source(msg as Uint8Array, sizes as number | number[]).stream, { store: s, to: ['bob@example.com'], from: 'alice@example.com', cipher: v.cipher, crypto: v.crypto }));
          const text = new TextDecoder('latin1').decode(out.subarray(0, 400));
          expect(text).toContain(AEAD(v.cipher) ? 'smime-type=authEnveloped-data' : 'smime-type=enveloped-data');
          // BER with indefinite lengths, in lines of 76 chars.
          const { der } = extractCms(out);
          expect(der[0]).toBe(0x30);
          expect(der[1]).toBe(0x80);
          expect(readTlv(der, 0).end).toBe(der.length);
          const lines = new TextDecoder('latin1').decode(out).split('\r\n\r\n')[1]!.split('\r\n');
          expect(lines.slice(0, -2).every((l) => l.length === 76)).toBe(true);
          const want = splitForProtection(msg as Uint8Array).inner;
          const r = await decryptMessage(out, { store: s });
          expect(Buffer.from(r.content).equals(Buffer.from(want))).toBe(true);
          expect(r.authenticated).toBe(AEAD(v.cipher));
          expect(r.cipher).toBe(v.cipher);
          // The same as the buffer API.
          const b = await decryptMessage(await encryptMessage(msg as Uint8Array, { store: s, to: ['bob@example.com'], from: 'alice@example.com', cipher: v.cipher }), { store: s });
          expect(Buffer.from(b.content).equals(Buffer.from(r.content))).toBe(true);
        });
      }

      it('openssl cms -decrypt opens it, for the recipient and the sender', async () => {
        if (!hasPeer('openssl', ['version'])) return;
        // OpenSSL 3's CMS has no ChaCha20-Poly1305 content encryption ("unknown cipher"): decryptMessage opens it above.
        if (v.cipher.startsWith('chacha')) return;
        const s = await store();
        // Over 1 MiB: more than one batch of the WebCrypto AES-GCM (and of the WebCrypto AES-CBC).
        const msg = bigMessage(1_200_000);
        const out = await collect(await encryptStream(source(msg, 10_000).stream, { store: s, to: ['bob@example.com'], from: 'alice@example.com', cipher: v.cipher, crypto: v.crypto }));
        const f = join(tmp(), 'm.eml');
        writeFileSync(f, out);
        for (const who of ['bob', 'alice-enc-2025']) {
          const id = manifest.identities[who]!;
          const plain = run('openssl', ['cms', '-decrypt', '-binary', '-in', f, '-recip', join(VECTORS, id.cert), '-inkey', join(VECTORS, id.key)]);
          expect(Buffer.from(plain).equals(Buffer.from(splitForProtection(msg).inner))).toBe(true);
        }
      });
    });
  }

  for (const [cipher, crypto] of [['aes-256-cbc', undefined], ['aes-256-gcm', nodeCrypto()]] as const) {
    it(`compress: true (${cipher}): a streamed CompressedData inside, decryptMessage and openMessage decompress it to the entity`, async () => {
      const s = await store();
      // 2 MiB that compresses well (numbered lines), in uneven pieces.
      const body = enc(Array.from({ length: 40_000 }, (_, i) => `line ${i}: the quick brown fox jumps over the lazy dog\n`).join(''));
      const msg = concat2(enc('From: alice@example.com\r\nTo: bob@example.com\r\nContent-Type: text/plain\r\n\r\n'), body);
      const out = await collect(await encryptStream(source(msg, [1, 70_000, 13, 1 << 20]).stream, { store: s, to: ['bob@example.com'], from: 'alice@example.com', cipher, crypto, compress: true }));
      expect(out.length).toBeLessThan(body.length / 4); // compressed before it was encrypted
      const want = splitForProtection(msg).inner;
      const r = await decryptMessage(out, { store: s });
      expect(r.compressed).toBe(true);
      expect(Buffer.from(r.content).equals(Buffer.from(want))).toBe(true);
      const o = await openMessage(out, { store: s });
      expect(o.layers.map((l) => l.type)).toEqual([cipher.endsWith('gcm') ? 'authEnveloped' : 'enveloped', 'compressed']);
      expect(Buffer.from(o.content).equals(Buffer.from(want))).toBe(true);
      // The same as encryptMessage with compress: true.
      const b = await decryptMessage(await encryptMessage(msg, { store: s, to: ['bob@example.com'], from: 'alice@example.com', cipher, compress: true }), { store: s });
      expect(Buffer.from(b.content).equals(Buffer.from(r.content))).toBe(true);
    });
  }

  it('a recipient without a certificate: MissingRecipientCertificatesError, the input never read', async () => {
    const s = await store();
    const src = source(enc(MSG), 5);
    const e = await encryptStream(src.stream, { store: s, to: ['bob@example.com', 'nobody@example.com'] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MissingRecipientCertificatesError);
    expect(Object.keys((e as MissingRecipientCertificatesError).reasons)).toEqual(['nobody@example.com']);
    expect(src.pulls()).toBe(0);
  });


  it('a header section past maxHeaderBytes: MIMELimitExceeded', async () => {
    const s = await store();
    const big = enc('X-Long: ' + 'a'.repeat(8000) + '\r\n\r\nbody');
    const e = await encryptStream(source(big, 1000).stream, { store: s, to: ['bob@example.com'], limits: { maxHeaderBytes: 4096 } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MIMELimitExceeded);
  });

  it('bad arguments are TypeErrors', async () => {
    const s = await store();
    await expect(encryptStream(enc(MSG) as unknown as ReadableStream<Uint8Array>, { store: s, to: ['bob@example.com'] })).rejects.toBeInstanceOf(TypeError);
    await expect(encryptStream(source(enc(MSG), 5).stream, { store: s, to: [] })).rejects.toBeInstanceOf(TypeError);
  });

  it('backpressure: the input is read as the output is pulled', async () => {
    const s = await store();
    const src = source(bigMessage(16 << 20), 65536);
    const out = await encryptStream(src.stream, { store: s, to: ['bob@example.com'], crypto: nodeCrypto() });
    const before = src.pulls();
    expect(before).toBeLessThanOrEqual(2);
    const reader = out.getReader();
    let got = 0;
    for (let i = 0; i < 4; i++) got += (await reader.read()).value!.length;
    expect(got).toBeGreaterThan(4 * 60_000);
    // 4 reads of the output pulled about 4 pieces of input, not the 256 of the message.
    expect(src.pulls()).toBeLessThanOrEqual(before + 6);
    await reader.cancel();
  });
});
