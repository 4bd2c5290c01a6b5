/**
 * Native accelerators (src/crypto/provider.ts `Accelerators`; Node's in src/crypto/node.ts): the raw RSA
 * private-key operation on node:crypto gives exactly what the BigInt code gives, is used only where it applies, and
 * every way it can fail falls back to the BigInt code; the `node` entry (src/index.node.ts) registers Node's
 * accelerators for Node's own globalThis.crypto only; OpenSSL's envelopes open through them.
 */
import * as nodeCrypto from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ACCELERATORS,
  accelerators,
  setPlatformAccelerators,
  type Accelerators,
  type RawRsa,
} from '../../src/crypto/provider.js';
import { installNodeAccelerators, nodeAccelerators, nodeCrypto as makeNodeCrypto } from '../../src/crypto/node.js';
import { i2osp, os2ip } from '../../src/crypto/bigint.js';
import { parseRsaPrivateKey, parseRsaPublicKey } from '../../src/crypto/rsa_key.js';
import { rsaPrivate, rsaPublic, rsaesOaepDecrypt, rsaesOaepEncrypt, rsaesPkcs1v15DecryptCek, rsaesPkcs1v15Encrypt } from '../../src/crypto/rsa.js';
import { decryptMessage } from '../../src/index.js';
import { manifest, storeWith, vfile } from '../_helpers/identities.js';

const u8 = (b: Buffer | Uint8Array): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

const kp = nodeCrypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const priv = parseRsaPrivateKey(u8(kp.privateKey.export({ format: 'der', type: 'pkcs8' })));
const pub = parseRsaPublicKey(u8(kp.publicKey.export({ format: 'der', type: 'spki' })));
const rawRsa = nodeAccelerators.rawRsa!;

/** A raw RSA accelerator that counts its calls and answers with `impl`. */
function counting(impl: RawRsa['privateRaw'] = (d, i) => rawRsa.privateRaw(d, i)) {
  const calls = { n: 0 };
  const r: RawRsa = {
    privateRaw(der, input) {
      calls.n++;
      return impl(der, input);
    },
  };
  return { r, calls };
}

/** A Crypto over Node's WebCrypto that carries `a` as its own accelerators. */
function cryptoWith(a: Accelerators): Crypto {
  const g = globalThis.crypto;
  return { subtle: g.subtle, getRandomValues: (x: never) => g.getRandomValues(x), randomUUID: () => g.randomUUID(), [ACCELERATORS]: a } as unknown as Crypto;
}

afterEach(() => setPlatformAccelerators(undefined));

