/**
 * S/MIME-specific MIME helpers (RFC 8551): split a message into the headers that stay outside and the entity to
 * protect, build an application/pkcs7-mime message, extract the CMS blob from one, take a multipart/signed apart,
 * and make an entity 7-bit clean before signing.
 *
 * Written by hand on the raw-MIME layer in `entity.ts` (not postal-mime or mimetext): a signature covers exact
 * bytes, and those libraries decode and re-serialise, so they can't give the bytes back. Everything is Uint8Array,
 * zero-copy where possible, one allocation for large outputs, and browser-safe (no Buffer, no node:*).
 *
 * Decisions:
 * - `splitForProtection`: every header whose name starts with `Content-` goes inside; every other header stays
 *   outside, except `MIME-Version`, which is dropped because {@link buildPkcs7Mime} writes its own. When the
 *   message has no Content-Type, the inner entity gets an explicit `Content-Type: text/plain; charset=us-ascii`:
 *   that is the RFC 2045 §5.2 default, so the meaning is unchanged, and a bare body behind an empty header section
 *   is mishandled by some clients.
 * - `extractCms`: `kind` comes from the `smime-type` parameter, which is only a label (.NET mislabels
 *   enveloped-data as signed-data): the CMS layer must go by the ContentInfo OID. Raw DER/BER input (first byte
 *   0x30) is returned as is with kind 'unknown'. A binary/8bit/7bit body is returned as is (zero-copy).
 * - `parseMultipartSigned`: exactly two parts (RFC 1847); a missing `protocol` parameter is tolerated when the
 *   second part is a PKCS #7 signature, a wrong one is not.
 * - `prepareForSigning`: a nested multipart/signed is only canonicalised (it is already signed); binary data
 *   (a non-text leaf declared binary/8bit/7bit that isn't clean 7-bit lines) is base64-encoded from its original
 *   bytes, never line-end-converted first; a base64 or quoted-printable leaf that still holds 8-bit data is
 *   `MIMEInvalid` (re-encoding it would double-encode).
 */
import { MIMEInvalid, MIMELimitExceeded } from '../errors.js';
import { Base64LineWriter, base64LinesLength, decodeBase64, decodeBase64Into, encodeBase64LinesInto } from '../lib/base64.js';
import {
  canonicalExtra,
  canonicalize,
  getHeader,
  parseContentDisposition,
  parseContentType,
  parseEntity,
  resolveMimeLimits,
  splitMultipart,
  splitMultipartRanges,
  writeCanonical,
  type Header,
  type MimeLimits,
} from './entity.js';

const CR = 13;
const LF = 10;

function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function isContentHeader(name: string): boolean {
  return name.length > 8 && name.slice(0, 8).toLowerCase() === 'content-';
}

function isMimeVersion(name: string): boolean {
  return name.toLowerCase() === 'mime-version';
}

/** Size of a header's raw bytes once canonical and ended by CRLF. */
function headerOutLength(raw: Uint8Array): number {
  const n = raw.length + canonicalExtra(raw);
  return endsWithLineEnd(raw) ? n : n + 2;
}

function endsWithLineEnd(raw: Uint8Array): boolean {
  const last = raw[raw.length - 1];
  return last === LF || last === CR;
}

/** Writes a header's raw bytes, canonical, ended by CRLF. */
function writeHeader(raw: Uint8Array, out: Uint8Array, o: number): number {
  o = writeCanonical(raw, out, o);
  if (!endsWithLineEnd(raw)) {
    out[o++] = CR;
    out[o++] = LF;
  }
  return o;
}

function writeHeaders(headers: readonly Header[], out: Uint8Array, o: number): number {
  for (const h of headers) o = writeHeader(h.raw, out, o);
  return o;
}

function headersLength(headers: readonly Header[]): number {
  let n = 0;
  for (const h of headers) n += headerOutLength(h.raw);
  return n;
}

