/**
 * The network side of online revocation and chain completion (OCSP, CRL distribution points, AIA caIssuers): a
 * `fetch` the caller gives (never a hidden network call), wrapped so that every request has a timeout, the whole
 * verification call has a deadline and a request count, and every response body is read within a byte bound. A
 * failure of any kind is an outcome (`FetchFailure`), never an exception: the caller turns it into a
 * `revocation-unknown` reason as its policy says.
 *
 * The caches that spare the network (OCSP answers and CRLs until their nextUpdate, fetched CA certificates for an
 * hour) are bounded LRU maps owned by whoever builds the context (the `CertificateStore`), shared by its calls.
 */
import { LruMap } from '../lib/lru.js';
import { concat } from '../lib/bytes.js';

/**
 * A `fetch`-compatible function: the platform's `globalThis.fetch` fits, and so does any function that answers the
 * same way (a test's router, a proxy, a cache). Only what smime-core uses is typed.
 */
export type FetchLike = (
  url: string,
  init?: { method?: string; headers?: Record<string, string>; body?: Uint8Array<ArrayBuffer>; signal?: AbortSignal },
) => Promise<FetchResponseLike>;

/**
 * A reader of RFC 4516 `ldap://` URLs, for CRL distribution points and AIA caIssuers that name a directory entry
 * (`ldap://host/cn=CA,o=Example?certificateRevocationList;binary`): it answers the values of the attributes the URL
 * names, or of `attributes` when it names none (the DER of a CRL or a certificate each), and must stop when `signal`
 * aborts. smime-core/ldap's `ldapFetch` is one (on ldapts, Node only); `src/path` never imports it. What it answers
 * is bounded as an HTTP body is: the values together at most `maxBytes` (a larger answer is a failure), within the
 * same request timeout, call deadline and request count.
 */
export type LdapFetchLike = (url: string, init: { signal: AbortSignal; maxBytes: number; attributes?: readonly string[] }) => Promise<Uint8Array[]>;

/** The part of a `Response` smime-core reads. */
export interface FetchResponseLike {
  /** Whether the status is 2xx. */
  ok: boolean;
  /** The HTTP status. */
  status: number;
  /** The body as a stream, read within `maxResponseBytes` (when absent, `arrayBuffer()` is used and checked after). */
  body?: ReadableStream<Uint8Array> | null;
  /** The whole body (when `body` is absent). */
  arrayBuffer(): Promise<ArrayBuffer>;
}

/**
 * The revocation policy when a `fetch` is given:
 * - `'off'`: nothing goes to the network (the OCSP responses a message staples are still read, as its CRLs are);
 * - `'soft-fail'` (the default with a fetch): a status that cannot be established (responder down, timeout, no
 *   answer that verifies) leaves the verdict as it is, with the reason `revocation-unknown: …`;
 * - `'hard-fail'`: such a certificate is `untrusted`, with the same reason.
 * A `revoked` answer is always `revoked`. With the policy on, a certificate that names nowhere to ask (no OCSP
 * responder, no readable CRL distribution point) and has no CRL or stapled answer at hand is unknown
 * (`no-revocation-source`).
 */
export type RevocationPolicy = 'off' | 'soft-fail' | 'hard-fail';

/** The bounds of the network work (all optional; the defaults are in `DEFAULT_ONLINE_LIMITS`). */
export interface OnlineLimits {
  /** Timeout of one request, in milliseconds (default 5000). */
  requestTimeoutMs: number;
  /** Time all the requests of one verification or encryption call may take together, in milliseconds (default 15000). */
  callTimeoutMs: number;
  /** Requests one call may make (default 16). */
  maxRequests: number;
  /** Largest response body read, in bytes (default 4 MiB: a CRL can be large); a larger one is a failure. */
  maxResponseBytes: number;
  /** Entries each cache keeps (OCSP answers, CRLs, CA certificates; default 256 each). */
  cacheEntries: number;
  /** Clock skew tolerated on an OCSP response's thisUpdate and nextUpdate, in seconds (default 300). */
  clockSkewSeconds: number;
  /** How long an OCSP response without nextUpdate stays fresh after its thisUpdate, in seconds (default 3600). */
  maxResponseAgeSeconds: number;
}

/** The defaults of `OnlineLimits`. */
export const DEFAULT_ONLINE_LIMITS: Readonly<OnlineLimits> = Object.freeze({
  requestTimeoutMs: 5000,
  callTimeoutMs: 15000,
  maxRequests: 16,
  maxResponseBytes: 4 * 1024 * 1024,
  cacheEntries: 256,
  clockSkewSeconds: 300,
  maxResponseAgeSeconds: 3600,
});

/** Why a request gave no usable body: the words end up in `revocation-unknown: <what>-<failure>` reasons. */
export type FetchFailure = 'timeout' | 'unreachable' | 'too-large' | `http-${number}` | 'request-limit';

/** A cached value and when it stops being usable (ms since the epoch). */
interface Cached<T> {
  value: T;
  expires: number;
}

