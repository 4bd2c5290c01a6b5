/**
 * The caches that spare a WebCrypto call per message (src/crypto/key_cache.ts, the content-keyed signature checks
 * of src/path/chain.ts): a hit is only ever the same check on the same bytes; a changed byte is checked afresh;
 * secrets are never cached by content; failures are not cached; the public-key cache is bounded.
 */
import * as nodeCrypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importPrivateKey, importPublicKey } from '../../src/crypto/key_cache.js';
import { buildChain } from '../../src/path/chain.js';
import { certInfo } from '../../src/certs/cert_info.js';
import { signMessage, verifyMessage } from '../../src/index.js';
import { VECTORS } from '../_helpers/env.js';
import { manifest, storeWith } from '../_helpers/identities.js';
import { countingCrypto } from '../_helpers/counting_crypto.js';

const u8 = (b: Buffer | Uint8Array): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const der = (pemFile: string): Uint8Array =>
  u8(Buffer.from(readFileSync(pemFile, 'utf8').replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'));

/** A Crypto over Node's WebCrypto that counts its calls by method. */
function counting() {
  const { crypto, counts } = countingCrypto();
  return { crypto, subtle: crypto.subtle, calls: counts.calls };
}

const kp = nodeCrypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const spki = u8(kp.publicKey.export({ format: 'der', type: 'spki' }));
const pkcs8 = u8(kp.privateKey.export({ format: 'der', type: 'pkcs8' }));
const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };

describe('key_cache', () => {
  it('public keys: one import per bytes, parameters and usages, whatever array holds the bytes', async () => {
    const { subtle, calls } = counting();
    const a = await importPublicKey(subtle, spki, RSA, ['verify']);
    const b = await importPublicKey(subtle, spki.slice(), RSA, ['verify']);
    expect(b).toBe(a);
    expect(calls.importKey).toBe(1);
    const c = await importPublicKey(subtle, spki, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-384' }, ['verify']);
    expect(c).not.toBe(a);
    expect((c.algorithm as RsaHashedKeyAlgorithm).hash.name).toBe('SHA-384');
    expect(a.extractable).toBe(false);
    expect(calls.importKey).toBe(2);
    // Another implementation gets its own keys.
    const other = counting();
    expect(await importPublicKey(other.subtle, spki, RSA, ['verify'])).not.toBe(a);
    expect(other.calls.importKey).toBe(1);
  });

  it('public keys: a failed import is not cached; the cache is bounded (least recently used first)', async () => {
    const { subtle, calls } = counting();
    const junk = Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00);
    await expect(importPublicKey(subtle, junk, RSA, ['verify'])).rejects.toThrow();
    await expect(importPublicKey(subtle, junk, RSA, ['verify'])).rejects.toThrow();
    expect(calls.importKey).toBe(2);
    calls.importKey = 0;
    const first = await importPublicKey(subtle, spki, RSA, ['verify']);
    // 300 other cache entries (the same key under other usages is another entry).
    const hashes = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'];
    for (let i = 0; i < 300; i++) {
      const usages: KeyUsage[][] = [['verify'], ['verify', 'verify'], [], ['sign']];
      await importPublicKey(subtle, spki, { name: 'RSASSA-PKCS1-v1_5', hash: hashes[i % 4]! }, usages[Math.floor(i / 4) % 4]!).catch(() => undefined);
    }
    const before = calls.importKey!;
    await importPublicKey(subtle, spki, RSA, ['verify']);
    // Only 16 distinct entries were made, so the first is still there…
    expect(calls.importKey).toBe(before);
    expect(await importPublicKey(subtle, spki, RSA, ['verify'])).toBe(first);
    // …and 300 distinct keys push it out.
    for (let i = 0; i < 300; i++) {
      const k = nodeCrypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
      await importPublicKey(subtle, u8(k.publicKey.export({ format: 'der', type: 'spki' })), { name: 'ECDSA', namedCurve: 'P-256' }, ['verify']);
    }
    const n = calls.importKey!;
    expect(await importPublicKey(subtle, spki, RSA, ['verify'])).not.toBe(first);
    expect(calls.importKey).toBe(n + 1);
  });

  it('private keys: cached by the array, never by its bytes', async () => {
    const { subtle, calls } = counting();
    const a = await importPrivateKey(subtle, pkcs8, RSA, ['sign']);
    expect(await importPrivateKey(subtle, pkcs8, RSA, ['sign'])).toBe(a);
    expect(calls.importKey).toBe(1);
    const copy = pkcs8.slice();
    expect(await importPrivateKey(subtle, copy, RSA, ['sign'])).not.toBe(a);
    expect(calls.importKey).toBe(2);
    expect(a.extractable).toBe(false);
  });
});

describe('certificate signature checks by content', () => {
  const leafFile = join(VECTORS, manifest.identities['alice-sign']!.cert);
  const root = certInfo(der(join(VECTORS, 'pki', 'root-ca.cert.pem')));
  const issuing = certInfo(der(join(VECTORS, 'pki', 'issuing-ca.cert.pem')));
  const at = new Date(manifest.referenceDate ?? Date.now());

  it('the same certificate in a new array is not checked again; one changed byte is', async () => {
    const { crypto, calls } = counting();
    const leaf = certInfo(der(leafFile));
    expect((await buildChain(leaf, [issuing], [root], at, { crypto })).chain?.length).toBe(3);
    const first = calls.verify ?? 0;
    expect(first).toBeGreaterThanOrEqual(1);
    const again = certInfo(der(leafFile));
    expect((await buildChain(again, [certInfo(der(join(VECTORS, 'pki', 'issuing-ca.cert.pem')))], [root], at, { crypto })).chain?.length).toBe(3);
    expect(calls.verify ?? 0).toBe(first);
    // The last byte of a certificate is the last byte of its signature.
    const bytes = der(leafFile);
    bytes[bytes.length - 1]! ^= 1;
    const forged = certInfo(bytes);
    const r = await buildChain(forged, [issuing], [root], at, { crypto });
    expect(r.chain).toBeUndefined();
    expect(r.problem).toBe('untrusted');
    expect(calls.verify).toBeGreaterThan(first);
  });

  it('signed messages verify without re-checking their certificates; a tampered copy is still invalid', async () => {
    const store = await storeWith(['alice-sign']);
    const signed = await signMessage('Content-Type: text/plain\r\n\r\nhello\r\n', { store, from: 'alice@example.com' });
    expect((await verifyMessage(signed, { store })).signers[0]!.status).toBe('valid');
    const { crypto, calls } = counting();
    expect((await verifyMessage(signed, { store, crypto })).signers[0]!.status).toBe('valid');
    expect(calls.importKey).toBe(1); // the signer's key, for this WebCrypto implementation
    for (const k of Object.keys(calls)) delete calls[k];
    expect((await verifyMessage(signed, { store, crypto })).signers[0]!.status).toBe('valid');
    expect(calls.verify).toBe(1); // the message's own signature only: the chain was checked before
    expect(calls.importKey ?? 0).toBe(0);
    const text = new TextDecoder().decode(signed).replace('hello', 'hellO');
    expect((await verifyMessage(text, { store, crypto })).signers[0]!.status).toBe('invalid');
  });
});
