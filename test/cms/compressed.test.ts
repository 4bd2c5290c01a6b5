/**
 * Issue 16, compressed data (RFC 3274) without peers: CompressedData as we write it (DER, version 0, zlib without
 * parameters, id-data), `compress: true` on signMessage and encryptMessage read back by verifyMessage,
 * decryptMessage and openMessage (a 'compressed' layer); BER input (indefinite lengths, a constructed OCTET STRING)
 * and a `.p7z` octet-stream; a decompression bomb (1 GiB of zeros) stops at maxDecompressedBytes with
 * CMSLimitExceeded; a truncated or corrupt zlib stream is CMSInvalid; another compression algorithm is
 * UnsupportedAlgorithm.
 */
import { createDeflate } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { decryptMessage, encryptMessage, openMessage, signMessage, verifyMessage } from '../../src/index.js';
import { CMSInvalid, CMSLimitExceeded, SmimeError, UnsupportedAlgorithm } from '../../src/errors.js';
import { buildCompressedData, decompressCms, readCompressedData } from '../../src/cms/compressed.js';
import { algorithmIdentifier, children, explicit, integer, octets, oid, readTlv, seq, stringContent } from '../../src/lib/der.js';
import { DEFAULT_LIMITS } from '../../src/lib/limits.js';
import { decompressContent } from '../../src/ops/compress.js';
import { OIDS } from '../../src/cms/oids.js';
import { rejection } from '../_helpers/thrown.js';
import { storeWith } from '../_helpers/identities.js';
import type { CertificateStore } from '../../src/index.js';

const te = new TextEncoder();
const td = new TextDecoder();
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64').replace(/.{1,76}/g, '$&\r\n');
const ENTITY = te.encode(`Content-Type: text/plain; charset=utf-8\r\n\r\n${'The same line, again and again, compresses well.\r\n'.repeat(400)}`);
const MESSAGE = te.encode(
  'From: alice@example.com\r\nTo: bob@example.com\r\nSubject: compressed\r\nMIME-Version: 1.0\r\n' + td.decode(ENTITY),
);

/** A compressed-data entity around a CompressedData ContentInfo. */
const p7z = (der: Uint8Array, type = 'application/pkcs7-mime; smime-type=compressed-data; name="smime.p7z"') =>
  te.encode(`MIME-Version: 1.0\r\nContent-Type: ${type}\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64(der)}`);

/** A CompressedData ContentInfo (DER) around the zlib stream `z`, with `alg` as the algorithm. */
const compressedData = (z: Uint8Array, alg = algorithmIdentifier(OIDS.zlibCompress), version = 0) =>
  seq(oid(OIDS.compressedData), explicit(0, seq(integer(version), alg, seq(oid(OIDS.data), explicit(0, octets(z))))));

/** BER with indefinite lengths: tag, 0x80, the parts, end-of-contents. */
const ber = (id: number, ...parts: Uint8Array[]) => new Uint8Array([id, 0x80, ...parts.flatMap((p) => [...p]), 0, 0]);

/** The zlib stream (level 9) of `gib` GiB of zeros, written 1 MiB at a time (never 1 GiB in memory). */
async function zerosBomb(bytes: number): Promise<Uint8Array> {
  const d = createDeflate({ level: 9 });
  const out: Buffer[] = [];
  d.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((resolve) => d.on('end', resolve));
  const mib = Buffer.alloc(1 << 20);
  for (let sent = 0; sent < bytes; sent += mib.length) if (!d.write(mib)) await new Promise((r) => d.once('drain', r));
  d.end();
  await done;
  return new Uint8Array(Buffer.concat(out));
}

/** The zlib stream inside a CompressedData ContentInfo. */
function zlibOf(der: Uint8Array): Uint8Array {
  return readCompressedData(der, DEFAULT_LIMITS).compressed;
}

let alice: CertificateStore;
let bob: CertificateStore;
beforeAll(async () => {
  alice = await storeWith(['alice-sign'], ['bob']);
  bob = await storeWith(['bob'], []);
});

