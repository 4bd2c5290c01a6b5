/**
 * smime-core/ldap (Node only): a certificate resolver that looks recipients' certificates up in an LDAP directory
 * (OpenLDAP, Active Directory, …), for `new CertificateStore({ resolver })` or `encryptMessage(…, { resolver })`.
 *
 * It is built on ldapts (an optional peer dependency: `npm install ldapts@8`). ldapts 8.x, because 9.x needs Node 22
 * and smime-core supports Node 20. ldapts is loaded with a dynamic `import()` (lib/optional_peer.ts) on the resolver's
 * first lookup, so neither `import 'smime-core'` nor `import 'smime-core/ldap'` loads it; without it, a lookup rejects
 * with `TokenUnavailable` (`ERR_TOKEN_UNAVAILABLE`, as a missing pkcs11js) whose message says "npm install ldapts@8"
 * (the store reports the addresses as 'lookup-failed' and keeps the error on `MissingRecipientCertificatesError.cause`).
 *
 * It also gives online revocation its reader of `ldap://` URLs, `ldapFetch` (the store's `fetchLdap`): CRL
 * distribution points and AIA caIssuers that name a directory entry (RFC 4516, RFC 4523 attributes).
 */
import type { ConnectionOptions } from 'node:tls';
import type { PemOrDer } from '../certs/load.js';
import { certInfo } from '../certs/cert_info.js';
import { TokenUnavailable } from '../errors.js';
import { addressFilter } from './filter.js';
import { optionalPeer } from '../lib/optional_peer.js';
import { certificatesFromCertsOnly } from '../cms/certs_only.js';
import { makeLdapFetch, type LdapFetch, type LdapFetchOptions } from './fetch.js';

export { escapeFilterValue, addressFilter } from './filter.js';
export type { LdapFetch, LdapFetchOptions } from './fetch.js';
export { parseLdapUrl, type LdapUrl } from './url.js';

/**
 * A directory lookup as the certificate store consults it: the addresses without a usable certificate in, the
 * certificates found for each (PEM or DER) out. (The same type as the store's `CertificateResolver`.)
 */
export type CertificateResolver = (addresses: string[], signal: AbortSignal) => Promise<Record<string, PemOrDer[]>>;

/** The resolver `ldapResolver` returns: a `CertificateResolver` that also closes its connection. */
export type LdapCertificateResolver = CertificateResolver & {
  /** Unbinds and closes the connection (a later lookup opens a new one). */
  close(): Promise<void>;
};

/** The options of `ldapResolver`. */
export interface LdapResolverOptions {
  /** `ldap://host[:port]` or `ldaps://host[:port]`. */
  url: string;
  /** Where to search (the whole subtree). */
  baseDN: string;
  /** The DN of a simple bind; absent: anonymous. */
  bindDN?: string;
  /** The password of the simple bind (never in an error message). */
  password?: string;
  /**
   * The filter for one address, `{address}` standing for it (escaped per RFC 4515); the addresses of one lookup are
   * OR'ed in one search. Default `'(mail={address})'`. For Active Directory's proxy addresses:
   * `'(|(mail={address})(proxyAddresses=smtp:{address}))'` (AD matches `smtp:` case-insensitively).
   */
  filter?: string;
  /**
   * The attributes that hold certificates. Default `['userCertificate;binary', 'userSMIMECertificate',
   * 'userCertificate']`; `userSMIMECertificate` (RFC 2798) holds a PKCS#7 certs-only SignedData, the others one
   * DER certificate per value.
   */
  attributes?: string[];
  /**
   * The attributes whose values are the entry's addresses, by which entries are matched back to the asked addresses
   * (case-insensitively, an `smtp:` prefix dropped), besides the addresses in the certificates themselves.
   * Default `['mail', 'proxyAddresses']`.
   */
  mailAttributes?: string[];
  /** TLS options for ldaps:// (CA, client certificate, servername, …). */
  tls?: ConnectionOptions;
  /** Connect and operation timeout in milliseconds, and the search's time limit (rounded up to seconds). Default 10 000. */
  timeoutMs?: number;
  /** At most this many entries per search (the server's size limit). Default 100. */
  maxResults?: number;
  /** Certificate values longer than this are ignored. Default 64 KiB. */
  maxValueBytes?: number;
  /** At most this many certificates per address. Default 32. */
  maxCertificatesPerAddress?: number;
}

/** The part of ldapts's Client this module uses. */
interface LdapClient {
  bind(dn: string, password?: string): Promise<void>;
  search(base: string, options: Record<string, unknown>): Promise<{ searchEntries: Record<string, unknown>[] }>;
  unbind(): Promise<void>;
  readonly isConnected: boolean;
}
type ClientClass = new (options: Record<string, unknown>) => LdapClient;

