/**
 * decryptStream (src/decrypt_stream.ts): every enveloped message of vectors/manifest.json that decryptMessage opens
 * goes through decryptStream at several chunk sizes to the same content; `openssl cms -encrypt -stream` output and
 * encryptStream output are decrypted; GCM tampering, truncation, no named key, the header limit and backpressure;
 * without an accelerator (AES-GCM on WebCrypto AES-CTR + GHASH, the portable ChaCha20-Poly1305, WebCrypto AES-CBC) and the legacy ciphers.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import { CertificateStore, decryptMessage, decryptStream, encryptMessage, encryptStream, type DecryptResult } from '../../src/index.js';
import { nodeCrypto } from '../../src/crypto/node.js';
import { CMSDecryptionFailed, CMSInvalid, CMSLimitExceeded, SmimeError } from '../../src/errors.js';
import { manifest, storeWith, vfile, sharedStoreWith } from '../_helpers/identities.js';
import { hasPeer, IN_CI, run, shared, sharedAvailable, tmp, VECTORS } from '../_helpers/env.js';
import { extractCms } from '../../src/mime/extract.js';
import { buildPkcs7Mime } from '../../src/mime/pkcs7_mime.js';
import { buildCompressedData } from '../../src/cms/compressed.js';
import { drain } from './_streams.js';
import { OIDS } from '../../src/cms/oids.js';
import { algorithmIdentifier, explicit, integer, octets, oid, seq } from '../../src/lib/der.js';

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
const storeOf = sharedStoreWith;

/** A WebCrypto without the accelerators (no incremental AES): the WebCrypto paths. */
const plainCrypto = { subtle: webcrypto.subtle, getRandomValues: webcrypto.getRandomValues.bind(webcrypto), randomUUID: () => webcrypto.randomUUID() } as unknown as Crypto;

describe('decryptStream: the vectors decryptMessage opens', () => {
  const node = nodeCrypto();
  it('has envelopes to test, with every content cipher decryptMessage reads', async () => {
    expect(ENTRIES.length).toBeGreaterThan(15);
    const names = new Set(ENTRIES.map((e) => e.algorithms.contentEncryption?.name ?? ''));
    for (const n of ['aes-128-cbc', 'aes-256-gcm', 'des-ede3-cbc']) expect([...names].some((x) => x.includes(n)), n).toBe(true);
  });
  for (const e of ENTRIES) {
    const who = (e.identities ?? []).filter((n) => manifest.identities[n])[0];
    if (!who) continue;
    it(`${e.id} (${e.algorithms.contentEncryption?.name ?? '?'}) with ${who}`, async () => {
      const store = await storeOf([who]);
      const bytes = vfile(e.file);
      const expected = await decryptMessage(bytes, { store, crypto: node });
      const sizes = [7, 4096, 65536, bytes.length];
      if (bytes.length < 20000) sizes.push(1);
      for (const size of sizes) {
        const { content, result } = await streamed(bytes, size, store, node);
        expect(Buffer.from(content).equals(Buffer.from(expected.content)), `${e.id} in pieces of ${size}`).toBe(true);
        expect({ ...result, content: undefined }).toEqual({ ...expected, content: undefined });
      }
      // Without an accelerator: AES-CBC on WebCrypto, AES-GCM and ChaCha20-Poly1305 on the portable ciphers, the
      // legacy ciphers on src/crypto/legacy.ts.
      const { content, result } = await streamed(bytes, 4096, store, plainCrypto);
      expect(Buffer.from(content).equals(Buffer.from(expected.content))).toBe(true);
      expect({ ...result, content: undefined }).toEqual({ ...expected, content: undefined });
    });
  }
});

const enc = (s: string) => new TextEncoder().encode(s);

