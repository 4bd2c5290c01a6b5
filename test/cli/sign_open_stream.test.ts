/**
 * `smime sign` and `smime open` stream (issue 16). sign: a regular --in file is scanned, then signed as it is read:
 * the signed entity is signMessage's byte for byte (here an 8-bit text without a transfer encoding, larger than the
 * pipe look-ahead); from a pipe, a message over 1 MiB is signed with its 7bit/undeclared text quoted-printable from
 * the start (a smaller one exactly as signMessage); a regular file redirected to stdin is read twice as --in is
 * (signMessage's entity, also when the shell read a line of it first); either way `openssl cms -verify` and verifyMessage accept it,
 * detached and opaque. open: a signed-then-encrypted message from a pipe and from a file gives openMessage's content;
 * a plain message still says "not an S/MIME message" (openMessage on the same bytes). The built bin runs in `sh -c`
 * (run `npm run build` first).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encryptMessage, openMessage, signMessage, verifyMessage, type CertificateStore } from '../../src/index.js';
import { tmp, VECTORS } from '../_helpers/env.js';
import { OPENSSL_AT_REFERENCE, PASSWORD, storeWith } from '../_helpers/identities.js';
import { checkBuilt, S, sh } from './_sh.js';

const v = (rel: string) => join(VECTORS, rel);
const ENV = () => ({ DIR: dir, ALICE: v('identities/alice-sign.p12'), BOB: v('identities/bob.p12'), PW: PASSWORD, CHAIN: v('pki/chain.pem'), ROOT: v('pki/root-ca.cert.pem') });

let dir = '';
let text = '';
let message: Buffer;
let store: CertificateStore;

/** An 8-bit UTF-8 text message without Content-Transfer-Encoding, about 1.1 MiB (above the pipe look-ahead). */
function eightBitText(): Buffer {
  const line = 'Grüße aus Köln: naïve café, déjà vu — line of 8-bit text\n';
  return Buffer.from(`From: alice@example.com\nTo: bob@example.com\nSubject: 8-bit\nContent-Type: text/plain; charset=utf-8\n\n${line.repeat(Math.ceil((1152 * 1024) / line.length))}`, 'utf8');
}

/** openssl cms -verify of a signed file: its exit status and content. */
function opensslVerify(file: string): Buffer {
  return execFileSync('openssl', ['cms', '-verify', ...OPENSSL_AT_REFERENCE, '-in', file, '-CAfile', ENV().ROOT, '-certfile', ENV().CHAIN, '-purpose', 'smimesign'], { maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'pipe'] });
}

