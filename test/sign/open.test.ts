/**
 * openMessage: nested messages open in one call (signed then encrypted, encrypted then signed, triple-wrapped,
 * multipart/signed inside application/pkcs7-mime), with `layers`, `signers`, `encrypted` and `authenticated`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CMSDecryptionFailed,
  MIMEInvalid,
  MIMELimitExceeded,
  encryptMessage,
  openMessage,
  signMessage,
  type CertificateStore,
} from '../../src/index.js';
import { cmsOf, makePki, MESSAGE, opensslSign, pkcs7Mime, storeFor, text, type TestPki } from './_pki.js';
import { hasPeer } from '../_helpers/env.js';

let pki: TestPki;
let alice: CertificateStore;
let bob: CertificateStore;
beforeAll(async () => {
  pki = await makePki();
  // Alice signs with alice-sign; she knows Bob's certificate. Bob opens with his key and trusts the root.
  alice = await storeFor(pki, ['alice-sign', 'alice-enc'], ['bob']);
  bob = await storeFor(pki, ['bob']);
});

const sign = (m: Uint8Array | string, detached = true) => signMessage(m, { store: alice, from: 'alice@example.com', detached });
const encrypt = (m: Uint8Array | string, cipher: 'aes-256-cbc' | 'aes-256-gcm' = 'aes-256-cbc') =>
  encryptMessage(m, { store: alice, to: ['bob@example.com'], cipher });
const summary = (r: Awaited<ReturnType<typeof openMessage>>) => r.layers.map((l) => (l.type === 'signed' ? `signed${l.detached ? '' : '-opaque'}` : l.type === 'compressed' ? `compressed:${l.algorithm}` : l.type === 'certs-only' ? 'certs-only' : `${l.type}:${l.cipher}`));

describe('openMessage', () => {
  it('signed (multipart/signed) then encrypted: multipart/signed inside application/pkcs7-mime', async () => {
    const r = await openMessage(await encrypt(await sign(MESSAGE)), { store: bob });
    expect(summary(r)).toEqual(['enveloped:aes-256-cbc', 'signed']);
    expect(r.signers.map((s) => [s.email, s.status])).toEqual([['alice@example.com', 'valid']]);
    expect(r.encrypted).toBe(true);
    expect(r.authenticated).toBe(true); // CBC, but a valid signature inside
    expect(text(r.content)).toBe('Content-Type: text/plain; charset=utf-8\r\n\r\nHello Bob,\r\nthis is signed.\r\n');
    const env = r.layers[0]!;
    expect(env.type === 'enveloped' && env.recipient.serialNumber.toLowerCase()).toBe(pki.ids.bob!.cert.serialNumber.toLowerCase());
  });

  it('opaque signed then encrypted with AES-GCM', async () => {
    const r = await openMessage(await encrypt(await sign(MESSAGE, false), 'aes-256-gcm'), { store: bob });
    expect(summary(r)).toEqual(['authEnveloped:aes-256-gcm', 'signed-opaque']);
    expect(r.authenticated).toBe(true);
  });

  it('encrypted then signed', async () => {
    const r = await openMessage(await sign(await encrypt(MESSAGE)), { store: bob });
    expect(summary(r)).toEqual(['signed', 'enveloped:aes-256-cbc']);
    expect(r.signers[0]!.status).toBe('valid');
    expect(text(r.content)).toContain('Hello Bob,');
    // The signature is outside the CBC layer, not inside it.
    expect(r.authenticated).toBe(false);
  });

  it('triple-wrapped: signed, encrypted, signed', async () => {
    const r = await openMessage(await sign(await encrypt(await sign(MESSAGE)), false), { store: bob });
    expect(summary(r)).toEqual(['signed-opaque', 'enveloped:aes-256-cbc', 'signed']);
    expect(r.signers.map((s) => s.status)).toEqual(['valid', 'valid']);
    expect(r.authenticated).toBe(true);
    expect(text(r.content)).toContain('Hello Bob,');
  });

  it('encrypted only: CBC is not authenticated, GCM is', async () => {
    const cbc = await openMessage(await encrypt(MESSAGE), { store: bob });
    expect(summary(cbc)).toEqual(['enveloped:aes-256-cbc']);
    expect(cbc).toMatchObject({ encrypted: true, authenticated: false, signers: [] });
    const gcm = await openMessage(await encrypt(MESSAGE, 'aes-256-gcm'), { store: bob });
    expect(gcm).toMatchObject({ encrypted: true, authenticated: true });
  });

  it('CBC around an invalid signature is not authenticated', async () => {
    const tampered = text(await sign(MESSAGE)).replace('Hello Bob', 'Hello Eve');
    const r = await openMessage(await encrypt(tampered), { store: bob });
    expect(r.signers[0]!.status).toBe('invalid');
    expect(r.authenticated).toBe(false);
  });

  it('signed only', async () => {
    const r = await openMessage(await sign(MESSAGE), { store: bob });
    expect(summary(r)).toEqual(['signed']);
    expect(r).toMatchObject({ encrypted: false, authenticated: true });
  });

  it('checks the inner signer against the From of the outermost message', async () => {
    const inner = await sign(MESSAGE);
    const outer = text(await encrypt(inner)).replace('From: Alice <alice@example.com>', 'From: ceo@example.com');
    const r = await openMessage(outer, { store: bob });
    expect(r.signers[0]!.status).toBe('address-mismatch');
  });

  it('bounds the depth, reports a plain message as coverage none, and fails like decryptMessage without a key', async () => {
    const nested = await sign(await encrypt(await sign(MESSAGE)));
    await expect(openMessage(nested, { store: bob, maxDepth: 2 })).rejects.toBeInstanceOf(MIMELimitExceeded);
    // A plain message is a result since issue 17 (coverage 'none'), no longer MIMEInvalid; garbage still is.
    const plain = await openMessage(MESSAGE, { store: bob });
    expect([plain.coverage, plain.layers, plain.signers, plain.encrypted, plain.authenticated]).toEqual(['none', [], [], false, false]);
    await expect(openMessage('this is not a header line\r\n\r\nx', { store: bob })).rejects.toBeInstanceOf(MIMEInvalid);
    await expect(openMessage(await encrypt(MESSAGE), { store: alice })).rejects.toBeInstanceOf(CMSDecryptionFailed);
  });

  it.runIf(hasPeer('openssl', ['version']))('stops at signed content that is not MIME (binary, even when it starts with 0x30)', async () => {
    const binary = new Uint8Array([0x30, 0xff, 0x00, 0x01, 0x02, 0x0a, 0x0d, 0x80, 0x30]);
    const der = cmsOf(opensslSign(pki, 'alice-sign', binary, ['-nodetach', '-binary']));
    const r = await openMessage(pkcs7Mime(der), { store: bob });
    expect(summary(r)).toEqual(['signed-opaque']);
    expect(r.signers[0]!.status).toBe('valid');
    expect(r.content).toEqual(binary);
  });
});
