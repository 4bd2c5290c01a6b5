/**
 * The zero-copy BER reader and DER writer every structure of smime-core is read and written with (CMS,
 * certificates, CRLs, PKCS#12, keys).
 *
 * A value is a set of offsets into the input: reading the 64 MiB encrypted content of an EnvelopedData is a
 * `subarray`, not a copy (asn1js, by contrast, copies its input and every nested value, and with its default
 * limits can't re-parse a 5 MiB pkijs message). The depth and element limits are set per call (`withBerLimits`).
 *
 * Every read is bounds-checked and depth-limited; malformed input throws `CMSInvalid`, never reads past the end.
 */
import { CMSInvalid, CMSLimitExceeded } from '../errors.js';

/** One BER element, as offsets into the buffer it was read from. */
export interface Tlv {
  /** Identifier class: 0 universal, 1 application, 2 context, 3 private. */
  cls: number;
  constructed: boolean;
  tagNo: number;
  /** Offset of the identifier octet. */
  start: number;
  /** Offset of the first content octet. */
  contentStart: number;
  /** Offset just past the last content octet (before the end-of-contents octets when indefinite). */
  contentEnd: number;
  /** Offset just past the whole element. */
  end: number;
  indefinite: boolean;
}

export interface BerLimits {
  /** Maximum nesting depth (the `maxBerDepth` limit). */
  maxDepth: number;
  /** Maximum number of elements of one constructed value, or chunks of a constructed string (`maxBerElements`). */
  maxChunks: number;
}

export const DEFAULT_BER_LIMITS: BerLimits = { maxDepth: 64, maxChunks: 1 << 20 };

/** The limits a read uses when it is given none: the defaults, or those of `withBerLimits`. */
let current: BerLimits = DEFAULT_BER_LIMITS;

/**
 * Runs `parse` (synchronous, so no other parse can run meanwhile) with `lim` as the limits of every read that is
 * given none, then restores the previous ones. How one call's `maxBerDepth`/`maxBerElements` reach the readers of a
 * whole structure without threading them through every `children()`.
 */
export function withBerLimits<T>(lim: BerLimits, parse: () => T): T {
  const previous = current;
  current = lim;
  try {
    return parse();
  } finally {
    current = previous;
  }
}

/** The limits a read given none uses now (those of the enclosing `withBerLimits`, or the defaults). */
export function berLimitsInForce(): BerLimits {
  return current;
}

export const UNIVERSAL = 0;
export const CONTEXT = 2;
export const TAG = {
  BOOLEAN: 1,
  INTEGER: 2,
  BIT_STRING: 3,
  OCTET_STRING: 4,
  NULL: 5,
  OID: 6,
  UTF8String: 12,
  SEQUENCE: 16,
  SET: 17,
  PrintableString: 19,
  IA5String: 22,
  UTCTime: 23,
  GeneralizedTime: 24,
} as const;

function fail(msg: string): never {
  throw new CMSInvalid(`malformed BER: ${msg}`);
}