beforeAll(async () => {
  checkBuilt();
  dir = tmp('smime-cli-sign-open-');
  message = eightBitText();
  text = join(dir, 'msg.eml');
  writeFileSync(text, message);
  store = await storeWith(['alice-sign', 'bob']);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('smime sign streams', () => {
  for (const opaque of [false, true]) {
    const flag = opaque ? '--opaque' : '';
    it(`--in FILE ${opaque ? 'opaque' : 'detached'}: signMessage's signed entity, byte for byte; openssl verifies`, async () => {
      const out = join(dir, `file-${opaque}.eml`);
      const r = await sh(`${S} sign --from alice@example.com --identity "$ALICE" --password-env PW ${flag} --in "$MSG" --out "$OUT"`, { ...ENV(), MSG: text, OUT: out });
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const signed = readFileSync(out);
      const got = await verifyMessage(signed, { store });
      expect(got.signers.map((s) => s.status)).toEqual(['valid']);
      const want = await verifyMessage(await signMessage(message, { store, from: 'alice@example.com', detached: !opaque }), { store });
      expect(Buffer.from(got.content).equals(Buffer.from(want.content))).toBe(true);
      expect(Buffer.from(got.content).toString('latin1')).toContain('Content-Transfer-Encoding: quoted-printable');
      expect(opensslVerify(out).equals(Buffer.from(got.content))).toBe(true);
    });

    it(`a pipe ${opaque ? 'opaque' : 'detached'}: quoted-printable from the start, verified by openssl and the library`, async () => {
      const out = join(dir, `pipe-${opaque}.eml`);
      const r = await sh(`cat "$MSG" | ${S} sign --from alice@example.com --identity "$ALICE" --password-env PW ${flag} > "$OUT"`, { ...ENV(), MSG: text, OUT: out });
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const got = await verifyMessage(readFileSync(out), { store });
      expect(got.signers.map((s) => s.status)).toEqual(['valid']);
      const entity = Buffer.from(got.content).toString('latin1');
      expect(entity).toMatch(/^Content-Type: text\/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe aus K=C3=B6ln/);
      expect(opensslVerify(out).equals(Buffer.from(got.content))).toBe(true);
    });
  }

  it('a regular file on stdin (`< FILE`) is read twice as --in is: signMessage\'s entity (an 8-bit part quoted-printable, a 7-bit one as it was), not the pipe\'s; openssl verifies', async () => {
    // multipart/mixed over 1 MiB: an undeclared 7-bit text (a pipe would make it quoted-printable) and an 8-bit one.
    const seven = 'plain 7-bit text line, kept as it is by signMessage\n'.repeat(12_000);
    const eight = eightBitText().toString('utf8').split('\n\n').slice(1).join('\n\n');
    const mixed = Buffer.from(
      `From: alice@example.com\nTo: bob@example.com\nSubject: mixed\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b1"\n\n` +
        `--b1\nContent-Type: text/plain\n\n${seven}\n--b1\nContent-Type: text/plain; charset=utf-8\n\n${eight}\n--b1--\n`,
      'utf8',
    );
    const f = join(dir, 'mixed.eml');
    writeFileSync(f, mixed);
    // Behind a first line the shell reads (`read`): fd 0 then starts after it, and so does what is signed.
    const g = join(dir, 'mixed-after-a-line.eml');
    writeFileSync(g, Buffer.concat([Buffer.from('X-Skipped: by the shell\n'), mixed]));
    const want = (await verifyMessage(await signMessage(mixed, { store, from: 'alice@example.com' }), { store })).content;
    expect(Buffer.from(want).toString('latin1')).toContain('Content-Type: text/plain\r\n\r\nplain 7-bit text line');
    const sign = `${S} sign --from alice@example.com --identity "$ALICE" --password-env PW`;
    const runs = {
      in: await sh(`${sign} --in "$MSG" --out "$DIR/in.eml"`, { ...ENV(), MSG: f }),
      stdin: await sh(`${sign} --out "$DIR/stdin.eml" < "$MSG"`, { ...ENV(), MSG: f }),
      offset: await sh(`{ read -r skipped; ${sign} --out "$DIR/offset.eml"; } < "$MSG"`, { ...ENV(), MSG: g }),
      stdout: await sh(`${sign} < "$MSG" > "$DIR/stdout.eml"`, { ...ENV(), MSG: f }),
    };
    for (const [name, r] of Object.entries(runs)) {
      expect(r.err, name).toBe('');
      expect(r.code, name).toBe(0);
      const file = join(dir, `${name}.eml`);
      const got = await verifyMessage(readFileSync(file), { store });
      expect(got.signers.map((x) => x.status), name).toEqual(['valid']);
      expect(Buffer.from(got.content).equals(Buffer.from(want)), name).toBe(true);
      expect(opensslVerify(file).equals(Buffer.from(want)), name).toBe(true);
    }
  });

  it('a small message from a pipe is signed as signMessage signs it (a 7-bit text keeps its bytes)', async () => {
    const small = join(dir, 'small.eml');
    const body = 'From: alice@example.com\r\nContent-Type: text/plain\r\n\r\nplain 7-bit text\r\n';
    writeFileSync(small, body);
    const r = await sh(`cat "$MSG" | ${S} sign --from alice@example.com --identity "$ALICE" --password-env PW`, { ...ENV(), MSG: small });
    expect(r.code).toBe(0);
    const got = await verifyMessage(r.out, { store });
    expect(Buffer.from(got.content).toString('latin1')).toBe('Content-Type: text/plain\r\n\r\nplain 7-bit text\r\n');
  });
});

describe('smime open streams', () => {
  it('signed then encrypted, from a pipe and from a file: openMessage\'s content', async () => {
    const wrapped = await encryptMessage(await signMessage(message, { store, from: 'alice@example.com' }), { store, to: ['bob@example.com'], cipher: 'aes-256-gcm' });
    const f = join(dir, 'wrapped.eml');
    writeFileSync(f, wrapped);
    const want = await openMessage(wrapped, { store });
    const args = `open --identity "$BOB" --password-env PW --cert "$CHAIN" --trust "$ROOT"`;
    const piped = await sh(`cat "$F" | ${S} ${args}`, { ...ENV(), F: f });
    expect(piped.err).toBe('');
    expect(piped.code).toBe(0);
    expect(Buffer.from(piped.out).equals(Buffer.from(want.content))).toBe(true);
    const out = join(dir, 'opened.eml');
    const r = await sh(`${S} ${args} --in "$F" --out "$OUT"`, { ...ENV(), F: f, OUT: out });
    expect(r.code).toBe(0);
    expect(readFileSync(out).equals(Buffer.from(want.content))).toBe(true);
    // --report (openMessage: the report has the protected headers, which openStream does not return yet).
    const out2 = join(dir, 'opened2.eml');
    const rr = await sh(`cat "$F" | ${S} ${args} --out "$OUT" --report "$REP"`, { ...ENV(), F: f, OUT: out2, REP: join(dir, 'rep.json') });
    expect(rr.code).toBe(0);
    expect(readFileSync(out2).equals(Buffer.from(want.content))).toBe(true);
    const rep = JSON.parse(readFileSync(join(dir, 'rep.json'), 'utf8')) as { layers: { type: string }[]; signers: { status: string }[] };
    expect(rep.layers.map((l) => l.type)).toEqual(['authEnveloped', 'signed']);
    expect(rep.signers.map((s) => s.status)).toEqual(['valid']);
  });

  it('a plain message: "not an S/MIME message", nothing written', async () => {
    const out = join(dir, 'plain-out.eml');
    const r = await sh(`${S} open --identity "$BOB" --password-env PW --in "$F" --out "$OUT"`, { ...ENV(), F: v('openssl/plain.txt'), OUT: out });
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/not an S\/MIME message/);
    expect(() => readFileSync(out)).toThrow();
  });

  it('a truncated encrypted message: an error, nothing written', async () => {
    const wrapped = await encryptMessage(message, { store, to: ['bob@example.com'], cipher: 'aes-256-gcm' });
    const f = join(dir, 'cut.eml');
    writeFileSync(f, wrapped.subarray(0, Math.floor(wrapped.length * 0.8)));
    const out = join(dir, 'cut-out.eml');
    const r = await sh(`${S} open --identity "$BOB" --password-env PW --in "$F" --out "$OUT"`, { ...ENV(), F: f, OUT: out });
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/^smime: .*ERR_/);
    expect(() => readFileSync(out)).toThrow();
  });
});
