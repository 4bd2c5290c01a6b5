/**
 * A `Crypto` over the platform's that counts the work done through it, so tests can prove that work is bounded (or
 * the same in two cases) without timing anything: calls by `subtle` method, the bytes given to `decrypt`, the
 * PBKDF2 iterations asked of `deriveBits`, and, with `rawRsa`, the RSA private-key operations (through Node's raw
 * RSA accelerator, which counts and computes). An injected Crypto gets no other accelerator
 * (src/crypto/provider.ts), so every content decryption is a `decrypt` call seen here.
 */
import { ACCELERATORS } from '../../src/crypto/provider.js';
import { nodeAccelerators } from '../../src/crypto/node.js';

export interface CryptoCounts {
  /** Calls by `subtle` method name ('verify', 'decrypt', 'importKey', 'deriveBits'…). */
  calls: Record<string, number>;
  /** `decrypt` calls (content decryptions). */
  decrypt: number;
  /** Bytes given to `decrypt`. */
  bytes: number;
  /** `deriveBits` calls (key agreements and PBKDF2). */
  deriveBits: number;
  /** PBKDF2 iterations asked of `deriveBits`. */
  pbkdf2Iterations: number;
  /** RSA private-key operations (with `rawRsa`). */
  rsa: number;
}

export interface CountingOptions {
  /** `subtle.verify` rejects from this many calls on (a runaway loop then ends, and fails its count, quickly). */
  failVerifyAfter?: number;
  /** Fill `getRandomValues` output with this byte instead of random bytes. */
  fill?: number;
  /** Count RSA private-key operations through Node's raw RSA accelerator. */
  rawRsa?: boolean;
}

/** The counting Crypto and its live counts. */
export function countingCrypto(options: CountingOptions = {}): { crypto: Crypto; counts: CryptoCounts } {
  const g = globalThis.crypto;
  const counts: CryptoCounts = { calls: {}, decrypt: 0, bytes: 0, deriveBits: 0, pbkdf2Iterations: 0, rsa: 0 };
  const subtle = new Proxy(g.subtle, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const name = String(prop);
        const n = (counts.calls[name] = (counts.calls[name] ?? 0) + 1);
        if (name === 'verify' && options.failVerifyAfter !== undefined && n > options.failVerifyAfter)
          return Promise.reject(new Error('counting crypto: too many signature checks'));
        if (name === 'decrypt') {
          counts.decrypt++;
          counts.bytes += (args[2] as BufferSource).byteLength;
        }
        if (name === 'deriveBits') {
          counts.deriveBits++;
          const alg = args[0] as { name?: string; iterations?: number };
          if (alg.name === 'PBKDF2') counts.pbkdf2Iterations += alg.iterations ?? 0;
        }
        return Reflect.apply(v as (...a: unknown[]) => unknown, target, args);
      };
    },
  });
  const rawRsa = nodeAccelerators.rawRsa!;
  const crypto = {
    subtle,
    getRandomValues: <T extends ArrayBufferView | null>(a: T): T => {
      if (options.fill === undefined) return g.getRandomValues(a as never) as T;
      new Uint8Array(a!.buffer, a!.byteOffset, a!.byteLength).fill(options.fill);
      return a;
    },
    randomUUID: () => g.randomUUID(),
    ...(options.rawRsa
      ? {
          [ACCELERATORS]: {
            rawRsa: {
              privateRaw(der: Uint8Array, input: Uint8Array) {
                counts.rsa++;
                return rawRsa.privateRaw(der, input);
              },
            },
          },
        }
      : {}),
  } as unknown as Crypto;
  return { crypto, counts };
}
