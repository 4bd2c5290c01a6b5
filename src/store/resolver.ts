/**
 * Directory lookup for the store: a `CertificateResolver` (an organisation's directory, GAL/LDAP, EAS
 * ResolveRecipients…) is asked, once per selection, for the certificates of every address the store has no usable
 * encryption certificate for. What it returns is checked within the store's limits and added to the store as
 * contacts; then the store selects again by its usual rules. Results are cached per resolver: found until the
 * certificates' notAfter or the TTL, whichever comes first; not found for a shorter TTL; failures are not cached.
 * Concurrent selections that need the same address share one lookup.
 */
import { CertificateInvalid, SmimeError } from '../errors.js';
import { LruMap } from '../lib/lru.js';
import { checkInputSize, type PemOrDer } from '../certs/load.js';
import { certInfo, type CertInfo } from '../certs/cert_info.js';
import type { Limits } from '../lib/limits.js';

/**
 * Looks up encryption certificates in a directory: given the addresses (trimmed, in lower case) and a signal that
 * fires at the store's `resolverTimeoutMs` (or when the caller aborts), answers, per address it found, the
 * certificates (PEM, bundles too, or DER; intermediates may come along). An address left out, or given an empty
 * list, was not found. Answers for addresses that were not asked are ignored. A rejection makes every asked address
 * `lookup-failed`, with the error on `MissingRecipientCertificatesError.cause`.
 *
 * @example
 * ```ts
 * const resolver: CertificateResolver = async (addresses, signal) => {
 *   const res = await fetch('https://directory.example.com/certs?' + new URLSearchParams(addresses.map((a) => ['mail', a])), { signal });
 *   return (await res.json()) as Record<string, string[]>; // { 'bob@example.com': ['-----BEGIN CERTIFICATE-----…'] }
 * };
 * const store = new CertificateStore({ resolver, resolverTimeoutMs: 5000 });
 * ```
 */
export type CertificateResolver = (addresses: string[], signal: AbortSignal) => Promise<Record<string, PemOrDer[]>>;

/** How the store caches what a `CertificateResolver` answered (per resolver, per address). */
export interface ResolverCacheOptions {
  /** How long certificates found are kept (never past their notAfter), in ms. Default 3 600 000 (1 hour). */
  ttlMs?: number;
  /** How long "not found" is kept, in ms. Default 300 000 (5 minutes). 0 turns the negative cache off. */
  negativeTtlMs?: number;
  /** Addresses kept per resolver (least recently used dropped first). Default 10 000. */
  maxEntries?: number;
}

/** The defaults of `ResolverCacheOptions` and of `resolverTimeoutMs`. */
export const RESOLVER_DEFAULTS = Object.freeze({ timeoutMs: 10_000, ttlMs: 3_600_000, negativeTtlMs: 300_000, maxEntries: 10_000 });

/** What one address's lookup came to: certificates (DER), not found, or failed (with the error). */
export type LookupOutcome = { kind: 'found'; ders: Uint8Array[] } | { kind: 'none' } | { kind: 'failed'; error: unknown };

interface CacheEntry {
  outcome: Exclude<LookupOutcome, { kind: 'failed' }>;
  until: number;
}

/** One resolver's cache and its lookups under way. */
interface ResolverState {
  cache: LruMap<string, CacheEntry>;
  inflight: Map<string, Promise<LookupOutcome>>;
}

/** What `DirectoryLookup` needs from its store. */
export interface DirectoryHooks {
  /** The store's clock (drives the cache). */
  now(): Date;
  /** The store's limits. */
  limits(): Limits;
  /** Reads certificates from one input (PEM, DER; as `addCertificate` does), within `maxPemCertificates`. */
  load(input: PemOrDer, limits: Limits): Uint8Array[];
  /** Adds a certificate to the store as a contact (or an intermediate). */
  add(info: CertInfo): void;
}

