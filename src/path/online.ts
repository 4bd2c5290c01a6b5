/**
 * Online revocation and chain completion for one verification (or encryption) call, through the caller's `fetch`
 * (path/fetcher.ts):
 *
 * - a certificate's status: stapled OCSP responses first (a SignedData's RevocationInfoChoices `other` with
 *   id-ri-ocsp-response), then its OCSP responders (AIA id-ad-ocsp, http URLs; path/ocsp.ts), then its CRL
 *   distribution points (http URLs; the CRLs validated by path/revocation.ts as any other CRL: scope, issuer,
 *   cRLSign, delta CRLs), the first definitive answer winning. LDAP distribution points are not fetched (the
 *   `ldap:` URL is skipped and the reason says so);
 * - a missing intermediate: the AIA id-ad-caIssuers of a certificate whose issuer is nowhere at hand (http URLs;
 *   a DER certificate or a certs-only PKCS#7), each fetch spending a candidate of the call's path budget. What is
 *   fetched is only a candidate: path building checks it like any other certificate.
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
import { Fetcher, isFailure, OnlineCaches, type FetchLike, type OnlineLimits } from './fetcher.js';

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

/** base64 of bytes (for OCSP GET, RFC 6960 Appendix A.1). */
function base64(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

/** The online side of one call: its policy, fetcher, the store's caches, and the stapled responses in view. */
export class OnlineRevocation {
  readonly policy: 'soft-fail' | 'hard-fail';
  readonly #fetcher: Fetcher;
  readonly #caches: OnlineCaches;
  readonly #stapled: readonly Uint8Array[];
  readonly #nonce: boolean;

  constructor(
    policy: 'soft-fail' | 'hard-fail',
    fetch: FetchLike | Fetcher,
    limits: OnlineLimits,
    caches: OnlineCaches,
    options: { stapled?: readonly Uint8Array[]; nonce?: boolean } = {},
  ) {
    this.policy = policy;
    this.#fetcher = fetch instanceof Fetcher ? fetch : new Fetcher(fetch, limits);
    this.#caches = caches;
    this.#stapled = options.stapled ?? [];
    this.#nonce = options.nonce ?? true;
  }

  get limits(): OnlineLimits {
    return this.#fetcher.limits;
  }

  /** The same call with the OCSP responses a SignedData staples (its RevocationInfoChoices). */
  withStapled(stapled: readonly Uint8Array[]): OnlineRevocation {
    if (stapled.length === 0) return this;
    return new OnlineRevocation(this.policy, this.#fetcher, this.limits, this.#caches, { stapled: [...this.#stapled, ...stapled], nonce: this.#nonce });
  }

  /**
   * The status of `input.cert` (issued by `input.issuer`): stapled OCSP, the OCSP responders, the CRL distribution
   * points, in that order. Undefined when the certificate names nowhere to ask and nothing is stapled.
   */
  async status(input: OnlineStatusInput): Promise<OnlineStatus | undefined> {
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

    // 1. Stapled responses.
    for (const der of this.#stapled) {
      const a = await checkOcspResponse(der, ocspInput());
      const s = judge(a);
      if (s) return s;
      if (a.status === 'unknown' && a.problem !== 'no-matching-response') {
        asked = true;
        problems.push(`stapled-ocsp-${a.problem}`);
      }
    }

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
      if (this.#nonce) nonce = getCrypto(input.crypto).getRandomValues(new Uint8Array(16));
      let req: Uint8Array;
      try {
        req = await ocspRequest(input.cert, input.issuer, nonce);
      } catch {
        problems.push('ocsp-request-failed');
        continue;
      }
      // GET when small (RFC 6960 A.1, cacheable by HTTP caches): only without a nonce, which would defeat them.
      const encoded = encodeURIComponent(base64(req));
      const body =
        !nonce && encoded.length <= 255
          ? await this.#fetcher.fetch(`${url.replace(/\/$/, '')}/${encoded}`)
          : await this.#fetcher.fetch(url, { bytes: req, contentType: 'application/ocsp-request' });
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
    if (!asked) return undefined;
    return { status: 'unknown', reason: problems.length > 0 ? [...new Set(problems)].join(', ') : 'no-answer' };
  }

  /** The CRLs of `cert`'s http distribution points (cached until their nextUpdate); failures noted in `problems`. */
  async #crlsOf(cert: CertInfo, problems: string[]): Promise<ParsedCrl[]> {
    const out: ParsedCrl[] = [];
    const urls = crlDpUrls(cert);
    if (urls.some((u) => /^ldap:/i.test(u)) && !urls.some(isHttp)) problems.push('crl-ldap-not-fetched');
    for (const url of urls.filter(isHttp).slice(0, MAX_URLS)) {
      let der = this.#caches.crls.get(url, Date.now());
      if (!der) {
        const body = await this.#fetcher.fetch(url);
        if (isFailure(body)) {
          problems.push(`crl-${body}`);
          continue;
        }
        der = body;
      }
      try {
        const crl = parseCrl(der);
        const until = crl.nextUpdate ? Math.max(crl.nextUpdate.getTime(), Date.now()) : Date.now() + CRL_TTL_WITHOUT_NEXT_UPDATE;
        // Kept while it may still be current for a verification "now" (whatever the clock asked about).
        if (!crl.nextUpdate || crl.nextUpdate.getTime() > Date.now()) this.#caches.crls.set(url, der, until);
        out.push(crl);
      } catch {
        problems.push('crl-malformed');
      }
    }
    return out;
  }

  /**
   * Candidate issuers of `cert` from its AIA caIssuers (DER certificates or certs-only PKCS#7), cached for an hour.
   * Each fetch spends a candidate of `budget`; none when it is spent.
   */
  async caIssuers(cert: CertInfo, budget: PathBudget): Promise<CertInfo[]> {
    const out: CertInfo[] = [];
    for (const url of aiaUrls(cert, AD_CA_ISSUERS).filter(isHttp).slice(0, MAX_URLS)) {
      let ders = this.#caches.caIssuers.get(url, Date.now());
      if (!ders) {
        if (!budget.spendCandidate()) break;
        const body = await this.#fetcher.fetch(url);
        if (isFailure(body)) continue;
        ders = readCertificates(body);
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
