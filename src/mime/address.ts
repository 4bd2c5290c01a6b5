/**
 * RFC 5322 address parsing, for the one place that needs it: binding a signature to the From header (RFC 8550 §3).
 * A scanner for "something@something" is not enough there: `From: mallory@example.com <alice@example.com>` (an
 * address where the display name goes) or `From: <alice@example.com> (mallory@example.com)` (an address in a
 * comment) fool it. So the header is parsed by the grammar, obsolete forms included (RFC 5322 §3.4, §4.4: obs-phrase,
 * obs-local-part, obs-domain, obs-route, empty list elements, CFWS around every token), with UTF-8 allowed where
 * RFC 6532 allows it, and groups in From (RFC 6854). Anything the grammar does not accept is unparsable: the caller
 * reports that instead of guessing which address was meant.
 *
 * Comparison (`addressKey`), decided here for RFC 8550 §3 and RFC 8398/9598:
 * - the local part is compared by its value (quoting and obs-local-part spacing removed: `"alice"@x` is
 *   `alice@x`), ASCII letters case-insensitively (as every common mail system and the rest of this library treat
 *   them), every non-ASCII character exactly: no Unicode case folding and no normalisation, since those map
 *   distinct code points onto each other (U+212A KELVIN SIGN lowercases and NFC-normalises to "k") and RFC 9598
 *   leaves the local part's equivalence to the mail domain. A false mismatch is the safe failure;
 * - the domain case-insensitively, and an internationalised domain by its A-label: a domain with non-ASCII
 *   characters or an "xn--" label goes through the WHATWG URL host parser (UTS #46 processing, the IDNA mapping
 *   DNS lookups apply), so `bücher.example` and `xn--bcher-kva.example` are one domain. Only names made of
 *   letters, digits, hyphens and dots are given to it (no "%", no numeric-host rewriting); one it rejects is
 *   compared as written. No IDNA table of our own: no new dependency, and URL is in every runtime we support.
 *
 * Encoded words (RFC 2047) are atoms to the grammar (RFC 2047 §5 forbids them in an addr-spec); display names are
 * returned as written, not decoded: only addresses are compared.
 */
import { getHeaders, type Header } from './entity.js';

/** One mailbox of an address header. */
export interface Mailbox {
  /** The display name as written (quoted strings unquoted, words joined by one space); undefined without one. */
  display?: string;
  /** The local part's value: quoted-pairs resolved, obs-local-part spacing removed. */
  local: string;
  /** The domain as written (CFWS removed); a domain literal keeps its brackets. */
  domain: string;
  /** `local@domain`, the local part quoted when it is not a dot-atom. */
  address: string;
  /** The comparison key (see the header comment). */
  key: string;
  /** The name of the group the mailbox was listed in, if any. */
  group?: string;
}

/** A parsed address list (address-list / mailbox-list, obsolete forms included). */
export interface AddressList {
  mailboxes: Mailbox[];
  /** Groups in the list (a group may be empty). */
  groups: number;
}

type Token =
  | { t: 'atom'; v: string }
  | { t: 'qs'; v: string }
  | { t: 'dl'; v: string }
  | { t: 'sp'; v: string };

class Unparsable extends Error {}

const ATEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\u{10FFFF}]$/u;
const SPECIALS = '()<>[]:;@\\,."';

function isAtext(c: string): boolean {
  return ATEXT.test(c);
}

