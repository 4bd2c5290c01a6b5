/**
 * `smime encrypt` runs in bounded memory (issue 16): the built bin encrypts a 256 MiB message generated here, from
 * --in to --out and from a pipe on stdin to stdout, and its peak RSS stays within 64 MiB of the baseline: the same
 * command on a 1 KiB message (Node, the CLI, the library and the store loaded: about 20 MiB above `node -e 0`, which
 * is logged too). A 16 MiB message is measured as well, to show the peak flat (not growing with the message). Peak
 * RSS is GNU time's %M (`/usr/bin/time`, installed by .ci/run), else the child's VmHWM polled from /proc. Run
 * `npm run build` first.
 *
 * `smime sign` (an 8-bit text, --in/--out: scanned then signed; and from a pipe) and `smime open` (that message
 * signed) stream too: 64 MiB peaks within 32 MiB of the same command on 1 MiB, where holding the message
 * would take 64 MiB and more.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tmp, VECTORS, rssBoundKiB } from '../_helpers/env.js';
import { referenceClockEnv } from '../_helpers/clock.js';
import { PASSWORD } from '../_helpers/identities.js';
import { checkBuilt, SMIME_JS } from './_sh.js';

const MiB = 2 ** 20;
const GNU_TIME = '/usr/bin/time';
const CERT = join(VECTORS, 'identities/bob.cert.pem');

let dir = '';

/** A message of `size` bytes: headers, then 76-character lines ended by CRLF, written 1 MiB at a time. */
function writeMessage(path: string, size: number): void {
  const head = Buffer.from('From: alice@example.com\r\nTo: bob@example.com\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n', 'latin1');
  const line = Buffer.from('QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n', 'latin1');
  const block = Buffer.alloc(line.length * Math.floor(MiB / line.length));
  for (let i = 0; i < block.length; i += line.length) line.copy(block, i);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, head);
    for (let n = head.length; n < size; n += block.length) writeSync(fd, block, 0, Math.min(block.length, size - n));
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs a command, its stdin a pipe from `cat FILE` and its stdout a file when given; resolves with its peak RSS in
 * KiB.
 */
function peakKiB(cmd: string[], stdio: { pipeFrom?: string; stdout?: string } = {}): Promise<number> {
  const gnu = existsSync(GNU_TIME);
  const argv = gnu ? [GNU_TIME, '-f', 'peak=%M', ...cmd] : cmd;
  const cat = stdio.pipeFrom ? spawn('cat', [stdio.pipeFrom], { stdio: ['ignore', 'pipe', 'inherit'] }) : undefined;
  const inFd = cat ? cat.stdout! : 'ignore';
  const outFd = stdio.stdout ? openSync(stdio.stdout, 'w') : 'ignore';
  return new Promise((resolve, reject) => {
    // The CLI's clock starts at the reference date (Bob's certificate is judged as on that day).
    const p = spawn(argv[0]!, argv.slice(1), { stdio: [inFd, outFd, 'pipe'], env: { ...process.env, ...referenceClockEnv() } });
    let err = '';
    let hwm = 0;
    p.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    // Without GNU time: the child's high-water mark, polled (it only grows, so the last reading is the peak).
    const poll = gnu
      ? undefined
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
            if (m) hwm = Math.max(hwm, Number(m[1]));
          } catch {
            /* exited */
          }
        }, 5);
    p.on('error', reject);
    p.on('close', (code) => {
      if (poll) clearInterval(poll);
      if (typeof outFd === 'number') closeSync(outFd);
      if (code !== 0) return reject(new Error(`${cmd.join(' ')} exited with ${code}: ${err}`));
      const m = /peak=(\d+)/.exec(err);
      resolve(gnu ? Number(m?.[1]) : hwm);
    });
  });
}

/** An 8-bit UTF-8 text message without Content-Transfer-Encoding of about `size` bytes, LF line ends. */
function writeText(path: string, size: number): void {
  const line = 'Grüße aus Köln: naïve café, déjà vu — a line of 8-bit text to sign\n';
  const block = Buffer.from(line.repeat(Math.floor(MiB / Buffer.byteLength(line))), 'utf8');
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, Buffer.from('From: alice@example.com\nTo: bob@example.com\nContent-Type: text/plain; charset=utf-8\n\n', 'latin1'));
    for (let n = 0; n < size; n += block.length) writeSync(fd, block);
  } finally {
    closeSync(fd);
  }
}

const encrypt = (...args: string[]) => [process.execPath, SMIME_JS, 'encrypt', '--cert', CERT, '--to', 'bob@example.com', ...args];

