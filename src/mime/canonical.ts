/**
 * Canonical line endings (RFC 5322, RFC 8551 §3.1.1): every bare LF and bare CR becomes CRLF, for bytes and for
 * header lines written out. Zero-copy when the input is already canonical; the counting and writing halves are
 * separate so callers can size one output buffer first.
 */
import type { Header } from './entity.js';

const LF = 10;
const CR = 13;

/**
 * Converts every bare LF and bare CR to CRLF. Returns `bytes` itself (no copy) when it is already canonical.
 */
export function canonicalize(bytes: Uint8Array): Uint8Array {
  const extra = canonicalExtra(bytes);
  if (extra === 0) return bytes;
  const out = new Uint8Array(bytes.length + extra);
  writeCanonical(bytes, out, 0);
  return out;
}

/**
 * Internal: how many bytes {@link canonicalize} adds (the number of bare CRs and bare LFs). Scans a 32-bit word at
 * a time (SWAR: "has a byte below 0x20", which CR and LF are: one test for both); in a word that has one, the exact
 * CR and LF bytes, and single bytes only when one of them is not part of a CRLF pair (within the word or across
 * its edge).
 */
export function canonicalExtra(b: Uint8Array): number {
  const len = b.length;
  let extra = 0;
  let i = 0;
  const head = Math.min(len, (4 - (b.byteOffset & 3)) & 3);
  for (; i < head; i++) extra += bareLineEndAt(b, i, len);
  const words = (len - i) >>> 2;
  if (words > 0) {
    const w32 = new Uint32Array(b.buffer, b.byteOffset + i, words);
    for (let w = 0; w < words; w++) {
      const v = w32[w]!;
      // Nonzero when some byte is below 0x20 (a borrow may flag a byte above a true one: never when none is).
      if ((v - 0x20202020) & ~v & 0x80808080) {
        const at = i + w * 4;
        if (!LITTLE_ENDIAN) {
          extra += bareInWord(b, at, len);
          continue;
        }
        // The word's CRs and LFs, exactly (the top bit of each byte that is one; byte k is bits 8k..8k+7).
        const x = v ^ 0x0a0a0a0a;
        const lf = ~(((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x) & 0x80808080;
        const y = v ^ 0x0d0d0d0d;
        const cr = ~(((y & 0x7f7f7f7f) + 0x7f7f7f7f) | y) & 0x80808080;
        // An LF with no CR just before it in the word, a CR with no LF just after it: none in a word of CRLF pairs.
        const bareLf = lf & ~(cr << 8);
        const bareCr = cr & ~(lf >>> 8);
        if ((bareLf | bareCr) !== 0) {
          // A pair across the word's edge (LF first, CR last) is looked up next door; anything else byte by byte.
          const lfOk = bareLf === 0 || (bareLf === 0x80 && at > 0 && b[at - 1] === CR);
          const crOk = bareCr === 0 || (bareCr === (0x80000000 | 0) && at + 4 < len && b[at + 4] === LF);
          if (!(lfOk && crOk)) extra += bareInWord(b, at, len);
        }
      }
    }
    i += words * 4;
  }
  for (; i < len; i++) extra += bareLineEndAt(b, i, len);
  return extra;
}

/**
 * Whether a Uint32Array holds its words least significant byte first (every browser, Node on x86, ARM and the rest
 * but s390x and big-endian POWER): canonicalExtra's CR/LF masks pair a byte with the next one by a shift that
 * assumes it, and look byte by byte elsewhere.
 */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** The bare LFs and bare CRs among the 4 bytes at `at`, byte by byte. */
function bareInWord(b: Uint8Array, at: number, len: number): number {
  return bareLineEndAt(b, at, len) + bareLineEndAt(b, at + 1, len) + bareLineEndAt(b, at + 2, len) + bareLineEndAt(b, at + 3, len);
}

/** 1 when b[i] is a bare LF or a bare CR, else 0. */
function bareLineEndAt(b: Uint8Array, i: number, len: number): number {
  const c = b[i];
  if (c === LF) return i === 0 || b[i - 1] !== CR ? 1 : 0;
  if (c === CR) return i + 1 >= len || b[i + 1] !== LF ? 1 : 0;
  return 0;
}

/** Internal: writes the canonical form of `bytes` into `out` at `o`; returns the offset past it. */
export function writeCanonical(bytes: Uint8Array, out: Uint8Array, o: number): number {
  const len = bytes.length;
  let src = 0; // start of the pending run of bytes to copy
  let nLF = bytes.indexOf(LF);
  let nCR = bytes.indexOf(CR);
  while (nLF >= 0 || nCR >= 0) {
    if (nCR >= 0 && (nLF < 0 || nCR < nLF)) {
      const k = nCR;
      if (k + 1 < len && bytes[k + 1] === LF) {
        // A CRLF: already canonical.
        nCR = bytes.indexOf(CR, k + 1);
        nLF = bytes.indexOf(LF, k + 2);
        continue;
      }
      o = copyRun(bytes, src, k, out, o);
      out[o++] = CR;
      out[o++] = LF;
      src = k + 1;
      nCR = bytes.indexOf(CR, k + 1);
    } else {
      const k = nLF;
      o = copyRun(bytes, src, k, out, o);
      out[o++] = CR;
      out[o++] = LF;
      src = k + 1;
      nLF = bytes.indexOf(LF, k + 1);
    }
  }
  return copyRun(bytes, src, len, out, o);
}

function copyRun(src: Uint8Array, from: number, to: number, out: Uint8Array, o: number): number {
  const n = to - from;
  if (n > 64) out.set(src.subarray(from, to), o);
  else for (let k = 0; k < n; k++) out[o + k] = src[from + k]!;
  return o + n;
}

/** Size of a header's raw bytes once canonical and ended by CRLF. */
export function headerOutLength(raw: Uint8Array): number {
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

/** Writes each header's raw bytes, canonical, ended by CRLF; returns the offset past them. */
export function writeHeaders(headers: readonly Header[], out: Uint8Array, o: number): number {
  for (const h of headers) o = writeHeader(h.raw, out, o);
  return o;
}

/** The size {@link writeHeaders} writes. */
export function headersLength(headers: readonly Header[]): number {
  let n = 0;
  for (const h of headers) n += headerOutLength(h.raw);
  return n;
}
