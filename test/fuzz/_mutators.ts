/**
 * Fuzz mutators: fast-check arbitraries that turn a seed (a real message, certificate, CRL or PKCS#12 file) into a
 * hostile variant. Random bytes rarely get past the first length check; these mutators know the three formats the
 * library parses, so most cases reach deep code:
 * - DER: the TLV tree is read with src/cms/der.ts (`readTlv`), OCTET STRINGs that hold DER are opened too, then an
 *   element's length, tag or content is changed, an element is duplicated, dropped, swapped, nested deeper, turned
 *   into indefinite-length BER or chunked; every enclosing length is recomputed so the damage is where we put it.
 * - MIME: boundaries, header lines, Content-Type and Content-Transfer-Encoding values, line endings, nesting.
 * - base64: a base64 body is decoded, mutated as DER, and encoded again with odd line lengths and stray characters.
 *
 * A case is a plan of small integers (`Plan`), so fast-check shrinks it; `applyPlan` is deterministic.
 */
import fc from 'fast-check';
import { readTlv } from '../../src/lib/der.js';
import { concat } from '../../src/lib/bytes.js';

/**
 * The shape of a seed, which picks the mutators that understand it: 'eml' is a message for a CMS target (mostly
 * its base64 CMS body is mutated, to get past the MIME layer), 'mime' a message for the MIME parser (mostly its
 * MIME structure is mutated).
 */
export type Family = 'eml' | 'mime' | 'der' | 'pem';

export interface Seed {
  name: string;
  family: Family;
  bytes: Uint8Array;
}

/** One mutation: `kind` picks the mutator, `a`, `b`, `c` are its random choices. */
export interface Op {
  kind: number;
  a: number;
  b: number;
  c: number;
}

/** A fuzz case: which seed, which mutations, and how the bytes are handed over. */
export interface Plan {
  seed: number;
  ops: Op[];
  /** Pass the input as a Node Buffer view at a non-zero offset of a larger ArrayBuffer (else a plain Uint8Array). */
  view: boolean;
  /** Pass the input as a string where the target takes one (PEM, MIME). */
  asString: boolean;
  /** The stream targets: how the input is cut into the pieces of the ReadableStream (see {@link pieceSizes}). */
  pieces?: Pieces;
}

/**
 * How a stream target's input is cut into pieces, a random choice of the case (so a case replays with the same
 * pieces): in one piece, or `prefix` single bytes and then pieces of 1..`max` bytes drawn from `rnd`.
 */
export interface Pieces {
  one: boolean;
  prefix: number;
  max: number;
  rnd: number;
}

/** At most this many pieces of `max` bytes: a larger input gets larger pieces (a case stays fast). */
const MAX_PIECES = 4000;

/** The piece sizes of an input of `length` bytes (deterministic; they add up to `length`). */
export function pieceSizes(length: number, p: Pieces | undefined): number[] {
  if (!p || p.one || length === 0) return length === 0 ? [] : [length];
  const sizes: number[] = [];
  let left = length;
  for (let i = 0; i < p.prefix && left > 0; i++, left--) sizes.push(1);
  const max = Math.max(1, p.max, Math.ceil(left / MAX_PIECES) * 2);
  let x = p.rnd >>> 0 || 1;
  while (left > 0) {
    // xorshift32: the same sizes for the same plan
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const n = Math.min(left, 1 + (x % max));
    sizes.push(n);
    left -= n;
  }
  return sizes;
}

const piecesArb: fc.Arbitrary<Pieces> = fc.record({
  one: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
  prefix: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 64 })),
  max: fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 1024 }), fc.integer({ min: 1, max: 65536 })),
  rnd: fc.integer({ min: 1, max: 0x7fffffff }),
});

const u31 = fc.integer({ min: 0, max: 0x7fffffff });
const op: fc.Arbitrary<Op> = fc.record({ kind: u31, a: u31, b: u31, c: u31 });

