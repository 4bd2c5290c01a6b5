/**
 * The ContentInfo around a CMS structure read as BER events (issue 16): `SEQUENCE { contentType OID, [0] EXPLICIT
 * content }`, the one check of the three stream readers (enveloped_reader.ts, signed_stream.ts,
 * compressed_reader.ts) down to the content's SEQUENCE. Stricter than the buffer path's `readContentInfo`, which
 * ignores what follows: on a stream nothing may follow the content in [0], nor [0] in the ContentInfo.
 */
import { CMSInvalid } from '../errors.js';
import type { BerHeader } from '../lib/ber_stream.js';
import { decodeOid, readTlv, TAG } from '../lib/der.js';
import { oidName } from './oids.js';

const UNIVERSAL = 0;
const CONTEXT = 2;

/**
 * Follows the first three levels of a ContentInfo's BER events: {@link start} for every element at depth 0 to 2
 * (deeper ones are the caller's), {@link isContentType} where a capture is chosen.
 */
export class ContentInfoPrefix {
  readonly #content: string;
  /** Elements started so far at depth 1 (the ContentInfo's) and at depth 2 (in [0]). */
  #n1 = 0;
  #n2 = 0;

  /** @param content the structure expected in [0], for messages ('EnvelopedData', 'SignedData', 'CompressedData') */
  constructor(content: string) {
    this.#content = content;
  }

  /** Whether the element about to start at `h` is the contentType OID (asked before {@link start} sees it). */
  isContentType(h: BerHeader): boolean {
    return h.depth === 1 && this.#n1 === 0;
  }

  /**
   * Checks the element starting at `h` (any depth; only 0 to 2 are looked at): `CMSInvalid` when the layout is not a
   * ContentInfo holding one constructed SEQUENCE. True when `h` is that SEQUENCE (the content begins).
   */
  start(h: BerHeader): boolean {
    const universal = h.cls === UNIVERSAL;
    switch (h.depth) {
      case 0:
        if (!(universal && h.tagNo === TAG.SEQUENCE && h.constructed)) throw new CMSInvalid('not a CMS ContentInfo (expected a SEQUENCE)');
        return false;
      case 1:
        this.#n1++;
        if (this.#n1 === 1 && !(universal && h.tagNo === TAG.OID)) throw new CMSInvalid('ContentInfo: missing contentType');
        if (this.#n1 === 2 && !(h.cls === CONTEXT && h.tagNo === 0 && h.constructed)) throw new CMSInvalid('ContentInfo: missing content');
        if (this.#n1 > 2) throw new CMSInvalid('ContentInfo: unexpected element');
        return false;
      case 2:
        this.#n2++;
        if (this.#n2 > 1 || !(universal && h.tagNo === TAG.SEQUENCE && h.constructed)) throw new CMSInvalid(`${this.#content}: expected a SEQUENCE`);
        return true;
      default:
        return false;
    }
  }
}

/**
 * The content type OID of a captured contentType (its DER): one of `accepted`, else `CMSInvalid` "not `notWhat`: the
 * CMS content type is …".
 */
export function contentTypeOf(der: Uint8Array, accepted: readonly string[], notWhat: string): string {
  const type = decodeOid(der, readTlv(der, 0));
  if (!accepted.includes(type)) throw new CMSInvalid(`not ${notWhat}: the CMS content type is ${oidName(type)}`);
  return type;
}
