/**
 * A CompressedData (RFC 3274) written as its content comes (issue 16: signStream with `compress`): BER with
 * indefinite lengths, the zlib stream in a constructed OCTET STRING of 64 KiB chunks, compressed by the platform's
 * `CompressionStream('deflate')` (lib/zlib.ts `ZlibCompressStream`). Same fields as `buildCompressedData` writes in
 * DER: version 0, id-alg-zlibCompress without parameters, eContentType id-data.
 */
import { EOC, indefiniteHeader, OctetStringChunker } from '../lib/ber_stream.js';
import { algorithmIdentifier, integer, oid } from '../lib/der.js';
import { concat } from '../lib/bytes.js';
import { ZlibCompressStream } from '../lib/zlib.js';
import { OIDS } from './oids.js';

/** A CompressedData being written: `head` first, then what `update` and `finish` return, in order. */
export interface CompressedDataStreamWriter {
  /** The DER before the compressed content. */
  head: Uint8Array;
  /** Compresses `content`; the DER pieces it completes. */
  update(content: Uint8Array): Promise<Uint8Array[]>;
  /** Ends the content; the last DER pieces (the end-of-contents octets included). */
  finish(): Promise<Uint8Array[]>;
}

/** Starts a streamed CompressedData ContentInfo. */
export function startCompressedDataStream(chunkSize = 1 << 16): CompressedDataStreamWriter {
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