/** A MIME message with a body of `n` pseudo-random bytes (CR and LF in every arrangement). */
function bigMessage(n: number): Uint8Array {
  const head = enc('From: bob@example.com\r\nTo: alice@example.com\r\nContent-Type: application/octet-stream\r\n\r\n');
  const out = new Uint8Array(head.length + n);
  out.set(head);
  let x = 987654321;
  for (let i = head.length; i < out.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** The raw DER of an application/pkcs7-mime message. */
const derOf = (m: Uint8Array): Uint8Array => new Uint8Array(extractCms(m).der);

describe('decryptStream: our own and OpenSSL streaming output', () => {
  const node = nodeCrypto();
  const msg = bigMessage(300_000);
  for (const cipher of ['aes-256-cbc', 'aes-128-gcm', 'aes-256-gcm'] as const) {
    it(`encryptStream → decryptStream (${cipher}), piped, gives decryptMessage's content`, async () => {
      const store = await storeOf(['alice-enc-2025']);
      const encrypted = await encryptStream(source(msg, 10_000).stream, { store, to: ['alice@example.com'], cipher, crypto: node });
      const { content, done } = await decryptStream(encrypted, { store, crypto: node });
      const got = await collect(content);
      const r = await done;
      expect(r.authenticated).toBe(cipher !== 'aes-256-cbc');
      expect(r.cipher).toBe(cipher);
      expect(r.content.length).toBe(0);
      // The same message through the buffer functions.
      const again = await collect(await encryptStream(source(msg, 65536).stream, { store, to: ['alice@example.com'], cipher, crypto: node }));
      const expected = await decryptMessage(again, { store, crypto: node });
      expect(Buffer.from(got).equals(Buffer.from(expected.content))).toBe(true);
    });
  }

  for (const cipher of ['-aes256', '-aes-256-gcm']) {
    it(`openssl cms -encrypt -stream ${cipher}: the same content as decryptMessage, SMIME and DER`, async () => {
      if (!hasPeer('openssl', ['version'])) {
        expect(IN_CI).toBe(false);
        return;
      }
      const store = await storeOf(['alice-enc-2025']);
      const dir = tmp('smime-decrypt-stream-');
      const inFile = join(dir, 'in.eml');
      writeFileSync(inFile, msg);
      const cert = join(VECTORS, manifest.identities['alice-enc-2025']!.cert);
      for (const outform of ['SMIME', 'DER']) {
        const out = run('openssl', ['cms', '-encrypt', '-stream', '-binary', cipher, '-in', inFile, '-outform', outform, cert]);
        const expected = await decryptMessage(out, { store, crypto: node });
        expect(expected.authenticated).toBe(cipher === '-aes-256-gcm');
        for (const size of [7, 4096, 65536]) {
          const { content, result } = await streamed(out, size, store, node);
          expect(Buffer.from(content).equals(Buffer.from(expected.content)), `${outform} in pieces of ${size}`).toBe(true);
          expect(result.authenticated).toBe(expected.authenticated);
        }
      }
    });
  }
});

describe('decryptStream without an accelerator (the portable ciphers)', () => {
  const msg = bigMessage(300_000);
  for (const cipher of ['aes-256-cbc', 'aes-128-gcm', 'aes-256-gcm', 'chacha20-poly1305'] as const) {
    it(`${cipher}: encryptStream → decryptStream, no accelerator on either side, gives decryptMessage's content`, async () => {
      const store = await storeOf(['alice-enc-2025']);
      const encrypted = await collect(await encryptStream(source(msg, 10_000).stream, { store, to: ['alice@example.com'], cipher, crypto: plainCrypto }));
      const expected = await decryptMessage(encrypted, { store, crypto: nodeCrypto() });
      for (const size of [7, 65536]) {
        const { content, result } = await streamed(encrypted, size, store, plainCrypto);
        expect(Buffer.from(content).equals(Buffer.from(expected.content)), `in pieces of ${size}`).toBe(true);
        expect({ ...result, content: undefined }).toEqual({ ...expected, content: undefined });
        expect(result.authenticated).toBe(cipher !== 'aes-256-cbc');
      }
    });
  }

  for (const cipher of ['aes-256-gcm', 'chacha20-poly1305'] as const) {
    it(`${cipher}: a flipped tag or ciphertext byte errors the content stream after content was streamed, and rejects done with CMSDecryptionFailed`, async () => {
      const store = await storeOf(['alice-enc-2025']);
      const der = derOf(await encryptMessage(msg, { store, to: ['alice@example.com'], cipher, crypto: plainCrypto }));
      // DER with definite lengths: the mac is the last 16 bytes.
      for (const at of [der.length - 1, der.length - 16, der.length - 100_000]) {
        const bad = der.slice();
        bad[at]! ^= 0x01;
        await expect(decryptMessage(bad, { store, crypto: plainCrypto })).rejects.toBeInstanceOf(CMSDecryptionFailed);
        const { content, done } = await decryptStream(source(bad, 4096).stream, { store, crypto: plainCrypto });
        done.catch(() => undefined);
        const d = await drain(content);
        expect(d.err, `flipped at ${at}`).toBeInstanceOf(CMSDecryptionFailed);
        // The content streamed before the tag was checked: all but the last pieces.
        expect(d.total).toBeGreaterThan(msg.length - 70_000);
        await expect(done).rejects.toBe(d.err);
      }
    });
  }

  it.skipIf(!sharedAvailable())('public vectors: 3DES (RFC 4134 5.1), RC2-40 (5.2) and ChaCha20-Poly1305 (draft-ireland), with and without an accelerator', async () => {
    const rfc4134 = new CertificateStore();
    await rfc4134.importIdentity(shared('rfc4134/BobRSASignByCarl.cer'), shared('rfc4134/BobPrivRSAEncrypt.pri'));
    const bob = new CertificateStore();
    await bob.importIdentity(shared('rfc9216/keys/lamps-bob.encrypt.crt'), shared('rfc9216/keys/lamps-bob.decrypt.p8.pem'));
    for (const [file, store, cipher] of [
      ['rfc4134/5.1.bin', rfc4134, 'des-ede3-cbc'],
      ['rfc4134/5.2.bin', rfc4134, 'rc2-40-cbc'],
      ['draft-ireland-examples-cms/authEnvelopedForBobChaCha20Poly1305.p7m', bob, 'chacha20-poly1305'],
    ] as const) {
      const bytes = shared(file);
      const expected = await decryptMessage(bytes, { store });
      expect(expected.cipher).toBe(cipher);
      for (const crypto of [nodeCrypto(), plainCrypto]) {
        for (const size of [1, 5, 4096]) {
          const { content, result } = await streamed(bytes, size, store, crypto);
          expect(Buffer.from(content).equals(Buffer.from(expected.content)), `${file} in pieces of ${size}`).toBe(true);
          expect({ ...result, content: undefined }).toEqual({ ...expected, content: undefined });
        }
      }
    }
  });
});

describe('decryptStream: failures', () => {
  const node = nodeCrypto();
  const msg = bigMessage(200_000);
  let gcmP: Promise<Uint8Array> | undefined;
  /** A GCM message to alice, DER (definite lengths: the mac is the last 16 bytes). */
  const gcm = async (): Promise<Uint8Array> => {
    gcmP ??= (async () => derOf(await encryptMessage(msg, { store: await storeOf(['alice-enc-2025']), to: ['alice@example.com'], cipher: 'aes-256-gcm', crypto: node })))();
    return gcmP;
  };

  it('GCM: a flipped ciphertext byte or tag byte errors the stream and rejects done with CMSDecryptionFailed', async () => {
    const store = await storeOf(['alice-enc-2025']);
    const der = await gcm();
    expect((await streamed(der, 65536, store, node)).result.authenticated).toBe(true);
    for (const at of [der.length - 100_000, der.length - 20, der.length - 1]) {
      const bad = der.slice();
      bad[at]! ^= 0x01;
      await expect(decryptMessage(bad, { store, crypto: node })).rejects.toBeInstanceOf(CMSDecryptionFailed);
      for (const size of [4096, 65536]) expect(await streamFailure(bad, size, store, node), `flipped at ${at}`).toBeInstanceOf(CMSDecryptionFailed);
    }
  });

  it('CBC: a bad padding is CMSDecryptionFailed', async () => {
    const store = await storeOf(['alice-enc-2025']);
    const der = derOf(await encryptMessage(msg, { store, to: ['alice@example.com'], cipher: 'aes-256-cbc', crypto: node }));
    // The next-to-last block of the ciphertext changes the last block's plaintext (its padding) bit for bit.
    const bad = der.slice();
    bad[der.length - 17]! ^= 0x40;
    await expect(decryptMessage(bad, { store, crypto: node })).rejects.toBeInstanceOf(CMSDecryptionFailed);
    expect(await streamFailure(bad, 4096, store, node)).toBeInstanceOf(CMSDecryptionFailed);
    expect(await streamFailure(bad, 4096, store, plainCrypto)).toBeInstanceOf(CMSDecryptionFailed);
  });

  it('truncation, DER, BER and base64, at several points, is CMSInvalid (never a short success)', async () => {
    const store = await storeOf(['alice-enc-2025']);
    const der = await gcm();
    const ber = await collect(await encryptStream(source(msg, 65536).stream, { store, to: ['alice@example.com'], cipher: 'aes-256-cbc', crypto: node }));
    const berDer = derOf(ber);
    for (const m of [der, berDer]) {
      for (const cut of [1, 40, 600, Math.floor(m.length / 2), m.length - 30, m.length - 17, m.length - 2, m.length - 1]) {
        const e = await streamFailure(m.subarray(0, cut), 4096, store, node);
        expect(e, `cut at ${cut} of ${m.length}`).toBeInstanceOf(CMSInvalid);
      }
    }
    // base64 text cut at line ends
    const lines = Buffer.from(ber).toString('latin1').split('\r\n');
    for (const keep of [Math.floor(lines.length / 2), lines.length - 4]) {
      const e = await streamFailure(enc(lines.slice(0, keep).join('\r\n') + '\r\n'), 4096, store, node);
      expect(e, `${keep} lines`).toBeInstanceOf(CMSInvalid);
    }
  });

  it('no RecipientInfo names a key of the store: the promise rejects with CMSDecryptionFailed, before any content', async () => {
    const der = await gcm();
    // Not ours at all.
    const other = await storeOf(['bob']);
    await expect(decryptStream(source(der, 4096).stream, { store: other, crypto: node })).rejects.toBeInstanceOf(CMSDecryptionFailed);
    // Ours, but the RecipientInfo names another serial: decryptMessage's trial key opens it, a stream cannot.
    const store = await storeOf(['alice-enc-2025']);
    const serial = Buffer.from('0202' + manifest.identities['alice-enc-2025']!.serialHex, 'hex');
    const at = Buffer.from(der).indexOf(serial);
    expect(at).toBeGreaterThan(0);
    const renamed = der.slice();
    renamed[at + serial.length - 1]! ^= 0x55;
    expect((await decryptMessage(renamed, { store, crypto: node })).content.length).toBeGreaterThan(0);
    const src = source(renamed, 4096);
    await expect(decryptStream(src.stream, { store, crypto: node })).rejects.toBeInstanceOf(CMSDecryptionFailed);
    expect(src.given()).toBeLessThanOrEqual(8192);
  });

  it('maxCmsHeaderBytes: a structure around the content past it is CMSLimitExceeded', async () => {
    const store = await storeOf(['alice-enc-2025']);
    const der = await gcm();
    const e = await failure(decryptStream(source(der, 4096).stream, { store, crypto: node, limits: { maxCmsHeaderBytes: 200 } }));
    expect(e).toBeInstanceOf(CMSLimitExceeded);
    expect((e as CMSLimitExceeded).limit).toBe('maxCmsHeaderBytes');
    // the default lets it through
    expect((await streamed(der, 4096, store, node)).content.length).toBeGreaterThan(0);
  });

  it('refuses what is not a ReadableStream, and a header that is not S/MIME', async () => {
    const store = await storeOf(['alice-enc-2025']);
    await expect(decryptStream(new Uint8Array(4) as unknown as ReadableStream<Uint8Array>, { store })).rejects.toBeInstanceOf(TypeError);
    await expect(decryptStream(source(enc('Content-Type: text/plain\r\n\r\nhi'), 10).stream, { store })).rejects.toThrow(/not an S\/MIME message/);
  });
});

describe('decryptStream: backpressure', () => {
  it('reads the input as the content is pulled: a slow consumer holds the input back', async () => {
    const node = nodeCrypto();
    const store = await storeOf(['alice-enc-2025']);
    const msg = bigMessage(4 << 20);
    const smime = await encryptMessage(msg, { store, to: ['alice@example.com'], cipher: 'aes-256-gcm', crypto: node });
    // One huge chunk (cut into 64 KiB steps inside) and small chunks.
    for (const size of [smime.length, 16384]) {
      const src = source(smime, size);
      const { content, done } = await decryptStream(src.stream, { store, crypto: node });
      const reader = content.getReader();
      const first = await reader.read();
      expect(first.done).toBe(false);
      for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 1));
      // Nothing read ahead beyond a piece or two, while the consumer waits.
      if (size !== smime.length) expect(src.given()).toBeLessThanOrEqual(4 * 65536);
      let total = first.value!.length;
      let pulls = 1;
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        total += r.value.length;
        pulls++;
        // each piece is bounded: a 64 KiB step of base64 decodes to at most 48 KiB of plaintext
        expect(r.value.length).toBeLessThanOrEqual(65536);
      }
      expect(pulls).toBeGreaterThan(40);
      expect((await done).authenticated).toBe(true);
      expect(total).toBe((await decryptMessage(smime, { store, crypto: node })).content.length);
    }
  });
});