describe('CompressedData as written', () => {
  it('is a DER ContentInfo: id-ct-compressedData, version 0, id-alg-zlibCompress without parameters, id-data, a zlib stream', async () => {
    const der = await buildCompressedData(ENTITY);
    const top = readTlv(der, 0);
    expect(top.end).toBe(der.length);
    const [typeT, wrapT] = children(der, top);
    expect(Buffer.from(der.subarray(typeT!.start, typeT!.end)).toString('hex')).toBe(Buffer.from(oid('1.2.840.113549.1.9.16.1.9')).toString('hex'));
    const [cd] = children(der, wrapT);
    const [v, alg, eci] = children(der, cd);
    expect([...der.subarray(v!.start, v!.end)]).toEqual([2, 1, 0]);
    expect(Buffer.from(der.subarray(alg!.start, alg!.end)).toString('hex')).toBe('300d060b2a864886f70d0109100308');
    const [ct, ec] = children(der, eci);
    expect(Buffer.from(der.subarray(ct!.start, ct!.end)).toString('hex')).toBe('06092a864886f70d010701');
    const z = stringContent(der, children(der, ec)[0]);
    expect(z[0]).toBe(0x78); // zlib header (RFC 1950): CM 8, 32 KiB window
    expect(z.length).toBeLessThan(ENTITY.length / 10);
    const back = await decompressCms(der, DEFAULT_LIMITS);
    expect(back.contentType).toBe(OIDS.data);
    expect(Buffer.from(back.content).equals(Buffer.from(ENTITY))).toBe(true);
  });

  it('openMessage reads a compressed-data message as one "compressed" layer, content byte for byte', async () => {
    const msg = p7z(await buildCompressedData(ENTITY));
    const r = await openMessage(msg, { store: bob });
    expect(r.layers).toEqual([{ type: 'compressed', algorithm: 'zlib' }]);
    expect(td.decode(r.content)).toBe(td.decode(ENTITY));
    expect(r.encrypted).toBe(false);
    expect(r.authenticated).toBe(true);
  });

  it('reads BER: indefinite lengths everywhere and the zlib stream in a constructed OCTET STRING of 3 chunks', async () => {
    const z = zlibOf(await buildCompressedData(ENTITY));
    const a = Math.floor(z.length / 3);
    const chunks = ber(0x24, octets(z.subarray(0, a)), octets(z.subarray(a, 2 * a)), octets(z.subarray(2 * a)));
    const der = ber(0x30, oid(OIDS.compressedData), ber(0xa0, ber(0x30, integer(0), algorithmIdentifier(OIDS.zlibCompress), ber(0x30, oid(OIDS.data), ber(0xa0, chunks)))));
    const r = await openMessage(der, { store: bob });
    expect(r.layers).toEqual([{ type: 'compressed', algorithm: 'zlib' }]);
    expect(td.decode(r.content)).toBe(td.decode(ENTITY));
    // NULL parameters (as some writers put them) are read too.
    const withNull = compressedData(z, algorithmIdentifier(OIDS.zlibCompress, Uint8Array.of(5, 0)));
    expect(td.decode((await openMessage(withNull, { store: bob })).content)).toBe(td.decode(ENTITY));
  });

  it('reads x-pkcs7-mime and an application/octet-stream attachment named smime.p7z', async () => {
    const der = await buildCompressedData(ENTITY);
    for (const type of ['application/x-pkcs7-mime; smime-type=compressed-data', 'application/octet-stream; name="smime.p7z"']) {
      const r = await openMessage(p7z(der, type), { store: bob });
      expect(r.layers.map((l) => l.type)).toEqual(['compressed']);
      expect(td.decode(r.content)).toBe(td.decode(ENTITY));
    }
  });
});

