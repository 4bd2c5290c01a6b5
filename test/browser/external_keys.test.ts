/**
 * Keys that never leave the browser: non-extractable WebCrypto CryptoKeys given to `importIdentity`, and
 * `ExternalKey`s written in the page (plain objects over the page's WebCrypto) given to `importExternalIdentity`,
 * in headless Chromium against the bundled library (the set-up of test/_helpers/chromium.ts).
 * - RSA-OAEP (SHA-1, SHA-256) keys decrypt OpenSSL's OAEP messages and one encrypted in the page; OpenSSL's default
 *   PKCS#1 v1.5 message is refused with KeyOperationRefused, saying that WebCrypto has none and what to use instead;
 * - an ECDH P-384 key decrypts OpenSSL's ECDH message; RSASSA-PKCS1-v1_5 and ECDSA keys sign, and the page, the
 *   library and `openssl cms -verify` accept the signatures;
 * - an in-page ExternalKey wrapping a non-extractable ECDSA key signs, and one wrapping an ECDH key's deriveBits
 *   decrypts (OpenSSL's message and one made in the page).
 * Skipped with a notice when Chromium is not installed; with CI=true a missing Chromium fails the run.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasPeer, tmp, tryRun, VECTORS } from '../_helpers/env.js';
import { manifest, OPENSSL_AT_REFERENCE, REFERENCE_DATE } from '../_helpers/identities.js';
import { findChromium, runPageInChromium, type PageRun } from '../_helpers/chromium.js';

const CHROMIUM = findChromium('the browser tests of non-extractable and external keys are');
const HAS_OPENSSL = CHROMIUM !== undefined && hasPeer('openssl', ['version']);

const message = (id: string) => manifest.messages.find((m) => m.id === id)!;
const v = (rel: string) => readFileSync(join(VECTORS, rel));
const PLAIN = new Uint8Array(v(join('openssl', 'plain.txt')));

/** The MIME entity every signature in the page covers (the page signs MAIL, whose body part is this). */
const ENTITY = 'Content-Type: text/plain; charset=us-ascii\r\n\r\nSigned in Chromium by a key that never leaves it.\r\n';

/** An error as the page reports it. */
interface PageError {
  smime: boolean;
  name: string;
  code: string;
  message: string;
}

/** A decryption as the page reports it. */
interface PageDecrypted {
  content: number[];
  keyTransport: string;
}

/** A signature as the page reports it: the signed message's bytes, and what verifyMessage said of it. */
interface PageSigned {
  bytes: number[];
  status: string;
  email: string;
}

/**
 * The page (see chromium.test.ts for why a string). `run()` imports the sample PKCS#8 keys with WebCrypto as
 * non-extractable keys, builds stores with them and reports what each operation gave.
 */
