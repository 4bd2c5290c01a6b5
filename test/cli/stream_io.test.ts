/**
 * The CLI's stream plumbing (src/cli/stream_io.ts), which every streamed command goes through: the output is made
 * visible only when the operation's `done` resolves. A `done` that rejects after the whole output was produced (a
 * GCM tag that fails at the end) or while it still flows leaves nothing at --out (an existing file untouched, no
 * temporary file) and writes nothing to stdout; on success --out is replaced and stdout gets the bytes in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmp } from '../_helpers/env.js';
import { bytesInput, fileInput, runStreamed, type Streamed } from '../../src/cli/stream_io.js';

let dir = '';
beforeAll(() => {
  dir = tmp('smime-cli-stream-io-');
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** An operation that uppercases its input as it streams; `done` as given (default: resolved). */
function upper(fail?: { after: 'end' | 'first' }) {
  return async (input: ReadableStream<Uint8Array>): Promise<Streamed<string>> => {
    let reject!: (e: unknown) => void;
    let resolve!: (v: string) => void;
    const done = new Promise<string>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    let chunks = 0;
    const output = input.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(c, ctl) {
          ctl.enqueue(new TextEncoder().encode(new TextDecoder().decode(c).toUpperCase()));
          if (++chunks === 1 && fail?.after === 'first') reject(new Error('tag mismatch'));
        },
        flush() {
          if (fail?.after === 'end') reject(new Error('tag mismatch'));
          else resolve('ok');
        },
      }),
    );
    return { output, done };
  };
}

const text = 'hello, streamed world\n'.repeat(20_000); // 440 000 bytes: several 64 KiB reads
const stdoutSink = () => {
  const got: Uint8Array[] = [];
  return { got, stdout: (b: Uint8Array) => void got.push(b.slice()) };
};

describe('runStreamed', () => {
  it('success: --out replaced (an existing file included), no temporary file left; stdout gets the bytes in order', async () => {
    const sub = join(dir, 'ok');
    mkdirSync(sub);
    writeFileSync(join(sub, 'in.txt'), text);
    writeFileSync(join(sub, 'out.txt'), 'old');
    const r = await runStreamed(await fileInput(join(sub, 'in.txt')), { path: join(sub, 'out.txt'), stdout: () => {} }, upper());
    expect(r).toEqual({ result: 'ok', bytes: text.length });
    expect(readFileSync(join(sub, 'out.txt'), 'utf8')).toBe(text.toUpperCase());
    expect(readdirSync(sub).sort()).toEqual(['in.txt', 'out.txt']);
    for (const reusable of [false, true]) {
      const s = stdoutSink();
      await runStreamed(await fileInput(join(sub, 'in.txt')), { stdout: s.stdout, stdoutReusable: reusable }, upper());
      expect(Buffer.concat(s.got).toString('utf8')).toBe(text.toUpperCase());
    }
  });

  it.each(['end', 'first'] as const)('done rejecting (after the %s chunk): the error thrown, nothing at --out, nothing on stdout', async (after) => {
    const sub = join(dir, `fail-${after}`);
    mkdirSync(sub);
    writeFileSync(join(sub, 'out.txt'), 'old');
    const input = () => bytesInput(() => new TextEncoder().encode(text));
    await expect(runStreamed(input(), { path: join(sub, 'out.txt'), stdout: () => {} }, upper({ after }))).rejects.toThrow('tag mismatch');
    await expect(runStreamed(input(), { path: join(sub, 'new.txt'), stdout: () => {} }, upper({ after }))).rejects.toThrow('tag mismatch');
    expect(readdirSync(sub)).toEqual(['out.txt']);
    expect(readFileSync(join(sub, 'out.txt'), 'utf8')).toBe('old');
    const s = stdoutSink();
    await expect(runStreamed(input(), { stdout: s.stdout }, upper({ after }))).rejects.toThrow('tag mismatch');
    expect(s.got).toEqual([]);
  });

  it('done rejecting while an endless output still flows: the output is cancelled, the call rejects (no hang)', async () => {
    let cancelled = false;
    let pulls = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(new Uint8Array(65536));
        pulls++;
      },
      cancel() {
        cancelled = true;
      },
    });
    const op = async (): Promise<Streamed<void>> => ({ output: endless, done: new Promise((_, rej) => setTimeout(() => rej(new Error('bad tag')), 50)) });
    const s = stdoutSink();
    await expect(runStreamed(bytesInput(() => new Uint8Array(0)), { stdout: s.stdout }, op)).rejects.toThrow('bad tag');
    expect(cancelled).toBe(true);
    expect(pulls).toBeGreaterThan(0);
    expect(s.got).toEqual([]);
  });

  it('the operation refusing before it starts: nothing created, the input released', async () => {
    const sub = join(dir, 'refuse');
    mkdirSync(sub);
    writeFileSync(join(sub, 'in.txt'), text);
    const input = await fileInput(join(sub, 'in.txt'));
    let closed = false;
    const close = input.close;
    const watched = { stream: input.stream, close: async () => ((closed = true), close()) };
    await expect(runStreamed(watched, { path: join(sub, 'out.txt'), stdout: () => {} }, () => Promise.reject(new Error('no certificate')))).rejects.toThrow('no certificate');
    expect(closed).toBe(true);
    expect(readdirSync(sub)).toEqual(['in.txt']);
  });
});