/** The arbitrary of fuzz cases over `seedCount` seeds; with `stream`, each case also has its {@link Pieces}. */
export function planArb(seedCount: number, stream = false): fc.Arbitrary<Plan> {
  const base = {
    seed: fc.integer({ min: 0, max: Math.max(0, seedCount - 1) }),
    ops: fc.array(op, { minLength: 1, maxLength: 3 }),
    view: fc.boolean(),
    asString: fc.boolean(),
  };
  // The buffer targets keep the record they had, so their cases for a given fast-check seed stay the same.
  return stream ? fc.record({ ...base, pieces: piecesArb }) : fc.record(base);
}

/** The input bytes of a case. */
export function applyPlan(seeds: readonly Seed[], plan: Plan): Uint8Array {
  const s = seeds[plan.seed % seeds.length]!;
  let b = s.bytes;
  for (const o of plan.ops) b = mutate(s.family, b, o);
  return b;
}

/** The largest case a mutation may make (a mutation that would go past it leaves the input as it was). */
export const MAX_CASE_BYTES = 4 * 1024 * 1024;

export function mutate(family: Family, b: Uint8Array, o: Op): Uint8Array {
  const out = mutateOnce(family, b, o);
  return out.length > MAX_CASE_BYTES ? b : out;
}

function mutateOnce(family: Family, b: Uint8Array, o: Op): Uint8Array {
  if (family === 'der') {
    // Mostly structure-aware; sometimes plain bytes.
    return o.kind % 8 < 6 ? mutateDer(b, o) : mutateBytes(b, o);
  }
  if (family === 'pem') {
    const k = o.kind % 8;
    if (k < 5) return mutateBase64Region(b, o, true);
    if (k < 7) return mutateText(b, o);
    return mutateBytes(b, o);
  }
  const k = o.kind % 20;
  const mime = family === 'mime' ? 12 : 6;
  if (k < mime) return mutateMime(b, o);
  if (k < 17) return mutateBase64Region(b, o, false);
  return mutateBytes(b, o);
}

// -----------------------------------------------------------------------------------------------------------------
// Bytes

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0x81, 0xff, 0x30, 0x31, 0x04, 0x24, 0xa0, 0x0a, 0x0d, 0x2d, 0x3d];

function mutateBytes(b: Uint8Array, o: Op): Uint8Array {
  if (b.length === 0) return Uint8Array.of(o.a & 0xff);
  const p = o.a % b.length;
  const out = () => b.slice();
  switch (o.kind % 6) {
    case 0: {
      const r = out();
      r[p] = r[p]! ^ (1 << (o.b % 8));
      return r;
    }
    case 1: {
      const r = out();
      r[p] = INTERESTING[o.b % INTERESTING.length]!;
      return r;
    }
    case 2:
      return b.slice(0, p); // truncate
    case 3: {
      const n = 1 + (o.b % 16);
      const ins = new Uint8Array(n).map((_, i) => (o.c >> (i % 24)) & 0xff);
      return cat(b.subarray(0, p), ins, b.subarray(p));
    }
    case 4:
      return cat(b.subarray(0, p), b.subarray(Math.min(b.length, p + 1 + (o.b % 64)))); // delete a range
    default: {
      const n = 1 + (o.b % 256);
      return cat(b.subarray(0, p), b.subarray(p, p + n), b.subarray(p)); // duplicate a range
    }
  }
}

const cat = (...parts: Uint8Array[]): Uint8Array => concat(parts);

// -----------------------------------------------------------------------------------------------------------------
// DER

interface Node {
  /** The identifier octets. */
  head: Uint8Array;
  indefinite: boolean;
  /** Children of a constructed element, or of an OCTET STRING that holds DER (`wrapped`). */
  kids?: Node[];
  wrapped?: boolean;
  content?: Uint8Array;
  /** A length field written as is instead of the right one. */
  badLength?: Uint8Array;
}

const MAX_NODES = 4000;

