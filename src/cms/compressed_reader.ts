/**
 * The streaming CompressedData reader (RFC 3274; issue 16): a CompressedData ContentInfo (DER or BER) pushed in
 * pieces, its content decompressed as it comes, with the limits of the buffer path (`maxDecompressedBytes`,
 * `maxDecompressionRatio`) counted as the bytes come out (lib/zlib.ts `ZlibInflateStream`). The structure is checked
 * as `readCompressedData` checks it: version 0, id-alg-zlibCompress with absent or NULL parameters (another algorithm
 * is `UnsupportedAlgorithm`), an encapsulated OCTET STRING content.
 */
import { CMSInvalid, UnsupportedAlgorithm } from '../errors.js';
import { BerCapture, BerStreamReader, type BerHandler, type BerHeader } from '../lib/ber_stream.js';
import { decodeOid, readAlgorithm, readTlv, TAG } from '../lib/der.js';
import { berLimits, type Limits } from '../lib/limits.js';
import { ZlibInflateStream } from '../lib/zlib.js';
import { OIDS, oidName } from './oids.js';
import { ContentInfoPrefix, contentTypeOf } from './content_info_stream.js';

/** The limits the compressed-data stream reader obeys. */
export type CompressedStreamLimits = Pick<Limits, 'maxBerDepth' | 'maxBerElements' | 'maxDecompressedBytes' | 'maxCmsHeaderBytes'> &
  Partial<Pick<Limits, 'maxDecompressionRatio'>>;

const UNIVERSAL = 0;
const CONTEXT = 2;

/**
 * Reads one CompressedData ContentInfo pushed in pieces: `push` resolves to the decompressed bytes so far, `finish`
 * to the rest, once the structure and the zlib stream are complete (`CMSInvalid` otherwise).
 */
export class CompressedStreamReader {
  readonly #ber: BerStreamReader;
  readonly #zlib: ZlibInflateStream;
  readonly #ci = new ContentInfoPrefix('CompressedData');
  #n3 = 0;
  #inCd = false;
  #inEci = false;
  #n4 = 0;
  #algOk = false;
  #versionOk = false;
  #contentDepth = -1;
  #contentSeen = false;
  #pending: Uint8Array[] = [];

  /** @param limits the decompression limits, the BER limits and `maxCmsHeaderBytes` (for the parts held whole) */
  constructor(limits: CompressedStreamLimits) {
    const capture = new BerCapture(
      this.#handler(),
      (h) => this.#wantCapture(h),
      (h, der) => this.#captured(h, der),
      limits.maxCmsHeaderBytes,
    );
    const b = berLimits(limits);
    this.#ber = new BerStreamReader(capture.handler, { maxDepth: b.maxDepth, maxElements: b.maxChunks });
    this.#zlib = new ZlibInflateStream(limits.maxDecompressedBytes, 'CompressedData', limits.maxDecompressionRatio ?? Infinity);
  }

  /** Reads the next bytes of the ContentInfo; resolves to the decompressed bytes so far (possibly none). */
  async push(der: Uint8Array): Promise<Uint8Array[]> {
    try {
      this.#pending = [];
      this.#ber.push(der);
    } catch (e) {
      this.#zlib.cancel();
      throw e;
    }
    const out: Uint8Array[] = [];
    for (const p of this.#pending) out.push(...(await this.#zlib.push(p)));
    this.#pending = [];
    return out;
  }

  /** The end of the input: the rest of the decompressed bytes; `CMSInvalid` when anything is incomplete. */
  async finish(): Promise<Uint8Array[]> {
    try {
      this.#ber.finish();
      if (!this.#contentSeen) throw new CMSInvalid('CompressedData: no encapsulated content');
    } catch (e) {
      this.#zlib.cancel();
      throw e;
    }
    return this.#zlib.end();
  }

  /** Stops the decompression (after an error elsewhere). */
  cancel(): void {
    this.#zlib.cancel();
  }

  #wantCapture(h: BerHeader): boolean {
    if (h.depth === 1) return this.#ci.isContentType(h);
    if (h.depth === 3) return this.#inCd && this.#n3 < 2; // version, compressionAlgorithm
    if (h.depth === 4) return this.#inEci && this.#n4 === 0; // eContentType
    return false;
  }

  #captured(h: BerHeader, der: Uint8Array): void {
    const t = readTlv(der, 0);
    if (h.depth === 1) {
      contentTypeOf(der, [OIDS.compressedData], 'compressed data');
    } else if (h.depth === 3 && this.#n3 === 1) {
      if (t.tagNo !== TAG.INTEGER || t.contentEnd - t.contentStart !== 1 || der[t.contentStart] !== 0) throw new CMSInvalid('CompressedData: version must be 0');
      this.#versionOk = true;
    } else if (h.depth === 3 && this.#n3 === 2) {
      const alg = readAlgorithm(der, t, 'CompressedData compressionAlgorithm');
      if (alg.oid !== OIDS.zlibCompress) throw new UnsupportedAlgorithm(`compression algorithm ${oidName(alg.oid)}`, alg.oid);
      if (alg.params && !(alg.params.cls === 0 && alg.params.tagNo === TAG.NULL)) throw new CMSInvalid('CompressedData: id-alg-zlibCompress takes no parameters');
      this.#algOk = true;
    } else if (h.depth === 4) {
      decodeOid(der, t);
    }
  }

  #handler(): BerHandler {
    return {
      start: (h) => {
        const d = h.depth;
        if (d <= 2) {
          if (this.#ci.start(h)) this.#inCd = true;
        } else if (d === 3) {
          if (!this.#inCd) return;
          this.#n3++;
          if (this.#n3 === 3) {
            if (!this.#versionOk || !this.#algOk) throw new CMSInvalid('CompressedData: missing version or compressionAlgorithm');
            if (h.cls !== UNIVERSAL || h.tagNo !== TAG.SEQUENCE || !h.constructed) throw new CMSInvalid('CompressedData: missing encapContentInfo');
            this.#inEci = true;
          }
        } else if (d === 4) {
          if (!this.#inEci) return;
          this.#n4++;
          if (this.#n4 === 2 && (h.cls !== CONTEXT || h.tagNo !== 0 || !h.constructed)) throw new CMSInvalid('CompressedData: no encapsulated content');
        } else if (d === 5 && this.#inEci && this.#n4 === 2 && this.#contentDepth < 0 && !this.#contentSeen) {
          if (h.cls !== UNIVERSAL || h.tagNo !== TAG.OCTET_STRING) throw new CMSInvalid('CompressedData: eContent must be an OCTET STRING');
          this.#contentDepth = 5;
          this.#contentSeen = true;
        } else if (this.#contentDepth >= 0 && (h.cls !== UNIVERSAL || h.tagNo !== TAG.OCTET_STRING)) {
          throw new CMSInvalid('CompressedData: a chunk of the eContent is not an OCTET STRING');
        }
      },
      data: (b) => {
        if (this.#contentDepth >= 0 && b.length > 0) this.#pending.push(b);
      },
      end: (h) => {
        if (h.depth === 5 && this.#contentDepth === 5) this.#contentDepth = -1;
        else if (h.depth === 3 && this.#inEci) this.#inEci = false;
        else if (h.depth === 2 && this.#inCd) {
          this.#inCd = false;
          if (!this.#contentSeen) throw new CMSInvalid('CompressedData: no encapsulated content');
        }
      },
    };
  }
}
