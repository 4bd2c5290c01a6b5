/**
 * Atomic file writes for the CLI: nothing half-written is ever seen under the final name, whatever fails.
 */
import { closeSync, constants, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `data` to `path` atomically: a temporary file beside it (created with `mode`, less the umask), renamed over
 * `path`. With `durable`, also fsync before the rename and of the directory after it, so the new file survives a
 * crash (the `--store` file always; `--out` files with `--fsync`). On failure the temporary file is removed and `path`
 * is as it was; the error carries `path`.
 */
export function writeFileAtomically(path: string, data: Uint8Array, mode = 0o666, durable = true): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  try {
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, mode);
    try {
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off, data.length - off);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* nothing to remove */
    }
    const err = e as NodeJS.ErrnoException;
    if (err && typeof err === 'object') err.path = path;
    throw err;
  }
  // The rename itself made durable (best effort: some file systems refuse to fsync a directory).
  if (!durable) return;
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