const DEFAULT_CONTENT_TYPE = ascii('Content-Type: text/plain; charset=us-ascii\r\n');

// ---------------------------------------------------------------------------------------------------------------

/**
 * RFC 8551 §3.1: splits a message into the headers that stay outside the protection (every non-`Content-*`
 * header, MIME-Version excepted; exact bytes, CRLF) and the MIME entity to protect (the `Content-*` headers, an
 * empty line and the body, all canonical CRLF). See the file comment for the default Content-Type.
 */
export function splitForProtection(
  message: Uint8Array,
  limits?: Partial<MimeLimits>,
): { outerHeaders: Uint8Array; inner: Uint8Array } {
  const plan = planProtection(message, limits);
  const inner = new Uint8Array(plan.innerLength);
  plan.writeInner(inner, 0);
  return { outerHeaders: plan.outerHeaders, inner };
}

/** What {@link splitForProtection} gives, with the inner entity not yet written (so it can go straight where it is needed). */
export interface ProtectionPlan {
  outerHeaders: Uint8Array;
  /** The length of the inner entity. */
  innerLength: number;
  /**
   * The inner entity as a view of the message, when the message holds it as is: every Content-* header comes last
   * in the header section, they and the body are canonical, and there is a Content-Type (mail as clients write it).
   */
  inner?: Uint8Array;
  /** Writes the inner entity into `out` at `offset`; returns the offset past it. */
  writeInner(out: Uint8Array, offset: number): number;
}

/** Internal: {@link splitForProtection} without allocating the inner entity. */
export function planProtection(message: Uint8Array, limits?: Partial<MimeLimits>): ProtectionPlan {
  const e = parseEntity(message, limits);
  const outer: Header[] = [];
  const content: Header[] = [];
  let hasContentType = false;
  for (const h of e.headers) {
    if (isContentHeader(h.name)) {
      content.push(h);
      if (h.name.toLowerCase() === 'content-type') hasContentType = true;
    } else if (!isMimeVersion(h.name)) {
      outer.push(h);
    }
  }
  const outerHeaders = new Uint8Array(headersLength(outer));
  writeHeaders(outer, outerHeaders, 0);

  const body = e.body;
  const extra = canonicalExtra(body);
  const innerLength = (hasContentType ? 0 : DEFAULT_CONTENT_TYPE.length) + headersLength(content) + 2 + body.length + extra;
  const writeInner = (out: Uint8Array, offset: number): number => {
    let o = offset;
    if (!hasContentType) {
      out.set(DEFAULT_CONTENT_TYPE, o);
      o += DEFAULT_CONTENT_TYPE.length;
    }
    o = writeHeaders(content, out, o);
    out[o++] = CR;
    out[o++] = LF;
    if (extra === 0) {
      out.set(body, o);
      return o + body.length;
    }
    return writeCanonical(body, out, o);
  };
  const plan: ProtectionPlan = { outerHeaders, innerLength, writeInner };
  if (hasContentType && extra === 0) {
    const offset = (h: Header): number => h.raw.byteOffset - message.byteOffset;
    const start = offset(content[0]!);
    let at = start;
    for (const h of content) {
      if (offset(h) !== at || headerOutLength(h.raw) !== h.raw.length) {
        at = -1;
        break;
      }
      at += h.raw.length;
    }
    if (at + 2 === e.headerEnd && message[at] === CR && message[at + 1] === LF) plan.inner = message.subarray(start);
  }
  return plan;
}

export type SmimeType = 'enveloped-data' | 'authEnveloped-data' | 'signed-data';
const SMIME_TYPES: readonly SmimeType[] = ['enveloped-data', 'authEnveloped-data', 'signed-data'];

/**
 * Builds an application/pkcs7-mime message: `outerHeaders` (minus any MIME-Version or Content-* header, which are
 * replaced), then MIME-Version, Content-Type (with `smime-type` and `name="smime.p7m"`), Content-Transfer-Encoding
 * base64 and Content-Disposition, an empty line, and the base64 of `der` in 76-column CRLF lines. One allocation;
 * `der` (or its chunks) is read once and never copied.
 */
