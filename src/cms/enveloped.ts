/**
 * EnvelopedData (RFC 5652 §6) and AuthEnvelopedData (RFC 5083/5084, which pkijs lacks), both directions.
 *
 * The bulk bytes are never copied: on output the DER headers are written around the ciphertext
 * and handed on as a list of pieces (the MIME layer base64-encodes them straight into the output buffer); on input
 * the zero-copy BER reader finds the ciphertext (a subarray, or one joined copy for chunked `-stream`/Outlook BER).
 *
 * Opening is bounded and uniform (issue 10). The RecipientInfos (and a KARI's RecipientEncryptedKeys) are counted
 * against `maxRecipientInfos` while parsing, the private-key operations against `maxKeyTrials` before the first
 * one: past either limit a `CMSLimitExceeded` names it, decided from the message's structure and the number of
 * keys alone, before any key is used, so the error says nothing about any key operation (the fallback's count is
 * checked once the matched recipients have failed: a failure the caller sees anyway). A limit error rather than
 * the uniform CMSDecryptionFailed, because "no key opens this" would be false and the fix (a higher limit) would
 * stay hidden; what it reveals is the number of RSA keys in the store, to someone who can vary the RecipientInfos
 * and see the error. Every key try does the
 * same work: an RSA PKCS#1 v1.5 unwrap yields a random CEK on bad padding and the content is decrypted anyway
 * (RFC 3218 §2.3.2). A key tried on a RecipientInfo that does not name it (the fallback) must also give content
 * that the caller's `accept` check takes (for decryptMessage: a MIME entity) unless the cipher authenticates it:
 * a random CEK gets through CBC padding one time in 256, and its garbage must not count as opening the message.
 */
import { concat } from '../lib/bytes.js';
import { EOC, indefiniteHeader, OctetStringChunker } from '../lib/ber_stream.js';
import {
  CMSDecryptionFailed,
  CMSInvalid,
  CMSLimitExceeded,
  KeyOperationRefused,
  SmimeError,
  TokenPinIncorrect,
  TokenUnavailable,
  UnsupportedAlgorithm,
} from '../errors.js';
import { berLimits, DEFAULT_LIMITS, type Limits } from '../lib/limits.js';
import { getCrypto, randomBytes } from '../crypto/provider.js';
import type { CertInfo } from '../certs/cert_info.js';
import { keyKind } from '../certs/cert_info.js';
import { externalKeyOf, type PrivateKeyRef } from '../certs/keys.js';

import {
  children,
  decodeOid,
  header,
  integer,
  octets,
  oid,
  readTlv,
  set,
  sortDerSet,
  stringContent,
  TAG,
  withBerLimits,
  type Tlv,
} from '../lib/der.js';
import { OIDS, oidName } from './oids.js';
import {
  CIPHERS,
  contentEncryptor,
  decryptContent,
  isAead,
  parseContentAlgorithm,
  type ContentAlgorithm,
  type ContentCipherName,
  type ContentEncryptor,
  type EncryptedPayload,
} from './content_cipher.js';
import { buildKtri, parseKtri, unwrapKtri, type OaepHash, type ParsedKtri } from './ktri.js';
import { buildKari, parseKari, unwrapKari, type KeyAgreeOptions, type ParsedKari } from './kari.js';
import { matchesRecipient } from './recipient_id.js';

export interface EnvelopeOptions {
  cipher: ContentCipherName;
  oaep?: OaepHash;
  useSki?: boolean;
  keyAgree?: KeyAgreeOptions;
  crypto?: Crypto;
}

export interface Envelope {
  /** The DER, as pieces to be written in order (the ciphertext is not copied). */
  pieces: Uint8Array[];
  length: number;
  authenticated: boolean;
}

/** Bytes of each OCTET STRING chunk of the encrypted content in the indefinite-length layout (a multiple of the AES block). */
export const BER_CHUNK = 1 << 16;