/** Splits a header value into atoms, quoted strings, domain literals and specials; comments and FWS are dropped. */
function tokenize(s: string): Token[] {
  const out: Token[] = [];
  const chars = Array.from(s);
  let i = 0;
  const ctl = (c: string) => {
    const n = c.codePointAt(0)!;
    return n === 0 || (n < 0x20 && c !== '\t' && c !== '\r' && c !== '\n') || n === 0x7f;
  };
  while (i < chars.length) {
    const c = chars[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
    } else if (c === '(') {
      // A comment, nested comments and quoted-pairs included (obs-ctext allows controls but NUL).
      let depth = 0;
      for (;;) {
        const d = chars[i++];
        if (d === undefined) throw new Unparsable('unterminated comment');
        if (d === '\0') throw new Unparsable('NUL');
        if (d === '\\') {
          if (chars[i++] === undefined) throw new Unparsable('unterminated comment');
        } else if (d === '(') depth++;
        else if (d === ')' && --depth === 0) break;
      }
    } else if (c === '"') {
      let v = '';
      i++;
      for (;;) {
        const d = chars[i++];
        if (d === undefined) throw new Unparsable('unterminated quoted string');
        if (d === '\0') throw new Unparsable('NUL');
        if (d === '"') break;
        if (d === '\\') {
          const e = chars[i++];
          if (e === undefined || e === '\0') throw new Unparsable('bad quoted-pair');
          v += e;
        } else if (d !== '\r' && d !== '\n') v += d; // FWS inside quotes: the line break goes, the space stays
      }
      out.push({ t: 'qs', v });
    } else if (c === '[') {
      let v = '[';
      i++;
      for (;;) {
        const d = chars[i++];
        if (d === undefined || d === '[' || d === '\0') throw new Unparsable('bad domain literal');
        if (d === ']') break;
        if (d === '\\') {
          const e = chars[i++];
          if (e === undefined || e === '\0') throw new Unparsable('bad domain literal');
          v += e;
        } else if (d !== ' ' && d !== '\t' && d !== '\r' && d !== '\n') v += d;
      }
      out.push({ t: 'dl', v: `${v}]` });
    } else if (SPECIALS.includes(c)) {
      if (c === ')' || c === ']' || c === '\\') throw new Unparsable(`stray ${c}`);
      out.push({ t: 'sp', v: c });
      i++;
    } else if (isAtext(c)) {
      let v = '';
      while (i < chars.length && isAtext(chars[i]!)) v += chars[i++];
      out.push({ t: 'atom', v });
    } else {
      throw new Unparsable(ctl(c) ? 'control character' : `unexpected ${c}`);
    }
  }
  return out;
}

const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\u{10FFFF}]+(?:\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\u{10FFFF}]+)*$/u;

function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** The domain's comparison form: ASCII lower case, an internationalised name as its A-label. */
export function domainKey(domain: string): string {
  const d = asciiLower(domain);
  if (d.startsWith('[')) return d;
  const international = /[^\x00-\x7f]/.test(d) || /(?:^|\.)xn--/.test(d);
  if (!international || !/^[a-z0-9.\-\u0080-\u{10FFFF}]+$/u.test(d)) return d;
  try {
    const host = new URL(`http://${d}/`).hostname;
    // The URL parser rewrites some names as IPv4 addresses or brackets IPv6: those are not this domain.
    if (/^[0-9.]+$/.test(host) || host.startsWith('[') || host === '') return d;
    return host;
  } catch {
    return d;
  }
}

/** The local part as it would be written: bare when it is a dot-atom, else quoted. */
function renderLocal(local: string): string {
  return DOT_ATOM.test(local) ? local : `"${local.replace(/["\\]/g, '\\$&')}"`;
}

/** The comparison key of a mailbox (see the header comment). */
export function addressKey(local: string, domain: string): string {
  return `${renderLocal(asciiLower(local))}@${domainKey(domain)}`;
}

function mailbox(local: string, domain: string, display?: string, group?: string): Mailbox {
  const m: Mailbox = { local, domain, address: `${renderLocal(local)}@${domain}`, key: addressKey(local, domain) };
  if (display !== undefined) m.display = display;
  if (group !== undefined) m.group = group;
  return m;
}

class Parser {
  i = 0;
  constructor(readonly toks: Token[]) {}

  peek(): Token | undefined {
    return this.toks[this.i];
  }
  isSp(v: string): boolean {
    const t = this.toks[this.i];
    return t !== undefined && t.t === 'sp' && t.v === v;
  }
  expectSp(v: string): void {
    if (!this.isSp(v)) throw new Unparsable(`expected ${v}`);
    this.i++;
  }
  isWord(): boolean {
    const t = this.toks[this.i];
    return t !== undefined && (t.t === 'atom' || t.t === 'qs');
  }

