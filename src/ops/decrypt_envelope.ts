/**
 * The decryption engine of decryptMessage and openMessage: an (Auth)EnvelopedData opened with the store's
 * identities (expired ones included: the history of encryption keys, so old mail still opens). A key tried on a
 * RecipientInfo that does not name it opens the message only when the content is a MIME entity
 * (mime/looks_like_entity.ts) or authenticated by its cipher.
 */
import type { CertificateStore } from '../store/store.js';
import { storeInternals, type StoredIdentity } from '../store/internal.js';
import type { Limits } from '../lib/limits.js';
import { openEnvelope, type OpenedEnvelope } from '../cms/enveloped.js';
import { looksLikeMimeEntity } from '../mime/looks_like_entity.js';

/**
 * Opens `der` with every identity of `store`, within `limits` (`maxRecipientInfos`, `maxKeyTrials`, the BER limits,
 * `maxHeaderBytes` for the MIME check). With `inPlace`, `der` is the caller's to overwrite.
 */
export function decryptEnvelope(
  der: Uint8Array,
  store: CertificateStore,
  crypto: Crypto | undefined,
  limits: Limits,
  inPlace = false,
): Promise<OpenedEnvelope<StoredIdentity>> {
  return openEnvelope(der, storeInternals(store).identities(), crypto, {
    inPlace,
    limits,
    accept: (content) => looksLikeMimeEntity(content, limits.maxHeaderBytes),
  });
}
