import * as nodeCrypto from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { KeyInvalid, UnsupportedAlgorithm } from '../../src/errors.js';
import { i2osp, modInverse, modPow, os2ip } from '../../src/crypto/bigint.js';
import { parseRsaPrivateKey, parseRsaPublicKey, rsaKeyBits, type RsaPrivateKey, type RsaPublicKey } from '../../src/crypto/rsa_key.js';
import {
  rsaPrivate,
  rsaPublic,
  rsaesOaepDecrypt,
  rsaesOaepEncrypt,
  rsaesPkcs1v15Decrypt,
  rsaesPkcs1v15DecryptCek,
  rsaesPkcs1v15Encrypt,
  type RsaHash,
} from '../../src/crypto/rsa.js';
import { SHARED_VECTORS, hasPeer, run, sharedAvailable, tmp } from '../_helpers/env.js';
import { nodeCrypto as nodeProvider } from '../../src/crypto/node.js';

const u8 = (b: Buffer | Uint8Array): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const hex = (h: string): Uint8Array => u8(Buffer.from(h, 'hex'));
const b64u = (s: string): bigint => BigInt('0x' + Buffer.from(s, 'base64url').toString('hex'));
const eq = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

const kp = nodeCrypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const pkcs8 = u8(kp.privateKey.export({ format: 'der', type: 'pkcs8' }));
const pkcs1 = u8(kp.privateKey.export({ format: 'der', type: 'pkcs1' }));
const spki = u8(kp.publicKey.export({ format: 'der', type: 'spki' }));
const jwk = kp.privateKey.export({ format: 'jwk' });
let priv: RsaPrivateKey;
let pub: RsaPublicKey;

beforeAll(() => {
  priv = parseRsaPrivateKey(pkcs8);
  pub = parseRsaPublicKey(spki);
});