/** ldapts, loaded once at the first lookup or read; not installed → TokenUnavailable saying how to install it. */
const loadLdapts = optionalPeer<ClientClass>({
  name: 'ldapts',
  neededBy: 'smime-core/ldap',
  label: 'ldapts 8.x',
  install: 'npm install ldapts@8',
  pick: (mod) => {
    const m = mod as { Client?: ClientClass; default?: { Client?: ClientClass } };
    return m.Client ?? m.default?.Client;
  },
});

/**
 * A reader of RFC 4516 `ldap://` URLs for online revocation (`new CertificateStore({ fetch, fetchLdap: ldapFetch() })`,
 * or per call): the CRLs of `ldap:` CRL distribution points and the CA certificates of `ldap:` AIA caIssuers, read
 * with ldapts (loaded on the first read; without it a read fails, and the status says `crl-unreachable`). One
 * connection per read, anonymous unless `bindDN` is given; the store bounds it as it bounds an HTTP fetch (request
 * timeout, call deadline, request count, `maxResponseBytes`) and caches what it reads until the CRL's nextUpdate.
 * Like `fetch`, it connects to whatever server a certificate names: route or restrict it as you would your fetch.
 *
 * @example
 * ```ts
 * import { CertificateStore } from 'smime-core';
 * import { ldapFetch } from 'smime-core/ldap';
 *
 * const store = new CertificateStore({ fetch: globalThis.fetch, fetchLdap: ldapFetch(), revocation: 'hard-fail' });
 * ```
 */
export function ldapFetch(options: LdapFetchOptions = {}): LdapFetch {
  return makeLdapFetch(options, loadLdapts);
}

function lower(s: string): string {
  return s.toLowerCase();
}

function baseName(attr: string): string {
  return lower(attr.split(';')[0]!);
}

function valuesOf(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
}

function bytesOf(v: unknown): Uint8Array | undefined {
  return v instanceof Uint8Array ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : undefined;
}

function stringOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  const b = bytesOf(v);
  return b && b.length <= 1024 ? new TextDecoder('utf-8', { fatal: false }).decode(b) : undefined;
}

/**
 * A `CertificateResolver` that searches an LDAP directory: one search per lookup (the asked addresses OR'ed), for
 * the certificate attributes, each entry matched back to the asked addresses by its mail attributes and by the
 * addresses in its certificates. One connection (and bind) is reused across lookups and reopened after a failure;
 * `close()` ends it. A lookup rejects (the store then reports 'lookup-failed') when the directory cannot be reached,
 * the bind is refused, the search fails, `timeoutMs` passes, or the store's signal aborts it.
 *
 * @example
 * ```ts
 * import { CertificateStore, encryptMessage } from 'smime-core';
 * import { ldapResolver } from 'smime-core/ldap';
 *
 * const resolver = ldapResolver({ url: 'ldaps://ldap.example.com', baseDN: 'ou=people,dc=example,dc=com' });
 * const store = new CertificateStore({ resolver });
 * store.addTrustAnchor(rootPem);
 * const mime = await encryptMessage(message, { store, to: ['bob@example.com'] });
 * await resolver.close();
 * // Active Directory: proxyAddresses too, with a bind
 * ldapResolver({
 *   url: 'ldaps://dc1.corp.example.com', baseDN: 'dc=corp,dc=example,dc=com',
 *   bindDN: 'CN=smime,OU=Service,DC=corp,DC=example,DC=com', password,
 *   filter: '(|(mail={address})(proxyAddresses=smtp:{address}))',
 * });
 * ```
 */
