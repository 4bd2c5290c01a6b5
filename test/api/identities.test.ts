/** Identity sources: PEM (cert + key in one file), a non-extractable CryptoKey, PKCS#12 intermediates. */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import { CertificateStore, decryptMessage, encryptMessage } from '../../src/index.js';
import { atReference, manifest, vfile, PASSWORD } from '../_helpers/identities.js';
import { hasPeer, run, tmp, VECTORS } from '../_helpers/env.js';

const id = (n: string) => manifest.identities[n]!;
const read = (rel: string) => readFileSync(join(VECTORS, rel), 'utf8');

describe('identities', () => {
  it('a PEM file with the certificate and the PKCS#8 key opens mail', async () => {
    const store = new CertificateStore();
    await store.importIdentity(read(id('alice-enc-2025').cert) + read(id('alice-enc-2025').key));
    const r = await decryptMessage(vfile('openssl/enc-rsa15-aes256cbc.eml'), { store });
    expect(r.content).toEqual(vfile('openssl/plain.txt'));
  });

  it('a key that does not belong to the certificate is refused', async () => {
    const store = new CertificateStore();
    const e = await store.importIdentity(read(id('alice-enc-2025').cert), read(id('bob').key)).catch((x: unknown) => x);
    expect((e as { code: string }).code).toBe('ERR_KEY_INVALID');
  });

  it('a non-extractable RSA-OAEP CryptoKey opens OAEP mail through WebCrypto', async () => {
    const pkcs8 = run('openssl', ['pkcs8', '-topk8', '-nocrypt', '-outform', 'DER', '-in', join(VECTORS, id('alice-enc-2025').key)]);
    const key = await webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']);
    expect(key.extractable).toBe(false);
    const store = new CertificateStore();
    const ident = await store.importIdentity(read(id('alice-enc-2025').cert), key as unknown as CryptoKey);
    expect(ident.source).toBe('cryptokey');
    const r = await decryptMessage(vfile('openssl/enc-oaep-sha256.eml'), { store });
    expect(r.content).toEqual(vfile('openssl/plain.txt'));
    // It can't do PKCS#1 v1.5 (WebCrypto has none): a typed refusal that says so and what to use instead.
    const e = await decryptMessage(vfile('openssl/enc-rsa15-aes256cbc.eml'), { store }).catch((x: unknown) => x);
    expect((e as { code: string }).code).toBe('ERR_KEY_OPERATION_REFUSED');
    expect((e as Error).message).toMatch(/WebCrypto has no PKCS#1 v1\.5 decryption.*PKCS#8.*rsa-raw/);
  });

  it('a non-extractable ECDH CryptoKey opens ECDH mail', async () => {
    const pkcs8 = run('openssl', ['pkcs8', '-topk8', '-nocrypt', '-outform', 'DER', '-in', join(VECTORS, id('ec-enc').key)]);
    const key = await webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'ECDH', namedCurve: 'P-384' }, false, ['deriveBits']);
    const store = new CertificateStore();
    await store.importIdentity(read(id('ec-enc').cert), key as unknown as CryptoKey);
    const r = await decryptMessage(vfile('openssl/enc-ecdh-p384-aes256cbc.eml'), { store });
    expect(r.content).toEqual(vfile('openssl/plain.txt'));
  });

  it('PKCS#12 CA certificates become intermediates, so chains build without adding them', async () => {
    const store = new CertificateStore({ now: atReference });
    await store.importPkcs12(vfile(id('alice-enc-2025').p12), PASSWORD);
    store.addTrustAnchor(read('pki/root-ca.cert.pem'));
    const sel = await store.findEncryptionCertificate('alice@example.com');
    expect(sel.certificate).toBeDefined();
  });

  it('openssl cms -stream (indefinite-length BER, chunked OCTET STRING) at 2 MiB', async () => {
    if (!hasPeer('openssl', ['version'])) return;
    const dir = tmp();
    const plain = join(dir, 'big.txt');
    const line = 'Content-Type: text/plain\r\n\r\n' + 'The quick brown fox jumps over the lazy dog 0123456789.\r\n'.repeat(2 * 1024 * 1024 / 58);
    writeFileSync(plain, line);
    const out = join(dir, 'big.eml');
    run('openssl', ['cms', '-encrypt', '-stream', '-binary', '-aes256', '-in', plain, '-out', out, join(VECTORS, id('alice-enc-2025').cert)]);
    const store = new CertificateStore();
    await store.importPkcs12(vfile(id('alice-enc-2025').p12), PASSWORD);
    const r = await decryptMessage(new Uint8Array(readFileSync(out)), { store });
    expect(r.content.length).toBe(Buffer.byteLength(line));
    expect(new TextDecoder().decode(r.content) === line).toBe(true);
  });

  it('a message encrypted to several recipients opens for each, and ours carries every one', async () => {
    const alice = new CertificateStore({ now: atReference });
    await alice.importPkcs12(vfile(id('alice-enc-2025').p12), PASSWORD);
    for (const n of ['bob', 'ec-enc', 'kim-noeku']) await alice.addCertificate(read(id(n).cert));
    const msg = await encryptMessage('Subject: many\r\nContent-Type: text/plain\r\n\r\nhi all\r\n', {
      store: alice,
      to: ['bob@example.com', 'ecuser@example.com', 'kim@example.com'],
      from: 'alice@example.com',
      cipher: 'aes-256-gcm',
    });
    for (const n of ['bob', 'ec-enc', 'kim-noeku']) {
      const s = new CertificateStore();
      await s.importPkcs12(vfile(id(n).p12), PASSWORD);
      const r = await decryptMessage(msg, { store: s });
      expect(new TextDecoder().decode(r.content)).toBe('Content-Type: text/plain\r\n\r\nhi all\r\n');
      expect(r.authenticated).toBe(true);
    }
  });
});