describe('compress: true, then sign or encrypt (RFC 8551 §3.6)', () => {
  it('signMessage: multipart/signed over a compressed-data entity; verifyMessage decompresses, openMessage shows signed then compressed', async () => {
    const signed = await signMessage(MESSAGE, { store: alice, from: 'alice@example.com', compress: true });
    const text = td.decode(signed);
    expect(text).toContain('multipart/signed');
    expect(text).toContain('Content-Type: application/pkcs7-mime; smime-type=compressed-data; name="smime.p7z"');
    expect(text).not.toContain('The same line, again and again');
    expect(signed.length).toBeLessThan(ENTITY.length);
    const v = await verifyMessage(signed, { store: bob });
    expect(v.signers.map((s) => s.status)).toEqual(['valid']);
    expect(v.compressed).toBe(true);
    expect(td.decode(v.content)).toBe(td.decode(ENTITY));
    const o = await openMessage(signed, { store: bob });
    expect(o.layers.map((l) => l.type)).toEqual(['signed', 'compressed']);
    expect(td.decode(o.content)).toBe(td.decode(ENTITY));
  });

  it('signMessage opaque (detached: false) with compress', async () => {
    const signed = await signMessage(MESSAGE, { store: alice, from: 'alice@example.com', compress: true, detached: false });
    const v = await verifyMessage(signed, { store: bob });
    expect(v.detached).toBe(false);
    expect(v.signers.map((s) => s.status)).toEqual(['valid']);
    expect(v.compressed).toBe(true);
    expect(td.decode(v.content)).toBe(td.decode(ENTITY));
  });

  it('without compress nothing changes: no compressed flag, the content as signed', async () => {
    const signed = await signMessage(MESSAGE, { store: alice, from: 'alice@example.com' });
    const v = await verifyMessage(signed, { store: bob });
    expect(v.compressed).toBeUndefined();
    expect(td.decode(v.content)).toBe(td.decode(ENTITY));
  });

  for (const cipher of ['aes-256-cbc', 'aes-128-gcm'] as const) {
    it(`encryptMessage (${cipher}): the envelope holds the compressed-data entity; decryptMessage decompresses, openMessage shows it`, async () => {
      const enc = await encryptMessage(MESSAGE, { store: alice, to: ['bob@example.com'], compress: true, cipher });
      const plain = await encryptMessage(MESSAGE, { store: alice, to: ['bob@example.com'], cipher });
      expect(enc.length).toBeLessThan(plain.length / 4);
      expect(td.decode(enc)).toContain('Subject: compressed');
      const d = await decryptMessage(enc, { store: bob });
      expect(d.compressed).toBe(true);
      expect(d.cipher).toBe(cipher);
      expect(td.decode(d.content)).toBe(td.decode(ENTITY));
      const o = await openMessage(enc, { store: bob });
      expect(o.layers.map((l) => l.type)).toEqual([cipher.endsWith('gcm') ? 'authEnveloped' : 'enveloped', 'compressed']);
      expect(td.decode(o.content)).toBe(td.decode(ENTITY));
      expect(o.authenticated).toBe(cipher.endsWith('gcm'));
      expect((await decryptMessage(plain, { store: bob })).compressed).toBeUndefined();
    });
  }

  it('sign with compress, then encrypt: openMessage shows enveloped, signed, compressed', async () => {
    const signed = await signMessage(MESSAGE, { store: alice, from: 'alice@example.com', compress: true });
    const enc = await encryptMessage(signed, { store: alice, to: ['bob@example.com'] });
    const o = await openMessage(enc, { store: bob });
    expect(o.layers.map((l) => l.type)).toEqual(['enveloped', 'signed', 'compressed']);
    expect(o.authenticated).toBe(true);
    expect(td.decode(o.content)).toBe(td.decode(ENTITY));
  });

  it('compress must be a boolean', async () => {
    expect((await rejection(signMessage(MESSAGE, { store: alice, from: 'alice@example.com', compress: 'yes' as unknown as boolean }))).name).toBe('TypeError');
    expect((await rejection(encryptMessage(MESSAGE, { store: alice, to: ['bob@example.com'], compress: 1 as unknown as boolean }))).name).toBe('TypeError');
  });
});

