/**
 * Streamed input and output of the `smime` command (issue 16; docs/streaming-design.md section 3).
 *
 * Input: `--in FILE` (or a regular file redirected to stdin) is read through a pull-based stream of 64 KiB reads on
 * its file handle; a pipe or terminal on stdin through a pull-based adapter over `process.stdin` (nothing is read
 * before the operation asks for it: backpressure end to end).
 *
 * Output: whatever the operation produces goes to a temporary file first, in synchronous 64 KiB writes (as the
 * reads of a file input: cheaper than the thread pool's round trips). Only once the output stream has ended and the
 * operation's `done` has resolved is it made visible: for `--out FILE` the temporary file beside it is renamed over
 * FILE (with `--fsync`, fsynced first and the directory after), as atomic_write.ts does for whole buffers; for stdout
 * (or a path that is not a regular file, such as /dev/stdout or a FIFO) the temporary file — in the system's temporary directory, mode 0600, unlinked as soon as it
 * is open — is copied out. On any failure the temporary file is removed and nothing is written: an existing --out
 * file is left as it was, and an authenticated (GCM) content that fails its tag never reaches stdout. Interrupted by
 * SIGINT, SIGTERM or SIGHUP, the process removes its temporary files, then ends by the signal as it would have.
 *
 * To plug a command: `streamToTemp(input, target, (stream) => op(stream))` where `op` resolves to
 * `{ output, done }` (for encryptStream/signStream `done` is the end of the output; for decryptStream/verifyStream
 * `output` is `content` and `done` the result), then `commit()` (or `abort()`) the pending output.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, lstatSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { MIMEInvalid } from '../index.node.js';

/** Bytes per read of an input file: the chunk size the stream functions work in. */
export const READ_CHUNK = 64 * 1024;
/** Bytes per write of a streamed output gathered from smaller chunks (see streamToTemp). */
const WRITE_CHUNK = 64 * 1024;
/** Bytes of output between two turns of the event loop in streamToTemp (its file reads and writes are synchronous). */
const YIELD_EVERY = 1024 * 1024;
/** Bytes written to a temporary --out file between two background fdatasyncs (see besideSink). */
const SYNC_EVERY = 32 * 1024 * 1024;
/** Bytes per read when a finished temporary file is copied to stdout. */
const COPY_CHUNK = 256 * 1024;

/** An I/O error named like a file error, so main.ts reports `<path>: cannot read or write: CODE`. */
function named(e: unknown, path: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err === 'object' && typeof err.code === 'string' && err.path === undefined) err.path = path;
  return err;
}

/** An input for a streamed command: its stream, and `close()` to release it however the run ended. */
export interface StreamInput {
  /** The bytes, pulled one chunk at a time. */
  readonly stream: ReadableStream<Uint8Array>;
  /** Releases the file handle or stops reading stdin (idempotent; safe after the stream was read to its end). */
  close(): Promise<void>;
  /**
   * When the input is a regular file (`--in FILE`, or one redirected to stdin but on Windows): the same bytes again,
   * from where this input started, as a new input; called once {@link stream} was read (what it left unread is read
   * and dropped first). `smime sign` reads twice: a scan, then the signing (signMessage's bytes).
   */
  rewind?: () => Promise<StreamInput>;
}

/** Something that reads into a buffer and returns the count of bytes read (0 at the end). */
type ReadInto = (buf: Uint8Array) => number | Promise<number>;

/** A pull-based stream over `read`: one read per pull, in a fresh buffer each time (consumers may keep chunks). */
function pullStream(read: ReadInto, close: () => Promise<void>, name: string): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        // Not zero-filled (only the bytes read are ever seen: the chunk is cut to `n`).
        const b = Buffer.allocUnsafeSlow(READ_CHUNK);
        const buf = new Uint8Array(b.buffer, b.byteOffset, b.length);
        let n: number;
        try {
          n = await read(buf);
        } catch (e) {
          await close();
          throw named(e, name);
        }
        if (n === 0) {
          await close();
          controller.close();
          return;
        }
        controller.enqueue(n === buf.length ? buf : buf.subarray(0, n));
      },
      async cancel() {
        await close();
      },
    },
    // One chunk read ahead: the next read overlaps the work on this one (measured: bench/README.md).
    { highWaterMark: 1 },
  );
}

