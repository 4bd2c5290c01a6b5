/**
 * Online revocation and chain completion for one verification (or encryption) call, through the caller's `fetch`
 * (path/fetcher.ts):
 *
 * - a certificate's status: stapled OCSP responses first (a SignedData's RevocationInfoChoices `other` with
 *   id-ri-ocsp-response), then its OCSP responders (AIA id-ad-ocsp, http URLs; path/ocsp.ts), then its CRL
 *   distribution points (http URLs, and `ldap:` URLs through the caller's `LdapFetchLike` when one is given; the
 *   CRLs validated by path/revocation.ts as any other CRL: scope, issuer, cRLSign, delta CRLs), the first
 *   definitive answer winning. A certificate that names nowhere to ask has an unknown status
 *   (`no-revocation-source`): a note under soft-fail, `untrusted` under hard-fail;
 * - a missing intermediate: the AIA id-ad-caIssuers of a certificate whose issuer is nowhere at hand (http URLs,
 *   and `ldap:` ones with the LDAP reader; a DER certificate or a certs-only PKCS#7), each fetch spending a
 *   candidate of the call's path budget. What is fetched is only a candidate: path building checks it like any
 *   other certificate.
 *
 * Stapled responses are offline evidence, like the CRLs a message carries: an instance without a fetch
 * (`OnlineRevocation.stapledOnly`) reads them whatever the policy, asks nobody, and turns an answer that does not
 * verify into a note (`revocation-unknown: stapled-ocsp-<why>`), never into `untrusted`.
 *
 * Answers are cached in the store's `OnlineCaches` (OCSP answers and CRLs until their nextUpdate, CA certificates
 * for an hour), so a second verification of the same signer asks nobody.
 */
import { children, decodeOid, readTlv } from '../lib/der.js';
import { latin1 } from '../lib/bytes.js';
import type { PathBudget } from '../lib/limits.js';
import { getCrypto } from '../crypto/provider.js';
import { certInfo, type CertInfo } from '../certs/cert_info.js';
import { parseCrl, CRL_OID, type ParsedCrl } from '../certs/crl.js';
import { parseDistributionPoints } from '../certs/distribution_points.js';
import { certificatesFromCertsOnly } from '../cms/certs_only.js';
import { checkRevocation, type RevocationInput } from './revocation.js';
import { checkOcspResponse, ocspRequest, type OcspAnswer } from './ocsp.js';
import { DEFAULT_ONLINE_LIMITS, Fetcher, isFailure, OnlineCaches, type FetchFailure, type FetchLike, type LdapFetchLike, type OnlineLimits } from './fetcher.js';

/** authorityInfoAccess (RFC 5280 §4.2.2.1). */
const AIA = '1.3.6.1.5.5.7.1.1';
const AD_OCSP = '1.3.6.1.5.5.7.48.1';
const AD_CA_ISSUERS = '1.3.6.1.5.5.7.48.2';
/** At most this many URLs of one kind are tried for one certificate. */
const MAX_URLS = 2;
/** How long fetched CA certificates are kept, and a CRL without nextUpdate (ms). */
const CA_TTL = 3600_000;
const CRL_TTL_WITHOUT_NEXT_UPDATE = 300_000;

/** Revocation reasons that revoke whatever the date (see path/revocation.ts). */
const COMPROMISE = new Set([undefined, 0, 1, 2, 10]);

/** The outcome of an online check: a status, or undefined when the certificate names nothing to ask. */
export type OnlineStatus = { status: 'good' } | { status: 'revoked'; date: Date; reason?: number } | { status: 'unknown'; reason: string };

/** What an online check needs: what path validation gives `checkRevocation`. */
export type OnlineStatusInput = Omit<RevocationInput, 'crls'> & { crls: readonly ParsedCrl[] };

/** The http(s) URLs of the access descriptions of `method` in a certificate's AIA. */
export function aiaUrls(cert: CertInfo, method: string): string[] {
  const ext = cert.extensions.find((e) => e.oid === AIA);
  if (!ext) return [];
  const out: string[] = [];
  try {
    const v = ext.value;
    for (const ad of children(v, readTlv(v, 0))) {
      const [m, loc] = children(v, ad);
      if (!m || !loc || decodeOid(v, m) !== method || loc.cls !== 2 || loc.tagNo !== 6) continue;
      out.push(latin1(v.subarray(loc.contentStart, loc.contentEnd)));
    }
  } catch {
    return []; // a malformed AIA names nothing
  }
  return out;
}

