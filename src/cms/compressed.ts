/**
 * CompressedData (RFC 3274): the content compressed with zlib (id-alg-zlibCompress, the one algorithm CMS defines),
 * for `smime-type=compressed-data` (RFC 8551 §3.6).
 *
 * Written in DER (version 0, the algorithm without parameters as RFC 3274 §2 says, eContentType id-data); read from
 * DER or BER (indefinite lengths, the compressed bytes in a constructed OCTET STRING), the algorithm with absent or
 * NULL parameters. Decompression is bounded by `maxDecompressedBytes` and `maxDecompressionRatio` (lib/zlib.ts).
 */
import { CMSInvalid, UnsupportedAlgorithm } from '../errors.js';
import { berLimits, type Limits } from '../lib/limits.js';
import { algorithmIdentifier, children, decodeOid, explicit, integer, octets, oid, readAlgorithm, readTlv, seq, stringContent, TAG, withBerLimits } from '../lib/der.js';
import { ZlibCompressStream, zlibCompress, zlibDecompress } from '../lib/zlib.js';
import { EOC, indefiniteHeader, OctetStringChunker } from '../lib/ber_stream.js';
import { concat } from '../lib/bytes.js';
import { OIDS, oidName } from './oids.js';

/** What {@link readCompressedData} finds. */
export interface CompressedContent {
  /** The compression algorithm's OID (always id-alg-zlibCompress: another is refused). */
  algorithm: string;
  /** The eContentType (id-data for a MIME entity). */
  contentType: string;
  /** The compressed bytes (the zlib stream): a view of the input when it is one primitive OCTET STRING. */
  compressed: Uint8Array;
}

/**
 * Builds a CompressedData ContentInfo (DER) holding `content` compressed with zlib.
 *
 * @example
 * ```ts
 * const p7z = await buildCompressedData(mimeEntity);
 * ```
 */
export async function buildCompressedData(content: Uint8Array): Promise<Uint8Array> {
  const z = await zlibCompress(content);
  const cd = seq(integer(0), algorithmIdentifier(OIDS.zlibCompress), seq(oid(OIDS.data), explicit(0, octets(z))));
  return seq(oid(OIDS.compressedData), explicit(0, cd));
}

/** Bytes of each OCTET STRING chunk of the compressed content of a streamed CompressedData. */
const BER_CHUNK = 1 << 16;

/** A CompressedData being written: `head` first, then what `update` and `finish` return, in order. */
export interface CompressedDataStreamWriter {
  /** The DER before the compressed content. */
  head: Uint8Array;
  /** Compresses `content`; the DER pieces it completes. */
  update(content: Uint8Array): Promise<Uint8Array[]>;
  /** Ends the content; the last DER pieces (the end-of-contents octets included). */
  finish(): Promise<Uint8Array[]>;
}

/**
 * Starts a CompressedData ContentInfo for content of a length not known in advance (issue 16): BER with indefinite
 * lengths, the zlib stream (the platform's `CompressionStream('deflate')`, lib/zlib.ts `ZlibCompressStream`) as a
 * constructed OCTET STRING of 64 KiB chunks, as Bouncy Castle's CMSCompressedDataStreamGenerator writes it; the fields
 * `buildCompressedData` writes in DER (version 0, id-alg-zlibCompress without parameters, eContentType id-data).
 *
 * ```
 * 30 80 { id-ct-compressedData, a0 80 { 30 80 { version 0, id-alg-zlibCompress,
 *   30 80 { id-data, a0 80 { 24 80 { 04 len chunk … } 00 00 } 00 00 } 00 00 } 00 00 } 00 00 } 00 00
 * ```
 */
export function startCompressedDataStream(chunkSize = BER_CHUNK): CompressedDataStreamWriter {
  const z = new ZlibCompressStream();
  const out: Uint8Array[] = [];
  const chunker = new OctetStringChunker((p) => void out.push(p), chunkSize);
  const take = (): Uint8Array[] => out.splice(0);
  return {
    head: concat([
      indefiniteHeader(0x30),
      oid(OIDS.compressedData),
      indefiniteHeader(0xa0),
      indefiniteHeader(0x30),
      integer(0),
      algorithmIdentifier(OIDS.zlibCompress),
      indefiniteHeader(0x30),
      oid(OIDS.data),
      indefiniteHeader(0xa0),
      indefiniteHeader(0x04),
    ]),
    async update(content) {
      for (const c of await z.write(content)) chunker.write(c);
      return take();
    },
    async finish() {
      for (const c of await z.end()) chunker.write(c);
      chunker.end();
      // The OCTET STRING, [0] eContent, EncapsulatedContentInfo, CompressedData, [0], ContentInfo.
      out.push(EOC, EOC, EOC, EOC, EOC, EOC);
      return take();
    },
  };
}