describe('key parsing', () => {
  it('parses PKCS#8 and PKCS#1 private keys to the same numbers as the JWK export', () => {
    const want = {
      n: b64u(jwk.n!),
      e: b64u(jwk.e!),
      d: b64u(jwk.d!),
      p: b64u(jwk.p!),
      q: b64u(jwk.q!),
      dp: b64u(jwk.dp!),
      dq: b64u(jwk.dq!),
      qinv: b64u(jwk.qi!),
      bits: 2048,
    };
    expect(parseRsaPrivateKey(pkcs8)).toEqual({ ...want, der: pkcs1 });
    expect(parseRsaPrivateKey(pkcs1)).toEqual({ ...want, der: pkcs1 });
    expect(parseRsaPublicKey(spki)).toEqual({ n: want.n, e: want.e, bits: 2048 });
    expect(rsaKeyBits(spki)).toBe(2048);
    expect(rsaKeyBits(pkcs8)).toBe(2048);
    expect(rsaKeyBits(pkcs1)).toBe(2048);
  });

  it('parses id-RSASSA-PSS PKCS#8 and SPKI keys', () => {
    const pss = nodeCrypto.generateKeyPairSync('rsa-pss', {
      modulusLength: 1024,
      hashAlgorithm: 'sha256',
      mgf1HashAlgorithm: 'sha256',
      saltLength: 32 as unknown as string, // @types/node types it as a string; Node takes the number of bytes
    });
    const der = u8(pss.privateKey.export({ format: 'der', type: 'pkcs8' }));
    expect(Buffer.from(der).includes(Buffer.from('06092a864886f70d01010a', 'hex'))).toBe(true);
    const k = parseRsaPrivateKey(der);
    expect(k.bits).toBe(1024);
    const p = parseRsaPublicKey(u8(pss.publicKey.export({ format: 'der', type: 'spki' })));
    expect(p.n).toBe(k.n);
  });

  it('rejects malformed and non-RSA keys with KeyInvalid', () => {
    const ec = nodeCrypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ecPkcs8 = u8(ec.privateKey.export({ format: 'der', type: 'pkcs8' }));
    const ecSpki = u8(ec.publicKey.export({ format: 'der', type: 'spki' }));
    const bad: Uint8Array[] = [
      new Uint8Array(0),
      Uint8Array.of(0x30),
      Uint8Array.of(0x30, 0x00),
      pkcs8.subarray(0, pkcs8.length - 1),
      new Uint8Array([...pkcs8, 0]),
      u8(nodeCrypto.randomBytes(300)),
      ecPkcs8,
      spki,
    ];
    for (const b of bad) expect(() => parseRsaPrivateKey(b), String(b.length)).toThrow(KeyInvalid);
    for (const b of [new Uint8Array(0), spki.subarray(0, 100), ecSpki, pkcs8, u8(nodeCrypto.randomBytes(64))]) {
      expect(() => parseRsaPublicKey(b)).toThrow(KeyInvalid);
    }
    expect(() => rsaKeyBits(ecSpki)).toThrow(KeyInvalid);
    // An RSAPrivateKey whose qinv was altered is inconsistent.
    // (the last byte of a PKCS#1 key is the last byte of qinv)
    const broken = pkcs1.slice();
    broken[pkcs1.length - 1]! ^= 1;
    expect(() => parseRsaPrivateKey(broken)).toThrow(KeyInvalid);
    expect(() => parseRsaPrivateKey('x' as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe('arithmetic', () => {
  it('modPow matches square-and-multiply, modInverse inverts', () => {
    const naive = (b: bigint, e: bigint, m: bigint) => {
      let r = 1n % m; // m may be 1 (one random byte | 1): then everything is 0, b^0 included
      b %= m;
      while (e > 0n) {
        if (e & 1n) r = (r * b) % m;
        b = (b * b) % m;
        e >>= 1n;
      }
      return r;
    };
    for (let i = 0; i < 50; i++) {
      const m = os2ip(u8(nodeCrypto.randomBytes(1 + (i % 40)))) | 1n;
      const b = os2ip(u8(nodeCrypto.randomBytes(1 + (i % 50))));
      const e = os2ip(u8(nodeCrypto.randomBytes(i % 70)));
      expect(modPow(b, e, m)).toBe(naive(b, e, m));
    }
    expect(modPow(5n, 0n, 7n)).toBe(1n);
    expect(modPow(5n, 3n, 1n)).toBe(0n);
    expect(modPow(-2n, 3n, 7n)).toBe(6n);
    const inv = modInverse(priv.q, priv.p);
    expect(inv).toBe(priv.qinv);
    expect((modInverse(12345n, priv.n) * 12345n) % priv.n).toBe(1n);
    expect(() => modInverse(6n, 9n)).toThrow(RangeError);
  });

  it('i2osp / os2ip', () => {
    expect(i2osp(0x0102n, 4)).toEqual(Uint8Array.of(0, 0, 1, 2));
    expect(os2ip(Uint8Array.of(0, 0, 1, 2))).toBe(0x0102n);
    expect(os2ip(new Uint8Array(0))).toBe(0n);
    expect(i2osp(0n, 0)).toEqual(new Uint8Array(0));
    expect(() => i2osp(256n, 1)).toThrow(RangeError);
    expect(() => i2osp(-1n, 1)).toThrow(RangeError);
    const r = u8(nodeCrypto.randomBytes(256));
    expect(i2osp(os2ip(r), 256)).toEqual(r);
  });

  it('raw RSA round-trips and matches node (RSA_NO_PADDING)', () => {
    const m = os2ip(u8(nodeCrypto.randomBytes(255)));
    const c = rsaPublic(pub, m);
    const nodeC = u8(nodeCrypto.publicEncrypt({ key: kp.publicKey, padding: nodeCrypto.constants.RSA_NO_PADDING }, i2osp(m, 256)));
    expect(i2osp(c, 256)).toEqual(nodeC);
    expect(rsaPrivate(priv, c)).toBe(m);
    expect(rsaPrivate(priv, 0n)).toBe(0n);
    expect(rsaPrivate(priv, 1n)).toBe(1n);
    expect(rsaPrivate(priv, priv.n - 1n)).toBe(priv.n - 1n);
    expect(() => rsaPrivate(priv, priv.n)).toThrow(RangeError);
    expect(() => rsaPublic(pub, -1n)).toThrow(RangeError);
  });

  it('falls back to the non-CRT path when the CRT values are faulty', () => {
    const m = 0x1234567890n;
    const c = rsaPublic(pub, m);
    expect(rsaPrivate({ ...priv, dp: priv.dp + 2n }, c)).toBe(m);
    expect(() => rsaPrivate({ ...priv, dp: priv.dp + 2n, d: priv.d + 2n }, c)).toThrow(KeyInvalid);
  });

  it('modPow matches square-and-multiply on random moduli of 256 to 4096 bits, and at the edges', () => {
    const naive = (b: bigint, e: bigint, m: bigint) => {
      let r = 1n % m;
      b %= m;
      if (b < 0n) b += m;
      while (e > 0n) {
        if (e & 1n) r = (r * b) % m;
        b = (b * b) % m;
        e >>= 1n;
      }
      return r;
    };
    const rand = (bits: number) => os2ip(u8(nodeCrypto.randomBytes(Math.ceil(bits / 8)))) & ((1n << BigInt(bits)) - 1n);
    const withTop = (bits: number) => rand(bits) | (1n << BigInt(bits - 1));
    for (const bits of [256, 257, 512, 768, 1024, 1025, 1536, 2048, 3072, 4096]) {
      const odd = withTop(bits) | 1n;
      const even = withTop(bits) & ~1n;
      // Exponent lengths: short, around the modulus size, and modulus + 64 bits (the blinded CRT exponents).
      const expBits = bits > 2048 ? [1, 17, bits + 64] : [1, 2, 17, 63, 65, 200, bits - 1, bits + 64];
      for (const m of [odd, even]) {
        for (const eb of expBits) {
          const e = withTop(eb);
          const b = rand(bits + 8); // also ≥ m now and then
          expect(modPow(b, e, m), `${bits}-bit m, ${eb}-bit e`).toBe(naive(b, e, m));
        }
        for (const b of [0n, 1n, 2n, m - 1n, m, m + 1n, 2n * m + 3n, m * m + 5n, -1n, -m - 2n]) {
          for (const e of [0n, 1n, 2n, 3n, 65537n, withTop(bits)]) {
            expect(modPow(b, e, m), `${bits}-bit m, base ${b === m ? 'm' : b}, e ${e > 65537n ? 'long' : e}`).toBe(
              naive(b, e, m),
            );
          }
        }
      }
    }
    // Every exponent length from 1 to 100 bits (every window width and padding), on one odd and one even modulus.
    for (const m of [withTop(300) | 1n, withTop(300) & ~1n]) {
      const b = rand(300);
      for (let eb = 1; eb <= 100; eb++) {
        const e = withTop(eb);
        expect(modPow(b, e, m), `${eb}-bit e`).toBe(naive(b, e, m));
        expect(modPow(b, e - 1n, m), `${eb}-bit e - 1`).toBe(naive(b, e - 1n, m));
      }
    }
    expect(modPow(0n, 0n, 7n)).toBe(1n);
    expect(modPow(123n, 456n, 1n)).toBe(0n);
    expect(() => modPow(2n, 3n, 0n)).toThrow(RangeError);
    expect(() => modPow(2n, -3n, 7n)).toThrow(RangeError);
  });

  it('rsaPublic matches square-and-multiply for small, 64-bit and longer public exponents', () => {
    const naive = (b: bigint, e: bigint, m: bigint) => {
      let r = 1n;
      while (e > 0n) {
        if (e & 1n) r = (r * b) % m;
        b = (b * b) % m;
        e >>= 1n;
      }
      return r;
    };
    const n = priv.n;
    const x = os2ip(u8(nodeCrypto.randomBytes(255)));
    for (const e of [3n, 17n, 65537n, (1n << 63n) + 1n, (1n << 64n) - 1n, (1n << 64n) + 1n, (1n << 200n) + 7n]) {
      const key = { n, e, bits: 2048 };
      for (const m of [0n, 1n, 2n, x, n - 1n]) expect(rsaPublic(key, m), `e ${e}`).toBe(naive(m, e, n));
    }
  });

  it('repeated private operations on one key, past several blinding refreshes, stay correct', () => {
    // A key of its own, so that the count of operations on its modulus starts here.
    const kp2 = nodeCrypto.generateKeyPairSync('rsa', { modulusLength: 1024 });
    const der = u8(kp2.privateKey.export({ format: 'der', type: 'pkcs8' }));
    const k = parseRsaPrivateKey(der);
    const sizes: number[] = [];
    const counting = {
      subtle: globalThis.crypto.subtle,
      getRandomValues: <T extends ArrayBufferView | null>(a: T): T => {
        sizes.push((a as ArrayBufferView).byteLength);
        return globalThis.crypto.getRandomValues(a as Uint8Array<ArrayBuffer>) as unknown as T;
      },
    } as unknown as Crypto;
    const CALLS = 100;
    for (let i = 0; i < CALLS; i++) {
      const m = os2ip(u8(nodeCrypto.randomBytes(127)));
      const c = rsaPublic(k, m);
      // Alternate between the same key object and a freshly parsed one (the cache is per modulus).
      const key = i % 3 === 0 ? parseRsaPrivateKey(der) : k;
      expect(rsaPrivate(key, c, counting), `call ${i}`).toBe(m);
      // Interleave the 2048-bit test key: another modulus in the cache.
      if (i % 10 === 0) {
        const m2 = os2ip(u8(nodeCrypto.randomBytes(255)));
        expect(rsaPrivate(priv, rsaPublic(pub, m2))).toBe(m2);
      }
    }
    // 16 fresh bytes of exponent blinding every call; a new blinding r (128 + 8 bytes) on calls 1, 33, 65 and 97.
    const want: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      if (i % 32 === 0) want.push(128 + 8);
      want.push(16);
    }
    expect(sizes).toEqual(want);
    // The edges still come out right with a cached pair.
    for (const c of [0n, 1n, k.n - 1n]) expect(rsaPrivate(k, c)).toBe(c);
  });

  it('two public exponents on one modulus each get a blinding pair of their own', () => {
    // Same n, a second valid (e', d'): e' = the smallest prime > 65537 coprime to p − 1 and q − 1.
    const isPrime = (x: bigint) => {
      for (let f = 2n; f * f <= x; f++) if (x % f === 0n) return false;
      return true;
    };
    const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));
    let e2 = 65539n;
    while (!isPrime(e2) || gcd(e2, priv.p - 1n) !== 1n || gcd(e2, priv.q - 1n) !== 1n) e2 += 2n;
    const phi = (priv.p - 1n) * (priv.q - 1n);
    const d2 = modInverse(e2, phi);
    const other: RsaPrivateKey = {
      ...priv,
      e: e2,
      d: d2,
      dp: d2 % (priv.p - 1n),
      dq: d2 % (priv.q - 1n),
    };
    const otherPub = { n: priv.n, e: e2, bits: 2048 };
    for (let i = 0; i < 40; i++) {
      const m = os2ip(u8(nodeCrypto.randomBytes(255)));
      expect(rsaPrivate(priv, rsaPublic(pub, m)), `e, call ${i}`).toBe(m);
      expect(rsaPrivate(other, rsaPublic(otherPub, m)), `e', call ${i}`).toBe(m);
    }
  });

  it('measures one 2048-bit private operation', () => {
    const c = rsaPublic(pub, os2ip(u8(nodeCrypto.randomBytes(200))));
    for (let i = 0; i < 5; i++) rsaPrivate(priv, c); // warm up
    const N = 40;
    const t0 = performance.now();
    let m = 0n;
    for (let i = 0; i < N; i++) m = rsaPrivate(priv, c);
    const ms = (performance.now() - t0) / N;
    console.log(`[rsa] one 2048-bit private operation (CRT + blinding + check): ${ms.toFixed(2)} ms`);
    expect(rsaPublic(pub, m)).toBe(c); // the figure is informative; speed is checked by the benchmark
  });
});

const openssl = hasPeer('openssl', ['version']);

function keyFiles(): { dir: string; keyPem: string; pubPem: string } {
  const dir = tmp('smime-rsa-');
  const keyPem = join(dir, 'key.pem');
  const pubPem = join(dir, 'pub.pem');
  writeFileSync(keyPem, kp.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  writeFileSync(pubPem, kp.publicKey.export({ format: 'pem', type: 'spki' }));
  return { dir, keyPem, pubPem };
}

describe('RSAES-PKCS1-v1_5', () => {
  it('decrypts what node encrypted (plain and CEK mode)', () => {
    for (const len of [0, 1, 16, 24, 32, 245]) {
      const msg = u8(nodeCrypto.randomBytes(len));
      const ct = u8(nodeCrypto.publicEncrypt({ key: kp.publicKey, padding: nodeCrypto.constants.RSA_PKCS1_PADDING }, msg));
      expect(rsaesPkcs1v15Decrypt(priv, ct)).toEqual(msg);
      expect(rsaesPkcs1v15DecryptCek(priv, ct, len)).toEqual(msg);
      expect(rsaesPkcs1v15DecryptCek(priv, ct, undefined)).toEqual(msg);
    }
  });

  it('encrypts with fresh random non-zero padding; round-trips', () => {
    const msg = u8(nodeCrypto.randomBytes(32));
    const a = rsaesPkcs1v15Encrypt(pub, msg);
    const b = rsaesPkcs1v15Encrypt(pub, msg);
    expect(a.length).toBe(256);
    expect(eq(a, b)).toBe(false);
    expect(rsaesPkcs1v15Decrypt(priv, a)).toEqual(msg);
    const em = i2osp(rsaPrivate(priv, os2ip(a)), 256);
    expect([em[0], em[1]]).toEqual([0, 2]);
    expect(em.subarray(2, 256 - 33).every((x) => x !== 0)).toBe(true);
    expect(em[256 - 33]).toBe(0);
    expect(rsaesPkcs1v15Encrypt(pub, new Uint8Array(245)).length).toBe(256);
    expect(() => rsaesPkcs1v15Encrypt(pub, new Uint8Array(246))).toThrow(RangeError);
  });

  it.skipIf(!openssl)('ours-encrypted decrypts with openssl pkeyutl (pkcs1)', () => {
    const { dir, keyPem } = keyFiles();
    const msg = u8(nodeCrypto.randomBytes(24));
    const inFile = join(dir, 'ct.bin');
    writeFileSync(inFile, rsaesPkcs1v15Encrypt(pub, msg));
    const out = run('openssl', ['pkeyutl', '-decrypt', '-inkey', keyPem, '-in', inFile, '-pkeyopt', 'rsa_padding_mode:pkcs1']);
    expect(out).toEqual(msg);
  });

  it('bad padding in CEK mode returns a random key of the expected length, never throws', () => {
    const rawEncrypt = (em: Uint8Array) => i2osp(rsaPublic(pub, os2ip(em)), 256);
    const key = u8(nodeCrypto.randomBytes(16)).map((b) => b | 1); // no zero byte: no second separator
    const good = new Uint8Array(256);
    good[1] = 2;
    good.fill(0x55, 2, 256 - 17);
    good.set(key, 256 - 16);
    expect(rsaesPkcs1v15DecryptCek(priv, rawEncrypt(good), 16)).toEqual(key);

    const variants: Uint8Array[] = [];
    const bt1 = good.slice();
    bt1[1] = 1; // signature block type
    variants.push(bt1);
    const lead = good.slice();
    lead[0] = 1;
    variants.push(lead);
    const noSep = good.slice();
    noSep[256 - 17] = 0x55;
    variants.push(noSep);
    const shortPs = good.slice();
    shortPs[5] = 0; // separator after 3 bytes of PS
    variants.push(shortPs);
    for (const em of variants) {
      const ct = rawEncrypt(em);
      const k1 = rsaesPkcs1v15DecryptCek(priv, ct, 16);
      const k2 = rsaesPkcs1v15DecryptCek(priv, ct, 16);
      expect(k1.length).toBe(16);
      expect(eq(k1, k2)).toBe(false);
      expect(eq(k1, key)).toBe(false);
      expect(rsaesPkcs1v15Decrypt(priv, ct)).toBeNull();
      expect(rsaesPkcs1v15DecryptCek(priv, ct, undefined).length).toBe(32);
    }
    // Valid padding, wrong length: also the random key.
    const ct = rawEncrypt(good);
    const w1 = rsaesPkcs1v15DecryptCek(priv, ct, 24);
    const w2 = rsaesPkcs1v15DecryptCek(priv, ct, 24);
    expect(w1.length).toBe(24);
    expect(eq(w1, w2)).toBe(false);
    expect(eq(w1.subarray(8), key)).toBe(false);
    // Malformed ciphertexts (wrong length, ≥ n).
    for (const bad of [ct.subarray(1), new Uint8Array([0, ...ct]), i2osp(priv.n, 256), new Uint8Array(0)]) {
      expect(rsaesPkcs1v15DecryptCek(priv, bad, 16).length).toBe(16);
      expect(rsaesPkcs1v15Decrypt(priv, bad)).toBeNull();
    }
    expect(() => rsaesPkcs1v15DecryptCek(priv, ct, -1)).toThrow(RangeError);
  });
});

describe('RSAES-OAEP', () => {
  const label = u8(Buffer.from('smime-core label'));
  const nodeHash = (h: RsaHash) => h.replace('-', '').toLowerCase();

  for (const hash of ['SHA-1', 'SHA-256'] as const) {
    for (const withLabel of [false, true]) {
      it(`node-encrypted ${hash}${withLabel ? ' with label' : ''} decrypts, and ours decrypts with node`, async () => {
        const msg = u8(nodeCrypto.randomBytes(32));
        const ct = u8(
          nodeCrypto.publicEncrypt(
            {
              key: kp.publicKey,
              padding: nodeCrypto.constants.RSA_PKCS1_OAEP_PADDING,
              oaepHash: nodeHash(hash),
              ...(withLabel ? { oaepLabel: label } : {}),
            },
            msg,
          ),
        );
        const params = { hash, ...(withLabel ? { label } : {}) };
        expect(await rsaesOaepDecrypt(priv, ct, params)).toEqual(msg);
        const ours = await rsaesOaepEncrypt(pub, msg, params);
        const back = nodeCrypto.privateDecrypt(
          {
            key: kp.privateKey,
            padding: nodeCrypto.constants.RSA_PKCS1_OAEP_PADDING,
            oaepHash: nodeHash(hash),
            ...(withLabel ? { oaepLabel: label } : {}),
          },
          ours,
        );
        expect(u8(back)).toEqual(msg);
      });
    }
  }

  it.skipIf(!openssl)('SHA-256 with MGF1-SHA-1 and a label, both directions with openssl pkeyutl', async () => {
    const { dir, keyPem, pubPem } = keyFiles();
    const msg = u8(nodeCrypto.randomBytes(16));
    const opts = [
      '-pkeyopt', 'rsa_padding_mode:oaep',
      '-pkeyopt', 'rsa_oaep_md:sha256',
      '-pkeyopt', 'rsa_mgf1_md:sha1',
      '-pkeyopt', `rsa_oaep_label:${Buffer.from(label).toString('hex')}`,
    ];
    const params = { hash: 'SHA-256', mgfHash: 'SHA-1', label } as const;
    const msgFile = join(dir, 'msg.bin');
    writeFileSync(msgFile, msg);
    const ct = run('openssl', ['pkeyutl', '-encrypt', '-pubin', '-inkey', pubPem, '-in', msgFile, ...opts]);
    expect(await rsaesOaepDecrypt(priv, ct, params)).toEqual(msg);
    await expect(rsaesOaepDecrypt(priv, ct, { hash: 'SHA-256', label })).rejects.toThrow('decryption error');

    const ctFile = join(dir, 'ct.bin');
    writeFileSync(ctFile, await rsaesOaepEncrypt(pub, msg, params));
    expect(run('openssl', ['pkeyutl', '-decrypt', '-inkey', keyPem, '-in', ctFile, ...opts])).toEqual(msg);
    expect(readFileSync(ctFile).length).toBe(256);
  });

  it('all other combinations round-trip (SHA-384/512, mgf ≠ hash)', async () => {
    const hashes: RsaHash[] = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'];
    for (const hash of hashes) {
      for (const mgfHash of hashes) {
        const msg = u8(nodeCrypto.randomBytes(20));
        const ct = await rsaesOaepEncrypt(pub, msg, { hash, mgfHash, label });
        expect(await rsaesOaepDecrypt(priv, ct, { hash, mgfHash, label })).toEqual(msg);
      }
    }
  });

  it('rejects tampering, a wrong label and wrong parameters with one generic error', async () => {
    const msg = u8(nodeCrypto.randomBytes(32));
    const ct = await rsaesOaepEncrypt(pub, msg, { hash: 'SHA-256', label });
    const errors: string[] = [];
    const tries: [Uint8Array, Parameters<typeof rsaesOaepDecrypt>[2]][] = [
      [ct, { hash: 'SHA-256' }],
      [ct, { hash: 'SHA-256', label: label.subarray(1) }],
      [ct, { hash: 'SHA-1', label }],
      [ct, { hash: 'SHA-256', mgfHash: 'SHA-1', label }],
      [Uint8Array.from(ct, (b, i) => (i === 100 ? b ^ 1 : b)), { hash: 'SHA-256', label }],
      [ct.subarray(1), { hash: 'SHA-256', label }],
      [new Uint8Array([0, ...ct]), { hash: 'SHA-256', label }],
      [i2osp(priv.n, 256), { hash: 'SHA-256', label }],
    ];
    for (const [c, p] of tries) {
      try {
        await rsaesOaepDecrypt(priv, c, p);
        errors.push('no error');
      } catch (e) {
        errors.push(`${(e as Error).constructor.name}: ${(e as Error).message}`);
      }
    }
    expect(new Set(errors)).toEqual(new Set(['Error: decryption error']));
    await expect(rsaesOaepEncrypt(pub, new Uint8Array(256 - 2 * 32 - 1), { hash: 'SHA-256' })).rejects.toThrow(RangeError);
    expect((await rsaesOaepEncrypt(pub, new Uint8Array(256 - 2 * 32 - 2), { hash: 'SHA-256' })).length).toBe(256);
    await expect(rsaesOaepEncrypt(pub, msg, { hash: 'SHA-224' as RsaHash })).rejects.toThrow(UnsupportedAlgorithm);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Wycheproof (C2SP/wycheproof, see ../shared/vectors/wycheproof/PROVENANCE.md)

interface WTest {
  tcId: number;
  comment: string;
  flags: string[];
  msg: string;
  ct: string;
  label?: string;
  result: 'valid' | 'invalid' | 'acceptable';
}
interface WGroup {
  sha?: string;
  mgfSha?: string;
  keySize?: number;
  privateKeyPkcs8: string;
  privateKey: Record<string, string>;
  tests: WTest[];
}

const haveShared = sharedAvailable();
const wyche = (f: string): { numberOfTests: number; testGroups: WGroup[] } =>
  JSON.parse(readFileSync(join(SHARED_VECTORS, 'wycheproof', f), 'utf8'));
const SUPPORTED = new Set(['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512']);
const tally = { oaep: 0, oaepSkipped: 0, pkcs1: 0 };

function checkKey(g: WGroup): RsaPrivateKey {
  const k = parseRsaPrivateKey(hex(g.privateKeyPkcs8));
  expect(k.n).toBe(BigInt('0x' + g.privateKey.modulus));
  expect(k.d).toBe(BigInt('0x' + g.privateKey.privateExponent));
  return k;
}

describe.skipIf(!haveShared)('Wycheproof', () => {
  const oaepFiles = [
    'rsa_oaep_2048_sha1_mgf1sha1_test.json',
    'rsa_oaep_2048_sha256_mgf1sha1_test.json',
    'rsa_oaep_2048_sha256_mgf1sha256_test.json',
    'rsa_oaep_2048_sha384_mgf1sha384_test.json',
    'rsa_oaep_2048_sha512_mgf1sha512_test.json',
    'rsa_oaep_3072_sha256_mgf1sha256_test.json',
    'rsa_oaep_4096_sha256_mgf1sha256_test.json',
    'rsa_oaep_4096_sha512_mgf1sha512_test.json',
    'rsa_oaep_misc_test.json',
  ];
  // Each file twice: the BigInt RSA, and Node's raw RSA accelerator (nodeCrypto() carries it) with the same padding code.
  for (const [mode, cr] of [['BigInt', undefined], ['node:crypto RSADP', nodeProvider()]] as const) {
    for (const file of oaepFiles) {
      it(`RSAES-OAEP ${file} (${mode})`, async () => {
        const data = wyche(file);
        let ran = 0;
        let skipped = 0;
        const invalidErrors = new Set<string>();
        for (const g of data.testGroups) {
          if (!SUPPORTED.has(g.sha!) || !SUPPORTED.has(g.mgfSha!)) {
            skipped += g.tests.length; // SHA-224: not in WebCrypto
            continue;
          }
          const key = checkKey(g);
          for (const t of g.tests) {
            const params = { hash: g.sha as RsaHash, mgfHash: g.mgfSha as RsaHash, label: hex(t.label ?? '') };
            let out: Uint8Array | undefined;
            let err: unknown;
            try {
              out = await rsaesOaepDecrypt(key, hex(t.ct), params, cr);
            } catch (e) {
              err = e;
            }
            const what = `tcId ${t.tcId} (${t.comment})`;
            if (t.result === 'valid') {
              expect(err, what).toBeUndefined();
              expect(Buffer.from(out!).toString('hex'), what).toBe(t.msg);
            } else if (t.result === 'invalid') {
              expect(out, what).toBeUndefined();
              invalidErrors.add(`${(err as Error).constructor.name}: ${(err as Error).message}`);
            } else if (out) {
              expect(Buffer.from(out).toString('hex'), what).toBe(t.msg);
            } else {
              expect((err as Error).message, what).toBe('decryption error');
            }
            ran++;
          }
        }
        if (invalidErrors.size) expect([...invalidErrors]).toEqual(['Error: decryption error']);
        expect(ran + skipped).toBe(data.numberOfTests);
        if (!cr) {
          tally.oaep += ran;
          tally.oaepSkipped += skipped;
        }
        console.log(`[rsa] Wycheproof ${file} (${mode}): ${ran} cases${skipped ? `, ${skipped} skipped (SHA-224)` : ''}`);
      });
    }

    for (const file of ['rsa_pkcs1_2048_test.json', 'rsa_pkcs1_3072_test.json', 'rsa_pkcs1_4096_test.json']) {
      it(`RSAES-PKCS1-v1_5 ${file} (${mode})`, () => {
        const data = wyche(file);
        let ran = 0;
        for (const g of data.testGroups) {
          const key = checkKey(g);
          for (const t of g.tests) {
            const what = `tcId ${t.tcId} (${t.comment})`;
            const ct = hex(t.ct);
            const msg = hex(t.msg);
            const plain = rsaesPkcs1v15Decrypt(key, ct, cr);
            const cek1 = rsaesPkcs1v15DecryptCek(key, ct, msg.length, cr);
            if (t.result === 'valid') {
              expect(plain && Buffer.from(plain).toString('hex'), what).toBe(t.msg);
              expect(Buffer.from(cek1).toString('hex'), what).toBe(t.msg);
            } else {
              expect(t.result, what).toBe('invalid');
              expect(plain, what).toBeNull();
              expect(cek1.length, what).toBe(msg.length);
              // (4-byte messages: a 2^-32 chance of a false failure)
              const cek2 = rsaesPkcs1v15DecryptCek(key, ct, msg.length, cr);
              expect(eq(cek1, msg), what).toBe(false);
              expect(eq(cek1, cek2), what).toBe(false);
            }
            ran++;
          }
        }
        expect(ran).toBe(data.numberOfTests);
        if (!cr) tally.pkcs1 += ran;
        console.log(`[rsa] Wycheproof ${file} (${mode}): ${ran} cases`);
      });
    }

  }

  it('tally', () => {
    console.log(`[rsa] Wycheproof total: OAEP ${tally.oaep} (+${tally.oaepSkipped} SHA-224 skipped), PKCS#1 v1.5 ${tally.pkcs1}`);
  });
});
