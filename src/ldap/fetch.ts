/**
 * `ldapFetch`: a reader of RFC 4516 `ldap://` URLs for online revocation and chain completion (the store's
 * `fetchLdap`): the CRLs of an `ldap:` CRL distribution point (`certificateRevocationList;binary`,
 * `authorityRevocationList;binary`) and the certificates of an `ldap:` AIA caIssuers (`cACertificate;binary`).
 * One connection per read (anonymous, or a simple bind), closed after it; the answers are cached by the store, so a
 * directory is asked once per CRL lifetime. The bounds are the caller's: the signal (the request timeout and the
 * call's deadline) ends the read, and the values together are at most `maxBytes` (the store then says
 * `crl-too-large`); the server is asked for at most `maxEntries` entries within the time left. ldapts reads a search
 * response whole before it answers, so the byte bound is applied to the values it gives: a hostile directory can
 * make it read more than `maxBytes`, but only until the timeout ends the read.
 */
import type { ConnectionOptions } from 'node:tls';
import { checkInteger } from '../lib/args.js';
import { parseLdapUrl } from './url.js';

/**
 * Reads an RFC 4516 `ldap://` (or `ldaps://`) URL: the values of the attributes it names (or, when it names none,
 * of `init.attributes`), as bytes. The same type as the store's `LdapFetchLike`.
 */
export type LdapFetch = (url: string, init: { signal: AbortSignal; maxBytes: number; attributes?: readonly string[] }) => Promise<Uint8Array[]>;

/** The options of `ldapFetch`. */
export interface LdapFetchOptions {
  /** The server of a URL that names none (`ldap:///cn=CA,o=Example?…`), as `ldap://host[:port]`; without it such a URL fails. */
  defaultServer?: string;
  /** A simple bind before the search (default: anonymous, as directories publish CRLs). */
  bindDN?: string;
  /** The password of the bind (never in an error message). */
  password?: string;
  /** TLS options for ldaps:// URLs. */
  tls?: ConnectionOptions;
  /** The longest a read may take whatever the caller's signal says, in milliseconds (default 10 000). */
  timeoutMs?: number;
  /** At most this many entries per search (default 4; a CRL distribution point names one entry). */
  maxEntries?: number;
}

/** The part of ldapts's Client a read uses. */
export interface LdapReadClient {
  bind(dn: string, password?: string): Promise<void>;
  search(base: string, options: Record<string, unknown>): Promise<{ searchEntries: Record<string, unknown>[] }>;
  unbind(): Promise<void>;
}

/** A Client class of ldapts. */
export type LdapReadClientClass = new (options: Record<string, unknown>) => LdapReadClient;

const baseName = (a: string): string => a.split(';')[0]!.toLowerCase();

/** The bytes of an attribute value ldapts gives (a Buffer for the attributes asked as such). */
function bytesOf(v: unknown): Uint8Array | undefined {
  return v instanceof Uint8Array ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice() : undefined;
}

/** `ldapFetch` on a loader of ldapts's Client (index.ts gives the lazy import). */
export function makeLdapFetch(options: LdapFetchOptions, load: () => Promise<LdapReadClientClass>): LdapFetch {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxEntries = options.maxEntries ?? 4;
  if (options.defaultServer !== undefined && !/^ldaps?:\/\/[^/\s]+\/?$/i.test(options.defaultServer)) throw new TypeError('ldapFetch: defaultServer must be ldap://HOST[:PORT] or ldaps://HOST[:PORT]');
  checkInteger('ldapFetch: timeoutMs', timeoutMs, 1, true);
  checkInteger('ldapFetch: maxEntries', maxEntries, 1, true);

  return async (url, init) => {
    const { signal, maxBytes } = init;
    signal.throwIfAborted();
    const u = parseLdapUrl(url);
    const server = u.server ?? options.defaultServer?.replace(/\/$/, '');
    if (server === undefined) throw new TypeError('LDAP URL names no server (and ldapFetch has no defaultServer)');
    const attributes = u.attributes.length > 0 ? u.attributes : [...(init.attributes ?? [])];
    if (attributes.length === 0) throw new TypeError('LDAP URL names no attribute');
    const wanted = new Set(attributes.map(baseName));
    // Values of these come back as Buffers (ldapts matches the attribute type as the server spells it).
    const buffers = [...new Set(attributes.flatMap((a) => [a, a.toLowerCase(), a.split(';')[0]!, baseName(a), `${a.split(';')[0]!};binary`, `${baseName(a)};binary`]))];
    const C = await load();
    signal.throwIfAborted();
    const client = new C({ url: server, timeout: timeoutMs, connectTimeout: timeoutMs, tlsOptions: options.tls, strictDN: false });
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason ?? new Error('LDAP read aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`LDAP read timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    const work = (async () => {
      if (options.bindDN !== undefined) await client.bind(options.bindDN, options.password ?? '');
      const { searchEntries } = await client.search(u.dn, {
        scope: u.scope,
        filter: u.filter,
        attributes,
        sizeLimit: maxEntries,
        timeLimit: Math.max(1, Math.ceil(timeoutMs / 1000)),
        explicitBufferAttributes: buffers,
      });
      const out: Uint8Array[] = [];
      let total = 0;
      for (const entry of searchEntries.slice(0, maxEntries)) {
        for (const [name, value] of Object.entries(entry)) {
          if (!wanted.has(baseName(name))) continue;
          for (const v of Array.isArray(value) ? value : [value]) {
            const b = bytesOf(v);
            if (!b || b.length === 0) continue;
            out.push(b);
            total += b.length;
            // Past the bound nothing more is kept: the caller sees the sum above maxBytes and refuses the answer.
            if (total > maxBytes) return out;
          }
        }
      }
      return out;
    })();
    try {
      return await Promise.race([work, aborted, timedOut]);
    } catch (e) {
      work.catch(() => undefined);
      throw e;
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
      aborted.catch(() => undefined);
      timedOut.catch(() => undefined);
      void client.unbind().catch(() => undefined);
    }
  };
}
