/**
 * Name constraints over a certification path (RFC 5280 §4.2.1.10): the state starts unbounded (§6.1.2 (b)(c)); each
 * certificate's names are checked against it (§6.1.3 (b)(c)), then a CA certificate's nameConstraints narrows the
 * permitted subtrees and widens the excluded ones (§6.1.4 (g)) for the certificates below it. Pure and synchronous:
 * no signature, time or policy is looked at here.
 *
 * The permitted subtrees are kept as one list per certificate and name form: a name must lie in some subtree of
 * every list of its form, which is the intersection §6.1.4 (g) asks for without computing it. The excluded subtrees
 * are one list per form (their union). A form no certificate constrained is unbounded.
 *
 * The names of a certificate: its subject (a directoryName, unless the subject is empty), each emailAddress
 * attribute of the subject (as an rfc822Name, §4.2.1.10; checked whether or not a subjectAltName is present, which
 * is the stricter reading), and every subjectAltName general name. A self-issued certificate's names are not
 * checked unless it is the last of the path (§6.1.3 (b)).
 *
 * Matching, per form:
 * - directoryName: the base's RDNs are the first RDNs of the name, each matched by RFC 5280 §7.1 (`rdnKeys`).
 * - rfc822Name: a constraint with `@` is one mailbox (the local part compared byte for byte, the domain without
 *   regard to ASCII case); `example.com` is every mailbox at that host; `.example.com` every mailbox at a host
 *   inside that domain (not at example.com itself).
 * - dNSName: `example.com` holds that name and every name made by adding labels on its left (whole labels:
 *   not `badexample.com`); `.example.com` only the names with at least one more label; an empty constraint all.
 * - uniformResourceIdentifier: the host of the URI (after `scheme://`, without user information and port)
 *   against `host.example.com` (that host) or `.example.com` (hosts inside the domain, not the domain itself).
 * - iPAddress: the address under the constraint's mask, IPv4 and IPv6 apart.
 *
 * Refusals rather than guesses: a name whose form is constrained but which cannot be read (an address without `@`,
 * a URI without a host or with an IP literal host, an address of the wrong length) violates the constraints; so
 * does a name of a form we do not compare (otherName, x400Address, ediPartyName, registeredID) when a certificate
 * above constrains that form. A nameConstraints that is not well-formed (bad DER, an empty sequence, a base we
 * cannot read, a minimum other than 0, a maximum, a non-contiguous mask, two nameConstraints in one certificate) is
 * `malformed-extension: nameConstraints`. The extension is applied whether or not it is marked critical (RFC 5280
 * requires critical; §6.1.4 (g) does not ask). Every comparison of a name with a subtree is counted; past `maxChecks`
 * the answer is `name-constraints-limit`.
 *
 * Not done here: constraints carried by the trust anchor (RFC 5280 §6.1.1 leaves them optional), and wildcard
 * dNSNames (`*.example.com` is compared as a name with a `*` label, so an excluded `host.example.com` does not
 * catch it).
 */
import { children, CONTEXT, decodeOid, readTlv, TAG, UNIVERSAL, type Tlv } from '../lib/der.js';
import { OID, type CertInfo } from '../certs/cert_info.js';
import { formatName, rdnKeys } from '../certs/names.js';
import { DEFAULT_LIMITS } from '../lib/limits.js';

/** The result of `checkNameConstraints`: ok, or the first reason the path fails. */
export type NameConstraintsOutcome = { ok: true } | { ok: false; reason: string };


const NAME_CONSTRAINTS = '2.5.29.30';

/** GeneralName forms by context tag number (RFC 5280 §4.2.1.6). */
const FORMS = [
  'otherName',
  'rfc822Name',
  'dNSName',
  'x400Address',
  'directoryName',
  'ediPartyName',
  'uniformResourceIdentifier',
  'iPAddress',
  'registeredID',
] as const;
const RFC822 = 1;
const DNS = 2;
const DIRECTORY = 4;
const URI = 6;
const IP = 7;
const REGISTERED_ID = 8;
/** The forms whose constraints we compare; a constrained name of any other form is refused. */
const SUPPORTED = new Set([RFC822, DNS, DIRECTORY, URI, IP]);
/** The forms that are constructed (IMPLICIT SEQUENCE, or EXPLICIT Name for directoryName); the others are primitive. */
const CONSTRUCTED = new Set([0, 3, DIRECTORY, 5]);