describe('raw RSA on node:crypto', () => {
  it('gives the BigInt RSADP results (random representatives, 0, 1, n − 1)', () => {
    const { r, calls } = counting();
    const fast = cryptoWith({ rawRsa: r });
    const reps = [0n, 1n, priv.n - 1n, ...Array.from({ length: 20 }, () => os2ip(u8(nodeCrypto.randomBytes(256))) % priv.n)];
    for (const c of reps) expect(rsaPrivate(priv, c, fast)).toBe(rsaPrivate(priv, c));
    expect(calls.n).toBe(reps.length);
  });

  it('opens PKCS#1 v1.5 and OAEP key transport; a bad v1.5 padding still gives a random key (RFC 3218)', async () => {
    const { r, calls } = counting();
    const fast = cryptoWith({ rawRsa: r });
    const cek = u8(nodeCrypto.randomBytes(32));
    expect(rsaesPkcs1v15DecryptCek(priv, rsaesPkcs1v15Encrypt(pub, cek), 32, fast)).toEqual(cek);
    const oaep = await rsaesOaepEncrypt(pub, cek, { hash: 'SHA-256' });
    expect(await rsaesOaepDecrypt(priv, oaep, { hash: 'SHA-256' }, fast)).toEqual(cek);
    // A block that is not v1.5 padding (type 1, a signature's, is never a key transport's): 32 random bytes come
    // back, never an error, and never the same twice.
    const bad = new Uint8Array(256).fill(0xff);
    bad[0] = 0;
    bad[1] = 1;
    bad[256 - 33] = 0;
    const junk = i2osp(rsaPublic(pub, os2ip(bad)), 256);
    const a = rsaesPkcs1v15DecryptCek(priv, junk, 32, fast);
    const b = rsaesPkcs1v15DecryptCek(priv, junk, 32, fast);
    expect(a.length).toBe(32);
    expect(a).not.toEqual(b);
    expect(calls.n).toBe(4);
  });

  it('takes id-RSASSA-PSS keys too (it is given the PKCS#1 key inside the PKCS#8)', () => {
    // @types/node types saltLength as a string; Node takes the number of bytes.
    const pss = nodeCrypto.generateKeyPairSync('rsa-pss', { modulusLength: 2048, hashAlgorithm: 'sha256', mgf1HashAlgorithm: 'sha256', saltLength: 32 as unknown as string });
    const k = parseRsaPrivateKey(u8(pss.privateKey.export({ format: 'der', type: 'pkcs8' })));
    const { r, calls } = counting();
    const c = os2ip(u8(nodeCrypto.randomBytes(200)));
    expect(rsaPrivate(k, c, cryptoWith({ rawRsa: r }))).toBe(rsaPrivate(k, c));
    expect(calls.n).toBe(1);
    expect(rawRsa.privateRaw(k.der!, i2osp(c, 256))).toBeDefined();
  });

  it('falls back to the BigInt code when the accelerator declines, throws or lies', () => {
    const c = os2ip(u8(nodeCrypto.randomBytes(200)));
    const want = rsaPrivate(priv, c);
    const impls: RawRsa['privateRaw'][] = [
      () => undefined,
      () => {
        throw new Error('native failure');
      },
      (_d, input) => input, // wrong result: does not re-encrypt to c
      () => new Uint8Array(10), // wrong length
    ];
    for (const impl of impls) {
      const { r, calls } = counting(impl);
      expect(rsaPrivate(priv, c, cryptoWith({ rawRsa: r }))).toBe(want);
      expect(calls.n).toBe(1);
    }
  });

  it('is not used for a key without DER (built by hand), and declines DER that is no RSA key', () => {
    const { r, calls } = counting();
    const { der: _der, ...bare } = priv;
    const c = 12345n;
    expect(rsaPrivate(bare, c, cryptoWith({ rawRsa: r }))).toBe(rsaPrivate(priv, c));
    expect(calls.n).toBe(0);
    const ec = nodeCrypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(rawRsa.privateRaw(u8(ec.privateKey.export({ format: 'der', type: 'pkcs8' })), new Uint8Array(256))).toBeUndefined();
    expect(rawRsa.privateRaw(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00), new Uint8Array(256))).toBeUndefined();
  });
});

describe('which Crypto gets accelerators', () => {
  it('platform accelerators apply to globalThis.crypto only; a Crypto’s own win', () => {
    const other = cryptoWith({});
    delete (other as unknown as Record<symbol, unknown>)[ACCELERATORS];
    expect(accelerators(globalThis.crypto)).toEqual({});
    installNodeAccelerators();
    expect(accelerators(globalThis.crypto)).toBe(nodeAccelerators);
    expect(accelerators(other)).toEqual({});
    const own: Accelerators = { rawRsa: counting().r };
    expect(accelerators(cryptoWith(own))).toBe(own);
    expect(accelerators(makeNodeCrypto())).toBe(nodeAccelerators);
    setPlatformAccelerators(undefined);
    expect(accelerators(globalThis.crypto)).toEqual({});
  });

  it('the node entry registers Node’s accelerators when it is imported', async () => {
    expect(accelerators(globalThis.crypto)).toEqual({});
    const entry = await import('../../src/index.node.js');
    expect(accelerators(globalThis.crypto)).toBe(nodeAccelerators);
    expect(typeof entry.decryptMessage).toBe('function');
    // The same exports as the plain entry, and `nodeCrypto` (also at smime-core/node).
    expect(Object.keys(entry).sort()).toEqual([...Object.keys(await import('../../src/index.js')), 'nodeCrypto'].sort());
  });
});

describe('OpenSSL’s envelopes through the accelerators (vectors/manifest.json)', () => {
  const ids = ['enc-rsa15-aes256cbc', 'enc-oaep-sha256', 'enc-aes256gcm', 'enc-stream'];
  for (const id of ids) {
    it(`${id} opens, with its RSA done natively`, async () => {
      const m = manifest.messages.find((x) => x.id === id)!;
      const { r, calls } = counting();
      setPlatformAccelerators({ ...nodeAccelerators, rawRsa: r });
      const store = await storeWith([m.identities![0]!]);
      const got = await decryptMessage(vfile(m.file), { store });
      expect(got.content).toEqual(vfile(m.expect.content!));
      expect(calls.n).toBeGreaterThanOrEqual(1);
    });
  }
});
