/**
 * crypto/kdf.ts: the PKCS#12 KDF (RFC 7292 Appendix B.2) against an independent implementation and a published
 * vector, PBKDF2 against node:crypto for every hash, and the module's own checks (iteration bounds, the abort
 * signal, the work counter).
 */
import { describe, it, expect } from 'vitest';
import { pbkdf2Sync as nodePbkdf2, randomBytes } from 'node:crypto';
import { KdfAborted, kdfStats, pbkdf2, pkcs12Kdf } from '../../src/crypto/kdf.js';
import { DEFAULT_LIMITS } from '../../src/lib/limits.js';
import { Pkcs12Invalid, Pkcs12LimitExceeded, UnsupportedAlgorithm } from '../../src/errors.js';
import { bmp, referenceKdf } from '../_helpers/kdf.js';

const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('RFC 7292 Appendix B KDF', () => {
  it.each([
    ['SHA-1', 'sha1', 20, 64],
    ['SHA-224', 'sha224', 28, 64],
    ['SHA-256', 'sha256', 32, 64],
    ['SHA-384', 'sha384', 48, 128],
    ['SHA-512', 'sha512', 64, 128],
  ] as const)('%s matches an independent implementation', async (name, node, u, v) => {
    for (const [pw, saltLen, id, iter, n] of [
      [bmp('smeg'), 8, 1, 1, 24],
      [bmp('queeg'), 8, 2, 1000, 8],
      [bmp(''), 20, 3, 3, u],
      [new Uint8Array(0), 8, 1, 2, 40],
      [bmp('a longer password that spans more than one sixty-four byte block of input'), 130, 1, 5, 3 * u + 5],
    ] as const) {
      const salt = new Uint8Array(randomBytes(saltLen));
      const got = await pkcs12Kdf(name, pw, salt, id, iter, n);
      expect(toHex(got)).toBe(toHex(referenceKdf(node, u, v, pw, salt, id, iter, n)));
    }
  });

  it('matches a published vector (SHA-1, password "smeg", 1 iteration)', async () => {
    // The classic OpenSSL/BC PKCS#12 test vector: key = 8AAAE6297B6CB04642AB5B077851284EB7128F1A2A7FBCA3
    const got = await pkcs12Kdf('SHA-1', bmp('smeg'), new Uint8Array(Buffer.from('0A58CF64530D823F', 'hex')), 1, 1, 24);
    expect(toHex(got).toUpperCase()).toBe('8AAAE6297B6CB04642AB5B077851284EB7128F1A2A7FBCA3');
  });

  it('derives 2048-iteration keys of the right lengths (the time is printed; the benchmark checks speed)', async () => {
    const salt = new Uint8Array(randomBytes(8));
    await pkcs12Kdf('SHA-1', bmp('warm'), salt, 1, 64, 24);
    const t0 = performance.now();
    const [k, iv] = await Promise.all([pkcs12Kdf('SHA-1', bmp('pw'), salt, 1, 2048, 24), pkcs12Kdf('SHA-1', bmp('pw'), salt, 2, 2048, 8)]);
    const t1 = performance.now();
    const mac = await pkcs12Kdf('SHA-256', bmp('pw'), salt, 3, 2048, 32);
    const t2 = performance.now();
    console.log(`[pkcs12] KDF 2048 it.: SHA-1 3DES key+IV ${(t1 - t0).toFixed(0)} ms; SHA-256 MAC key ${(t2 - t1).toFixed(0)} ms`);
    expect([k.length, iv.length, mac.length]).toEqual([24, 8, 32]);
  });

  it('refuses an iteration count above maxIterations (default: DEFAULT_LIMITS.maxPbkdf2Iterations) before any digest', async () => {
    const salt = new Uint8Array(8);
    const runs = kdfStats.runs;
    const over = DEFAULT_LIMITS.maxPbkdf2Iterations + 1;
    const e1 = await pkcs12Kdf('SHA-1', bmp('pw'), salt, 1, over, 24).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(Pkcs12LimitExceeded);
    expect((e1 as Pkcs12LimitExceeded).limit).toBe('maxPbkdf2Iterations');
    const e2 = await pkcs12Kdf('SHA-1', bmp('pw'), salt, 1, 101, 24, { maxIterations: 100 }).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(Pkcs12LimitExceeded);
    expect((e2 as Error).message).toBe('PKCS#12: KDF iteration count 101 is above the limit of 100');
    expect(kdfStats.runs).toBe(runs);
    // A caller's higher limit is the limit: the count is accepted.
    expect((await pkcs12Kdf('SHA-1', bmp('pw'), salt, 1, 100, 24, { maxIterations: 100 })).length).toBe(24);
  });

  it('refuses an iteration count below 1 (or not a number) with Pkcs12Invalid, and an unknown hash with UnsupportedAlgorithm', async () => {
    for (const it of [0, -5, Number.NaN]) {
      await expect(pkcs12Kdf('SHA-1', bmp('pw'), new Uint8Array(8), 1, it, 24)).rejects.toBeInstanceOf(Pkcs12Invalid);
    }
    for (const h of ['MD5', 'SHA-3', 'sha1']) {
      await expect(pkcs12Kdf(h as 'SHA-1', bmp('pw'), new Uint8Array(8), 1, 1, 24)).rejects.toBeInstanceOf(UnsupportedAlgorithm);
    }
  });

  it('stops with KdfAborted within 4096 iterations once the signal is aborted, and counts its work in kdfStats', async () => {
    const signal = { aborted: true };
    const before = kdfStats.iterations;
    await expect(pkcs12Kdf('SHA-1', bmp('pw'), new Uint8Array(8), 1, 1_000_000, 24, { signal })).rejects.toBeInstanceOf(KdfAborted);
    // The first block was started (1 000 000 counted), and stopped at iteration 4096.
    expect(kdfStats.iterations - before).toBe(1_000_000);
    const runs = kdfStats.runs;
    const it0 = kdfStats.iterations;
    await pkcs12Kdf('SHA-256', bmp('pw'), new Uint8Array(8), 1, 7, 3 * 32 + 1);
    expect(kdfStats.runs - runs).toBe(1);
    expect(kdfStats.iterations - it0).toBe(7 * 4);
  });
});

