/**
 * The streaming (Auth)EnvelopedData reader (issue 16; docs/streaming-design.md §2.4): DER or BER pushed in pieces,
 * plaintext out as it is decrypted, in memory that does not grow with the content.
 *
 * It drives a `BerStreamReader` and keeps, with `BerCapture`, the parts of the structure it needs whole (the content
 * type, the RecipientInfos, the content-encryption AlgorithmIdentifier, the mac), at most `maxCmsHeaderBytes` of
 * them in all; those are read by the buffer path's parsers (`parseKtri`, `parseKari`, `parseContentAlgorithm`
 * through `recipientCandidates`). When the first byte of the encrypted content arrives the key must be known: a
 * RecipientInfo must name one of the keys (issuer and serial, SKI, the Outlook SPKI hash), since a stream cannot be
 * decrypted once per key; without one, `CMSDecryptionFailed`, as the buffer API says when no key opens a message.
 * The content is decrypted by the same `contentDecryptor` as the buffer path. AuthEnvelopedData's mac comes after
 * the content: it is given to the decryptor at the end, where the tag is checked (`CMSDecryptionFailed`). Its
 * authAttrs (the AAD) come after the content too, but the AAD must be fed before it: a stream with authAttrs is
 * `UnsupportedAlgorithm` (smime-core and OpenSSL write none; `decryptMessage` reads them).
 */
import { CMSDecryptionFailed, CMSInvalid, CMSLimitExceeded, SmimeError, UnsupportedAlgorithm } from '../errors.js';
import { BerCapture, BerStreamReader, type BerHeader, type BerHandler } from '../lib/ber_stream.js';
import { children, readTlv, stringContent, TAG, withBerLimits } from '../lib/der.js';
import { berLimits, DEFAULT_LIMITS, type Limits } from '../lib/limits.js';
import { OIDS } from './oids.js';
import { ContentInfoPrefix, contentTypeOf } from './content_info_stream.js';
import { checkStreamDecryption, contentDecryptor, parseContentAlgorithm, type ContentAlgorithm, type ContentDecryptor } from './content_cipher.js';
import {
  checkKeyTrials,
  isKeyRefusal,
  keyTransportOf,
  recipientCandidates,
  unwrapCandidate,
  type EnvelopeKind,
  type RecipientKey,
} from './enveloped.js';

/** The limits the stream reader obeys. */
export type EnvelopeStreamLimits = Pick<Limits, 'maxRecipientInfos' | 'maxKeyTrials' | 'maxBerDepth' | 'maxBerElements' | 'maxCmsHeaderBytes'>;

/** What opened a streamed envelope (known once the content begins; see {@link EnvelopeStreamReader.info}). */
export interface EnvelopeStreamInfo<K extends RecipientKey = RecipientKey> {
  kind: EnvelopeKind;
  /** The key that opened it (one of those given to the reader). */
  identity: K;
  cipher: string;
  cipherOid: string;
  /** True for AEAD content encryption (AES-GCM, ChaCha20-Poly1305): the content is known good only once {@link EnvelopeStreamReader.finish} resolves. */
  authenticated: boolean;
  legacy: boolean;
  keyTransport: string;
}

const UNIVERSAL = 0;
const CONTEXT = 2;

/**
 * Reads one (Auth)EnvelopedData ContentInfo pushed in pieces (see the file comment). `push` resolves to the
 * plaintext the piece completes; `finish` to the last of it, after the padding or the tag has been checked. After an
 * error the reader is unusable. The pieces pushed are not copied (the ciphertext is decrypted from them before
 * `push` resolves) and never written.
 */
export class EnvelopeStreamReader<K extends RecipientKey = RecipientKey> {
  readonly #identities: readonly K[];
  readonly #crypto: Crypto | undefined;
  readonly #limits: EnvelopeStreamLimits;
  readonly #ber: BerStreamReader;
  /** Captured header bytes so far (all captures together, against maxCmsHeaderBytes). */
  #held = 0;
  #kind: EnvelopeKind | undefined;
  #riSet: Uint8Array | undefined;
  #alg: ContentAlgorithm | undefined;
  #mac: Uint8Array | undefined;
  readonly #ci = new ContentInfoPrefix('EnvelopedData');
  #inEnvelope = false;
  #inEci = false;
  #eciDone = false;
  #inContent = false;
  #contentBegun = false;
  /** Ciphertext views of the piece being pushed, decrypted once the reader's synchronous events are done. */
  #pending: Uint8Array[] = [];
  #decryptor: ContentDecryptor | undefined;
  #info: EnvelopeStreamInfo<K> | undefined;
  #failed = false;

