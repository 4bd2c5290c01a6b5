/**
 * One PKCS#11 session runs one operation at a time (C_SignInit … C_Sign must not interleave with another
 * C_DecryptInit on the same session): every call on a session goes through its queue.
 */

/** Runs the functions given to `run` one after another, in order; a failure does not stop the ones after it. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `fn` after every function queued before it has settled; resolves or rejects as `fn` does. */
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
