/**
 * The store's internals, for the operations (sign, verify, encrypt, decrypt, open) and the tests: what the
 * operations need from a `CertificateStore` beyond its public API, in terms of the internal certificate model
 * (`CertInfo`). The package does not export this module; `CertificateStore` registers its internals here when it
 * is constructed, and `storeInternals(store)` hands them out.
 */
import type { MissingReason } from '../errors.js';
import type { X509Certificate } from '../certs/x509.js';
import type { CertInfo } from '../certs/cert_info.js';
import type { PrivateKeyRef } from '../certs/keys.js';
import type { ParsedCrl } from '../certs/crl.js';
import type { ChainResult } from '../path/chain.js';
import type { PolicyOptions } from '../path/policy_tree.js';
import type { PathBudget } from '../lib/limits.js';
import { argumentError } from '../lib/args.js';
import type { CertificateResolver } from './resolver.js';
import type { OnlineRevocation } from '../path/online.js';
import type { OnlineOptions } from './online.js';

/** An identity as the store keeps it: the public `Identity` fields and the parsed certificate. */
export interface StoredIdentity {
  /** The certificate, as the public API shows it. */
  certificate: X509Certificate;
  /** The parsed fields smime-core uses. */
  info: CertInfo;
  /** The private key. */
  key: PrivateKeyRef;
  /** Where it came from: 'pkcs12', 'pem', 'cryptokey' or 'external'. */
  source: string;
  /** The application's reference for an external key (`importExternalIdentity`'s `reference`), kept by `export`. */
  reference?: string;
}

/** What a correspondent's signed mail said about them, as the store keeps it. */
export interface StoredPreference {
  /** The preferred encryption certificate (RFC 8551 §2.5.3 / Microsoft 1.3.6.1.4.1.311.16.4). */
  certificate?: CertInfo;
  /** Content-encryption algorithm OIDs the correspondent advertises, strongest first. */
  capabilities?: string[];
  /** The signingTime of the message the preference came from. */
  signingTime: Date;
}

/** What `StoreInternals.chain` may be told besides the certificate and the time. */
export interface StoreChainOptions {
  /** More certificates for path building (a message's). */
  extra?: readonly CertInfo[];
  /** Accept MD5/SHA-1 certificate and CRL signatures; default: the store's policy. */
  allowWeak?: boolean;
  /** The verification call's budget; default: a fresh one with the store's limits. */
  budget?: PathBudget;
  /** Default: the store's. */
  crypto?: Crypto;
  /** CRLs to check revocation with; default: the store's (addCrl). */
  crls?: readonly ParsedCrl[];
  /** Default: the store's `certificatePolicies`. */
  certificatePolicies?: PolicyOptions;
  /** Judge revocation at a claimed signing time (VerifyOptions.verifyAt). */
  atSigningTime?: boolean;
  /** The time CRLs must be current at, when not `at` (verifying at a signing time: now). */
  crlTime?: Date;
  /** Check the certificate's own validity (default true). */
  leafValidity?: boolean;
  /** Online revocation and AIA chain completion of this call (see `StoreInternals.online`); default: none. */
  online?: OnlineRevocation;
}

/** The internal side of a `CertificateStore`. */
export interface StoreInternals {
  /** Every identity, current and expired, in import order. */
  identities(): readonly StoredIdentity[];
  /** Every certificate the store knows: identities' certificates, others', intermediates. */
  allCertificates(): CertInfo[];
  /** The trust anchors. */
  trustAnchors(): CertInfo[];
  /** The CRLs added with addCrl, parsed. */
  parsedCrls(): readonly ParsedCrl[];
  /** Adds a certificate learnt from a message (signature harvesting); returns the store's copy. */
  learnCertificate(info: CertInfo): CertInfo;
  /** What the store recorded from a correspondent's signed mail. */
  preference(email: string): StoredPreference | undefined;
  /** Records what a correspondent's signed mail said; the newest signingTime wins. Returns true when recorded. */
  setPreference(email: string, pref: StoredPreference): boolean;
  /** The @peculiar/x509 object for a certificate (cached). */
  x509(info: CertInfo): X509Certificate;
  /** Builds and validates the chain of `info` to a trust anchor at `at` (see `CertificateStore`'s path rules). */
  chain(info: CertInfo, at: Date, options?: StoreChainOptions): Promise<ChainResult>;
  /** Whether `info` may encrypt to its owner at `at` (default: now), and if not, why. */
  checkEncryptionCert(info: CertInfo, at?: Date): Promise<MissingReason | undefined>;
  /** The encryption certificate for an address, or why there is none. */
  findEncryptionCertificate(email: string, at?: Date): Promise<{ certificate?: CertInfo; reason?: MissingReason }>;
  /** The encryption certificates for every address, or MissingRecipientCertificatesError naming every one without. */
  selectRecipients(emails: readonly string[], at?: Date, lookup?: SelectionLookup): Promise<Map<string, CertInfo>>;
  /** The WebCrypto in force: the store's, else globalThis.crypto. */
  cryptoImpl(): Crypto;
  /** The online side of one call (its options over the store's), or undefined when nothing goes to the network. */
  online(call?: OnlineOptions, what?: string): OnlineRevocation | undefined;
  /** The offline side of one call whose `online` is undefined: reads stapled OCSP responses, asks nobody. */
  offline(call?: OnlineOptions, what?: string): OnlineRevocation;
}

/**
 * The directory lookup of an internal selection: `resolver` replaces the store's (default: the store's, if any);
 * `signal` aborts it.
 */
export interface SelectionLookup {
  resolver?: CertificateResolver;
  signal?: AbortSignal;
  /** The call's online revocation (present, even undefined: replaces the store's default). */
  online?: OnlineRevocation;
}

const INTERNALS = new WeakMap<object, StoreInternals>();

/** Called once by the `CertificateStore` constructor. */
export function registerStoreInternals(store: object, internals: StoreInternals): void {
  INTERNALS.set(store, internals);
}

/**
 * The internals of a `CertificateStore`. Anything else is a bad argument: a TypeError saying that `what` (e.g.
 * 'verifyMessage: options.store') must be a CertificateStore.
 */
export function storeInternals(store: unknown, what = 'store'): StoreInternals {
  const i = typeof store === 'object' && store !== null ? INTERNALS.get(store) : undefined;
  if (!i) throw argumentError(what, 'a CertificateStore');
  return i;
}
