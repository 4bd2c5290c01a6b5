import { describe, it, expect } from 'vitest';
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { verifySignature } from '../../src/crypto/signatures.js';
import { rsaPublicKeyBits } from '../../src/crypto/rsa_key.js';
import { KEY_ALGORITHMS, SIGNATURES } from '../../src/crypto/algorithms.js';
import { NULL } from '../../src/lib/der.js';
import { alg, keyOf } from '../_helpers/signer_key.js';

const data = new TextEncoder().encode('signed bytes');

describe('crypto/signatures.ts: verifySignature on a bare public key', () => {
  it('ECDSA P-256 with SHA-256: ok, then signature-mismatch when the data changes', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = keyOf(new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })));
    const sig = new Uint8Array(nodeSign('sha256', data, privateKey));
    expect(await verifySignature(alg(SIGNATURES.ecdsaSha256.oid), undefined, key, data, sig)).toEqual({ ok: true, hash: 'SHA-256' });
    expect(await verifySignature(alg(SIGNATURES.ecdsaSha256.oid), undefined, key, data.subarray(1), sig)).toEqual({
      ok: false,
      reason: 'signature-mismatch',
      hash: 'SHA-256',
    });
  });
  it('RSA PKCS#1 v1.5 with SHA-224 (outside WebCrypto) and with a bare rsaEncryption plus a digest OID', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = keyOf(new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })));
    const s224 = new Uint8Array(nodeSign('sha224', data, privateKey));
    expect(await verifySignature(alg(SIGNATURES.sha224WithRSA.oid, NULL), undefined, key, data, s224)).toEqual({ ok: true, hash: 'SHA-224' });
    const s256 = new Uint8Array(nodeSign('sha256', data, privateKey));
    const bare = alg(KEY_ALGORITHMS.rsaEncryption.oid, NULL);
    expect(await verifySignature(bare, '2.16.840.1.101.3.4.2.1', key, data, s256)).toEqual({ ok: true, hash: 'SHA-256' });
    expect(await verifySignature(bare, '1.2.840.113549.2.2', key, data, s256)).toEqual({ ok: false, reason: 'unsupported-algorithm: 1.2.840.113549.2.2' });
  });
  it('a key of another kind, DSA and MD2 are reasons, not exceptions', async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const key = keyOf(new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })));
    const sig = new Uint8Array(64);
    expect(await verifySignature(alg(SIGNATURES.sha256WithRSA.oid, NULL), undefined, key, data, sig)).toEqual({
      ok: false,
      reason: 'key-algorithm-mismatch',
      hash: 'SHA-256',
    });
    expect(await verifySignature(alg(SIGNATURES.dsaSha256.oid), undefined, key, data, sig)).toEqual({
      ok: false,
      reason: 'unsupported-algorithm: 2.16.840.1.101.3.4.3.2',
      hash: 'SHA-256',
    });
    expect(await verifySignature(alg(SIGNATURES.md2WithRSA.oid, NULL), undefined, key, data, sig)).toEqual({
      ok: false,
      reason: 'unsupported-algorithm: 1.2.840.113549.1.1.2',
      hash: undefined,
    });
  });
  it('rsaPublicKeyBits counts the modulus bits from the DER, and says 0 for a malformed key', () => {
    for (const bits of [1025, 2048, 3072]) {
      const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
      expect(rsaPublicKeyBits(keyOf(new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }))).publicKey)).toBe(bits);
    }
    expect(rsaPublicKeyBits(new Uint8Array([0x30, 0x05, 0x02]))).toBe(0);
    expect(rsaPublicKeyBits(new Uint8Array(0))).toBe(0);
    expect(rsaPublicKeyBits(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00))).toBe(0);
  });
});
