/**
 * The PEM codec (RFC 7468): blocks are found by one linear scan (every END marker first, then each BEGIN matched to
 * the next END of its label), not by a backtracking regular expression, so a file of unmatched BEGIN lines costs
 * one pass, not one pass per line. A block's base64 is decoded by lib/base64.ts; bad base64 is a
 * CertificateInvalid naming the block (PEM input is certificate, CRL or key input).
 */
import { CertificateInvalid, CMSLimitExceeded, MIMEInvalid } from '../errors.js';
import { decodeBase64 } from './base64.js';
import { toBytes } from './bytes.js';

/** One decoded PEM block. */
export interface PemBlock {
  label: string;
  der: Uint8Array;
}

/** A PEM block found but not decoded: its label and the bounds of its body in the text. */
interface PemSpan {
  label: string;
  start: number;
  end: number;
}

const LABEL = /^[A-Z0-9 ]{1,64}$/;

/** Every PEM block of the text, in order, undecoded (the blocks the former `BEGIN (x)…END \1` regex matched). */
function* pemSpans(text: string): Generator<PemSpan> {
  // Where each label's END markers are.
  const ends = new Map<string, number[]>();
  for (let p = text.indexOf('-----END '); p >= 0; p = text.indexOf('-----END ', p + 9)) {
    const q = text.indexOf('-----', p + 9);
    if (q < 0) break;
    const label = text.slice(p + 9, q);
    if (!LABEL.test(label)) continue;
    let list = ends.get(label);
    if (!list) ends.set(label, (list = []));
    list.push(p);
  }
  // Each BEGIN with the first END of its label after it; the cursors only move forward.
  const next = new Map<string, number>();
  let p = text.indexOf('-----BEGIN ');
  while (p >= 0) {
    const q = text.indexOf('-----', p + 11);
    if (q < 0) return;
    const label = text.slice(p + 11, q);
    const list = LABEL.test(label) ? ends.get(label) : undefined;
    let i = next.get(label) ?? 0;
    while (list && i < list.length && list[i]! < q + 5) i++;
    if (!list || i >= list.length) {
      p = text.indexOf('-----BEGIN ', p + 11);
      continue;
    }
    next.set(label, i + 1);
    yield { label, start: q + 5, end: list[i]! };
    p = text.indexOf('-----BEGIN ', list[i]! + 14 + label.length);
  }
}

/** The bytes of one PEM block; bad base64 is a CertificateInvalid naming the block (it is certificate input). */
function decodeSpan(text: string, s: PemSpan): Uint8Array {
  const body = text.slice(s.start, s.end).replace(/^[A-Za-z-]+:.*$/gm, ''); // drop RFC 1421 headers such as Proc-Type
  try {
    return decodeBase64(toBytes(body));
  } catch (e) {
    if (!(e instanceof MIMEInvalid)) throw e;
    throw new CertificateInvalid(`PEM "${s.label}" block: ${e.message}`, { cause: e });
  }
}

/** All PEM blocks in the text, in order. */
export function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const s of pemSpans(text)) out.push({ label: s.label, der: decodeSpan(text, s) });
  return out;
}

/** The decoded blocks whose label is one of `labels`; more than `max` of them is a CMSLimitExceeded naming `limit`. */
export function pemOf(text: string, labels: readonly string[], max: number, limit: string): Uint8Array[] {
  const spans: PemSpan[] = [];
  for (const s of pemSpans(text)) {
    if (!labels.includes(s.label)) continue;
    if (spans.length >= max) throw new CMSLimitExceeded(`PEM: more than ${max} blocks`, { limit });
    spans.push(s);
  }
  return spans.map((s) => decodeSpan(text, s));
}

