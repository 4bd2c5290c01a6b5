/**
 * What a signing call settles before it reads any content, shared by signMessage and signStream: the options checked,
 * the signing identity selected (with the algorithm policy), its intermediates and the sender's current encryption
 * certificate, and so the SignerInfo parameters and the micalg.
 */
import type { SignOptions, SignDigest } from '../sign.js';
import { storeInternals } from '../store/internal.js';
import { argumentError, checkOption } from '../lib/args.js';
import type { CertInfo } from '../certs/cert_info.js';
import type { CertificateStore } from '../store/store.js';
import { selectSigningIdentity, intermediatesFor } from '../store/signing.js';
import { contentHashFor, MICALG, type BuildSignedDataOptions } from '../cms/signed.js';
import type { HashName } from '../cms/signer.js';
import { resolvePolicyFor } from '../crypto/policy.js';
import { getCrypto } from '../crypto/provider.js';
import { equal } from '../lib/bytes.js';

const SIGN_DIGESTS: readonly SignDigest[] = ['SHA-256', 'SHA-384', 'SHA-512'];

/** The sender's current encryption certificate among their own identities (the newest that qualifies). */
async function currentEncryptionCert(store: CertificateStore, address: string, at: Date): Promise<CertInfo | undefined> {
  const internals = storeInternals(store);
  const own = internals.identities().filter((i) => !i.info.isCA && i.info.emails.includes(address));
  const good: CertInfo[] = [];
  for (const i of own) if ((await internals.checkEncryptionCert(i.info, at)) === undefined) good.push(i.info);
  good.sort((a, b) => b.notBefore.getTime() - a.notBefore.getTime());
  return good[0];
}

/** What {@link signingSetup} settles. */
export interface SigningSetup {
  /** The SignerInfo parameters (all but `encapsulate`). */
  params: Omit<BuildSignedDataOptions, 'encapsulate'>;
  /** The requested digest for RSA/ECDSA. */
  hash: HashName;
  /** The content's digest (Ed25519: SHA-512). */
  contentHash: HashName;
  /** The micalg parameter for multipart/signed. */
  micalg: string;
  detached: boolean;
  crypto?: Crypto;
}

/**
 * Checks a signing call's options and selects the signing identity; `what` names the call in errors. `checkInput`
 * runs between the two (the call's own argument checks, in the order signMessage always made them).
 */
export async function signingSetup(what: string, options: SignOptions, checkInput?: () => void): Promise<SigningSetup> {
  const { store } = options ?? ({} as SignOptions);
  storeInternals(store, `${what}: options.store`);
  if (typeof options.from !== 'string' || !options.from.includes('@')) throw argumentError(`${what}: options.from`, 'an email address');
  checkOption(`${what}: options.detached`, options.detached, 'boolean');
  checkOption(`${what}: options.digest`, options.digest, SIGN_DIGESTS);
  const hash: HashName = options.digest ?? 'SHA-256';
  checkOption(`${what}: options.pss`, options.pss, 'boolean');
  checkOption(`${what}: options.compress`, options.compress, 'boolean');
  const policy = resolvePolicyFor(`${what}: options.policy`, store.policy, options.policy);
  const crypto = options.crypto ?? store.crypto;
  getCrypto(crypto);
  checkInput?.();
  const from = options.from.trim().toLowerCase();
  const now = store.now();

  const identity = selectSigningIdentity(store, from, now, policy);
  const encryptionCert = await currentEncryptionCert(store, from, now);
  const intermediates = await intermediatesFor(store, identity.info, now);
  const differs = encryptionCert !== undefined && !equal(encryptionCert.der, identity.info.der);
  const certificates = [identity.info, ...intermediates];
  if (differs) certificates.push(encryptionCert);
  const params = {
    signer: identity.info,
    key: identity.key,
    hash,
    pss: options.pss === true,
    crypto,
    certificates,
    signingTime: now,
    encryptionCert: differs ? encryptionCert : undefined,
  };
  const contentHash = contentHashFor(params);
  return { params, hash, contentHash, micalg: MICALG[contentHash]!, detached: options.detached ?? true, crypto };
}
