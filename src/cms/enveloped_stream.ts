/**
 * The streaming (Auth)EnvelopedData writer (issue 16): BER with indefinite lengths, the encrypted content as a
 * constructed `[0]` of OCTET STRING chunks, as `openssl cms -encrypt -stream` writes it, for content of a length not
 * known in advance. The RecipientInfos are built (every recipient's key used) before the writer is returned, so a
 * refusal happens before any byte is written. The layout:
 *
 * ```
 * ContentInfo 30 80 { contentType, [0] a0 80 {
 *   (Auth)EnvelopedData 30 80 { version, recipientInfos (DER),
 *     EncryptedContentInfo 30 80 { id-data, contentEncryptionAlgorithm, [0] a0 80 { 04 len chunk … } 00 00 } 00 00
 *     [AuthEnvelopedData: mac 04 10 tag] } 00 00 } 00 00 } 00 00
 * ```
 */
import { randomBytes } from '../crypto/provider.js';
import type { CertInfo } from '../certs/cert_info.js';
import { concat } from '../lib/bytes.js';
import { integer, oid, octets } from '../lib/der.js';
import { EOC, indefiniteHeader, OctetStringChunker } from '../lib/ber_stream.js';
import { OIDS } from './oids.js';
import { CIPHERS, isAead, streamEncryptor } from './content_cipher.js';
import { buildRecipientInfos, type EnvelopeOptions } from './enveloped.js';

/** Bytes of each OCTET STRING chunk of the encrypted content (a multiple of the AES block). */
export const BER_CHUNK = 1 << 16;

/** An (Auth)EnvelopedData being written as the content comes (see {@link prepareEnvelopeStream}). */
export interface EnvelopeStreamWriter {
  /** True for AuthEnvelopedData (AES-GCM). */
  authenticated: boolean;
  /** Encrypts the next piece of content; the BER it completes goes to `sink` (the header before the first piece). */
  update(content: Uint8Array, sink: (piece: Uint8Array) => void): Promise<void>;
  /** Ends the content: the rest of the BER (last chunk, tag, end-of-contents octets) goes to `sink`. */
  finish(sink: (piece: Uint8Array) => void): Promise<void>;
}

/**
 * Settles a streamed (Auth)EnvelopedData for the recipients: a fresh content key wrapped for each of them (the key
 * transport or agreement runs now), and the content encryptor (`UnsupportedAlgorithm` for a cipher that cannot
 * stream here, see `streamEncryptor`). Nothing is written until `update`/`finish`.
 */
export async function prepareEnvelopeStream(recipients: readonly CertInfo[], opts: EnvelopeOptions): Promise<EnvelopeStreamWriter> {
  const spec = CIPHERS[opts.cipher];
  if (!spec) throw new RangeError(`cipher: expected one of ${Object.keys(CIPHERS).join(', ')}`);
  const cek = randomBytes(spec.keyLength, opts.crypto);
  let enc: ReturnType<typeof streamEncryptor>;
  let riSet: Uint8Array;
  let allV0: boolean;
  try {
    enc = streamEncryptor(opts.cipher, cek, opts.crypto);
    ({ riSet, allV0 } = await buildRecipientInfos(recipients, cek, opts));
  } finally {
    cek.fill(0);
  }
  const aead = isAead(opts.cipher);
  const version = integer(aead ? 0 : allV0 ? 0 : 2);
  const head = concat([
    indefiniteHeader(0x30),
    oid(aead ? OIDS.authEnvelopedData : OIDS.envelopedData),
    indefiniteHeader(0xa0),
    indefiniteHeader(0x30),
    version,
    riSet,
    indefiniteHeader(0x30),
    oid(OIDS.data),
    enc.algorithm,
    // [0] IMPLICIT OCTET STRING, constructed.
    indefiniteHeader(0xa0),
  ]);
  let started = false;
  let finished = false;
  // The chunker writes to the sink of the call in progress (each update may bring its own).
  let current: (piece: Uint8Array) => void = () => {};
  const chunker = new OctetStringChunker((piece) => current(piece), BER_CHUNK);
  const begin = (sink: (piece: Uint8Array) => void): OctetStringChunker => {
    current = sink;
    if (!started) {
      started = true;
      sink(head);
    }
    return chunker;
  };
  return {
    authenticated: aead,
    async update(content, sink) {
      if (finished) throw new Error('EnvelopeStreamWriter: already finished');
      const ch = begin(sink);
      await enc.update(content, (piece) => ch.write(piece));
    },
    async finish(sink) {
      if (finished) throw new Error('EnvelopeStreamWriter: already finished');
      finished = true;
      const ch = begin(sink);
      const tag = await enc.finish((piece) => ch.write(piece));
      ch.end();
      // End of [0] and of EncryptedContentInfo; the mac (AuthEnvelopedData); end of the SEQUENCE, [0], ContentInfo.
      sink(concat(tag ? [EOC, EOC, octets(tag), EOC, EOC, EOC] : [EOC, EOC, EOC, EOC, EOC]));
    },
  };
}
