/**
 * The ExternalKey contract, with an in-memory test double on node:crypto (test/_helpers/external_keys.ts): every
 * private-key operation (KTRI v1.5 and OAEP, KARI ECDH and X25519, RSA/PSS/ECDSA/Ed25519 signatures) goes through
 * it; a v1.5-only key keeps the RFC 3218 behaviour; refusals and faulty keys end in typed errors.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import {
  CertificateNotFound,
  CertificateStore,
  CMSDecryptionFailed,
  decryptMessage,
  encryptMessage,
  signMessage,
  verifyMessage,
  KeyInvalid,
  KeyOperationRefused,
  TokenUnavailable,
  type ExternalKey,
} from '../../src/index.js';
import { extractCms } from '../../src/mime/extract.js';
import { atReference, CHAIN, manifest, OPENSSL_AT_REFERENCE, ROOT, vfile } from '../_helpers/identities.js';
import { run, tmp, tryRun, VECTORS } from '../_helpers/env.js';
import { countingCrypto } from '../_helpers/counting_crypto.js';
import { FIXED_FILL, fixedRandomCrypto } from '../_helpers/fixed_random.js';
import { rejection } from '../_helpers/thrown.js';
import { garbageKey, nodeExternalKey, refusingKey, v15Only, without, type CountedKey } from '../_helpers/external_keys.js';

const IDS = { ...manifest.identities, ...((manifest as { peerIdentities?: typeof manifest.identities }).peerIdentities ?? {}) };
const read = (rel: string) => readFileSync(join(VECTORS, rel), 'utf8');
const certOf = (n: string) => read(IDS[n]!.cert);
const keyOf = (n: string) => read(IDS[n]!.key);
const message = (from: string) =>
  `From: ${from}\r\nTo: someone@example.com\r\nSubject: external keys\r\nContent-Type: text/plain\r\n\r\nSigned by a key smime-core never sees.\r\n`;
const MESSAGE = message('someone@example.com');

/** A store of the sample identities' certificates with external keys, judged at the reference date. */
async function externalStore(keys: [string, ExternalKey][]): Promise<CertificateStore> {
  const store = new CertificateStore({ now: atReference });
  for (const [n, k] of keys) await store.importExternalIdentity(certOf(n), k);
  await store.addCertificate(CHAIN());
  store.addTrustAnchor(ROOT());
  return store;
}

/** A certificate issued by the sample issuing CA for a fresh key (`genpkey` arguments), with these extensions. */
function issue(dir: string, name: string, genpkey: string[], ext: string): { cert: string; key: string } {
  const k = join(dir, `${name}.key.pem`);
  const c = join(dir, `${name}.cert.pem`);
  const cnf = join(dir, `${name}.cnf`);
  writeFileSync(cnf, `[leaf]\nbasicConstraints=CA:FALSE\n${ext}\n`);
  run('openssl', ['genpkey', ...genpkey, '-out', k]);
  const csr = join(dir, `${name}.csr`);
  run('openssl', ['req', '-new', '-key', k, '-subj', `/CN=${name}`, '-out', csr]);
  run('openssl', [
    'x509', '-req', '-in', csr, '-CA', join(VECTORS, 'pki', 'issuing-ca.cert.pem'), '-CAkey', join(VECTORS, 'pki', 'issuing-ca.key.pem'),
    '-set_serial', `0x${Buffer.from(name).toString('hex').slice(0, 12)}`, '-days', '3650', '-extfile', cnf, '-extensions', 'leaf', '-out', c,
  ]);
  return { cert: readFileSync(c, 'utf8'), key: readFileSync(k, 'utf8') };
}

const OPENSSL_DECRYPT = manifest.messages.filter(
  (m) => m.peer === 'openssl' && m.expect.content && /^(enc-|sig-then-enc)/.test(m.id) && (m.identities ?? []).length > 0,
);