describe('runStreamed to --out: early write-back', () => {
  /** A pass-through operation over `mib` MiB made in 1 MiB pieces of one byte value each. */
  function big(mib: number) {
    const input = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < mib; i++) c.enqueue(new Uint8Array(1 << 20).fill(65 + (i % 26)));
        c.close();
      },
    });
    return { stream: input, close: async () => {} };
  }
  const pass = async (s: ReadableStream<Uint8Array>): Promise<Streamed<string>> => ({ output: s, done: Promise.resolve('ok') });

  it('--fsync (durable): an output of 40 MiB gets a background fdatasync on the way (then the fsync of the commit); one that fails fails the commit, and nothing is left at --out', async () => {
    const { open } = await import('node:fs/promises');
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void>; sync: () => Promise<void> };
    await probe.close();
    const real = proto.datasync;
    const realSync = proto.sync;
    let calls = 0;
    let syncs = 0;
    try {
      proto.datasync = function (this: unknown) {
        calls++;
        return real.call(this);
      };
      proto.sync = function (this: unknown) {
        syncs++;
        return realSync.call(this);
      };
      const sub = join(dir, 'sync');
      mkdirSync(sub);
      // Not durable (the default): replaced atomically, never synced.
      const plain = await runStreamed(big(40), { path: join(sub, 'out.bin'), stdout: () => {} }, pass);
      expect(plain.bytes).toBe(40 << 20);
      expect(readFileSync(join(sub, 'out.bin')).length).toBe(40 << 20);
      expect([calls, syncs]).toEqual([0, 0]);
      const r = await runStreamed(big(40), { path: join(sub, 'out.bin'), stdout: () => {}, durable: true }, pass);
      expect(r.bytes).toBe(40 << 20);
      const got = readFileSync(join(sub, 'out.bin'));
      expect(got.length).toBe(40 << 20);
      expect(got[(39 << 20) + 5]).toBe(65 + (39 % 26));
      expect([calls, syncs]).toEqual([1, 1]); // a datasync at 32 MiB, the fsync of the commit
      // An early sync that fails (EIO): the commit fails, the temporary file is removed, the old --out stays.
      writeFileSync(join(sub, 'out.bin'), 'old');
      proto.datasync = () => Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
      await expect(runStreamed(big(40), { path: join(sub, 'out.bin'), stdout: () => {}, durable: true }, pass)).rejects.toThrow(/EIO/);
      expect(readdirSync(sub)).toEqual(['out.bin']);
      expect(readFileSync(join(sub, 'out.bin'), 'utf8')).toBe('old');
    } finally {
      proto.datasync = real;
      proto.sync = realSync;
    }
  });
});
