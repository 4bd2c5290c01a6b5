/**
 * smime-core in a real browser. The package's browser entry (dist/index.js, its `default` export condition) is
 * bundled by Vite for the browser, served on 127.0.0.1 and run in headless Chromium (Debian's package, driven by
 * playwright-core): a PKCS#12 identity is imported, messages are encrypted (AES-GCM, AES-CBC) and decrypted, signed
 * and verified; OpenSSL's envelope (PKCS#1 v1.5 key transport, which WebCrypto lacks: the BigInt RSA) and OpenSSL's
 * signature are opened; encryptStream and decryptStream run without an accelerator (AES-GCM on WebCrypto AES-CTR +
 * GHASH); bad input is a typed error. No Node API is there to lean on.
 * Skipped with a notice when Chromium is not installed; with CI=true a missing Chromium fails the run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VECTORS } from '../_helpers/env.js';
import { manifest, PASSWORD, REFERENCE_DATE, storeWith } from '../_helpers/identities.js';
import { decryptMessage } from '../../src/index.js';
import { findChromium, PAGE_PRELUDE, runPageInChromium, type PageRun } from '../_helpers/chromium.js';

const CHROMIUM = findChromium('the browser tests are');

const message = (id: string) => manifest.messages.find((m) => m.id === id)!;

/**
 * What the page does with the library, as the source of a module served to it (a string, so that the test runner
 * does not transform its `import`). It exports `run(password)`.
 */
const PAGE_MODULE = PAGE_PRELUDE + String.raw`
/** All the bytes of a stream (as numbers, for the trip back to Node) and how many pieces they came in. */
async function bytesOf(stream) {
  const bytes = [];
  let pieces = 0;
  const reader = stream.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    pieces++;
    for (const b of r.value) bytes.push(b);
  }
  return { bytes, pieces };
}
/** The page's stores judge the sample certificates at the reference date, not at the browser's clock. */
const now = () => new Date(${JSON.stringify(REFERENCE_DATE.toISOString())});
export async function run(password) {
  const out = {};
  out.node = typeof globalThis.process !== 'undefined';
  out.reflect = typeof Reflect.getMetadata;
  const store = new m.CertificateStore({ now });
  await store.importPkcs12(await get('/v/bob.p12'), password);
  await store.addCertificate(await text('/v/chain.pem'));
  store.addTrustAnchor(await text('/v/root.pem'));
  const mime = 'From: bob@example.com\r\nTo: bob@example.com\r\nSubject: from the browser\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nHello from Chromium.\r\n';
  const entity = 'Content-Type: text/plain; charset=us-ascii\r\n\r\nHello from Chromium.\r\n';
  const dec = new TextDecoder();
  for (const cipher of ['aes-256-gcm', 'aes-256-cbc']) {
    const enc = await m.encryptMessage(mime, { store, to: ['bob@example.com'], cipher });
    const r = await m.decryptMessage(enc, { store });
    out[cipher] = { same: dec.decode(r.content) === entity, cipher: r.cipher, authenticated: r.authenticated };
  }
  const signed = await m.signMessage(mime, { store, from: 'bob@example.com' });
  const v = await m.verifyMessage(signed, { store });
  out.signed = { status: v.signers[0].status, email: v.signers[0].email };
  const tampered = dec.decode(signed).replace('Hello from Chromium.', 'Hello from Chromiun.');
  out.tampered = (await m.verifyMessage(tampered, { store })).signers[0].status;
  const ossl = await m.decryptMessage(await get('/v/enc.eml'), { store });
  out.openssl = { content: Array.from(ossl.content), keyTransport: ossl.keyTransport };
  // encryptStream with no accelerator (AES-GCM on WebCrypto AES-CTR + GHASH; the portable ChaCha20-Poly1305; WebCrypto CBC):
  // 200 KB of body in 7 KB pieces; the output goes back to Node, where decryptMessage opens it.
  const body = new Uint8Array(200000);
  for (let i = 0; i < body.length; i++) body[i] = i % 78 === 76 ? 13 : i % 78 === 77 ? 10 : 33 + ((i * 7919) % 94);
  const whole = new Uint8Array([...new TextEncoder().encode(mime.slice(0, mime.indexOf('\r\n\r\n') + 4)), ...body]);
  out.streamed = {};
  for (const cipher of ['aes-256-gcm', 'chacha20-poly1305', 'aes-256-cbc']) {
    out.streamed[cipher] = (await bytesOf(await m.encryptStream(piecesOf(whole), { store, to: ['bob@example.com'], cipher }))).bytes;
  }
  // decryptStream without an accelerator: the GCM message above on WebCrypto AES-CTR + GHASH, in 7 KB pieces.
  const ds = await m.decryptStream(piecesOf(new Uint8Array(out.streamed['aes-256-gcm'])), { store });
  const plain = await bytesOf(ds.content);
  const dr = await ds.done;
  out.decryptStream = { content: plain.bytes, pieces: plain.pieces, cipher: dr.cipher, authenticated: dr.authenticated };
  const cc = await m.decryptMessage(await m.encryptMessage(mime, { store, to: ['bob@example.com'], cipher: 'chacha20-poly1305' }), { store });
  out.chacha = { same: dec.decode(cc.content) === entity, cipher: cc.cipher };
  // Other identities: a legacy RC2-40/3DES PKCS#12 (the TypeScript PBEs), an OAEP recipient, an ECDH P-384 one.
  const more = new m.CertificateStore({ now });
  for (const f of ['legacy.p12', 'alice2025.p12', 'ec.p12']) await more.importPkcs12(await get('/v/' + f), password);
  out.others = [];
  for (const f of ['old2021.eml', 'oaep.eml', 'ecdh.eml']) {
    const r = await m.decryptMessage(await get('/v/' + f), { store: more });
    out.others.push({ content: Array.from(r.content), keyTransport: r.keyTransport, cipher: r.cipher });
  }
  const osig = await m.verifyMessage(await get('/v/sig.eml'), { store });
  out.opensslSigned = { status: osig.signers[0].status, email: osig.signers[0].email };
  try {
    await m.decryptMessage('Content-Type: application/pkcs7-mime\r\n\r\n!!!!\r\n', { store });
    out.bad = 'no error';
  } catch (e) {
    out.bad = { smime: e instanceof m.SmimeError, code: e.code };
  }
  try {
    await m.encryptMessage(mime, { store, to: ['bob@example.com', 'carol@example.com'] });
    out.missing = 'no error';
  } catch (e) {
    out.missing = e.missing;
  }
  return out;
}
`;