describe('ExternalKey: decryption of OpenSSL messages with a store of external keys only', () => {
  it('covers v1.5, OAEP SHA-1 and SHA-256, ECDH P-384', () => {
    const ids = OPENSSL_DECRYPT.map((m) => m.id);
    for (const id of ['enc-rsa15-aes256cbc', 'enc-oaep-sha1', 'enc-oaep-sha256', 'enc-ecdh-p384-aes256cbc', 'enc-ecdh-p384-gcm']) expect(ids).toContain(id);
  });
  for (const m of OPENSSL_DECRYPT) {
    it(`${m.id} opens, through the key's interface only`, async () => {
      const keys = m.identities!.map((n) => [n, nodeExternalKey(keyOf(n))] as [string, CountedKey]);
      const store = await externalStore(keys);
      const r = await decryptMessage(vfile(m.file), { store });
      expect(r.content).toEqual(vfile(m.expect.content!));
      const used = keys.flatMap(([, k]) => [...k.calls.decrypt, ...(k.calls.derive ? ['derive'] : [])]);
      expect(used.length).toBeGreaterThan(0);
      // RSA keys are always asked for the raw operation (the padding is ours, in constant time)
      expect(used.filter((u) => u !== 'derive').every((u) => u === 'rsa-raw')).toBe(true);
    });
  }

  it('ECDH P-256: an OpenSSL message to a P-256 key-agreement certificate', async () => {
    const dir = tmp();
    const p256 = issue(dir, 'p256-enc', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'keyUsage=critical,keyAgreement\nextendedKeyUsage=emailProtection\nsubjectAltName=email:p256@example.com');
    writeFileSync(join(dir, 'c.pem'), p256.cert);
    const plain = vfile('openssl/plain.txt');
    writeFileSync(join(dir, 'plain.txt'), plain);
    const eml = run('openssl', ['cms', '-encrypt', '-in', join(dir, 'plain.txt'), '-recip', join(dir, 'c.pem'), '-aes-128-cbc']);
    const key = nodeExternalKey(p256.key);
    const store = new CertificateStore();
    await store.importExternalIdentity(p256.cert, key);
    expect((await decryptMessage(eml, { store })).content).toEqual(plain);
    expect(key.calls.derive).toBe(1);
  });

  it('X25519: a message to edna-x25519 (OpenSSL 3.0 has no X25519 CMS: made by encryptMessage)', async () => {
    const key = nodeExternalKey(keyOf('edna-x25519'));
    const store = await externalStore([['edna-x25519', key]]);
    const smime = await encryptMessage(MESSAGE, { store, to: ['edna@example.com'] });
    const r = await decryptMessage(smime, { store });
    expect(new TextDecoder().decode(r.content)).toContain('Signed by a key smime-core never sees.');
    expect(key.calls.derive).toBe(1);
  });
});

