/**
 * Compressed content inside a stream (RFC 3274; issue 16): what decryptStream decrypts and what verifyStream verifies
 * may be a compressed-data entity (or raw CompressedData DER). {@link CompressedContentStream} holds the content's
 * first bytes until {@link compressedHead} can tell, then either passes everything on or decompresses it as it comes
 * (`CompressedStreamReader`, `DecompressionStream('deflate')`), with `maxDecompressedBytes` and
 * `maxDecompressionRatio` counted as the bytes come out: the content is never held whole. The one reader of both
 * stream functions.
 */
import { concat } from '../lib/bytes.js';
import { mimeLimits, type Limits } from '../lib/limits.js';
import { Base64Decoder } from '../lib/base64_stream.js';
import { CompressedStreamReader } from '../cms/compressed_reader.js';
import { EntityHeadReader, type EntityHead } from '../mime/stream_head.js';
import { compressedHead } from './compress.js';

/**
 * Content pieces in, the content out: as it is, or decompressed when it begins as a compressed-data entity. The head
 * held while undecided is at most `maxHeaderBytes` and 64 body bytes; once compressed, each piece in gives the bytes it
 * decompresses to (bounded by the zlib reader's steps).
 */
export class CompressedContentStream {
  readonly #limits: Limits;
  /** The first pieces, until {@link compressedHead} answers. */
  #head: Uint8Array[] = [];
  #decided: boolean | undefined;
  #inner: CompressedEntityReader | undefined;

  /** @param limits `maxHeaderBytes`, the decompression limits, the BER limits and `maxCmsHeaderBytes` */
  constructor(limits: Limits) {
    this.#limits = limits;
  }

  /** True once the content is known to be compressed data (it is being decompressed). */
  get compressed(): boolean {
    return this.#decided === true;
  }

  /** The next content pieces (read before the call resolves, never kept but for the undecided head); resolves to what may go out. */
  async push(pieces: readonly Uint8Array[]): Promise<Uint8Array[]> {
    return this.#push(pieces, false);
  }

  /** The end of the content: what is still held, or the rest of the decompression once its structure is complete. */
  async finish(): Promise<Uint8Array[]> {
    const out = await this.#push([], true);
    if (this.#inner) out.push(...(await this.#inner.finish()));
    return out;
  }

  /** Stops the decompression (after an error elsewhere). */
  cancel(): void {
    this.#head = [];
    this.#inner?.cancel();
  }

  async #push(pieces: readonly Uint8Array[], ended: boolean): Promise<Uint8Array[]> {
    if (this.#decided === false) return pieces.filter((p) => p.length > 0);
    const out: Uint8Array[] = [];
    if (this.#inner) {
      for (const p of pieces) out.push(...(await this.#inner.push(p)));
      return out;
    }
    // Pieces are copied while held: the caller may reuse them.
    for (const p of pieces) if (p.length > 0) this.#head.push(p.slice());
    const head = this.#head.length === 1 ? this.#head[0]! : concat(this.#head);
    const c = compressedHead(head, ended, this.#limits);
    if (c === undefined) {
      this.#head = [head];
      return out;
    }
    this.#head = [];
    this.#decided = c;
    if (!c) {
      if (head.length > 0) out.push(head);
      return out;
    }
    this.#inner = new CompressedEntityReader(this.#limits);
    out.push(...(await this.#inner.push(head)));
    return out;
  }
}

/**
 * A compressed-data entity (RFC 3274, `smime-type=compressed-data`, or raw CompressedData DER) read as it comes: its
 * head (`EntityHeadReader`), its body (base64 or binary), the CompressedData decompressed as it streams
 * (`CompressedStreamReader`), within `maxDecompressedBytes` and `maxDecompressionRatio` counted as the bytes come out.
 */
export class CompressedEntityReader {
  readonly #head: EntityHeadReader;
  #known = false;
  #b64: Base64Decoder | undefined;
  readonly #cms: CompressedStreamReader;

  constructor(limits: Limits) {
    this.#head = new EntityHeadReader(mimeLimits(limits));
    this.#cms = new CompressedStreamReader(limits);
  }

  /** The next bytes of the entity; resolves to the decompressed bytes so far. */
  async push(piece: Uint8Array): Promise<Uint8Array[]> {
    let body = piece;
    if (!this.#known) {
      const head = this.#head.push(piece);
      if (!head) return [];
      this.#start(head);
      body = head.rest;
    }
    return this.#der(this.#b64 ? this.#b64.write(body) : body);
  }

  /** The end of the entity: the rest of the decompressed bytes, once everything is complete. */
  async finish(): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    if (!this.#known) {
      const head = this.#head.finish();
      this.#start(head);
      out.push(...(await this.#der(this.#b64 ? this.#b64.write(head.rest) : head.rest)));
    }
    if (this.#b64) out.push(...(await this.#der(this.#b64.end())));
    out.push(...(await this.#cms.finish()));
    return out;
  }

  cancel(): void {
    this.#cms.cancel();
  }

  #start(head: EntityHead): void {
    this.#known = true;
    if (head.body === 'base64') this.#b64 = new Base64Decoder();
  }

  async #der(der: Uint8Array): Promise<Uint8Array[]> {
    return der.length > 0 ? this.#cms.push(der) : [];
  }
}