/** A bounded cache whose entries expire. */
export class ExpiringCache<T> {
  readonly #map: LruMap<string, Cached<T>>;
  constructor(entries: number) {
    this.#map = new LruMap(entries);
  }
  /** The value for `key` if it has not expired at `now` (ms). */
  get(key: string, now: number): T | undefined {
    const c = this.#map.get(key);
    if (!c) return undefined;
    if (c.expires <= now) {
      this.#map.delete(key);
      return undefined;
    }
    return c.value;
  }
  set(key: string, value: T, expires: number): void {
    this.#map.set(key, { value, expires });
  }
}

/** The caches of one store (or one caller), shared by its calls. */
export class OnlineCaches {
  /** Validated OCSP answers, by certificate (issuer key and serial), until their nextUpdate. */
  readonly ocsp: ExpiringCache<unknown>;
  /** Fetched CRLs (DER; an LDAP entry may hold several), by URL, until their nextUpdate. */
  readonly crls: ExpiringCache<Uint8Array[]>;
  /** Fetched CA certificates (DER), by URL, for an hour. */
  readonly caIssuers: ExpiringCache<Uint8Array[]>;
  constructor(entries: number = DEFAULT_ONLINE_LIMITS.cacheEntries) {
    this.ocsp = new ExpiringCache(entries);
    this.crls = new ExpiringCache(entries);
    this.caIssuers = new ExpiringCache(entries);
  }
}

/** The network budget of one call: its fetch (and LDAP reader), deadline and request count. */
export class Fetcher {
  readonly limits: OnlineLimits;
  readonly #fetch: FetchLike;
  readonly #ldap: LdapFetchLike | undefined;
  readonly #deadline: number;
  #requests = 0;
  constructor(fetch: FetchLike, limits: OnlineLimits, ldap?: LdapFetchLike) {
    this.#fetch = fetch;
    this.#ldap = ldap;
    this.limits = limits;
    this.#deadline = Date.now() + limits.callTimeoutMs;
  }

  /** Whether `ldap://` URLs can be read (an `LdapFetchLike` was given). */
  get readsLdap(): boolean {
    return this.#ldap !== undefined;
  }

  /**
   * Reads an `ldap://` URL through the LDAP reader, within the same bounds as `fetch`: the values, or why there
   * are none. Never throws.
   */
  async fetchLdap(url: string, attributes: readonly string[]): Promise<Uint8Array[] | FetchFailure> {
    const ldap = this.#ldap;
    if (!ldap) return 'unreachable';
    const left = this.#deadline - Date.now();
    if (left <= 0) return 'timeout';
    if (this.#requests >= this.limits.maxRequests) return 'request-limit';
    this.#requests++;
    const ac = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        ac.abort();
        resolve('timeout');
      }, Math.min(this.limits.requestTimeoutMs, left));
    });
    const max = this.limits.maxResponseBytes;
    const work = (async (): Promise<Uint8Array[] | FetchFailure> => {
      const values = await ldap(url, { signal: ac.signal, maxBytes: max, attributes });
      if (!Array.isArray(values)) return 'unreachable';
      let total = 0;
      const out: Uint8Array[] = [];
      for (const v of values.slice(0, 16)) {
        if (!(v instanceof Uint8Array)) continue;
        total += v.length;
        if (total > max) return 'too-large';
        out.push(v);
      }
      return out;
    })().catch((): FetchFailure => (ac.signal.aborted ? 'timeout' : 'unreachable'));
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** GETs (or POSTs `body` with `contentType`) `url`: the body, or why there is none. Never throws. */
  async fetch(url: string, body?: { bytes: Uint8Array; contentType: string }): Promise<Uint8Array | FetchFailure> {
    const left = this.#deadline - Date.now();
    if (left <= 0) return 'timeout';
    if (this.#requests >= this.limits.maxRequests) return 'request-limit';
    this.#requests++;
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, Math.min(this.limits.requestTimeoutMs, left));
    try {
      const init = body
        ? { method: 'POST', headers: { 'content-type': body.contentType }, body: new Uint8Array(body.bytes), signal: ac.signal }
        : { method: 'GET', signal: ac.signal };
      const res = await this.#fetch(url, init);
      if (!res.ok) {
        void res.body?.cancel().catch(() => undefined);
        return `http-${res.status}`;
      }
      return await readBounded(res, this.limits.maxResponseBytes);
    } catch {
      return timedOut ? 'timeout' : 'unreachable';
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Reads a response body, at most `max` bytes. */
async function readBounded(res: FetchResponseLike, max: number): Promise<Uint8Array | FetchFailure> {
  if (res.body && typeof res.body.getReader === 'function') {
    const reader = res.body.getReader();
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > max) {
        await reader.cancel().catch(() => undefined);
        return 'too-large';
      }
      parts.push(value);
    }
    return concat(parts);
  }
  const buf = new Uint8Array(await res.arrayBuffer());
  return buf.length > max ? 'too-large' : buf;
}

/** Whether a fetch outcome is a failure. */
export const isFailure = <T>(r: T | FetchFailure): r is FetchFailure => typeof r === 'string';
