/**
 * Finding 7 of the security review (the signed-message part) and the `limits` option: every count an attacker
 * controls stops at a documented limit, checked before the expensive work, with an error naming the limit. The
 * tests count the work done before the error (signature checks and digests through a counting Crypto), never time.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CertificateStore,
  CMSLimitExceeded,
  DEFAULT_LIMITS,
  MIMELimitExceeded,
  openMessage,
  signMessage,
  verifyMessage,
} from '../../src/index.js';
import { children, readTlv, seq, set, tlv } from '../../src/lib/der.js';
import { countingCrypto as counting } from '../_helpers/counting_crypto.js';
import { cmsOf, makePki, MESSAGE, pkcs7Mime, storeFor, type TestPki } from '../sign/_pki.js';

let pki: TestPki;
let signedDer: Uint8Array;
beforeAll(async () => {
  pki = await makePki();
  const alice = await storeFor(pki, ['alice-sign']);
  signedDer = cmsOf(await signMessage(MESSAGE, { store: alice, from: 'alice@example.com', detached: false }));
});

/** A Crypto whose subtle counts every call by method. */
function countingCrypto(): { crypto: Crypto; calls: Record<string, number> } {
  const { crypto, counts } = counting();
  return { crypto, calls: counts.calls };
}

/** The SignedData's fields, with `edit` applied to their DER pieces, re-wrapped as a ContentInfo. */
function editSignedData(der: Uint8Array, edit: (fields: { tag: number; bytes: Uint8Array }[]) => Uint8Array[]): Uint8Array {
  const top = readTlv(der, 0);
  const [typeT, ctxT] = children(der, top);
  const sdT = children(der, ctxT!)[0]!;
  const fields = children(der, sdT).map((t) => ({ tag: der[t.start]!, bytes: der.subarray(t.start, t.end) }));
  return seq(der.subarray(typeT!.start, typeT!.end), tlv(0xa0, seq(...edit(fields))));
}

function repeat<T>(n: number, x: T): T[] {
  return Array.from({ length: n }, () => x);
}

/** The SignedData with its one SignerInfo repeated `n` times. */
function manySigners(n: number): Uint8Array {
  return editSignedData(signedDer, (f) => {
    const last = f[f.length - 1]!.bytes;
    const si = children(last, readTlv(last, 0))[0]!;
    return [...f.slice(0, -1).map((x) => x.bytes), set(...repeat(n, last.subarray(si.start, si.end)))];
  });
}

async function verifyCounting(message: Uint8Array, store: CertificateStore, limits?: Record<string, number>) {
  const { crypto, calls } = countingCrypto();
  try {
    const r = await verifyMessage(message, { store, crypto, harvest: false, limits });
    return { r, calls };
  } catch (e) {
    return { e, calls };
  }
}

describe('limits option', () => {
  it('is validated like postal-mime parseLimitOption: positive integers, Infinity only for maxInputBytes, no unknown keys', () => {
    expect(() => new CertificateStore({ limits: { maxSignerInfos: 0 } })).toThrow(RangeError);
    expect(() => new CertificateStore({ limits: { maxSignerInfos: -1 } })).toThrow(RangeError);
    expect(() => new CertificateStore({ limits: { maxSignerInfos: 1.5 } })).toThrow(RangeError);
    expect(() => new CertificateStore({ limits: { maxSignerInfos: Infinity } })).toThrow(RangeError);
    expect(() => new CertificateStore({ limits: { maxSignerInfos: '3' as never } })).toThrow(RangeError);
    expect(() => new CertificateStore({ limits: { maxSignerInfo: 3 } as never })).toThrow(TypeError);
    expect(new CertificateStore({ limits: { maxInputBytes: Infinity, maxSignerInfos: 3 } }).limits).toEqual({
      ...DEFAULT_LIMITS,
      maxSignerInfos: 3,
    });
    expect(DEFAULT_LIMITS.maxPbkdf2Iterations).toBeGreaterThanOrEqual(2_000_000);
  });
});

