/**
 * A streamed SignedData (issue 16; docs/streaming-design.md §2.5), written as `openssl cms -sign -stream` writes it:
 * BER with indefinite lengths, the encapsulated content a constructed OCTET STRING of chunks, written while it is
 * hashed; the certificates and the SignerInfo once the digest is known (built by `signedDataParts`, the code
 * `buildSignedData` uses).
 *
 * ```
 * ContentInfo SEQUENCE (indef) { signedData OID, [0] (indef) { SignedData SEQUENCE (indef) {
 *   version 1, digestAlgorithms SET { alg }, encapContentInfo SEQUENCE (indef) { id-data,
 *     [0] (indef) { OCTET STRING (constructed, indef) { OCTET STRING chunk, … } } },
 *   [0] certificates, signerInfos SET { SignerInfo } } } }
 * ```
 */
import { EOC, indefiniteHeader, OctetStringChunker } from '../lib/ber_stream.js';
import { algorithmIdentifier, integer, oid, set, tlv } from '../lib/der.js';
import { concat } from '../lib/bytes.js';
import { DIGESTS } from '../crypto/algorithms.js';
import { startHash } from '../crypto/incremental_hash.js';
import { OIDS } from './oids.js';
import { contentHashFor, signedDataParts, type BuildSignedDataOptions } from './signed.js';

/** A SignedData being written: `update` with content pieces, then `finish`; each hands DER pieces to its sink. */
export interface SignedDataStreamWriter {
  /** The DER before the content (ContentInfo and SignedData headers, the digest algorithm, the eContent headers). */
  head: Uint8Array;
  /** Hashes `content` and writes it as OCTET STRING chunks. */
  update(content: Uint8Array, sink: (der: Uint8Array) => void): void;
  /** Closes the content, signs its digest, and writes the certificates, the SignerInfo and the end-of-contents octets. */
  finish(sink: (der: Uint8Array) => void): Promise<void>;
}

/** Starts a streamed, encapsulating SignedData for the signer `options` describe. */
export function startSignedDataStream(options: Omit<BuildSignedDataOptions, 'encapsulate'>, chunkSize = 1 << 16): SignedDataStreamWriter {
  const hashName = contentHashFor(options);
  const hash = startHash(hashName, options.crypto);
  let sink: (der: Uint8Array) => void = () => {};
  const chunker = new OctetStringChunker((p) => sink(p), chunkSize);
  const head = concat([
    indefiniteHeader(0x30),
    oid(OIDS.signedData),
    indefiniteHeader(0xa0),
    indefiniteHeader(0x30),
    integer(1),
    set(algorithmIdentifier(DIGESTS[hashName].oid)),
    indefiniteHeader(0x30),
    oid(OIDS.data),
    indefiniteHeader(0xa0),
    indefiniteHeader(0x04),
  ]);
  return {
    head,
    update(content, s) {
      sink = s;
      hash.update(content);
      chunker.write(content);
    },
    async finish(s) {
      sink = s;
      chunker.end();
      const parts = await signedDataParts(hash.digest(), options);
      s(concat([
        EOC, // the OCTET STRING
        EOC, // [0] eContent
        EOC, // EncapsulatedContentInfo
        ...(parts.certificates.length ? [tlv(0xa0, ...parts.certificates)] : []),
        set(parts.signerInfo),
        EOC, // SignedData
        EOC, // [0]
        EOC, // ContentInfo
      ]));
    },
  };
}