describe('PBKDF2', () => {
  it.each([
    ['SHA-1', 'sha1', 20],
    ['SHA-224', 'sha224', 28],
    ['SHA-256', 'sha256', 32],
    ['SHA-384', 'sha384', 48],
    ['SHA-512', 'sha512', 64],
  ] as const)('with HMAC-%s matches node:crypto (WebCrypto, or @noble/hashes for SHA-224)', async (name, node, u) => {
    for (const [pwLen, saltLen, iter, len] of [
      [0, 8, 1, 16],
      [8, 16, 1000, 32],
      [200, 20, 3, 100],
    ] as const) {
      const pw = new Uint8Array(randomBytes(pwLen));
      const salt = new Uint8Array(randomBytes(saltLen));
      const runs = kdfStats.runs;
      const it0 = kdfStats.iterations;
      const got = await pbkdf2(name, pw, salt, iter, len);
      expect(toHex(got)).toBe(nodePbkdf2(pw, salt, iter, len, node).toString('hex'));
      expect(kdfStats.runs - runs).toBe(1);
      expect(kdfStats.iterations - it0).toBe(iter * Math.ceil(len / u));
    }
  });

  it('refuses an iteration count below 1 with a RangeError, before any work', async () => {
    const runs = kdfStats.runs;
    for (const it of [0, Number.NaN]) await expect(pbkdf2('SHA-256', new Uint8Array(4), new Uint8Array(8), it, 32)).rejects.toBeInstanceOf(RangeError);
    expect(kdfStats.runs).toBe(runs);
  });
});