/** One writing of an envelope's content (see {@link EnvelopeWriter.start}). */
export interface EnvelopeRun {
  /** Encrypts the next piece of content; the DER it completes goes to the sink (the part before the ciphertext first). */
  update(content: Uint8Array): Promise<void>;
  /** Ends the content: the rest of the DER (last ciphertext, tag, closing octets) goes to the sink. */
  finish(): Promise<void>;
}

/**
 * An (Auth)EnvelopedData whose recipients, key and IV are settled and whose content is still to be encrypted: the one
 * writer of encryptMessage (definite-length DER, the length known) and encryptStream (BER with indefinite lengths).
 */
export interface EnvelopeWriter {
  /** The length of the whole DER; undefined for the indefinite-length layout. */
  length: number | undefined;
  authenticated: boolean;
  /**
   * Starts writing (once): the DER goes to `sink` in order: the part before the ciphertext (once the first ciphertext
   * is there, or at `finish`: the sink's own buffer need not exist while the encryption starts), the ciphertext piece
   * by piece as it is produced, then the part after it. A piece is passed only once the content it covers has been
   * read (see {@link ContentEncryptor.start}).
   */
  start(sink: (piece: Uint8Array) => void): EnvelopeRun;
  /** {@link start}, one `update` with the whole `content`, `finish`. */
  write(content: Uint8Array, sink: (piece: Uint8Array) => void): Promise<void>;
}

/** A run of bytes known only by its length while the DER around it is laid out. */
interface Hole {
  length: number;
  hole: 'ciphertext' | 'mac';
}
type Piece = Uint8Array | Hole;

/** Wraps pieces in a DER header. */
function wrap(id: number, pieces: Piece[]): Piece[] {
  let n = 0;
  for (const p of pieces) n += p.length;
  return [header(id, n), ...pieces];
}

/** Builds (Auth)EnvelopedData for the recipients' certificates. */
export async function buildEnvelope(content: Uint8Array, recipients: readonly CertInfo[], opts: EnvelopeOptions): Promise<Envelope> {
  const w = await prepareEnvelope(content.length, recipients, opts);
  const pieces: Uint8Array[] = [];
  await w.write(content, (p) => pieces.push(p));
  return { pieces, length: w.length!, authenticated: w.authenticated };
}

/**
 * The RecipientInfos SET (DER, sorted) that carries `cek` to every recipient, and whether every RecipientInfo is
 * version 0 (which makes the EnvelopedData version 0, RFC 5652 §6.1).
 */
export async function buildRecipientInfos(
  recipients: readonly CertInfo[],
  cek: Uint8Array,
  opts: EnvelopeOptions,
): Promise<{ riSet: Uint8Array; allV0: boolean }> {
  const ris: Uint8Array[] = [];
  let allV0 = true;
  for (const r of recipients) {
    const kind = keyKind(r);
    if (kind === 'rsa') {
      const ri = await buildKtri(r, cek, { oaep: opts.oaep, useSki: opts.useSki }, opts.crypto);
      if (opts.useSki && r.ski) allV0 = false;
      ris.push(ri);
    } else if (kind === 'ec' || kind === 'x25519' || kind === 'x448') {
      ris.push(await buildKari(r, cek, { useSki: opts.useSki, ...opts.keyAgree }, opts.crypto));
      allV0 = false;
    } else throw new UnsupportedAlgorithm(`encryption to a ${r.keyAlgorithm} key`, r.keyAlgorithm);
  }
  return { riSet: set(...sortDerSet(ris)), allV0 };
}

