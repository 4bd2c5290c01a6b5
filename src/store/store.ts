/**
 * CertificateStore: the user's own identities (certificate + private key), other people's certificates,
 * intermediates, trust anchors, and what signed mail taught about each correspondent.
 *
 * Identities are never dropped when they expire: the whole history of encryption keys stays, so that old mail
 * still opens. Selection for encryption and signing follows the rules in the README ("Certificate selection").
 */
import { CertificateInvalid, MissingRecipientCertificatesError, SmimeError, type MissingReason } from '../errors.js';
import { getCrypto } from '../crypto/provider.js';
import { checkInteger, checkOption } from '../lib/args.js';
import { registerStoreInternals, type StoreChainOptions, type StoredIdentity, type StoredPreference } from './internal.js';
import { resolvePolicy, resolvePolicyFor, type AlgorithmPolicy } from '../crypto/policy.js';
import { toBytes, toHex } from '../lib/bytes.js';
import { x509, type X509Certificate } from '../certs/x509.js';
import { certInfo, ekuAllowsEmail, hasKeyUsage, isValidAt, keyKind, KU, type CertInfo } from '../certs/cert_info.js';
import { keyMatchesCert, rsaModulusBits, type PrivateKeyRef } from '../certs/keys.js';
import { checkInputSize, loadCertificates, loadCrls, loadPrivateKey, type PemOrDer } from '../certs/load.js';
import { parseCrl, type ParsedCrl } from '../certs/crl.js';
import { parsePkcs12 } from '../certs/pkcs12.js';
import { readCertsOnlyInput } from './certs_only_input.js';
import { buildChain, chainProblems, type ChainResult } from '../path/chain.js';
import type { OnlineRevocation } from '../path/online.js';
import { StoreOnline, type OnlineOptions } from './online.js';
import { checkPolicyOptions } from '../path/path_validation.js';
import type { PolicyOptions } from '../path/policy_tree.js';
import { KeyInvalid, StoreInvalid } from '../errors.js';
import {
  DEFAULT_STORE_ITERATIONS,
  decodePayload,
  encodePayload,
  openStore,
  sealStore,
  wrapMalformed,
  type SavedIdentity,
  type SavedOptions,
  type StoreSnapshot,
} from './persist.js';
import type { ExternalKey } from '../crypto/external_key.js';
import { DirectoryLookup, RESOLVER_DEFAULTS, type CertificateResolver, type ResolverCacheOptions } from './resolver.js';

const EXTERNAL_TYPES: ReadonlySet<string> = new Set(['rsa', 'ec', 'ed25519', 'ed448', 'x25519', 'x448']);
const DECRYPT_MODES: ReadonlySet<string> = new Set(['rsa-raw', 'rsaes-pkcs1-v1_5', 'rsaes-oaep']);

/** TypeError unless `key` has the shape of an `ExternalKey` with at least one operation. */
function checkExternalKey(key: ExternalKey): void {
  if (typeof key !== 'object' || key === null) throw new TypeError('importExternalIdentity: key must be an ExternalKey object');
  if (typeof key.type !== 'string' || !EXTERNAL_TYPES.has(key.type)) {
    throw new TypeError(`importExternalIdentity: key.type must be one of ${[...EXTERNAL_TYPES].join(', ')}`);
  }
  for (const op of ['sign', 'decrypt', 'deriveSecret'] as const) {
    if (key[op] !== undefined && typeof key[op] !== 'function') throw new TypeError(`importExternalIdentity: key.${op} must be a function`);
  }
  if (!key.sign && !key.decrypt && !key.deriveSecret) throw new TypeError('importExternalIdentity: the key offers no operation (sign, decrypt or deriveSecret)');
  const modes = key.decryptModes;
  if (modes !== undefined) {
    if (!Array.isArray(modes) || modes.length === 0 || !modes.every((m) => typeof m === 'string' && DECRYPT_MODES.has(m))) {
      throw new TypeError(`importExternalIdentity: key.decryptModes must be a non-empty list of ${[...DECRYPT_MODES].join(', ')}`);
    }
    if (!key.decrypt) throw new TypeError('importExternalIdentity: key.decryptModes without key.decrypt');
  }
}
import { PathBudget, resolveLimits, type Limits } from '../lib/limits.js';

/** A certificate of the user's own, with its private key. */
export interface Identity {
  /** The certificate. */
  certificate: X509Certificate;
  /**
   * The private key: PKCS#8 bytes, a CryptoKey, or an `ExternalKey` (`external`, for keys smime-core does not hold).
   * Every operation uses it through the `ExternalKey` interface.
   */
  key: PrivateKeyRef;
  /** Where it came from, for reports: 'pkcs12', 'pem', 'cryptokey' or 'external'. */
  source: string;
}

/** What a correspondent's signed mail said about them (filled by signature verification). */
export interface ContactPreference {
  /** The preferred encryption certificate (RFC 8551 §2.5.3 / Microsoft 1.3.6.1.4.1.311.16.4). */
  certificate?: X509Certificate;
  /** Content-encryption algorithm OIDs the correspondent advertises, strongest first. */
  capabilities?: string[];
  /** The signingTime of the message the preference came from. */
  signingTime: Date;
}

/** The options of `new CertificateStore(options)`. */
export interface CertificateStoreOptions extends OnlineOptions {
  /** WebCrypto implementation for everything done with this store; default: `getCrypto()` (globalThis.crypto). */
  crypto?: Crypto;
  /** The clock for validity checks. Default: `() => new Date()`. */
  now?: () => Date;
  /** The algorithm policy (see `AlgorithmPolicy`), over `DEFAULT_POLICY`; each call may change it with `options.policy`. */
  policy?: Partial<AlgorithmPolicy>;
  /** Work limits for everything done with this store (see `Limits`); each call may change them with `options.limits`. */
  limits?: Partial<Limits>;
  /**
   * The initial certificate policy inputs of RFC 5280 §6.1.1 for every path this store validates (verification,
   * encryption's trust decision, `verifyCertificate`); a call's `certificatePolicies` replaces them. Default:
   * RFC 5280's (any policy, nothing required or inhibited).
   */
  certificatePolicies?: PolicyOptions;
  /**
   * The directory: consulted by `encryptMessage` (once per call) for every recipient without a usable encryption
   * certificate, before refusing; what it answers is added as contacts and selected by the same rules. See
   * `CertificateResolver`. Default: none (only what the store holds).
   */
  resolver?: CertificateResolver;
  /** How long a resolver call may take, in ms, before its addresses are `lookup-failed`. Default 10 000. */
  resolverTimeoutMs?: number;
  /** The cache of resolver answers (see `ResolverCacheOptions`). */
  resolverCache?: ResolverCacheOptions;
  /**
   * Allow the user's explicit trust decisions (`trustCertificate`): off by default, so that in a managed deployment
   * trust stays the administrator's (trust anchors).
   */
  allowUserTrust?: boolean;
}

/**
 * Whether `findEncryptionCertificate` and `selectRecipients` may ask a directory. Without it (the default) they
 * select from what the store holds and never call a resolver.
 */
