/**
 * `smime encrypt` streams (issue 16): a message of a few MiB from --in to --out, and from stdin (a pipe, and a
 * redirected file) to stdout, is opened by `openssl cms -decrypt` and by `smime decrypt` to the same bytes; a refusal
 * or a failure leaves nothing at --out (an existing file untouched, no temporary file left beside it) and writes
 * nothing to stdout, with today's exit codes and messages. The built bin runs in `sh -c` (run `npm run build`
 * first); the mid-stream read failure runs runCli in this process with a stdin stream that fails after 2 MiB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmp, VECTORS } from '../_helpers/env.js';
import { referenceClockEnv } from '../_helpers/clock.js';
import { atReference, PASSWORD } from '../_helpers/identities.js';
import { checkBuilt, S, sh, SMIME_JS } from './_sh.js';
import { runCli, type CliIo } from '../../src/cli/main.js';
import { EXIT } from '../../src/cli/exit_codes.js';

const v = (rel: string) => join(VECTORS, rel);
const BOB_CERT = v('identities/bob.cert.pem');
const BOB_KEY = v('identities/bob.key.pem');
const BOB_P12 = v('identities/bob.p12');
const OUTER = 'From: alice@example.com\r\nTo: bob@example.com\r\nSubject: a large attachment\r\nMIME-Version: 1.0\r\n';
const CONTENT_HEAD = 'Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n';

let dir = '';
let msg = '';
/** What encryption protects and decryption gives back: the Content-* headers, the empty line and the body. */
let inner: Buffer;
const ENV = () => ({ CERT: BOB_CERT, MSG: msg, DIR: dir, P12: BOB_P12, PW: PASSWORD });

/** A `bytes`-long body of base64 lines ended by CRLF (canonical already, so the round trip is byte for byte). */
function body(bytes: number): Buffer {
  const raw = Buffer.alloc(Math.ceil((bytes * 3) / 4));
  let x = 0x9e3779b9;
  for (let i = 0; i < raw.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    raw[i] = x & 0xff;
  }
  return Buffer.from(raw.toString('base64').replace(/.{1,76}/g, '$&\r\n'), 'latin1');
}

/** openssl cms -decrypt of a file, to a file, read back. */
function opensslDecrypt(file: string): Buffer {
  const out = join(dir, 'openssl.out');
  execFileSync('openssl', ['cms', '-decrypt', '-binary', '-in', file, '-recip', BOB_CERT, '-inkey', BOB_KEY, '-out', out]);
  const b = readFileSync(out);
  rmSync(out);
  return b;
}

/** smime decrypt of a file (the CLI's own decrypt), stdout. */
async function smimeDecrypt(file: string): Promise<Buffer> {
  const r = await sh(`${S} decrypt --identity "$P12" --password-env PW --in "$F"`, { ...ENV(), F: file });
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return Buffer.from(r.out);
}

/** The files in a directory, to show that no temporary file was left. */
const entries = (d: string): string[] => readdirSync(d).sort();

