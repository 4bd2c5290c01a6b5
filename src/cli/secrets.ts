/**
 * The secrets the `smime` command takes (the kinds are a table in options.ts: the PKCS#12 password, the token's
 * PIN), in the forms gpgsm and openssl accept, with the secret's own prefix: `--password-file FILE`,
 * `--password-env NAME`, `--password-fd N` (and `--pin-file`, `--pin-env`, `--pin-fd`), and an interactive prompt
 * without echo when stdin is a terminal and none was given. `--password PASS` (visible to other users in the
 * process list) and the kind's variable (`SMIME_PASSWORD`, `SMIME_PIN`) are still read. A file or descriptor gives
 * its first line, without the line end.
 */
import { readFileSync, readSync } from 'node:fs';
import type { Args, SecretKind } from './options.js';
import { UsageError } from './options.js';
import { concat } from './stdio.js';

/** Where the CLI asks for a secret: a terminal prompt without echo (bin.ts sets it only when stdin is a TTY). */
export type Prompt = (question: string) => Promise<string>;

/** The first line of some bytes, without its line end. */
function firstLine(b: Uint8Array): string {
  const s = new TextDecoder().decode(b);
  const nl = s.search(/\r?\n/);
  return nl < 0 ? s : s.slice(0, nl);
}

/**
 * All the bytes of an open file descriptor (a pipe, a file, a here-document), read synchronously: a secret is a
 * line, and a descriptor that is not the caller's must not be left half-read. Node 22 and later keep an internal
 * non-blocking pipe on a low descriptor (7): reading it through a stream consumed its wake-up bytes and made the
 * process abort; a synchronous read gets EAGAIN at once and touches nothing. Errors carry the descriptor as `path`.
 */
export async function readFd(fd: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(buf.slice(0, n));
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err && typeof err === 'object') err.path = `file descriptor ${fd}`;
    throw err;
  }
  return concat(chunks);
}

/**
 * Which option gives the secret of `kind` (`password-file`, …), or undefined when none does; more than one is a
 * usage error. Reads nothing: the options are checked before any file is.
 */
export function secretForm(a: Args, kind: SecretKind): string | undefined {
  const name = kind.name;
  const all = [...(kind.onCommandLine ? [name] : []), `${name}-file`, `${name}-env`, `${name}-fd`];
  const forms = all.filter((f) => a.single.has(f));
  if (forms.length > 1) throw new UsageError(`give the ${kind.noun} one way only, not ${forms.map((f) => `--${f}`).join(' and ')}`, a.command);
  return forms[0];
}

/**
 * The secret of `kind` the command line gives (for the password: `--password`, `--password-file`,
 * `--password-env`, `--password-fd`), or undefined when none is given. More than one form is a usage error. The
 * kind's environment variable (SMIME_PASSWORD, SMIME_PIN) is read only when no option gives one.
 */
export async function secretFromArgs(
  a: Args,
  kind: SecretKind,
  env: Record<string, string | undefined>,
  fdReader: (fd: number) => Promise<Uint8Array> = readFd,
): Promise<string | undefined> {
  const name = kind.name;
  const form = secretForm(a, kind);
  if (form === undefined) return env[kind.env];
  const v = a.single.get(form) as string;
  if (form === name) return v;
  if (form === `${name}-file`) return firstLine(readFileSync(v));
  if (form === `${name}-env`) {
    const s = env[v];
    if (s === undefined) throw new UsageError(`--${form} ${v}: the environment variable ${v} is not set`, a.command);
    return s;
  }
  if (!/^\d+$/.test(v)) throw new UsageError(`--${form} takes a file descriptor number, e.g. 3 (with 3<file)`, a.command);
  return firstLine(await fdReader(Number(v)));
}
