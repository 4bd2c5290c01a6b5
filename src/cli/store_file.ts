/**
 * `--store FILE`: the CLI's certificate store kept in one file (the format of `store.export`, encrypted and
 * authenticated under the store password). Commands read it with `CertificateStore.import`; those that learn
 * (import, verify and open harvesting signatures, encrypt --ldap) write it back:
 *
 * - under a lock file `FILE.lock`, created with O_EXCL and holding the writer's pid, taken BEFORE the store is read,
 *   so two writers never lose each other's additions (read, change, write is one critical section). A second
 *   writer waits (polling) up to `lockWaitMs`, then fails with a clear error (exit 6). A lock whose pid is no longer
 *   running (a writer killed) is removed and taken;
 * - atomically: a temporary file in the same directory (mode 0600), fsync, rename over FILE, fsync of the
 *   directory; a reader sees the old file or the new one, never half of one.
 */
import { closeSync, constants, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { writeFileAtomically } from './atomic_write.js';

/** How long a writer waits for another's lock by default, in ms. */
export const LOCK_WAIT_MS = 10_000;

/** The lock is held by another process for longer than the wait: exit 6 with this message. */
export class StoreLocked extends Error {
  constructor(
    readonly lockPath: string,
    holder: string,
  ) {
    super(`${lockPath}: the store is locked by another smime${holder ? ` (pid ${holder})` : ''}; try again, or remove the lock file if no smime is running`);
  }
}

/** Whether process `pid` runs (EPERM: it runs, as another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A held lock: `release()` removes the lock file (once). */
export interface StoreLock {
  release(): void;
}

/**
 * Takes `path`.lock (O_CREAT|O_EXCL, the pid written in it), waiting up to `waitMs` while another process holds
 * it. A lock file whose pid does not run any more is stale: removed, then taken. Throws StoreLocked after the wait,
 * or the I/O error (with its path) when the directory cannot be written.
 */
export async function lockStore(path: string, waitMs = LOCK_WAIT_MS): Promise<StoreLock> {
  const lockPath = `${path}.lock`;
  const deadline = Date.now() + waitMs;
  let holder = '';
  for (;;) {
    try {
      const fd = openSync(lockPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      let held = true;
      return {
        release() {
          if (!held) return;
          held = false;
          try {
            unlinkSync(lockPath);
          } catch {
            /* already gone */
          }
        },
      };
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code !== 'EEXIST') {
        err.path = lockPath;
        throw err;
      }
    }
    try {
      holder = readFileSync(lockPath, 'utf8').trim();
    } catch {
      holder = ''; // released meanwhile: try again at once
      continue;
    }
    // A pid that no longer runs left its lock behind (killed): take it over. A lock being written (empty) is young.
    if (/^\d+$/.test(holder) && Number(holder) !== process.pid && !alive(Number(holder))) {
      try {
        unlinkSync(lockPath);
      } catch {
        /* another waiter removed it first */
      }
      continue;
    }
    if (Date.now() >= deadline) throw new StoreLocked(lockPath, holder);
    await new Promise((r) => setTimeout(r, 25 + Math.floor(Math.random() * 50)));
  }
}

/**
 * Writes the store file atomically (src/cli/atomic_write.ts), mode 0600: the store holds keys, encrypted. On failure
 * `path` is as it was; the error carries `path`.
 */
export function writeStoreFile(path: string, data: Uint8Array): void {
  writeFileAtomically(path, data, 0o600);
}

/** The store file's bytes, or undefined when it does not exist (any other error is thrown with its path). */
export function readStoreFile(path: string): Uint8Array | undefined {
  try {
    const b = readFileSync(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return undefined;
    throw err;
  }
}