beforeAll(() => {
  checkBuilt();
  dir = tmp('smime-cli-stream-');
  inner = Buffer.concat([Buffer.from(CONTENT_HEAD, 'latin1'), body(3 * 2 ** 20)]);
  msg = join(dir, 'msg.eml');
  writeFileSync(msg, Buffer.concat([Buffer.from(OUTER, 'latin1'), inner]));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.concurrent('smime encrypt streams a few MiB: openssl and smime decrypt give the content back byte for byte', () => {
  it.each(['aes-256-cbc', 'aes-256-gcm'])('--in FILE --out FILE, %s', async (cipher) => {
    const out = join(dir, `enc-${cipher}.p7m`);
    const r = await sh(`${S} encrypt --cert "$CERT" --to bob@example.com --cipher ${cipher} --in "$MSG" --out "$OUT"`, { ...ENV(), OUT: out });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out.length).toBe(0);
    const text = readFileSync(out, 'latin1');
    // Streamed: BER with indefinite lengths (30 80), base64 in lines, the outer headers kept outside.
    expect(text.startsWith('From: alice@example.com\r\nTo: bob@example.com\r\nSubject: a large attachment\r\n')).toBe(true);
    const b64 = text.slice(text.indexOf('\r\n\r\n') + 4).replace(/\r\n/g, '');
    expect(Buffer.from(b64.slice(0, 8), 'base64')[1]).toBe(0x80);
    expect(opensslDecrypt(out).equals(inner)).toBe(true);
    expect((await smimeDecrypt(out)).equals(inner)).toBe(true);
  });

  it('stdin from a pipe to stdout', async () => {
    const r = await sh(`cat "$MSG" | ${S} encrypt --cert "$CERT" --to bob@example.com`, ENV());
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const out = join(dir, 'enc-pipe.p7m');
    writeFileSync(out, r.out);
    expect(opensslDecrypt(out).equals(inner)).toBe(true);
    expect((await smimeDecrypt(out)).equals(inner)).toBe(true);
  });

  it('stdin redirected from a file (read in 64 KiB pieces) to stdout redirected to a file', async () => {
    const out = join(dir, 'enc-redirect.p7m');
    const r = await sh(`${S} encrypt --cert "$CERT" --to bob@example.com --cipher aes-256-gcm < "$MSG" > "$OUT"`, { ...ENV(), OUT: out });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(opensslDecrypt(out).equals(inner)).toBe(true);
    expect((await smimeDecrypt(out)).equals(inner)).toBe(true);
  });

  it('a cipher that cannot stream (ChaCha20-Poly1305) takes the buffer path, same result', async () => {
    const out = join(dir, 'enc-chacha.p7m');
    const r = await sh(`${S} encrypt --cert "$CERT" --to bob@example.com --cipher chacha20-poly1305 --in "$MSG" --out "$OUT"`, { ...ENV(), OUT: out });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect((await smimeDecrypt(out)).equals(inner)).toBe(true);
  });

  it('--report reads the streamed message back: the cipher used and the byte count', async () => {
    const sub = join(dir, 'report');
    mkdirSync(sub);
    const r = await sh(`${S} encrypt --cert "$CERT" --to bob@example.com --cipher aes-256-gcm --in "$MSG" --out "$SUB/o.p7m" --report -`, { ...ENV(), SUB: sub });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout) as { type: string; cipher: string; bytes: number };
    expect(rep).toMatchObject({ type: 'authEnveloped', cipher: 'aes-256-gcm' });
    expect(rep.bytes).toBe(readFileSync(join(sub, 'o.p7m')).length);
    expect(entries(sub)).toEqual(['o.p7m']);
  });
});