export function buildPkcs7Mime(outerHeaders: Uint8Array, smimeType: SmimeType, der: Uint8Array | readonly Uint8Array[]): Uint8Array {
  const parts: readonly Uint8Array[] = der instanceof Uint8Array ? [der] : der;
  if (!Array.isArray(parts) || parts.some((p) => !(p instanceof Uint8Array))) {
    throw new TypeError('buildPkcs7Mime: der must be a Uint8Array or an array of Uint8Array');
  }
  let derLen = 0;
  for (const p of parts) derLen += p.length;
  const { out, offset } = pkcs7MimeHead(outerHeaders, smimeType, derLen);
  encodeBase64LinesInto(parts, 76, out, offset);
  return out;
}

/**
 * Internal: {@link buildPkcs7Mime} for a CMS blob of `derLength` bytes that is produced piece by piece. Allocates
 * the whole message and writes its headers; the caller writes the DER through `body` and calls `body.end()`. The
 * tail of `out` (past what `body` has written) is free until then: encryption keeps the plaintext there.
 */
export function startPkcs7Mime(outerHeaders: Uint8Array, smimeType: SmimeType, derLength: number): { out: Uint8Array; body: Base64LineWriter } {
  const { out, offset } = pkcs7MimeHead(outerHeaders, smimeType, derLength);
  return { out, body: new Base64LineWriter(out, offset, 76) };
}

function pkcs7MimeHead(outerHeaders: Uint8Array, smimeType: SmimeType, derLen: number): { out: Uint8Array; offset: number } {
  if (!(outerHeaders instanceof Uint8Array)) throw new TypeError('buildPkcs7Mime: outerHeaders must be a Uint8Array');
  if (!SMIME_TYPES.includes(smimeType)) throw new TypeError(`buildPkcs7Mime: unknown smime-type ${String(smimeType)}`);
  if (derLen === 0) throw new TypeError('buildPkcs7Mime: empty CMS content');
  const outer = parseEntity(outerHeaders);
  if (outer.body.length > 0) throw new MIMEInvalid('buildPkcs7Mime: outerHeaders must hold headers only (found an empty line followed by a body)');
  const keep = outer.headers.filter((h) => !isContentHeader(h.name) && !isMimeVersion(h.name));
  const mimeHeaders = ascii(
    'MIME-Version: 1.0\r\n' +
      `Content-Type: application/pkcs7-mime; smime-type=${smimeType}; name="smime.p7m"\r\n` +
      'Content-Transfer-Encoding: base64\r\n' +
      'Content-Disposition: attachment; filename="smime.p7m"\r\n' +
      '\r\n',
  );
  const out = new Uint8Array(headersLength(keep) + mimeHeaders.length + base64LinesLength(derLen, 76));
  let o = writeHeaders(keep, out, 0);
  out.set(mimeHeaders, o);
  o += mimeHeaders.length;
  return { out, offset: o };
}

// ---------------------------------------------------------------------------------------------------------------

export interface ExtractedCms {
  /** What the `smime-type` parameter says ('unknown' when absent, unrecognised, or for raw DER input). */
  kind: 'enveloped' | 'authEnveloped' | 'signed' | 'unknown';
  /** The `smime-type` parameter as written, when present. */
  smimeType?: string;
  /** The CMS ContentInfo (DER or BER). */
  der: Uint8Array;
  /** The headers of the entity (empty for raw DER input). */
  headers: Header[];
}

const PKCS7_MIME = new Set(['application/pkcs7-mime', 'application/x-pkcs7-mime']);
const PKCS7_SIGNATURE = new Set(['application/pkcs7-signature', 'application/x-pkcs7-signature']);

