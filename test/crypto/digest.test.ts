import { describe, it, expect } from 'vitest';
import { createHash, createHmac, pbkdf2Sync as nodePbkdf2, randomBytes } from 'node:crypto';
import { digest, digestByOid, hashSync, hmacSync, mgf1, pbkdf2Sync } from '../../src/crypto/digest.js';
import { DIGESTS, type HashName } from '../../src/crypto/algorithms.js';
import { UnsupportedAlgorithm } from '../../src/errors.js';
import { toHex } from '../../src/lib/bytes.js';

const NODE: Record<HashName, string> = { MD5: 'md5', 'SHA-1': 'sha1', 'SHA-224': 'sha224', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
const rnd = (n: number) => new Uint8Array(randomBytes(n));
const NAMES = Object.keys(NODE) as HashName[];

/** MGF1 written out from RFC 8017 §B.2.1 with node:crypto, to compare with. */
function refMgf1(hash: string, seed: Uint8Array, len: number): string {
  const parts: Buffer[] = [];
  for (let c = 0; Buffer.concat(parts).length < len; c++) {
    const ctr = Buffer.alloc(4);
    ctr.writeUInt32BE(c);
    parts.push(createHash(hash).update(seed).update(ctr).digest());
  }
  return Buffer.concat(parts).subarray(0, len).toString('hex');
}

describe('crypto/digest.ts: one digest helper for every hash', () => {
  it('digest and hashSync match node:crypto for every registry hash, around the block boundaries', async () => {
    for (const name of NAMES) {
      for (const n of [0, 1, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 1000]) {
        const d = rnd(n);
        const want = createHash(NODE[name]).update(d).digest('hex');
        expect(toHex(await digest(name, d)), `${name} ${n}`).toBe(want);
        expect(toHex(hashSync(name, d)), `${name} ${n}`).toBe(want);
        expect(toHex(await digestByOid(DIGESTS[name].oid, d))).toBe(want);
      }
    }
  });
  it('digestByOid refuses an unknown digest OID with UnsupportedAlgorithm naming it', async () => {
    const e = await digestByOid('1.2.840.113549.2.2', new Uint8Array(1)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UnsupportedAlgorithm);
    expect((e as UnsupportedAlgorithm).oid).toBe('1.2.840.113549.2.2');
  });
  it('hmacSync (HMAC-SHA-224 among them) matches node:crypto for short, block-sized and long keys', () => {
    for (const name of NAMES) {
      for (const kl of [0, 1, 28, 64, 65, 128, 200]) {
        const k = rnd(kl);
        const d = rnd(77);
        expect(toHex(hmacSync(name, k, d)), `${name} key ${kl}`).toBe(createHmac(NODE[name], k).update(d).digest('hex'));
      }
    }
  });
  it('pbkdf2Sync with HMAC-SHA-224 matches node:crypto', () => {
    const pw = new TextEncoder().encode('password');
    const salt = rnd(16);
    for (const len of [1, 28, 29, 57]) {
      expect(toHex(pbkdf2Sync('SHA-224', pw, salt, 3, len))).toBe(nodePbkdf2(pw, salt, 3, len, 'sha224').toString('hex'));
    }
  });
  it('mgf1 matches RFC 8017 §B.2.1 for every hash and lengths inside, at and across a block', () => {
    for (const name of NAMES) {
      const seed = rnd(33);
      for (const len of [0, 1, DIGESTS[name].length, DIGESTS[name].length + 1, 223]) {
        expect(toHex(mgf1(name, seed, len)), `${name} ${len}`).toBe(refMgf1(NODE[name], seed, len));
      }
    }
  });
});