describe.concurrent('a refusal or a failure: nothing at --out, nothing on stdout, exit code and message as before', () => {
  const NO_CERT = 'smime: no certificate for carol@example.com: add one with --cert or import one into the store\n';

  it('a missing recipient certificate (--out FILE): exit 3, no file, an existing file untouched, no temporary file', async () => {
    const sub = join(dir, 'refusal');
    mkdirSync(sub);
    const r1 = await sh(`${S} encrypt --cert "$CERT" --to carol@example.com --in "$MSG" --out "$SUB/new.p7m"`, { ...ENV(), SUB: sub });
    expect([r1.code, r1.err, r1.out.length]).toEqual([EXIT.missingCertificate, NO_CERT, 0]);
    writeFileSync(join(sub, 'old.p7m'), 'the previous message\n');
    const r2 = await sh(`cat "$MSG" | ${S} encrypt --cert "$CERT" --to bob@example.com --to carol@example.com --out "$SUB/old.p7m"`, { ...ENV(), SUB: sub });
    expect([r2.code, r2.err, r2.out.length]).toEqual([EXIT.missingCertificate, NO_CERT, 0]);
    expect(readFileSync(join(sub, 'old.p7m'), 'utf8')).toBe('the previous message\n');
    expect(entries(sub)).toEqual(['old.p7m']);
  });

  it('a missing recipient certificate (stdout): exit 3, nothing on stdout', async () => {
    const r = await sh(`cat "$MSG" | ${S} encrypt --cert "$CERT" --to carol@example.com`, ENV());
    expect([r.code, r.err, r.out.length]).toEqual([EXIT.missingCertificate, NO_CERT, 0]);
  });

  it('stdin closed inside the header section: exit 5 (ERR_MIME_INVALID), nothing at --out or on stdout', async () => {
    const sub = join(dir, 'cut');
    mkdirSync(sub);
    const want = 'smime: <stdin>: ERR_MIME_INVALID: invalid MIME header: line 2 is not "name: value" and the header section has not ended\n';
    const r = await sh(`printf 'Subject: x\\r\\nContent-Ty' | ${S} encrypt --cert "$CERT" --to bob@example.com --out "$SUB/o.p7m"`, { ...ENV(), SUB: sub });
    expect([r.code, r.err, r.out.length]).toEqual([EXIT.badInput, want, 0]);
    expect(entries(sub)).toEqual([]);
    const s = await sh(`printf 'Subject: x\\r\\nContent-Ty' | ${S} encrypt --cert "$CERT" --to bob@example.com`, ENV());
    expect([s.code, s.err, s.out.length]).toEqual([EXIT.badInput, want, 0]);
  });

  it('--in a directory (a read error): exit 6, no file', async () => {
    const sub = join(dir, 'eisdir');
    mkdirSync(sub);
    const r = await sh(`${S} encrypt --cert "$CERT" --to bob@example.com --in "$SUB" --out "$SUB/o.p7m"`, { ...ENV(), SUB: sub });
    expect([r.code, r.err, r.out.length]).toEqual([EXIT.io, `smime: ${sub}: cannot read or write: is a directory (EISDIR)\n`, 0]);
    expect(entries(sub)).toEqual([]);
  });

  it('--in a file that does not exist: exit 6 before anything else, no file', async () => {
    const r = await sh(`${S} encrypt --cert "$CERT" --to carol@example.com --in "$DIR/none.eml" --out "$DIR/none.p7m"`, ENV());
    expect([r.code, r.err]).toEqual([EXIT.io, `smime: ${join(dir, 'none.eml')}: cannot read or write: no such file (ENOENT)\n`]);
    expect(existsSync(join(dir, 'none.p7m'))).toBe(false);
  });
});

describe('stdin failing mid-stream, after output was written to the temporary file', () => {
  /** runCli in this process; stdin delivers 2 MiB of the message in 64 KiB pieces, then fails with EIO. */
  async function failing(args: string[]): Promise<{ code: number; err: string; stdout: number; pulled: number }> {
    const whole = readFileSync(msg);
    let off = 0;
    let stdout = 0;
    let err = '';
    const stream = new ReadableStream<Uint8Array>(
      {
        pull(c) {
          if (off >= 2 * 2 ** 20) {
            const e = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO', path: '<stdin>' });
            c.error(e);
            return;
          }
          c.enqueue(new Uint8Array(whole.subarray(off, off + 65536)));
          off += 65536;
        },
      },
      { highWaterMark: 0 },
    );
    const io: CliIo = {
      stdin: () => new Uint8Array(whole),
      stdinStream: () => ({ stream, close: async () => {} }),
      stdout: (b) => void (stdout += b.length),
      stderr: (s) => void (err += s),
      env: {},
      now: atReference,
    };
    const code = await runCli(['encrypt', '--cert', BOB_CERT, '--to', 'bob@example.com', ...args], io);
    return { code, err, stdout, pulled: off };
  }

  it('--out FILE: exit 6, no file and no temporary file; stdout: nothing written', async () => {
    const sub = join(dir, 'mid');
    mkdirSync(sub);
    const f = await failing(['--out', join(sub, 'o.p7m')]);
    expect(f).toEqual({ code: EXIT.io, err: 'smime: <stdin>: cannot read or write: EIO\n', stdout: 0, pulled: 2 * 2 ** 20 });
    expect(entries(sub)).toEqual([]);
    const g = await failing([]);
    expect(g).toEqual({ code: EXIT.io, err: 'smime: <stdin>: cannot read or write: EIO\n', stdout: 0, pulled: 2 * 2 ** 20 });
  });
});