function fileNameOf(headers: { headers: readonly Header[] }, ctParams: Record<string, string>): string | undefined {
  if (ctParams.name !== undefined) return ctParams.name;
  const cd = getHeader(headers, 'content-disposition');
  return cd === undefined ? undefined : parseContentDisposition(cd).params.filename;
}

/** Decodes a body by its Content-Transfer-Encoding (base64, or 7bit/8bit/binary as is). */
function decodeTransfer(e: { headers: readonly Header[]; body: Uint8Array }, what: string, inPlace = false): Uint8Array {
  const cte = (getHeader(e, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase();
  let out: Uint8Array;
  if (cte === 'base64') out = inPlace ? e.body.subarray(0, decodeBase64Into(e.body, 0, e.body.length, e.body, 0)) : decodeBase64(e.body);
  else if (cte === '7bit' || cte === '8bit' || cte === 'binary') out = e.body;
  else throw new MIMEInvalid(`${what}: unsupported Content-Transfer-Encoding "${cte}"`);
  if (out.length === 0) throw new MIMEInvalid(`${what}: empty body`);
  return out;
}

/**
 * Extracts the CMS blob from an application/pkcs7-mime message or entity (also application/x-pkcs7-mime, or
 * application/octet-stream named *.p7m). CRLF or LF. Raw DER/BER input (first byte 0x30) is accepted as is.
 * Anything else is `MIMEInvalid`. With `inPlace` (for a buffer the caller gives up) a base64 body is decoded over
 * itself instead of into a new buffer.
 */
export function extractCms(message: Uint8Array, limits?: Partial<MimeLimits>, options: { inPlace?: boolean } = {}): ExtractedCms {
  if (!(message instanceof Uint8Array)) throw new TypeError('extractCms: expected a Uint8Array');
  if (message.length > 0 && message[0] === 0x30) return { kind: 'unknown', der: message, headers: [] };
  const e = parseEntity(message, limits);
  const ctv = getHeader(e, 'content-type');
  if (ctv === undefined) throw new MIMEInvalid('not an S/MIME message: no Content-Type (so text/plain)');
  const ct = parseContentType(ctv);
  let ok = PKCS7_MIME.has(ct.type);
  if (!ok && ct.type === 'application/octet-stream') ok = /\.p7m$/i.test(fileNameOf(e, ct.params) ?? '');
  if (!ok) {
    const hint = ct.type === 'multipart/signed' ? ' (a clear-signed message: use parseMultipartSigned)' : '';
    throw new MIMEInvalid(`not an S/MIME message: Content-Type is ${ct.type || '(empty)'}${hint}`);
  }
  const smimeType = ct.params['smime-type'];
  const st = smimeType?.toLowerCase();
  const kind = st === 'enveloped-data' ? 'enveloped' : st === 'authenveloped-data' ? 'authEnveloped' : st === 'signed-data' ? 'signed' : 'unknown';
  const der = decodeTransfer(e, 'S/MIME body', options.inPlace === true);
  const r: ExtractedCms = { kind, der, headers: e.headers };
  if (smimeType !== undefined) r.smimeType = smimeType;
  return r;
}

export interface MultipartSigned {
  /** The exact bytes of the first part (its headers and body), canonicalised to CRLF: what the signature covers. */
  signedPart: Uint8Array;
  /** The decoded DER/BER of the application/(x-)pkcs7-signature part. */
  signature: Uint8Array;
  /** The `micalg` parameter, lowercased, when present. */
  micalg?: string;
  /** The `protocol` parameter, lowercased (the signature part's type when the parameter is missing). */
  protocol: string;
}

/**
 * Takes a multipart/signed message (RFC 1847, RFC 8551 §3.5.3) apart. `MIMEInvalid` for another Content-Type,
 * a missing boundary, a protocol other than application/(x-)pkcs7-signature, a missing close delimiter, or a
 * missing or mistyped signature part.
 */
export function parseMultipartSigned(message: Uint8Array, limits?: Partial<MimeLimits>): MultipartSigned {
  if (!(message instanceof Uint8Array)) throw new TypeError('parseMultipartSigned: expected a Uint8Array');
  const e = parseEntity(message, limits);
  const ctv = getHeader(e, 'content-type');
  const ct = parseContentType(ctv ?? 'text/plain');
  if (ct.type !== 'multipart/signed') throw new MIMEInvalid(`not a multipart/signed message: Content-Type is ${ct.type || '(empty)'}`);
  const boundary = ct.params.boundary;
  if (!boundary) throw new MIMEInvalid('multipart/signed: missing boundary parameter');
  const protocol = ct.params.protocol?.toLowerCase();
  if (protocol !== undefined && !PKCS7_SIGNATURE.has(protocol)) {
    throw new MIMEInvalid(`multipart/signed: protocol is "${protocol}", not application/pkcs7-signature`);
  }
  const parts = splitMultipart(e, boundary, limits);
  if (parts.length < 2) throw new MIMEInvalid('multipart/signed: missing signature part (only one body part)');
  if (parts.length > 2) throw new MIMEInvalid(`multipart/signed: expected 2 body parts, found ${parts.length}`);

  const sig = parseEntity(parts[1]!, limits);
  const sct = parseContentType(getHeader(sig, 'content-type') ?? 'text/plain');
  let sigOk = PKCS7_SIGNATURE.has(sct.type);
  if (!sigOk && sct.type === 'application/octet-stream') sigOk = /\.p7s$/i.test(fileNameOf(sig, sct.params) ?? '');
  if (!sigOk) throw new MIMEInvalid(`multipart/signed: the second part is ${sct.type}, not application/pkcs7-signature`);
  const signature = decodeTransfer(sig, 'multipart/signed signature part');

  const r: MultipartSigned = { signedPart: canonicalize(parts[0]!), signature, protocol: protocol ?? sct.type };
  const micalg = ct.params.micalg;
  if (micalg !== undefined) r.micalg = micalg.toLowerCase();
  return r;
}

// ---------------------------------------------------------------------------------------------------------------
// prepareForSigning

/**
 * RFC 8551 §3.1.1/§3.1.2: makes an entity safe to sign. Line endings become CRLF (headers, multipart structure
 * and text); then every leaf (the entity itself, or recursively each leaf of a multipart, and the content of a
 * message/rfc822) whose body is not 7-bit clean (a byte ≥ 0x80, a NUL, or a line over 998 bytes) is re-encoded:
 * text/* as quoted-printable (of the canonical text), anything else as base64 (of the original bytes: binary data
 * is never "canonicalised"), with its Content-Transfer-Encoding header replaced. A nested multipart/signed is only
 * canonicalised, never re-encoded (it is already signed). An entity that is already canonical and 7-bit comes back
 * as the same array.
 */
export function prepareForSigning(entity: Uint8Array, limits?: Partial<MimeLimits>): Uint8Array {
  if (!(entity instanceof Uint8Array)) throw new TypeError('prepareForSigning: expected a Uint8Array');
  const L = resolveMimeLimits(limits);
  const pieces = prepare(entity, 0, L);
  if (pieces === undefined) return entity;
  if (pieces.length === 1 && pieces[0] instanceof Uint8Array) return pieces[0];
  let n = 0;
  for (const p of pieces) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of pieces) {
    if (p instanceof Uint8Array) out.set(p, o);
    else p.write(out, o);
    o += p.length;
  }
  return out;
}

/** A piece of output: bytes, or a re-encoded leaf written straight into the final buffer (no extra copy). */
type Piece = Uint8Array | { length: number; write(out: Uint8Array, o: number): void };

/**
 * Returns the prepared entity as a list of pieces to concatenate (so that a big re-encoded leaf is written once,
 * into the final buffer), or undefined when `bytes` is already canonical and 7-bit clean.
 */
function prepare(bytes: Uint8Array, depth: number, L: MimeLimits): Piece[] | undefined {
  if (depth > L.maxDepth) throw new MIMELimitExceeded(`MIME nesting deeper than maxDepth (${L.maxDepth})`, { limit: 'maxMimeDepth' });
  const e = parseEntity(bytes, L);
  const head = bytes.subarray(0, e.headerEnd);
  const headC = canonicalize(head);
  const body = e.body;
  const ct = parseContentType(getHeader(e, 'content-type') ?? 'text/plain; charset=us-ascii');

  if (ct.type === 'multipart/signed') {
    const c = canonicalize(bytes);
    return c === bytes ? undefined : [c];
  }

  if (ct.type.startsWith('multipart/')) {
    const boundary = ct.params.boundary;
    if (!boundary) throw new MIMEInvalid(`${ct.type}: missing boundary parameter`);
    const ranges = splitMultipartRanges(body, boundary, L);
    const pieces: Piece[] = [headC];
    let changed = headC !== head;
    let at = 0;
    for (const r of ranges.parts) {
      const gap = body.subarray(at, r.start); // preamble or delimiter line
      const gapC = canonicalize(gap);
      const part = body.subarray(r.start, r.end);
      const sub = prepare(part, depth + 1, L);
      if (gapC !== gap || sub !== undefined) changed = true;
      pieces.push(gapC);
      if (sub) pieces.push(...sub);
      else pieces.push(part);
      at = r.end;
    }
    const tail = body.subarray(at);
    const tailC = canonicalize(tail);
    if (tailC !== tail) changed = true;
    pieces.push(tailC);
    return changed ? pieces : undefined;
  }

  if (ct.type === 'message/rfc822' || ct.type === 'message/global') {
    const sub = prepare(body, depth + 1, L);
    return sub === undefined && headC === head ? undefined : [headC, ...(sub ?? [body])];
  }

  // A leaf.
  const cte = (getHeader(e, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase();
  const isText = ct.type.startsWith('text/');
  const plain = cte === '7bit' || cte === '8bit' || cte === 'binary';
  let bodyC: Uint8Array | undefined;
  if (isText || !plain) {
    bodyC = canonicalize(body);
    if (is7bitClean(bodyC)) return headC === head && bodyC === body ? undefined : [headC, bodyC];
    if (!plain) throw new MIMEInvalid(`a ${cte} body part contains 8-bit data or lines over 998 bytes`);
  } else if (is7bitClean(body)) {
    // Non-text data in 7-bit lines: only line endings may need fixing, unless it is declared binary
    // (then bare CR/LF are data bytes and the part gets base64 below).
    const extra = canonicalExtra(body);
    if (extra === 0) return headC === head ? undefined : [headC, body];
    if (cte !== 'binary') return [headC, canonicalize(body)];
  }
  const keep = e.headers.filter((h) => h.name.toLowerCase() !== 'content-transfer-encoding');
  const cteLine = ascii(`Content-Transfer-Encoding: ${isText ? 'quoted-printable' : 'base64'}\r\n\r\n`);
  const text = bodyC;
  const bodyLen = text ? quotedPrintable(text, undefined, 0) : base64LinesLength(body.length, 76);
  const length = headersLength(keep) + cteLine.length + bodyLen;
  return [
    {
      length,
      write(out: Uint8Array, o: number): void {
        o = writeHeaders(keep, out, o);
        out.set(cteLine, o);
        o += cteLine.length;
        if (text) quotedPrintable(text, out, o);
        else if (body.length > 0) encodeBase64LinesInto([body], 76, out, o);
      },
    },
  ];
}

/**
 * True when `b` has no byte ≥ 0x80, no NUL, and no line longer than 998 bytes (CRLF or LF not counted). Scans a
 * 32-bit word at a time; single bytes are looked at only in words holding an LF.
 */
function is7bitClean(b: Uint8Array): boolean {
  const len = b.length;
  let lineStart = 0;
  let i = 0;
  const head = Math.min(len, (4 - (b.byteOffset & 3)) & 3);
  for (; i < head; i++) {
    const c = b[i]!;
    if (c >= 0x80 || c === 0) return false;
    if (c === LF) {
      if (lineLength(b, lineStart, i) > 998) return false;
      lineStart = i + 1;
    }
  }
  const words = (len - i) >>> 2;
  if (words > 0) {
    const w32 = new Uint32Array(b.buffer, b.byteOffset + i, words);
    for (let w = 0; w < words; w++) {
      const v = w32[w]!;
      if (v & 0x80808080 || (v - 0x01010101) & ~v & 0x80808080) return false; // a high byte, or a NUL
      const x = v ^ 0x0a0a0a0a;
      if ((x - 0x01010101) & ~x & 0x80808080) {
        const at = i + w * 4;
        for (let k = at; k < at + 4; k++) {
          if (b[k] === LF) {
            if (lineLength(b, lineStart, k) > 998) return false;
            lineStart = k + 1;
          }
        }
      } else if (i + w * 4 - lineStart > 1004) {
        return false; // already longer than 998 + CRLF + this word, and no LF in it
      }
    }
    i += words * 4;
  }
  for (; i < len; i++) {
    const c = b[i]!;
    if (c >= 0x80 || c === 0) return false;
    if (c === LF) {
      if (lineLength(b, lineStart, i) > 998) return false;
      lineStart = i + 1;
    }
  }
  return len - lineStart <= 998;
}

/** Length of the line [start, lf) without a CR before the LF. */
function lineLength(b: Uint8Array, start: number, lf: number): number {
  return lf - start - (lf > start && b[lf - 1] === CR ? 1 : 0);
}

/**
 * Quoted-printable (RFC 2045 §6.7) of canonical CRLF text: CRLF stays a hard line break, lines are kept to 76
 * chars with soft breaks, and `=`, controls, bytes ≥ 0x7f, whitespace before a line end, a "From " or a lone "."
 * at the start of a line are encoded (the last two so that mbox and SMTP can't alter signed text). With `out`
 * undefined it only counts; returns the length (or the end offset).
 */
function quotedPrintable(b: Uint8Array, out: Uint8Array | undefined, o: number): number {
  const HEX = '0123456789ABCDEF';
  const len = b.length;
  let col = 0;
  for (let i = 0; i < len; i++) {
    const c = b[i]!;
    if (c === CR && b[i + 1] === LF) {
      if (out) {
        out[o] = CR;
        out[o + 1] = LF;
      }
      o += 2;
      col = 0;
      i++;
      continue;
    }
    let enc = c === 61 || c >= 127 || (c < 32 && c !== 9);
    if (!enc && (c === 32 || c === 9)) enc = i + 1 === len || (b[i + 1] === CR && b[i + 2] === LF);
    if (!enc && col === 0 && (i === 0 || b[i - 1] === LF)) {
      if (c === 0x46 && b[i + 1] === 0x72 && b[i + 2] === 0x6f && b[i + 3] === 0x6d && b[i + 4] === 32) enc = true;
      else if (c === 0x2e && (i + 1 === len || (b[i + 1] === CR && b[i + 2] === LF))) enc = true;
    }
    const w = enc ? 3 : 1;
    if (col + w > 75) {
      if (out) {
        out[o] = 61;
        out[o + 1] = CR;
        out[o + 2] = LF;
      }
      o += 3;
      col = 0;
    }
    if (out) {
      if (enc) {
        out[o] = 61;
        out[o + 1] = HEX.charCodeAt(c >> 4);
        out[o + 2] = HEX.charCodeAt(c & 15);
      } else {
        out[o] = c;
      }
    }
    o += w;
    col += w;
  }
  return o;
}