/** Reads the element that starts at `pos`; `limit` is the end of the enclosing value. */
export function readTlv(buf: Uint8Array, pos: number, limit = buf.length, depth = 0, lim = current): Tlv {
  if (depth > lim.maxDepth) throw new CMSLimitExceeded(`BER nesting deeper than ${lim.maxDepth}`, { limit: 'maxBerDepth' });
  const start = pos;
  if (pos >= limit) fail('truncated (identifier)');
  const id = buf[pos++]!;
  const cls = id >> 6;
  const constructed = (id & 0x20) !== 0;
  let tagNo = id & 0x1f;
  if (tagNo === 0x1f) {
    tagNo = 0;
    for (let i = 0; ; i++) {
      if (pos >= limit) fail('truncated (tag)');
      if (i >= 4) fail('tag number too large');
      const b = buf[pos++]!;
      tagNo = tagNo * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
  }
  if (pos >= limit) fail('truncated (length)');
  const l0 = buf[pos++]!;
  if (l0 === 0x80) {
    if (!constructed) fail('indefinite length on a primitive value');
    const contentStart = pos;
    // Walk the children until the end-of-contents octets.
    let p = pos;
    for (;;) {
      if (p + 2 > limit) fail('truncated (missing end-of-contents)');
      if (buf[p] === 0 && buf[p + 1] === 0) break;
      p = readTlv(buf, p, limit, depth + 1, lim).end;
    }
    return { cls, constructed, tagNo, start, contentStart, contentEnd: p, end: p + 2, indefinite: true };
  }
  let len: number;
  if (l0 < 0x80) len = l0;
  else {
    const n = l0 & 0x7f;
    if (n > 6) fail('length too large');
    len = 0;
    for (let i = 0; i < n; i++) {
      if (pos >= limit) fail('truncated (length)');
      len = len * 256 + buf[pos++]!;
    }
  }
  const contentStart = pos;
  const contentEnd = pos + len;
  if (contentEnd > limit) fail(`truncated (value needs ${len} bytes, ${limit - pos} left)`);
  return { cls, constructed, tagNo, start, contentStart, contentEnd, end: contentEnd, indefinite: false };
}

/**
 * The direct children of a constructed element. `t` may be a missing element (`f[2]` of a SEQUENCE that has two):
 * that is malformed input, `CMSInvalid`, not a TypeError in the caller.
 */
export function children(buf: Uint8Array, t: Tlv | undefined, depth = 0, lim = current): Tlv[] {
  if (!t) fail('missing element');
  if (!t.constructed) fail('expected a constructed value');
  const out: Tlv[] = [];
  let p = t.contentStart;
  while (p < t.contentEnd) {
    const c = readTlv(buf, p, t.contentEnd, depth + 1, lim);
    out.push(c);
    if (out.length > lim.maxChunks) throw new CMSLimitExceeded(`more than ${lim.maxChunks} elements in one BER value`, { limit: 'maxBerElements' });
    p = c.end;
  }
  return out;
}

/** Checks that `t` is a universal element with tag `tagNo` (and, for SEQUENCE/SET, constructed). */
export function expect(t: Tlv | undefined, tagNo: number, what: string, cls = UNIVERSAL): Tlv {
  if (!t || t.cls !== cls || t.tagNo !== tagNo) fail(`expected ${what}`);
  return t;
}

/**
 * The bytes of an OCTET STRING (or any string type): a subarray when primitive, one joined copy when constructed.
 * With `room` > 0 the result is always a fresh buffer, `room` bytes longer than the content (which starts it).
 */
export function stringContent(buf: Uint8Array, t: Tlv | undefined, lim = current, room = 0): Uint8Array {
  if (!t) fail('missing string');
  if (!t.constructed && room === 0) return buf.subarray(t.contentStart, t.contentEnd);
  const chunks: Tlv[] = [];
  if (t.constructed) collectChunks(buf, t, chunks, 0, lim);
  else chunks.push(t);
  if (chunks.length === 1 && room === 0) return buf.subarray(chunks[0]!.contentStart, chunks[0]!.contentEnd);
  let n = 0;
  for (const c of chunks) n += c.contentEnd - c.contentStart;
  const out = new Uint8Array(n + room);
  let o = 0;
  for (const c of chunks) {
    out.set(buf.subarray(c.contentStart, c.contentEnd), o);
    o += c.contentEnd - c.contentStart;
  }
  return out;
}

function collectChunks(buf: Uint8Array, t: Tlv, out: Tlv[], depth: number, lim: BerLimits): void {
  let p = t.contentStart;
  while (p < t.contentEnd) {
    const c = readTlv(buf, p, t.contentEnd, depth + 1, lim);
    if (c.cls !== UNIVERSAL || c.tagNo !== TAG.OCTET_STRING) fail('constructed string holds a non-string chunk');
    if (c.constructed) collectChunks(buf, c, out, depth + 1, lim);
    else {
      out.push(c);
      if (out.length > lim.maxChunks) throw new CMSLimitExceeded(`more than ${lim.maxChunks} string chunks`, { limit: 'maxBerElements' });
    }
    p = c.end;
  }
}

/** The dotted form of an OBJECT IDENTIFIER (`t` may be a missing element: `CMSInvalid`). */
export function decodeOid(buf: Uint8Array, t: Tlv | undefined): string {
  if (!t || t.cls !== UNIVERSAL || t.tagNo !== TAG.OID || t.constructed) fail('expected an OBJECT IDENTIFIER');
  const b = buf.subarray(t.contentStart, t.contentEnd);
  if (b.length === 0 || b.length > 64) fail('bad OBJECT IDENTIFIER length');
  const arcs: number[] = [];
  let v = 0;
  for (let i = 0; i < b.length; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 128) fail('OBJECT IDENTIFIER arc too large');
    if ((b[i]! & 0x80) === 0) {
      if (arcs.length === 0) {
        const first = v < 80 ? Math.floor(v / 40) : 2;
        arcs.push(first, v - first * 40);
      } else arcs.push(v);
      v = 0;
    } else if (i === b.length - 1) fail('truncated OBJECT IDENTIFIER');
  }
  return arcs.join('.');
}

// ---------------------------------------------------------------------------------------------------------------
// DER writer

