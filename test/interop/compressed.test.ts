/**
 * Issue 16, compressed data (RFC 3274) with the peers, both ways:
 * - Bouncy Castle (vectors/java/SmimePeer.java `compress`: CMSCompressedDataGenerator / CMSCompressedDataStreamGenerator
 *   with ZlibCompressor, BER) writes, openMessage reads, alone, as a compressed-data MIME entity, and inside BC's
 *   EnvelopedData for bob (decryptMessage decompresses);
 * - what we write (buildCompressedData, the entity inside signMessage, encryptMessage and encryptStream — streamed, BER —
 *   with `compress: true`) is read
 *   by BC (`uncompress`: CMSCompressedData with ZlibExpanderProvider), content byte for byte;
 * - OpenSSL: this one is built without zlib (`openssl cms -compress`/`-uncompress` say "unsupported compression
 *   algorithm"), its limit in the matrix; it still parses our CompressedData (`openssl cms -cmsout -print`). Where
 *   OpenSSL has zlib, the round trips with `openssl cms -compress`/`-uncompress` run instead.
 * Tagged `[peer|in|compressed data|…]` for the matrix (scripts/interop-report.mjs, docs/interop.md).
 * With CI=true a missing peer is a failure; elsewhere its tests skip with a notice.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decryptMessage, encryptMessage, encryptStream, openMessage, signMessage } from '../../src/index.js';
import type { CertificateStore } from '../../src/index.js';
import { buildCompressedData } from '../../src/cms/compressed.js';
import { parseMultipartSigned } from '../../src/mime/multipart_signed.js';
import { tmp, tryRun, VECTORS } from '../_helpers/env.js';
import { compileSmimePeer, havePeers, type RunResult } from '../_helpers/peers.js';
import { storeWith } from '../_helpers/identities.js';

const HAVE = havePeers();
const td = new TextDecoder();
const te = new TextEncoder();
const BOB_CERT = join(VECTORS, 'identities', 'bob.cert.pem');

/** A MIME entity of about 600 KiB that compresses well but not to nothing (numbered lines). */
const ENTITY = te.encode(
  'Content-Type: text/plain; charset=utf-8\r\n\r\n' + Array.from({ length: 12_000 }, (_, i) => `line ${i}: the quick brown fox jumps over the lazy dog\r\n`).join(''),
);
const MESSAGE = te.encode('From: alice@example.com\r\nTo: bob@example.com\r\nSubject: compressed\r\nMIME-Version: 1.0\r\n' + td.decode(ENTITY));
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64').replace(/.{1,76}/g, '$&\r\n');
const p7z = (der: Uint8Array) =>
  te.encode(`MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=compressed-data; name="smime.p7z"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64(der)}`);
/** The DER inside a base64 compressed-data entity. */
const derOf = (entity: Uint8Array) => new Uint8Array(Buffer.from(td.decode(entity).split(/\r\n\r\n/)[1]!, 'base64'));

let dir = '';
let n = 0;
function put(data: Uint8Array, ext: string): string {
  const f = join(dir, `f${++n}.${ext}`);
  writeFileSync(f, data);
  return f;
}
const out = (ext: string) => join(dir, `o${++n}.${ext}`);
const ok = (r: RunResult) => {
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
};

let alice: CertificateStore;
let bob: CertificateStore;
beforeAll(async () => {
  dir = tmp('compressed-');
  alice = await storeWith(['alice-sign'], ['bob']);
  bob = await storeWith(['bob'], []);
});

