/**
 * `smime decrypt`, `sign` and `verify` stream (issue 16) on the CLI's stream plumbing: the output waits in a temporary
 * file until the operation's `done` resolves (decrypt: the GCM tag; verify: every signer valid), so a failure leaves
 * nothing at --out and writes nothing to stdout. What a stream function refuses at its head (a certs-only message
 * given to verify) goes to the buffer function on the same bytes, with the same result as before issue 16; 3DES,
 * once buffer-only, streams block by block. The built bin runs in `sh -c` (run `npm run build` first).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmp, VECTORS } from '../_helpers/env.js';
import { PASSWORD } from '../_helpers/identities.js';
import { checkBuilt, S, sh } from './_sh.js';
import { EXIT } from '../../src/cli/exit_codes.js';

const v = (rel: string) => join(VECTORS, rel);
const BOB_CERT = v('identities/bob.cert.pem');
const TRUST = { CHAIN: v('pki/chain.pem'), ROOT: v('pki/root-ca.cert.pem') };

let dir = '';
let msg = '';
let inner: Buffer;
/** The whole message file: what openssl encrypts (it does not split the header section). */
let whole: Buffer;
const ENV = () => ({ DIR: dir, MSG: msg, P12: v('identities/bob.p12'), ALICE: v('identities/alice-sign.p12'), PW: PASSWORD, ...TRUST });
const entries = (d: string): string[] => readdirSync(d).sort();

/** A message of about 2 MiB: a header section and base64 lines, canonical already. */
function message(): { whole: Buffer; inner: Buffer } {
  const raw = Buffer.alloc(1536 * 1024);
  let x = 0x12345678;
  for (let i = 0; i < raw.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    raw[i] = x & 0xff;
  }
  const inner = Buffer.concat([
    Buffer.from('Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n', 'latin1'),
    Buffer.from(raw.toString('base64').replace(/.{1,76}/g, '$&\r\n'), 'latin1'),
  ]);
  const whole = Buffer.concat([Buffer.from('From: alice@example.com\r\nTo: bob@example.com\r\nSubject: streams\r\nMIME-Version: 1.0\r\n', 'latin1'), inner]);
  return { whole, inner };
}

function opensslEncrypt(cipher: string, out: string): void {
  execFileSync('openssl', ['cms', '-encrypt', '-stream', '-binary', `-${cipher}`, '-in', msg, '-out', out, BOB_CERT]);
}

