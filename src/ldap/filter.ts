/**
 * LDAP search filters for smime-core/ldap: RFC 4515 escaping of the asked addresses and the OR filter of one search.
 */

/**
 * Escapes a value for an RFC 4515 filter: `*`, `(`, `)`, `\`, control bytes and every byte outside printable ASCII
 * become `\hh` (of the UTF-8 bytes), so an address can never widen or close the filter it is put in.
 *
 * @example
 * ```ts
 * escapeFilterValue('a*b@example.com'); // 'a\\2ab@example.com'
 * ```
 */
export function escapeFilterValue(value: string): string {
  let out = '';
  for (const b of new TextEncoder().encode(value)) {
    out += b === 0x2a || b === 0x28 || b === 0x29 || b === 0x5c || b < 0x20 || b > 0x7e ? '\\' + b.toString(16).padStart(2, '0') : String.fromCharCode(b);
  }
  return out;
}

/**
 * The filter of one search for several addresses: the template (with `{address}` replaced by each escaped address),
 * joined in an OR when there are several.
 *
 * @example
 * ```ts
 * addressFilter('(mail={address})', ['a@x.org', 'b@x.org']); // '(|(mail=a@x.org)(mail=b@x.org))'
 * ```
 */
export function addressFilter(template: string, addresses: readonly string[]): string {
  const parts = addresses.map((a) => template.split('{address}').join(escapeFilterValue(a)));
  return parts.length === 1 ? parts[0]! : `(|${parts.join('')})`;
}