export interface SelectionLookupOptions {
  /** A resolver to ask for the addresses without a usable certificate, or `true` for the store's own (if any). */
  resolver?: CertificateResolver | true;
  /** Aborts the lookup (the addresses are then `lookup-failed`). */
  signal?: AbortSignal;
}

/** What `store.export` is told. */
export interface StoreExportOptions {
  /** The password the file is encrypted and authenticated under. */
  password: string;
  /** PBKDF2-HMAC-SHA-256 iterations; default 600 000, at most the store's `maxPbkdf2Iterations`. */
  iterations?: number;
}

/** What `CertificateStore.import` is told: the password, and the options of the new store (over the saved ones). */
export interface StoreImportOptions extends CertificateStoreOptions {
  /** The password the file was exported with. */
  password: string;
}

/** The options of `importExternalIdentity`. */
export interface ExternalIdentityOptions extends StoreInputOptions {
  /**
   * The application's name for the key (a token's label, a keychain id): `export` saves it with the certificate,
   * and after `import` `detachedIdentities` gives it back so the application can re-attach the key.
   */
  reference?: string;
}

/** An identity a saved store held without its key (see `CertificateStore.detachedIdentities`). */
export interface DetachedIdentity {
  /** The identity's certificate. */
  certificate: X509Certificate;
  /** The reference given to `importExternalIdentity`, if any. */
  reference?: string;
  /** Where the identity came from: 'external' or 'cryptokey' (a non-extractable CryptoKey). */
  source: string;
}

/** One certificate the store holds, with its role (`CertificateStore.certificates`). */
export interface StoredCertificate {
  /** The certificate. */
  certificate: X509Certificate;
  /** Its role: one of the user's identities, someone else's (contact), an intermediate CA, a trust anchor. */
  role: 'identity' | 'contact' | 'intermediate' | 'anchor';
  /** True when the user trusted it explicitly (`trustCertificate`). */
  trustedExplicitly?: boolean;
  /** True for an identity whose key is not attached (see `CertificateStore.detachedIdentities`). */
  detached?: boolean;
}

/** What `CertificateStore.certificates` may be told. */
export interface CertificateListOptions {
  /** Only certificates naming this address (case-insensitive). */
  email?: string;
}

/**
 * What `CertificateStore.verifyCertificate` may be told. `fetch`, `revocation` and `onlineLimits` replace the store's
 * (online revocation and AIA, see the README's "Revocation").
 */
export interface VerifyCertificateOptions extends OnlineOptions {
  /** Certificates that may complete the path (intermediates), PEM (bundles too) or DER. */
  intermediates?: readonly PemOrDer[];
  /** CRLs (DER or PEM), besides the store's. */
  crls?: readonly PemOrDer[];
  /** The time to judge at; default: the store's clock. */
  at?: Date;
  /** The initial policy inputs (RFC 5280 §6.1.1); default: the store's `certificatePolicies`. */
  certificatePolicies?: PolicyOptions;
  /**
   * The algorithm policy for this call, layered over the store's: its `allowWeak` accepts MD5/SHA-1 signatures on
   * the path (certificates and CRLs).
   */
  policy?: Partial<AlgorithmPolicy>;
  /** Work limits for this call. */
  limits?: Partial<Limits>;
}

/** The verdict of `CertificateStore.verifyCertificate`. */
export interface CertificateVerification {
  /** 'valid', or the worst problem: no valid path ('untrusted'), outside its validity ('expired'), 'revoked'. */
  status: 'valid' | 'untrusted' | 'expired' | 'revoked';
  /** Why, when not valid: the same reasons as a signer's in verifyMessage (e.g. 'path-length-exceeded'). */
  reasons: string[];
  /** The valid path, leaf first and trust anchor last (DER). */
  path?: Uint8Array[];
  /** The user-constrained policy set of the valid path (RFC 5280 §6.1.6); ['2.5.29.32.0'] for any policy. */
  policies?: string[];
}

/** Per-call options of the store's input methods. */
export interface StoreInputOptions {
  /** Changes to the store's work limits for this call (see `Limits`). */
  limits?: Partial<Limits>;
}

/** The result of `CertificateStore.findEncryptionCertificate`: the certificate, or why there is none. */
export interface EncryptionSelection {
  /** The encryption certificate, when one qualifies. */
  certificate?: X509Certificate;
  /** Why no certificate qualifies (absent when one does). */
  reason?: MissingReason;
}

/**
 * The user's own identities (certificate and private key), other people's certificates, intermediates, trust
 * anchors, CRLs, and what signed mail taught about each correspondent. Every operation takes one as
 * `options.store`. Identities are never dropped when they expire, so old mail still opens.
 *
 * @example
 * ```ts
 * const store = new CertificateStore();
 * await store.importPkcs12(p12Bytes, 'password');
 * store.addTrustAnchor(rootPem);
 * await store.addCertificate(bobPem);
 * const sel = await store.findEncryptionCertificate('bob@example.com');
 * ```
 */
export class CertificateStore {
  readonly #identities: StoredIdentity[] = [];
  readonly #public = new WeakMap<StoredIdentity, Identity>();
  readonly #certs = new Map<string, CertInfo>();
  readonly #anchors = new Map<string, CertInfo>();
  readonly #prefs = new Map<string, StoredPreference>();
  readonly #crls: ParsedCrl[] = [];
  readonly #x509 = new WeakMap<CertInfo, X509Certificate>();
  readonly #directory: DirectoryLookup;
  readonly #trusted = new Map<string, CertInfo>();
  readonly #detached: { info: CertInfo; reference?: string; source: string }[] = [];
  readonly #online: StoreOnline;
  /** Whether the user's explicit trust decisions (`trustCertificate`) are allowed and honoured. */
  readonly allowUserTrust: boolean;
  /** The WebCrypto implementation given to the constructor (undefined: `getCrypto()`'s). */
  readonly crypto: Crypto | undefined;
  /** The clock for validity checks. */
  readonly now: () => Date;
  /** The store's algorithm policy: `DEFAULT_POLICY` with the constructor's changes. */
  readonly policy: AlgorithmPolicy;
  /** The store's work limits: the defaults with the constructor's changes. */
  readonly limits: Limits;
  /** The initial policy inputs for every path this store validates (see CertificateStoreOptions). */
  readonly certificatePolicies: PolicyOptions | undefined;