describe('ExternalKey: signing', () => {
  const dir = tmp();
  const p384 = issue(dir, 'p384-sign', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'], 'keyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=emailProtection\nsubjectAltName=email:p384@example.com');
  const cases: { label: string; from: string; id?: string; pss?: boolean; openssl: boolean; oid: string }[] = [
    { label: 'RSA PKCS#1 v1.5', from: 'alice@example.com', id: 'alice-sign', openssl: true, oid: '1.2.840.113549.1.1.11' },
    { label: 'RSA-PSS', from: 'alice@example.com', id: 'alice-sign', pss: true, openssl: true, oid: '1.2.840.113549.1.1.10' },
    { label: 'ECDSA P-256', from: 'ecuser@example.com', id: 'ec-sign', openssl: true, oid: '1.2.840.10045.4.3.2' },
    { label: 'ECDSA P-384', from: 'p384@example.com', openssl: true, oid: '1.2.840.10045.4.3.2' },
    // OpenSSL 3.0 cannot verify Ed25519 CMS signatures with signed attributes (see test/interop/matrix-outbound)
    { label: 'Ed25519', from: 'edna@example.com', id: 'edna-ed25519', openssl: false, oid: '1.3.101.112' },
  ];
  for (const c of cases) {
    it(`${c.label}: signed through ExternalKey.sign, verified by verifyMessage${c.openssl ? ' and openssl cms -verify' : ''}`, async () => {
      const key = nodeExternalKey(c.id ? keyOf(c.id) : p384.key);
      // A sample identity is judged at the reference date; the certificate issued above, at the clock.
      const store = new CertificateStore(c.id ? { now: atReference } : {});
      await store.importExternalIdentity(c.id ? certOf(c.id) : p384.cert, key);
      await store.addCertificate(CHAIN());
      store.addTrustAnchor(ROOT());
      const smime = await signMessage(message(c.from), { store, from: c.from, pss: c.pss });
      expect(key.calls.sign).toEqual([c.oid]);
      const v = await verifyMessage(smime, { store });
      expect(v.signers.map((s) => s.status)).toEqual(['valid']);
      if (c.openssl) {
        const f = join(dir, `${c.label.replace(/\W/g, '')}.eml`);
        writeFileSync(f, smime);
        const at = c.id ? OPENSSL_AT_REFERENCE : [];
        const r = tryRun('openssl', ['cms', '-verify', '-purpose', 'smimesign', ...at, '-CAfile', join(VECTORS, 'pki', 'root-ca.cert.pem'), '-in', f, '-out', join(dir, 'out.txt')]);
        expect(r.stderr).toContain('Verification successful');
        expect(r.status).toBe(0);
      }
    });
  }
});

describe('ExternalKey: a v1.5-only key (no rsa-raw)', () => {
  /**
   * The v1.5 vector to alice-enc-2025 (AES-256-CBC) with an encryptedKey that decrypts to a bad padding, as DER in
   * S/MIME: a fixed ciphertext, so that with a fixed random fill the random CEK meets the same content every run.
   */
  function badPaddingMessage(): Uint8Array {
    const der = extractCms(vfile('openssl/enc-rsa15-aes256cbc.eml')).der.slice();
    // the 256-byte encryptedKey: OCTET STRING 04 82 01 00
    let at = -1;
    for (let i = 0; i + 4 < der.length; i++) if (der[i] === 0x04 && der[i + 1] === 0x82 && der[i + 2] === 0x01 && der[i + 3] === 0x00) at = i + 4;
    expect(at).toBeGreaterThan(0);
    // c = 2 (< n): m = 2^d mod n, whose padding is bad but for a ~2^-16 chance; any wrong c does.
    der.fill(0, at, at + 256);
    der[at + 255] = 2;
    const b64 = Buffer.from(der).toString('base64').replace(/.{76}/g, '$&\r\n');
    return new TextEncoder().encode(
      `Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n`,
    );
  }

  it('opens v1.5 mail through rsaes-pkcs1-v1_5, and OAEP through its OAEP', async () => {
    const key = v15Only(nodeExternalKey(keyOf('alice-enc-2025')));
    const store = await externalStore([['alice-enc-2025', key]]);
    expect((await decryptMessage(vfile('openssl/enc-rsa15-aes256cbc.eml'), { store })).content).toEqual(vfile('openssl/plain.txt'));
    expect((await decryptMessage(vfile('openssl/enc-oaep-sha256.eml'), { store })).content).toEqual(vfile('openssl/plain.txt'));
    expect(key.calls.decrypt).toEqual(['rsaes-pkcs1-v1_5', 'rsaes-oaep']);
  });

  it("a bad padding is the same CMSDecryptionFailed as a wrong key, the key's error hidden, and the content decryption runs", async () => {
    const good = v15Only(nodeExternalKey(keyOf('alice-enc-2025')));
    const bad = badPaddingMessage();
    // Both end in the random CEK on the vector's AES-CBC content: a fixed fill, under which its padding is bad (a
    // random one passes about once in 256 runs, and the garbage comes back as the content).
    const c1 = countingCrypto({ fill: FIXED_FILL });
    const e1 = await rejection(decryptMessage(bad, { store: await externalStore([['alice-enc-2025', good]]), crypto: c1.crypto }));
    // a wrong key: bob's key behind alice's certificate
    const wrong = v15Only(nodeExternalKey(keyOf('bob')));
    const c2 = countingCrypto({ fill: FIXED_FILL });
    const e2 = await rejection(decryptMessage(vfile('openssl/enc-rsa15-aes256cbc.eml'), { store: await externalStore([['alice-enc-2025', wrong]]), crypto: c2.crypto }));
    expect(e1).toBeInstanceOf(CMSDecryptionFailed);
    expect(e2).toBeInstanceOf(CMSDecryptionFailed);
    expect((e1 as CMSDecryptionFailed).code).toBe((e2 as CMSDecryptionFailed).code);
    expect((e1 as Error).message).toBe((e2 as Error).message);
    expect((e1 as Error).message).not.toMatch(/CKR_|device/);
    // the key was asked once, it threw, and the content decryption still ran with the random CEK
    expect(good.calls.decrypt).toEqual(['rsaes-pkcs1-v1_5']);
    expect(wrong.calls.decrypt).toEqual(['rsaes-pkcs1-v1_5']);
    expect(c1.counts.decrypt).toBe(1);
    expect(c2.counts.decrypt).toBe(1);
  });
});

describe('ExternalKey: dual use and selection', () => {
  it('one identity (bob, signing+encryption) signs and decrypts with one external key', async () => {
    const key = nodeExternalKey(keyOf('bob'));
    const store = await externalStore([['bob', key]]);
    expect(store.identities).toHaveLength(1);
    expect(store.identities[0]!.source).toBe('external');
    expect((await decryptMessage(vfile('openssl/enc-to-bob-only.eml'), { store })).content).toEqual(vfile('openssl/plain.txt'));
    const smime = await signMessage(message('bob@example.com'), { store, from: 'bob@example.com' });
    expect((await verifyMessage(smime, { store })).signers[0]!.status).toBe('valid');
    expect(key.calls.sign).toHaveLength(1);
    expect(key.calls.decrypt).toEqual(['rsa-raw']);
  });

  it('three signing certificates for one address, only one key can sign: that one signs (the per-device case)', async () => {
    const dir = tmp();
    const ext = 'keyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection\nsubjectAltName=email:device@example.com';
    const devices = ['device-a', 'device-b', 'device-c'].map((n) => ({ n, ...issue(dir, n, ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], ext) }));
    const store = new CertificateStore();
    const keys = devices.map((d, i) => (i === 1 ? nodeExternalKey(d.key) : without(nodeExternalKey(d.key), 'sign')));
    // a key with no operation at all is refused; these two can still do key agreement
    for (let i = 0; i < 3; i++) await store.importExternalIdentity(devices[i]!.cert, keys[i]!);
    await store.addCertificate(CHAIN());
    store.addTrustAnchor(ROOT());
    const smime = await signMessage(message('device@example.com'), { store, from: 'device@example.com' });
    const v = await verifyMessage(smime, { store });
    expect(v.signers[0]!.status).toBe('valid');
    expect(v.signers[0]!.certificate?.subject).toContain('device-b');
    expect(keys[1]!.calls.sign).toHaveLength(1);
  });
});