/** The URIs of a certificate's CRL distribution points (full names). */
export function crlDpUrls(cert: CertInfo): string[] {
  const ext = cert.extensions.find((e) => e.oid === CRL_OID.cRLDistributionPoints);
  if (!ext) return [];
  try {
    return parseDistributionPoints(ext.value).flatMap((dp) =>
      (dp.distributionPoint?.fullName ?? []).filter((g) => g.tag === 6).map((g) => {
        const t = readTlv(g.der, 0);
        return latin1(g.der.subarray(t.contentStart, t.contentEnd));
      }),
    );
  } catch {
    return [];
  }
}

const isHttp = (u: string): boolean => /^https?:\/\//i.test(u);
const isLdap = (u: string): boolean => /^ldaps?:\/\//i.test(u);
/** What an ldap URL that names no attribute is asked for (RFC 4523): a CA's CRLs, or its certificates. */
const CRL_ATTRIBUTES = ['certificateRevocationList;binary', 'authorityRevocationList;binary'];
const CA_ATTRIBUTES = ['cACertificate;binary'];

/** The hash of the CertID in OCSP requests (answers with either are understood). */
export type OcspCertIdHash = 'SHA-1' | 'SHA-256';

/** base64 of bytes (for OCSP GET, RFC 6960 Appendix A.1). */
function base64(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

/** The caches of an instance that asks nobody: never written (only network answers are cached). */
const NO_CACHES = new OnlineCaches(1);

/** What an `OnlineRevocation` is built with besides its policy, fetch, limits and caches. */
export interface OnlineRevocationOptions {
  /** Stapled OCSP responses (DER) in view. */
  stapled?: readonly Uint8Array[];
  /** Send a nonce in OCSP requests (default true). */
  nonce?: boolean;
  /** The CertID hash of OCSP requests (default SHA-1). */
  certIdHash?: OcspCertIdHash;
  /** The reader of `ldap://` CRL distribution points and caIssuers; without it they are not fetched. */
  ldap?: LdapFetchLike;
}

/** The online side of one call: its policy, fetcher, the store's caches, and the stapled responses in view. */
export class OnlineRevocation {
  readonly policy: 'soft-fail' | 'hard-fail';
  readonly #fetcher: Fetcher | undefined;
  readonly #limits: OnlineLimits;
  readonly #caches: OnlineCaches;
  readonly #stapled: readonly Uint8Array[];
  readonly #options: OnlineRevocationOptions;

  /** `fetch` undefined: asks nobody (only stapled responses are read; see `stapledOnly`). */
  constructor(
    policy: 'soft-fail' | 'hard-fail',
    fetch: FetchLike | Fetcher | undefined,
    limits: OnlineLimits,
    caches: OnlineCaches,
    options: OnlineRevocationOptions = {},
  ) {
    this.policy = policy;
    this.#fetcher = fetch === undefined || fetch instanceof Fetcher ? fetch : new Fetcher(fetch, limits, options.ldap);
    this.#limits = limits;
    this.#caches = caches;
    this.#stapled = options.stapled ?? [];
    this.#options = options;
  }

  /**
   * The offline side of a call: the stapled responses of a message read as evidence, nobody asked (a call whose
   * policy is off, or without a fetch). An answer that does not verify is a note, never `untrusted`.
   */
  static stapledOnly(stapled: readonly Uint8Array[], limits: OnlineLimits = DEFAULT_ONLINE_LIMITS): OnlineRevocation {
    return new OnlineRevocation('soft-fail', undefined, limits, NO_CACHES, { stapled });
  }

  get limits(): OnlineLimits {
    return this.#limits;
  }

  /** Whether this call asks the network (false: stapled responses only). */
  get network(): boolean {
    return this.#fetcher !== undefined;
  }

  /** The same call with the OCSP responses a SignedData staples (its RevocationInfoChoices). */
  withStapled(stapled: readonly Uint8Array[]): OnlineRevocation {
    if (stapled.length === 0) return this;
    return new OnlineRevocation(this.policy, this.#fetcher, this.#limits, this.#caches, { ...this.#options, stapled: [...this.#stapled, ...stapled] });
  }

  /**
   * The status of `input.cert` (issued by `input.issuer`): stapled OCSP, the OCSP responders, the CRL distribution
   * points, in that order. Online, a certificate that names nowhere to ask (and has no stapled answer) is unknown
   * with `no-revocation-source`. Undefined when nothing is stapled about it and nobody is asked (offline).
   */
  async status(input: OnlineStatusInput): Promise<OnlineStatus | undefined> {
    if (!this.#fetcher && this.#stapled.length === 0) return undefined;
    const now = input.crlTime ?? input.at;
    const judge = (a: OcspAnswer): OnlineStatus | undefined => {
      if (a.status === 'good') return { status: 'good' };
      if (a.status === 'revoked') {
        // Verifying at a claimed signing time, only a compromise revokes a signature made before the revocation.
        const counts = (input.atSigningTime === true && COMPROMISE.has(a.reason)) || a.date.getTime() <= input.at.getTime();
        return counts ? { status: 'revoked', date: a.date, ...(a.reason !== undefined ? { reason: a.reason } : {}) } : { status: 'good' };
      }
      return undefined;
    };
    const problems: string[] = [];
    let asked = false;
    const ocspInput = (nonce?: Uint8Array) => ({
      cert: input.cert,
      issuer: input.issuer,
      now,
      nonce,
      clockSkewSeconds: this.limits.clockSkewSeconds,
      maxResponseAgeSeconds: this.limits.maxResponseAgeSeconds,
      allowWeak: input.allowWeak === true,
      crypto: input.crypto,
      responderRevoked: async (responder: CertInfo) => {
        const crls = [...input.crls, ...(await this.#crlsOf(responder, []))];
        const r = await checkRevocation({ ...input, cert: responder, crls });
        return r.status === 'revoked';
      },
    });
    const unknown = (): OnlineStatus => ({ status: 'unknown', reason: problems.length > 0 ? [...new Set(problems)].join(', ') : 'no-answer' });

    // 1. Stapled responses: offline evidence, validated as fetched ones (without a nonce).
    for (const der of this.#stapled) {
      const a = await checkOcspResponse(der, ocspInput());
      const s = judge(a);
      if (s) return s;
      if (a.status === 'unknown' && a.problem !== 'no-matching-response') {
        asked = true;
        problems.push(`stapled-ocsp-${a.problem}`);
      }
    }
    const fetcher = this.#fetcher;
    if (!fetcher) return asked ? unknown() : undefined;

    // 2. The OCSP responders (a cached answer first).
    const key = `${latin1(input.issuer.subject)}\u0000${latin1(input.issuer.publicKey)}\u0000${input.cert.serialHex}`;
    const cached = this.#caches.ocsp.get(key, now.getTime()) as OcspAnswer | undefined;
    if (cached) {
      const s = judge(cached);
      if (s) return s;
    }
    for (const url of aiaUrls(input.cert, AD_OCSP).filter(isHttp).slice(0, MAX_URLS)) {
      asked = true;
      let nonce: Uint8Array | undefined;
      if (this.#options.nonce ?? true) nonce = getCrypto(input.crypto).getRandomValues(new Uint8Array(16));
      let req: Uint8Array;
      try {
        req = await ocspRequest(input.cert, input.issuer, nonce, this.#options.certIdHash ?? 'SHA-1');
      } catch {
        problems.push('ocsp-request-failed');
        continue;
      }
      // GET when small (RFC 6960 A.1, cacheable by HTTP caches): only without a nonce, which would defeat them.
      const encoded = encodeURIComponent(base64(req));
      const body =
        !nonce && encoded.length <= 255
          ? await fetcher.fetch(`${url.replace(/\/$/, '')}/${encoded}`)
          : await fetcher.fetch(url, { bytes: req, contentType: 'application/ocsp-request' });
      if (isFailure(body)) {
        problems.push(`ocsp-${body}`);
        continue;
      }
      const a = await checkOcspResponse(body, ocspInput(nonce));
      if (a.status !== 'unknown' || a.problem === 'unknown') this.#caches.ocsp.set(key, a, a.expires ?? now.getTime());
      const s = judge(a);
      if (s) return s;
      if (a.status === 'unknown') problems.push(`ocsp-${a.problem}`);
    }

    // 3. The CRL distribution points.
    const dps = crlDpUrls(input.cert);
    if (dps.length > 0) {
      asked = true;
      const fetched = await this.#crlsOf(input.cert, problems);
      if (fetched.length > 0) {
        const r = await checkRevocation({ ...input, crls: [...input.crls, ...fetched] });
        if (r.status !== 'unknown') return r;
        problems.push(r.reason);
      }
    }
    // 4. Nowhere to ask: nobody vouches for it (RFC 5280 §6.3 leaves it undetermined; hard-fail refuses it).
    if (!asked) return { status: 'unknown', reason: 'no-revocation-source' };
    return unknown();
  }

  /**
   * Reads a URL the fetcher can read (http(s), or ldap with the reader), as a list of values; `attributes` are
   * asked of an ldap URL that names none.
   */
  async #read(url: string, attributes: readonly string[]): Promise<Uint8Array[] | FetchFailure> {
    const fetcher = this.#fetcher!;
    if (isLdap(url)) return fetcher.fetchLdap(url, attributes);
    const body = await fetcher.fetch(url);
    return isFailure(body) ? body : [body];
  }

  /** Whether `url` can be read by this call. */
  #readable(url: string): boolean {
    return isHttp(url) || (isLdap(url) && this.#fetcher?.readsLdap === true);
  }

  /**
   * The CRLs of `cert`'s http (and, with the LDAP reader, ldap) distribution points, cached until their nextUpdate;
   * failures noted in `problems`. Offline: none.
   */
  async #crlsOf(cert: CertInfo, problems: string[]): Promise<ParsedCrl[]> {
    const out: ParsedCrl[] = [];
    if (!this.#fetcher) return out;
    const urls = crlDpUrls(cert);
    const readable = urls.filter((u) => this.#readable(u));
    if (readable.length === 0 && urls.some(isLdap)) problems.push('crl-ldap-not-fetched');
    for (const url of readable.slice(0, MAX_URLS)) {
      let ders = this.#caches.crls.get(url, Date.now());
      const fresh = !ders;
      if (!ders) {
        const body = await this.#read(url, CRL_ATTRIBUTES);
        if (isFailure(body)) {
          problems.push(`crl-${body}`);
          continue;
        }
        if (body.length === 0) {
          problems.push('crl-not-found');
          continue;
        }
        ders = body;
      }
      const parsed: { der: Uint8Array; crl: ParsedCrl }[] = [];
      for (const der of ders) {
        try {
          parsed.push({ der, crl: parseCrl(der) });
        } catch {
          problems.push('crl-malformed');
        }
      }
      // Kept while they may still be current for a verification "now" (whatever the clock asked about).
      const current = parsed.filter(({ crl }) => !crl.nextUpdate || crl.nextUpdate.getTime() > Date.now());
      if (fresh && current.length > 0) {
        const until = Math.min(...current.map(({ crl }) => (crl.nextUpdate ? crl.nextUpdate.getTime() : Date.now() + CRL_TTL_WITHOUT_NEXT_UPDATE)));
        this.#caches.crls.set(url, current.map(({ der }) => der), until);
      }
      out.push(...parsed.map(({ crl }) => crl));
    }
    return out;
  }

  /**
   * Candidate issuers of `cert` from its AIA caIssuers (DER certificates or certs-only PKCS#7; http, or ldap with
   * the reader), cached for an hour. Each fetch spends a candidate of `budget`; none when it is spent. Offline: none.
   */
  async caIssuers(cert: CertInfo, budget: PathBudget): Promise<CertInfo[]> {
    const out: CertInfo[] = [];
    if (!this.#fetcher) return out;
    for (const url of aiaUrls(cert, AD_CA_ISSUERS).filter((u) => this.#readable(u)).slice(0, MAX_URLS)) {
      let ders = this.#caches.caIssuers.get(url, Date.now());
      if (!ders) {
        if (!budget.spendCandidate()) break;
        const body = await this.#read(url, CA_ATTRIBUTES);
        if (isFailure(body)) continue;
        ders = body.flatMap(readCertificates).slice(0, 8);
        if (ders.length > 0) this.#caches.caIssuers.set(url, ders, Date.now() + CA_TTL);
      }
      for (const d of ders) {
        try {
          out.push(certInfo(d));
        } catch {
          // not a certificate we can read
        }
      }
    }
    return out;
  }
}

/** The certificates of a caIssuers answer: one DER certificate, or a certs-only PKCS#7 (RFC 5280 §4.2.2.1). */
function readCertificates(body: Uint8Array): Uint8Array[] {
  try {
    certInfo(body);
    return [body];
  } catch {
    try {
      return certificatesFromCertsOnly(body).slice(0, 8);
    } catch {
      return [];
    }
  }
}
