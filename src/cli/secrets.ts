/**
 * The secrets the `smime` command takes (today one: the PKCS#12 password), in the four forms gpgsm and openssl
 * accept, with the secret's own prefix: `--password-file FILE`, `--password-env NAME`, `--password-fd N`, and an
 * interactive prompt without echo when stdin is a terminal and none was given. `--password PASS` (visible to other
 * users in the process list) and the `SMIME_PASSWORD` variable are still read. A file or descriptor gives its first
 * line, without the line end.
 */
import { createReadStream, readFileSync } from 'node:fs';
import type { Args } from './options.js';
import { UsageError } from './options.js';
import { readAll } from './stdio.js';

/** Where the CLI asks for a secret: a terminal prompt without echo (bin.ts sets it only when stdin is a TTY). */
export type Prompt = (question: string) => Promise<string>;

/** The first line of some bytes, without its line end. */
function firstLine(b: Uint8Array): string {
  const s = new TextDecoder().decode(b);
  const nl = s.search(/\r?\n/);
  return nl < 0 ? s : s.slice(0, nl);
}

/** All the bytes of an open file descriptor (a pipe, a file, a here-document), read as a stream. */
export async function readFd(fd: number): Promise<Uint8Array> {
  const s = createReadStream('', { fd, autoClose: false });
  try {
    return await readAll(s);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err && typeof err === 'object') err.path = `file descriptor ${fd}`;
    throw err;
  } finally {
    s.destroy();
  }
}

/**
 * The secret the command line gives with prefix `name` (`password` → `--password`, `--password-file`,
 * `--password-env`, `--password-fd`), or undefined when none is given. More than one form is a usage error.
 * `envDefault` (SMIME_PASSWORD) is read only when no option gives one.
 */
export async function secretFromArgs(
  a: Args,
  name: string,
  env: Record<string, string | undefined>,
  envDefault: string | undefined,
  fdReader: (fd: number) => Promise<Uint8Array> = readFd,
): Promise<string | undefined> {
  const forms = [name, `${name}-file`, `${name}-env`, `${name}-fd`].filter((f) => a.single.has(f));
  if (forms.length > 1) throw new UsageError(`give the ${name} one way only, not ${forms.map((f) => `--${f}`).join(' and ')}`, a.command);
  const form = forms[0];
  if (form === undefined) return envDefault !== undefined ? env[envDefault] : undefined;
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
