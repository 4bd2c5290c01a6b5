/**
 * A streamed SignedData (issue 16; docs/streaming-design.md §2.5), read from pieces ({@link SignedDataStreamReader})
 * and written as `openssl cms -sign -stream` writes it:
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
import { CMSInvalid } from '../errors.js';
import { BerCapture, BerStreamReader, EOC, indefiniteHeader, OctetStringChunker, type BerHandler, type BerHeader } from '../lib/ber_stream.js';
import { algorithmIdentifier, children, integer, oid, readAlgorithm, readTlv, set, TAG, tlv, withBerLimits } from '../lib/der.js';
import { concat } from '../lib/bytes.js';
import { berLimits, DEFAULT_LIMITS, type Limits } from '../lib/limits.js';
import { DIGESTS, digestAlgorithmByOid } from '../crypto/algorithms.js';
import { startHash, type HashStream } from '../crypto/incremental_hash.js';
import { OIDS } from './oids.js';
import { ContentInfoPrefix, contentTypeOf } from './content_info_stream.js';
import { contentHashFor, parseSignedData, signedDataParts, type BuildSignedDataOptions, type ContentDigests, type ParsedSignedData } from './signed.js';

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

// ---------------------------------------------------------------------------------------------------------------
// Reading

/** What {@link SignedDataStreamReader} found once the input has ended. */
export interface StreamedSignedData {
  /** The SignedData, parsed by `parseSignedData` (without its eContent, which streamed). */
  sd: ParsedSignedData;
  /** The digests of the eContent, by digest algorithm OID (every digest the digestAlgorithms SET named that smime-core knows). */
  digests: ContentDigests;
  /** Whether the SignedData had an eContent (false: a detached signature). */
  hadContent: boolean;
}

const OCTET_STRING = 4;

/**
 * Where the BER events of a ContentInfo holding SignedData are (the index of the open element at each depth among
 * its siblings), and the checks of the encapContentInfo that every reader of one makes: a SEQUENCE third in the
 * SignedData, an eContentType OID, at most an [0] eContent after it, and in [0] one OCTET STRING (constructed or not).
 * Shared by {@link SignedDataStreamReader} and ops/opaque_signed_head.ts; the ContentInfo itself is ContentInfoPrefix's.
 */
export class SignedDataPath {
  /** Children seen so far at each depth, under the element open at the depth above. */
  readonly #next: number[] = [];
  /** The index of the open element at each depth among its siblings. */
  readonly #at: number[] = [];

  /** Enters the element `h` starts and returns its index among its siblings; `CMSInvalid` where the layout is wrong. */
  start(h: BerHeader): number {
    const d = h.depth;
    const i = this.#next[d] ?? 0;
    this.#next[d] = i + 1;
    this.#next[d + 1] = 0;
    this.#at[d] = i;
    const universal = h.cls === 0;
    if (d === 3 && i === 2 && !(universal && h.tagNo === TAG.SEQUENCE && h.constructed)) throw new CMSInvalid('SignedData: missing encapContentInfo');
    if (d === 4 && this.#at[3] === 2) {
      if (i === 0 && !(universal && h.tagNo === TAG.OID)) throw new CMSInvalid('EncapsulatedContentInfo: missing eContentType');
      if (i === 1 && !(h.cls === 2 && h.tagNo === 0 && h.constructed)) throw new CMSInvalid('EncapsulatedContentInfo: bad eContent');
      if (i > 1) throw new CMSInvalid('EncapsulatedContentInfo: unexpected element');
    }
    if (this.inContent(h)) {
      if (d === 5 && i > 0) throw new CMSInvalid('EncapsulatedContentInfo: bad eContent');
      if (!(universal && h.tagNo === OCTET_STRING)) throw new CMSInvalid('EncapsulatedContentInfo: eContent is not an OCTET STRING');
    }
    return i;
  }

  /** The index of the element open at depth `d` (undefined before one was). */
  at(d: number): number | undefined {
    return this.#at[d];
  }

  /** Whether `h` is inside the eContent ([0] of encapContentInfo, the SignedData's third element). */
  inContent(h: BerHeader): boolean {
    return h.depth >= 5 && this.#at[2] === 0 && this.#at[3] === 2 && this.#at[4] === 1;
  }
}

/**
 * Reads a ContentInfo holding SignedData pushed in pieces (DER or BER, definite or indefinite lengths): the
 * digestAlgorithms SET is captured before the encapsulated content (so the hashers start in time), the eContent is
 * hashed and handed to `onContent` as it comes (views of the pushed pieces, valid during the call), and everything
 * else (version, certificates, CRLs, SignerInfos) is captured, each element within `maxCmsHeaderBytes`
 * (`CMSLimitExceeded`), and parsed at `finish` by today's `parseSignedData`. Structure errors are `CMSInvalid`.
 */
