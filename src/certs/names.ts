/**
 * Distinguished name comparison by RFC 5280 §7.1, for chaining a certificate to its issuer and a CRL to its CA.
 *
 * Byte equality is too strict: a CA may re-encode its name in the certificates it issues (PrintableString in its own
 * certificate, UTF8String after a rollover; other capitalisation or spacing), and the names still match (NIST PKITS
 * §4.3). The rule here is the simplification RFC 5280 allows of LDAP string preparation (RFC 4518): the same RDNs in
 * the same order, each with the same attribute types and values (AVA order inside a multi-valued RDN does not
 * matter); a string value (PrintableString, UTF8String, TeletexString, BMPString, UniversalString, IA5String) is
 * decoded to Unicode and prepared: the RFC 4518 §2.2 map (soft hyphens, joiners, variation selectors and control
 * characters to nothing; tabs, line breaks and every other separator to SPACE), lower case (`toLowerCase`, an
 * approximation of the RFC's case folding: no full folding such as ß → ss), NFKC, and insignificant spaces removed
 * (leading and trailing dropped, internal runs made one). The §2.4 prohibited characters are not refused (they
 * are only compared). Every other value, and a
 * string that does not decode (bad UTF-8, odd BMPString length, a PrintableString byte above 0x7F), matches only
 * the same encoding byte for byte. TeletexString is read as Latin-1, as most implementations do.
 *
 * `nameKey` gives each name one string so that two names match exactly when their keys are equal: maps keyed by it
 * (the chain builder's index by subject, its loop detection) follow the same rule as `namesMatch`. `rdnKeys` gives
 * the same per RDN (for the directoryName prefix rule of name constraints), and `formatName` renders a Name as
 * RFC 4514 text for messages. A malformed name never matches anything but its own bytes; nothing here throws on input.
 */
import { children, decodeOid, readTlv, TAG, UNIVERSAL, type Tlv } from '../lib/der.js';
import { equal, latin1 } from '../lib/bytes.js';

/** The string types a DirectoryString (and IA5String attributes such as emailAddress) may use. */
const TELETEX = 20;
const UNIVERSAL_STRING = 28;
const BMP = 30;
const STRING_TAGS = new Set<number>([TAG.UTF8String, TAG.PrintableString, TELETEX, TAG.IA5String, UNIVERSAL_STRING, BMP]);

const utf8 = new TextDecoder('utf-8', { fatal: true });
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether two DER Names match by RFC 5280 §7.1 (see the header). Malformed input matches only the same bytes. */
export function namesMatch(a: Uint8Array, b: Uint8Array): boolean {
  return equal(a, b) || nameKey(a) === nameKey(b);
}

/**
 * A string that is the same for two Names exactly when `namesMatch` says they match: the prepared RDNs of a
 * well-formed Name, or (prefixed by a NUL, which no prepared key starts with) the bytes of a malformed one.
 */
export function nameKey(der: Uint8Array): string {
  let key = keys.get(der);
  if (key === undefined) {
    try {
      key = prepared(der);
    } catch {
      key = `\u0000${latin1(der)}`;
    }
    keys.set(der, key);
  }
  return key;
}

/**
 * Keys already worked out, by the array that holds the Name: a certificate's issuer and subject are arrays of its
 * parsed copy, never written after parsing, that path building compares again on every call (the chain caches
 * in chain.ts rest on the same fact). Weak: they go with the certificate.
 */
const keys = new WeakMap<Uint8Array, string>();

function prepared(der: Uint8Array): string {
  return JSON.stringify(preparedRdns(der));
}

/**
 * The RDNs of a well-formed Name, in order, each as one string: two RDNs match by RFC 5280 §7.1 exactly when their
 * strings are equal (the same attribute types with the same prepared values, in any AVA order). Undefined for a
 * malformed Name. Name constraints (RFC 5280 §4.2.1.10) compare these: a directoryName subtree holds every Name
 * whose first RDNs match the base's.
 */
export function rdnKeys(der: Uint8Array): string[] | undefined {
  try {
    return preparedRdns(der).map((avas) => JSON.stringify(avas));
  } catch {
    return undefined;
  }
}

/** Each RDN as the sorted list of its AVAs' `type=valueKey` strings; throws on a malformed Name. */
function preparedRdns(der: Uint8Array): string[][] {
  const rdns: string[][] = [];
  for (const avas of rdnTlvs(der)) {
    rdns.push(avas.map(([type, value]) => `${decodeOid(der, type)}=${valueKey(der, value)}`).sort());
  }
  return rdns;
}

/** The (type, value) elements of each RDN of a Name, in order; throws on a malformed Name. */
function rdnTlvs(der: Uint8Array): [Tlv, Tlv][][] {
  const top = readTlv(der, 0);
  if (top.end !== der.length || !isUniversal(top, TAG.SEQUENCE, true)) throw new Error('not a Name');
  const rdns: [Tlv, Tlv][][] = [];
  for (const rdn of children(der, top)) {
    if (!isUniversal(rdn, TAG.SET, true)) throw new Error('not an RDN');
    const avas: [Tlv, Tlv][] = [];
    for (const ava of children(der, rdn)) {
      if (!isUniversal(ava, TAG.SEQUENCE, true)) throw new Error('not an AttributeTypeAndValue');
      const [type, value, extra] = children(der, ava);
      if (!type || !value || extra || !isUniversal(type, TAG.OID, false)) throw new Error('not an AttributeTypeAndValue');
      avas.push([type, value]);
    }
    if (avas.length === 0) throw new Error('empty RDN');
    rdns.push(avas);
  }
  return rdns;
}