/**
 * {@link startCompressedDataStream} as a stream: `content` is read as the output is pulled (the compressor between
 * them holds a chunk or so).
 */
export function compressedDataStream(content: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const w = startCompressedDataStream();
  const reader = content.getReader();
  let started = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!started) {
          started = true;
          controller.enqueue(w.head);
          return;
        }
        for (;;) {
          const r = await reader.read();
          const pieces = r.done ? await w.finish() : await w.update(r.value);
          if (pieces.length > 0) controller.enqueue(concat(pieces));
          if (r.done) controller.close();
          if (r.done || pieces.length > 0) return;
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Reads a CompressedData ContentInfo (DER or BER) without decompressing it. `CMSInvalid` when it is not one (or
 * malformed, or without content), `UnsupportedAlgorithm` for a compression algorithm other than zlib.
 */
export function readCompressedData(der: Uint8Array, limits: Pick<Limits, 'maxBerDepth' | 'maxBerElements'>): CompressedContent {
  return withBerLimits(berLimits(limits), () => {
    const top = readTlv(der, 0);
    if (top.cls !== 0 || top.tagNo !== TAG.SEQUENCE || !top.constructed) throw new CMSInvalid('not a CMS ContentInfo (expected a SEQUENCE)');
    const [typeT, wrapT] = children(der, top);
    const type = decodeOid(der, typeT);
    if (type !== OIDS.compressedData) throw new CMSInvalid(`not compressed data: the CMS content type is ${oidName(type)}`);
    if (!wrapT || wrapT.cls !== 2 || wrapT.tagNo !== 0 || !wrapT.constructed) throw new CMSInvalid('CompressedData: missing content');
    const [cdT] = children(der, wrapT);
    if (!cdT || cdT.cls !== 0 || cdT.tagNo !== TAG.SEQUENCE || !cdT.constructed) throw new CMSInvalid('CompressedData: expected a SEQUENCE');
    const [versionT, algT, eciT] = children(der, cdT);
    if (!versionT || versionT.tagNo !== TAG.INTEGER || versionT.contentEnd - versionT.contentStart !== 1 || der[versionT.contentStart] !== 0)
      throw new CMSInvalid('CompressedData: version must be 0');
    const alg = readAlgorithm(der, algT, 'CompressedData compressionAlgorithm');
    if (alg.oid !== OIDS.zlibCompress) throw new UnsupportedAlgorithm(`compression algorithm ${oidName(alg.oid)}`, alg.oid);
    if (alg.params && !(alg.params.cls === 0 && alg.params.tagNo === TAG.NULL))
      throw new CMSInvalid('CompressedData: id-alg-zlibCompress takes no parameters');
    if (!eciT || eciT.cls !== 0 || eciT.tagNo !== TAG.SEQUENCE || !eciT.constructed) throw new CMSInvalid('CompressedData: missing encapContentInfo');
    const [ctT, ecT] = children(der, eciT);
    const contentType = decodeOid(der, ctT);
    if (!ecT || ecT.cls !== 2 || ecT.tagNo !== 0 || !ecT.constructed) throw new CMSInvalid('CompressedData: no encapsulated content');
    const [osT] = children(der, ecT);
    if (!osT || osT.cls !== 0 || osT.tagNo !== TAG.OCTET_STRING) throw new CMSInvalid('CompressedData: eContent must be an OCTET STRING');
    return { algorithm: alg.oid, contentType, compressed: stringContent(der, osT) };
  });
}

/**
 * Reads a CompressedData ContentInfo and decompresses its content, at most `maxDecompressedBytes` of it and at most
 * `maxDecompressionRatio` times the compressed size (`CMSLimitExceeded` beyond, `CMSInvalid` for a truncated or
 * corrupt zlib stream).
 *
 * @example
 * ```ts
 * const { content } = await decompressCms(der, limits);
 * ```
 */
export async function decompressCms(
  der: Uint8Array,
  limits: Pick<Limits, 'maxBerDepth' | 'maxBerElements' | 'maxDecompressedBytes'> & Partial<Pick<Limits, 'maxDecompressionRatio'>>,
): Promise<CompressedContent & { content: Uint8Array }> {
  const c = readCompressedData(der, limits);
  const content = await zlibDecompress(c.compressed, limits.maxDecompressedBytes, 'CompressedData', limits.maxDecompressionRatio ?? Infinity);
  return { ...c, content };
}