beforeAll(() => {
  checkBuilt();
  dir = tmp('smime-cli-stream-memory-');
  writeMessage(join(dir, 'small.eml'), 16 * MiB);
  writeMessage(join(dir, 'big.eml'), 256 * MiB);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('smime encrypt memory', () => {
  it('256 MiB, --in/--out and a pipe on stdin to stdout: peak RSS within 64 MiB of the 1 KiB run, and flat against 16 MiB', async () => {
    const f = (n: string) => join(dir, n);
    writeMessage(f('tiny.eml'), 1024);
    // Two at a time (the machine's cores): each peak is its own process's.
    const [node, base, small] = await Promise.all([
      peakKiB([process.execPath, '-e', '0']),
      peakKiB(encrypt('--cipher', 'aes-256-gcm', '--in', f('tiny.eml'), '--out', f('tiny.p7m'))),
      peakKiB(encrypt('--cipher', 'aes-256-gcm', '--in', f('small.eml'), '--out', f('small.p7m'))),
    ]);
    const [big, piped] = await Promise.all([
      peakKiB(encrypt('--cipher', 'aes-256-gcm', '--in', f('big.eml'), '--out', f('big.p7m'))),
      peakKiB(encrypt(), { pipeFrom: f('big.eml'), stdout: f('piped.p7m') }),
    ]);
    // The output is the base64 of the BER: about 4/3 of the input plus line ends.
    for (const o of ['big.p7m', 'piped.p7m']) {
      expect(statSync(f(o)).size).toBeGreaterThan(256 * MiB * 1.35);
      rmSync(f(o));
    }
    console.log(JSON.stringify({ nodeMiB: node >> 10, baseMiB: base >> 10, smallMiB: small >> 10, bigMiB: big >> 10, stdoutMiB: piped >> 10 }));
    expect(big - base).toBeLessThan(rssBoundKiB(64));
    expect(piped - base).toBeLessThan(rssBoundKiB(64));
    // Flat: 16 times the message costs a few MiB more (chunks not yet collected; up to 20 MiB on a machine loaded
    // 10× its cores), where a CLI that held the message would take 240 MiB and more.
    expect(big - small).toBeLessThan(rssBoundKiB(32));
  });
});

describe('smime sign and smime open memory', () => {
  it('64 MiB against 1 MiB: sign (--in/--out, and a pipe) and open (the signed message) peak flat', async () => {
    const f = (n: string) => join(dir, n);
    const id = (n: string) => join(VECTORS, `identities/${n}.p12`);
    const sign = (...args: string[]) => [process.execPath, SMIME_JS, 'sign', '--from', 'alice@example.com', '--identity', id('alice-sign'), '--password-env', 'SMIME_TEST_PW', ...args];
    const open = (...args: string[]) => [process.execPath, SMIME_JS, 'open', '--identity', id('bob'), '--password-env', 'SMIME_TEST_PW', ...args];
    process.env.SMIME_TEST_PW = PASSWORD;
    writeText(f('t1.eml'), MiB);
    writeText(f('t64.eml'), 64 * MiB);
    // One at a time: the 1 MiB baseline and the 64 MiB runs each alone (two at a time would share the machine's cores).
    const s1 = await peakKiB(sign('--opaque', '--in', f('t1.eml'), '--out', f('t1.signed')));
    const s64 = await peakKiB(sign('--opaque', '--in', f('t64.eml'), '--out', f('t64.signed')));
    const p64 = await peakKiB(sign(), { pipeFrom: f('t64.eml'), stdout: f('t64.piped') });
    // open: the opaque signed message, peeled by openStream (verifyStream inside).
    const o1 = await peakKiB(open('--cert', join(VECTORS, 'pki/chain.pem'), '--in', f('t1.signed'), '--out', f('t1.opened')));
    const o64 = await peakKiB(open('--cert', join(VECTORS, 'pki/chain.pem'), '--in', f('t64.signed'), '--out', f('t64.opened')));
    expect(statSync(f('t64.signed')).size).toBeGreaterThan(64 * MiB * 1.5); // quoted-printable of 8-bit text, in base64
    expect(statSync(f('t64.piped')).size).toBeGreaterThan(64 * MiB * 1.5);
    expect(statSync(f('t64.opened')).size).toBeGreaterThan(64 * MiB * 1.5); // the signed entity, quoted-printable
    console.log(JSON.stringify({ signMiB: [s1 >> 10, s64 >> 10], signPipeMiB: p64 >> 10, openMiB: [o1 >> 10, o64 >> 10] }));
    for (const n of ['t64.eml', 't64.signed', 't64.piped', 't64.opened']) rmSync(f(n));
    expect(s64 - s1).toBeLessThan(rssBoundKiB(32));
    expect(p64 - s1).toBeLessThan(rssBoundKiB(32));
    expect(o64 - o1).toBeLessThan(rssBoundKiB(32));
  });
});
