/**
 * encryptMessage(): a MIME message or entity in, an `application/pkcs7-mime` message out.
 *
 * The message headers (From, To, Subject, Date…) stay outside; the Content-* headers and the body are encrypted
 * (RFC 8551 §3). Recipient certificates are selected by the store's rules; if any recipient (or the sender, for
 * the sent copy) has none, MissingRecipientCertificatesError names every one of them and nothing is encrypted.
 * With `compress: true` the entity is compressed first (RFC 3274, RFC 8551 §3.6: compress, then encrypt) and the
 * encrypted entity is its `application/pkcs7-mime; smime-type=compressed-data` wrapper.
 */
import type { CertificateStore } from './store/store.js';
import type { CertificateResolver } from './store/resolver.js';
import { prepareEnvelope } from './cms/enveloped.js';
import { CIPHERS, type ContentCipherName } from './cms/content_cipher.js';
import type { OaepHash } from './cms/ktri.js';
import { checkProtectionOptions, encryptPlan, type HeaderProtectionOptions } from './ops/header_protection.js';
import { startPkcs7Mime } from './mime/pkcs7_mime.js';
import { inputLimits, mimeLimits, type Limits } from './lib/limits.js';
import { toBytes } from './lib/bytes.js';
import { argumentError, checkOption } from './lib/args.js';
import { withoutField } from './mime/header_protection.js';
import { compressEntity } from './ops/compress.js';
import type { OnlineOptions } from './store/online.js';
import { checkEncryptOptions, negotiateCipher, selectEncryptionRecipients } from './ops/encrypt_recipients.js';

/**
 * The options of `encryptMessage`. `fetch`, `revocation` and `onlineLimits` replace the store's for this call: with
 * the policy on, every recipient's certificate is checked online (a revoked one is refused as `revoked`; under
 * hard-fail one whose status nobody could establish as `revocation-unknown`).
 */
export interface EncryptOptions extends HeaderProtectionOptions, OnlineOptions {
  /** The store the recipients' certificates are selected from. */
  store: CertificateStore;
  /** Changes to the store's work limits for this call (`maxInputBytes` and the MIME limits apply; see `Limits`). */
  limits?: Partial<Limits>;
  /** Recipient addresses. */
  to: readonly string[];
  /** The sender: their own current encryption certificate is added, so the sent copy stays readable. */
  from?: string;
  /**
   * Content cipher. Default: the strongest that every recipient advertised in signed mail (AES-256-GCM when all
   * list it), else `aes-256-cbc`, which every deployed client reads.
   */
  cipher?: ContentCipherName;
  /** RSA-OAEP key transport with this hash instead of PKCS#1 v1.5. */
  oaep?: OaepHash;
  /** Identify RSA recipients by subjectKeyIdentifier instead of issuer and serial number. */
  useSki?: boolean;
  /** WebCrypto implementation; default: the store's, else globalThis.crypto. */
  crypto?: Crypto;
  /**
   * The directory to ask, for this call, for the recipients without a usable certificate; replaces the store's
   * `resolver` (see `CertificateResolver`).
   */
  resolver?: CertificateResolver;
  /** Aborts the directory lookup (the addresses it was for are then `lookup-failed`). */
  signal?: AbortSignal;
  /**
   * Compress the entity before encrypting it (RFC 3274, RFC 8551 §3.6): the encrypted content is an
   * `application/pkcs7-mime; smime-type=compressed-data` entity holding the entity compressed with zlib.
   * `decryptMessage` and `openMessage` decompress it. Default false.
   */
  compress?: boolean;
}

/**
 * The options of `encryptMessage` with Bcc recipients: `to` holds the To and Cc recipients (the sender's own copy
 * goes with them), `bcc` the Bcc recipients, each of whom gets a message of their own, encrypted to them alone (a
 * RecipientInfo names its recipient, so one message for everyone would show every Bcc recipient to everyone).
 */
export interface EncryptBccOptions extends EncryptOptions {
  /** The Bcc recipients' addresses (at least one). */
  bcc: readonly string[];
}

/** What `encryptMessage` returns when given `bcc`. */
export interface BccEncryption {
  /** The message for the To and Cc recipients and the sender's copy, without any Bcc field. */
  message: Uint8Array;
  /** One message per Bcc recipient, encrypted to that recipient alone, in the order of `bcc`. */
  bcc: {
    /** The Bcc recipient. */
    address: string;
    /** The message encrypted to that recipient alone. */
    message: Uint8Array;
  }[];
}

/**
 * The content cipher names `encryptMessage` accepts in `cipher` (e.g. for a command line or a settings menu to offer
 * them).
 */