/** Opens a file for a streamed read; a missing or unreadable file fails here, before the operation starts. */
export async function fileInput(path: string): Promise<StreamInput> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw named(e, path);
  }
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await fh.close().catch(() => {});
  };
  // Synchronous reads of a regular file: a promise-based read costs about 45 µs of thread-pool hand-off per 64 KiB
  // (more than the copy itself); streamToTemp yields to the event loop now and then (signals are still handled).
  const read: ReadInto = (buf) => (closed ? 0 : readSync(fh.fd, buf, 0, buf.length, null));
  const regular = await fh.stat().then(
    (st) => st.isFile(),
    () => false,
  );
  const input = { stream: pullStream(read, close, path), close };
  if (!regular) return input;
  // The second read is closed with this input too (the stream closes it when read to its end, not when dropped).
  let again: StreamInput | undefined;
  return {
    ...input,
    close: async () => {
      await close();
      await again?.close();
    },
    rewind: async () => (again = await fileInput(path)),
  };
}

/**
 * A Node stream (stdin on a pipe or a terminal) as a pull-based `ReadableStream`: `read()` in paused mode, one chunk
 * per pull, so nothing is read from the pipe before the operation asks for it.
 */
export function nodeInput(r: Readable, name = '<stdin>'): StreamInput {
  let finished = false;
  // Stopped early (a refusal, a failure): stop reading, so the pipe holds the process no longer.
  const close = async (): Promise<void> => {
    if (finished) return;
    finished = true;
    r.destroy();
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        return new Promise<void>((resolve, reject) => {
          const done = (): void => {
            r.removeListener('readable', attempt);
            r.removeListener('end', onEnd);
            r.removeListener('error', onError);
          };
          const onEnd = (): void => {
            done();
            finished = true;
            controller.close();
            resolve();
          };
          const onError = (e: unknown): void => {
            done();
            finished = true;
            reject(named(e, name));
          };
          function attempt(): void {
            const c = r.read() as Buffer | string | null;
            if (c !== null) {
              done();
              const b = typeof c === 'string' ? Buffer.from(c, 'latin1') : c;
              controller.enqueue(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
              resolve();
            } else if (r.readableEnded) onEnd();
          }
          if (r.errored) return onError(r.errored);
          r.on('readable', attempt);
          r.once('end', onEnd);
          r.once('error', onError);
          attempt();
        });
      },
      async cancel() {
        await close();
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, close };
}

/**
 * Standard input as a stream: a redirected regular file (`smime encrypt < msg`) through 64 KiB reads of fd 0 (as
 * --in), a pipe, socket or terminal through `process.stdin` (stdio.ts explains why a pipe is never read synchronously).
 * A regular file can be read again ({@link StreamInput.rewind}) but on Windows, where stdin stays a read-once input.
 */
export function stdinInput(): StreamInput {
  let regular = false;
  try {
    regular = fstatSync(0).isFile();
  } catch {
    regular = false;
  }
  if (!regular) return nodeInput(process.stdin);
  let closed = false;
  const close = async (): Promise<void> => {
    closed = true;
  };
  /** Bytes read from fd 0 by this input, and whether a read found its end. */
  let consumed = 0;
  let ended = false;
  // Synchronous, as fileInput's reads (a regular file never blocks for long).
  const readNext = (buf: Uint8Array): number => {
    const n = readSync(0, buf, 0, buf.length, null);
    consumed += n;
    if (n === 0) ended = true;
    return n;
  };
  const read: ReadInto = (buf) => (closed ? 0 : readNext(buf));
  const input: StreamInput = { stream: pullStream(read, close, '<stdin>'), close };
  if (process.platform === 'win32') return input;
  return {
    ...input,
    // fd 0's offset is shared with whoever opened it, and Node has no lseek: the file is read to its end through it
    // (as it was), so it started at its size minus the bytes read, and it is read again from there by position.
    async rewind() {
      const scratch = new Uint8Array(READ_CHUNK);
      while (!ended) readNext(scratch);
      const start = fstatSync(0).size - consumed;
      if (start < 0) throw new MIMEInvalid('<stdin>: the input changed while it was read (it is read twice to be signed)');
      let pos = start;
      let done = false;
      const readAt: ReadInto = (buf) => {
        if (done) return 0;
        const n = readSync(0, buf, 0, buf.length, pos);
        pos += n;
        return n;
      };
      // Nothing to release (fd 0 stays open), so this input need not be closed with the first.
      const closeAgain = async (): Promise<void> => {
        done = true;
      };
      return { stream: pullStream(readAt, closeAgain, '<stdin>'), close: closeAgain };
    },
  };
}

/** Bytes already in memory (a test's stdin) as a StreamInput; `bytes` is called on the first pull. */
export function bytesInput(bytes: () => Uint8Array | Promise<Uint8Array>): StreamInput {
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const b = await bytes();
        for (let i = 0; i < b.length; i += READ_CHUNK) controller.enqueue(b.subarray(i, i + READ_CHUNK));
        controller.close();
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, close: async () => {} };
}