export class SignedDataStreamReader {
  readonly #reader: BerStreamReader;
  readonly #limits: Limits;
  readonly #crypto?: Crypto;
  readonly #onContent: (bytes: Uint8Array) => void;
  /** The ContentInfo around the SignedData (depths 0 to 2). */
  readonly #ci = new ContentInfoPrefix('SignedData');
  /** Where the events are, and the encapContentInfo's layout checks. */
  readonly #path = new SignedDataPath();
  #typeOid?: Uint8Array;
  #signedData: Uint8Array[] = [];
  #eContentType?: Uint8Array;
  #hashers: { oid: string; hash: HashStream }[] | undefined;
  #hadContent = false;

  constructor(onContent: (bytes: Uint8Array) => void, limits: Limits = DEFAULT_LIMITS, crypto?: Crypto) {
    this.#limits = limits;
    this.#crypto = crypto;
    this.#onContent = onContent;
    const capture = new BerCapture(
      { start() {}, data() {}, end() {} },
      (h) => this.#captures(h),
      (h, der) => this.#captured(h, der),
      limits.maxCmsHeaderBytes,
    );
    const inner = capture.handler;
    const handler: BerHandler = {
      start: (h) => {
        this.#start(h);
        inner.start(h);
      },
      raw: (b) => inner.raw!(b),
      data: (b, h) => {
        inner.data(b, h);
        if (this.#path.inContent(h)) {
          for (const x of this.#hashers!) x.hash.update(b);
          this.#onContent(b);
        }
      },
      end: (h) => inner.end(h),
    };
    this.#reader = new BerStreamReader(handler, { maxDepth: limits.maxBerDepth, maxElements: limits.maxBerElements });
  }

  /** Reads the next piece. */
  push(der: Uint8Array): void {
    this.#reader.push(der);
  }

  /** The end of the input: `CMSInvalid` when the ContentInfo is incomplete or not a SignedData. */
  finish(): StreamedSignedData {
    this.#reader.finish();
    if (!this.#typeOid || this.#signedData.length < 2 || !this.#eContentType) throw new CMSInvalid('SignedData: incomplete structure');
    const eci = tlv(0x30, this.#eContentType);
    const [version, digestAlgorithms, ...rest] = this.#signedData;
    const ci = tlv(0x30, this.#typeOid, tlv(0xa0, tlv(0x30, version!, digestAlgorithms!, eci, ...rest)));
    const sd = withBerLimits(berLimits(this.#limits), () => parseSignedData(ci, this.#limits));
    const digests = new Map<string, Uint8Array>();
    for (const x of this.#hashers ?? []) digests.set(x.oid, x.hash.digest());
    return { sd, digests: { digests }, hadContent: this.#hadContent };
  }

  #start(h: BerHeader): void {
    const d = h.depth;
    this.#ci.start(h);
    const i = this.#path.start(h);
    if (d === 3 && i === 1 && !this.#hashers && !(h.cls === 0 && h.tagNo === TAG.SET)) throw new CMSInvalid('SignedData: missing digestAlgorithms');
    if (d === 4 && i === 1 && this.#path.at(3) === 2) {
      if (!this.#hashers) throw new CMSInvalid('SignedData: missing digestAlgorithms');
      this.#hadContent = true;
    }
  }

  #captures(h: BerHeader): boolean {
    const d = h.depth;
    const i = this.#path.at(d);
    if (d === 1) return i === 0;
    if (d === 3) return i !== 2;
    if (d === 4) return this.#path.at(3) === 2 && i === 0;
    return false;
  }

  #captured(h: BerHeader, der: Uint8Array): void {
    const d = h.depth;
    if (d === 1) {
      contentTypeOf(der, [OIDS.signedData], 'a signed message');
      this.#typeOid = der;
      return;
    }
    if (d === 4) {
      this.#eContentType = der;
      return;
    }
    this.#signedData.push(der);
    if (this.#path.at(3) === 1) this.#startHashers(der);
  }

  #startHashers(der: Uint8Array): void {
    const oids = withBerLimits(berLimits(this.#limits), () => children(der, readTlv(der, 0)).map((a) => readAlgorithm(der, a, 'SignedData digestAlgorithms').oid));
    const hashers: { oid: string; hash: HashStream }[] = [];
    for (const o of oids) {
      const alg = digestAlgorithmByOid(o);
      if (alg && !hashers.some((x) => x.oid === o)) hashers.push({ oid: o, hash: startHash(alg.name, this.#crypto) });
    }
    this.#hashers = hashers;
  }
}