export function encodeLength(len: number): Uint8Array {
  if (len < 0x80) return Uint8Array.of(len);
  const bytes: number[] = [];
  let l = len;
  while (l > 0) {
    bytes.unshift(l & 0xff);
    l = Math.floor(l / 256);
  }
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** Identifier octet for a tag. `constructed` is implied for SEQUENCE and SET. */
export function identifier(cls: number, tagNo: number, constructed: boolean): number {
  if (tagNo >= 31) throw new RangeError('identifier: high tag numbers are not written');
  return (cls << 6) | (constructed ? 0x20 : 0) | tagNo;
}

/** The header (identifier and length) of an element whose content is `len` bytes long. */
export function header(id: number, len: number): Uint8Array {
  const l = encodeLength(len);
  const out = new Uint8Array(1 + l.length);
  out[0] = id;
  out.set(l, 1);
  return out;
}

/** A whole element: header plus the concatenated parts. */
export function tlv(id: number, ...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const h = header(id, n);
  const out = new Uint8Array(h.length + n);
  out.set(h, 0);
  let o = h.length;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const seq = (...parts: Uint8Array[]): Uint8Array => tlv(0x30, ...parts);
export const set = (...parts: Uint8Array[]): Uint8Array => tlv(0x31, ...parts);
export const octets = (b: Uint8Array): Uint8Array => tlv(0x04, b);
/** [n] EXPLICIT (constructed context tag). */
export const explicit = (n: number, ...parts: Uint8Array[]): Uint8Array => tlv(0xa0 | n, ...parts);
/** [n] IMPLICIT primitive. */
export const implicitPrim = (n: number, b: Uint8Array): Uint8Array => tlv(0x80 | n, b);
export const NULL = Uint8Array.of(0x05, 0x00);

export function integer(n: number | bigint | Uint8Array): Uint8Array {
  let b: Uint8Array;
  if (n instanceof Uint8Array) {
    let i = 0;
    while (i < n.length - 1 && n[i] === 0 && (n[i + 1]! & 0x80) === 0) i++;
    b = n.subarray(i);
    if (b.length === 0) b = Uint8Array.of(0);
    if (b[0]! & 0x80) b = Uint8Array.of(0, ...b);
  } else {
    let v = BigInt(n);
    if (v < 0n) throw new RangeError('integer: negative values are not written');
    const bytes: number[] = [];
    do {
      bytes.unshift(Number(v & 0xffn));
      v >>= 8n;
    } while (v > 0n);
    if (bytes[0]! & 0x80) bytes.unshift(0);
    b = Uint8Array.from(bytes);
  }
  return tlv(0x02, b);
}

export function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new RangeError(`oid: bad arc in ${dotted}`);
    return Number(a);
  });
  if (arcs.length < 2) throw new RangeError(`oid: too few arcs in ${dotted}`);
  const out: number[] = [];
  const push = (v: number) => {
    const tmp = [v & 0x7f];
    v = Math.floor(v / 128);
    while (v > 0) {
      tmp.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(...tmp);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (let i = 2; i < arcs.length; i++) push(arcs[i]!);
  return tlv(0x06, Uint8Array.from(out));
}

/** AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL } */
export function algorithmIdentifier(dotted: string, params?: Uint8Array): Uint8Array {
  return params ? seq(oid(dotted), params) : seq(oid(dotted));
}

/** Sorts DER encodings for a SET OF, as X.690 §11.6 asks (pkijs does not; Bouncy Castle rejects unsorted sets). */
export function sortDerSet(items: Uint8Array[]): Uint8Array[] {
  return [...items].sort((a, b) => {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  });
}

/** An AlgorithmIdentifier as read: its OID, its whole DER and its parameters (RFC 5280 §4.1.1.2). */
export interface ParsedAlgorithm {
  oid: string;
  /** The whole AlgorithmIdentifier element's bytes. */
  der: Uint8Array;
  /** The parameters element, if any (offsets into `der`). */
  params?: Tlv;
}

/** Reads an AlgorithmIdentifier (its OID, whole DER and parameters); malformed → CMSInvalid naming `what`. */
export function readAlgorithm(buf: Uint8Array, t: Tlv | undefined, what: string): ParsedAlgorithm {
  if (!t || t.cls !== 0 || t.tagNo !== TAG.SEQUENCE || !t.constructed) throw new CMSInvalid(`${what}: expected an AlgorithmIdentifier`);
  const der = buf.subarray(t.start, t.end);
  const top = readTlv(der, 0);
  const [oT, pT] = children(der, top);
  if (!oT) throw new CMSInvalid(`${what}: empty AlgorithmIdentifier`);
  return { oid: decodeOid(der, oT), der, params: pT };
}