/** Where a streamed command's output goes: a file (`--out FILE`), or stdout (`--out -` or no --out). */
export interface StreamTarget {
  /** The --out path; undefined or '-' for stdout. */
  path?: string;
  /** Writes to stdout (awaited: backpressure); rejects with EPIPE when the reader went away. */
  stdout: (b: Uint8Array) => void | Promise<void>;
  /**
   * `stdout` is done with the bytes once its promise resolves (bin.ts: they were written to the descriptor), so the
   * copy out of the temporary file may reuse one buffer; otherwise each piece is a fresh buffer the writer may keep.
   */
  stdoutReusable?: boolean;
  /**
   * `--fsync`: the file is flushed to the disk before it replaces --out (and the directory after), so it survives a
   * crash. Without it the replacement is atomic but not durable, as `openssl cms -out`, gzip and cp write files.
   */
  durable?: boolean;
}

/** What a streamed operation gives: its output, and `done`, which resolves only when the output may be used. */
export interface Streamed<T> {
  /** The output bytes (encryptStream's result, decryptStream's `content`, …). */
  output: ReadableStream<Uint8Array>;
  /** Resolves when the output is good (after the GCM tag, the signatures…); rejects when it must not be used. */
  done: Promise<T>;
}

/** The output of a streamed operation, complete in a temporary file, waiting to be made visible or thrown away. */
export interface PendingOutput<T> {
  /** What `done` resolved to. */
  readonly result: T;
  /** The count of output bytes. */
  readonly bytes: number;
  /** The whole output read back into memory (for a --report that inspects it). */
  readBack(): Promise<Uint8Array>;
  /** Makes the output visible: renames the temporary file over --out, or copies it to stdout; then releases it. */
  commit(): Promise<void>;
  /** Throws the output away (idempotent; a no-op after commit). */
  abort(): Promise<void>;
}

/** The temporary file a streamed output is written to. */
export interface TempSink {
  write(b: Uint8Array): Promise<void>;
  readBack(): Promise<Uint8Array>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * Writes all of `b` at the handle's position, synchronously: a write into the page cache is a copy, and a
 * promise-based write costs more in thread-pool hand-off than the copy (87 MB in 64 KiB writes: 60 ms of CPU and twice
 * the wall time, bench/README.md).
 */
function writeFully(fh: FileHandle, b: Uint8Array): void {
  let off = 0;
  while (off < b.length) off += writeSync(fh.fd, b, off, b.length - off, null);
}

/** Reads a whole file (by handle) from offset 0. */
async function readWhole(fh: FileHandle, size: number): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  let off = 0;
  while (off < size) {
    const n = (await fh.read(out, off, size - off, off)).bytesRead;
    if (n === 0) break;
    off += n;
  }
  return off === size ? out : out.subarray(0, off);
}

/** fsync of a directory, best effort (some file systems refuse it). */
function syncDir(dir: string): void {
  try {
    const d = openSync(dir, 'r');
    try {
      fsyncSync(d);
    } finally {
      closeSync(d);
    }
  } catch {
    /* not supported here */
  }
}

/** The temporary files beside --out files now being written: removed if the process is interrupted. */
const openTemps = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * On SIGINT, SIGTERM or SIGHUP while a temporary file is open (a long stream): the files are removed, then the
 * signal is raised again with its default action, so the process ends as it would have (and the shell sees it).
 */
function onSignal(sig: NodeJS.Signals): void {
  for (const t of openTemps) {
    try {
      unlinkSync(t);
    } catch {
      /* already gone */
    }
  }
  openTemps.clear();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  process.kill(process.pid, sig);
}