/** The TLV tree of `b`, or undefined when `b` is not one BER element. */
export function parseDer(b: Uint8Array): Node | undefined {
  const count = { n: 0 };
  try {
    const nodes = parseList(b, 0, b.length, 0, count);
    return nodes?.length === 1 ? nodes[0] : undefined;
  } catch {
    return undefined;
  }
}

function parseList(b: Uint8Array, start: number, end: number, depth: number, count: { n: number }): Node[] | undefined {
  const out: Node[] = [];
  let p = start;
  while (p < end) {
    if (++count.n > MAX_NODES || depth > 60) return undefined;
    const t = readTlv(b, p, end);
    const idLen = headerIdLength(b, t.start);
    const node: Node = { head: b.slice(t.start, t.start + idLen), indefinite: t.indefinite };
    if (t.constructed) {
      const kids = parseList(b, t.contentStart, t.contentEnd, depth + 1, count);
      if (!kids) return undefined;
      node.kids = kids;
    } else {
      node.content = b.subarray(t.contentStart, t.contentEnd);
      // An OCTET STRING that holds exactly one constructed element (a certificate bag, a wrapped key…).
      if (t.cls === 0 && t.tagNo === 4 && t.contentEnd - t.contentStart > 2 && (b[t.contentStart]! & 0x20) !== 0) {
        const save = count.n;
        let inner: Node[] | undefined;
        try {
          inner = parseList(b, t.contentStart, t.contentEnd, depth + 1, count);
        } catch {
          inner = undefined;
        }
        if (inner?.length === 1) {
          node.kids = inner;
          node.wrapped = true;
          delete node.content;
        } else count.n = save;
      }
    }
    out.push(node);
    p = t.end;
  }
  return out;
}

function headerIdLength(b: Uint8Array, start: number): number {
  if ((b[start]! & 0x1f) !== 0x1f) return 1;
  let i = start + 1;
  while (i < b.length && b[i]! & 0x80) i++;
  return i - start + 1;
}