describe('interrupted half-way', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s while the output is written: the temporary file beside --out is removed, the signal ends the process', async (sig) => {
    const sub = join(dir, `signal-${sig}`);
    mkdirSync(sub);
    const p = spawn(process.execPath, [SMIME_JS, 'encrypt', '--cert', BOB_CERT, '--to', 'bob@example.com', '--out', join(sub, 'o.p7m')], {
      stdio: ['pipe', 'ignore', 'pipe'],
      env: { ...process.env, ...referenceClockEnv() },
    });
    const exited = new Promise<[number | null, string | null]>((resolve) => p.on('close', (code, signal) => resolve([code, signal])));
    p.stdin.on('error', () => {}); // EPIPE once the process is gone
    // Half the message, then nothing more: the CLI waits for stdin with its temporary file open.
    p.stdin.write(readFileSync(msg).subarray(0, 1 << 20));
    const deadline = Date.now() + 20_000;
    while (!entries(sub).some((f) => f.endsWith('.tmp')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(entries(sub)).toEqual([`.o.p7m.${p.pid}.tmp`]);
    p.kill(sig);
    expect(await exited).toEqual([null, sig]);
    expect(entries(sub)).toEqual([]);
  });
});

describe('--fsync', () => {
  it('without it the --out file is renamed into place unsynced; with it the commit fsyncs the file; both decrypt to the message', async () => {
    const { open } = await import('node:fs/promises');
    const probe = await open(join(dir, 'fsync-probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
    await probe.close();
    const real = proto.sync;
    let syncs = 0;
    const io = (): CliIo => ({ stdin: () => new Uint8Array(0), stdout: () => {}, stderr: () => {}, env: {}, now: atReference });
    try {
      proto.sync = function (this: unknown) {
        syncs++;
        return real.call(this);
      };
      const sub = join(dir, 'fsync');
      mkdirSync(sub);
      const dec = async (f: string) => (await smimeDecrypt(f)).equals(inner);
      expect(await runCli(['encrypt', '--cert', BOB_CERT, '--to', 'bob@example.com', '--in', msg, '--out', join(sub, 'a.p7m')], io())).toBe(0);
      expect(syncs).toBe(0);
      expect(await runCli(['encrypt', '--cert', BOB_CERT, '--to', 'bob@example.com', '--in', msg, '--out', join(sub, 'b.p7m'), '--fsync'], io())).toBe(0);
      expect(syncs).toBe(1);
      expect(await dec(join(sub, 'a.p7m'))).toBe(true);
      expect(await dec(join(sub, 'b.p7m'))).toBe(true);
      expect(entries(sub).sort()).toEqual(['a.p7m', 'b.p7m']);
    } finally {
      proto.sync = real;
    }
  });

  it('a write that fails half-way (the file size limit: EFBIG): exit 6 naming --out, the old file kept, no temporary file left', async () => {
    const sub = join(dir, 'efbig');
    mkdirSync(sub);
    writeFileSync(join(sub, 'o.p7m'), 'old');
    const r = await sh(`ulimit -f 2048; ${S} encrypt --cert "$CERT" --to bob@example.com --in "$MSG" --out "$OUT"`, { ...ENV(), OUT: join(sub, 'o.p7m') });
    expect(r.code).toBe(EXIT.io);
    expect(r.err).toBe(`smime: ${join(sub, 'o.p7m')}: cannot read or write: EFBIG\n`);
    expect(entries(sub)).toEqual(['o.p7m']);
    expect(readFileSync(join(sub, 'o.p7m'), 'utf8')).toBe('old');
  });
});
