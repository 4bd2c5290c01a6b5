/**
 * The part of encryptMessage and encryptStream that comes before any content is read: the options checked, every
 * recipient selected (the sender's own copy included) and the content cipher settled. A recipient without a usable
 * certificate refuses the whole operation here, `MissingRecipientCertificatesError` naming every one of them.
 */
import type { CertInfo } from '../certs/cert_info.js';
import { checkOption } from '../lib/args.js';
import { storeInternals } from '../store/internal.js';
import { CIPHERS, ENCRYPTION_CIPHERS, type ContentCipherName } from '../cms/content_cipher.js';
import type { OaepHash } from '../cms/ktri.js';
import type { CertificateStore } from '../store/store.js';
import type { CertificateResolver } from '../store/resolver.js';
import { MissingRecipientCertificatesError, type MissingReason } from '../errors.js';
import type { OnlineOptions } from '../store/online.js';

/** The options both encryptions read here (a subset of `EncryptOptions`). */
export interface RecipientOptions extends OnlineOptions {
  store: CertificateStore;
  to: readonly string[];
  from?: string;
  cipher?: ContentCipherName;
  oaep?: OaepHash;
  useSki?: boolean;
  resolver?: CertificateResolver;
  signal?: AbortSignal;
  compress?: boolean;
}

const OAEP_HASHES: readonly OaepHash[] = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'];

/** The cipher every recipient advertises, strongest first; undefined when any recipient advertised nothing. */
export function negotiateCipher(store: CertificateStore, addresses: readonly string[]): ContentCipherName | undefined {
  const lists: string[][] = [];
  for (const a of addresses) {
    const caps = store.preference(a)?.capabilities;
    if (!caps || caps.length === 0) return undefined;
    lists.push(caps);
  }
  if (lists.length === 0) return undefined;
  return ENCRYPTION_CIPHERS.find((c) => lists.every((l) => l.includes(CIPHERS[c].oid)));
}

/** Checks the options of `what` (e.g. 'encryptMessage'). */
export function checkEncryptOptions(what: string, options: RecipientOptions): void {
  const { store } = options ?? ({} as RecipientOptions);
  storeInternals(store, `${what}: options.store`);
  checkOption(`${what}: options.to`, options.to, 'non-empty array', true);
  checkOption(`${what}: options.cipher`, options.cipher, Object.keys(CIPHERS));
  checkOption(`${what}: options.oaep`, options.oaep, OAEP_HASHES);
  checkOption(`${what}: options.useSki`, options.useSki, 'boolean');
  checkOption(`${what}: options.from`, options.from, 'string');
  checkOption(`${what}: options.resolver`, options.resolver, 'function');
  checkOption(`${what}: options.compress`, options.compress, 'boolean');
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new TypeError(`${what}: options.signal must be an AbortSignal`);
}

/**
 * Selects the certificate of every recipient of `options.to` (and of `options.from`, for the sent copy) and the
 * content cipher: `options.cipher`, else the strongest every other recipient advertised, else `aes-256-cbc`.
 */
export async function selectEncryptionRecipients(options: RecipientOptions, what = 'encryptMessage'): Promise<{ recipients: CertInfo[]; cipher: ContentCipherName }> {
  const { store } = options;
  const internals = storeInternals(store);
  const recipients: CertInfo[] = [];
  const missing: Record<string, MissingReason> = {};
  const addrs = [...options.to];
  let from: string | undefined;
  if (options.from !== undefined) {
    from = options.from.trim().toLowerCase();
    if (!addrs.some((a) => a.trim().toLowerCase() === from)) addrs.push(from);
  }
  // The directory (options.resolver, else the store's) is asked once for every address without a usable certificate.
  let cause: unknown;
  try {
    // Online revocation of the recipients' certificates: the call's options over the store's.
    const online = internals.online(options, `${what}: options`);
    const sel = await internals.selectRecipients(addrs, undefined, { resolver: options.resolver, signal: options.signal, online });
    recipients.push(...sel.values());
  } catch (e) {
    if (!(e instanceof MissingRecipientCertificatesError)) throw e;
    Object.assign(missing, e.reasons);
    cause = e.cause;
  }
  if (Object.keys(missing).length > 0) throw new MissingRecipientCertificatesError(missing, cause === undefined ? undefined : { cause });
  const others = options.to.map((a) => a.trim().toLowerCase()).filter((a) => a !== from);
  const cipher = options.cipher ?? negotiateCipher(store, others) ?? 'aes-256-cbc';
  return { recipients, cipher };
}
