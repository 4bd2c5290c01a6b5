/**
 * The payload's header section of an opaque signed message (application/pkcs7-mime, smime-type=signed-data), read from
 * the first bytes of its body: what encryptMessage and encryptStream check `hp="cipher"` on before encrypting a signed
 * message with `protectHeaders` (ops/header_protection.ts). The body is decoded as it comes (base64, or the CMS
 * itself for 7bit/8bit/binary), its BER walked (BerStreamReader) through ContentInfo → SignedData → encapContentInfo →
 * eContent, which comes before the certificates and SignerInfos, and the eContent's first bytes gathered until its
 * header section ends (HeaderSectionBuffer). So a signed message of any size is checked on its first bytes, and the
 * buffer function reads the same bytes the stream reads (one code path, the same answer and the same errors).
 *
 * Limits: the payload's header section within `maxHeaderBytes` of eContent, and all of it within `3 × maxHeaderBytes`
 * bytes of the body (base64 with its line ends, and the CMS before the eContent), else `MIMELimitExceeded`
 * (`maxHeaderBytes`); BER within the default BER limits (`CMSInvalid`, `CMSLimitExceeded`); base64 as decodeBase64
 * reads it (`MIMEInvalid`). A body that ends before the decision: `CMSInvalid` (truncated).
 */
import { CMSInvalid, MIMEInvalid, MIMELimitExceeded } from '../errors.js';
import { Base64Decoder } from '../lib/base64_stream.js';
import { BerStreamReader, type BerHeader } from '../lib/ber_stream.js';
import { concat, equal } from '../lib/bytes.js';
import { oid } from '../lib/der.js';
import { DEFAULT_LIMITS } from '../lib/limits.js';
import { ContentInfoPrefix } from '../cms/content_info_stream.js';
import { OIDS } from '../cms/oids.js';
import { SignedDataPath } from '../cms/signed_stream.js';
import { HeaderSectionBuffer } from '../mime/stream_head.js';

/** What {@link OpaqueSignedHead} found. */
export type OpaqueSignedHeadResult =
  /** The ContentInfo holds no SignedData (an encrypted message encrypted again): nothing to check. */
  | { kind: 'not-signed' }
  /** The signed payload's header section (its empty line included; all of a payload that has none). */
  | { kind: 'head'; section: Uint8Array }
  /** A SignedData without eContent (a detached signature), or with an empty one: no payload to read. */
  | { kind: 'no-content' };

/** The content octets of the signedData OID. */
const SIGNED_DATA = oid(OIDS.signedData).subarray(2);

/** Thrown inside the BER handler once the answer is known, to stop the walk. */
class Decided extends Error {}

/**
 * Reads the header section of an opaque signed message's payload from its body pushed in pieces (see the file
 * comment): {@link push} returns the answer as soon as it is known, {@link end} at the end of the body.
 */
export class OpaqueSignedHead {
  readonly #b64: Base64Decoder | undefined;
  readonly #max: number;
  readonly #ber: BerStreamReader;
  readonly #ci = new ContentInfoPrefix('SignedData');
  readonly #head: HeaderSectionBuffer;
  /** Where the events are, and the encapContentInfo's layout checks (as the stream reader of SignedData makes them). */
  readonly #path = new SignedDataPath();
  #oid: Uint8Array[] = [];
  #oidBytes = 0;
  #read = 0;
  #contentBytes = 0;
  #result: OpaqueSignedHeadResult | undefined;

  /**
   * @param transferEncoding the body's Content-Transfer-Encoding (base64, 7bit, 8bit or binary; else `MIMEInvalid`)
   * @param maxHeaderBytes the limit of the payload's header section (see the file comment for the rest)
   */
  constructor(transferEncoding: string, maxHeaderBytes: number) {
    const cte = transferEncoding.trim().toLowerCase();
    if (cte !== 'base64' && cte !== '7bit' && cte !== '8bit' && cte !== 'binary') throw new MIMEInvalid(`S/MIME body: unsupported Content-Transfer-Encoding "${cte}"`);
    this.#b64 = cte === 'base64' ? new Base64Decoder() : undefined;
    this.#max = maxHeaderBytes;
    this.#head = new HeaderSectionBuffer(maxHeaderBytes);
    this.#ber = new BerStreamReader(
      { start: (h) => this.#start(h), data: (b, h) => this.#data(b, h), end: (h) => this.#end(h) },
      { maxDepth: DEFAULT_LIMITS.maxBerDepth, maxElements: DEFAULT_LIMITS.maxBerElements },
    );
  }

  /** The next bytes of the body (not kept); the answer once it is known (then push no more). */
  push(piece: Uint8Array): OpaqueSignedHeadResult | undefined {
    if (this.#result) return this.#result;
    this.#read += piece.length;
    const der = this.#b64 ? this.#b64.write(piece) : piece;
    this.#walk(der);
    if (!this.#result && this.#read > 3 * this.#max) {
      throw new MIMELimitExceeded(
        `an opaque signed message's payload: its header section is not within the first 3 × maxHeaderBytes (${3 * this.#max}) bytes of the body, so its hp can't be checked (raise maxHeaderBytes)`,
        { limit: 'maxHeaderBytes' },
      );
    }
    return this.#result;
  }

  /** The end of the body: the answer, or `CMSInvalid` when the body ended before it. */
  end(): OpaqueSignedHeadResult {
    if (this.#result) return this.#result;
    if (this.#b64) this.#walk(this.#b64.end());
    if (this.#result) return this.#result;
    this.#ber.finish(); // CMSInvalid: truncated, or empty
    throw new CMSInvalid('signed-data: incomplete structure (no encapsulated content info)');
  }

  #walk(der: Uint8Array): void {
    try {
      this.#ber.push(der);
    } catch (e) {
      if (!(e instanceof Decided)) throw e;
    }
  }

  #decide(r: OpaqueSignedHeadResult): never {
    this.#result = r;
    throw new Decided();
  }

  #start(h: BerHeader): void {
    const d = h.depth;
    this.#ci.start(h);
    const i = this.#path.start(h);
    if (d === 1 && i === 1 && !equal(concat(this.#oid), SIGNED_DATA)) this.#decide({ kind: 'not-signed' });
    if (d === 3 && i > 2) this.#decide({ kind: 'no-content' }); // past the encapContentInfo
  }

  #data(b: Uint8Array, h: BerHeader): void {
    if (h.depth === 1 && this.#path.at(1) === 0) {
      // The contentType OID's octets (an OID longer than 64 octets is no signedData).
      this.#oidBytes += b.length;
      if (this.#oidBytes <= 64) this.#oid.push(b.slice());
      return;
    }
    if (!this.#path.inContent(h)) return;
    this.#contentBytes += b.length;
    const s = this.#head.push(b);
    if (s) this.#decide({ kind: 'head', section: s.section });
  }

  #end(h: BerHeader): void {
    // The end of encapContentInfo: the eContent (if any) had no empty line, so all of it is its header section, as
    // parseEntity reads an entity without one.
    if (h.depth === 3 && this.#path.at(3) === 2) {
      this.#decide(this.#contentBytes === 0 ? { kind: 'no-content' } : { kind: 'head', section: this.#head.held.slice() });
    }
  }
}