  /**
   * An empty store.
   *
   * @example
   * ```ts
   * const store = new CertificateStore({ policy: { minRsaBits: 3072 }, limits: { maxInputBytes: 10_000_000 } });
   * ```
   */
  constructor(options: CertificateStoreOptions = {}) {
    checkOption('CertificateStore: options', options, 'object', true);
    this.certificatePolicies = checkPolicyOptions('CertificateStore: options.certificatePolicies', options.certificatePolicies);
    checkOption('CertificateStore: options.now', options.now, 'function');
    checkOption('CertificateStore: options.allowUserTrust', options.allowUserTrust, 'boolean');
    this.allowUserTrust = options.allowUserTrust === true;
    this.crypto = options.crypto;
    this.now = options.now ?? (() => new Date());
    this.policy = resolvePolicy(options.policy);
    this.limits = resolveLimits('CertificateStore: options.limits', options.limits);
    this.#directory = this.#directoryFrom(options);
    this.#online = new StoreOnline(options, 'CertificateStore: options');
    registerStoreInternals(this, {
      identities: () => this.#identities,
      allCertificates: () => this.#allCertificates(),
      trustAnchors: () => [...this.#anchors.values()],
      parsedCrls: () => [...this.#crls],
      learnCertificate: (info) => this.#addCert(info),
      preference: (email) => this.#prefs.get(email.toLowerCase()),
      setPreference: (email, pref) => this.#setPreference(email, pref),
      x509: (info) => this.#toX509(info),
      chain: (info, at, opts) => this.#chain(info, at, opts),
      checkEncryptionCert: (info, at) => this.#checkEncryptionCert(info, at, this.#online.forCall()),
      findEncryptionCertificate: (email, at) => this.#findEncryptionCertificate(email, at, this.#online.forCall()),
      selectRecipients: (emails, at, lookup) =>
        this.#selectResolving(emails, at, lookup?.resolver ?? this.#directory.resolver, lookup?.signal, lookup && 'online' in lookup ? lookup.online : this.#online.forCall()),
      online: (call, what) => this.#online.forCall(call, what),
      offline: (call, what) => this.#online.offline(call, what),
      cryptoImpl: () => getCrypto(this.crypto),
    });
  }

  // ------------------------------------------------------------------------------------------------------------
  // Input

  /**
   * Imports a PKCS#12 file: each key with its certificate becomes an identity; the other certificates (usually the
   * issuing CAs) become intermediates. PBES2 and the legacy 3DES/RC2 PBEs are read. Returns the new identities.
   * A wrong password throws `Pkcs12BadPassword` (ERR_PKCS12_BAD_PASSWORD); a file above the store's limits
   * (`maxInputBytes`, `maxPbkdf2Iterations`, `maxPkcs12KdfWork`) throws `Pkcs12LimitExceeded` before the work.
   *
   * @example
   * ```ts
   * const [me] = await store.importPkcs12(await readFile('alice.p12'), 'password');
   * ```
   */
  async importPkcs12(bytes: Uint8Array | ArrayBuffer, password: string, options?: StoreInputOptions): Promise<Identity[]> {
    checkOption('importPkcs12: password', password, 'string', true);
    const p12 = await parsePkcs12(toBytes(bytes, 'importPkcs12'), password, this.crypto, this.#limitsFor(options, 'importPkcs12'));
    const certs = p12.certs.map((c) => ({ ...c, info: certInfo(c.der) }));
    const used = new Set<number>();
    const added: Identity[] = [];
    for (const k of p12.keys) {
      let idx = -1;
      if (k.localKeyId) idx = certs.findIndex((c) => c.localKeyId && toHex(c.localKeyId) === toHex(k.localKeyId!));
      if (idx < 0) {
        for (let i = 0; i < certs.length && idx < 0; i++) {
          if (await keyMatchesCert({ pkcs8: k.pkcs8 }, certs[i]!.info, this.crypto)) idx = i;
        }
      }
      if (idx < 0) throw new KeyInvalid('PKCS#12: a private key has no matching certificate in the file');
      used.add(idx);
      added.push(this.#addIdentity(certs[idx]!.info, { pkcs8: k.pkcs8 }, 'pkcs12'));
    }
    certs.forEach((c, i) => {
      if (!used.has(i)) this.#addCert(c.info);
    });
    return added;
  }

  /**
   * Imports an identity from a certificate (PEM or DER) and its private key: PKCS#8 (PEM or DER) or a CryptoKey,
   * which may be non-extractable. A PEM file holding both the certificate and the key can be passed as `cert`
   * alone. Extra certificates in the PEM become intermediates.
   *
   * @example
   * ```ts
   * const me = await store.importIdentity(certPem, keyPem);
   * ```
   */
  async importIdentity(cert: PemOrDer, key?: PemOrDer | CryptoKey, options?: StoreInputOptions): Promise<Identity> {
    const ders = this.#loadCertificates(cert, 'importIdentity', options);
    const isCryptoKey = typeof CryptoKey !== 'undefined' && key instanceof CryptoKey;
    const ref: PrivateKeyRef = isCryptoKey
      ? { cryptoKey: key as CryptoKey }
      : { pkcs8: loadPrivateKey((key as PemOrDer | undefined) ?? cert) };
    const infos = ders.map((d) => certInfo(d));
    let leaf: CertInfo | undefined;
    for (const info of infos) {
      if (await keyMatchesCert(ref, info, this.crypto)) {
        leaf = info;
        break;
      }
    }
    if (!leaf) throw new KeyInvalid('the private key does not belong to the certificate');
    for (const info of infos) if (info !== leaf) this.#addCert(info);
    return this.#addIdentity(leaf, ref, isCryptoKey ? 'cryptokey' : 'pem');
  }

  /**
   * Imports an identity whose private key smime-core does not hold: a PKCS#11 token (`smime-core/pkcs11`), a secure
   * element, an OS keychain, a remote signing service, given as an `ExternalKey`. `certificate` is PEM or DER; its
   * first certificate is the identity's, the others become intermediates. The key object is checked: its `type`
   * must fit the certificate's key (else KeyInvalid), it must offer at least one operation, and whatever it offers
   * must be functions (else TypeError). The store cannot compare the key with the certificate; each signature it
   * makes is verified with the certificate before it is used, and each raw RSA result is re-encrypted.
   *
   * Any number of identities may be external; the same selection rules apply as to any identity. A key that
   * cannot sign is no signing candidate ('key-cannot-sign'); one that cannot decrypt is skipped when decrypting; a
   * dual-use certificate whose key can do both serves both. The identity's `source` is 'external'. As with every
   * import, a certificate the store already holds as an identity keeps its first key (the existing identity is
   * returned).
   *
   * @example
   * ```ts
   * const id = await store.importExternalIdentity(certPem, {
   *   type: 'ec',
   *   sign: (data, algorithm) => remoteSigner.sign(data, algorithm.oid),
   * });
   * ```
   */
  async importExternalIdentity(certificate: PemOrDer, key: ExternalKey, options?: ExternalIdentityOptions): Promise<Identity> {
    checkExternalKey(key);
    checkOption('importExternalIdentity: options.reference', options?.reference, 'string');
    const ders = this.#loadCertificates(certificate, 'importExternalIdentity', options);
    const infos = ders.map((d) => certInfo(d));
    const leaf = infos[0];
    if (!leaf) throw new KeyInvalid('importExternalIdentity: no certificate');
    const kind = keyKind(leaf);
    if (kind !== key.type) throw new KeyInvalid(`importExternalIdentity: the key is ${key.type}, the certificate's key is ${kind}`);
    if (key.decrypt && kind !== 'rsa') throw new KeyInvalid('importExternalIdentity: decrypt is for RSA keys; EC, X25519 and X448 keys do deriveSecret');
    if (key.deriveSecret && kind !== 'ec' && kind !== 'x25519' && kind !== 'x448') {
      throw new KeyInvalid(`importExternalIdentity: a ${kind} key cannot do key agreement (deriveSecret)`);
    }
    for (const info of infos) if (info !== leaf) this.#addCert(info);
    return this.#addIdentity(leaf, { external: key }, 'external', options?.reference);
  }

  /**
   * Adds other people's certificates and intermediates: PEM, DER or a PEM bundle, or a certs-only message (RFC 8551
   * §3.6: a `.p7c`/`.p7b` SignedData without signers or content, as DER or BER, PEM `PKCS7`/`CMS`, or the MIME
   * entity `application/pkcs7-mime; smime-type=certs-only`), whose CRLs are added too (as with addCrl). Returns the
   * certificates given (those already in the store included). Nothing given here becomes a trust anchor. Above
   * `maxInputBytes`, or more than `maxPemCertificates` certificates: CMSLimitExceeded; a SignedData with signers or
   * content (a signed message, not certs-only): CMSInvalid; a bad certificate or CRL: CertificateInvalid, and
   * nothing of the input is added.
   *
   * @example
   * ```ts
   * await store.addCertificate(bobPem);
   * const added = await store.addCertificate(p7cBytes); // a certs-only .p7c
   * ```
   */
  async addCertificate(pemOrDer: PemOrDer, options?: StoreInputOptions): Promise<X509Certificate[]> {
    const limits = this.#limitsFor(options, 'addCertificate');
    checkInputSize(pemOrDer, limits.maxInputBytes, 'addCertificate');
    const certsOnly = readCertsOnlyInput(pemOrDer, limits);
    if (certsOnly) {
      this.#crls.push(...certsOnly.crls);
      return certsOnly.certificates.map((info) => this.#toX509(this.#addCert(info)));
    }
    return this.#loadCertificates(pemOrDer, 'addCertificate', options).map((d) => this.#toX509(this.#addCert(certInfo(d))));
  }

  /**
   * Adds trust anchors (roots deployed by an administrator): PEM, DER or a PEM bundle. Limits as addCertificate.
   *
   * @example
   * ```ts
   * store.addTrustAnchor(rootPem);
   * ```
   */
  addTrustAnchor(pemOrDer: PemOrDer, options?: StoreInputOptions): X509Certificate[] {
    return this.#loadCertificates(pemOrDer, 'addTrustAnchor', options).map((d) => {
      const info = certInfo(d);
      const k = anchorKey(info);
      if (!this.#anchors.has(k)) this.#anchors.set(k, info);
      return this.#toX509(this.#anchors.get(k)!);
    });
  }

  /**
   * Adds certificate revocation lists (PEM "X509 CRL" blocks or DER). verifyMessage checks signers against them, as
   * against the CRLs a message carries. Returns how many were added. Each CRL is parsed here: one that is not a
   * well-formed CertificateList throws `CertificateInvalid` and none of the input is added. Above `maxInputBytes`:
   * CMSLimitExceeded. (Whether a CRL is signed by its issuer is checked when it is used.)
   *
   * @example
   * ```ts
   * store.addCrl(crlDer);
   * ```
   */
  addCrl(pemOrDer: PemOrDer, options?: StoreInputOptions): number {
    checkInputSize(pemOrDer, this.#limitsFor(options, 'addCrl').maxInputBytes, 'addCrl');
    let parsed: ParsedCrl[];
    try {
      parsed = loadCrls(pemOrDer).map((der) => parseCrl(der));
    } catch (e) {
      if (e instanceof CertificateInvalid || !(e instanceof SmimeError)) throw e;
      throw new CertificateInvalid(`addCrl: malformed CRL: ${e.message}`, { cause: e });
    }
    this.#crls.push(...parsed);
    return parsed.length;
  }

  /** The CRLs added with addCrl (DER). */
  get crls(): readonly Uint8Array[] {
    return this.#crls.map((c) => c.der.slice());
  }

  #loadCertificates(input: PemOrDer, what: string, options?: StoreInputOptions): Uint8Array[] {
    const limits = this.#limitsFor(options, what);
    checkInputSize(input, limits.maxInputBytes, what);
    return loadCertificates(input, limits.maxPemCertificates);
  }

  /** The store's limits with one call's changes. */
  #limitsFor(options: StoreInputOptions | undefined, what: string): Limits {
    return options?.limits === undefined ? this.limits : resolveLimits(`${what}: options.limits`, this.limits, options.limits);
  }

  #addIdentity(info: CertInfo, key: PrivateKeyRef, source: string, reference?: string): Identity {
    const existing = this.#identities.find((i) => sameCert(i.info, info));
    if (existing) return this.#public.get(existing)!;
    // A detached identity (saved without its key) is re-attached.
    for (let i = this.#detached.length - 1; i >= 0; i--) if (sameCert(this.#detached[i]!.info, info)) this.#detached.splice(i, 1);
    const certificate = this.#toX509(info);
    const stored: StoredIdentity = { certificate, info, key, source, ...(reference !== undefined ? { reference } : {}) };
    this.#identities.push(stored);
    this.#public.set(stored, { certificate, key, source });
    return this.#public.get(stored)!;
  }

  #addCert(info: CertInfo): CertInfo {
    const k = certKey(info);
    const had = this.#certs.get(k);
    if (had) return had;
    this.#certs.set(k, info);
    return info;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Views

  /** The @peculiar/x509 object for a certificate (cached). */
  #toX509(info: CertInfo): X509Certificate {
    let c = this.#x509.get(info);
    if (!c) {
      try {
        c = new x509.X509Certificate(info.der as Uint8Array<ArrayBuffer>);
      } catch (e) {
        throw new CertificateInvalid(`certificate: ${e instanceof Error ? e.message : String(e)}`);
      }
      this.#x509.set(info, c);
    }
    return c;
  }

  /** Every identity, current and expired, in import order. */
  get identities(): readonly Identity[] {
    return this.#identities.map((i) => this.#public.get(i)!);
  }

  /** Every certificate the store knows: identities' certificates, others', intermediates. */
  #allCertificates(): CertInfo[] {
    return [...this.#identities.map((i) => i.info), ...this.#detached.map((d) => d.info), ...this.#certs.values()];
  }

  /** The trust anchors (added with addTrustAnchor). */
  get trustAnchors(): readonly X509Certificate[] {
    return [...this.#anchors.values()].map((c) => this.#toX509(c));
  }

  /**
   * What a correspondent's signed mail said about them (harvested by verifyMessage and openMessage): the preferred
   * encryption certificate, the advertised content ciphers, and when.
   *
   * @example
   * ```ts
   * const caps = store.preference('bob@example.com')?.capabilities;
   * ```
   */
  preference(email: string): ContactPreference | undefined {
    checkOption('preference: email', email, 'string', true);
    const p = this.#prefs.get(email.toLowerCase());
    if (!p) return undefined;
    return { ...(p.certificate ? { certificate: this.#toX509(p.certificate) } : {}), ...(p.capabilities ? { capabilities: p.capabilities } : {}), signingTime: p.signingTime };
  }

  // ------------------------------------------------------------------------------------------------------------
  // Keeping: export/import, remove, list, explicit trust

  /**
   * The store saved in one file (see src/store/persist.ts for the format): certificates, trust anchors, CRLs,
   * contact preferences, explicit trust decisions, identities with their private keys, and the store's options
   * (not the clock or the WebCrypto), all encrypted and authenticated with PBES2 (PBKDF2-HMAC-SHA-256,
   * `iterations`, default 600 000) and AES-256-GCM. Identities whose key cannot be exported (an `ExternalKey`, a
   * non-extractable CryptoKey) are saved as their certificate and reference, and come back in `detachedIdentities`.
   * What is saved is what the store held when `export` was called (taken before the first await), whatever
   * concurrent calls do afterwards.
   *
   * @example
   * ```ts
   * await writeFile('store.bin', await store.export({ password }));
   * ```
   */
  async export(options: StoreExportOptions): Promise<Uint8Array> {
    checkOption('export: options', options, 'object', true);
    checkOption('export: options.password', options.password, 'string', true);
    const iterations = options.iterations ?? DEFAULT_STORE_ITERATIONS;
    if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > this.limits.maxPbkdf2Iterations) {
      throw new RangeError(`export: options.iterations must be an integer from 1 to maxPbkdf2Iterations (${this.limits.maxPbkdf2Iterations})`);
    }
    // The snapshot: synchronous, before any await.
    const ids = this.#identities.map((i) => ({ der: i.info.der, key: i.key, source: i.source, reference: i.reference }));
    const limits: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.limits)) if (Number.isFinite(v)) limits[k] = v;
    const options2: SavedOptions = {
      allowUserTrust: this.allowUserTrust,
      policy: { ...this.policy },
      limits,
      ...(this.certificatePolicies ? { certificatePolicies: { ...this.certificatePolicies } } : {}),
    };
    const snap: StoreSnapshot = {
      identities: [],
      certificates: [...this.#certs.values()].map((c) => c.der.slice()),
      anchors: [...this.#anchors.values()].map((c) => c.der.slice()),
      crls: this.#crls.map((c) => c.der.slice()),
      preferences: [...this.#prefs].map(([email, p]) => ({
        email,
        signingTime: new Date(p.signingTime.getTime()),
        ...(p.certificate ? { certificate: p.certificate.der.slice() } : {}),
        ...(p.capabilities ? { capabilities: [...p.capabilities] } : {}),
      })),
      trusted: [...this.#trusted.values()].map((c) => c.der.slice()),
      options: options2,
    };
    const detached: SavedIdentity[] = this.#detached.map((d) => ({
      certificate: d.info.der.slice(),
      source: d.source,
      ...(d.reference !== undefined ? { reference: d.reference } : {}),
    }));
    const c = getCrypto(this.crypto);
    for (const i of ids) {
      const saved: SavedIdentity = { certificate: i.der.slice(), source: i.source, ...(i.reference !== undefined ? { reference: i.reference } : {}) };
      if (!i.key.external && i.key.pkcs8) saved.pkcs8 = i.key.pkcs8.slice();
      else if (!i.key.external && i.key.cryptoKey?.extractable) saved.pkcs8 = new Uint8Array(await c.subtle.exportKey('pkcs8', i.key.cryptoKey));
      snap.identities.push(saved);
    }
    snap.identities.push(...detached);
    return sealStore(encodePayload(snap), options.password, iterations, this.crypto);
  }

  /**
   * A store read back from `export`'s file. `options` are the password and the new store's options; those the file
   * kept (policy, limits, certificatePolicies, allowUserTrust) apply where `options` says nothing. The header is
   * checked first, and the iteration count against `maxPbkdf2Iterations`, before any key derivation: a file that
   * is not a store, truncated, of another version or above the limit throws `StoreInvalid`; a wrong password or a
   * modified file throws `StoreBadPassword` (AES-GCM cannot tell them apart). The new store is built completely
   * before it is returned: never a partial store. Identities saved without their key are in `detachedIdentities`.
   *
   * @example
   * ```ts
   * const store = await CertificateStore.import(await readFile('store.bin'), { password });
   * for (const d of store.detachedIdentities) await store.importExternalIdentity(d.certificate.toString('pem'), myKey(d.reference), { reference: d.reference });
   * ```
   */
  static async import(bytes: Uint8Array | ArrayBuffer, options: StoreImportOptions): Promise<CertificateStore> {
    checkOption('CertificateStore.import: options', options, 'object', true);
    const { password, ...rest } = options;
    checkOption('CertificateStore.import: options.password', password, 'string', true);
    const probe = new CertificateStore(rest); // the caller's options, checked before any work
    const file = toBytes(bytes, 'CertificateStore.import');
    if (file.length > probe.limits.maxInputBytes) {
      throw new StoreInvalid(`saved store: the file is ${file.length} bytes, more than maxInputBytes (${probe.limits.maxInputBytes})`);
    }
    const payload = await openStore(file, password, probe.limits, rest.crypto);
    const snap = decodePayload(payload, probe.limits);
    const saved = snap.options;
    let store: CertificateStore;
    try {
      store = new CertificateStore({
        ...rest,
        allowUserTrust: rest.allowUserTrust ?? saved.allowUserTrust,
        policy: { ...(saved.policy as Partial<AlgorithmPolicy> | undefined), ...rest.policy },
        limits: { ...(saved.limits as Partial<Limits> | undefined), ...rest.limits },
        certificatePolicies: rest.certificatePolicies ?? (saved.certificatePolicies as PolicyOptions | undefined),
      });
    } catch (e) {
      throw new StoreInvalid(`saved store: bad options: ${e instanceof Error ? e.message : String(e)}`);
    }
    wrapMalformed(() => store.#restore(snap));
    return store;
  }

  /** Fills an empty store from a snapshot (certificates and CRLs parsed here: malformed ones throw). */
  #restore(snap: StoreSnapshot): void {
    const byKey = (infos: Iterable<CertInfo>, info: CertInfo): CertInfo => {
      for (const c of infos) if (sameCert(c, info)) return c;
      return info;
    };
    for (const der of snap.certificates) this.#addCert(certInfo(der));
    for (const der of snap.anchors) {
      const info = certInfo(der);
      if (!this.#anchors.has(anchorKey(info))) this.#anchors.set(anchorKey(info), info);
    }
    for (const der of snap.crls) this.#crls.push(parseCrl(der));
    for (const i of snap.identities) {
      const info = certInfo(i.certificate);
      if (i.pkcs8) this.#addIdentity(info, { pkcs8: i.pkcs8 }, i.source);
      else if (!this.#detached.some((d) => sameCert(d.info, info))) {
        this.#detached.push({ info, source: i.source, ...(i.reference !== undefined ? { reference: i.reference } : {}) });
      }
    }
    for (const der of snap.trusted) {
      const info = byKey(this.#certs.values(), certInfo(der));
      this.#trusted.set(certKey(info), info);
    }
    for (const p of snap.preferences) {
      if (Number.isNaN(p.signingTime.getTime())) throw new StoreInvalid('saved store: a preference has a bad signingTime');
      this.#prefs.set(p.email.toLowerCase(), {
        ...(p.certificate ? { certificate: byKey(this.#allCertificates(), certInfo(p.certificate)) } : {}),
        ...(p.capabilities ? { capabilities: p.capabilities } : {}),
        signingTime: p.signingTime,
      });
    }
  }

  /**
   * The identities a saved store held without their private key (an `ExternalKey`, a non-extractable CryptoKey),
   * with the reference given to `importExternalIdentity`. Re-attach a key with `importExternalIdentity(cert, key,
   * { reference })` (or `importIdentity`); the identity then leaves this list. Their certificates still take part
   * in path building and encryption selection.
   *
   * @example
   * ```ts
   * for (const d of store.detachedIdentities) console.log(d.certificate.subject, d.reference);
   * ```
   */
  get detachedIdentities(): readonly DetachedIdentity[] {
    return this.#detached.map((d) => ({ certificate: this.#toX509(d.info), source: d.source, ...(d.reference !== undefined ? { reference: d.reference } : {}) }));
  }

  /**
   * Removes a certificate from every role it has (identity with its key, detached identity, contact,
   * intermediate, trust anchor, explicit trust, contact preference). `item` is an `X509Certificate`, PEM or DER
   * (each certificate of a bundle), or an `Identity`. Returns whether anything was removed.
   *
   * @example
   * ```ts
   * store.remove(oldBobCert);
   * ```
   */
  remove(item: X509Certificate | PemOrDer | Identity): boolean {
    let ders: Uint8Array[];
    const asIdentity = typeof item === 'object' && item !== null && 'certificate' in item ? rawDataOf((item as Identity).certificate) : undefined;
    const raw = asIdentity ?? rawDataOf(item);
    if (raw) ders = [raw];
    else ders = this.#loadCertificates(item as PemOrDer, 'remove');
    let removed = false;
    for (const der of ders) {
      const info = certInfo(der);
      for (let i = this.#identities.length - 1; i >= 0; i--) {
        if (sameCert(this.#identities[i]!.info, info)) removed = !!this.#identities.splice(i, 1);
      }
      for (let i = this.#detached.length - 1; i >= 0; i--) if (sameCert(this.#detached[i]!.info, info)) removed = !!this.#detached.splice(i, 1);
      const c = this.#certs.get(certKey(info));
      if (c && sameCert(c, info)) removed = this.#certs.delete(certKey(info));
      const a = this.#anchors.get(anchorKey(info));
      if (a && sameCert(a, info)) removed = this.#anchors.delete(anchorKey(info));
      const t = this.#trusted.get(certKey(info));
      if (t && sameCert(t, info)) removed = this.#trusted.delete(certKey(info));
      for (const [email, p] of this.#prefs) {
        if (!p.certificate || !sameCert(p.certificate, info)) continue;
        if (p.capabilities) this.#prefs.set(email, { capabilities: p.capabilities, signingTime: p.signingTime });
        else this.#prefs.delete(email);
      }
    }
    return removed;
  }

  /**
   * What the store holds, each certificate with its role: 'identity' (the user's own, key held), 'contact'
   * (someone else's end-entity certificate), 'intermediate' (a CA certificate that is no anchor), 'anchor'. A
   * detached identity (saved without its key, see `detachedIdentities`) is an 'identity' with `detached: true`.
   * A certificate that is both an identity and a harvested contact is listed once, as 'identity'; an anchor is
   * listed as 'anchor' whatever else it is. With `email`, only certificates naming that address.
   *
   * @example
   * ```ts
   * for (const { certificate, role } of store.certificates({ email: 'bob@example.com' })) console.log(role, certificate.serialNumber);
   * ```
   */
  certificates(options: CertificateListOptions = {}): StoredCertificate[] {
    checkOption('certificates: options', options, 'object');
    checkOption('certificates: options.email', options.email, 'string');
    const email = options.email?.trim().toLowerCase();
    const out: StoredCertificate[] = [];
    const seen = new Set<string>();
    const push = (info: CertInfo, role: StoredCertificate['role'], detached = false) => {
      if (email !== undefined && !info.emails.includes(email)) return;
      const t = this.#trusted.get(certKey(info));
      out.push({ certificate: this.#toX509(info), role, ...(t && sameCert(t, info) ? { trustedExplicitly: true } : {}), ...(detached ? { detached } : {}) });
    };
    for (const i of this.#identities) {
      seen.add(certKey(i.info));
      push(i.info, 'identity');
    }
    for (const d of this.#detached) {
      seen.add(certKey(d.info));
      push(d.info, 'identity', true);
    }
    for (const c of this.#certs.values()) {
      if (seen.has(certKey(c)) || [...this.#anchors.values()].some((a) => sameCert(a, c))) continue;
      push(c, c.isCA ? 'intermediate' : 'contact');
    }
    for (const a of this.#anchors.values()) push(a, 'anchor');
    return out;
  }

  /**
   * The user's explicit decision to trust one end-entity certificate (a partner whose root the administrator did
   * not deploy): it is added as a contact, verification reports its signatures `valid` with the reason
   * 'trusted-explicitly' when no path to an anchor exists, and encryption selection accepts it. Only its own
   * validity, usages and revocation still count; it never vouches for other certificates (no anchor). Allowed only
   * in a store created with `allowUserTrust: true`; otherwise a TypeError (a programming error: a managed
   * deployment keeps trust the administrator's). The decision is saved by `export`, and removed with `remove`.
   *
   * @example
   * ```ts
   * const store = new CertificateStore({ allowUserTrust: true });
   * store.trustCertificate(partnerPem);
   * ```
   */
  trustCertificate(certificate: X509Certificate | PemOrDer): X509Certificate {
    if (!this.allowUserTrust) {
      throw new TypeError('trustCertificate: this store does not allow user trust decisions (create it with allowUserTrust: true)');
    }
    const raw = rawDataOf(certificate);
    const [der] = raw ? [raw] : this.#loadCertificates(certificate as PemOrDer, 'trustCertificate');
    if (!der) throw new CertificateInvalid('trustCertificate: no certificate found');
    const info = this.#addCert(certInfo(der));
    this.#trusted.set(certKey(info), info);
    return this.#toX509(info);
  }

  #setPreference(email: string, pref: StoredPreference): boolean {
    const k = email.toLowerCase();
    const had = this.#prefs.get(k);
    if (had && had.signingTime.getTime() > pref.signingTime.getTime()) return false;
    this.#prefs.set(k, pref);
    return true;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Selection

  /** Whether `info` may encrypt to its owner now, and if not, why. */
  async #checkEncryptionCert(info: CertInfo, at: Date = this.now(), online?: OnlineRevocation): Promise<MissingReason | undefined> {
    if (!isValidAt(info, at)) return 'expired';
    const kind = keyKind(info);
    if (kind === 'rsa') {
      if (!hasKeyUsage(info, KU.keyEncipherment)) return 'wrong-usage';
      if (rsaModulusBits(info) < this.policy.minRsaBits) return 'wrong-usage';
    } else if (kind === 'ec' || kind === 'x25519' || kind === 'x448') {
      if (!hasKeyUsage(info, KU.keyAgreement)) return 'wrong-usage';
    } else return 'wrong-usage';
    if (!ekuAllowsEmail(info)) return 'wrong-usage';
    if (this.#anchors.size > 0) {
      // One budget per certificate checked; 'path-building-limit' (like 'weak-algorithm') makes it 'untrusted'.
      // A revoked certificate, or one whose revocation cannot be established while CRLs are in play, is untrusted.
      const r = await this.#chain(info, at, { online });
      if (!r.chain) {
        if (r.problem === 'expired') return 'expired';
        if (r.problem === 'revoked') return 'revoked';
        // Hard-fail online revocation: a status nobody could establish.
        if (online && chainProblems(r).every((f) => f.problem !== 'untrusted' || /^(issuer-)?revocation-unknown: /.test(f.reason))) return 'revocation-unknown';
        return 'untrusted';
      }
    }
    return undefined;
  }

  /**
   * Builds and validates (RFC 5280 §6.1, with RFC 5280 §6.3 CRL checks) the chain of `info` to a trust anchor at
   * `at`, with the store's certificates plus `options.extra`. Path building spends from `options.budget` (one per
   * verification call, shared by its signers); without one, a fresh budget with the store's limits. Past the budget
   * the problem is 'path-building-limit'. Signatures are checked with `options.crypto`, else the store's.
   */
  async #chain(info: CertInfo, at: Date, options: StoreChainOptions = {}): Promise<ChainResult> {
    const r = await buildChain(info, [...(options.extra ?? []), ...this.#allCertificates()], [...this.#anchors.values()], at, {
      allowWeak: options.allowWeak ?? this.policy.allowWeak,
      crypto: options.crypto ?? this.crypto,
      budget: options.budget ?? new PathBudget(this.limits),
      crls: options.crls ?? this.#crls,
      policies: options.certificatePolicies ?? this.certificatePolicies,
      atSigningTime: options.atSigningTime,
      crlTime: options.crlTime,
      leafValidity: options.leafValidity,
      online: options.online,
    });
    if (r.chain || !this.allowUserTrust) return r;
    // The user's explicit decision about this leaf stands in for a path, when nothing but the path is missing.
    const t = this.#trusted.get(certKey(info));
    if (!t || !sameCert(t, info) || chainProblems(r).some((f) => f.problem !== 'untrusted')) return r;
    return { chain: [info], trustedExplicitly: true };
  }

  /**
   * Validates one certificate's path to the store's trust anchors as RFC 5280 §6 says, without any message: path
   * building through the store's certificates and `options.intermediates`, validity, basicConstraints and
   * pathLenConstraint, keyUsage, name constraints, certificate policies (with `options.certificatePolicies`),
   * unknown critical extensions, and revocation by the store's CRLs and `options.crls`. Malformed input throws
   * `CertificateInvalid`; a certificate that does not validate is a verdict with its reasons, not an error.
   *
   * @example
   * ```ts
   * const v = await store.verifyCertificate(certPem, { intermediates: [caPem] });
   * if (v.status !== 'valid') console.log(v.reasons);
   * ```
   */
  async verifyCertificate(certificate: PemOrDer, options: VerifyCertificateOptions = {}): Promise<CertificateVerification> {
    const limits = this.#limitsFor(options, 'verifyCertificate');
    checkInputSize(certificate, limits.maxInputBytes, 'verifyCertificate');
    const [leafDer] = loadCertificates(certificate, 1);
    if (!leafDer) throw new CertificateInvalid('verifyCertificate: no certificate found');
    const leaf = certInfo(leafDer);
    const extra: CertInfo[] = [];
    for (const input of options.intermediates ?? []) {
      checkInputSize(input, limits.maxInputBytes, 'verifyCertificate');
      for (const der of loadCertificates(input, limits.maxPemCertificates)) extra.push(certInfo(der));
    }
    const crls: ParsedCrl[] = [...this.#crls];
    for (const input of options.crls ?? []) {
      checkInputSize(input, limits.maxInputBytes, 'verifyCertificate');
      try {
        for (const der of loadCrls(input)) crls.push(parseCrl(der));
      } catch (e) {
        if (!(e instanceof SmimeError)) throw e;
        throw new CertificateInvalid(`verifyCertificate: malformed CRL: ${e.message}`, { cause: e });
      }
    }
    checkOption('verifyCertificate: options.at', options.at, 'date');
    const policy = resolvePolicyFor('verifyCertificate: options.policy', this.policy, options.policy);
    const r = await this.#chain(leaf, options.at ?? this.now(), {
      extra,
      crls,
      allowWeak: policy.allowWeak,
      budget: new PathBudget(limits),
      certificatePolicies: checkPolicyOptions('verifyCertificate: options.certificatePolicies', options.certificatePolicies),
      online: this.#online.forCall(options, 'verifyCertificate: options'),
    });
    if (r.chain) {
      const reasons = [...(r.trustedExplicitly ? ['trusted-explicitly'] : []), ...(r.notes ?? [])];
      return { status: 'valid', reasons, path: r.chain.map((c) => c.der.slice()), policies: r.policies ?? [] };
    }
    const problems = chainProblems(r);
    const status = (['untrusted', 'expired', 'revoked'] as const).find((p) => problems.some((f) => f.problem === p)) ?? 'untrusted';
    return { status, reasons: problems.map((f) => f.reason) };
  }

  /**
   * The encryption certificate for an address: the preferred one from the person's signed mail when it still
   * qualifies, else the newest (by notBefore) of those that qualify. When none qualifies, the reason of the
   * closest candidate: untrusted, then wrong-usage, then expired; 'none' when no certificate names the address.
   *
   * @example
   * ```ts
   * const { certificate, reason } = await store.findEncryptionCertificate('bob@example.com');
   * ```
   */
  async findEncryptionCertificate(email: string, at?: Date, options?: SelectionLookupOptions): Promise<EncryptionSelection> {
    checkOption('findEncryptionCertificate: email', email, 'string', true);
    checkOption('findEncryptionCertificate: at', at, 'date');
    const resolver = this.#lookupResolver('findEncryptionCertificate', options);
    if (resolver) {
      try {
        const [c] = (await this.#selectResolving([email], at, resolver, options?.signal, this.#online.forCall())).values();
        return { certificate: this.#toX509(c!) };
      } catch (e) {
        if (!(e instanceof MissingRecipientCertificatesError)) throw e;
        return { reason: Object.values(e.reasons)[0] ?? 'none' };
      }
    }
    const sel = await this.#findEncryptionCertificate(email, at, this.#online.forCall());
    return sel.certificate ? { certificate: this.#toX509(sel.certificate) } : sel.reason ? { reason: sel.reason } : {};
  }

  async #findEncryptionCertificate(email: string, at: Date = this.now(), online?: OnlineRevocation): Promise<{ certificate?: CertInfo; reason?: MissingReason }> {
    const addr = email.trim().toLowerCase();
    const candidates = dedupe(this.#allCertificates().filter((c) => !c.isCA && c.emails.includes(addr)));
    if (candidates.length === 0) return { reason: 'none' };
    const pref = this.#prefs.get(addr)?.certificate;
    if (pref && (await this.#checkEncryptionCert(pref, at, online)) === undefined) return { certificate: pref };
    const good: CertInfo[] = [];
    const reasons = new Set<MissingReason>();
    for (const c of candidates) {
      const r = await this.#checkEncryptionCert(c, at, online);
      if (r === undefined) good.push(c);
      else reasons.add(r);
    }
    if (good.length > 0) {
      good.sort((a, b) => b.notBefore.getTime() - a.notBefore.getTime());
      return { certificate: good[0] };
    }
    for (const r of ['revoked', 'revocation-unknown', 'untrusted', 'wrong-usage', 'expired'] as const) if (reasons.has(r)) return { reason: r };
    return { reason: 'none' };
  }

  /**
   * The encryption certificates for every address, or MissingRecipientCertificatesError naming **every** address
   * that has none. Duplicate addresses (in any case) are selected once; the map's keys are the addresses in lower
   * case.
   *
   * @example
   * ```ts
   * const certs = await store.selectRecipients(['bob@example.com', 'carol@example.com']);
   * ```
   */
  async selectRecipients(emails: readonly string[], at?: Date, options?: SelectionLookupOptions): Promise<Map<string, X509Certificate>> {
    checkOption('selectRecipients: emails', emails, 'array', true);
    checkOption('selectRecipients: at', at, 'date');
    const sel = await this.#selectResolving(emails, at, this.#lookupResolver('selectRecipients', options), options?.signal, this.#online.forCall());
    return new Map([...sel].map(([a, c]) => [a, this.#toX509(c)]));
  }

  async #selectRecipients(emails: readonly string[], at: Date = this.now(), online?: OnlineRevocation): Promise<Map<string, CertInfo>> {
    const out = new Map<string, CertInfo>();
    const missing: Record<string, MissingReason> = {};
    for (const e of emails) {
      const addr = e.trim().toLowerCase();
      if (out.has(addr) || addr in missing) continue;
      const sel = await this.#findEncryptionCertificate(addr, at, online);
      if (sel.certificate) out.set(addr, sel.certificate);
      else missing[addr] = sel.reason ?? 'none';
    }
    if (Object.keys(missing).length > 0) throw new MissingRecipientCertificatesError(missing);
    return out;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Directory lookup (see resolver.ts)

  #directoryFrom(options: CertificateStoreOptions): DirectoryLookup {
    checkOption('CertificateStore: options.resolver', options.resolver, 'function');
    checkOption('CertificateStore: options.resolverCache', options.resolverCache, 'object');
    const cache = options.resolverCache ?? {};
    const ms = (what: string, v: number | undefined, dflt: number, min: number): number => {
      checkInteger(`CertificateStore: options.${what}`, v, min);
      return v ?? dflt;
    };
    return new DirectoryLookup(
      {
        now: () => this.now(),
        limits: () => this.limits,
        // A directory may answer with certificates or certs-only PKCS#7 (LDAP userSMIMECertificate); CRLs in it are
        // not taken from a directory.
        load: (input, limits) => readCertsOnlyInput(input, limits)?.certificates.map((c) => c.der) ?? loadCertificates(input, limits.maxPemCertificates),
        add: (info) => void this.#addCert(info),
      },
      {
        resolver: options.resolver,
        timeoutMs: ms('resolverTimeoutMs', options.resolverTimeoutMs, RESOLVER_DEFAULTS.timeoutMs, 1),
        ttlMs: ms('resolverCache.ttlMs', cache.ttlMs, RESOLVER_DEFAULTS.ttlMs, 0),
        negativeTtlMs: ms('resolverCache.negativeTtlMs', cache.negativeTtlMs, RESOLVER_DEFAULTS.negativeTtlMs, 0),
        maxEntries: ms('resolverCache.maxEntries', cache.maxEntries, RESOLVER_DEFAULTS.maxEntries, 1),
      },
    );
  }

  /** The resolver a public selection method was given (`true`: the store's), checked. */
  #lookupResolver(what: string, options: SelectionLookupOptions | undefined): CertificateResolver | undefined {
    checkOption(`${what}: options`, options, 'object');
    if (options?.resolver === true) return this.#directory.resolver;
    checkOption(`${what}: options.resolver`, options?.resolver, 'function');
    if (options?.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new TypeError(`${what}: options.signal must be an AbortSignal`);
    return options?.resolver;
  }

  /**
   * `#selectRecipients`, and when some addresses have no usable certificate and a resolver is given: ONE lookup for
   * all of them (cache and lookups under way first), what it found added as contacts, and the selection again.
   * Addresses still without one whose lookup failed are 'lookup-failed', the (first) error on `cause`.
   */
  async #selectResolving(
    emails: readonly string[],
    at: Date | undefined,
    resolver: CertificateResolver | undefined,
    signal: AbortSignal | undefined,
    online: OnlineRevocation | undefined,
  ): Promise<Map<string, CertInfo>> {
    try {
      return await this.#selectRecipients(emails, at, online);
    } catch (e) {
      if (!(e instanceof MissingRecipientCertificatesError) || !resolver) throw e;
      const outcomes = await this.#directory.lookup(resolver, Object.keys(e.reasons), signal);
      try {
        return await this.#selectRecipients(emails, at, online);
      } catch (again) {
        if (!(again instanceof MissingRecipientCertificatesError)) throw again;
        const reasons = { ...again.reasons };
        let cause: unknown;
        for (const [a, o] of outcomes) {
          if (o.kind !== 'failed' || !(a in reasons)) continue;
          reasons[a] = 'lookup-failed';
          cause ??= o.error;
        }
        throw new MissingRecipientCertificatesError(reasons, cause === undefined ? undefined : { cause });
      }
    }
  }

}

function anchorKey(info: CertInfo): string {
  return toHex(info.der.subarray(Math.max(0, info.der.length - 64))) + ':' + info.der.length;
}

/** The DER of a public X509Certificate-like object (ours or another copy of @peculiar/x509's). */
function rawDataOf(v: unknown): Uint8Array | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const raw = (v as { rawData?: unknown }).rawData;
  return raw instanceof ArrayBuffer ? new Uint8Array(raw) : undefined;
}

function certKey(info: CertInfo): string {
  return toHex(info.serial) + ':' + toHex(info.issuer.subarray(Math.max(0, info.issuer.length - 48))) + ':' + info.der.length;
}

function sameCert(a: CertInfo, b: CertInfo): boolean {
  return certKey(a) === certKey(b) && a.der.length === b.der.length && a.der.every((v, i) => v === b.der[i]);
}

function dedupe(list: CertInfo[]): CertInfo[] {
  const seen = new Set<string>();
  return list.filter((c) => {
    const k = certKey(c);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