describe('decryptStream: compressed content inside', () => {
  it('is decompressed as decryptMessage does, within maxDecompressedBytes', async () => {
    const node = nodeCrypto();
    const store = await storeOf(['alice-enc-2025']);
    const text = enc('Content-Type: text/plain\r\n\r\n' + 'compressible line of text\r\n'.repeat(20000));
    const smime = await encryptMessage(text, { store, to: ['alice@example.com'], cipher: 'aes-256-gcm', compress: true, crypto: node });
    const expected = await decryptMessage(smime, { store, crypto: node });
    expect(expected.compressed).toBe(true);
    for (const size of [7, 4096, smime.length]) {
      const { content, result } = await streamed(smime, size, store, node);
      expect(Buffer.from(content).equals(Buffer.from(expected.content))).toBe(true);
      expect(result.compressed).toBe(true);
    }
    const e = await streamFailure(smime, 4096, await storeWith(['alice-enc-2025'], [], { limits: { maxDecompressedBytes: 100_000 } }), node);
    expect(e).toBeInstanceOf(CMSLimitExceeded);
    expect((e as CMSLimitExceeded).limit).toBe('maxDecompressedBytes');
    const r = await streamFailure(smime, 4096, await storeWith(['alice-enc-2025'], [], { limits: { maxDecompressionRatio: 20 } }), node);
    expect((r as CMSLimitExceeded).limit).toBe('maxDecompressionRatio');
  });

  it('streams the decompression: a bomb stops at maxDecompressedBytes, in bounded steps', async () => {
    const node = nodeCrypto();
    const store = await storeOf(['alice-enc-2025']);
    // 64 MiB of zeros compress to about 64 KiB; the limit stops it at 8 MiB.
    const zeros = new Uint8Array(64 << 20);
    const entity = buildPkcs7Mime(new Uint8Array(0), 'compressed-data', await buildCompressedData(zeros));
    const smime = await encryptMessage(entity, { store, to: ['alice@example.com'], cipher: 'aes-256-gcm', crypto: node });
    const limited = await storeWith(['alice-enc-2025'], [], { limits: { maxDecompressedBytes: 8 << 20 } });
    await expect(decryptMessage(smime, { store: limited, crypto: node })).rejects.toBeInstanceOf(CMSLimitExceeded);
    const { content, done } = await decryptStream(source(smime, 65536).stream, { store: limited, crypto: node });
    done.catch(() => undefined);
    const { err, total, largest } = await drain(content);
    expect(err).toBeInstanceOf(CMSLimitExceeded);
    expect((err as CMSLimitExceeded).limit).toBe('maxDecompressedBytes');
    // each piece out is a step of the decompression, not the whole
    expect(largest).toBeLessThanOrEqual(8 << 20);
    expect(total).toBeLessThanOrEqual(8 << 20);
    await expect(done).rejects.toBe(err);
  });

  it('a truncated zlib stream inside is CMSInvalid, as for decryptMessage', async () => {
    const node = nodeCrypto();
    const store = await storeOf(['alice-enc-2025']);
    const z = new Uint8Array(await new Response(new Blob([enc('hello world '.repeat(1000))]).stream().pipeThrough(new CompressionStream('deflate'))).arrayBuffer());
    const cd = seq(oid(OIDS.compressedData), explicit(0, seq(integer(0), algorithmIdentifier(OIDS.zlibCompress), seq(oid(OIDS.data), explicit(0, octets(z.subarray(0, z.length - 5)))))));
    const smime = await encryptMessage(buildPkcs7Mime(new Uint8Array(0), 'compressed-data', cd), { store, to: ['alice@example.com'], cipher: 'aes-256-gcm', crypto: node });
    await expect(decryptMessage(smime, { store, crypto: node })).rejects.toBeInstanceOf(CMSInvalid);
    expect(await streamFailure(smime, 4096, store, node)).toBeInstanceOf(CMSInvalid);
  });
});

