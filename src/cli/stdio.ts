/**
 * Standard input and output of the `smime` command, as streams.
 *
 * `readFileSync(0)` failed now and then with EAGAIN when stdin was a pipe whose writer was slow
 * (`(sleep 1; cat msg) | smime verify`): the pipe can be in non-blocking mode, and a synchronous read then finds it
 * empty. A stream waits for the data instead. Writing stdout in one `write()` with nobody listening for 'error'
 * crashed the process with a stack trace when the reader went away early (`smime decrypt | head -c 10`, EPIPE).
 * Here every read and write is awaited, errors come back as rejections, and the caller decides what they mean
 * (main.ts: EPIPE on stdout is a quiet exit 141). Errors writing to stderr are dropped: there is nowhere to report them.
 */
import { fstatSync, readFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';

/** A plain Uint8Array view of a Buffer Node read (no copy). */
function plainView(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** The chunks joined into one new buffer (the CLI's own: it imports only the public entry, not lib/bytes). */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Bytes written to stdout per `write()`: a view of the output, never a copy. */
const CHUNK = 1 << 20;

/** An I/O error on stdin or stdout, named like a file error so main.ts reports `cannot read or write <stdin>: CODE`. */
function named(e: unknown, path: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err === 'object' && typeof err.code === 'string' && err.path === undefined) err.path = path;
  return err;
}

/**
 * All of a stream's bytes: chunks as they come, then one buffer (a single chunk is returned as is, without a copy).
 */
export async function readAll(input: Readable): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of input) {
      const b = typeof c === 'string' ? Buffer.from(c, 'latin1') : (c as Buffer);
      chunks.push(b);
    }
  } catch (e) {
    throw named(e, '<stdin>');
  }
  return chunks.length === 1 ? plainView(chunks[0]!) : concat(chunks);
}

/**
 * Standard input. A redirected regular file (`smime verify < msg`) is read in one piece like `--in` (a file never
 * returns EAGAIN, and one read keeps a 64 MiB message at one copy); a pipe, socket or terminal is read as a stream.
 */
export async function readStdin(): Promise<Uint8Array> {
  let regular = false;
  try {
    regular = fstatSync(0).isFile();
  } catch {
    regular = false;
  }
  if (regular) {
    try {
      return plainView(readFileSync(0));
    } catch (e) {
      throw named(e, '<stdin>');
    }
  }
  return readAll(process.stdin);
}

/** One `write()` whose callback has run: the chunk was handed to the OS, or the stream's error. */
function writeChunk(out: Writable, part: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      out.write(part, (err) => (err ? reject(err) : resolve()));
    } catch (e) {
      reject(e);
    }
  });
}

/**
 * Writes bytes to a stream with backpressure: one chunk at a time, the next only once the previous one was flushed
 * (the 'drain' of a queue of one; unlike 'drain', a write callback also runs when the stream has failed or was
 * destroyed, so this never hangs). Rejects with the stream's error, e.g. EPIPE when the reader has gone.
 */
export async function writeAll(out: Writable, bytes: Uint8Array, path = '<stdout>'): Promise<void> {
  quiet(out); // the write callbacks carry the error; without a listener it would crash the process
  try {
    for (let i = 0; i < bytes.length; i += CHUNK) await writeChunk(out, bytes.subarray(i, i + CHUNK));
  } catch (e) {
    // A write after an earlier failure reports "destroyed": report the failure itself (EPIPE) instead.
    const first = (out as Writable & { errored?: Error | null }).errored;
    throw named(first ?? e, path);
  }
}

/** Standard output, with backpressure; rejects with EPIPE when the reader went away (see main.ts). */
export function writeStdout(bytes: Uint8Array): Promise<void> {
  return writeAll(process.stdout, bytes);
}

/** Standard error. A failure to write it (closed pipe, full disk) is ignored: there is nowhere left to report it. */
export function writeStderr(s: string): void {
  quiet(process.stderr);
  try {
    process.stderr.write(s);
  } catch {
    /* nowhere to report it */
  }
}

const quieted = new WeakSet<Writable>();

/** Gives a stream one 'error' listener that does nothing, so a failed write is not an uncaught exception. */
function quiet(s: Writable): void {
  if (quieted.has(s)) return;
  quieted.add(s);
  s.on('error', () => {});
}

/**
 * Asks for a secret on the terminal (stdin a TTY) without echo, as gpgsm and openssl do: the question on stderr,
 * the answer read in raw mode until Enter (Backspace erases, Ctrl-D ends, Ctrl-C interrupts the command as it
 * would without the prompt). The terminal's mode is restored in every case.
 */
export function promptHidden(question: string): Promise<string> {
  const input = process.stdin;
  return new Promise((resolve) => {
    // No echo before the question shows: a user (or a script) who types as soon as it appears must not see the
    // answer echoed by a terminal still in cooked mode.
    input.setRawMode(true);
    writeStderr(question);
    const decoder = new TextDecoder();
    let answer: string[] = [];
    const finish = (): void => {
      input.removeListener('data', onData);
      input.setRawMode(false);
      input.pause();
      writeStderr('\n');
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of decoder.decode(chunk, { stream: true })) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          resolve(answer.join(''));
          return;
        }
        if (ch === '\u0003') {
          finish();
          process.kill(process.pid, 'SIGINT');
          return;
        }
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else if (ch === '\u0015') answer = []; // Ctrl-U: erase the line
        else answer.push(ch);
      }
    };
    input.on('data', onData);
    input.resume();
  });
}