  /**
   * @param identities the keys that may open the envelope (a RecipientInfo must name one)
   * @param crypto the WebCrypto implementation (default: the platform's)
   * @param limits `maxCmsHeaderBytes`, `maxRecipientInfos`, `maxKeyTrials` and the BER limits (default: `DEFAULT_LIMITS`)
   */
  constructor(identities: readonly K[], crypto?: Crypto, limits: EnvelopeStreamLimits = DEFAULT_LIMITS) {
    this.#identities = identities;
    this.#crypto = crypto;
    this.#limits = limits;
    const capture = new BerCapture(
      this.#handler(),
      (h) => this.#wantCapture(h),
      (h, der) => this.#captured(h, der),
      limits.maxCmsHeaderBytes,
    );
    const b = berLimits(limits);
    this.#ber = new BerStreamReader(capture.handler, { maxDepth: b.maxDepth, maxElements: b.maxChunks });
  }

  /** True once the encrypted content has begun and its key is known ({@link info} is set). */
  get started(): boolean {
    return this.#decryptor !== undefined;
  }

  /** What opened the envelope, once {@link started}. */
  get info(): EnvelopeStreamInfo<K> | undefined {
    return this.#info;
  }

  /** Reads the next bytes of the ContentInfo; resolves to the plaintext they complete (possibly none). */
  async push(der: Uint8Array): Promise<Uint8Array[]> {
    if (this.#failed) throw new CMSInvalid('the envelope reader already failed');
    try {
      this.#pending = [];
      this.#ber.push(der);
      if (this.#contentBegun && !this.#decryptor) await this.#openKey();
      return await this.#decrypt();
    } catch (e) {
      this.#failed = true;
      throw e;
    }
  }

  /**
   * The end of the input: `CMSInvalid` when the ContentInfo is not complete; the last plaintext once the padding
   * (CBC) or the tag (GCM) checks out, else `CMSDecryptionFailed`.
   */
  async finish(): Promise<Uint8Array[]> {
    if (this.#failed) throw new CMSInvalid('the envelope reader already failed');
    this.#failed = true;
    this.#ber.finish();
    const d = this.#decryptor;
    if (!d) throw new CMSInvalid('EncryptedContentInfo: no encrypted content');
    let last: Uint8Array;
    try {
      if (this.#kind === 'authEnveloped') {
        if (!this.#mac) throw new CMSInvalid('AuthEnvelopedData: missing mac');
        d.setTag(this.#mac);
      }
      last = await d.finish();
    } catch (e) {
      if (e instanceof SmimeError) throw e;
      throw new CMSDecryptionFailed();
    }
    return last.length > 0 ? [last] : [];
  }

  async #decrypt(): Promise<Uint8Array[]> {
    const d = this.#decryptor;
    const out: Uint8Array[] = [];
    if (!d) return out;
    const pending = this.#pending;
    this.#pending = [];
    for (const c of pending) {
      let p: Uint8Array;
      try {
        p = await d.update(c);
      } catch (e) {
        if (e instanceof SmimeError) throw e;
        throw new CMSDecryptionFailed();
      }
      if (p.length > 0) out.push(p);
    }
    return out;
  }

  /** The content begins: the key, from a RecipientInfo that names one of ours, and the decryptor. */
  async #openKey(): Promise<void> {
    const alg = this.#alg!;
    // Refused before any private-key operation when the cipher cannot stream here.
    checkStreamDecryption(alg);
    const riSet = this.#riSet!;
    const l = this.#limits;
    const ris = withBerLimits(berLimits(l), () => {
      const t = readTlv(riSet, 0);
      if (t.cls !== UNIVERSAL || t.tagNo !== TAG.SET || !t.constructed) throw new CMSInvalid('EnvelopedData: missing recipientInfos');
      return children(riSet, t);
    });
    const { matched } = await recipientCandidates(riSet, ris, this.#identities, this.#crypto, l.maxRecipientInfos);
    // No trial keys on a stream: only the RecipientInfos that name one of our keys.
    checkKeyTrials(matched.length, l.maxKeyTrials);
    let refused: SmimeError | undefined;
    for (const cand of matched) {
      let cek: Uint8Array;
      try {
        cek = await unwrapCandidate(cand, alg.keyLength, this.#crypto);
      } catch (e) {
        if (e instanceof UnsupportedAlgorithm) throw e;
        if (isKeyRefusal(e, true)) refused ??= e as SmimeError;
        continue;
      }
      try {
        this.#decryptor = contentDecryptor(alg, cek, this.#crypto);
      } catch (e) {
        if (e instanceof SmimeError) throw e;
        continue; // a CEK of the wrong length: this RecipientInfo does not open it
      } finally {
        cek.fill(0);
      }
      this.#info = {
        kind: this.#kind!,
        identity: cand.identity,
        cipher: alg.name,
        cipherOid: alg.oid,
        authenticated: alg.aead,
        legacy: alg.legacy,
        keyTransport: keyTransportOf(cand),
      };
      return;
    }
    if (refused) throw refused;
    throw new CMSDecryptionFailed();
  }

  /** Whether the element starting at `h` is kept whole (decided before the handler's `start` sees it). */
  #wantCapture(h: BerHeader): boolean {
    switch (h.depth) {
      case 1:
        return this.#ci.isContentType(h);
      case 3:
        if (!this.#inEnvelope) return false;
        // Before the EncryptedContentInfo: version, originatorInfo, recipientInfos. After: the mac (AuthEnvelopedData).
        if (!this.#eciDone) return !(h.cls === UNIVERSAL && h.tagNo === TAG.SEQUENCE);
        return this.#kind === 'authEnveloped' && h.cls === UNIVERSAL && h.tagNo === TAG.OCTET_STRING;
      case 4:
        // The EncryptedContentInfo's content type and algorithm; not the content.
        return this.#inEci && !(h.cls === CONTEXT && h.tagNo === 0);
      default:
        return false;
    }
  }

  #captured(h: BerHeader, der: Uint8Array): void {
    this.#held += der.length;
    if (this.#held > this.#limits.maxCmsHeaderBytes) {
      throw new CMSLimitExceeded(`the CMS structure around the content is larger than ${this.#limits.maxCmsHeaderBytes} bytes`, { limit: 'maxCmsHeaderBytes' });
    }
    const t = readTlv(der, 0);
    if (h.depth === 1) {
      const type = contentTypeOf(der, [OIDS.envelopedData, OIDS.authEnvelopedData], 'an encrypted message');
      this.#kind = type === OIDS.envelopedData ? 'enveloped' : 'authEnveloped';
    } else if (h.depth === 3) {
      if (!this.#eciDone) {
        if (h.cls === UNIVERSAL && h.tagNo === TAG.SET && this.#riSet === undefined) this.#riSet = der;
      } else this.#mac ??= stringContent(der, t).slice();
    } else if (h.depth === 4 && h.cls === UNIVERSAL && h.tagNo === TAG.SEQUENCE && this.#alg === undefined) {
      this.#alg = parseContentAlgorithm(der);
    }
  }

  #handler(): BerHandler {
    return {
      start: (h) => {
        const d = h.depth;
        if (d <= 2) {
          if (this.#ci.start(h)) this.#inEnvelope = true;
        } else if (d === 3) {
          if (!this.#inEnvelope) return;
          if (!this.#eciDone && h.cls === UNIVERSAL && h.tagNo === TAG.SEQUENCE) {
            if (!this.#riSet) throw new CMSInvalid('EnvelopedData: missing recipientInfos');
            this.#inEci = true;
          } else if (this.#eciDone && this.#kind === 'authEnveloped' && h.cls === CONTEXT && h.tagNo === 1 && this.#mac === undefined) {
            throw new UnsupportedAlgorithm('AuthEnvelopedData with authAttrs in a stream (they come after the content, their AAD is needed before it): use decryptMessage', OIDS.authEnvelopedData);
          }
        } else if (d === 4) {
          if (!this.#inEci || h.cls !== CONTEXT || h.tagNo !== 0) return;
          if (this.#contentBegun) throw new CMSInvalid('EncryptedContentInfo: two encrypted contents');
          if (!this.#alg) throw new CMSInvalid('EncryptedContentInfo: missing algorithm');
          if (this.#kind === 'authEnveloped' && !this.#alg.aead) throw new CMSInvalid('AuthEnvelopedData with a non-AEAD cipher');
          this.#contentBegun = true;
          this.#inContent = true;
        } else if (this.#inContent && (h.cls !== UNIVERSAL || h.tagNo !== TAG.OCTET_STRING)) {
          throw new CMSInvalid('EncryptedContentInfo: a chunk of the encrypted content is not an OCTET STRING');
        }
      },
      data: (b) => {
        if (this.#inContent && b.length > 0) this.#pending.push(b);
      },
      end: (h) => {
        const d = h.depth;
        if (d === 4 && this.#inContent && h.cls === CONTEXT && h.tagNo === 0) this.#inContent = false;
        else if (d === 3 && this.#inEci) {
          this.#inEci = false;
          this.#eciDone = true;
          if (!this.#contentBegun) throw new CMSInvalid('EncryptedContentInfo: no encrypted content (detached content is not supported)');
        } else if (d === 2 && this.#inEnvelope) {
          this.#inEnvelope = false;
          if (!this.#eciDone) throw new CMSInvalid('EnvelopedData: missing encryptedContentInfo');
        }
      },
    };
  }
}
