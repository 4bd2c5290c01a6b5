/**
 * `smime encrypt --ldap URL --ldap-base DN [--ldap-bind DN --ldap-password-file F]`: recipients without a usable
 * certificate are looked up in an LDAP directory through smime-core/ldap's `ldapResolver`. Like --pkcs11
 * (token.ts), smime-core/ldap is imported only when --ldap is given (a chunk of its own in the bundled CLI), and it
 * loads ldapts (an optional peer dependency) only at the first lookup.
 *
 * Decision: a missing ldapts, an unreachable directory, a refused bind or a timeout is a failed LOOKUP, not a key
 * or token failure: the addresses are refused with reason 'lookup-failed', exit 3 (missing certificate), and the
 * message says why (for a missing ldapts: "npm install ldapts"), as the library reports it
 * (`MissingRecipientCertificatesError.cause`).
 */
import type { CertificateResolver, LdapFetchLike } from '../index.node.js';
import { LDAP_PASSWORD, UsageError, type Args } from './options.js';
import { secretForm } from './secrets.js';

/** The directory the command line asks for. */
export interface LdapRequest {
  url: string;
  baseDN: string;
  bindDN?: string;
}

/** A resolver that closes its connection (smime-core/ldap `LdapCertificateResolver`). */
export type ClosableResolver = CertificateResolver & { close(): Promise<void> };

/** What the CLI uses of smime-core/ldap. */
export interface LdapApi {
  ldapResolver(options: { url: string; baseDN: string; bindDN?: string; password?: string }): ClosableResolver;
  /** The reader of ldap:// URLs for --online (absent in an older entry, or a test's stand-in). */
  ldapFetch?(): LdapFetchLike;
}

const LDAP_OPTIONS = ['ldap-base', 'ldap-bind', 'ldap-password-file', 'ldap-password-env', 'ldap-password-fd'] as const;

/**
 * The directory the options ask for, or undefined without --ldap; checked before anything is read. Usage errors:
 * an --ldap-* option without --ldap, --ldap without --ldap-base, a URL that is not ldap:// or ldaps://, a password
 * without --ldap-bind, two password forms.
 */
export function ldapRequest(a: Args): LdapRequest | undefined {
  const url = a.single.get('ldap');
  if (url === undefined) {
    const stray = LDAP_OPTIONS.find((o) => a.single.has(o));
    if (stray !== undefined) throw new UsageError(`--${stray} needs --ldap URL`, a.command);
    return undefined;
  }
  if (typeof url !== 'string' || !/^ldaps?:\/\/[^/\s]+\/?$/i.test(url)) throw new UsageError('--ldap takes ldap://HOST[:PORT] or ldaps://HOST[:PORT]', a.command);
  const baseDN = a.single.get('ldap-base');
  if (typeof baseDN !== 'string' || baseDN === '') throw new UsageError('--ldap needs --ldap-base DN (where to search)', a.command);
  const bindDN = a.single.get('ldap-bind');
  const form = secretForm(a, LDAP_PASSWORD);
  if (form !== undefined && bindDN === undefined) throw new UsageError(`--${form} needs --ldap-bind DN`, a.command);
  return { url, baseDN, ...(typeof bindDN === 'string' ? { bindDN } : {}) };
}

/** smime-core/ldap, imported only now. */
async function importLdap(): Promise<LdapApi> {
  const mod = await import('../ldap/index.js');
  const api: LdapApi = mod;
  return api;
}

/** The resolver for `req` (`load` replaces the import in tests); its lookups fail as the module documents. */
export async function ldapResolverFor(req: LdapRequest, password: string | undefined, load: () => Promise<LdapApi> = importLdap): Promise<ClosableResolver> {
  const api = await load();
  return api.ldapResolver({ url: req.url, baseDN: req.baseDN, ...(req.bindDN !== undefined ? { bindDN: req.bindDN, password: password ?? '' } : {}) });
}

/**
 * The reader of `ldap://` CRL distribution points and caIssuers for --online: smime-core/ldap's `ldapFetch`, when
 * that entry loads (it loads ldapts only at the first read; without ldapts such a read fails, and the status says
 * `crl-unreachable`). Undefined when the entry does not load: ldap URLs are then skipped (`crl-ldap-not-fetched`).
 */
export async function onlineLdapFetch(load: () => Promise<LdapApi> = importLdap): Promise<LdapFetchLike | undefined> {
  try {
    return (await load()).ldapFetch?.();
  } catch {
    return undefined;
  }
}

/** Closes the resolver's connection; a failure to close changes nothing for the command's result. */
export async function closeResolver(r: ClosableResolver | undefined): Promise<void> {
  if (!r) return;
  try {
    await r.close();
  } catch {
    /* the connection is gone either way */
  }
}