describe('signed messages: counts checked before any work', () => {
  it('10 000 SignerInfos stop at maxSignerInfos before a single digest or signature check', async () => {
    const store = await storeFor(pki, ['bob']);
    const { e, calls } = await verifyCounting(pkcs7Mime(manySigners(10_000)), store);
    expect(e).toBeInstanceOf(CMSLimitExceeded);
    expect((e as CMSLimitExceeded).limit).toBe('maxSignerInfos');
    expect(calls).toEqual({});
  });

  it('the limit is the store\'s, changed per call', async () => {
    const message = pkcs7Mime(manySigners(3));
    const strict = new CertificateStore({ limits: { maxSignerInfos: 2 } });
    strict.addTrustAnchor(pki.root.certPem);
    await strict.addCertificate(pki.ca.certPem);
    const { e } = await verifyCounting(message, strict);
    expect((e as CMSLimitExceeded).limit).toBe('maxSignerInfos');
    const { r } = await verifyCounting(message, strict, { maxSignerInfos: 3 });
    expect(r!.signers.map((s) => s.status)).toEqual(['valid', 'valid', 'valid']);
  });

  it('certificates and CRLs per message', async () => {
    const store = await storeFor(pki, ['bob']);
    const certs = editSignedData(signedDer, (f) => {
      const i = f.findIndex((x) => x.tag === 0xa0);
      return [...f.slice(0, i).map((x) => x.bytes), tlv(0xa0, ...repeat(DEFAULT_LIMITS.maxCertificates + 1, pki.ca.der)), ...f.slice(i + 1).map((x) => x.bytes)];
    });
    const c = await verifyCounting(pkcs7Mime(certs), store);
    expect((c.e as CMSLimitExceeded).limit).toBe('maxCertificates');
    expect(c.calls).toEqual({});
    const crls = editSignedData(signedDer, (f) => [
      ...f.slice(0, -1).map((x) => x.bytes),
      tlv(0xa1, ...repeat(DEFAULT_LIMITS.maxCrls + 1, pki.crlDer)),
      f[f.length - 1]!.bytes,
    ]);
    const r = await verifyCounting(pkcs7Mime(crls), store);
    expect((r.e as CMSLimitExceeded).limit).toBe('maxCrls');
    expect(r.calls).toEqual({});
  });

  it('maxInputBytes and the MIME header limits, per call', async () => {
    const store = await storeFor(pki, ['bob']);
    const message = pkcs7Mime(signedDer);
    const big = await verifyCounting(message, store, { maxInputBytes: 100 });
    expect(big.e).toBeInstanceOf(MIMELimitExceeded);
    expect((big.e as MIMELimitExceeded).limit).toBe('maxInputBytes');
    const headers = await verifyCounting(message, store, { maxHeaders: 3 });
    expect((headers.e as MIMELimitExceeded).limit).toBe('maxHeaders');
    expect(headers.calls).toEqual({});
    await expect(openMessage(message, { store, limits: { maxInputBytes: 100 } })).rejects.toMatchObject({ limit: 'maxInputBytes' });
  });

  it('store inputs take per-call limits over the store\'s', async () => {
    const store = new CertificateStore({ limits: { maxPemCertificates: 5 } });
    const bundle = pki.ca.certPem + pki.root.certPem + pki.ids['bob']!.certPem;
    await expect(store.addCertificate(bundle, { limits: { maxPemCertificates: 2 } })).rejects.toMatchObject({ limit: 'maxPemCertificates' });
    expect(() => store.addTrustAnchor(bundle, { limits: { maxPemCertificates: 2 } })).toThrow(CMSLimitExceeded);
    expect(await store.addCertificate(bundle)).toHaveLength(3);
    expect(() => store.addCrl(pki.crlDer, { limits: { maxInputBytes: 10 } })).toThrow(/maxInputBytes/);
    await expect(store.addCertificate(bundle, { limits: { maxPemCertificate: 2 } as never })).rejects.toThrow(TypeError);
  });

  it('signMessage and encryptMessage take maxInputBytes and the MIME limits per call', async () => {
    const alice = await storeFor(pki, ['alice-sign'], ['bob']);
    await expect(signMessage(MESSAGE, { store: alice, from: 'alice@example.com', limits: { maxInputBytes: 10 } })).rejects.toMatchObject({
      limit: 'maxInputBytes',
    });
    await expect(signMessage(MESSAGE, { store: alice, from: 'alice@example.com', limits: { maxHeaders: 2 } })).rejects.toMatchObject({
      limit: 'maxHeaders',
    });
  });

  it('maxBerElements and maxBerDepth apply to the structure of one call', async () => {
    const store = await storeFor(pki, ['bob']);
    const elements = await verifyCounting(pkcs7Mime(signedDer), store, { maxBerElements: 3 });
    expect((elements.e as CMSLimitExceeded).limit).toBe('maxBerElements');
    expect(elements.calls).toEqual({});
    // OpenSSL's -stream output is indefinite-length BER: reading it walks the nesting.
    const { decryptMessage } = await import('../../src/index.js');
    const { storeWith, vfile } = await import('../_helpers/identities.js');
    const alice = await storeWith(['alice-enc-2025']);
    const streamed = vfile('openssl/enc-stream.eml');
    await expect(decryptMessage(streamed, { store: alice, limits: { maxBerDepth: 2 } })).rejects.toMatchObject({ limit: 'maxBerDepth' });
    expect((await decryptMessage(streamed, { store: alice })).content.length).toBeGreaterThan(0);
  });

  it('openMessage stops at maxMimeDepth layers', async () => {
    const alice = await storeFor(pki, ['alice-sign']);
    let m: Uint8Array = new TextEncoder().encode(MESSAGE);
    for (let i = 0; i < 4; i++) m = await signMessage(m, { store: alice, from: 'alice@example.com' });
    const store = await storeFor(pki, ['bob']);
    await expect(openMessage(m, { store, harvest: false, limits: { maxMimeDepth: 3 } })).rejects.toMatchObject({
      code: 'ERR_MIME_LIMIT_EXCEEDED',
      limit: 'maxMimeDepth',
    });
    const r = await openMessage(m, { store, harvest: false });
    expect(r.layers).toHaveLength(4);
  });
});
