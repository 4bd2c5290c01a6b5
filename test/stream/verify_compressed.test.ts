/**
 * verifyStream over compressed content (RFC 3274, compress then sign): the signed bytes (the compressed entity) are
 * hashed, and the content comes out decompressed as it is read (src/ops/compressed_stream.ts), never held whole:
 * 64 MiB of zeros (about 64 KiB compressed) come out in bounded pieces (at most what 16 KiB of deflate input gives),
 * the first before the input is read to its end; maxDecompressedBytes and maxDecompressionRatio are counted as the bytes come out. OpenSSL's signed-data whose
 * eContent is the CompressedData itself (eContentType id-ct-compressedData) streams out as verifyMessage reads it.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
// The package on Node (its `node` entry): node:zlib's inflater bounds each step's output on every Node version, where
// Node 22's and 24's DecompressionStream give a bomb's rest in one piece at its end (src/lib/zlib.ts InflateEngine).
import { signMessage, verifyMessage, verifyStream, type CertificateStore } from '../../src/index.node.js';
import { CMSLimitExceeded } from '../../src/errors.js';
import { buildCompressedData } from '../../src/cms/compressed.js';
import { buildPkcs7Mime } from '../../src/mime/pkcs7_mime.js';
import { OIDS } from '../../src/cms/oids.js';
import { manifest, storeWith } from '../_helpers/identities.js';
import { hasPeer, IN_CI, run, tmp, VECTORS } from '../_helpers/env.js';
import { collect, drain, enc, source } from './_streams.js';

let storeP: Promise<CertificateStore> | undefined;
const store = (): Promise<CertificateStore> => (storeP ??= storeWith(['alice-sign']));

const MIB = 1 << 20;
const INNER_HEAD = enc('From: alice@example.com\r\nContent-Type: application/octet-stream\r\n\r\n');
let bombP: Promise<Uint8Array> | undefined;
/** A compressed-data entity of 64 MiB of zeros (a From header inside: the signer's address binds). */
const bomb = (): Promise<Uint8Array> =>
  (bombP ??= (async () => {
    const inner = new Uint8Array(INNER_HEAD.length + 64 * MIB);
    inner.set(INNER_HEAD);
    return buildPkcs7Mime(enc('From: alice@example.com\r\n'), 'compressed-data', await buildCompressedData(inner));
  })());

/** {@link drain} of `content`, with the input read at the first piece and whether a content byte past the head is not zero. */
async function drained(content: ReadableStream<Uint8Array>, given: () => number) {
  let firstAt = -1;
  let nonZero = 0;
  const d = await drain(content, (piece, before) => {
    if (firstAt < 0) firstAt = given();
    // the content's own header section aside, every byte is a zero (sampled)
    for (let i = Math.max(0, INNER_HEAD.length - before); i < piece.length; i += 4093) nonZero |= piece[i]!;
  });
  return { ...d, firstAt, nonZero };
}

describe('verifyStream: compressed content streams out', () => {
  for (const detached of [false, true]) {
    it(`64 MiB compressed, ${detached ? 'multipart/signed' : 'opaque signed-data'}: valid, compressed, in bounded pieces, the first before the input ends`, async () => {
      const s = await store();
      const signed = await signMessage(await bomb(), { store: s, from: 'alice@example.com', detached });
      expect(signed.length).toBeLessThan(MIB);
      // Within a ratio limit the zeros pass (deflate tops out near 1032:1).
      const src = source(signed, 4096);
      const { content, done } = await verifyStream(src.stream, { store: s, harvest: false, limits: { maxDecompressionRatio: 4000 } });
      const d = await drained(content, src.given);
      expect(d.err).toBeUndefined();
      const r = await done;
      expect(r.compressed).toBe(true);
      expect(r.signers.map((x) => x.status)).toEqual(['valid']);
      expect(d.total).toBe(INNER_HEAD.length + 64 * MIB);
      expect(d.nonZero).toBe(0);
      // Never held whole: each piece is a step of the decompression, 4 KiB of compressed input at most, which for
      // zeros (deflate's ratio tops out near 1032:1) is about 4.2 MiB (with the pieces of one input chunk joined: the
      // bound of a piece, whatever the content's size).
      expect(d.largest).toBeLessThanOrEqual(8 * MIB);
      expect(d.pieces).toBeGreaterThanOrEqual(3);
      expect(d.firstAt).toBeLessThan(signed.length);
    });
  }

  it('the limits are counted as the bytes come out: maxDecompressedBytes stops at 8 MiB, maxDecompressionRatio 100 at once', async () => {
    const s = await store();
    const signed = await signMessage(await bomb(), { store: s, from: 'alice@example.com', detached: false });
    for (const [limits, name, atMost] of [
      [{ maxDecompressedBytes: 8 * MIB }, 'maxDecompressedBytes', 8 * MIB],
      [{ maxDecompressionRatio: 100 }, 'maxDecompressionRatio', 4 * MIB],
    ] as const) {
      const src = source(signed, 4096);
      const { content, done } = await verifyStream(src.stream, { store: s, harvest: false, limits });
      const d = await drained(content, src.given);
      expect(d.err, name).toBeInstanceOf(CMSLimitExceeded);
      expect((d.err as CMSLimitExceeded).limit).toBe(name);
      expect(d.total).toBeLessThanOrEqual(atMost);
      await expect(done).rejects.toBe(d.err);
      // verifyMessage says the same.
      await expect(verifyMessage(signed, { store: s, harvest: false, limits })).rejects.toBeInstanceOf(CMSLimitExceeded);
    }
  });

  it('openssl cms -sign -econtent_type id-ct-compressedData (the CompressedData itself as eContent): as verifyMessage reads it', async () => {
    if (!hasPeer('openssl', ['version'])) {
      expect(IN_CI).toBe(false);
      return;
    }
    const s = await store();
    const dir = tmp('smime-verify-compressed-');
    const text = enc('Content-Type: text/plain\r\n\r\n' + 'a line that compresses well\r\n'.repeat(40_000));
    const der = await buildCompressedData(text);
    const inFile = join(dir, 'cd.der');
    writeFileSync(inFile, der);
    const id = manifest.identities['alice-sign']!;
    for (const outform of ['SMIME', 'DER']) {
      const signed = run('openssl', [
        'cms', '-sign', '-binary', '-nodetach', '-econtent_type', OIDS.compressedData, '-in', inFile, '-outform', outform,
        '-signer', join(VECTORS, id.cert), '-inkey', join(VECTORS, id.key),
      ]);
      const want = await verifyMessage(signed, { store: s, harvest: false });
      expect(want.compressed).toBe(true);
      expect(Buffer.from(want.content).equals(Buffer.from(text))).toBe(true);
      for (const size of [7, 4096, signed.length]) {
        const src = source(signed, size);
        const { content, done } = await verifyStream(src.stream, { store: s, harvest: false });
        const got = await collect(content);
        const r = await done;
        expect(Buffer.from(got).equals(Buffer.from(text)), `${outform} in pieces of ${size}`).toBe(true);
        expect(r.compressed).toBe(true);
        expect(r.signers.map((x) => [x.status, x.reasons])).toEqual(want.signers.map((x) => [x.status, x.reasons]));
      }
    }
  });
});