/** Tracks a temporary file (and installs the signal handlers while any is open). */
function track(tmp: string, open: boolean): void {
  if (open) {
    if (openTemps.size === 0) for (const s of SIGNALS) process.on(s, onSignal);
    openTemps.add(tmp);
  } else if (openTemps.delete(tmp) && openTemps.size === 0) {
    for (const s of SIGNALS) process.removeListener(s, onSignal);
  }
}

/** The temporary file beside `path`, renamed over it on commit (atomic_write.ts's scheme, streamed). */
async function besideSink(path: string, durable: boolean): Promise<TempSink> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  let fh: FileHandle | undefined;
  // Tracked before it exists: a signal that comes once the file is on the disk, before this code runs again after
  // the open, still finds it to remove.
  track(tmp, true);
  try {
    fh = await open(tmp, 'w+', 0o666);
  } catch (e) {
    track(tmp, false);
    // The error names --out, not the temporary file beside it (an --out in a directory that does not exist).
    const err = e as NodeJS.ErrnoException;
    if (err && typeof err === 'object' && err.path === tmp) err.path = path;
    throw named(err, path);
  }
  let size = 0;
  let state: 'open' | 'committed' | 'aborted' = 'open';
  const h = fh;
  // Early write-back: every SYNC_EVERY bytes an fdatasync runs in the background while the output goes on, so the
  // fsync of the commit has only the tail to write (measured: bench/README.md). It adds no guarantee and takes none
  // away: the commit still fsyncs the whole file before the rename, and fails if any early sync failed (a failed
  // fsync may leave pages marked clean that never reached the disk, so a later fsync's success proves nothing).
  let synced = 0;
  let syncing: Promise<void> | undefined;
  let syncError: unknown;
  const earlySync = (): void => {
    if (!durable || syncing || size - synced < SYNC_EVERY) return;
    synced = size;
    syncing = h.datasync().then(
      () => {
        syncing = undefined;
      },
      (e: unknown) => {
        syncError ??= e;
        syncing = undefined;
      },
    );
  };
  return {
    async write(b) {
      try {
        writeFully(h, b);
      } catch (e) {
        throw named(e, path);
      }
      size += b.length;
      earlySync();
    },
    readBack: () => readWhole(h, size),
    async commit() {
      try {
        await syncing;
        if (syncError !== undefined) throw syncError;
        if (durable) await h.sync();
        await h.close();
        state = 'committed';
        renameSync(tmp, path);
        track(tmp, false);
      } catch (e) {
        state = 'committed';
        track(tmp, false);
        await h.close().catch(() => {}); // a failed sync left it open (a second close only rejects)
        try {
          unlinkSync(tmp);
        } catch {
          /* nothing to remove */
        }
        throw named(e, path);
      }
      if (durable) syncDir(dir);
    },
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      await syncing;
      await h.close().catch(() => {});
      try {
        unlinkSync(tmp);
      } catch {
        /* nothing to remove */
      }
      track(tmp, false);
    },
  };
}

/**
 * A temporary file in the system's temporary directory (mode 0600, unlinked at once where the system allows it),
 * copied out on commit to `deliver` (stdout, or a path that is not a regular file).
 */