/** One subtree's base, ready to compare. `domain` and hosts are lower case, without a leading dot. */
type Subtree =
  | { kind: 'mailbox'; local: string; domain: string }
  | { kind: 'host'; domain: string }
  | { kind: 'domain'; domain: string }
  | { kind: 'dns'; domain: string }
  | { kind: 'dn'; rdns: string[] }
  | { kind: 'ip'; addr: Uint8Array; mask: Uint8Array }
  | { kind: 'unsupported' };

/** A name of a certificate, read for comparison; `text` is how a reason shows it (`rfc822Name a@b.example`). */
interface Name {
  form: number;
  text: string;
  /** False when the name cannot be read as its form requires (see the header). */
  readable: boolean;
  /** rfc822Name: the domain; dNSName: the name; URI: the host. Lower case. */
  host?: string;
  /** rfc822Name: the local part, as written. */
  local?: string;
  rdns?: string[];
  ip?: Uint8Array;
}

/** Thrown inside this module for a nameConstraints or subjectAltName we cannot read. */
class Malformed extends Error {}

const OK: NameConstraintsOutcome = { ok: true };
const LIMIT: NameConstraintsOutcome = { ok: false, reason: 'name-constraints-limit' };

/**
 * Checks the names of every certificate of `path` against the name constraints of the certificates above it
 * (RFC 5280 §6.1.3 (b)(c) and §6.1.4 (g); see the module header for the matching rules). `path` is in RFC 5280
 * order with the trust anchor left out: `path[0]` was issued by the anchor, the last is the end entity (whose own
 * nameConstraints, if any, constrain nothing). At most `maxChecks` name × subtree comparisons are made; beyond that
 * the answer is `{ ok: false, reason: 'name-constraints-limit' }`. Other reasons: `name-constraints-violated: <form>
 * <name>` and `malformed-extension: nameConstraints` (or `subjectAltName`). Never throws on certificate content;
 * a `maxChecks` that is not a non-negative integer is a RangeError.
 */
export function checkNameConstraints(path: readonly CertInfo[], maxChecks: number = DEFAULT_LIMITS.maxNameConstraintChecks): NameConstraintsOutcome {
  if (!Number.isSafeInteger(maxChecks) || maxChecks < 0) throw new RangeError(`"maxChecks" expected a non-negative integer, got ${String(maxChecks)}`);
  const permitted = new Map<number, Subtree[][]>();
  const excluded = new Map<number, Subtree[]>();
  let checks = 0;
  for (let i = 0; i < path.length; i++) {
    const cert = path[i]!;
    const last = i === path.length - 1;
    if ((permitted.size > 0 || excluded.size > 0) && (last || !cert.selfIssued)) {
      let names: Name[];
      try {
        names = cachedNames(cert);
      } catch {
        return { ok: false, reason: 'malformed-extension: subjectAltName' };
      }
      for (const name of names) {
        const perm = permitted.get(name.form);
        const exc = excluded.get(name.form);
        if (!perm && !exc) continue;
        if (!SUPPORTED.has(name.form)) return violated(name, ' (unsupported name form)');
        if (!name.readable) return violated(name, ' (unreadable)');
        for (const list of perm ?? []) {
          let inside = false;
          for (const st of list) {
            if (++checks > maxChecks) return LIMIT;
            if (within(name, st)) {
              inside = true;
              break;
            }
          }
          if (!inside) return violated(name, '');
        }
        for (const st of exc ?? []) {
          if (++checks > maxChecks) return LIMIT;
          if (within(name, st)) return violated(name, '');
        }
      }
    }
    if (last) break;
    const exts = cert.extensions.filter((e) => e.oid === NAME_CONSTRAINTS);
    if (exts.length === 0) continue;
    let nc: Constraints;
    try {
      if (exts.length > 1) throw new Malformed('two nameConstraints');
      nc = cachedConstraints(exts[0]!.value);
    } catch {
      return { ok: false, reason: 'malformed-extension: nameConstraints' };
    }
    for (const [form, list] of nc.permitted) {
      const lists = permitted.get(form);
      if (lists) lists.push(list);
      else permitted.set(form, [list]);
    }
    for (const [form, list] of nc.excluded) {
      const prev = excluded.get(form);
      if (prev) prev.push(...list);
      else excluded.set(form, [...list]); // a copy: the parsed list is cached and shared
    }
  }
  return OK;
}