const PAGE_MODULE = String.raw`
import * as m from '/smime.js';
const subtle = crypto.subtle;
const get = async (p) => new Uint8Array(await (await fetch(p)).arrayBuffer());
const text = async (p) => (await fetch(p)).text();
const MAIL = (from) => 'From: ' + from + '\r\nTo: bob@example.com\r\nSubject: kept in the browser\r\n' + ${JSON.stringify(ENTITY)};
const nonExtractable = (name, alg, usages) => get('/k/' + name + '.p8').then((der) => subtle.importKey('pkcs8', der, alg, false, usages));
const caught = async (p) => {
  try {
    await p;
    return 'no error';
  } catch (e) {
    return { smime: e instanceof m.SmimeError, name: e.name, code: e.code, message: e.message };
  }
};
const decrypted = (r) => ({ content: Array.from(r.content), keyTransport: r.keyTransport });
const chain = await text('/v/chain.pem');
const root = await text('/v/root.pem');
/** The page's stores judge the sample certificates at the reference date, not at the browser's clock. */
const now = () => new Date(${JSON.stringify(REFERENCE_DATE.toISOString())});
async function storeWith(pairs) {
  const store = new m.CertificateStore({ now });
  await store.addCertificate(chain);
  store.addTrustAnchor(root);
  for (const [cert, key, external] of pairs) {
    const pem = await text('/c/' + cert + '.pem');
    if (external) await store.importExternalIdentity(pem, key);
    else await store.importIdentity(pem, key);
  }
  return store;
}
async function signed(store, from) {
  const bytes = await m.signMessage(MAIL(from), { store, from });
  const v = await m.verifyMessage(bytes, { store });
  return { bytes: Array.from(bytes), status: v.signers[0].status, email: v.signers[0].email };
}

/** DER ECDSA-Sig-Value from WebCrypto's r || s (what an ExternalKey's sign must return for ECDSA). */
function ecdsaDer(raw) {
  const int = (b) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    b = b.subarray(i);
    return b[0] & 0x80 ? [0x02, b.length + 1, 0, ...b] : [0x02, b.length, ...b];
  };
  const half = raw.length / 2;
  const body = [...int(raw.subarray(0, half)), ...int(raw.subarray(half))];
  return new Uint8Array([0x30, ...(body.length < 128 ? [body.length] : [0x81, body.length]), ...body]);
}
const ECDSA_HASH = { '1.2.840.10045.4.3.2': 'SHA-256', '1.2.840.10045.4.3.3': 'SHA-384', '1.2.840.10045.4.3.4': 'SHA-512' };

export async function run() {
  const out = {};

  // RSA-OAEP, SHA-256 and SHA-1: OAEP only.
  const oaep256 = await nonExtractable('alice-enc', { name: 'RSA-OAEP', hash: 'SHA-256' }, ['decrypt']);
  out.extractable = [oaep256.extractable, await caught(subtle.exportKey('pkcs8', oaep256))];
  const s256 = await storeWith([['alice-enc', oaep256]]);
  out.oaep256 = decrypted(await m.decryptMessage(await get('/m/oaep256.eml'), { store: s256 }));
  const mine = await m.encryptMessage(MAIL('bob@example.com'), { store: s256, to: ['alice@example.com'], oaep: 'SHA-256' });
  const r = await m.decryptMessage(mine, { store: s256 });
  out.oaep256Page = { same: new TextDecoder().decode(r.content) === ${JSON.stringify(ENTITY)}, keyTransport: r.keyTransport };
  out.v15 = await caught(m.decryptMessage(await get('/m/v15.eml'), { store: s256 }));
  out.oaepOtherHash = await caught(m.decryptMessage(await get('/m/oaep1.eml'), { store: s256 }));
  const oaep1 = await nonExtractable('alice-enc', { name: 'RSA-OAEP', hash: 'SHA-1' }, ['decrypt']);
  const s1 = await storeWith([['alice-enc', oaep1]]);
  out.oaep1 = decrypted(await m.decryptMessage(await get('/m/oaep1.eml'), { store: s1 }));
  out.v15sha1 = await caught(m.decryptMessage(await get('/m/v15.eml'), { store: s1 }));

  // ECDH P-384: OpenSSL's key agreement.
  const ecdh = await nonExtractable('ec-enc', { name: 'ECDH', namedCurve: 'P-384' }, ['deriveBits']);
  out.ecdh = decrypted(await m.decryptMessage(await get('/m/ecdh.eml'), { store: await storeWith([['ec-enc', ecdh]]) }));

  // Signing: RSASSA-PKCS1-v1_5 with SHA-256, ECDSA P-256.
  const rsassa = await nonExtractable('alice-sign', { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, ['sign']);
  out.rsaSigned = await signed(await storeWith([['alice-sign', rsassa]]), 'alice@example.com');
  const ecdsa = await nonExtractable('ec-sign', { name: 'ECDSA', namedCurve: 'P-256' }, ['sign']);
  out.ecdsaSigned = await signed(await storeWith([['ec-sign', ecdsa]]), 'ecuser@example.com');

  // ExternalKeys written here: plain objects over non-extractable keys, one signing, one deriving.
  const calls = { sign: [], derive: 0 };
  const signer = {
    type: 'ec',
    async sign(data, algorithm) {
      calls.sign.push(algorithm.oid);
      const hash = ECDSA_HASH[algorithm.oid];
      if (!hash) throw new Error('this key signs ECDSA only');
      return ecdsaDer(new Uint8Array(await subtle.sign({ name: 'ECDSA', hash }, ecdsa, data)));
    },
  };
  const agreer = {
    type: 'ec',
    async deriveSecret(spki) {
      calls.derive++;
      const pub = await subtle.importKey('spki', spki, { name: 'ECDH', namedCurve: 'P-384' }, false, []);
      return new Uint8Array(await subtle.deriveBits({ name: 'ECDH', public: pub }, ecdh, 384));
    },
  };
  const ext = await storeWith([['ec-sign', signer, true], ['ec-enc', agreer, true]]);
  out.external = {};
  out.external.signed = await signed(ext, 'ecuser@example.com');
  out.external.openssl = decrypted(await m.decryptMessage(await get('/m/ecdh.eml'), { store: ext }));
  const toEc = await m.encryptMessage(MAIL('bob@example.com'), { store: ext, to: ['ecuser@example.com'] });
  const back = await m.decryptMessage(toEc, { store: ext });
  out.external.page = { same: new TextDecoder().decode(back.content) === ${JSON.stringify(ENTITY)}, keyTransport: back.keyTransport };
  out.external.calls = calls;
  return out;
}
`;

