/**
 * The PKCS#11 adapter's pure parts, without a token: CKR values to typed errors, signature OIDs to mechanisms
 * (RSASSA-PSS parameters included), and the per-session queue.
 */
import { describe, expect, it } from 'vitest';
import { mapPkcs11Error } from '../../src/pkcs11/ckr.js';
import { CKG, CKM } from '../../src/pkcs11/constants.js';
import { parsePssParams, signPlan } from '../../src/pkcs11/mechanisms.js';
import { SerialQueue } from '../../src/pkcs11/queue.js';
import { KeyOperationRefused, TokenPinIncorrect, TokenUnavailable, UnsupportedAlgorithm } from '../../src/errors.js';
import { algorithmIdentifier, explicit, integer, NULL, seq } from '../../src/lib/der.js';

/** What pkcs11js throws for a CKR: a Pkcs11Error whose message is the CKR name and whose code is its value. */
const ckr = (name: string, code: number) => Object.assign(new Error(name), { code });

describe('CKR → typed error', () => {
  it.each([
    ['CKR_PIN_INCORRECT', 0xa0, TokenPinIncorrect],
    ['CKR_PIN_LOCKED', 0xa4, TokenPinIncorrect],
    ['CKR_PIN_EXPIRED', 0xa3, TokenPinIncorrect],
    ['CKR_PIN_LEN_RANGE', 0xa2, TokenPinIncorrect],
    ['CKR_TOKEN_NOT_PRESENT', 0xe0, TokenUnavailable],
    ['CKR_DEVICE_REMOVED', 0x32, TokenUnavailable],
    ['CKR_DEVICE_ERROR', 0x30, TokenUnavailable],
    ['CKR_SESSION_HANDLE_INVALID', 0xb3, TokenUnavailable],
    ['CKR_SESSION_CLOSED', 0xb0, TokenUnavailable],
    ['CKR_MECHANISM_INVALID', 0x70, KeyOperationRefused],
    ['CKR_KEY_FUNCTION_NOT_PERMITTED', 0x68, KeyOperationRefused],
    ['CKR_KEY_TYPE_INCONSISTENT', 0x63, KeyOperationRefused],
    ['CKR_ENCRYPTED_DATA_INVALID', 0x40, KeyOperationRefused],
  ])('%s in a key operation → %s, naming the operation and the CKR', (name, code, cls) => {
    const e = mapPkcs11Error(ckr(name, code), 'C_Sign', true);
    expect(e).toBeInstanceOf(cls);
    expect(e.message).toContain('C_Sign');
    expect(e.message).toContain(name);
  });

  it('outside a key operation an unknown CKR is TokenUnavailable; a non-CKR failure keeps its first line only', () => {
    expect(mapPkcs11Error(ckr('CKR_GENERAL_ERROR', 0x5), 'C_OpenSession', false)).toBeInstanceOf(TokenUnavailable);
    const native = Object.assign(new Error('dlopen failed\n    at secret stack'), { code: 0 });
    const e = mapPkcs11Error(native, 'C_Initialize', false);
    expect(e).toBeInstanceOf(TokenUnavailable);
    expect(e.message).toBe('PKCS#11 C_Initialize failed: dlopen failed');
    expect(mapPkcs11Error(new TypeError('bad'), 'C_Decrypt', true)).toBeInstanceOf(KeyOperationRefused);
  });
});

describe('signature OID → mechanism', () => {
  it('maps RSA PKCS#1 v1.5, PSS with its parameters, ECDSA (hash here) and EdDSA', () => {
    expect(signPlan('rsa', '1.2.840.113549.1.1.11', undefined)).toEqual({ kind: 'rsa', mechanism: CKM.SHA256_RSA_PKCS });
    expect(signPlan('rsa', '1.2.840.113549.1.1.13', undefined)).toEqual({ kind: 'rsa', mechanism: CKM.SHA512_RSA_PKCS });
    const pss384 = seq(
      explicit(0, algorithmIdentifier('2.16.840.1.101.3.4.2.2', NULL)),
      explicit(1, algorithmIdentifier('1.2.840.113549.1.1.8', algorithmIdentifier('2.16.840.1.101.3.4.2.2', NULL))),
      explicit(2, integer(48)),
    );
    expect(signPlan('rsa', '1.2.840.113549.1.1.10', pss384)).toEqual({
      kind: 'rsa',
      mechanism: CKM.SHA384_RSA_PKCS_PSS,
      pss: { hashAlg: CKM.SHA384, mgf: CKG.MGF1_SHA384, saltLen: 48 },
    });
    expect(signPlan('ec', '1.2.840.10045.4.3.3', undefined)).toEqual({ kind: 'ecdsa', hash: 'SHA-384' });
    expect(signPlan('ed25519', '1.3.101.112', undefined)).toEqual({ kind: 'eddsa', curve: 'ed25519' });
  });

  it('RSASSA-PSS-params defaults (absent, empty SEQUENCE): SHA-1, MGF1-SHA-1, salt 20', () => {
    const sha1 = { hash: '1.3.14.3.2.26', mgfHash: '1.3.14.3.2.26', saltLength: 20 };
    expect(parsePssParams(undefined)).toEqual(sha1);
    expect(parsePssParams(seq())).toEqual(sha1);
  });

  it('an unknown OID, a key of the wrong type, or unreadable PSS parameters → UnsupportedAlgorithm', () => {
    expect(() => signPlan('rsa', '1.2.840.10040.4.3', undefined)).toThrow(UnsupportedAlgorithm);
    expect(() => signPlan('ec', '1.2.840.113549.1.1.11', undefined)).toThrow(UnsupportedAlgorithm);
    expect(() => signPlan('rsa', '1.2.840.113549.1.1.10', Uint8Array.of(0x30, 0x05, 0xa0))).toThrow(UnsupportedAlgorithm);
    expect(() => signPlan('rsa', '1.2.840.113549.1.1.10', seq(explicit(0, algorithmIdentifier('1.2.3.4', NULL))))).toThrow(UnsupportedAlgorithm);
    expect(() => signPlan('rsa', '1.2.840.113549.1.1.10', seq(explicit(3, integer(2))))).toThrow(UnsupportedAlgorithm);
  });
});

describe('SerialQueue', () => {
  it('runs one function at a time, in order, and a failure does not stop the next', async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    let running = 0;
    const job = (name: string, ms: number, fail = false) =>
      q.run(async () => {
        running++;
        expect(running).toBe(1);
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
        running--;
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([job('a', 20), job('b', 1, true), job('c', 5)]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });
});