async function copySink(deliver: (b: Uint8Array) => void | Promise<void>, finish: () => Promise<void>, name: string, reuse: boolean): Promise<TempSink> {
  const tmp = join(tmpdir(), `smime-${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx+', 0o600);
  let linked = true;
  try {
    unlinkSync(tmp);
    linked = false;
  } catch {
    track(tmp, true); // removed on commit or abort instead (or on a signal)
  }
  let size = 0;
  let state: 'open' | 'done' = 'open';
  const release = async (): Promise<void> => {
    if (state === 'done') return;
    state = 'done';
    await fh.close().catch(() => {});
    if (linked) {
      try {
        unlinkSync(tmp);
      } catch {
        /* nothing to remove */
      }
      track(tmp, false);
    }
  };
  return {
    async write(b) {
      writeFully(fh, b);
      size += b.length;
    },
    readBack: () => readWhole(fh, size),
    async commit() {
      try {
        let shared: Uint8Array | undefined;
        for (let off = 0; off < size; ) {
          const want = Math.min(COPY_CHUNK, size - off);
          const buf = reuse ? (shared ??= new Uint8Array(want)).subarray(0, want) : new Uint8Array(want);
          const n = (await fh.read(buf, 0, buf.length, off)).bytesRead;
          if (n === 0) break;
          await deliver(n === buf.length ? buf : buf.subarray(0, n));
          off += n;
        }
        await finish();
      } catch (e) {
        throw named(e, name);
      } finally {
        await release();
      }
    },
    abort: release,
  };
}

/** The sink for a target: beside a regular (or not yet existing) --out file, else a copy to stdout or the path. */
export async function sinkFor(target: StreamTarget): Promise<TempSink> {
  const path = target.path;
  if (path === undefined || path === '-') return copySink(target.stdout, async () => {}, '<stdout>', target.stdoutReusable === true);
  let special = false;
  try {
    special = !lstatSync(path).isFile();
  } catch {
    special = false; // does not exist yet
  }
  if (!special) return besideSink(path, target.durable === true);
  // /dev/stdout, a FIFO, a device: opened only once the output is complete, and written in order.
  let fh: FileHandle | undefined;
  const deliver = async (b: Uint8Array): Promise<void> => {
    fh ??= await open(path, 'w');
    writeFully(fh, b);
  };
  const finish = async (): Promise<void> => {
    fh ??= await open(path, 'w');
    await fh.close();
  };
  return copySink(deliver, finish, path, true);
}

/**
 * Runs a streamed operation from `input` into a temporary file for `target`: the operation is started (refusals,
 * such as a missing recipient certificate, reject here before anything is created), its output pulled chunk by chunk
 * and each chunk written before the next is pulled, then `done` awaited. Resolves with the output pending (to
 * `commit()` or `abort()`); on any failure everything is released, the temporary file removed, and the error thrown.
 */
export async function streamToTemp<T>(input: StreamInput, target: StreamTarget, op: (input: ReadableStream<Uint8Array>) => Promise<Streamed<T>>): Promise<PendingOutput<T>> {
  let sink: TempSink | undefined;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  try {
    const { output, done } = await op(input.stream);
    const r0 = output.getReader();
    reader = r0;
    // `done` rejecting while the output still flows stops the pumping (the pending read ends), and is thrown below.
    done.catch((e: unknown) => r0.cancel(e).catch(() => {}));
    sink = await sinkFor(target);
    let bytes = 0;
    // Small chunks (decryptStream gives one per BER chunk: OpenSSL's -stream output has 1 KiB ones) are gathered
    // into writes of WRITE_CHUNK: one file write per chunk cost more than the decryption (a profile of smime decrypt
    // of OpenSSL's 64 MiB message: 65% of the time waiting on or issuing writes). The buffer is reused: a sink is
    // done with the bytes once its write resolves. Reads and writes of files being synchronous, the loop yields to
    // the event loop every YIELD_EVERY bytes, so that signals (SIGINT: remove the temporary file) are handled.
    const gather = new Uint8Array(WRITE_CHUNK);
    let filled = 0;
    let sinceYield = 0;
    for (;;) {
      const r = await r0.read();
      if (r.done) break;
      const v = r.value;
      bytes += v.length;
      sinceYield += v.length;
      if (sinceYield >= YIELD_EVERY) {
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (filled === 0 && v.length >= WRITE_CHUNK) {
        await sink.write(v);
        continue;
      }
      for (let off = 0; off < v.length; ) {
        const n = Math.min(WRITE_CHUNK - filled, v.length - off);
        gather.set(v.subarray(off, off + n), filled);
        filled += n;
        off += n;
        if (filled === WRITE_CHUNK) {
          await sink.write(gather);
          filled = 0;
        }
      }
    }
    if (filled > 0) await sink.write(gather.subarray(0, filled));
    reader = undefined;
    const result = await done;
    const s = sink;
    return { result, bytes, readBack: () => s.readBack(), commit: () => s.commit(), abort: () => s.abort() };
  } catch (e) {
    if (reader) await reader.cancel(e).catch(() => {});
    if (sink) await sink.abort();
    throw e;
  } finally {
    await input.close();
  }
}

/** streamToTemp, then commit: the output is visible when this resolves, and nowhere when it rejects. */
export async function runStreamed<T>(input: StreamInput, target: StreamTarget, op: (input: ReadableStream<Uint8Array>) => Promise<Streamed<T>>): Promise<{ result: T; bytes: number }> {
  const p = await streamToTemp(input, target, op);
  try {
    await p.commit();
  } finally {
    await p.abort();
  }
  return { result: p.result, bytes: p.bytes };
}