function violated(name: Name, why: string): NameConstraintsOutcome {
  return { ok: false, reason: `name-constraints-violated: ${name.text}${why}` };
}

/** Whether `name` lies in the subtree (both of the same form). */
function within(name: Name, st: Subtree): boolean {
  switch (st.kind) {
    case 'mailbox':
      return name.local === st.local && name.host === st.domain;
    case 'host':
      return name.host === st.domain;
    case 'domain':
      return name.host !== undefined && name.host.endsWith(`.${st.domain}`);
    case 'dns':
      return st.domain === '' || name.host === st.domain || (name.host !== undefined && name.host.endsWith(`.${st.domain}`));
    case 'dn': {
      const rdns = name.rdns;
      if (!rdns || rdns.length < st.rdns.length) return false;
      return st.rdns.every((r, k) => r === rdns[k]);
    }
    case 'ip': {
      const ip = name.ip;
      if (!ip || ip.length !== st.addr.length) return false;
      for (let k = 0; k < ip.length; k++) if (((ip[k]! ^ st.addr[k]!) & st.mask[k]!) !== 0) return false;
      return true;
    }
    case 'unsupported':
      return false;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The extension

/** NameConstraints ::= SEQUENCE { permittedSubtrees [0] GeneralSubtrees OPTIONAL, excludedSubtrees [1] … OPTIONAL }. */
/** What one nameConstraints extension says, by name form. */
interface Constraints {
  permitted: Map<number, Subtree[]>;
  excluded: Map<number, Subtree[]>;
}

/**
 * Parsed constraints and names, by the bytes they were read from (the extension value, the certificate): path
 * building validates several candidate paths through the same CAs, and a store verifies the same certificates again
 * and again. Read-only results of public data; a malformed input is remembered as the error it threw.
 */
const parsedConstraints = new WeakMap<Uint8Array, Constraints | Malformed>();
const parsedNames = new WeakMap<Uint8Array, Name[] | Error>();

function cachedConstraints(der: Uint8Array): Constraints {
  let r = parsedConstraints.get(der);
  if (r === undefined) {
    try {
      r = parseNameConstraints(der);
    } catch (e) {
      r = e instanceof Malformed ? e : new Malformed(String(e));
    }
    parsedConstraints.set(der, r);
  }
  if (r instanceof Malformed) throw r;
  return r;
}

function cachedNames(cert: CertInfo): Name[] {
  let r = parsedNames.get(cert.der);
  if (r === undefined) {
    try {
      r = namesOf(cert);
    } catch (e) {
      r = e instanceof Error ? e : new Error(String(e));
    }
    parsedNames.set(cert.der, r);
  }
  if (r instanceof Error) throw r;
  return r;
}

function parseNameConstraints(der: Uint8Array): Constraints {
  const top = readTlv(der, 0);
  if (top.end !== der.length || top.cls !== UNIVERSAL || top.tagNo !== TAG.SEQUENCE || !top.constructed) throw new Malformed('not a SEQUENCE');
  const parts = children(der, top);
  if (parts.length === 0) throw new Malformed('neither permitted nor excluded subtrees'); // RFC 5280 §4.2.1.10: MUST NOT be empty
  const out = { permitted: new Map<number, Subtree[]>(), excluded: new Map<number, Subtree[]>() };
  let next = 0;
  for (const p of parts) {
    if (p.cls !== CONTEXT || !p.constructed || p.tagNo < next || p.tagNo > 1) throw new Malformed('unexpected element');
    next = p.tagNo + 1;
    const subtrees = children(der, p);
    if (subtrees.length === 0) throw new Malformed('empty GeneralSubtrees'); // SIZE (1..MAX)
    const into = p.tagNo === 0 ? out.permitted : out.excluded;
    for (const gs of subtrees) {
      const [form, st] = parseSubtree(der, gs);
      const list = into.get(form);
      if (list) list.push(st);
      else into.set(form, [st]);
    }
  }
  return out;
}

/** GeneralSubtree ::= SEQUENCE { base GeneralName, minimum [0] BaseDistance DEFAULT 0, maximum [1] … OPTIONAL }. */
function parseSubtree(der: Uint8Array, gs: Tlv): [number, Subtree] {
  if (gs.cls !== UNIVERSAL || gs.tagNo !== TAG.SEQUENCE || !gs.constructed) throw new Malformed('not a GeneralSubtree');
  const [base, ...rest] = children(der, gs);
  if (!base) throw new Malformed('no base');
  for (const r of rest) {
    // RFC 5280: minimum MUST be zero and maximum MUST be absent. A zero minimum spelt out (BER) is tolerated.
    const content = der.subarray(r.contentStart, r.contentEnd);
    if (r.cls !== CONTEXT || r.tagNo !== 0 || r.constructed || rest.length > 1 || content.length !== 1 || content[0] !== 0) {
      throw new Malformed('minimum other than 0, or a maximum');
    }
  }
  const form = generalNameForm(base);
  const content = der.subarray(base.contentStart, base.contentEnd);
  switch (form) {
    case RFC822: {
      const s = ia5(content);
      if (s === undefined) throw new Malformed('rfc822Name');
      if (s.includes('@')) {
        const m = mailbox(s);
        if (!m) throw new Malformed('rfc822Name');
        return [form, { kind: 'mailbox', local: m.local, domain: m.domain }];
      }
      return [form, hostOrDomain(s)];
    }
    case DNS: {
      const s = ia5(content);
      if (s === undefined) throw new Malformed('dNSName');
      if (s === '') return [form, { kind: 'dns', domain: '' }];
      if (s.startsWith('.')) return [form, hostOrDomain(s)];
      const d = domainName(s, false);
      if (d === undefined) throw new Malformed('dNSName');
      return [form, { kind: 'dns', domain: d }];
    }
    case URI: {
      const s = ia5(content);
      if (s === undefined) throw new Malformed('uniformResourceIdentifier');
      return [form, hostOrDomain(s)];
    }
    case DIRECTORY: {
      const rdns = directoryName(der, base);
      if (!rdns) throw new Malformed('directoryName');
      return [form, { kind: 'dn', rdns }];
    }
    case IP: {
      if (content.length !== 8 && content.length !== 32) throw new Malformed('iPAddress length');
      const half = content.length / 2;
      const mask = content.subarray(half);
      if (!contiguous(mask)) throw new Malformed('iPAddress mask');
      return [form, { kind: 'ip', addr: content.subarray(0, half), mask }];
    }
    default:
      return [form, { kind: 'unsupported' }];
  }
}

/** `host.example.com` (that host) or `.example.com` (the hosts inside the domain); anything else is malformed. */
function hostOrDomain(s: string): Subtree {
  const dot = s.startsWith('.');
  const d = domainName(dot ? s.slice(1) : s, false);
  if (d === undefined) throw new Malformed('not a host or domain');
  return dot ? { kind: 'domain', domain: d } : { kind: 'host', domain: d };
}

/** A mask of ones then zeros. */
function contiguous(mask: Uint8Array): boolean {
  let zero = false;
  for (const b of mask) {
    for (let bit = 0x80; bit !== 0; bit >>= 1) {
      if ((b & bit) === 0) zero = true;
      else if (zero) return false;
    }
  }
  return true;
}

/** The context tag of a GeneralName, checked for its form's constructedness; anything else is malformed. */
function generalNameForm(t: Tlv): number {
  if (t.cls !== CONTEXT || t.tagNo > REGISTERED_ID || t.constructed !== CONSTRUCTED.has(t.tagNo)) throw new Malformed('not a GeneralName');
  return t.tagNo;
}

// ---------------------------------------------------------------------------------------------------------------
// The certificate's names

/** The subject (when not empty), the subject's emailAddress attributes and the subjectAltName general names. */
function namesOf(cert: CertInfo): Name[] {
  const names: Name[] = [];
  const subject = cert.subject;
  let subjectTop: Tlv | undefined;
  try {
    subjectTop = readTlv(subject, 0);
  } catch {
    subjectTop = undefined;
  }
  if (!subjectTop || subjectTop.contentEnd > subjectTop.contentStart) {
    const rdns = rdnKeys(subject);
    names.push({ form: DIRECTORY, text: `directoryName ${formatName(subject)}`, readable: rdns !== undefined, rdns });
    names.push(...subjectEmails(subject));
  }
  for (const ext of cert.extensions) {
    if (ext.oid !== OID.san) continue;
    const der = ext.value;
    const top = readTlv(der, 0);
    if (top.end !== der.length || top.cls !== UNIVERSAL || top.tagNo !== TAG.SEQUENCE || !top.constructed) throw new Malformed('subjectAltName');
    for (const gn of children(der, top)) names.push(generalName(der, gn));
  }
  return names;
}

/** The subject's emailAddress attributes as rfc822Names; one unreadable name when the subject cannot be walked. */
function subjectEmails(subject: Uint8Array): Name[] {
  const out: Name[] = [];
  try {
    for (const rdn of children(subject, readTlv(subject, 0))) {
      for (const ava of children(subject, rdn)) {
        const [type, value] = children(subject, ava);
        if (decodeOid(subject, type) !== OID.emailAddress) continue;
        out.push(rfc822Name(value && !value.constructed ? subject.subarray(value.contentStart, value.contentEnd) : new Uint8Array(0)));
      }
    }
  } catch {
    return [{ form: RFC822, text: 'rfc822Name (in a subject that cannot be read)', readable: false }];
  }
  return out;
}

/** One subjectAltName GeneralName, read for comparison. */
function generalName(der: Uint8Array, gn: Tlv): Name {
  const form = generalNameForm(gn);
  const content = der.subarray(gn.contentStart, gn.contentEnd);
  switch (form) {
    case RFC822:
      return rfc822Name(content);
    case DNS: {
      const s = ia5(content);
      const host = s === undefined ? undefined : domainName(s, true);
      return { form, text: `dNSName ${printable(content)}`, readable: host !== undefined, host };
    }
    case URI: {
      const s = ia5(content);
      const host = s === undefined ? undefined : uriHost(s);
      return { form, text: `uniformResourceIdentifier ${printable(content)}`, readable: host !== undefined, host };
    }
    case DIRECTORY: {
      const inner = children(der, gn);
      const name = inner.length === 1 ? der.subarray(inner[0]!.start, inner[0]!.end) : content;
      const rdns = directoryName(der, gn);
      return { form, text: `directoryName ${formatName(name)}`, readable: rdns !== undefined, rdns };
    }
    case IP: {
      const ok = content.length === 4 || content.length === 16;
      return { form, text: `iPAddress ${ipText(content)}`, readable: ok, ip: ok ? content : undefined };
    }
    case 0: {
      let type = '';
      try {
        type = ` ${decodeOid(der, children(der, gn)[0])}`;
      } catch {
        // an unreadable type-id: the form alone names it
      }
      return { form, text: `otherName${type}`, readable: false };
    }
    default:
      return { form, text: FORMS[form]!, readable: false };
  }
}

/** An rfc822Name (or emailAddress attribute) from its IA5String content. */
function rfc822Name(content: Uint8Array): Name {
  const s = ia5(content);
  const m = s === undefined ? undefined : mailbox(s);
  return { form: RFC822, text: `rfc822Name ${printable(content)}`, readable: m !== undefined, local: m?.local, host: m?.domain };
}

/** The RDN keys of the Name inside a directoryName ([4] EXPLICIT Name), or undefined when it is not one Name. */
function directoryName(der: Uint8Array, t: Tlv): string[] | undefined {
  const inner = children(der, t);
  if (inner.length !== 1) return undefined;
  return rdnKeys(der.subarray(inner[0]!.start, inner[0]!.end));
}

// ---------------------------------------------------------------------------------------------------------------
// Text forms

/** An IA5String's text, or undefined when a byte is above 0x7F. */
function ia5(b: Uint8Array): string | undefined {
  let s = '';
  for (const x of b) {
    if (x >= 0x80) return undefined;
    s += String.fromCharCode(x);
  }
  return s;
}

/** Bytes shown safely in a reason: printable ASCII as is, the rest as \xNN, at most 256 characters. */
function printable(b: Uint8Array): string {
  let s = '';
  for (const x of b) {
    if (s.length >= 256) return `${s}…`;
    s += x >= 0x20 && x < 0x7f && x !== 0x5c ? String.fromCharCode(x) : `\\x${x.toString(16).padStart(2, '0')}`;
  }
  return s;
}

/** `local@domain` with a non-empty local part of printable ASCII and a domain name; the domain lower-cased. */
function mailbox(s: string): { local: string; domain: string } | undefined {
  const at = s.lastIndexOf('@');
  if (at <= 0) return undefined;
  const local = s.slice(0, at);
  if (!/^[\x21-\x7e]+$/.test(local)) return undefined;
  const domain = domainName(s.slice(at + 1), false);
  return domain === undefined ? undefined : { local, domain };
}

/**
 * A domain name in lower case: non-empty labels of letters, digits, `-` and `_`, separated by single dots (a `*`
 * leftmost label too when `wildcard`). Undefined for anything else (an empty string, a trailing dot, spaces,
 * non-ASCII, an address literal).
 */
function domainName(s: string, wildcard: boolean): string | undefined {
  if (s.length === 0 || s.length > 1024) return undefined;
  const labels = s.split('.');
  for (let k = 0; k < labels.length; k++) {
    const l = labels[k]!;
    if (!/^[A-Za-z0-9_-]+$/.test(l) && !(wildcard && k === 0 && l === '*' && labels.length > 1)) return undefined;
  }
  return s.toLowerCase();
}

/**
 * The host of a URI (RFC 3986 §3.2.2), lower-cased: what follows `scheme://` up to `/`, `?` or `#`, without the
 * user information and the port. Undefined when there is no authority, when the host is empty, an IP literal
 * (`[…]` or a dotted quad: URI constraints name hosts by domain name) or not a domain name.
 */
function uriHost(uri: string): string | undefined {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(uri);
  if (!m) return undefined;
  let authority = m[1]!;
  authority = authority.slice(authority.lastIndexOf('@') + 1);
  if (authority.startsWith('[')) return undefined;
  const colon = authority.indexOf(':');
  if (colon >= 0) {
    if (!/^[0-9]*$/.test(authority.slice(colon + 1))) return undefined;
    authority = authority.slice(0, colon);
  }
  if (/^[0-9]+(\.[0-9]+){3}$/.test(authority)) return undefined;
  return domainName(authority, false);
}

/** An address as text: dotted IPv4, full IPv6 groups, or the hex of anything else. */
function ipText(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join('.');
  if (b.length === 16) {
    const groups: string[] = [];
    for (let k = 0; k < 16; k += 2) groups.push(((b[k]! << 8) | b[k + 1]!).toString(16));
    return groups.join(':');
  }
  return `0x${Array.from(b.subarray(0, 64), (x) => x.toString(16).padStart(2, '0')).join('')}`;
}