/**
 * Settles an (Auth)EnvelopedData: a fresh content key, wrapped for every recipient, and a fresh IV; the content
 * encryptor is made first, so a cipher that cannot run here (`UnsupportedAlgorithm`) refuses before any key transport.
 *
 * With `contentLength` (the buffer functions) the DER is definite-length and laid out around the ciphertext before
 * there is any, so the caller can size the output first and encrypt straight into it. With `undefined` (the streams)
 * it is BER with indefinite lengths, the encrypted content a constructed `[0]` of {@link BER_CHUNK}-byte OCTET STRINGs,
 * as `openssl cms -encrypt -stream` writes:
 *
 * ```
 * ContentInfo 30 80 { contentType, [0] a0 80 {
 *   (Auth)EnvelopedData 30 80 { version, recipientInfos (DER),
 *     EncryptedContentInfo 30 80 { id-data, contentEncryptionAlgorithm, [0] a0 80 { 04 len chunk … } 00 00 } 00 00
 *     [AuthEnvelopedData: mac 04 10 tag] } 00 00 } 00 00 } 00 00
 * ```
 */
export async function prepareEnvelope(contentLength: number | undefined, recipients: readonly CertInfo[], opts: EnvelopeOptions): Promise<EnvelopeWriter> {
  const spec = CIPHERS[opts.cipher];
  if (!spec) throw new RangeError(`cipher: expected one of ${Object.keys(CIPHERS).join(', ')}`);
  const cek = randomBytes(spec.keyLength, opts.crypto);
  let riSet: Uint8Array;
  let allV0: boolean;
  let enc: ContentEncryptor;
  try {
    enc = contentEncryptor(opts.cipher, cek, contentLength, opts.crypto);
    ({ riSet, allV0 } = await buildRecipientInfos(recipients, cek, opts));
  } finally {
    cek.fill(0);
  }
  const aead = isAead(opts.cipher);
  // RFC 5652 §6.1: version 0 when every RecipientInfo is version 0, else 2. AuthEnvelopedData is always 0.
  const version = integer(aead ? 0 : allV0 ? 0 : 2);
  const type = oid(aead ? OIDS.authEnvelopedData : OIDS.envelopedData);
  let prefix: Uint8Array;
  let tail: (tag: Uint8Array | undefined) => Uint8Array;
  let length: number | undefined;
  if (contentLength !== undefined) {
    const ciphertext: Hole = { length: enc.ciphertextLength!, hole: 'ciphertext' };
    const mac: Hole = { length: enc.macLength, hole: 'mac' };
    // EncryptedContentInfo ::= SEQUENCE { contentType, contentEncryptionAlgorithm, [0] IMPLICIT OCTET STRING }
    const eci = wrap(0x30, [oid(OIDS.data), enc.algorithm, header(0x80, ciphertext.length), ciphertext]);
    const body: Piece[] = aead ? [version, riSet, ...eci, header(0x04, mac.length), mac] : [version, riSet, ...eci];
    const ci = wrap(0x30, [type, ...wrap(0xa0, wrap(0x30, body))]);
    const at = ci.indexOf(ciphertext);
    prefix = concat(ci.slice(0, at) as Uint8Array[]);
    const after = ci.slice(at + 1);
    tail = (tag) => concat(after.map((p) => (p instanceof Uint8Array ? p : tag!)));
    length = 0;
    for (const p of ci) length += p.length;
  } else {
    prefix = concat([
      indefiniteHeader(0x30),
      type,
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
    // End of [0] and of EncryptedContentInfo; the mac (AuthEnvelopedData); end of the SEQUENCE, [0], ContentInfo.
    tail = (tag) => concat(tag ? [EOC, EOC, octets(tag), EOC, EOC, EOC] : [EOC, EOC, EOC, EOC, EOC]);
  }
  const start = (sink: (piece: Uint8Array) => void): EnvelopeRun => {
    let begun = false;
    const begin = (): void => {
      if (!begun) sink(prefix);
      begun = true;
    };
    const out = (piece: Uint8Array): void => {
      begin();
      sink(piece);
    };
    const chunker = contentLength === undefined ? new OctetStringChunker(out, BER_CHUNK) : undefined;
    const run = enc.start(chunker ? (piece) => chunker.write(piece) : out);
    return {
      update: (content) => run.update(content),
      async finish() {
        const tag = await run.finish();
        chunker?.end();
        begin();
        const rest = tail(tag);
        if (rest.length > 0) sink(rest);
      },
    };
  };
  return {
    length,
    authenticated: aead,
    start,
    async write(content, sink) {
      const run = start(sink);
      await run.update(content);
      await run.finish();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------

export type EnvelopeKind = 'enveloped' | 'authEnveloped';

interface ParsedEnvelope {
  kind: EnvelopeKind;
  recipientInfos: Tlv[];
  buf: Uint8Array;
  alg: ContentAlgorithm;
  payload: EncryptedPayload;
  aad?: Uint8Array;
}

/** The content type of a ContentInfo, and its [0] content element. */
export function readContentInfo(der: Uint8Array): { type: string; content: Tlv } {
  const top = readTlv(der, 0);
  if (top.cls !== 0 || top.tagNo !== TAG.SEQUENCE) throw new CMSInvalid('not a CMS ContentInfo (expected a SEQUENCE)');
  const [typeT, contentT] = children(der, top);
  if (!typeT || typeT.tagNo !== TAG.OID) throw new CMSInvalid('ContentInfo: missing contentType');
  const type = decodeOid(der, typeT);
  if (!contentT || contentT.cls !== 2 || contentT.tagNo !== 0) throw new CMSInvalid('ContentInfo: missing content');
  const inner = children(der, contentT)[0];
  if (!inner) throw new CMSInvalid('ContentInfo: empty content');
  return { type, content: inner };
}

/**
 * Reads (Auth)EnvelopedData. With `inPlace` (the caller hands `der` over), the ciphertext and the tag are laid out
 * as one run inside `der` for AEAD ciphers, and the plaintext may later be written over the ciphertext.
 */
function parseEnvelope(der: Uint8Array, inPlace: boolean, maxRecipientInfos: number): ParsedEnvelope {
  const { type, content } = readContentInfo(der);
  let kind: EnvelopeKind;
  if (type === OIDS.envelopedData) kind = 'enveloped';
  else if (type === OIDS.authEnvelopedData) kind = 'authEnveloped';
  else throw new CMSInvalid(`not an encrypted message: the CMS content type is ${oidName(type)}`);
  const f = children(der, content);
  let i = 1; // version
  if (f[i] && f[i]!.cls === 2 && f[i]!.tagNo === 0) i++; // originatorInfo
  const riSetT = f[i++];
  if (!riSetT || riSetT.tagNo !== TAG.SET) throw new CMSInvalid('EnvelopedData: missing recipientInfos');
  const recipientInfos = children(der, riSetT);
  if (recipientInfos.length > maxRecipientInfos) {
    throw new CMSLimitExceeded(`more than ${maxRecipientInfos} RecipientInfos`, { limit: 'maxRecipientInfos' });
  }
  const eciT = f[i++];
  if (!eciT || eciT.tagNo !== TAG.SEQUENCE) throw new CMSInvalid('EnvelopedData: missing encryptedContentInfo');
  const eci = children(der, eciT);
  if (!eci[1]) throw new CMSInvalid('EncryptedContentInfo: missing algorithm');
  const alg = parseContentAlgorithm(der.subarray(eci[1].start, eci[1].end));
  const ecT = eci[2];
  if (!ecT || ecT.cls !== 2 || ecT.tagNo !== 0) throw new CMSInvalid('EncryptedContentInfo: no encrypted content (detached content is not supported)');
  let aad: Uint8Array | undefined;
  let mac: Uint8Array | undefined;
  if (kind === 'authEnveloped') {
    let t = f[i++];
    if (t && t.cls === 2 && t.tagNo === 1) {
      // authAttrs: the AAD is their DER with the SET OF tag (RFC 5083 §2.2).
      const attrs = der.subarray(t.contentStart, t.contentEnd);
      aad = new Uint8Array([...header(0x31, attrs.length), ...attrs]);
      t = f[i++];
    }
    if (!t || t.tagNo !== TAG.OCTET_STRING) throw new CMSInvalid('AuthEnvelopedData: missing mac');
    mac = stringContent(der, t).slice();
    if (!alg.aead) throw new CMSInvalid('AuthEnvelopedData with a non-AEAD cipher');
  }
  const payload: EncryptedPayload = { ciphertext: new Uint8Array(0) };
  if (mac) payload.mac = mac;
  if (!ecT.constructed) {
    payload.ciphertext = der.subarray(ecT.contentStart, ecT.contentEnd);
    payload.inPlace = inPlace;
    if (inPlace && mac) {
      // The tag goes right after the ciphertext, over the DER that follows it (all read by now, the tag and
      // the AAD copied): the joined buffer AEAD decryption wants, without copying the ciphertext.
      der.set(mac, ecT.contentEnd);
      payload.joined = der.subarray(ecT.contentStart, ecT.contentEnd + mac.length);
    }
  } else {
    // Chunked (BER, e.g. `openssl cms -stream`): joined once, with room for the tag; a copy is ours to write on.
    const joined = stringContent(der, ecT, undefined, mac ? mac.length : 0);
    const n = joined.length - (mac ? mac.length : 0);
    payload.ciphertext = joined.subarray(0, n);
    payload.inPlace = inPlace || joined.buffer !== der.buffer;
    if (mac) {
      joined.set(mac, n);
      payload.joined = joined;
    }
  }
  const parsed: ParsedEnvelope = { kind, recipientInfos, buf: der, alg, payload };
  if (aad) parsed.aad = aad;
  return parsed;
}

/**
 * A key that may open an envelope: a certificate's parsed fields and its private key. The caller says which keys
 * to try (decryptMessage and openMessage: the store's identities, expired ones included); the CMS layer knows
 * nothing of where they are kept.
 */
export interface RecipientKey {
  info: CertInfo;
  key: PrivateKeyRef;
}

/** An opened (Auth)EnvelopedData: the content, and what opened it (`identity`: the caller's key, as given). */
export interface OpenedEnvelope<K extends RecipientKey = RecipientKey> {
  content: Uint8Array;
  kind: EnvelopeKind;
  /** The key that opened it (one of those given to {@link openEnvelope}). */
  identity: K;
  cipher: string;
  cipherOid: string;
  /** True for AEAD content encryption (AES-GCM, ChaCha20-Poly1305). */
  authenticated: boolean;
  /** True for 3DES/RC2/DES. */
  legacy: boolean;
  keyTransport: string;
}

export interface OpenEnvelopeOptions {
  /**
   * `der` is handed over: it may be written on (the decrypted content is then a view of it). For a buffer only
   * the caller holds, such as one freshly decoded from base64.
   */
  inPlace?: boolean;
  /** `maxRecipientInfos` and `maxKeyTrials` (default: `DEFAULT_LIMITS`). */
  limits?: Pick<Limits, 'maxRecipientInfos' | 'maxKeyTrials' | 'maxBerDepth' | 'maxBerElements'>;
  /**
   * Whether content that a key tried on a RecipientInfo not naming it decrypted to is the message (decryptMessage
   * and openMessage: "is a MIME entity"). Asked for non-AEAD ciphers only: padding alone lets a wrong key through
   * one time in 256, an AEAD tag never. Without it such content is taken as it is.
   */
  accept?: (content: Uint8Array) => boolean;
}

/** A RecipientInfo and a key that may open it (see {@link recipientCandidates}). */
export type Candidate<K> =
  | { type: 'ktri'; ri: ParsedKtri; identity: K }
  | { type: 'kari'; ri: ParsedKari; index: number; identity: K };

/** A token's failure (PIN refused, token gone): never about the ciphertext. */
function isTokenError(e: unknown): boolean {
  return e instanceof TokenPinIncorrect || e instanceof TokenUnavailable;
}

/**
 * The keys that may open an envelope, from its RecipientInfos (Tlvs of `buf`): `matched`, the RecipientInfos that
 * name one of `identities` (issuer+serial, SKI, SHA-1 of the key: recipient_id.ts), and `fallback`, every other RSA
 * key on every KeyTransRecipientInfo (the buffer API's trial keys; a stream uses `matched` only). Keys that cannot
 * decrypt are skipped. `maxRecipientInfos` counts each RecipientEncryptedKey of a KARI; `unsupported` is the first
 * RecipientInfo of an algorithm we lack.
 */
export async function recipientCandidates<K extends RecipientKey>(
  buf: Uint8Array,
  recipientInfos: readonly Tlv[],
  identities: readonly K[],
  crypto: Crypto | undefined,
  maxRecipientInfos: number,
): Promise<{ matched: Candidate<K>[]; fallback: Candidate<K>[]; unsupported?: UnsupportedAlgorithm }> {
  if (recipientInfos.length > maxRecipientInfos) {
    throw new CMSLimitExceeded(`more than ${maxRecipientInfos} RecipientInfos`, { limit: 'maxRecipientInfos' });
  }
  const matched: Candidate<K>[] = [];
  const fallback: Candidate<K>[] = [];
  let unsupported: UnsupportedAlgorithm | undefined;
  let recipients = recipientInfos.length;
  for (const t of recipientInfos) {
    try {
      if (t.cls === 0 && t.tagNo === TAG.SEQUENCE) {
        const ri = parseKtri(buf, t);
        for (const identity of identities) {
          // A key that cannot decrypt is skipped.
          if (keyKind(identity.info) !== 'rsa' || typeof externalKeyOf(identity.key, identity.info, crypto)?.decrypt !== 'function') continue;
          if (await matchesRecipient(ri.rid, identity.info, crypto)) matched.push({ type: 'ktri', ri, identity });
          else fallback.push({ type: 'ktri', ri, identity });
        }
      } else if (t.cls === 2 && t.tagNo === 1) {
        const ri = parseKari(buf, t);
        // Each RecipientEncryptedKey is a recipient of its own: counted like a RecipientInfo.
        recipients += ri.recipients.length - 1;
        if (recipients > maxRecipientInfos) {
          throw new CMSLimitExceeded(`more than ${maxRecipientInfos} recipients (RecipientInfos and RecipientEncryptedKeys)`, { limit: 'maxRecipientInfos' });
        }
        for (const identity of identities) {
          const kind = keyKind(identity.info);
          if (kind === 'rsa' || kind === 'other' || kind === 'ed25519' || kind === 'ed448') continue;
          if (typeof externalKeyOf(identity.key, identity.info, crypto)?.deriveSecret !== 'function') continue;
          for (let index = 0; index < ri.recipients.length; index++) {
            if (await matchesRecipient(ri.recipients[index]!.rid, identity.info, crypto)) matched.push({ type: 'kari', ri, index, identity });
          }
        }
      }
      // KEKRI, PWRI and ORI are skipped: no identity can open them.
    } catch (e) {
      if (e instanceof UnsupportedAlgorithm) unsupported ??= e;
      else if (e instanceof SmimeError) throw e;
      else throw new CMSInvalid('RecipientInfo: malformed');
    }
  }
  return unsupported ? { matched, fallback, unsupported } : { matched, fallback };
}

/** The content-encryption key of a candidate (its private-key operation). */
export function unwrapCandidate<K extends RecipientKey>(cand: Candidate<K>, keyLength: number | undefined, crypto?: Crypto): Promise<Uint8Array> {
  return cand.type === 'ktri' ? unwrapKtri(cand.ri, cand.identity, keyLength, crypto) : unwrapKari(cand.ri, cand.index, cand.identity, crypto);
}

/** The key transport or agreement of a candidate, as `DecryptResult.keyTransport` names it. */
export function keyTransportOf<K>(cand: Candidate<K>): string {
  return cand.type === 'ktri' ? (cand.ri.params.kind === 'v15' ? 'rsaEncryption' : `rsaes-oaep-${cand.ri.params.hash.toLowerCase()}`) : 'key-agreement';
}

/** A key's refusal that says nothing about the ciphertext, worth naming when no key opens the message. */
export function isKeyRefusal(e: unknown, namedByRecipient: boolean): boolean {
  return isTokenError(e) || (namedByRecipient && e instanceof KeyOperationRefused);
}

/** `CMSLimitExceeded` unless `n` private-key operations fit in `maxKeyTrials`. */
export function checkKeyTrials(n: number, maxKeyTrials: number): void {
  if (n > maxKeyTrials) {
    throw new CMSLimitExceeded(`opening this message would take ${n} private-key operations, more than ${maxKeyTrials}`, { limit: 'maxKeyTrials' });
  }
}

/**
 * Opens (Auth)EnvelopedData with any of the identities: matched by recipient identifier first (issuer+serial, SKI,
 * SHA-1 of the key), then every remaining RSA key on every KeyTransRecipientInfo; keys that cannot decrypt (an
 * `ExternalKey` without decrypt or deriveSecret) are skipped. All failures end in one CMSDecryptionFailed
 * (RFC 3218), except a key's refusal that says nothing about the ciphertext (KeyOperationRefused from a recipient
 * that names the key, TokenPinIncorrect, TokenUnavailable), which is thrown when no key opens the message; the
 * limits end in CMSLimitExceeded before any private-key operation (see above).
 */
export async function openEnvelope<K extends RecipientKey>(
  der: Uint8Array,
  identities: readonly K[],
  crypto?: Crypto,
  options: OpenEnvelopeOptions = {},
): Promise<OpenedEnvelope<K>> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const env = withBerLimits(berLimits(limits), () => parseEnvelope(der, options.inPlace === true, limits.maxRecipientInfos));
  getCrypto(crypto);
  const { matched, fallback, unsupported: firstUnsupported } = await recipientCandidates(env.buf, env.recipientInfos, identities, crypto, limits.maxRecipientInfos);
  let unsupported = firstUnsupported;
  let refused: SmimeError | undefined;
  // The trials budget, spent in two steps: the matched recipients first, then (when none of them opened the
  // message) every key on every other KeyTransRecipientInfo. Each step is refused whole before its first try.
  const trials = (n: number): void => checkKeyTrials(n, limits.maxKeyTrials);
  trials(matched.length);
  // A fallback try never decrypts in place unless the cipher authenticates: a random CEK that passes the padding
  // must not leave garbage where the next key expects the ciphertext.
  const fallbackPayload: EncryptedPayload = env.alg.aead ? env.payload : { ...env.payload, inPlace: false };
  for (const list of [matched, fallback]) {
    const isFallback = list === fallback;
    if (isFallback) trials(matched.length + fallback.length);
    for (const cand of list) {
      let content: Uint8Array;
      try {
        const cek = await unwrapCandidate(cand, env.alg.keyLength, crypto);
        content = await decryptContent(env.alg, cek, isFallback ? fallbackPayload : env.payload, crypto, env.aad);
        if (isFallback && !env.alg.aead && options.accept && !options.accept(content)) continue;
      } catch (e) {
        // An in-place decryption that failed after it began to write leaves nothing for another key to try.
        if (env.payload.consumed) throw new CMSDecryptionFailed();
        if (e instanceof UnsupportedAlgorithm) unsupported ??= e;
        // A key's refusal that says nothing about the ciphertext (a padding failure never throws: see ktri.ts) is
        // worth naming when nothing opens the message; a fallback try's refusal only when the token itself failed.
        else if (isKeyRefusal(e, !isFallback)) refused ??= e as SmimeError;
        continue;
      }
      return {
        content,
        kind: env.kind,
        identity: cand.identity,
        cipher: env.alg.name,
        cipherOid: env.alg.oid,
        authenticated: env.alg.aead,
        legacy: env.alg.legacy,
        keyTransport: keyTransportOf(cand),
      };
    }
  }
  // A matched recipient whose algorithm we lack is worth naming: that is not a key failure.
  if (unsupported && matched.length > 0) throw unsupported;
  if (refused) throw refused;
  throw new CMSDecryptionFailed();
}