beforeAll(() => {
  checkBuilt();
  dir = tmp('smime-cli-stream-cmds-');
  const m = message();
  inner = m.inner;
  whole = m.whole;
  msg = join(dir, 'msg.eml');
  writeFileSync(msg, m.whole);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.concurrent('smime decrypt streams', () => {
  it.each(['aes-256-gcm', 'aes-256-cbc'])('openssl cms -encrypt -stream (%s) decrypted from --in to --out and from stdin to stdout', async (cipher) => {
    const enc = join(dir, `ossl-${cipher}.p7m`);
    opensslEncrypt(cipher, enc);
    const out = join(dir, `dec-${cipher}.eml`);
    const r = await sh(`${S} decrypt --identity "$P12" --password-env PW --in "$F" --out "$OUT"`, { ...ENV(), F: enc, OUT: out });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(out).equals(whole)).toBe(true);
    const p = await sh(`cat "$F" | ${S} decrypt --identity "$P12" --password-env PW`, { ...ENV(), F: enc });
    expect(p.code).toBe(0);
    expect(Buffer.from(p.out).equals(whole)).toBe(true);
  });

  it('a GCM message with a flipped ciphertext byte: exit 4, nothing at --out, nothing on stdout, no temporary file', async () => {
    const enc = join(dir, 'bad-gcm.p7m');
    execFileSync('openssl', ['cms', '-encrypt', '-stream', '-binary', '-outform', 'DER', '-aes-256-gcm', '-in', msg, '-out', enc, BOB_CERT]);
    const der = readFileSync(enc);
    der[der.length - 4096] ^= 0x01; // inside the encrypted content, far from the structure
    writeFileSync(enc, der);
    const own = mkdtempSync(join(dir, 'gcm-'));
    const before = entries(own);
    const out = join(own, 'bad-gcm.eml');
    const r = await sh(`${S} decrypt --identity "$P12" --password-env PW --in "$F" --out "$OUT"`, { ...ENV(), F: enc, OUT: out });
    expect(r.code).toBe(EXIT.decryptionFailed);
    expect(r.err).toMatch(/ERR_CMS_DECRYPTION_FAILED/);
    expect(existsSync(out)).toBe(false);
    expect(entries(own)).toEqual(before);
    const p = await sh(`${S} decrypt --identity "$P12" --password-env PW < "$F"`, { ...ENV(), F: enc });
    expect(p.code).toBe(EXIT.decryptionFailed);
    expect(p.out.length).toBe(0);
  });

  it('3DES (OpenSSL) decrypts from a pipe, as before (it streams now, block by block)', async () => {
    const enc = join(dir, 'ossl-des3.p7m');
    opensslEncrypt('des3', enc);
    const r = await sh(`cat "$F" | ${S} decrypt --identity "$P12" --password-env PW`, { ...ENV(), F: enc });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(Buffer.from(r.out).equals(whole)).toBe(true);
  });
});

describe.concurrent('smime sign and verify stream', () => {
  it.each([
    ['multipart/signed', ''],
    ['opaque', '--opaque'],
  ])('%s: signed by smime from a pipe, verified by smime verify from --in to --out', async (_name, flag) => {
    const signed = join(dir, `signed${flag}.eml`);
    const s = await sh(`cat "$MSG" | ${S} sign --from alice@example.com --identity "$ALICE" --password-env PW ${flag} --out "$OUT"`, { ...ENV(), OUT: signed });
    expect(s.err).toBe('');
    expect(s.code).toBe(0);
    const out = join(dir, `verified${flag}.eml`);
    const r = await sh(`${S} verify --cert "$CHAIN" --trust "$ROOT" --in "$F" --out "$OUT"`, { ...ENV(), F: signed, OUT: out });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const content = readFileSync(out);
    expect(content.subarray(content.length - 200).equals(inner.subarray(inner.length - 200))).toBe(true);
  });

  it('a tampered signed message: exit 1, the signer named, nothing at --out and no temporary file', async () => {
    const signed = join(dir, 'to-tamper.eml');
    const s = await sh(`${S} sign --from alice@example.com --identity "$ALICE" --password-env PW --in "$MSG" --out "$OUT"`, { ...ENV(), OUT: signed });
    expect(s.code).toBe(0);
    const b = readFileSync(signed);
    const at = b.indexOf('\r\n\r\n', b.indexOf('Content-Transfer-Encoding: base64')) + 100;
    b[at] = b[at] === 0x41 ? 0x42 : 0x41;
    writeFileSync(signed, b);
    const own = mkdtempSync(join(dir, 'tampered-'));
    const before = entries(own);
    const out = join(own, 'tampered.out');
    const r = await sh(`${S} verify --cert "$CHAIN" --trust "$ROOT" --in "$F" --out "$OUT"`, { ...ENV(), F: signed, OUT: out });
    expect(r.code).toBe(EXIT.verifyFailed);
    expect(r.err).toMatch(/signer alice@example.com: invalid \(digest-mismatch/);
    expect(existsSync(out)).toBe(false);
    expect(entries(own)).toEqual(before);
  });

  it('a certs-only message given to verify is read as before (no signer), through the buffer path', async () => {
    const p7c = join(dir, 'certs.p7c');
    execFileSync('openssl', ['crl2pkcs7', '-nocrl', '-certfile', BOB_CERT, '-out', p7c, '-outform', 'DER']);
    const r = await sh(`${S} verify --in "$F"`, { ...ENV(), F: p7c });
    expect(r.code).toBe(EXIT.verifyFailed);
    expect(r.err).toMatch(/no signer \(a certs-only message with 1 certificate\(s\)\)/);
  });
});