describe.runIf(HAVE.bc)('compressed data with Bouncy Castle', () => {
  let peer: (args: string[]) => Promise<RunResult>;
  beforeAll(() => {
    peer = compileSmimePeer(dir);
  }, 120_000);

  for (const stream of [false, true]) {
    it(`[bc|in|compressed data|zlib] BC's ${stream ? 'CMSCompressedDataStreamGenerator' : 'CMSCompressedDataGenerator'} (BER) is read by openMessage, raw and as a .p7z entity`, async () => {
      const o = out('p7z');
      ok(await peer(['compress', '--in', put(ENTITY, 'eml'), '--out', o, ...(stream ? ['--stream'] : [])]));
      const der = new Uint8Array(readFileSync(o));
      expect(der[1]).toBe(0x80); // BC writes indefinite lengths
      for (const input of [der, p7z(der)]) {
        const r = await openMessage(input, { store: bob });
        expect(r.layers).toEqual([{ type: 'compressed', algorithm: 'zlib' }]);
        expect(Buffer.from(r.content).equals(Buffer.from(ENTITY))).toBe(true);
      }
    }, 60_000);
  }

  it('[bc|in|compressed data|zlib, inside RSA v1.5 + AES-256-CBC] BC compresses, then encrypts the .p7z entity for bob: decryptMessage decompresses, openMessage shows both layers', async () => {
    const z = out('der');
    ok(await peer(['compress', '--in', put(ENTITY, 'eml'), '--out', z]));
    const env = out('p7m');
    ok(await peer(['encrypt', '--recip', BOB_CERT, '--in', put(p7z(new Uint8Array(readFileSync(z))), 'eml'), '--out', env]));
    const enc = new Uint8Array(readFileSync(env));
    const d = await decryptMessage(enc, { store: bob });
    expect(d.compressed).toBe(true);
    expect(Buffer.from(d.content).equals(Buffer.from(ENTITY))).toBe(true);
    const o = await openMessage(enc, { store: bob });
    expect(o.layers.map((l) => l.type)).toEqual(['enveloped', 'compressed']);
  }, 60_000);

  it('[bc|out|compressed data|zlib] BC uncompress reads buildCompressedData: id-alg-zlibCompress, id-data, the content byte for byte', async () => {
    const o = out('eml');
    const stdout = ok(await peer(['uncompress', '--in', put(await buildCompressedData(ENTITY), 'p7z'), '--out', o]));
    expect(stdout.trim()).toBe(`uncompressed 1.2.840.113549.1.9.16.3.8 1.2.840.113549.1.7.1 ${ENTITY.length}`);
    expect(Buffer.from(readFileSync(o)).equals(Buffer.from(ENTITY))).toBe(true);
  }, 60_000);

  it('[bc|out|compressed data|zlib, inside a signature and RSA v1.5 + AES-256-CBC] BC uncompress reads the compressed entity inside signMessage and encryptMessage with compress: true', async () => {
    const signed = await signMessage(MESSAGE, { store: alice, from: 'alice@example.com', compress: true });
    const inner = parseMultipartSigned(signed).signedPart;
    const o1 = out('eml');
    ok(await peer(['uncompress', '--in', put(derOf(inner), 'p7z'), '--out', o1]));
    expect(Buffer.from(readFileSync(o1)).equals(Buffer.from(ENTITY))).toBe(true);

    // Encrypted for bob: BC decrypts with bob's key, then uncompresses what it finds.
    const enc = await encryptMessage(MESSAGE, { store: alice, to: ['bob@example.com'], compress: true });
    const dec = out('eml');
    ok(await peer(['decrypt', '--cert', BOB_CERT, '--key', join(VECTORS, 'identities', 'bob.key.pem'), '--in', put(derOf(enc.subarray(td.decode(enc).indexOf('MIME-Version'))), 'p7m'), '--out', dec]));
    const o2 = out('eml');
    ok(await peer(['uncompress', '--in', put(derOf(new Uint8Array(readFileSync(dec))), 'p7z'), '--out', o2]));
    expect(Buffer.from(readFileSync(o2)).equals(Buffer.from(ENTITY))).toBe(true);
  }, 60_000);

  it('[bc|out|compressed data|zlib, streamed (BER) inside RSA v1.5 + AES-256-CBC] BC decrypts encryptStream with compress: true, then uncompresses the streamed CompressedData', async () => {
    let at = 0;
    const input = new ReadableStream<Uint8Array>({
      pull(c) {
        if (at >= MESSAGE.length) return c.close();
        c.enqueue(MESSAGE.slice(at, at + 50_000));
        at += 50_000;
      },
    });
    const parts: Uint8Array[] = [];
    for await (const p of (await encryptStream(input, { store: alice, to: ['bob@example.com'], compress: true })) as unknown as AsyncIterable<Uint8Array>) parts.push(p);
    const enc = new Uint8Array(Buffer.concat(parts));
    const dec = out('eml');
    ok(await peer(['decrypt', '--cert', BOB_CERT, '--key', join(VECTORS, 'identities', 'bob.key.pem'), '--in', put(derOf(enc.subarray(td.decode(enc).indexOf('MIME-Version'))), 'p7m'), '--out', dec]));
    const inner = new Uint8Array(readFileSync(dec));
    expect(td.decode(inner)).toContain('smime-type=compressed-data');
    const der = derOf(inner);
    expect([der[1], der.at(-1)]).toEqual([0x80, 0]); // BER with indefinite lengths
    const o = out('eml');
    ok(await peer(['uncompress', '--in', put(der, 'p7z'), '--out', o]));
    expect(Buffer.from(readFileSync(o)).equals(Buffer.from(ENTITY))).toBe(true);
  }, 60_000);
});