export function ldapResolver(options: LdapResolverOptions): LdapCertificateResolver {
  if (!/^ldaps?:\/\//i.test(options.url)) throw new TypeError('ldapResolver: url must start with ldap:// or ldaps://');
  const template = options.filter ?? '(mail={address})';
  if (!template.includes('{address}')) throw new TypeError('ldapResolver: filter must contain {address}');
  const attributes = options.attributes ?? ['userCertificate;binary', 'userSMIMECertificate', 'userCertificate'];
  const mailAttributes = options.mailAttributes ?? ['mail', 'proxyAddresses'];
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxResults = options.maxResults ?? 100;
  const maxValueBytes = options.maxValueBytes ?? 65_536;
  const maxPerAddress = options.maxCertificatesPerAddress ?? 32;
  const certBases = new Set(attributes.map(baseName));
  const mailBases = new Set(mailAttributes.map(baseName));
  // Values of these come back as Buffers (ldapts matches the attribute type as the server spells it).
  const bufferAttrs = [...new Set(attributes.flatMap((a) => [a, lower(a), a.split(';')[0]!, lower(a.split(';')[0]!), `${a.split(';')[0]!};binary`]))];

  let client: LdapClient | undefined;
  let connecting: Promise<LdapClient> | undefined;
  // Bumped when a lookup gives up, so that a connection still being opened for it is not kept.
  let generation = 0;

  const drop = async (c: LdapClient | undefined) => {
    if (c === undefined) return;
    if (client === c) client = undefined;
    await c.unbind().catch(() => undefined);
  };

  const connect = async (): Promise<LdapClient> => {
    if (client?.isConnected) return client;
    if (client) await drop(client);
    if (connecting) return connecting;
    const gen = ++generation;
    const attempt: Promise<LdapClient> = (async () => {
      const C = await loadLdapts();
      const c = new C({ url: options.url, timeout: timeoutMs, connectTimeout: timeoutMs, tlsOptions: options.tls, strictDN: false });
      try {
        if (options.bindDN !== undefined) await c.bind(options.bindDN, options.password ?? '');
      } catch (e) {
        await c.unbind().catch(() => undefined);
        throw e;
      }
      if (gen !== generation) {
        // Given up on (a timeout or an abort) while connecting: not kept.
        await c.unbind().catch(() => undefined);
        throw new Error('LDAP connection abandoned');
      }
      client = c;
      return c;
    })().finally(() => {
      if (connecting === attempt) connecting = undefined;
    });
    connecting = attempt;
    return attempt;
  };

  const lookup = async (addresses: string[]): Promise<Record<string, PemOrDer[]>> => {
    const byKey = new Map<string, string>();
    for (const a of addresses) if (typeof a === 'string' && a.length > 0 && a.length <= 320 && !byKey.has(lower(a))) byKey.set(lower(a), a);
    const out: Record<string, Uint8Array[]> = {};
    if (byKey.size === 0) return out;
    const c = await connect();
    const filter = addressFilter(template, [...byKey.values()]);
    let entries: Record<string, unknown>[];
    try {
      ({ searchEntries: entries } = await c.search(options.baseDN, {
        scope: 'sub',
        filter,
        attributes: [...attributes, ...mailAttributes],
        sizeLimit: maxResults,
        timeLimit: Math.max(1, Math.ceil(timeoutMs / 1000)),
        explicitBufferAttributes: bufferAttrs,
      }));
    } catch (e) {
      await drop(c);
      throw e;
    }
    const seen = new Map<string, Set<string>>();
    for (const entry of entries.slice(0, maxResults)) {
      const entryAddresses = new Set<string>();
      const certs: Uint8Array[] = [];
      for (const [name, value] of Object.entries(entry)) {
        const base = baseName(name);
        if (mailBases.has(base)) {
          for (const v of valuesOf(value)) {
            const s = stringOf(v);
            if (s !== undefined) entryAddresses.add(lower(s.trim().replace(/^smtp:/i, '')));
          }
        } else if (certBases.has(base)) {
          for (const v of valuesOf(value)) {
            const b = bytesOf(v);
            if (!b || b.length === 0 || b.length > maxValueBytes) continue;
            if (certs.length >= maxPerAddress) break;
            if (base === 'usersmimecertificate') {
              try {
                certs.push(...certificatesFromCertsOnly(b).slice(0, maxPerAddress - certs.length));
              } catch {
                // A malformed value: skipped (the other values and entries still count).
              }
            } else certs.push(b.slice());
          }
        }
      }
      for (const der of certs) {
        const targets = new Set(entryAddresses);
        try {
          for (const e of certInfo(der).emails) targets.add(lower(e));
        } catch {
          continue; // not a certificate: skipped
        }
        for (const t of targets) {
          const asked = byKey.get(t);
          if (asked === undefined) continue;
          const list = (out[asked] ??= []);
          const keys = seen.get(asked) ?? new Set<string>();
          seen.set(asked, keys);
          const k = Array.from(der, (x) => String.fromCharCode(x)).join('');
          if (keys.has(k) || list.length >= maxPerAddress) continue;
          keys.add(k);
          list.push(der);
        }
      }
    }
    return out;
  };

  const resolver = (async (addresses: string[], signal?: AbortSignal) => {
    signal?.throwIfAborted();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const stop = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`LDAP lookup timed out after ${timeoutMs} ms`)), timeoutMs);
      onAbort = () => reject(signal?.reason ?? new Error('LDAP lookup aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    const work = lookup(addresses);
    try {
      return await Promise.race([work, stop]);
    } catch (e) {
      // A timed-out or aborted lookup leaves the connection in an unknown state: the next one opens a new one.
      work.catch(() => undefined);
      connecting = undefined;
      generation++;
      await drop(client);
      if (signal?.aborted) throw signal.reason;
      // Ours, and the optional-peer loader's (ldapts missing), as they are.
      if (e instanceof TokenUnavailable || (e instanceof Error && e.message.startsWith('LDAP'))) throw e;
      const what = e instanceof Error ? `${e.name}${e.message.trim() ? `: ${e.message.trim()}` : ''}` : String(e);
      throw new Error(`LDAP lookup failed: ${what}`, { cause: e });
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }) as LdapCertificateResolver;
  resolver.close = async () => {
    const c = client ?? (await connecting?.catch(() => undefined));
    await drop(c);
  };
  return resolver;
}