describe.skipIf(!CHROMIUM)('headless Chromium', () => {
  let run: PageRun | undefined;
  let result: Record<string, unknown>;

  beforeAll(async () => {
    const v = (rel: string) => readFileSync(join(VECTORS, rel));
    run = await runPageInChromium(
      CHROMIUM!,
      PAGE_MODULE,
      {
        '/v/bob.p12': ['application/octet-stream', v(manifest.identities.bob!.p12)],
        '/v/chain.pem': ['text/plain', v(join('pki', 'chain.pem'))],
        '/v/root.pem': ['text/plain', v(join('pki', 'root-ca.cert.pem'))],
        '/v/enc.eml': ['text/plain', v(message('enc-to-bob-only').file)],
        '/v/sig.eml': ['text/plain', v(message('sig-rsa-detached').file)],
        '/v/legacy.p12': ['application/octet-stream', v(manifest.identities['alice-enc-2021']!.p12)],
        '/v/alice2025.p12': ['application/octet-stream', v(manifest.identities['alice-enc-2025']!.p12)],
        '/v/ec.p12': ['application/octet-stream', v(manifest.identities['ec-enc']!.p12)],
        '/v/old2021.eml': ['text/plain', v(message('enc-old-2021').file)],
        '/v/oaep.eml': ['text/plain', v(message('enc-oaep-sha256').file)],
        '/v/ecdh.eml': ['text/plain', v(message('enc-ecdh-p384-gcm').file)],
      },
      PASSWORD,
    );
    result = run.result;
  }, 120_000);

  afterAll(() => run?.close());

  it('the bundle has no Node built-in left in it', () => {
    const code = run!.bundle;
    expect(code).not.toMatch(/from ['"](node:)?(crypto|fs|path|buffer|os|child_process)['"]/);
    expect(result.node).toBe(false);
    // Vite kept the Reflect metadata module (package.json sideEffects) and it was removed once @peculiar/x509 loaded.
    expect(result.reflect).toBe('undefined');
  });

  it('encrypts and decrypts with AES-GCM and AES-CBC', () => {
    expect(result['aes-256-gcm']).toEqual({ same: true, cipher: 'aes-256-gcm', authenticated: true });
    expect(result['aes-256-cbc']).toEqual({ same: true, cipher: 'aes-256-cbc', authenticated: false });
  });

  it('signs and verifies; a tampered copy is invalid', () => {
    expect(result.signed).toEqual({ status: 'valid', email: 'bob@example.com' });
    expect(result.tampered).toBe('invalid');
  });

  it('opens OpenSSL’s envelope (PKCS#1 v1.5 key transport in BigInt) and verifies OpenSSL’s signature', () => {
    const o = result.openssl as { content: number[]; keyTransport: string };
    expect(new Uint8Array(o.content)).toEqual(new Uint8Array(readFileSync(join(VECTORS, message('enc-to-bob-only').expect.content!))));
    expect(o.keyTransport).toBe('rsaEncryption');
    expect(result.opensslSigned).toEqual({ status: 'valid', email: 'alice@example.com' });
  });

  it('ChaCha20-Poly1305 (a chunk loaded on first use); legacy PKCS#12, OAEP and ECDH P-384 messages from OpenSSL', () => {
    expect(result.chacha).toEqual({ same: true, cipher: 'chacha20-poly1305' });
    const plain = new Uint8Array(readFileSync(join(VECTORS, 'openssl', 'plain.txt')));
    const others = result.others as { content: number[]; keyTransport: string; cipher: string }[];
    expect(others.map((o) => new Uint8Array(o.content))).toEqual([plain, plain, plain]);
    expect(others.map((o) => [o.keyTransport, o.cipher])).toEqual([
      ['rsaEncryption', 'aes-256-cbc'],
      ['rsaes-oaep-sha-256', 'aes-256-cbc'],
      ['key-agreement', 'aes-256-gcm'],
    ]);
  });

  it('encryptStream without an accelerator (AES-GCM on WebCrypto AES-CTR + GHASH, ChaCha20-Poly1305 on the portable cipher, AES-CBC on WebCrypto): decryptMessage in Node opens it', async () => {
    const streamed = result.streamed as Record<string, number[]>;
    const store = await storeWith(['bob']);
    const body = new Uint8Array(200000);
    for (let i = 0; i < body.length; i++) body[i] = i % 78 === 76 ? 13 : i % 78 === 77 ? 10 : 33 + ((i * 7919) % 94);
    for (const cipher of ['aes-256-gcm', 'chacha20-poly1305', 'aes-256-cbc']) {
      const out = new Uint8Array(streamed[cipher]!);
      expect(new TextDecoder().decode(out.subarray(0, 600))).toMatch(/smime-type=(authE|e)nveloped-data/);
      const r = await decryptMessage(out, { store });
      expect(r.cipher).toBe(cipher);
      const want = new Uint8Array([...new TextEncoder().encode('Content-Type: text/plain; charset=us-ascii\r\n\r\n'), ...body]);
      expect(Buffer.from(r.content).equals(Buffer.from(want))).toBe(true);
    }
  });

  it('decryptStream without an accelerator: AES-GCM on WebCrypto AES-CTR + GHASH, streamed, the entity byte for byte', () => {
    const d = result.decryptStream as { content: number[]; pieces: number; cipher: string; authenticated: boolean };
    const body = new Uint8Array(200000);
    for (let i = 0; i < body.length; i++) body[i] = i % 78 === 76 ? 13 : i % 78 === 77 ? 10 : 33 + ((i * 7919) % 94);
    const want = new Uint8Array([...new TextEncoder().encode('Content-Type: text/plain; charset=us-ascii\r\n\r\n'), ...body]);
    expect(Buffer.from(new Uint8Array(d.content)).equals(Buffer.from(want))).toBe(true);
    expect(d.pieces).toBeGreaterThan(10);
    expect([d.cipher, d.authenticated]).toEqual(['aes-256-gcm', true]);
  });

  it('bad input is a typed error; a recipient without a certificate is named', () => {
    expect(result.bad).toEqual({ smime: true, code: expect.stringMatching(/^ERR_/) });
    expect(result.missing).toEqual(['carol@example.com']);
  });
});
