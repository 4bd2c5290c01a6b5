import { describe, it, expect } from 'vitest';
import {
  CONTENT_CIPHERS,
  DIGESTS,
  digestAlgorithmByOid,
  digestByHmacOid,
  KEY_AGREEMENTS,
  KEY_WRAPS,
  keyKindOfOid,
  NIST_CURVES,
  signatureByOid,
  signatureOidFor,
  WEAK_HASHES,
  WEAK_SIGNATURE_OIDS,
} from '../../src/crypto/algorithms.js';
import { HASH_BY_OID, OID_BY_HASH, OIDS, oidName } from '../../src/cms/oids.js';
import { MICALG } from '../../src/cms/signed.js';
import { CIPHERS, cipherByOid } from '../../src/cms/content_cipher.js';

describe('crypto/algorithms.ts: the one algorithm registry', () => {
  it('the weak OIDs are exactly the SHA-1, MD5 and MD2 signature and digest algorithms', () => {
    expect([...WEAK_SIGNATURE_OIDS].sort()).toEqual(
      [
        '1.2.840.113549.1.1.2', // md2WithRSAEncryption
        '1.2.840.113549.1.1.4', // md5WithRSAEncryption
        '1.2.840.113549.1.1.5', // sha1WithRSAEncryption
        '1.3.14.3.2.29', // sha1WithRSASignature (OIW)
        '1.2.840.10045.4.1', // ecdsa-with-SHA1
        '1.2.840.10040.4.3', // dsa-with-sha1
        '1.3.14.3.2.27', // dsaWithSHA1 (OIW)
        '1.3.14.3.2.26', // sha1
        '1.2.840.113549.2.5', // md5
        '1.2.840.113549.2.2', // md2
      ].sort(),
    );
    expect([...WEAK_HASHES].sort()).toEqual(['MD2', 'MD5', 'SHA-1']);
  });
  it('digests: OID ↔ name ↔ length ↔ micalg ↔ HMAC OID', () => {
    expect(digestAlgorithmByOid('2.16.840.1.101.3.4.2.1')).toMatchObject({ name: 'SHA-256', length: 32, blockLength: 64, webCrypto: true });
    expect(digestAlgorithmByOid('2.16.840.1.101.3.4.2.4')).toMatchObject({ name: 'SHA-224', length: 28, webCrypto: false });
    expect(digestAlgorithmByOid('1.2.840.113549.2.2')).toBeUndefined();
    expect(digestByHmacOid('1.2.840.113549.2.8')?.name).toBe('SHA-224');
    expect(digestByHmacOid('1.2.840.113549.2.12')).toBeUndefined(); // hmacWithSHA512-224: not supported
    expect(MICALG).toEqual({ MD5: 'md5', 'SHA-1': 'sha-1', 'SHA-224': 'sha-224', 'SHA-256': 'sha-256', 'SHA-384': 'sha-384', 'SHA-512': 'sha-512' });
    for (const d of Object.values(DIGESTS)) expect(d.hash(new Uint8Array(3)).length).toBe(d.length);
  });
  it('the CMS tables derived from it are the ones CMS had', () => {
    expect(HASH_BY_OID).toEqual({
      '1.3.14.3.2.26': 'SHA-1',
      '2.16.840.1.101.3.4.2.4': 'SHA-224',
      '2.16.840.1.101.3.4.2.1': 'SHA-256',
      '2.16.840.1.101.3.4.2.2': 'SHA-384',
      '2.16.840.1.101.3.4.2.3': 'SHA-512',
    });
    expect(OID_BY_HASH).toEqual({
      'SHA-1': '1.3.14.3.2.26',
      'SHA-256': '2.16.840.1.101.3.4.2.1',
      'SHA-384': '2.16.840.1.101.3.4.2.2',
      'SHA-512': '2.16.840.1.101.3.4.2.3',
    });
    expect(OIDS.aes256GCM).toBe('2.16.840.1.101.3.4.1.46');
    expect(OIDS.rc2CBC).toBe('1.2.840.113549.3.2');
    expect(oidName('2.16.840.1.101.3.4.1.45')).toBe('aes256Wrap');
    expect(oidName('1.2.840.113549.1.9.16.3.18')).toBe('chacha20Poly1305');
    expect(CIPHERS).toBe(CONTENT_CIPHERS);
    expect(cipherByOid('2.16.840.1.101.3.4.1.2')).toBe('aes-128-cbc');
    expect(KEY_WRAPS.aes192).toEqual({ oid: '2.16.840.1.101.3.4.1.25', keyLength: 24 });
  });
  it('signatures: OID → scheme and hash, and scheme + hash → OID', () => {
    expect(signatureByOid('1.2.840.113549.1.1.14')).toMatchObject({ scheme: 'rsa-pkcs1', hash: 'SHA-224', weak: false });
    expect(signatureByOid('1.3.14.3.2.29')).toMatchObject({ scheme: 'rsa-pkcs1', hash: 'SHA-1', weak: true });
    expect(signatureByOid('1.2.840.10045.4.3.3')).toMatchObject({ scheme: 'ecdsa', hash: 'SHA-384' });
    expect(signatureByOid('1.2.840.10040.4.1')).toMatchObject({ scheme: 'dsa', hash: undefined });
    expect(signatureOidFor('rsa-pkcs1', 'SHA-1')).toBe('1.2.840.113549.1.1.5'); // not the OIW alias
    expect(signatureOidFor('rsa-pkcs1', 'SHA-256')).toBe('1.2.840.113549.1.1.11');
    expect(signatureOidFor('ecdsa', 'SHA-512')).toBe('1.2.840.10045.4.3.4');
  });
  it('keys, curves and key agreement schemes', () => {
    expect(keyKindOfOid('1.2.840.113549.1.1.10')).toBe('rsa');
    expect(keyKindOfOid('1.2.840.113549.1.1.7')).toBe('other'); // an id-RSAES-OAEP SPKI is no certificate key kind
    expect(keyKindOfOid('1.3.101.110')).toBe('x25519');
    expect(NIST_CURVES['1.3.132.0.35']).toEqual({ name: 'P-521', size: 66 });
    expect(KEY_AGREEMENTS.cofactorDhSha224kdf).toEqual({ oid: '1.3.132.1.14.0', kdf: 'x963', hash: 'SHA-224', cofactor: true });
    expect(KEY_AGREEMENTS.hkdfSha384).toEqual({ oid: '1.2.840.113549.1.9.16.3.29', kdf: 'hkdf', hash: 'SHA-384', cofactor: false });
  });
});