function lengthBytes(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let l = n; l > 0; l = Math.floor(l / 256)) bytes.unshift(l & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** Encodes a node, with every length recomputed (except a planted `badLength`). */
export function encodeDer(n: Node): Uint8Array {
  const body = n.kids ? cat(...n.kids.map(encodeDer)) : (n.content ?? new Uint8Array(0));
  if (n.badLength) return cat(n.head, n.badLength, body);
  if (n.indefinite && !n.wrapped && n.kids) return cat(n.head, Uint8Array.of(0x80), body, Uint8Array.of(0, 0));
  return cat(n.head, lengthBytes(body.length), body);
}

interface Located {
  node: Node;
  parent?: Node;
  index: number;
}

function flatten(root: Node): Located[] {
  const out: Located[] = [{ node: root, index: 0 }];
  for (let i = 0; i < out.length; i++) {
    const { node } = out[i]!;
    node.kids?.forEach((k, j) => out.push({ node: k, parent: node, index: j }));
  }
  return out;
}

function clone(n: Node): Node {
  const c: Node = { ...n };
  if (n.kids) c.kids = n.kids.map(clone);
  return c;
}

const TAGS = [0x30, 0x31, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x13, 0x17, 0x18, 0x24, 0x80, 0x81, 0xa0, 0xa1, 0xa2, 0xa3, 0x00, 0x1f, 0xff];

function mutateDer(b: Uint8Array, o: Op): Uint8Array {
  const root = parseDer(b);
  if (!root) return mutateBytes(b, o);
  const all = flatten(root);
  const at = all[o.a % all.length]!;
  const n = at.node;
  const siblings = at.parent?.kids;
  switch (o.kind % 9) {
    case 0: {
      // A wrong length field.
      const len = encodeDer({ ...n, badLength: undefined }).length;
      const choices = [
        lengthBytes(Math.max(0, len - 3)),
        lengthBytes(len + (o.c % 5)),
        Uint8Array.of(0x00),
        Uint8Array.of(0x80),
        Uint8Array.of(0xff),
        Uint8Array.of(0x84, 0xff, 0xff, 0xff, 0xff),
        Uint8Array.of(0x86, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff),
        Uint8Array.of(0x87, 0, 0, 0, 0, 0, 0, 1),
        Uint8Array.of(0x82, 0x00, o.c & 0x7f), // non-minimal
        Uint8Array.of(0x81),
      ];
      n.badLength = choices[o.b % choices.length];
      break;
    }
    case 1: {
      // Another tag: from the list, or this one with its class, constructed bit or number changed.
      const h = n.head[0]!;
      const pick = o.b % 4;
      n.head =
        pick === 0 ? Uint8Array.of(TAGS[o.c % TAGS.length]!) :
        pick === 1 ? Uint8Array.of(h ^ 0x20) :
        pick === 2 ? Uint8Array.of((h & 0x3f) | ((o.c % 4) << 6)) :
        Uint8Array.of((h & 0xe0) | 0x1f, 0x80 | (o.c % 127), o.c & 0x7f); // high tag number
      break;
    }
    case 2: {
      // Duplicate an element (a few times, or many: counts of SignerInfos, RecipientInfos, certificates…).
      if (!siblings) return mutateBytes(b, o);
      const size = encodeDer(n).length;
      const times = Math.max(1, Math.min(o.b % 4 === 0 ? 2 + (o.c % 300) : 1 + (o.c % 3), Math.floor(MAX_CASE_BYTES / 2 / (size + 4))));
      siblings.splice(at.index + 1, 0, ...Array.from({ length: times }, () => clone(n)));
      break;
    }
    case 3:
      if (!siblings) return b.subarray(0, Math.max(0, b.length - 1 - (o.b % 8)));
      siblings.splice(at.index, 1);
      break;
    case 4: {
      // Nest deeper: wrap the element in SEQUENCEs (or in copies of its own tag), past the depth limit sometimes.
      const depth = o.b % 3 === 0 ? 50 + (o.c % 40) : 1 + (o.c % 4);
      let w = n;
      for (let i = 0; i < depth; i++) w = { head: (o.b & 1) === 1 && (n.head[0]! & 0x20) !== 0 ? n.head : Uint8Array.of(0x30), indefinite: false, kids: [w] };
      if (siblings) siblings[at.index] = w;
      else return encodeDer(w);
      break;
    }
    case 5: {
      // Change primitive content (or empty a constructed element).
      if (n.kids) {
        if (o.b % 2 === 0) n.kids = [];
        else n.indefinite = !n.indefinite && !n.wrapped;
        break;
      }
      const c = n.content ?? new Uint8Array(0);
      const choice = o.b % 7;
      if (choice === 0) n.content = new Uint8Array(0);
      else if (choice === 1) n.content = c.subarray(0, c.length >> 1);
      else if (choice === 2) n.content = cat(c, new Uint8Array(1 + (o.c % 40)).fill(o.c & 0xff));
      else if (choice === 3) n.content = Uint8Array.of(0xff, ...new Uint8Array(o.c % 20).fill(0xff)); // negative/huge INTEGER
      else if (choice === 4) n.content = Uint8Array.of(0x80 | (o.c & 0x7f), 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 1); // long OID arc
      else if (choice === 5) {
        const r = c.slice();
        if (r.length) r[o.c % r.length] = r[o.c % r.length]! ^ (1 + (o.a & 0x7f));
        n.content = r;
      } else n.content = Uint8Array.of(o.c & 0xff);
      break;
    }
    case 6: {
      if (!siblings || siblings.length < 2) return mutateBytes(b, o);
      const j = o.b % siblings.length;
      [siblings[at.index], siblings[j]] = [siblings[j]!, siblings[at.index]!];
      break;
    }
    case 7: {
      // Indefinite-length BER, or a primitive string split into a constructed one.
      if (n.kids && !n.wrapped) n.indefinite = !n.indefinite;
      else if (n.content) {
        const step = 1 + (o.b % 16);
        const chunks: Node[] = [];
        for (let i = 0; i < n.content.length; i += step) chunks.push({ head: Uint8Array.of(0x04), indefinite: false, content: n.content.subarray(i, i + step) });
        n.head = Uint8Array.of(n.head[0]! | 0x20);
        n.kids = chunks.slice(0, 5000);
        n.indefinite = o.c % 2 === 0;
        delete n.content;
      }
      break;
    }
    default: {
      // Move an element into another place of the tree.
      const to = all[o.b % all.length]!.node;
      if (!to.kids || to === n) return mutateBytes(b, o);
      to.kids.splice(o.c % (to.kids.length + 1), 0, clone(n));
      break;
    }
  }
  return encodeDer(root);
}

// -----------------------------------------------------------------------------------------------------------------
// Text (latin1: every byte survives)

export const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
export const fromLatin1 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

function mutateText(b: Uint8Array, o: Op): Uint8Array {
  const s = latin1(b);
  const lines = s.split('\n');
  const i = o.a % lines.length;
  switch (o.kind % 4) {
    case 0:
      lines.splice(i, 0, lines[i]!); // duplicate a line
      break;
    case 1:
      lines.splice(i, 1);
      break;
    case 2:
      lines[i] = ['-----BEGIN CERTIFICATE-----', '-----END CERTIFICATE-----', '-----BEGIN X509 CRL-----', '-----END X509 CRL-----', '', '====', 'Proc-Type: 4,ENCRYPTED', '-----BEGIN'][o.b % 8]!;
      break;
    default:
      return fromLatin1(s.replace(/\r?\n/g, o.b % 2 === 0 ? '\r\n' : '\r'));
  }
  return fromLatin1(lines.join('\n'));
}

const CONTENT_TYPES = [
  'application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m',
  'application/pkcs7-mime; smime-type=signed-data',
  'application/x-pkcs7-mime; smime-type=authEnveloped-data',
  'application/pkcs7-mime',
  'application/pkcs7-signature; name=smime.p7s',
  'multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="b1"',
  'multipart/signed; protocol="application/x-pkcs7-signature"; boundary=',
  'multipart/mixed; boundary="b1"',
  'multipart/mixed',
  'message/rfc822',
  'text/plain; charset=utf-8',
  'application/octet-stream; name="x.p7m"',
  'application/pkcs7-mime; smime-type="enveloped-data',
  "multipart/signed; boundary*0=\"b\"; boundary*1=\"1\"; protocol*=us-ascii''application%2Fpkcs7-signature",
  '',
  ';;;=;"',
];
const CTES = ['base64', 'BASE64', ' base64 ', 'quoted-printable', '7bit', '8bit', 'binary', 'x-uuencode', '', 'base64; x=1'];

function mutateMime(b: Uint8Array, o: Op): Uint8Array {
  let s = latin1(b);
  const nl = s.includes('\r\n') ? '\r\n' : '\n';
  const boundaries = [...s.matchAll(/boundary="?([^";\r\n]+)"?/gi)].map((m) => m[1]!);
  switch (o.kind % 12) {
    case 0: {
      // A boundary parameter changed, or the delimiter lines changed, or the close delimiter dropped.
      if (!boundaries.length) return mutateText(b, o);
      const bd = boundaries[o.b % boundaries.length]!;
      const pick = o.c % 6;
      const other = ['', 'x'.repeat(200), bd.slice(0, -1), bd + bd, '-', ' ' + bd][o.a % 6]!;
      if (pick === 0) s = s.replace(`boundary="${bd}"`, `boundary="${other}"`).replace(`boundary=${bd}`, `boundary=${other}`);
      else if (pick === 1) s = s.split(`--${bd}--`).join('');
      else if (pick === 2) s = s.split(`--${bd}`).join(`--${other}`);
      else if (pick === 3) s = s.replace(`--${bd}${nl}`, `--${bd}${nl}--${bd}${nl}`);
      else if (pick === 4) s = s.replace(`--${bd}--`, `--${bd}--${nl}--${bd}${nl}`.repeat(1 + (o.a % 3)));
      else s = s.split(`--${bd}`).join(`--${bd} \t`);
      break;
    }
    case 1: {
      // A header line duplicated, dropped, or a bad one inserted.
      const lines = s.split(nl);
      const headerLines = Math.max(1, lines.indexOf(''));
      const i = o.a % headerLines;
      const pick = o.b % 5;
      if (pick === 0) lines.splice(i, 0, lines[i]!);
      else if (pick === 1) lines.splice(i, 1);
      else if (pick === 2) lines.splice(i, 0, ['no colon here', ' continuation', ': empty name', 'X: ' + 'y'.repeat(5000), 'Bad Name: v'][o.c % 5]!);
      else if (pick === 3) lines.splice(i, 0, ...Array.from({ length: 1 + (o.c % 1200) }, (_, k) => `X-H${k}: v`));
      else lines.splice(i, 0, 'X-Folded: a', ...Array.from({ length: 1 + (o.c % 50) }, () => '\tb'));
      s = lines.join(nl);
      break;
    }
    case 2:
    case 3: {
      // A Content-Type value replaced (the n-th one).
      const all = [...s.matchAll(/^content-type:[^\r\n]*(\r?\n[ \t][^\r\n]*)*/gim)];
      if (!all.length) s = `Content-Type: ${CONTENT_TYPES[o.b % CONTENT_TYPES.length]}${nl}` + s;
      else {
        const m = all[o.a % all.length]!;
        s = s.slice(0, m.index) + `Content-Type: ${CONTENT_TYPES[o.b % CONTENT_TYPES.length]}` + s.slice(m.index! + m[0].length);
      }
      break;
    }
    case 4: {
      const all = [...s.matchAll(/^content-transfer-encoding:[^\r\n]*/gim)];
      const v = `Content-Transfer-Encoding: ${CTES[o.b % CTES.length]}`;
      if (!all.length) s = v + nl + s;
      else {
        const m = all[o.a % all.length]!;
        s = o.c % 4 === 0 ? s.slice(0, m.index) + s.slice(m.index! + m[0].length + nl.length) : s.slice(0, m.index) + v + s.slice(m.index! + m[0].length);
      }
      break;
    }
    case 5: {
      // Line endings: all LF, all CRLF, bare CR, or mixed.
      const pick = o.b % 4;
      if (pick === 0) s = s.replace(/\r\n/g, '\n');
      else if (pick === 1) s = s.replace(/\r?\n/g, '\r\n');
      else if (pick === 2) s = s.replace(/\r?\n/g, '\r');
      else s = s.replace(/\r?\n/g, (_m, off: number) => ((off + o.c) % 3 === 0 ? '\n' : '\r\n'));
      break;
    }
    case 6: {
      // The empty line after the headers removed, or doubled.
      const i = s.indexOf(nl + nl);
      if (i < 0) return mutateBytes(b, o);
      s = o.b % 2 === 0 ? s.slice(0, i) + s.slice(i + nl.length) : s.slice(0, i) + nl + s.slice(i);
      break;
    }
    case 7: {
      // Nest the message in multipart/mixed or message/rfc822 layers.
      const depth = o.b % 3 === 0 ? 20 + (o.c % 30) : 1 + (o.c % 3);
      for (let d = 0; d < depth; d++) {
        if ((o.a >> (d % 16)) & 1) s = `Content-Type: message/rfc822${nl}${nl}${s}`;
        else s = `Content-Type: multipart/mixed; boundary="n${d}"${nl}${nl}--n${d}${nl}${s}${nl}--n${d}--${nl}`;
      }
      break;
    }
    case 8: {
      // A body part duplicated (or many: past maxParts sometimes).
      if (!boundaries.length) return mutateBytes(b, o);
      const bd = boundaries[o.b % boundaries.length]!;
      const parts = s.split(`--${bd}`);
      if (parts.length < 3) return mutateBytes(b, o);
      const k = 1 + (o.a % (parts.length - 2));
      const times = Math.min(o.c % 4 === 0 ? 1000 : 1 + (o.c % 3), Math.floor(MAX_CASE_BYTES / 2 / (parts[k]!.length + 1)));
      parts.splice(k, 0, ...Array.from({ length: times }, () => parts[k]!));
      s = parts.join(`--${bd}`);
      break;
    }
    case 9:
      return b.slice(0, o.a % (b.length + 1)); // truncate
    case 10: {
      // An mbox "From " line, a BOM, or leading blank lines in front.
      s = ['From alice@example.com Sat Jan  1 00:00:00 2000' + nl, '\xef\xbb\xbf', nl, ' ' + nl, '0'][o.b % 5] + s;
      break;
    }
    default: {
      // A smime-type or name parameter changed.
      s = s.replace(/smime-type=("?)[\w-]*("?)/i, `smime-type=$1${['signed-data', 'enveloped-data', 'authEnveloped-data', 'certs-only', 'compressed-data', ''][o.b % 6]}$2`);
      break;
    }
  }
  return fromLatin1(s);
}

// -----------------------------------------------------------------------------------------------------------------
// base64

const B64_LINE = /^[A-Za-z0-9+/=]{4,}\r?$/;

/** Runs of base64 lines (a MIME body, a PEM block): [start, end) in the latin1 text. A line scan, not one regex (a
 * regex over a multi-MiB run overflows the stack). */
function base64Runs(s: string): [number, number][] {
  const out: [number, number][] = [];
  let runStart = -1;
  let pos = 0;
  while (pos <= s.length) {
    const nl = s.indexOf('\n', pos);
    const end = nl < 0 ? s.length : nl + 1;
    const line = s.slice(pos, nl < 0 ? s.length : nl);
    const b64 = line.length <= 10_000 && B64_LINE.test(line);
    if (b64 && runStart < 0) runStart = pos;
    if (!b64 && runStart >= 0) {
      if (pos - runStart >= 40) out.push([runStart, pos]);
      runStart = -1;
    }
    if (nl < 0) {
      if (runStart >= 0 && end - runStart >= 40) out.push([runStart, end]);
      break;
    }
    pos = end;
  }
  return out;
}

const LINE_LENGTHS = [1, 3, 4, 63, 64, 65, 76, 77, 999, 5000, 0];

function mutateBase64Region(b: Uint8Array, o: Op, pem: boolean): Uint8Array {
  const s = latin1(b);
  const runs = base64Runs(s);
  if (!runs.length) return pem ? mutateText(b, o) : mutateMime(b, o);
  const [start, end] = runs[o.a % runs.length]!;
  const region = s.slice(start, end);
  const nl = region.includes('\r\n') ? '\r\n' : '\n';
  let der: Uint8Array = new Uint8Array(Buffer.from(region.replace(/\s+/g, ''), 'base64'));
  const pick = o.kind % 5;
  // The decoded bytes mutated as DER (most of the time), or just re-encoded.
  if (pick < 3) der = mutateDer(der, { kind: o.b, a: o.c, b: o.a >> 3, c: o.b >> 4 });
  let text = Buffer.from(der).toString('base64');
  if (pick === 3) {
    // Stray characters in the base64: spaces, '=' in the middle, non-alphabet bytes, no padding.
    const junk = [' ', '=', '*', '\t', '==', '\x00', '-', '.', '\xff'][o.b % 9]!;
    const p = o.c % (text.length + 1);
    text = o.b % 11 === 0 ? text.replace(/=+$/, '') : text.slice(0, p) + junk + text.slice(p);
  }
  const L = LINE_LENGTHS[(o.c >> 2) % LINE_LENGTHS.length]!;
  let body = '';
  if (L === 0) body = text + nl;
  else for (let i = 0; i < text.length; i += L) body += text.slice(i, i + L) + nl;
  return cat(b.subarray(0, start), fromLatin1(body), b.subarray(end));
}