/** The store's directory settings, checked. */
export interface DirectorySettings {
  resolver?: CertificateResolver;
  timeoutMs: number;
  ttlMs: number;
  negativeTtlMs: number;
  maxEntries: number;
}

/** The store's side of directory lookup: caches per resolver, shared lookups, and adding what was found. */
export class DirectoryLookup {
  readonly #hooks: DirectoryHooks;
  readonly #settings: DirectorySettings;
  readonly #states = new WeakMap<CertificateResolver, ResolverState>();

  constructor(hooks: DirectoryHooks, settings: DirectorySettings) {
    this.#hooks = hooks;
    this.#settings = settings;
  }

  /** The store's resolver, if any. */
  get resolver(): CertificateResolver | undefined {
    return this.#settings.resolver;
  }

  #state(resolver: CertificateResolver): ResolverState {
    let s = this.#states.get(resolver);
    if (!s) {
      s = { cache: new LruMap(this.#settings.maxEntries), inflight: new Map() };
      this.#states.set(resolver, s);
    }
    return s;
  }

  /**
   * Looks `addresses` (trimmed, lower case, distinct) up with `resolver`: from the cache, from a lookup under way,
   * and the rest in ONE call of the resolver. Certificates found are added to the store. Returns each address's
   * outcome.
   */
  async lookup(resolver: CertificateResolver, addresses: readonly string[], signal?: AbortSignal): Promise<Map<string, LookupOutcome>> {
    const state = this.#state(resolver);
    const now = this.#hooks.now().getTime();
    const out = new Map<string, LookupOutcome>();
    const waiting: [string, Promise<LookupOutcome>][] = [];
    const ask: string[] = [];
    for (const a of addresses) {
      const hit = state.cache.get(a);
      if (hit && hit.until > now) out.set(a, hit.outcome);
      else {
        if (hit) state.cache.delete(a);
        const running = state.inflight.get(a);
        if (running) waiting.push([a, running]);
        else ask.push(a);
      }
    }
    if (ask.length > 0) {
      const call = this.#call(resolver, ask, signal);
      for (const a of ask) {
        const p = call.then((m) => m.get(a)!);
        state.inflight.set(a, p);
        waiting.push([a, p]);
      }
      call
        .finally(() => {
          for (const a of ask) state.inflight.delete(a);
        })
        .catch(() => {});
    }
    // A lookup another call started keeps its own signal; this caller's signal still stops this caller's wait.
    let stop: Promise<LookupOutcome> | undefined;
    let onAbort: (() => void) | undefined;
    if (signal && waiting.length > ask.length) {
      stop = new Promise((resolve) => {
        onAbort = () => resolve({ kind: 'failed', error: signal.reason });
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      });
    }
    try {
      for (const [a, p] of waiting) out.set(a, await (stop && !ask.includes(a) ? Promise.race([p, stop]) : p));
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
    // Certificates found (now or earlier, by this call or another) go into the store; adding is idempotent.
    for (const o of out.values()) if (o.kind === 'found') for (const der of o.ders) this.#hooks.add(certInfo(der));
    return out;
  }

  /** One call of the resolver for `ask`, with the timeout; never rejects. Caches what it learnt. */
  async #call(resolver: CertificateResolver, ask: string[], signal?: AbortSignal): Promise<Map<string, LookupOutcome>> {
    const controller = new AbortController();
    const ms = this.#settings.timeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      const fire = (reason: unknown) => {
        if (!controller.signal.aborted) controller.abort(reason);
        reject(reason);
      };
      if (signal?.aborted) fire(signal.reason);
      else {
        onAbort = () => fire(signal!.reason);
        signal?.addEventListener('abort', onAbort, { once: true });
        timer = setTimeout(() => fire(new DOMException(`the directory lookup timed out after ${ms} ms`, 'TimeoutError')), ms);
      }
    });
    aborted.catch(() => {});
    let answer: unknown;
    try {
      // A resolver that ignores its signal must not hold the encryption: the timeout wins the race.
      answer = await Promise.race([Promise.resolve().then(() => resolver([...ask], controller.signal)), aborted]);
    } catch (error) {
      return new Map(ask.map((a) => [a, { kind: 'failed', error }]));
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
    if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
      const error = new CertificateInvalid('resolver: the answer is not a record of address to certificates');
      return new Map(ask.map((a) => [a, { kind: 'failed', error }]));
    }
    const record = answer as Record<string, unknown>;
    const state = this.#state(resolver);
    const now = this.#hooks.now().getTime();
    const result = new Map<string, LookupOutcome>();
    for (const a of ask) {
      let o: LookupOutcome;
      try {
        o = this.#read(a, Object.prototype.hasOwnProperty.call(record, a) ? record[a] : undefined);
      } catch (e) {
        // A hostile answer (a throwing getter or proxy): this address's failure, typed.
        o = { kind: 'failed', error: new CertificateInvalid(`resolver: unreadable answer for ${a}`, { cause: e }) };
      }
      result.set(a, o);
      if (o.kind === 'none') {
        if (this.#settings.negativeTtlMs > 0) state.cache.set(a, { outcome: o, until: now + this.#settings.negativeTtlMs });
      } else if (o.kind === 'found') {
        // Until the last certificate for the address expires, at most the TTL; an answer of expired certificates
        // only is kept as long as a negative one.
        const notAfter = Math.max(...o.ders.map((d) => certInfo(d)).filter((c) => !c.isCA && c.emails.includes(a)).map((c) => c.notAfter.getTime()));
        let until = Math.min(now + this.#settings.ttlMs, notAfter);
        if (until <= now) until = now + this.#settings.negativeTtlMs;
        if (until > now) state.cache.set(a, { outcome: o, until });
      }
    }
    return result;
  }

  /**
   * One address's answer, checked within the limits: a list of inputs, at most `maxPemCertificates` certificates
   * in all, each input at most `maxInputBytes`. Certificates for other addresses are dropped (CA certificates are
   * kept as intermediates). An answer with nothing readable for the address is 'failed'; an empty one is 'none'.
   */
  #read(address: string, value: unknown): LookupOutcome {
    if (value === undefined || value === null) return { kind: 'none' };
    if (!Array.isArray(value)) return { kind: 'failed', error: new CertificateInvalid(`resolver: the answer for ${address} is not a list of certificates`) };
    if (value.length === 0) return { kind: 'none' };
    const limits = this.#hooks.limits();
    const ders: Uint8Array[] = [];
    let leaves = 0;
    let error: unknown;
    for (const input of value as unknown[]) {
      try {
        if (typeof input !== 'string' && !(input instanceof Uint8Array) && !(input instanceof ArrayBuffer)) {
          throw new CertificateInvalid('resolver: a certificate must be PEM text, DER bytes or an ArrayBuffer');
        }
        checkInputSize(input, limits.maxInputBytes, 'resolver');
        const got = this.#hooks.load(input, limits);
        if (ders.length + got.length > limits.maxPemCertificates) {
          throw new CertificateInvalid(`resolver: more than maxPemCertificates (${limits.maxPemCertificates}) certificates for ${address}`);
        }
        for (const der of got) {
          const info = certInfo(der);
          if (info.isCA) ders.push(der);
          else if (info.emails.includes(address)) {
            ders.push(der);
            leaves++;
          }
        }
      } catch (e) {
        // Whatever the input did (a hostile resolver), it is this address's failure, typed.
        error ??= e instanceof SmimeError ? e : new CertificateInvalid(`resolver: unreadable certificate for ${address}`, { cause: e });
      }
    }
    if (leaves > 0) return { kind: 'found', ders };
    return error !== undefined ? { kind: 'failed', error } : { kind: 'none' };
  }
}