describe('decryptStream: WebCrypto alone, and cancelling', () => {
  it('AES-CBC past several WebCrypto chunks without an incremental AES', async () => {
    const store = await storeOf(['alice-enc-2025']);
    const smime = await encryptMessage(bigMessage((2 << 20) + 12345), { store, to: ['alice@example.com'], cipher: 'aes-128-cbc', crypto: nodeCrypto() });
    const expected = await decryptMessage(smime, { store, crypto: nodeCrypto() });
    const { content, result } = await streamed(smime, 50_000, store, plainCrypto);
    expect(Buffer.from(content).equals(Buffer.from(expected.content))).toBe(true);
    expect(result.authenticated).toBe(false);
  });

  it('a consumer that cancels: the input is cancelled and done rejects', async () => {
    const node = nodeCrypto();
    const store = await storeOf(['alice-enc-2025']);
    const smime = await encryptMessage(bigMessage(1 << 20), { store, to: ['alice@example.com'], cipher: 'aes-256-gcm', crypto: node });
    let cancelled: unknown;
    let at = 0;
    const input = new ReadableStream<Uint8Array>(
      {
        pull(c) {
          if (at >= smime.length) return c.close();
          c.enqueue(smime.slice(at, at + 4096));
          at += 4096;
        },
        cancel(reason) {
          cancelled = reason;
        },
      },
      { highWaterMark: 0 },
    );
    const { content, done } = await decryptStream(input, { store, crypto: node });
    const reader = content.getReader();
    await reader.read();
    const reason = new Error('enough');
    await reader.cancel(reason);
    expect(cancelled).toBe(reason);
    await expect(done).rejects.toBe(reason);
    expect(at).toBeLessThan(smime.length);
  });
});

