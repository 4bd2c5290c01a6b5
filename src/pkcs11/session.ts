/**
 * One logged-in PKCS#11 session: the module it belongs to, the token's mechanisms, and the queue every call on it
 * goes through. After `close()` every call fails with `TokenUnavailable`.
 */
import { Buffer } from 'node:buffer';
import { SmimeError, TokenUnavailable } from '../errors.js';
import type { LoadedModule, P11Api, P11Handle } from './binding.js';
import { mapPkcs11Error } from './ckr.js';
import { SerialQueue } from './queue.js';

/** A session on one token's slot, shared by the token and its keys. */
export class TokenSession {
  /** The mechanisms the token offers (C_GetMechanismList). */
  readonly mechanisms: ReadonlySet<number>;
  private readonly queue = new SerialQueue();
  private open = true;

  /** Wraps an open (and, with a PIN, logged-in) session. */
  constructor(
    /** The module the session runs on. */
    readonly module: LoadedModule,
    /** The slot ID. */
    readonly slot: number,
    private readonly handle: P11Handle,
    mechanisms: readonly number[],
    /** Whether the session logged in (and so should log out). */
    readonly loggedIn: boolean,
  ) {
    this.mechanisms = new Set(mechanisms);
  }

  /** Whether `close()` has not run yet. */
  get isOpen(): boolean {
    return this.open;
  }

  /** `bytes` as the Buffer the binding wants (no copy). */
  buffer(bytes: Uint8Array): Uint8Array {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * Runs `fn` on the session after the calls queued before it; a binding failure becomes the typed error for
   * `operation` (a key operation's refusal is `KeyOperationRefused`). Closed → TokenUnavailable.
   */
  run<T>(operation: string, keyOperation: boolean, fn: (api: P11Api, session: P11Handle) => T | Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      if (!this.open) throw new TokenUnavailable(`PKCS#11 ${operation}: the token was closed`);
      try {
        return await fn(this.module.api, this.handle);
      } catch (e) {
        if (e instanceof SmimeError) throw e;
        throw mapPkcs11Error(e, operation, keyOperation);
      }
    });
  }

  /** Logs out (when this is the slot's last open token) and closes the session; runs after the queued calls. */
  close(lastOnSlot: boolean): Promise<void> {
    return this.queue.run(() => {
      if (!this.open) return;
      this.open = false;
      const { api } = this.module;
      if (this.loggedIn && lastOnSlot) {
        try {
          api.C_Logout(this.handle);
        } catch {
          // already logged out, or the token is gone: closing goes on
        }
      }
      try {
        api.C_CloseSession(this.handle);
      } catch {
        // idem
      }
    });
  }
}
