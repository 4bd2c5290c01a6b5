/**
 * The public surface (issue 12): the store shows no internal member and no internal certificate model (every
 * certificate is @peculiar/x509's X509Certificate), hash names are spelled as WebCrypto spells them, the policy is
 * the one way to allow weak algorithms (decryptMessage takes it too), and bad arguments fail in one format:
 * `<what> must be <expected>`, a TypeError for a wrong type, a RangeError for a value outside the allowed ones.
 */
import { describe, expect, it } from 'vitest';
import { x509 } from '../../src/certs/x509.js';
import * as api from '../../src/index.js';
import { CertificateStore, decryptMessage, encryptMessage, signMessage, verifyMessage } from '../../src/index.js';
import { storeInternals } from '../../src/store/internal.js';
import { checkOption } from '../../src/lib/args.js';
import { storeWith, vfile } from '../_helpers/identities.js';
import { rejection } from '../_helpers/thrown.js';

const MESSAGE = 'From: alice@example.com\r\nTo: bob@example.com\r\nSubject: hi\r\nContent-Type: text/plain\r\n\r\nhello\r\n';


describe('the public surface', () => {
  it('a CertificateStore has no internal member', async () => {
    const store = await storeWith(['bob']);
    for (const name of ['learnCertificate', 'x509', 'setPreference', 'chain', 'allCertificates', 'identitiesFor', 'cryptoImpl', 'parsedCrls', 'checkEncryptionCert'])
      expect(name in store, name).toBe(false);
    // ... but the operations reach them.
    expect(storeInternals(store).allCertificates().length).toBeGreaterThan(1);
  });

  it('every certificate it hands out is an X509Certificate; an Identity has no parsed model', async () => {
    const store = await storeWith(['alice-sign', 'alice-enc-2025'], ['bob']);
    for (const id of store.identities) {
      expect(id.certificate).toBeInstanceOf(x509.X509Certificate);
      expect(Object.keys(id).sort()).toEqual(['certificate', 'key', 'source']);
    }
    for (const a of store.trustAnchors) expect(a).toBeInstanceOf(x509.X509Certificate);
    const sel = await store.findEncryptionCertificate('bob@example.com');
    expect(sel.certificate).toBeInstanceOf(x509.X509Certificate);
    expect(sel.certificate!.subject).toContain('Bob');
    const map = await store.selectRecipients(['BOB@example.com', 'alice@example.com']);
    expect([...map.keys()]).toEqual(['bob@example.com', 'alice@example.com']);
    for (const c of map.values()) expect(c).toBeInstanceOf(x509.X509Certificate);
    // Harvesting fills preferences with X509Certificate too.
    const bob = await storeWith(['bob']);
    await verifyMessage(await signMessage(MESSAGE, { store, from: 'alice@example.com' }), { store: bob });
    const pref = bob.preference('alice@example.com')!;
    expect(pref.certificate).toBeInstanceOf(x509.X509Certificate);
    expect(pref.capabilities!.length).toBeGreaterThan(0);
  });

  it('the never-thrown error classes are gone', () => {
    for (const name of ['NotSupported', 'CMSSignatureVerificationFailed', 'AlgorithmNotAllowed']) expect(name in api, name).toBe(false);
  });

  it("hash names are WebCrypto's: 'SHA-256', never 'sha256'", async () => {
    const store = await storeWith(['alice-sign']);
    for (const digest of ['SHA-256', 'SHA-384', 'SHA-512'] as const)
      expect(new TextDecoder().decode(await signMessage(MESSAGE, { store, from: 'alice@example.com', digest }))).toContain(`micalg=${digest.toLowerCase()}`);
    const e = await rejection(signMessage(MESSAGE, { store, from: 'alice@example.com', digest: 'sha256' as never }));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe("signMessage: options.digest must be one of 'SHA-256', 'SHA-384', 'SHA-512'");
    const oaep = await rejection(encryptMessage(MESSAGE, { store: await storeWith([], ['bob']), to: ['bob@example.com'], oaep: 'sha256' as never }));
    expect(oaep).toBeInstanceOf(RangeError);
    expect(oaep.message).toBe("encryptMessage: options.oaep must be one of 'SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'");
  });

  it('decryptMessage takes a policy, checked like the other operations', async () => {
    const store = await storeWith(['alice-enc-2025']);
    const smime = vfile('openssl/enc-rsa15-aes256cbc.eml');
    expect((await decryptMessage(smime, { store, policy: { minRsaBits: 3072, allowWeak: false } })).content).toEqual(vfile('openssl/plain.txt'));
    expect(await rejection(decryptMessage(smime, { store, policy: { minRsaBits: 100 } }))).toBeInstanceOf(RangeError);
    expect(await rejection(decryptMessage(smime, { store, policy: 'lax' as never }))).toBeInstanceOf(TypeError);
  });

  it('bad arguments: one message format, TypeError for a type, RangeError for a value', async () => {
    const store = await storeWith([], ['bob']);
    const cases: [Promise<unknown>, ErrorConstructor | RangeErrorConstructor, string][] = [
      [verifyMessage(MESSAGE, { store: {} as never }), TypeError, 'verifyMessage: options.store must be a CertificateStore'],
      [decryptMessage(MESSAGE, undefined as never), TypeError, 'decryptMessage: options.store must be a CertificateStore'],
      [encryptMessage(MESSAGE, { store, to: [] }), TypeError, 'encryptMessage: options.to must be a non-empty array'],
      [encryptMessage(MESSAGE, { store, to: ['bob@example.com'], cipher: 'rc2' as never }), RangeError, "encryptMessage: options.cipher must be one of 'aes-128-cbc'"],
      [verifyMessage(MESSAGE, { store, verifyAt: 'yesterday' as never }), RangeError, "verifyMessage: options.verifyAt must be one of 'now', 'signing-time'"],
      [verifyMessage(MESSAGE, { store, at: new Date('nope') }), TypeError, 'verifyMessage: options.at must be a valid Date'],
      [signMessage(MESSAGE, { store, from: 'alice@example.com', detached: 'yes' as never }), TypeError, 'signMessage: options.detached must be a boolean'],
      [store.importPkcs12(new Uint8Array(4), 42 as never), TypeError, 'importPkcs12: password must be a string'],
      [store.verifyCertificate(vfile('identities/bob.cert.pem'), { at: 'now' as never }), TypeError, 'verifyCertificate: options.at must be a valid Date'],
    ];
    for (const [p, type, message] of cases) {
      const e = await rejection(p);
      expect(e, message).toBeInstanceOf(type);
      expect(e.message.startsWith(message), `${e.message} vs ${message}`).toBe(true);
    }
    expect(() => new CertificateStore({ now: 'today' as never })).toThrow(new TypeError('CertificateStore: options.now must be a function'));
    expect(() => checkOption('x', 1, 'string')).toThrow(new TypeError('x must be a string'));
    expect(() => checkOption('x', undefined, 'string', true)).toThrow(new TypeError('x must be a string'));
    expect(() => checkOption('x', undefined, 'string')).not.toThrow();
    expect(() => checkOption('x', 3, ['a', 'b'])).toThrow(new TypeError("x must be one of 'a', 'b'"));
  });

  it('verifyMessage has no allowWeak beside policy.allowWeak', async () => {
    const store = await storeWith(['alice-sign']);
    const signed = await signMessage(MESSAGE, { store, from: 'alice@example.com' });
    // An unknown option is not an alias: only `policy` changes the policy (here nothing is weak, so it stays valid).
    const r = await verifyMessage(signed, { store, harvest: false, policy: { allowWeak: true } });
    expect(r.signers.map((s) => s.status)).toEqual(['valid']);
    expect(await rejection(verifyMessage(signed, { store, policy: { allowWeak: 'yes' as never } }))).toBeInstanceOf(TypeError);
  });
});