/** The sample identity's PKCS#8, DER (what the page imports with WebCrypto). */
const pkcs8 = (name: string) => new Uint8Array(createPrivateKey(v(manifest.identities[name]!.key)).export({ type: 'pkcs8', format: 'der' }));

describe.skipIf(!CHROMIUM)('headless Chromium: non-extractable CryptoKeys and ExternalKeys', () => {
  let run: PageRun | undefined;
  let result: Record<string, unknown>;

  beforeAll(async () => {
    const names: Record<string, string> = { 'alice-enc': 'alice-enc-2025', 'alice-sign': 'alice-sign', 'ec-enc': 'ec-enc', 'ec-sign': 'ec-sign' };
    const files: Record<string, [string, Uint8Array | string]> = {
      '/v/chain.pem': ['text/plain', v(join('pki', 'chain.pem'))],
      '/v/root.pem': ['text/plain', v(join('pki', 'root-ca.cert.pem'))],
      '/m/oaep256.eml': ['text/plain', v(message('enc-oaep-sha256').file)],
      '/m/oaep1.eml': ['text/plain', v(message('enc-oaep-sha1').file)],
      '/m/v15.eml': ['text/plain', v(message('enc-rsa15-aes256cbc').file)],
      '/m/ecdh.eml': ['text/plain', v(message('enc-ecdh-p384-gcm').file)],
    };
    for (const [short, name] of Object.entries(names)) {
      files[`/k/${short}.p8`] = ['application/octet-stream', pkcs8(name)];
      files[`/c/${short}.pem`] = ['text/plain', v(manifest.identities[name]!.cert)];
    }
    run = await runPageInChromium(CHROMIUM!, PAGE_MODULE, files, null);
    result = run.result;
  }, 120_000);

  afterAll(() => run?.close());

  it('the keys are non-extractable: WebCrypto refuses to export them', () => {
    const [extractable, exported] = result.extractable as [boolean, { name: string }];
    expect(extractable).toBe(false);
    expect(exported.name).toBe('InvalidAccessError');
  });

  it('a non-extractable RSA-OAEP key decrypts OpenSSL’s OAEP messages (SHA-256, SHA-1) and one made in the page', () => {
    const oaep256 = result.oaep256 as PageDecrypted;
    expect(new Uint8Array(oaep256.content)).toEqual(PLAIN);
    expect(oaep256.keyTransport).toBe('rsaes-oaep-sha-256');
    const oaep1 = result.oaep1 as PageDecrypted;
    expect(new Uint8Array(oaep1.content)).toEqual(PLAIN);
    expect(oaep1.keyTransport).toMatch(/^rsaes-oaep/);
    expect(result.oaep256Page).toEqual({ same: true, keyTransport: 'rsaes-oaep-sha-256' });
  });

  it('PKCS#1 v1.5 (OpenSSL’s default) is refused: WebCrypto has none, and the message says what to use instead', () => {
    for (const e of [result.v15, result.v15sha1] as PageError[]) {
      expect(e).toMatchObject({ smime: true, name: 'KeyOperationRefused', code: 'ERR_KEY_OPERATION_REFUSED' });
      expect(e.message).toContain('PKCS#1 v1.5 key transport');
      expect(e.message).toContain('non-extractable CryptoKey');
      expect(e.message).toContain('WebCrypto has no PKCS#1 v1.5 decryption');
      // What to use instead: the PKCS#8 in the store (the library's own RSA), or an ExternalKey doing raw RSA.
      expect(e.message).toMatch(/Import the key as PKCS#8 \(a file or a PKCS#12\)/);
      expect(e.message).toMatch(/an ExternalKey that does rsa-raw/);
    }
  });

  it('an OAEP message with another hash than the key’s is refused, naming both hashes', () => {
    const e = result.oaepOtherHash as PageError;
    expect(e).toMatchObject({ smime: true, name: 'KeyOperationRefused', code: 'ERR_KEY_OPERATION_REFUSED' });
    expect(e.message).toContain('imported with SHA-256');
    expect(e.message).toContain('OAEP with SHA-1');
  });

  it('a non-extractable ECDH P-384 key decrypts OpenSSL’s ECDH message', () => {
    const r = result.ecdh as PageDecrypted;
    expect(new Uint8Array(r.content)).toEqual(PLAIN);
    expect(r.keyTransport).toBe('key-agreement');
  });

  it('non-extractable RSASSA-PKCS1-v1_5 and ECDSA keys sign; the page verifies the signatures', () => {
    expect(result.rsaSigned).toMatchObject({ status: 'valid', email: 'alice@example.com' });
    expect(result.ecdsaSigned).toMatchObject({ status: 'valid', email: 'ecuser@example.com' });
  });

  it('an ExternalKey written in the page (non-extractable ECDSA) signs, and one over ECDH deriveBits decrypts', () => {
    const ext = result.external as { signed: PageSigned; openssl: PageDecrypted; page: unknown; calls: { sign: string[]; derive: number } };
    expect(ext.signed).toMatchObject({ status: 'valid', email: 'ecuser@example.com' });
    expect(new Uint8Array(ext.openssl.content)).toEqual(PLAIN);
    expect(ext.openssl.keyTransport).toBe('key-agreement');
    expect(ext.page).toEqual({ same: true, keyTransport: 'key-agreement' });
    // The page's keys did the work: one signature (ecdsa-with-SHA256), two key agreements.
    expect(ext.calls).toEqual({ sign: ['1.2.840.10045.4.3.2'], derive: 2 });
  });

  it.skipIf(!HAS_OPENSSL)('openssl cms -verify accepts the three signatures made in the page', () => {
    const dir = tmp('smime-browser-verify-');
    const ext = result.external as { signed: PageSigned };
    const all: [string, PageSigned][] = [
      ['rsa', result.rsaSigned as PageSigned],
      ['ecdsa', result.ecdsaSigned as PageSigned],
      ['external', ext.signed],
    ];
    for (const [label, s] of all) {
      const file = join(dir, `${label}.eml`);
      writeFileSync(file, new Uint8Array(s.bytes));
      const r = tryRun('openssl', ['cms', '-verify', '-purpose', 'smimesign', ...OPENSSL_AT_REFERENCE, '-CAfile', join(VECTORS, 'pki', 'root-ca.cert.pem'), '-in', file]);
      expect(r.stderr, label).toContain('Verification successful');
      expect(r.status, label).toBe(0);
      expect(new TextDecoder().decode(r.stdout), label).toBe(ENTITY);
    }
  });
});
