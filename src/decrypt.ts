/**
 * decryptMessage(): an `application/pkcs7-mime` (or x-pkcs7-mime, or a *.p7m attachment, or raw DER) message in,
 * the decrypted MIME entity out, byte for byte (decompressed when it was compressed data, RFC 3274). Every identity in the store is tried, expired ones included: that
 * is the history of encryption keys, so old mail still opens.
 *
 * The work is bounded by `maxRecipientInfos` and `maxKeyTrials` (the store's limits, changed by `options.limits`).
 * A key tried on a RecipientInfo that does not name it opens the message only when the content is a MIME entity
 * (src/mime/looks_like_entity.ts) or authenticated by its cipher.
 */
import type { CertificateStore } from './store/store.js';
import { storeInternals } from './store/internal.js';
import { checkOption } from './lib/args.js';
import { resolvePolicyFor, type AlgorithmPolicy } from './crypto/policy.js';
import type { X509Certificate } from './certs/x509.js';
import { extractCms } from './mime/extract.js';
import { toBytes } from './lib/bytes.js';
import { inputLimits, mimeLimits, type Limits } from './lib/limits.js';
import { decryptEnvelope } from './ops/decrypt_envelope.js';
import { decompressContent } from './ops/compress.js';
import { readHeaderProtection, type HeaderProtectionInfo } from './mime/header_protection.js';

/** The options of `decryptMessage`. */
export interface DecryptOptions {
  /** The store whose identities (expired ones included) are tried. */
  store: CertificateStore;
  /** WebCrypto implementation; default: the store's, else globalThis.crypto. */
  crypto?: Crypto;
  /**
   * The algorithm policy for this call, layered over the store's, as for the other operations. Decryption opens
   * every algorithm it implements whatever the policy (old mail must stay readable; `legacy` in the result flags the
   * weak ciphers): the policy is checked like the other operations' and holds nothing back today.
   */
  policy?: Partial<AlgorithmPolicy>;
  /**
   * The caller hands `smime` (a Uint8Array) over: the base64 is decoded, and the content decrypted, over its bytes,
   * and the result is a view of it. No second buffer the size of the message (for a server, or the CLI, that has
   * read the message for this call only). Without it a caller's Uint8Array is never written. A string input is
   * always worked on in its own encoding.
   */
  overwriteInput?: boolean;
  /**
   * Changes to the store's work limits for this call (see `Limits`): `maxRecipientInfos` and `maxKeyTrials` bound
   * the decryption (past one, `CMSLimitExceeded` names it); `maxHeaderBytes` bounds the fallback's MIME check.
   */
  limits?: Partial<Limits>;
}

/** What `decryptMessage` returns. */
export interface DecryptResult {
  /** The decrypted MIME entity, byte for byte. */
  content: Uint8Array;
  /** The certificate whose private key opened the message. */
  recipient: X509Certificate;
  /** 'enveloped' (EnvelopedData) or 'authEnveloped' (AuthEnvelopedData). */
  type: 'enveloped' | 'authEnveloped';
  /** The content cipher, e.g. 'aes-256-cbc', 'aes-256-gcm', 'des-ede3-cbc'. */
  cipher: string;
  /** The key transport or agreement used, e.g. 'rsaEncryption', 'rsaes-oaep-sha-256'. */
  keyTransport: string;
  /**
   * True when the content encryption authenticates the content (AES-GCM, ChaCha20-Poly1305). CBC content can be
   * altered without detection (EFAIL); a valid signature inside is then the only protection.
   */
  authenticated: boolean;
  /** True for legacy ciphers (3DES, RC2, DES): readable, but weak. */
  legacy: boolean;
  /**
   * Set when the decrypted entity was compressed data (RFC 3274, `smime-type=compressed-data`): `content` is then
   * the entity decompressed (at most `maxDecompressedBytes` of it), not the compressed-data wrapper.
   */
  compressed?: true;
  /**
   * Set when the decrypted entity carries protected header fields (RFC 9788 `hp`, `protected-headers="v1"`, an
   * RFC 8551 message/rfc822 wrapper) in its own header section: the fields to show, those the sender exposed outside,
   * and the outer fields that differ. A signed entity inside is read by verifyMessage or openMessage.
   */
  headerProtection?: HeaderProtectionInfo;
}

/**
 * Decrypts an `application/pkcs7-mime` enveloped (or authEnveloped) message, a *.p7m attachment or raw DER with
 * the store's identities, expired ones included. Returns the decrypted MIME entity byte for byte, and how it was
 * protected. No key that opens it: `CMSDecryptionFailed`, always with the same message.
 *
 * @example
 * ```ts
 * const { content, authenticated } = await decryptMessage(smime, { store });
 * ```
 */
export async function decryptMessage(smime: Uint8Array | string, options: DecryptOptions): Promise<DecryptResult> {
  const { store } = options ?? ({} as DecryptOptions);
  storeInternals(store, 'decryptMessage: options.store'); // checks it is a CertificateStore
  checkOption('decryptMessage: options.overwriteInput', options.overwriteInput, 'boolean');
  resolvePolicyFor('decryptMessage: options.policy', store.policy, options.policy);
  const bytes = toBytes(smime, 'decryptMessage: message');
  const limits = inputLimits(bytes, 'decryptMessage', store.limits, options.limits);
  // The bytes of a string are ours (a fresh encoding): base64 is decoded over them. A DER decoded from base64 is
  // ours too: the decryption may work in it. No second buffer the size of the message either way.
  const owned = typeof smime === 'string' || options.overwriteInput === true;
  const { der, headers } = extractCms(bytes, mimeLimits(limits), { inPlace: owned });
  const opened = await decryptEnvelope(der, store, options.crypto ?? store.crypto, limits, owned || der.buffer !== bytes.buffer);
  // Compressed inside (compress then encrypt, RFC 8551 §3.6): the caller gets the entity, decompressed.
  const inner = await decompressContent(opened.content, limits);
  const result: DecryptResult = {
    content: inner.content,
    recipient: opened.identity.certificate,
    type: opened.kind,
    cipher: opened.cipher,
    keyTransport: opened.keyTransport,
    authenticated: opened.authenticated,
    legacy: opened.legacy,
  };
  if (inner.compressed) result.compressed = true;
  const hp = readHeaderProtection(inner.content, headers, true, mimeLimits(limits));
  if (hp) result.headerProtection = hp;
  return result;
}
