/**
 * Header protection (RFC 9788): the rules, on bytes. Composing moves a message's header fields into the
 * Cryptographic Payload (the entity that is signed or encrypted), marks its Content-Type with `hp="clear"` (signed
 * only) or `hp="cipher"` (encrypted), and, for an encrypted message, lets a Header Confidentiality Policy decide what
 * stays outside, each field left outside recorded inside as an `HP-Outer` field (§2.2). Reading finds the protected
 * header section of a payload (RFC 9788 `hp`, the older `protected-headers="v1"`, or RFC 8551 §3.1's message/rfc822
 * wrapper), the fields the sender exposed, and the outer fields that differ from what the sender wrote.
 *
 * Which operation protects what, and how a received message is reported, is the operations' business (sign.ts,
 * encrypt.ts, open.ts and ops/header_protection.ts).
 *
 * Decisions:
 * - Structural fields (`Content-*`, `MIME-Version`) are never protected copies: the payload has its own.
 * - `hcp_shy` (§3.2.3) here: Subject `[...]`, Keywords and Comments removed (as hcp_baseline), the display names of
 *   From, To, Cc and Reply-To removed, and Date truncated to midnight UTC of its day. Readers need no knowledge of
 *   the policy: HP-Outer says what was outside.
 * - The Legacy Display Element (§2.1.2) goes into the main body part's text (text/plain: header lines and an empty
 *   line before the text; text/html: a `<div class="header-protection-legacy-display">`), whose Content-Type gets
 *   `hp-legacy-display="1"`. A part in base64 is left alone.
 * - Comparing outer fields: values unfolded and runs of whitespace made one space. Fields a relay adds (Received,
 *   Return-Path, DKIM-Signature, ARC-*, Authentication-Results, Delivered-To, X-Original-To) are not mismatches.
 */
import { MIMEInvalid, MIMELimitExceeded } from '../errors.js';
import { fromLatin1, utf8, concat } from '../lib/bytes.js';
import { canonicalize } from './canonical.js';
import { getHeader, parseEntity, resolveMimeLimits, type Header, type MimeLimits } from './entity.js';
import { parseContentType } from './header_params.js';
import { parseAddressList } from './address.js';
import { splitMultipartPrefix, splitMultipartRanges } from './multipart.js';
import { headerSectionEnd } from './stream_head.js';
import { isContentHeader, isMimeVersion, splitForProtection } from './protection.js';

/** One header field, unfolded: its name as written and its value. */
export interface HeaderField {
  /** The name as written (compare case-insensitively). */
  name: string;
  /** The value, unfolded and trimmed (encoded words left as written). */
  value: string;
}

/**
 * A Header Confidentiality Policy (RFC 9788 §3.2): for an encrypted message, what each header field looks like
 * outside. `'baseline'` (hcp_baseline, the default: Subject becomes `[...]`, Keywords and Comments are removed),
 * `'shy'` (hcp_shy: baseline, and display names removed from From/To/Cc/Reply-To, Date truncated to midnight UTC),
 * `'none'` (hcp_no_confidentiality: everything stays outside), or a function of the field's name and value that
 * returns the outer value, or `null` to keep the field inside only.
 */
export type HeaderConfidentiality = 'baseline' | 'shy' | 'none' | ((name: string, value: string) => string | null);

/** The HCP names accepted by the options. */
export const HCP_NAMES: readonly string[] = ['baseline', 'shy', 'none'];

/** Fields a relay adds on the way: not the sender's, so not a mismatch when they appear outside. */
const TRANSIT = /^(received|return-path|delivered-to|x-original-to|dkim-signature|authentication-results|arc-[a-z-]+|x-received)$/i;

/** The user-facing fields a Legacy Display Element repeats when they are hidden or changed outside. */
const USER_FACING = ['subject', 'from', 'to', 'cc', 'date', 'reply-to'];

/** Whether a field is structural (RFC 9788 §1.1: it belongs to the MIME entity, never protected as a copy). */
export function isStructural(name: string): boolean {
  return isContentHeader(name) || isMimeVersion(name);
}