  /** word *("." word): a local-part (dot-atom, quoted-string or obs-local-part). */
  localPart(): string {
    if (!this.isWord()) throw new Unparsable('expected a local part');
    let v = this.toks[this.i++]!.v;
    while (this.isSp('.')) {
      this.i++;
      if (!this.isWord()) throw new Unparsable('expected a word after "."');
      v += `.${this.toks[this.i++]!.v}`;
    }
    return v;
  }

  /** dot-atom / obs-domain (atom *("." atom)) / domain-literal. */
  domain(): string {
    const t = this.peek();
    if (t?.t === 'dl') {
      this.i++;
      return t.v;
    }
    if (t?.t !== 'atom') throw new Unparsable('expected a domain');
    let v = t.v;
    this.i++;
    while (this.isSp('.')) {
      this.i++;
      const a = this.peek();
      if (a?.t !== 'atom') throw new Unparsable('expected an atom after "."');
      v += `.${a.v}`;
      this.i++;
    }
    return v;
  }

  /** "<" [obs-route] addr-spec ">", the "<" already read. */
  angleAddr(display: string | undefined, group: string | undefined): Mailbox {
    if (this.isSp('@') || this.isSp(',')) {
      // obs-route: obs-domain-list ":" — *(CFWS / ",") "@" domain *("," [CFWS] ["@" domain])
      while (this.isSp(',')) this.i++;
      this.expectSp('@');
      this.domain();
      while (this.isSp(',')) {
        this.i++;
        if (this.isSp('@')) {
          this.i++;
          this.domain();
        }
      }
      this.expectSp(':');
    }
    const local = this.localPart();
    this.expectSp('@');
    const domain = this.domain();
    this.expectSp('>');
    return mailbox(local, domain, display, group);
  }

  /** A phrase (1*word / obs-phrase: word *(word / ".")), or undefined when there is no word here. */
  phrase(): string | undefined {
    if (!this.isWord()) return undefined;
    const parts: string[] = [this.toks[this.i++]!.v];
    while (this.isWord() || this.isSp('.')) {
      const t = this.toks[this.i++]!;
      if (t.t === 'sp') parts[parts.length - 1] += '.';
      else parts.push(t.v);
    }
    return parts.join(' ');
  }

  /** mailbox = name-addr / addr-spec. */
  mailbox(group: string | undefined): Mailbox {
    if (this.isSp('<')) {
      this.i++;
      return this.angleAddr(undefined, group);
    }
    const start = this.i;
    // A display name is a phrase followed by "<"; anything else is an addr-spec.
    const display = this.phrase();
    if (display !== undefined && this.isSp('<')) {
      this.i++;
      return this.angleAddr(display, group);
    }
    this.i = start;
    const local = this.localPart();
    this.expectSp('@');
    return mailbox(local, this.domain(), undefined, group);
  }

  /** True at the end of an element of a list: "," or the end (or ";" inside a group). */
  atElementEnd(inGroup: boolean): boolean {
    return this.i >= this.toks.length || this.isSp(',') || (inGroup && this.isSp(';'));
  }

  /** address-list with obs-addr-list's empty elements; groups per RFC 6854. */
  addressList(): AddressList {
    const out: AddressList = { mailboxes: [], groups: 0 };
    for (;;) {
      if (!this.atElementEnd(false)) {
        const start = this.i;
        const name = this.phrase();
        if (name !== undefined && this.isSp(':')) {
          this.i++;
          out.groups++;
          // group-list: mailbox-list / CFWS / obs-group-list, then ";".
          for (;;) {
            if (this.i >= this.toks.length) throw new Unparsable('unterminated group');
            if (this.isSp(';')) break;
            if (!this.isSp(',')) out.mailboxes.push(this.mailbox(name));
            if (!this.atElementEnd(true)) throw new Unparsable('junk after a mailbox');
            if (this.isSp(',')) this.i++;
          }
          this.i++; // ";"
        } else {
          this.i = start;
          out.mailboxes.push(this.mailbox(undefined));
        }
        if (!this.atElementEnd(false)) throw new Unparsable('junk after an address');
      }
      if (this.i >= this.toks.length) break;
      this.i++; // ","
    }
    return out;
  }
}