export const CONTENT_CIPHERS: readonly ContentCipherName[] = Object.freeze(Object.keys(CIPHERS) as ContentCipherName[]);

export { negotiateCipher };

/**
 * Encrypts a MIME message or entity for `options.to` (and the sender's own copy with `options.from`): the
 * Content-* headers and the body go into an (Auth)EnvelopedData, the other headers stay outside. Returns the
 * `application/pkcs7-mime` message; with `bcc` (see {@link EncryptBccOptions}), that message and one more per Bcc
 * recipient, each encrypted to that recipient alone. Recipient certificates come from the store's selection rules; when any
 * recipient has none, `MissingRecipientCertificatesError` names every one of them and nothing is encrypted.
 *
 * @example
 * ```ts
 * const smime = await encryptMessage(mime, { store, from: 'alice@example.com', to: ['bob@example.com'] });
 * ```
 */
export async function encryptMessage(mime: Uint8Array | string, options: EncryptBccOptions): Promise<BccEncryption>;
export async function encryptMessage(mime: Uint8Array | string, options: EncryptOptions): Promise<Uint8Array>;
export async function encryptMessage(mime: Uint8Array | string, options: EncryptOptions | EncryptBccOptions): Promise<Uint8Array | BccEncryption> {
  checkEncryptOptions('encryptMessage', options);
  checkProtectionOptions('encryptMessage', options);
  const bcc = 'bcc' in options ? options.bcc : undefined;
  if (bcc === undefined) return encryptOne(toBytes(mime, 'encryptMessage: mime'), options);
  checkOption('encryptMessage: options.bcc', bcc, 'non-empty array');
  if (bcc.some((a) => typeof a !== 'string')) throw argumentError('encryptMessage: options.bcc', 'an array of addresses');
  const bytes = toBytes(mime, 'encryptMessage: mime');
  const limits = inputLimits(bytes, 'encryptMessage', options.store.limits, options.limits);
  // The refusal covers the Bcc recipients too: every recipient selected before anything is encrypted.
  await selectEncryptionRecipients({ ...options, to: [...options.to, ...bcc] });
  // No copy names the Bcc recipients: the Bcc field is dropped from every copy.
  const plain = withoutField(bytes, 'bcc', mimeLimits(limits));
  const message = await encryptOne(plain, options);
  const copies: BccEncryption['bcc'] = [];
  for (const address of bcc) copies.push({ address, message: await encryptOne(plain, { ...options, to: [address], from: undefined }) });
  return { message, bcc: copies };
}

/** encryptMessage for one set of recipients. */
async function encryptOne(bytes: Uint8Array, options: EncryptOptions): Promise<Uint8Array> {
  const { store } = options;
  const limits = inputLimits(bytes, 'encryptMessage', store.limits, options.limits);
  const crypto = options.crypto ?? store.crypto;
  // Select every recipient first, the sender's own copy included: refuse before encrypting anything.
  const { recipients, cipher } = await selectEncryptionRecipients(options);
  const plan = encryptPlan('encryptMessage', bytes, options, mimeLimits(limits));
  // Compress then encrypt (RFC 8551 §3.6): the entity to encrypt becomes its compressed-data wrapper.
  let compressed: Uint8Array | undefined;
  if (options.compress === true) {
    let inner = plan.inner;
    if (!inner) {
      inner = new Uint8Array(plan.innerLength);
      plan.writeInner(inner, 0);
    }
    compressed = await compressEntity(inner);
  }
  const env = await prepareEnvelope(compressed?.length ?? plan.innerLength, recipients, { cipher, oaep: options.oaep, useSki: options.useSki, crypto });
  // One allocation the size of the message: the output. When the message holds the entity to encrypt as is, the
  // encryption reads it there, and the output is allocated only when the first ciphertext comes (a one-shot
  // WebCrypto call has released its copy of the input by then). Otherwise the entity is written into the output's
  // tail, and the base64 of the envelope fills the output from the front as the ciphertext comes; the base64
  // (4/3 of the bytes) never catches up with content not yet encrypted (see ContentEncryptor.encrypt).
  let message: ReturnType<typeof startPkcs7Mime> | undefined;
  const output = () => (message ??= startPkcs7Mime(plan.outerHeaders, env.authenticated ? 'authEnveloped-data' : 'enveloped-data', env.length!));
  let content = compressed ?? plan.inner;
  if (!content) {
    const { out } = output();
    const at = out.length - plan.innerLength;
    plan.writeInner(out, at);
    content = out.subarray(at);
  }
  await env.write(content, (piece) => output().body.write(piece));
  const { out, body } = output();
  /* c8 ignore next */
  if (body.end() !== out.length) throw new Error('encryptMessage: internal length mismatch');
  return out;
}
