/**
 * RFC 4516 LDAP URLs, as certificates name them in CRL distribution points and AIA caIssuers
 * (`ldap://ldap.example.com/cn=Example%20CA,o=Example?certificateRevocationList;binary`):
 * `scheme://[host[:port]]/[dn[?[attributes][?[scope][?[filter][?extensions]]]]]`, each part percent-decoded.
 */

/** One LDAP URL, read. */
export interface LdapUrl {
  /** `ldap://host:port` or `ldaps://host:port` (the server part only); undefined when the URL names no host. */
  server?: string;
  /** The entry (or search base), percent-decoded. */
  dn: string;
  /** The attributes named (empty: none named). */
  attributes: string[];
  /** The search scope (default `base`). */
  scope: 'base' | 'one' | 'sub';
  /** The search filter (default `(objectClass=*)`). */
  filter: string;
}

const SCOPES = new Set(['base', 'one', 'sub']);

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new TypeError(`LDAP URL: bad percent-encoding in the ${what}`);
  }
}

/**
 * Reads an RFC 4516 URL. TypeError when it is not one, or when it has a critical extension (`!name`), which RFC 4516
 * §2 says must then not be processed; other extensions (a `bindname`) are ignored.
 */
export function parseLdapUrl(url: string): LdapUrl {
  const m = /^(ldaps?):\/\/([^/?#]*)(?:\/([^?#]*)(?:\?([^?#]*)(?:\?([^?#]*)(?:\?([^?#]*)(?:\?([^?#]*))?)?)?)?)?$/i.exec(url);
  if (!m) throw new TypeError('not an RFC 4516 ldap:// URL');
  const [, scheme, host = '', dn = '', attrs = '', scope = '', filter = '', exts = ''] = m;
  for (const ext of exts.split(',').filter((e) => e !== '')) {
    if (ext.startsWith('!')) throw new TypeError(`LDAP URL: unsupported critical extension ${decode(ext.slice(1).split('=')[0]!, 'extensions')}`);
  }
  const sc = scope === '' ? 'base' : scope.toLowerCase();
  if (!SCOPES.has(sc)) throw new TypeError(`LDAP URL: unknown scope ${JSON.stringify(scope)}`);
  const hostPart = decode(host, 'host');
  if (/[\s/@]/.test(hostPart)) throw new TypeError('LDAP URL: bad host');
  return {
    ...(hostPart !== '' ? { server: `${scheme!.toLowerCase()}://${hostPart}` } : {}),
    dn: decode(dn, 'DN'),
    attributes: attrs === '' ? [] : attrs.split(',').map((a) => decode(a, 'attributes')).filter((a) => a !== ''),
    scope: sc as LdapUrl['scope'],
    filter: filter === '' ? '(objectClass=*)' : decode(filter, 'filter'),
  };
}