describe('hostile input', () => {
  let bomb: Uint8Array;
  beforeAll(async () => {
    bomb = await zerosBomb(1 << 30);
  }, 60_000);

  it('a bomb (1 GiB of zeros, about 1 MiB compressed) stops at the default maxDecompressedBytes (256 MiB), quickly', async () => {
    expect(bomb.length).toBeLessThan(2 << 20);
    const t0 = performance.now();
    const e = await rejection(openMessage(p7z(compressedData(bomb)), { store: bob }));
    const ms = performance.now() - t0;
    expect(e).toBeInstanceOf(CMSLimitExceeded);
    expect((e as CMSLimitExceeded).limit).toBe('maxDecompressedBytes');
    expect(e.message).toContain('268435456');
    expect(ms).toBeLessThan(20_000);
  }, 30_000);

  it('the limit is per call: 1 MiB stops the bomb within a few chunks; inside an encryption layer too', async () => {
    const t0 = performance.now();
    const e = await rejection(openMessage(compressedData(bomb), { store: bob, limits: { maxDecompressedBytes: 1 << 20 } }));
    expect(e).toBeInstanceOf(CMSLimitExceeded);
    expect(performance.now() - t0).toBeLessThan(2_000);
    const enc = await encryptMessage(p7z(compressedData(bomb)), { store: alice, to: ['bob@example.com'] });
    const e2 = await rejection(decryptMessage(enc, { store: bob, limits: { maxDecompressedBytes: 1 << 20 } }));
    expect(e2).toBeInstanceOf(CMSLimitExceeded);
    expect((e2 as CMSLimitExceeded).limit).toBe('maxDecompressedBytes');
    const e3 = await rejection(openMessage(enc, { store: bob, limits: { maxDecompressedBytes: 1 << 20 } }));
    expect(e3).toBeInstanceOf(CMSLimitExceeded);
  });

  it('content of exactly maxDecompressedBytes passes, one byte more does not', async () => {
    const der = await buildCompressedData(new Uint8Array(1000));
    expect((await decompressCms(der, { ...DEFAULT_LIMITS, maxDecompressedBytes: 1000 })).content.length).toBe(1000);
    expect(await rejection(decompressCms(der, { ...DEFAULT_LIMITS, maxDecompressedBytes: 999 }))).toBeInstanceOf(CMSLimitExceeded);
  });

  it('maxDecompressionRatio (off by default) stops a stream that expands more than it allows, as the bytes come out', async () => {
    const der = await buildCompressedData(new Uint8Array(1 << 20)); // about 1 KiB of zlib for 1 MiB of zeros
    const z = zlibOf(der).length;
    expect(z).toBeLessThan(2048);
    expect((await openMessage(der, { store: bob })).content.length).toBe(1 << 20);
    const e = await rejection(openMessage(der, { store: bob, limits: { maxDecompressionRatio: 100 } }));
    expect(e).toBeInstanceOf(CMSLimitExceeded);
    expect((e as CMSLimitExceeded).limit).toBe('maxDecompressionRatio');
    expect(e.message).toContain(`more than maxDecompressionRatio (100) times its ${z} bytes`);
    // The bomb (about 1 MiB), with a ratio of 50: stopped at about 50 MiB, long before 256 MiB.
    const t0 = performance.now();
    const e2 = await rejection(openMessage(compressedData(bomb), { store: bob, limits: { maxDecompressionRatio: 50 } }));
    expect((e2 as CMSLimitExceeded).limit).toBe('maxDecompressionRatio');
    expect(performance.now() - t0).toBeLessThan(5_000);
    // Numbered lines of text (about 6:1) pass a ratio of 100.
    const text = te.encode(Array.from({ length: 5000 }, (_, i) => `line ${i}: the quick brown fox\r\n`).join(''));
    expect((await openMessage(await buildCompressedData(text), { store: bob, limits: { maxDecompressionRatio: 100 } })).content.length).toBe(text.length);
  });

  it('maxDecompressedBytes is validated like the other limits', async () => {
    expect((await rejection(openMessage(compressedData(bomb), { store: bob, limits: { maxDecompressedBytes: 0 } }))).name).toBe('RangeError');
    expect((await rejection(openMessage(compressedData(bomb), { store: bob, limits: { maxDecompressedBytes: Infinity } }))).name).toBe('RangeError');
    expect((await rejection(openMessage(compressedData(bomb), { store: bob, limits: { maxDecompressionRatio: 0.5 } }))).name).toBe('RangeError');
  });

  it('a truncated zlib stream is CMSInvalid', async () => {
    const z = zlibOf(await buildCompressedData(ENTITY));
    for (const cut of [z.subarray(0, z.length - 4), z.subarray(0, z.length >> 1), z.subarray(0, 2), new Uint8Array(0)]) {
      const e = await rejection(openMessage(p7z(compressedData(cut)), { store: bob }));
      expect(e).toBeInstanceOf(CMSInvalid);
      expect(e.message).toContain('truncated or corrupt');
    }
  });

  it('a corrupt zlib stream (bad header, bad deflate data, bad checksum) is CMSInvalid, inside a signature too', async () => {
    const z = zlibOf(await buildCompressedData(ENTITY));
    const flip = (i: number) => {
      const c = z.slice();
      c[i]! ^= 0xff;
      return c;
    };
    for (const bad of [flip(0), flip(1), flip(5), flip(z.length - 1)]) {
      const e = await rejection(openMessage(p7z(compressedData(bad)), { store: bob }));
      expect(e).toBeInstanceOf(CMSInvalid);
    }
    const signed = await signMessage(p7z(compressedData(flip(z.length - 2))), { store: alice, from: 'alice@example.com' });
    expect(await rejection(verifyMessage(signed, { store: bob }))).toBeInstanceOf(CMSInvalid);
  });

  it('another compression algorithm is UnsupportedAlgorithm naming its OID', async () => {
    const z = zlibOf(await buildCompressedData(ENTITY));
    const e = await rejection(openMessage(p7z(compressedData(z, algorithmIdentifier('1.2.840.113549.1.9.16.3.99'))), { store: bob }));
    expect(e).toBeInstanceOf(UnsupportedAlgorithm);
    expect((e as UnsupportedAlgorithm).oid).toBe('1.2.840.113549.1.9.16.3.99');
  });

  it('400 seeded random mutations of a CompressedData (DER and as a signed, compressed message) each end in a result or a SmimeError', async () => {
    let seed = 0x16c0ffee;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    const der = await buildCompressedData(ENTITY);
    const signed = await signMessage(MESSAGE, { store: alice, from: 'alice@example.com', compress: true, detached: false });
    const seen = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const base = i % 2 === 0 ? der : signed;
      const m = base.slice(0, rnd(4) === 0 ? rnd(base.length) + 1 : base.length);
      for (let k = 1 + rnd(4); k > 0; k--) m[rnd(m.length)] = rnd(256);
      try {
        await openMessage(m, { store: bob, limits: { maxDecompressedBytes: 1 << 20 } });
        seen.add('result');
      } catch (e) {
        if (!(e instanceof SmimeError)) throw new Error(`case ${i}: ${String(e)}`);
        seen.add((e as SmimeError).code);
      }
    }
    expect(seen.has('ERR_CMS_INVALID')).toBe(true);
  }, 60_000);

  it('content that is not MIME (a 2 MiB first line, past maxHeaderBytes) or another CMS type is returned as is, not compressed', async () => {
    const long = new Uint8Array(2 << 20).fill(0x41);
    const asIs = await decompressContent(long, DEFAULT_LIMITS);
    // (Buffer.equals: toEqual walks 2 MiB element by element, seconds of this file's time)
    expect(Object.keys(asIs).sort()).toEqual(['compressed', 'content']);
    expect(asIs.compressed).toBe(false);
    expect(Buffer.from(asIs.content.buffer, asIs.content.byteOffset, asIs.content.byteLength).equals(long)).toBe(true);
    const binary = Uint8Array.of(0x30, 0x80, 0x06, 0x09, ...oid(OIDS.signedData).subarray(2), 0, 0);
    expect((await decompressContent(binary, DEFAULT_LIMITS)).compressed).toBe(false);
    const der = await buildCompressedData(ENTITY);
    expect(td.decode((await decompressContent(der, DEFAULT_LIMITS)).content)).toBe(td.decode(ENTITY));
    expect(td.decode((await decompressContent(p7z(der), DEFAULT_LIMITS)).content)).toBe(td.decode(ENTITY));
  });

  it('a malformed CompressedData is CMSInvalid: version 1, zlib with parameters, no content', async () => {
    const z = zlibOf(await buildCompressedData(ENTITY));
    const noContent = seq(oid(OIDS.compressedData), explicit(0, seq(integer(0), algorithmIdentifier(OIDS.zlibCompress), seq(oid(OIDS.data)))));
    for (const bad of [compressedData(z, undefined, 1), compressedData(z, algorithmIdentifier(OIDS.zlibCompress, integer(9))), noContent]) {
      expect(await rejection(openMessage(bad, { store: bob }))).toBeInstanceOf(CMSInvalid);
    }
  });
});