/** hcp_baseline (RFC 9788 §3.2.2). */
function hcpBaseline(name: string, value: string): string | null {
  const n = name.toLowerCase();
  if (n === 'subject') return '[...]';
  if (n === 'keywords' || n === 'comments') return null;
  return value;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** hcp_shy (RFC 9788 §3.2.3, see the file comment). */
function hcpShy(name: string, value: string): string | null {
  const n = name.toLowerCase();
  if (n === 'from' || n === 'to' || n === 'cc' || n === 'reply-to') {
    const list = parseAddressList(value);
    if (list && list.groups === 0 && list.mailboxes.length > 0) return list.mailboxes.map((m) => m.address).join(', ');
    return value;
  }
  if (n === 'date') {
    const t = Date.parse(value);
    if (Number.isNaN(t)) return value;
    const d = new Date(t);
    const dd = String(d.getUTCDate()).padStart(2, '0');
    return `${DAYS[d.getUTCDay()]}, ${dd} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} 00:00:00 +0000`;
  }
  return hcpBaseline(name, value);
}

/** The policy as a function. */
export function hcpFunction(hcp: HeaderConfidentiality | undefined): (name: string, value: string) => string | null {
  if (hcp === undefined || hcp === 'baseline') return hcpBaseline;
  if (hcp === 'shy') return hcpShy;
  if (hcp === 'none') return (_n, v) => v;
  return hcp;
}

/** `Name: value`, folded at spaces so that lines stay near 78 characters; ends with CRLF. Unfolds to `value`. */
export function foldField(name: string, value: string): string {
  if (/[\r\n]/.test(value) || /[\r\n:\s]/.test(name) || name.length === 0) throw new MIMEInvalid(`header field ${JSON.stringify(name)}: a name or value with a line break`);
  let line = `${name}:`;
  let out = '';
  for (const word of value.split(' ')) {
    if (line.length + 1 + word.length > 78 && line.trim().length > 0 && !line.endsWith(':')) {
      out += `${line}\r\n`;
      line = ` ${word}`;
    } else {
      line += ` ${word}`;
    }
  }
  return `${out}${line}\r\n`;
}

/** A parameter `name="value"` appended to a Content-Type header's raw bytes (any earlier `name` parameter removed). */
function withParam(ct: Header | undefined, param: string, value: string): Uint8Array {
  const re = new RegExp(`;\\s*${param}\\s*=\\s*("[^"]*"|[^;\\s]*)`, 'gi');
  if (!ct) return fromLatin1(`Content-Type: text/plain; charset=us-ascii; ${param}="${value}"\r\n`);
  const raw = canonicalize(ct.raw);
  let text = new TextDecoder('latin1').decode(raw).replace(/\r\n$/, '');
  if (re.test(ct.value)) text = `${ct.name}: ${ct.value.replace(re, '')}`;
  return fromLatin1(`${text};\r\n ${param}="${value}"\r\n`);
}

/** An entity's header section rebuilt with its Content-Type given a parameter (other fields as they are). */
function entityWithParam(entity: Uint8Array, param: string, value: string, limits: MimeLimits, body?: Uint8Array): Uint8Array {
  const e = parseEntity(entity, limits);
  const ct = e.headers.find((h) => h.name.toLowerCase() === 'content-type');
  const pieces: Uint8Array[] = [];
  if (!ct) pieces.push(withParam(undefined, param, value));
  for (const h of e.headers) pieces.push(h === ct ? withParam(h, param, value) : canonicalize(h.raw));
  pieces.push(fromLatin1('\r\n'), body ?? e.body);
  return concat(pieces);
}

/**
 * The refusal of a Legacy Display Element on a stream whose place is not within the look-ahead (the first
 * `maxHeaderBytes` of the body): where encryptMessage would put it can't be known without reading further.
 */
function beyondLookAhead(L: MimeLimits, what: string): MIMELimitExceeded {
  return new MIMELimitExceeded(
    `legacyDisplay: ${what} is not within the first maxHeaderBytes (${L.maxHeaderBytes}) bytes of the body, where the Legacy Display Element must be (readers look for it there only; raise maxHeaderBytes)`,
    { limit: 'maxHeaderBytes' },
  );
}

/**
 * Where a Legacy Display Element is recognised (written and read alike, by the buffer functions and the streams): it
 * must end within the first `maxHeaderBytes` bytes of the payload's body, the payload's header section ending at
 * `headEnd`. The element repeats header fields, so a header section's limit bounds it; and a stream holds no more of
 * the body than that to find it (mime/payload_prefix.ts). Returns the length of the payload's bytes to search.
 */
export function legacyDisplayWindow(headEnd: number, maxHeaderBytes: number): number {
  return headEnd + maxHeaderBytes;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/**
 * Adds the Legacy Display Element (RFC 9788 §2.1.2) to the main body part(s) of a canonical entity: every
 * alternative of a multipart/alternative, the first part of any other multipart. Returns undefined when no part
 * could take it (no text/plain or text/html part in 7bit, 8bit or quoted-printable). `open`: `entity` is the first
 * bytes of a longer entity (a stream's look-ahead, cut at a line end), whose rest follows unchanged; where the
 * element's place is not among them (a part's header section, a multipart/alternative's later alternatives, a
 * text/html part's `<body>` tag), `MIMELimitExceeded` (`maxHeaderBytes`).
 */
export function addLegacyDisplay(entity: Uint8Array, lines: readonly string[], limits?: Partial<MimeLimits>, depth = 0, open = false): Uint8Array | undefined {
  const L = resolveMimeLimits(limits);
  if (depth > L.maxDepth) return undefined;
  if (open && headerSectionEnd(entity) < 0) throw beyondLookAhead(L, 'a main body part\'s header section');
  const e = parseEntity(entity, L);
  const ct = parseContentType(getHeader(e, 'content-type') ?? 'text/plain');
  if (ct.type.startsWith('multipart/')) {
    if (ct.type === 'multipart/signed' || !ct.params.boundary) return undefined;
    const r = open ? splitMultipartPrefix(e.body, ct.params.boundary, L) : { ...splitMultipartRanges(e.body, ct.params.boundary, L), open: false };
    if (!r) throw beyondLookAhead(L, 'the first part of a multipart');
    const all = ct.type === 'multipart/alternative';
    const pieces: Uint8Array[] = [e.raw.subarray(0, e.headerEnd)];
    let at = 0;
    let done = false;
    r.parts.forEach((p, i) => {
      const last = r.open && i === r.parts.length - 1;
      // Every alternative takes the element: those past the look-ahead can't be reached.
      if (last && all) throw beyondLookAhead(L, 'the end of a multipart/alternative');
      pieces.push(e.body.subarray(at, p.start));
      const part = e.body.subarray(p.start, p.end);
      const sub = all || i === 0 ? addLegacyDisplay(part, lines, L, depth + 1, last) : undefined;
      if (sub) done = true;
      pieces.push(sub ?? part);
      at = p.end;
    });
    pieces.push(e.body.subarray(at));
    return done ? concat(pieces) : undefined;
  }
  const cte = (getHeader(e, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase();
  if (!['7bit', '8bit', 'binary', 'quoted-printable'].includes(cte)) return undefined;
  const qp = cte === 'quoted-printable';
  let text: string;
  if (ct.type === 'text/plain') {
    text = lines.map((l) => `${l}\r\n`).join('') + '\r\n';
  } else if (ct.type === 'text/html') {
    const esc = (s: string) => s.replace(/[&<>"]/g, (c) => HTML_ESCAPES[c]!);
    text = `<div class="header-protection-legacy-display">\r\n${lines.map((l) => `<pre>${esc(l)}</pre>\r\n`).join('')}</div>\r\n`;
  } else {
    return undefined;
  }
  let add = utf8(qp ? text.replace(/=/g, '=3D') : text);
  let body = e.body;
  if (ct.type === 'text/html') {
    // After the <body> tag when there is one.
    const s = new TextDecoder('latin1').decode(body);
    const m = /<body[^>]*>/i.exec(s);
    // No <body> tag among the first bytes: it may come later.
    if (!m && open) throw beyondLookAhead(L, 'the <body> tag of the main text/html part');
    if (m) {
      const cut = m.index + m[0].length;
      add = concat([body.subarray(0, cut), fromLatin1('\r\n'), add]);
      body = body.subarray(cut);
    }
  }
  return entityWithParam(entity, 'hp-legacy-display', '1', L, concat([add, body]));
}

/** What {@link protectMessage} returns. */
export interface ProtectedMessage {
  /** The header section to write outside (CRLF; structural fields left out, the caller writes its own). */
  outerHeaders: Uint8Array;
  /** The Cryptographic Payload: the protected header section, the Content-* fields with `hp`, the body. */
  inner: Uint8Array;
}

/** The options of {@link protectMessage}. */
export interface ProtectOptions {
  /** `clear` (signed only) or `cipher` (the payload will be encrypted). */
  hp: 'clear' | 'cipher';
  /** For `cipher`: the policy for the outer fields (default baseline). */
  hcp?: HeaderConfidentiality;
  /** For `cipher`: add the Legacy Display Element when a user-facing field is hidden or changed outside. */
  legacyDisplay?: boolean;
  /**
   * The message is the first bytes of a longer one (a stream's header section and look-ahead, cut at a line end):
   * the payload returned is its first bytes, the rest of the body follows unchanged (see {@link addLegacyDisplay}).
   */
  open?: boolean;
}

/**
 * RFC 9788 §4: builds the Cryptographic Payload of a message with its header fields protected, and the outer header
 * section. With `hp: 'clear'` every field also stays outside as it is; with `hp: 'cipher'` the policy decides the
 * outer fields and each one left outside is recorded inside as `HP-Outer: Name: value`.
 */
export function protectMessage(message: Uint8Array, options: ProtectOptions, limits?: Partial<MimeLimits>): ProtectedMessage {
  const L = resolveMimeLimits(limits);
  const e = parseEntity(message, L);
  const fields = e.headers.filter((h) => !isStructural(h.name));
  if (fields.length === 0) throw new MIMEInvalid('header protection: the message has no header fields to protect (no From, To, Subject…)');
  const { inner: entity } = splitForProtection(message, L);
  const outer: string[] = [];
  const hpOuter: string[] = [];
  const hidden: string[] = [];
  if (options.hp === 'clear') {
    for (const h of fields) outer.push(new TextDecoder('latin1').decode(canonicalize(h.raw)).replace(/(\r\n)?$/, '\r\n'));
  } else {
    const hcp = hcpFunction(options.hcp);
    for (const h of fields) {
      const v = hcp(h.name, h.value);
      if (v !== null && typeof v !== 'string') throw new TypeError('headerConfidentiality: the function must return a string or null');
      if (v !== h.value && USER_FACING.includes(h.name.toLowerCase())) hidden.push(`${h.name}: ${h.value}`);
      if (v === null) continue;
      if (v === h.value) outer.push(new TextDecoder('latin1').decode(canonicalize(h.raw)).replace(/(\r\n)?$/, '\r\n'));
      else outer.push(foldField(h.name, v));
      hpOuter.push(foldField('HP-Outer', `${h.name}: ${v}`));
    }
  }
  let payload = entity;
  if (options.hp === 'cipher' && options.legacyDisplay === true && hidden.length > 0) payload = addLegacyDisplay(entity, hidden, L, 0, options.open === true) ?? entity;
  const added = payload !== entity;
  payload = entityWithParam(payload, 'hp', options.hp, L);
  const protectedSection = fields.map((h) => canonicalize(h.raw)).map((r) => (r[r.length - 1] === 10 ? r : concat([r, fromLatin1('\r\n')])));
  const inner = concat([...protectedSection, utf8(hpOuter.join('')), payload]);
  // The element written must be where a reader recognises it (legacyDisplayWindow): refused, as on a stream, where the
  // element added would end past it.
  if (added && legacyDisplayIn(inner, L, false, options.open === true) === undefined) throw beyondLookAhead(L, 'the end of the Legacy Display Element');
  return { outerHeaders: utf8(outer.join('')), inner };
}

// ---------------------------------------------------------------------------------------------------------------
// Reading.

/** An outer field whose value differs from what the sender wrote (or that appeared or went missing in transit). */
export interface HeaderMismatch {
  /** The field name (lowercase). */
  name: string;
  /** Its values in the received outer header section (empty: missing outside). */
  outer: string[];
  /** Its values as the sender wrote them: HP-Outer for `hp="cipher"`, else the protected values. */
  expected: string[];
}

/** What a received payload says about its header fields (RFC 9788 §4, the older forms too). */
export interface HeaderProtectionInfo {
  /**
   * How the headers were protected: `'hp'` (RFC 9788), `'protected-headers-v1'` (the 2019 draft, Thunderbird's
   * form) or `'message-rfc822'` (RFC 8551 §3.1: the whole message wrapped in a message/rfc822 entity).
   */
  form: 'hp' | 'protected-headers-v1' | 'message-rfc822';
  /** The `hp` parameter, when it is `clear` or `cipher`. */
  hp?: 'clear' | 'cipher';
  /** The protected header fields (HP-Outer and structural fields left out). */
  headers: HeaderField[];
  /** For `hp="cipher"`: the fields the sender left outside, with the values written there (from HP-Outer). */
  exposed?: HeaderField[];
  /** The outer fields that differ from what the sender wrote (tampering in transit, or a server that rewrote them). */
  mismatches: HeaderMismatch[];
  /**
   * What is wrong with the protection: 'hp-malformed: <value>', 'hp-cipher-without-encryption', 'hp-outer-without-cipher',
   * 'hp-outer-malformed'. The protected headers are still the ones reported: never the outer ones instead.
   */
  problems: string[];
  /**
   * The text of the Legacy Display Element (or the 2019 legacy display part), when the payload has one ending within
   * the first `maxHeaderBytes` of its body (where RFC 9788 puts it; the buffer functions and the streams look there only).
   */
  legacyDisplay?: string;
}

/** The non-structural fields of a header section. */
export function messageFields(headers: readonly Header[]): HeaderField[] {
  return headers.filter((h) => !isStructural(h.name)).map((h) => ({ name: h.name, value: h.value }));
}

const norm = (v: string) => v.replace(/\s+/g, ' ').trim();

/** Groups values by lowercase name. */
function byName(fields: readonly HeaderField[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const f of fields) {
    const n = f.name.toLowerCase();
    const l = m.get(n) ?? [];
    l.push(norm(f.value));
    m.set(n, l);
  }
  return m;
}

/** The fields whose outer values differ from the expected ones; `all` compares names only in `outer` too. */
function compare(outer: readonly HeaderField[], expected: readonly HeaderField[], all: boolean): HeaderMismatch[] {
  const o = byName(outer);
  const x = byName(expected);
  const names = new Set([...x.keys(), ...(all ? [...o.keys()].filter((n) => !TRANSIT.test(n)) : [])]);
  const out: HeaderMismatch[] = [];
  for (const n of names) {
    const a = o.get(n) ?? [];
    const b = x.get(n) ?? [];
    if (a.length !== b.length || a.some((v, i) => v !== b[i])) out.push({ name: n, outer: a, expected: b });
  }
  return out;
}

/**
 * The legacy display text of a payload, or undefined (also when the payload's structure is malformed): searched in
 * its first bytes only, up to {@link legacyDisplayWindow}. `open`: only the payload's first bytes are given (see
 * {@link readHeaderProtection}).
 */
function legacyDisplayIn(payload: Uint8Array, L: MimeLimits, v1: boolean, open: boolean): string | undefined {
  const headEnd = headerSectionEnd(payload);
  if (headEnd < 0) return undefined;
  const window = legacyDisplayWindow(headEnd, L.maxHeaderBytes);
  try {
    return findLegacyDisplay(payload.subarray(0, window), L, 0, v1, open || payload.length > window);
  } catch {
    return undefined; // informative only: a malformed body does not hide the protected headers
  }
}

/** The legacy display text of a payload: the first RFC 9788 element, or the 2019 form's first part. */
function findLegacyDisplay(entity: Uint8Array, L: MimeLimits, depth: number, v1: boolean, open: boolean): string | undefined {
  if (depth > Math.min(L.maxDepth, 4)) return undefined;
  if (open && headerSectionEnd(entity) < 0) return undefined; // its header section is past the first bytes
  const e = parseEntity(entity, L);
  const ct = parseContentType(getHeader(e, 'content-type') ?? 'text/plain');
  if (ct.type.startsWith('multipart/') && ct.params.boundary) {
    const r = open ? splitMultipartPrefix(e.body, ct.params.boundary, L) : { ...splitMultipartRanges(e.body, ct.params.boundary, L), open: false };
    if (!r) return undefined;
    for (let i = 0; i < r.parts.length; i++) {
      const p = r.parts[i]!;
      const found = findLegacyDisplay(e.body.subarray(p.start, p.end), L, depth + 1, v1, r.open && i === r.parts.length - 1);
      if (found !== undefined) return found;
      if (v1) return undefined; // only the first part can be the 2019 legacy display part
    }
    return undefined;
  }
  if (v1 && depth > 0 && ct.type === 'text/plain' && ct.params['protected-headers'] === 'v1') return open ? undefined : new TextDecoder('utf-8').decode(e.body).trim();
  if (!v1 && ct.params['hp-legacy-display'] === '1') {
    const text = new TextDecoder('utf-8').decode(e.body);
    if (ct.type === 'text/html') {
      const m = /<div class="header-protection-legacy-display">([\s\S]*?)<\/div>/i.exec(text);
      return m ? m[1]!.replace(/<[^>]+>/g, '').trim() : undefined;
    }
    const end = text.search(/\r?\n\r?\n/);
    return end < 0 ? undefined : text.slice(0, end).trim();
  }
  return undefined;
}

/**
 * Reads the header protection of a payload (the innermost entity of a signed and/or encrypted message), against the
 * outer header section. Undefined when the payload's header fields are not protected (no `hp`, no
 * `protected-headers="v1"`, no message/rfc822 wrapper). `encrypted`: an encryption layer held the payload. `open`:
 * `payload` is only the first bytes of the payload (a stream's look-ahead, see mime/payload_prefix.ts). A Legacy
 * Display Element is reported only when it ends within {@link legacyDisplayWindow} (the first `maxHeaderBytes` of the
 * body), whether the payload is whole or not: the buffer functions and the streams report the same.
 */
export function readHeaderProtection(
  payload: Uint8Array,
  outerHeaders: readonly Header[],
  encrypted: boolean,
  limits?: Partial<MimeLimits>,
  open = false,
): HeaderProtectionInfo | undefined {
  const L = resolveMimeLimits(limits);
  let e;
  try {
    e = parseEntity(payload, L);
  } catch {
    return undefined; // not MIME (binary eContent): nothing to read
  }
  const ctv = getHeader(e, 'content-type');
  const ct = parseContentType(ctv ?? 'text/plain');
  const outer = messageFields(outerHeaders);
  const problems: string[] = [];
  if (ct.params.hp !== undefined) {
    const hpv = ct.params.hp.trim().toLowerCase();
    const hp = hpv === 'clear' || hpv === 'cipher' ? hpv : undefined;
    if (!hp) problems.push(`hp-malformed: ${JSON.stringify(ct.params.hp.slice(0, 40))}`);
    if (hp === 'cipher' && !encrypted) problems.push('hp-cipher-without-encryption');
    const headers = messageFields(e.headers.filter((h) => h.name.toLowerCase() !== 'hp-outer'));
    const hpOuter = e.headers.filter((h) => h.name.toLowerCase() === 'hp-outer');
    const info: HeaderProtectionInfo = { form: 'hp', headers, mismatches: [], problems };
    if (hp) info.hp = hp;
    if (hp === 'cipher') {
      const exposed: HeaderField[] = [];
      for (const h of hpOuter) {
        const i = h.value.indexOf(':');
        const name = i > 0 ? h.value.slice(0, i).trim() : '';
        if (!name || /\s/.test(name)) {
          if (!problems.includes('hp-outer-malformed')) problems.push('hp-outer-malformed');
          continue;
        }
        exposed.push({ name, value: h.value.slice(i + 1).trim() });
      }
      info.exposed = exposed;
      info.mismatches = compare(outer, exposed, true);
    } else {
      if (hpOuter.length > 0) problems.push('hp-outer-without-cipher');
      info.mismatches = compare(outer, headers, false);
    }
    const lde = legacyDisplayIn(payload, L, false, open);
    if (lde !== undefined) info.legacyDisplay = lde;
    return info;
  }
  if (ct.params['protected-headers'] === 'v1') {
    const headers = messageFields(e.headers);
    const info: HeaderProtectionInfo = { form: 'protected-headers-v1', headers, mismatches: encrypted ? [] : compare(outer, headers, false), problems };
    const lde = legacyDisplayIn(payload, L, true, open);
    if (lde !== undefined) info.legacyDisplay = lde;
    return info;
  }
  if (ct.type === 'message/rfc822' || ct.type === 'message/global') {
    let m;
    try {
      m = parseEntity(e.body, L);
    } catch {
      return undefined;
    }
    const headers = messageFields(m.headers);
    // A wrapper (RFC 8551 §3.1) says forwarded=no, or at least carries the message's own From.
    if (ct.params.forwarded?.toLowerCase() !== 'no' && !m.headers.some((h) => h.name.toLowerCase() === 'from')) return undefined;
    return { form: 'message-rfc822', headers, mismatches: encrypted ? [] : compare(outer, headers, false), problems };
  }
  return undefined;
}

/**
 * The protected header section of a signed entity, for the From binding of its signature: the payload's own
 * fields when it carries `hp` or `protected-headers="v1"`, the wrapped message's for an RFC 8551 message/rfc822
 * wrapper that says `forwarded=no`; undefined when its header fields are not protected.
 */
export function protectedSection(payload: Uint8Array, limits?: Partial<MimeLimits>): Header[] | undefined {
  const L = resolveMimeLimits(limits);
  let e;
  try {
    e = parseEntity(payload, L);
  } catch {
    return undefined;
  }
  const ct = parseContentType(getHeader(e, 'content-type') ?? 'text/plain');
  if (ct.params.hp !== undefined || ct.params['protected-headers'] === 'v1') return e.headers.filter((h) => !isStructural(h.name) && h.name.toLowerCase() !== 'hp-outer');
  if (ct.type === 'message/rfc822' || ct.type === 'message/global') {
    // Bound only when it says it is a wrapper (forwarded=no): a signed forward of someone else's message, without it,
    // keeps the outer From as the binding.
    if (ct.params.forwarded?.toLowerCase() !== 'no') return undefined;
    try {
      return parseEntity(e.body, L).headers.filter((h) => !isStructural(h.name));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * The message without its header fields called `name` (case-insensitive), e.g. Bcc before encrypting for the To
 * and Cc recipients; the same array when it has none.
 */
export function withoutField(message: Uint8Array, name: string, limits?: Partial<MimeLimits>): Uint8Array {
  const e = parseEntity(message, resolveMimeLimits(limits));
  const drop = e.headers.filter((h) => h.name.toLowerCase() === name.toLowerCase());
  if (drop.length === 0) return message;
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (const h of drop) {
    const start = h.raw.byteOffset - message.byteOffset;
    pieces.push(message.subarray(at, start));
    at = start + h.raw.length;
  }
  pieces.push(message.subarray(at));
  return concat(pieces);
}