describe.runIf(HAVE.openssl)('compressed data with OpenSSL', () => {
  const zlib = tryRun('openssl', ['cms', '-compress', '-binary'], 'x');
  const hasZlib = zlib.status === 0;

  it('[openssl] openssl cms -cmsout -print parses our CompressedData: version 0, zlib without parameters, pkcs7-data', async () => {
    const r = tryRun('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', put(await buildCompressedData(ENTITY), 'p7z')]);
    expect(r.status).toBe(0);
    const text = td.decode(r.stdout);
    expect(text).toContain('id-smime-ct-compressedData (1.2.840.113549.1.9.16.1.9)');
    expect(text).toMatch(/version: 0\n\s+compressionAlgorithm: \n\s+algorithm: zlib compression \(1\.2\.840\.113549\.1\.9\.16\.3\.8\)\n\s+parameter: <ABSENT>/);
    expect(text).toContain('eContentType: pkcs7-data (1.2.840.113549.1.7.1)');
  });

  it.runIf(!hasZlib)('[openssl|in|compressed data|zlib] openssl cms -compress refuses limit: this OpenSSL is built without zlib', () => {
    expect(zlib.stderr).toContain('unsupported compression algorithm');
  });

  it.runIf(!hasZlib)('[openssl|out|compressed data|zlib] openssl cms -uncompress refuses ours limit: this OpenSSL is built without zlib', async () => {
    const r = tryRun('openssl', ['cms', '-uncompress', '-inform', 'DER', '-in', put(await buildCompressedData(ENTITY), 'p7z')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('unsupported compression algorithm');
  });

  it.runIf(hasZlib)('[openssl|in|compressed data|zlib] openssl cms -compress is read by openMessage; openssl cms -uncompress reads ours', async () => {
    const o = out('p7z');
    expect(tryRun('openssl', ['cms', '-compress', '-binary', '-outform', 'DER', '-in', put(ENTITY, 'eml'), '-out', o]).status).toBe(0);
    const r = await openMessage(new Uint8Array(readFileSync(o)), { store: bob });
    expect(Buffer.from(r.content).equals(Buffer.from(ENTITY))).toBe(true);
  });

  it.runIf(hasZlib)('[openssl|out|compressed data|zlib] openssl cms -uncompress reads ours', async () => {
    const u = tryRun('openssl', ['cms', '-uncompress', '-binary', '-inform', 'DER', '-in', put(await buildCompressedData(ENTITY), 'p7z')]);
    expect(u.status).toBe(0);
    expect(Buffer.from(u.stdout).equals(Buffer.from(ENTITY))).toBe(true);
  });
});
