/**
 * The online revocation settings of a `CertificateStore` and of one call (verifyMessage, openMessage,
 * encryptMessage): the caller's `fetch`, the `revocation` policy and the bounds, checked once; and the caches the
 * store keeps for all its calls. Without a `fetch` nothing goes to the network and nothing changes.
 */
import { checkInteger, checkOption } from '../lib/args.js';
import { DEFAULT_ONLINE_LIMITS, OnlineCaches, type FetchLike, type LdapFetchLike, type OnlineLimits, type RevocationPolicy } from '../path/fetcher.js';
import { OnlineRevocation, type OcspCertIdHash } from '../path/online.js';

/** The online options of a store, or of one call (which replace the store's). */
export interface OnlineOptions {
  /**
   * A `fetch`-compatible function (e.g. `globalThis.fetch`) for OCSP, CRL distribution points and AIA caIssuers.
   * Without one, nothing goes to the network. **Privacy:** an OCSP request tells the CA which certificate is being
   * checked, so whose mail the user is reading and when; see the README's "Revocation" section.
   */
  fetch?: FetchLike;
  /** What an unknown status does (see `RevocationPolicy`); default `'soft-fail'` when `fetch` is given, else `'off'`. */
  revocation?: RevocationPolicy;
  /** Timeouts, request count, response size and cache bounds (see `OnlineLimits`). */
  onlineLimits?: Partial<OnlineLimits>;
  /**
   * Send a nonce in OCSP requests (RFC 8954; default true): the answer is then fresh and bound to the request, and
   * goes by POST. Without one, a small request goes by GET (RFC 6960 A.1), which HTTP caches can answer.
   */
  ocspNonce?: boolean;
  /**
   * The hash of the CertID in OCSP requests: `'SHA-1'` (the default: the RFC 5019 profile, which high-volume
   * responders and their caches index by) or `'SHA-256'`. Answers with either are understood whatever is sent.
   */
  ocspCertIdHash?: OcspCertIdHash;
  /**
   * A reader of `ldap://` URLs (RFC 4516), for CRL distribution points and AIA caIssuers that name a directory
   * entry: smime-core/ldap's `ldapFetch()` (Node, on the optional peer ldapts), or your own. Used only when the
   * policy is on (a `fetch` is given); without it such URLs are skipped (`crl-ldap-not-fetched`). Its answers are
   * bounded, timed and cached as the fetch's are.
   */
  fetchLdap?: LdapFetchLike;
}

const POLICIES: readonly RevocationPolicy[] = ['off', 'soft-fail', 'hard-fail'];
const HASHES: readonly OcspCertIdHash[] = ['SHA-1', 'SHA-256'];

/** Checks `OnlineLimits` given by a caller: positive integers (a zero skew is allowed). */
function checkLimits(what: string, l: Partial<OnlineLimits> | undefined): Partial<OnlineLimits> {
  checkOption(`${what}.onlineLimits`, l, 'object');
  for (const [k, v] of Object.entries(l ?? {})) {
    if (!(k in DEFAULT_ONLINE_LIMITS)) throw new TypeError(`${what}.onlineLimits.${k} is not an online limit`);
    const min = k === 'clockSkewSeconds' ? 0 : 1;
    checkInteger(`${what}.onlineLimits.${k}`, v, min, true);
  }
  return l ?? {};
}

/** A store's online settings and caches. */
export class StoreOnline {
  readonly #fetch: FetchLike | undefined;
  readonly #policy: RevocationPolicy | undefined;
  readonly #limits: OnlineLimits;
  readonly #caches: OnlineCaches;
  readonly #nonce: boolean | undefined;
  readonly #certIdHash: OcspCertIdHash | undefined;
  readonly #ldap: LdapFetchLike | undefined;

  constructor(options: OnlineOptions, what: string) {
    checkOption(`${what}.fetch`, options.fetch, 'function');
    checkOption(`${what}.revocation`, options.revocation, POLICIES);
    this.#fetch = options.fetch;
    this.#policy = options.revocation;
    checkOption(`${what}.ocspNonce`, options.ocspNonce, 'boolean');
    this.#nonce = options.ocspNonce;
    checkOption(`${what}.ocspCertIdHash`, options.ocspCertIdHash, HASHES);
    this.#certIdHash = options.ocspCertIdHash;
    checkOption(`${what}.fetchLdap`, options.fetchLdap, 'function');
    this.#ldap = options.fetchLdap;
    this.#limits = { ...DEFAULT_ONLINE_LIMITS, ...checkLimits(what, options.onlineLimits) };
    this.#caches = new OnlineCaches(this.#limits.cacheEntries);
  }

  /** The store's policy in force without a call's: 'off' without a fetch. */
  get policy(): RevocationPolicy {
    return this.#fetch ? (this.#policy ?? 'soft-fail') : 'off';
  }

  /**
   * The online side of one call: the call's options over the store's (a call's `fetch` and `revocation` replace
   * the store's; the policy is the call's, else the store's, else soft-fail). Undefined when the policy is off or
   * there is no fetch. One per call: its deadline and request count start now.
   */
  forCall(call: OnlineOptions = {}, what = 'options'): OnlineRevocation | undefined {
    checkOption(`${what}.fetch`, call.fetch, 'function');
    checkOption(`${what}.revocation`, call.revocation, POLICIES);
    checkOption(`${what}.ocspNonce`, call.ocspNonce, 'boolean');
    checkOption(`${what}.ocspCertIdHash`, call.ocspCertIdHash, HASHES);
    checkOption(`${what}.fetchLdap`, call.fetchLdap, 'function');
    const fetch = call.fetch ?? this.#fetch;
    const policy = call.revocation ?? this.#policy ?? 'soft-fail';
    if (!fetch || policy === 'off') return undefined;
    const limits = { ...this.#limits, ...checkLimits(what, call.onlineLimits) };
    const ldap = call.fetchLdap ?? this.#ldap;
    return new OnlineRevocation(policy, fetch, limits, this.#caches, {
      nonce: call.ocspNonce ?? this.#nonce ?? true,
      certIdHash: call.ocspCertIdHash ?? this.#certIdHash ?? 'SHA-1',
      ...(ldap ? { ldap } : {}),
    });
  }

  /**
   * The offline side of one call whose policy is off (or that has no fetch): the stapled OCSP responses of a
   * message are still read, as the CRLs it carries are, and nobody is asked (`OnlineRevocation.stapledOnly`).
   */
  offline(call: OnlineOptions = {}, what = 'options'): OnlineRevocation {
    return OnlineRevocation.stapledOnly([], { ...this.#limits, ...checkLimits(what, call.onlineLimits) });
  }
}