describe('decryptStream: hostile input', () => {
  it('mutated messages end in content or in a SmimeError, on the promise or on the stream, never anything else', async () => {
    const node = nodeCrypto();
    const store = await storeOf(['alice-enc-2025']);
    const text = enc('Content-Type: text/plain\r\n\r\n' + 'x'.repeat(3000));
    const inputs = [
      derOf(await encryptMessage(text, { store, to: ['alice@example.com'], cipher: 'aes-256-gcm', crypto: node })),
      derOf(await collect(await encryptStream(source(text, 1000).stream, { store, to: ['alice@example.com'], cipher: 'aes-256-cbc', crypto: node }))),
      derOf(await encryptMessage(enc('Content-Type: text/plain\r\n\r\n' + 'compress me '.repeat(500)), { store, to: ['alice@example.com'], cipher: 'aes-256-gcm', compress: true, crypto: node })),
    ];
    let seed = 42;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    let failed = 0;
    for (let i = 0; i < 240; i++) {
      const base = inputs[i % inputs.length]!;
      let m = base.slice();
      const kind = rnd(4);
      if (kind === 0) m[rnd(m.length)]! ^= 1 << rnd(8);
      else if (kind === 1) m = m.subarray(0, rnd(m.length));
      else if (kind === 2) m[rnd(Math.min(m.length, 400))] = rnd(256);
      else m = new Uint8Array([...m.subarray(0, 300), ...Array.from({ length: rnd(40) }, () => rnd(256)), ...m.subarray(300)]);
      let err: unknown;
      try {
        const { content, done } = await decryptStream(source(m, 1 + rnd(5000)).stream, { store, crypto: node });
        await collect(content);
        await done;
      } catch (e) {
        err = e;
      }
      if (err !== undefined) {
        failed++;
        expect(err, `mutation ${i} (${kind}): ${String(err)}`).toBeInstanceOf(SmimeError);
      }
    }
    expect(failed).toBeGreaterThan(100);
  });
});
