/**
 * Content-Type and Content-Disposition values (RFC 2045 §5.1, RFC 2183): the lowercased main value and the
 * parameters, quoted strings unquoted, comments dropped, and RFC 2231 parameter continuations and charsets
 * (`name*0*=utf-8''a%20b`) decoded. Lenient, as a mail reader must be; never throws on a string.
 */
import { decodeText } from './entity.js';

/** A parsed Content-Type or Content-Disposition value. */
export interface ParsedHeaderValue {
  /** The lowercased main value: `application/pkcs7-mime`, `attachment`. Empty when the value is empty. */
  type: string;
  /** Parameters: lowercased names, unquoted (and RFC 2231-decoded) values. The first of duplicates wins. */
  params: Record<string, string>;
}

/** Skips an RFC 822 comment starting at s[i] === '(' (nested, with quoted-pairs). Returns the index after it. */
function skipComment(s: string, i: number): number {
  let depth = 0;
  for (; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  return s.length;
}

interface Rfc2231Segment {
  index: number;
  extended: boolean;
  value: string;
}

/**
 * Parses `type/subtype; a=b; c="d"` (or `attachment; filename=...`). Lenient: a parameter without `=` is skipped,
 * an unterminated quoted string runs to the end, comments are dropped. RFC 2231 (`name*=utf-8''a%20b`,
 * `name*0=`, `name*1*=`) is decoded and takes precedence over a plain `name=`.
 */
export function parseContentType(value: string): ParsedHeaderValue {
  if (typeof value !== 'string') throw new TypeError('parseContentType: expected a string');
  const s = value;
  let i = 0;
  let type = '';
  while (i < s.length && s[i] !== ';') {
    if (s[i] === '(') {
      i = skipComment(s, i);
      continue;
    }
    type += s[i];
    i++;
  }
  type = type.trim().toLowerCase().replace(/\s+/g, '');

  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  const ext = new Map<string, Rfc2231Segment[]>();
  while (i < s.length) {
    // at ';' or whitespace
    while (i < s.length && (s[i] === ';' || s[i] === ' ' || s[i] === '\t' || s[i] === '\r' || s[i] === '\n')) i++;
    if (i >= s.length) break;
    if (s[i] === '(') {
      i = skipComment(s, i);
      continue;
    }
    let nameStart = i;
    while (i < s.length && s[i] !== '=' && s[i] !== ';') i++;
    let name = s.slice(nameStart, i).trim().toLowerCase();
    if (i >= s.length || s[i] === ';') continue; // no '=': not a parameter
    i++; // '='
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
    let v = '';
    if (s[i] === '"') {
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length) i++;
        v += s[i];
        i++;
      }
      i++; // closing quote
      while (i < s.length && s[i] !== ';') i++; // junk after the quoted string
    } else {
      nameStart = i;
      while (i < s.length && s[i] !== ';') {
        if (s[i] === '(') break;
        i++;
      }
      v = s.slice(nameStart, i).trim();
      if (s[i] === '(') {
        i = skipComment(s, i);
        while (i < s.length && s[i] !== ';') i++;
      }
    }
    if (name === '' || name === '__proto__') continue;
    const star = /^(.+?)\*(?:(\d{1,3})(\*)?)?$/.exec(name);
    if (star) {
      const base = star[1]!;
      const seg: Rfc2231Segment =
        star[2] === undefined ? { index: 0, extended: true, value: v } : { index: Number(star[2]), extended: star[3] === '*', value: v };
      let list = ext.get(base);
      if (!list) ext.set(base, (list = []));
      if (list.length < 1000 && !list.some((x) => x.index === seg.index)) list.push(seg);
      continue;
    }
    name = name.replace(/\s+/g, '');
    if (!(name in params)) params[name] = v;
  }
  for (const [base, segs] of ext) {
    if (base === '__proto__') continue;
    const decoded = decodeRfc2231(segs);
    if (decoded !== undefined) params[base] = decoded;
  }
  return { type, params: { ...params } };
}

/** Same syntax as Content-Type: `{ type: 'attachment', params: { filename: 'smime.p7m' } }`. */
export function parseContentDisposition(value: string): ParsedHeaderValue {
  return parseContentType(value);
}

/** The value of an RFC 2231 parameter from its segments: in index order up to the first gap, percent-decoded, in its charset. */
function decodeRfc2231(segs: Rfc2231Segment[]): string | undefined {
  segs.sort((a, b) => a.index - b.index);
  if (segs[0]!.index !== 0) return undefined;
  let charset = 'us-ascii';
  const bytes: number[] = [];
  for (let k = 0; k < segs.length; k++) {
    const seg = segs[k]!;
    if (seg.index !== k) break; // a gap: stop at it
    let v = seg.value;
    if (k === 0 && seg.extended) {
      const m = /^([^']*)'[^']*'(.*)$/.exec(v);
      if (m) {
        charset = m[1]! || 'us-ascii';
        v = m[2]!;
      }
    }
    for (let j = 0; j < v.length; j++) {
      const c = v.charCodeAt(j);
      if (seg.extended && c === 37 /* % */ && /^[0-9a-fA-F]{2}$/.test(v.slice(j + 1, j + 3))) {
        bytes.push(parseInt(v.slice(j + 1, j + 3), 16));
        j += 2;
      } else if (c < 0x80) {
        bytes.push(c);
      } else {
        // Non-ASCII text that was already decoded from the header: keep it as UTF-8.
        for (const b of new TextEncoder().encode(v[j]!)) bytes.push(b);
      }
    }
  }
  const b = new Uint8Array(bytes);
  const cs = charset.toLowerCase();
  try {
    if (cs === 'us-ascii' || cs === 'ascii') return decodeText(b);
    return new TextDecoder(cs, { fatal: true }).decode(b);
  } catch {
    return decodeText(b);
  }
}