/** Short names of the usual attribute types (RFC 4514 §3 and common practice), for `formatName`. */
const SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '2.5.4.43': 'initials',
  '2.5.4.44': 'generationQualifier',
  '2.5.4.46': 'dnQualifier',
  '2.5.4.65': 'pseudonym',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/**
 * A Name as readable text for messages, in the RFC 4514 form (last RDN first, `CN=…,O=…,C=…`, multi-valued RDNs
 * joined by `+`, a value that is no string as `#` and its DER in hex). Special characters are escaped as RFC 4514
 * says, and every control or non-ASCII character as `\XX` of its UTF-8 bytes, so the text is safe to log; longer
 * than `maxLength` it is cut and ends in `…`. An empty Name is the empty string; a malformed one `(malformed name)`.
 */
export function formatName(der: Uint8Array, maxLength = 256): string {
  let rdns: [Tlv, Tlv][][];
  try {
    rdns = rdnTlvs(der);
  } catch {
    return '(malformed name)';
  }
  const parts: string[] = [];
  for (let i = rdns.length - 1; i >= 0; i--) {
    const avas = rdns[i]!.map(([type, value]) => {
      let oidText: string;
      try {
        oidText = decodeOid(der, type);
      } catch {
        oidText = '?';
      }
      return `${SHORT_NAMES[oidText] ?? oidText}=${valueText(der, value)}`;
    });
    parts.push(avas.join('+'));
  }
  const s = parts.join(',');
  return s.length > maxLength ? `${s.slice(0, maxLength)}…` : s;
}

/** An attribute value as RFC 4514 text: the escaped string, or `#` and the hex of its DER. */
function valueText(der: Uint8Array, v: Tlv): string {
  const text = v.cls === UNIVERSAL && !v.constructed && STRING_TAGS.has(v.tagNo) ? decode(v.tagNo, der.subarray(v.contentStart, v.contentEnd)) : undefined;
  if (text === undefined) {
    let hex = '#';
    for (const b of der.subarray(v.start, v.end)) hex += b.toString(16).padStart(2, '0');
    return hex;
  }
  let out = '';
  const chars = [...text];
  chars.forEach((c, i) => {
    const cp = c.codePointAt(0)!;
    if (cp < 0x20 || cp >= 0x7f) {
      for (const b of new TextEncoder().encode(c)) out += `\\${b.toString(16).toUpperCase().padStart(2, '0')}`;
    } else if ('"+,;<>\\'.includes(c) || (i === 0 && (c === '#' || c === ' ')) || (i === chars.length - 1 && c === ' ')) {
      out += `\\${c}`;
    } else out += c;
  });
  return out;
}

function isUniversal(t: Tlv, tagNo: number, constructed: boolean): boolean {
  return t.cls === UNIVERSAL && t.tagNo === tagNo && t.constructed === constructed;
}

/** "s" and the prepared text of a string value; "x" and the hex of the whole element otherwise. */
function valueKey(der: Uint8Array, v: Tlv): string {
  const text = v.cls === UNIVERSAL && !v.constructed && STRING_TAGS.has(v.tagNo) ? decode(v.tagNo, der.subarray(v.contentStart, v.contentEnd)) : undefined;
  if (text !== undefined) return `s${prepare(text)}`;
  let hex = 'x';
  for (const b of der.subarray(v.start, v.end)) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/** The Unicode text of a string value, or undefined when its bytes are not valid for its type. */
function decode(tagNo: number, b: Uint8Array): string | undefined {
  switch (tagNo) {
    case TAG.UTF8String:
      try {
        return utf8.decode(b);
      } catch {
        return undefined;
      }
    case TAG.PrintableString:
    case TAG.IA5String:
      return b.every((x) => x < 0x80) ? latin1(b) : undefined;
    case TELETEX:
      return latin1(b);
    case BMP: {
      if (b.length % 2 !== 0) return undefined;
      let s = '';
      for (let i = 0; i < b.length; i += 2) s += String.fromCharCode((b[i]! << 8) | b[i + 1]!);
      return LONE_SURROGATE.test(s) ? undefined : s;
    }
    case UNIVERSAL_STRING: {
      if (b.length % 4 !== 0) return undefined;
      let s = '';
      for (let i = 0; i < b.length; i += 4) {
        const cp = ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
        s += String.fromCodePoint(cp);
      }
      return s;
    }
    default:
      return undefined;
  }
}

/** RFC 4518 §2.2: code points mapped to nothing (soft hyphens, joiners, variation selectors, controls, format). */
const MAP_TO_NOTHING =
  /[\u0000-\u0008\u000E-\u001F\u007F-\u0084\u0086-\u009F\u00AD\u034F\u06DD\u070F\u1806\u180B-\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2063\u206A-\u206F\uFE00-\uFE0F\uFEFF\uFFF9-\uFFFC\u{1D173}-\u{1D17A}\u{E0001}\u{E0020}-\u{E007F}]/gu;
/** RFC 4518 §2.2: code points mapped to SPACE (tabs, line breaks, NEL, and every space, line or paragraph separator). */
const MAP_TO_SPACE = /[\u0009-\u000D\u0085\p{Z}]/gu;

/** Map, lower case, NFKC (lower case again: NFKC can make capitals, ℌ → H), insignificant spaces removed. */
function prepare(s: string): string {
  const t = s.replace(MAP_TO_NOTHING, '').replace(MAP_TO_SPACE, ' ').toLowerCase().normalize('NFKC').toLowerCase();
  return t.replace(/ +/g, ' ').replace(/^ | $/g, '');
}
