/**
 * decryptStream (src/decrypt_stream.ts): every enveloped message of vectors/manifest.json that decryptMessage opens
 * goes through decryptStream at several chunk sizes to the same content; `openssl cms -encrypt -stream` output and
 * encryptStream output are decrypted; GCM tampering, truncation, no named key, the header limit and backpressure.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import { decryptMessage, decryptStream, encryptMessage, encryptStream, type CertificateStore, type DecryptResult } from '../../src/index.js';
import { nodeCrypto } from '../../src/crypto/node.js';
import { CMSDecryptionFailed, CMSInvalid, CMSLimitExceeded, UnsupportedAlgorithm } from '../../src/errors.js';
import { manifest, storeWith, vfile } from '../_helpers/identities.js';
import { hasPeer, IN_CI, run, tmp, VECTORS } from '../_helpers/env.js';
import { decodeBase64, encodeBase64Lines } from '../../src/lib/base64.js';
import { extractCms } from '../../src/mime/extract.js';

/** A stream of `bytes` in pieces of `size`, counting the bytes handed out. */
function source(bytes: Uint8Array, size: number): { stream: ReadableStream<Uint8Array>; given: () => number } {
  let at = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (at >= bytes.length) return c.close();
        c.enqueue(bytes.slice(at, at + size));
        at += size;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, given: () => Math.min(at, bytes.length) };
}

async function collect(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of s as unknown as AsyncIterable<Uint8Array>) parts.push(p);
  return new Uint8Array(Buffer.concat(parts));
}

/** decryptStream of `bytes` in pieces of `size`: the content and what `done` gives (or the first error). */
async function streamed(bytes: Uint8Array, size: number, store: CertificateStore, crypto?: Crypto): Promise<{ content: Uint8Array; result: DecryptResult }> {
  const { content, done } = await decryptStream(source(bytes, size).stream, { store, ...(crypto ? { crypto } : {}) });
  const c = await collect(content);
  return { content: c, result: await done };
}

/** The error a promise rejects with. */
async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

/** What the stream and `done` end with, when one of them fails: both must fail with the same error. */
async function streamFailure(bytes: Uint8Array, size: number, store: CertificateStore, crypto?: Crypto): Promise<unknown> {
  let opened;
  try {
    opened = await decryptStream(source(bytes, size).stream, { store, ...(crypto ? { crypto } : {}) });
  } catch (e) {
    return e;
  }
  let closed = false;
  const streamErr = await collect(opened.content).then(
    () => {
      closed = true;
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(closed, 'the content stream closed normally').toBe(false);
  const doneErr = await failure(opened.done);
  expect(doneErr).toBe(streamErr);
  return streamErr;
}

interface Entry {
  id: string;
  file: string;
  algorithms: { contentType: { name: string }; contentEncryption?: { name: string } };
  identities?: string[];
}
const ENTRIES = (manifest.messages as unknown as Entry[]).filter((e) => /^(authE|e)nvelopedData$/.test(e.algorithms?.contentType?.name ?? ''));
/** Content ciphers a stream decrypts (with an incremental AES): the others are UnsupportedAlgorithm. */
const STREAMABLE = /^aes-(128|192|256)-(cbc|gcm)$/;

const stores = new Map<string, Promise<CertificateStore>>();
const storeOf = (names: string[]): Promise<CertificateStore> => {
  const k = names.join(',');
  let s = stores.get(k);
  if (!s) stores.set(k, (s = storeWith(names)));
  return s;
};

/** A WebCrypto without the accelerators (no incremental AES): the WebCrypto paths. */
const plainCrypto = { subtle: webcrypto.subtle, getRandomValues: webcrypto.getRandomValues.bind(webcrypto), randomUUID: () => webcrypto.randomUUID() } as unknown as Crypto;

describe('decryptStream: the vectors decryptMessage opens', () => {
  const node = nodeCrypto();
  it('has envelopes to test', () => expect(ENTRIES.length).toBeGreaterThan(15));
  for (const e of ENTRIES) {
    const who = (e.identities ?? []).filter((n) => manifest.identities[n])[0];
    if (!who) continue;
    it(`${e.id} (${e.algorithms.contentEncryption?.name ?? '?'}) with ${who}`, async () => {
      const store = await storeOf([who]);
      const bytes = vfile(e.file);
      const expected = await decryptMessage(bytes, { store, crypto: node });
      const cipher = expected.cipher;
      if (!STREAMABLE.test(cipher)) {
        expect(await failure(decryptStream(source(bytes, 4096).stream, { store, crypto: node }))).toBeInstanceOf(UnsupportedAlgorithm);
        return;
      }
      const sizes = [7, 4096, 65536, bytes.length];
      if (bytes.length < 20000) sizes.push(1);
      for (const size of sizes) {
        const { content, result } = await streamed(bytes, size, store, node);
        expect(Buffer.from(content).equals(Buffer.from(expected.content)), `${e.id} in pieces of ${size}`).toBe(true);
        expect({ ...result, content: undefined }).toEqual({ ...expected, content: undefined });
      }
      if (/cbc/.test(cipher)) {
        // AES-CBC on WebCrypto alone (no incremental AES)
        const { content } = await streamed(bytes, 4096, store, plainCrypto);
        expect(Buffer.from(content).equals(Buffer.from(expected.content))).toBe(true);
      } else {
        expect(await failure(decryptStream(source(bytes, 4096).stream, { store, crypto: plainCrypto }))).toBeInstanceOf(UnsupportedAlgorithm);
      }
    });
  }
});