/**
 * Parses an address header's value (From, Sender, To, Cc…; already unfolded). Undefined when the grammar does not
 * accept it, or when it holds neither a mailbox nor a group.
 */
export function parseAddressList(value: string): AddressList | undefined {
  try {
    const p = new Parser(tokenize(value));
    const list = p.addressList();
    return list.mailboxes.length === 0 && list.groups === 0 ? undefined : list;
  } catch (e) {
    if (e instanceof Unparsable) return undefined;
    throw e;
  }
}

/** Parses a bare addr-spec (a certificate's rfc822Name or emailAddress), or undefined. */
export function parseAddrSpec(value: string): Mailbox | undefined {
  try {
    const p = new Parser(tokenize(value));
    const local = p.localPart();
    p.expectSp('@');
    const domain = p.domain();
    return p.i === p.toks.length ? mailbox(local, domain) : undefined;
  } catch (e) {
    if (e instanceof Unparsable) return undefined;
    throw e;
  }
}

/** The comparison key of a certificate's address: parsed when it parses, else the ASCII-lower-cased text. */
export function certAddressKey(address: string): string {
  const m = parseAddrSpec(address);
  return m ? m.key : asciiLower(address);
}

/**
 * The RFC 5322 §3.6 fields that make a header section a message's header rather than a bare MIME entity's.
 * A bare entity (Content-Type, MIME-Version… only: `openssl cms -sign` output without -from, the inner entity of
 * a signed-then-encrypted message) has no From to check; a message header does.
 */
const MESSAGE_FIELDS = new Set(['from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'date', 'subject', 'message-id', 'in-reply-to', 'references']);

/** Whether a header section is a message header (it has any RFC 5322 §3.6 field; see MESSAGE_FIELDS). */
export function isMessageHeader(headers: readonly Header[]): boolean {
  return headers.some((h) => MESSAGE_FIELDS.has(h.name.toLowerCase()));
}

/** What a signer's addresses are checked against, from one header section. */
export type FromBinding =
  | {
      kind: 'mailboxes';
      /** Every mailbox of the From header (groups' members included). */
      from: Mailbox[];
      /** The Sender mailbox, when there is exactly one valid Sender header. */
      sender?: Mailbox;
    }
  | {
      kind: 'problem';
      /** Why no binding can hold: 'two From headers', 'unparsable From', 'From has no mailbox'. */
      reason: string;
    };

/**
 * The From binding of a header section: undefined when it has no From header. Two From headers, one that does not
 * parse, or one without a mailbox and without a Sender to stand for it, are problems (the signer can't be bound).
 */
export function fromBinding(headers: readonly Header[]): FromBinding | undefined {
  const froms = getHeaders({ headers }, 'from');
  if (froms.length === 0) return undefined;
  if (froms.length > 1) return { kind: 'problem', reason: `${froms.length === 2 ? 'two' : froms.length} From headers` };
  const list = parseAddressList(froms[0]!.value);
  if (!list) return { kind: 'problem', reason: 'unparsable From' };
  const senders = getHeaders({ headers }, 'sender');
  const s = senders.length === 1 ? parseAddressList(senders[0]!.value) : undefined;
  const sender = s && s.groups === 0 && s.mailboxes.length === 1 ? s.mailboxes[0] : undefined;
  if (list.mailboxes.length === 0 && !sender) return { kind: 'problem', reason: 'From has no mailbox' };
  return sender ? { kind: 'mailboxes', from: list.mailboxes, sender } : { kind: 'mailboxes', from: list.mailboxes };
}