describe('ExternalKey: refusals', () => {
  it('a key without sign: signMessage says CertificateNotFound with key-cannot-sign', async () => {
    const store = await externalStore([['alice-enc-2025', nodeExternalKey(keyOf('alice-enc-2025'))], ['alice-sign', without(nodeExternalKey(keyOf('alice-sign')), 'sign')]]);
    const e = await rejection(signMessage(MESSAGE, { store, from: 'alice@example.com' }));
    expect(e).toBeInstanceOf(CertificateNotFound);
    expect(e.message).toContain('key-cannot-sign');
  });

  it('a key whose sign throws: KeyOperationRefused', async () => {
    const store = await externalStore([['alice-sign', refusingKey('rsa')]]);
    const e = await rejection(signMessage(MESSAGE, { store, from: 'alice@example.com' }));
    expect(e).toBeInstanceOf(KeyOperationRefused);
    expect((e as Error).message).toContain('the device said no');
  });

  it('a garbage signature (right length): KeyOperationRefused, it does not verify', async () => {
    const store = await externalStore([['alice-sign', garbageKey('rsa', 256)]]);
    const e = await rejection(signMessage(MESSAGE, { store, from: 'alice@example.com' }));
    expect(e).toBeInstanceOf(KeyOperationRefused);
    expect((e as Error).message).toBe("the key's signature does not verify with the certificate");
  });

  it('a malformed ECDSA signature or one of the wrong length: KeyOperationRefused', async () => {
    const ec = await rejection(signMessage(MESSAGE, { store: await externalStore([['ec-sign', garbageKey('ec', 64)]]), from: 'ecuser@example.com' }));
    expect(ec).toBeInstanceOf(KeyOperationRefused);
    expect((ec as Error).message).toMatch(/ECDSA-Sig-Value/);
    const rsa = await rejection(signMessage(MESSAGE, { store: await externalStore([['alice-sign', garbageKey('rsa', 255)]]), from: 'alice@example.com' }));
    expect(rsa).toBeInstanceOf(KeyOperationRefused);
    expect((rsa as Error).message).toMatch(/255 bytes long, not 256/);
  });

  it("a token holding another key than the certificate's: KeyOperationRefused when signing and when decrypting", async () => {
    const sign = await rejection(signMessage(MESSAGE, { store: await externalStore([['alice-sign', nodeExternalKey(keyOf('bob'))]]), from: 'alice@example.com' }));
    expect(sign).toBeInstanceOf(KeyOperationRefused);
    expect((sign as Error).message).toBe("the key's signature does not verify with the certificate");
    // raw RSA with another key of the same size: the result does not re-encrypt to the ciphertext
    const dec = await rejection(decryptMessage(vfile('openssl/enc-rsa15-aes256cbc.eml'), { store: await externalStore([['alice-enc-2025', garbageKey('rsa', 256)]]) }));
    expect(dec).toBeInstanceOf(KeyOperationRefused);
    expect((dec as Error).message).toMatch(/raw RSA result/);
  });

  it('a key that throws TokenUnavailable on decrypt: decryptMessage rejects with TokenUnavailable', async () => {
    const rsa = await externalStore([['alice-enc-2025', refusingKey('rsa', new TokenUnavailable('the token was removed'))]]);
    expect(await rejection(decryptMessage(vfile('openssl/enc-rsa15-aes256cbc.eml'), { store: rsa }))).toBeInstanceOf(TokenUnavailable);
    const v15 = await externalStore([['alice-enc-2025', { ...refusingKey('rsa', new TokenUnavailable('the token was removed')), decryptModes: ['rsaes-pkcs1-v1_5'] }]]);
    expect(await rejection(decryptMessage(vfile('openssl/enc-rsa15-aes256cbc.eml'), { store: v15 }))).toBeInstanceOf(TokenUnavailable);
    const ec = await externalStore([['ec-enc', refusingKey('ec', new TokenUnavailable('the token was removed'))]]);
    expect(await rejection(decryptMessage(vfile('openssl/enc-ecdh-p384-gcm.eml'), { store: ec }))).toBeInstanceOf(TokenUnavailable);
  });

  it('a v1.5-only key giving a CEK of the wrong length: the random CEK, one CMSDecryptionFailed', async () => {
    const short: CountedKey = { type: 'rsa', calls: { sign: [], decrypt: [], derive: 0 }, decryptModes: ['rsaes-pkcs1-v1_5'] };
    short.decrypt = async (_d, a) => {
      short.calls.decrypt.push(String(a));
      return new Uint8Array(16);
    };
    // A fixed random fill: the random CEK fails the vector's AES-CBC padding every run (see above).
    const e = await rejection(decryptMessage(vfile('openssl/enc-rsa15-aes256cbc.eml'), { store: await externalStore([['alice-enc-2025', short]]), crypto: fixedRandomCrypto() }));
    expect(e).toBeInstanceOf(CMSDecryptionFailed);
    expect(short.calls.decrypt).toEqual(['rsaes-pkcs1-v1_5']);
  });

  it('a shared secret of the wrong length: KeyOperationRefused; an all-zero one: the message is refused', async () => {
    const e = await rejection(decryptMessage(vfile('openssl/enc-ecdh-p384-gcm.eml'), { store: await externalStore([['ec-enc', garbageKey('ec', 32)]]) }));
    expect(e).toBeInstanceOf(KeyOperationRefused);
    expect((e as Error).message).toMatch(/not 48 bytes long/);
    const zero: ExternalKey = { type: 'ec', deriveSecret: async () => new Uint8Array(48) };
    const z = await rejection(decryptMessage(vfile('openssl/enc-ecdh-p384-gcm.eml'), { store: await externalStore([['ec-enc', zero]]) }));
    expect(z).toBeInstanceOf(CMSDecryptionFailed);
  });

  it("a key that can't do the message's key transport: KeyOperationRefused naming what it lacks", async () => {
    const oaepOnly = { ...nodeExternalKey(keyOf('alice-enc-2025')), decryptModes: ['rsaes-oaep'] as const };
    const e = await rejection(decryptMessage(vfile('openssl/enc-rsa15-aes256cbc.eml'), { store: await externalStore([['alice-enc-2025', oaepOnly]]) }));
    expect(e).toBeInstanceOf(KeyOperationRefused);
    expect((e as Error).message).toMatch(/PKCS#1 v1\.5.*offers only rsaes-oaep/);
  });

  it('a non-extractable RSA-OAEP CryptoKey on a v1.5 message: KeyOperationRefused that explains', async () => {
    const pkcs8 = run('openssl', ['pkcs8', '-topk8', '-nocrypt', '-outform', 'DER', '-in', join(VECTORS, IDS['alice-enc-2025']!.key)]);
    const ck = await webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']);
    const store = new CertificateStore();
    await store.importIdentity(certOf('alice-enc-2025'), ck as unknown as CryptoKey);
    const e = await rejection(decryptMessage(vfile('openssl/enc-rsa15-aes256cbc.eml'), { store }));
    expect(e).toBeInstanceOf(KeyOperationRefused);
    expect((e as Error).message).toMatch(/WebCrypto has no PKCS#1 v1\.5 decryption/);
    expect((e as Error).message).toMatch(/PKCS#8/);
    expect((e as Error).message).toMatch(/rsa-raw/);
    // OAEP with SHA-1 (the key was imported for SHA-256): refused, and says why
    const e2 = await rejection(decryptMessage(vfile('openssl/enc-oaep-sha1.eml'), { store }));
    expect(e2).toBeInstanceOf(KeyOperationRefused);
    expect((e2 as Error).message).toMatch(/imported with SHA-256.*SHA-1/);
  });
});

describe('importExternalIdentity checks the key object', () => {
  const cert = () => certOf('alice-sign');
  it('TypeError for what is not an ExternalKey', async () => {
    const store = new CertificateStore();
    for (const bad of [null, 42, {}, { type: 'dsa', sign: async () => new Uint8Array() }, { type: 'rsa' }, { type: 'rsa', sign: 'yes' }, { type: 'rsa', decrypt: async () => new Uint8Array(), decryptModes: ['raw'] }]) {
      await expect(store.importExternalIdentity(cert(), bad as unknown as ExternalKey)).rejects.toThrow(TypeError);
    }
    expect(store.identities).toHaveLength(0);
  });
  it("KeyInvalid when the key's type does not fit the certificate", async () => {
    const store = new CertificateStore();
    const e = await rejection(store.importExternalIdentity(cert(), { type: 'ec', sign: async () => new Uint8Array() }));
    expect(e).toBeInstanceOf(KeyInvalid);
    expect((e as Error).message).toContain('the key is ec, the certificate');
    const e2 = await rejection(store.importExternalIdentity(certOf('ec-sign'), { type: 'ec', decrypt: async () => new Uint8Array() }));
    expect(e2).toBeInstanceOf(KeyInvalid);
  });
  it('any number of identities; extra certificates become intermediates', async () => {
    const store = new CertificateStore();
    await store.importExternalIdentity(cert() + CHAIN(), nodeExternalKey(keyOf('alice-sign')));
    await store.importExternalIdentity(certOf('bob'), nodeExternalKey(keyOf('bob')));
    await store.importExternalIdentity(certOf('ec-sign'), nodeExternalKey(keyOf('ec-sign')));
    expect(store.identities.map((i) => i.source)).toEqual(['external', 'external', 'external']);
    expect(store.identities[0]!.key.external).toBeDefined();
  });
});
