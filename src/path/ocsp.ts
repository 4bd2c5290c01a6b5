/**
 * OCSP (RFC 6960) for one certificate: the request (pkijs `OCSPRequest`, with a nonce, RFC 8954) and the checks
 * of an answer (pkijs `OCSPResponse` and `BasicOCSPResponse` for the structure; the signature by our own
 * crypto/signatures.ts, as every other signature of the library):
 *
 * - the response status is successful and the type is id-pkix-ocsp-basic;
 * - the signer is the certificate's issuer itself, or a delegated responder whose certificate is in the response,
 *   issued (signed) by that issuer, with id-kp-OCSPSigning, valid now, named by the ResponderID (byName or byKey);
 *   without id-pkix-ocsp-nocheck its own revocation is asked of the caller (CRLs only: never OCSP again);
 * - the signature verifies under the algorithm policy (MD5/SHA-1 refused unless weak algorithms are allowed);
 * - a SingleResponse whose CertID (issuer name hash, issuer key hash, serial; SHA-1 or SHA-256) is the
 *   certificate's;
 * - thisUpdate no later than now plus the skew tolerance, nextUpdate (or thisUpdate plus the maximum age when it
 *   has none) no earlier than now minus it;
 * - the nonce, when we sent one and the responder echoes one, is ours.
 *
 * pkijs is loaded on first use (a dynamic import), so a verification that never asks a responder never loads it.
 */
import { children, readAlgorithm, readTlv, octets } from '../lib/der.js';
import { equal, toArrayBuffer } from '../lib/bytes.js';
import { getCrypto } from '../crypto/provider.js';
import { isWeakHash } from '../crypto/policy.js';
import { verifySignature } from '../crypto/signatures.js';
import { certInfo, isValidAt, KU, type CertInfo } from '../certs/cert_info.js';
import { namesMatch } from '../certs/names.js';
import { parseTime } from '../lib/time.js';

/** id-kp-OCSPSigning (RFC 6960 §4.2.2.2). */
export const OCSP_SIGNING_EKU = '1.3.6.1.5.5.7.3.9';
/** id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1). */
export const OCSP_NOCHECK = '1.3.6.1.5.5.7.48.1.5';
/** id-pkix-ocsp-nonce (RFC 6960 §4.4.1). */
const OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';
/** id-pkix-ocsp-basic. */
const OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';

const HASHES: Record<string, string> = { '1.3.14.3.2.26': 'SHA-1', '2.16.840.1.101.3.4.2.1': 'SHA-256', '2.16.840.1.101.3.4.2.2': 'SHA-384', '2.16.840.1.101.3.4.2.3': 'SHA-512' };

/** Why an OCSP answer says nothing usable (`revocation-unknown: ocsp-<reason>`). */
export type OcspProblem =
  | 'malformed'
  | `status-${number}`
  | 'signature-invalid'
  | 'signer-untrusted'
  | 'responder-revoked'
  | 'weak-algorithm'
  | 'no-matching-response'
  | 'not-yet-valid'
  | 'stale'
  | 'nonce-mismatch'
  | 'unknown';

/** What a verified OCSP answer says about the certificate, with how long it may be cached (ms since the epoch). */
export type OcspAnswer =
  | { status: 'good'; expires: number }
  | { status: 'revoked'; date: Date; reason?: number; expires: number }
  | { status: 'unknown'; problem: OcspProblem; expires?: number };

/** What checking an answer needs besides the bytes. */
export interface OcspCheckInput {
  cert: CertInfo;
  issuer: CertInfo;
  /** The time to judge freshness and the responder's certificate at (now). */
  now: Date;
  /** The nonce sent, when the answer is to our request. */
  nonce?: Uint8Array;
  clockSkewSeconds: number;
  maxResponseAgeSeconds: number;
  allowWeak: boolean;
  crypto?: Crypto;
  /**
   * The revocation status of a delegated responder's certificate that lacks id-pkix-ocsp-nocheck, by CRLs (the
   * caller's; never OCSP again): true when it is revoked.
   */
  responderRevoked(responder: CertInfo): Promise<boolean>;
}

type Pkijs = typeof import('pkijs');
let pkijsModule: Promise<Pkijs> | undefined;
/** pkijs, loaded once on first use. */
const pkijs = (): Promise<Pkijs> => (pkijsModule ??= import('pkijs'));

/** The CertID fields of `cert` under `hash` (RFC 6960 §4.1.1): SHA of the issuer's name and of its key's bits. */
async function certIdFor(issuer: CertInfo, hash: string, crypto?: Crypto): Promise<{ nameHash: Uint8Array; keyHash: Uint8Array }> {
  const subtle = getCrypto(crypto).subtle;
  const nameHash = new Uint8Array(await subtle.digest(hash, new Uint8Array(issuer.subject)));
  const keyHash = new Uint8Array(await subtle.digest(hash, new Uint8Array(issuer.publicKey)));
  return { nameHash, keyHash };
}

/**
 * The DER of an OCSPRequest for `cert`, with a nonce when given. The CertID hash is SHA-1 by default: the RFC 5019
 * profile, which high-volume responders (and their caches, indexed by it) follow; SHA-256 when asked (RFC 6960
 * allows any hash, and `openssl ocsp` answers with the CertID as asked).
 */
export async function ocspRequest(cert: CertInfo, issuer: CertInfo, nonce: Uint8Array | undefined, hash: 'SHA-1' | 'SHA-256' = 'SHA-1'): Promise<Uint8Array> {
  const p = await pkijs();
  const req = new p.OCSPRequest();
  await req.createForCertificate(p.Certificate.fromBER(toArrayBuffer(cert.der)), {
    hashAlgorithm: hash,
    issuerCertificate: p.Certificate.fromBER(toArrayBuffer(issuer.der)),
  });
  if (nonce) req.tbsRequest.requestExtensions = [new p.Extension({ extnID: OCSP_NONCE, extnValue: toArrayBuffer(octets(nonce)) })];
  return new Uint8Array(req.toSchema(true).toBER());
}

/** The certificates of a BasicOCSPResponse (`certs [0] EXPLICIT SEQUENCE OF Certificate`), byte for byte. */
function responseCerts(basicDer: Uint8Array): CertInfo[] {
  const f = children(basicDer, readTlv(basicDer, 0));
  const tagged = f[3];
  if (!tagged || tagged.cls !== 2 || tagged.tagNo !== 0) return [];
  const out: CertInfo[] = [];
  for (const c of children(basicDer, children(basicDer, tagged)[0]).slice(0, 8)) {
    try {
      out.push(certInfo(basicDer.slice(c.start, c.end)));
    } catch {
      // a certificate we cannot read signs nothing for us
    }
  }
  return out;
}

/** The ResponderID of a ResponseData: a Name (byName [1]) or a key hash (byKey [2]). */
function responderId(tbs: Uint8Array): { name?: Uint8Array; keyHash?: Uint8Array } {
  const f = children(tbs, readTlv(tbs, 0));
  let i = 0;
  if (f[0]?.cls === 2 && f[0].tagNo === 0) i++; // version
  const r = f[i];
  if (!r || r.cls !== 2) return {};
  const inner = children(tbs, r)[0];
  if (!inner) return {};
  if (r.tagNo === 1) return { name: tbs.slice(inner.start, inner.end) };
  if (r.tagNo === 2) return { keyHash: tbs.slice(inner.contentStart, inner.contentEnd) };
  return {};
}

/** Whether `c` is the responder the ResponderID names. */
async function namedBy(id: { name?: Uint8Array; keyHash?: Uint8Array }, c: CertInfo, crypto?: Crypto): Promise<boolean> {
  if (id.name) return namesMatch(id.name, c.subject);
  if (id.keyHash) return equal(id.keyHash, new Uint8Array(await getCrypto(crypto).subtle.digest('SHA-1', new Uint8Array(c.publicKey))));
  return false;
}

/** The bytes of an asn1js value (`valueBlock.valueHexView`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const hexView = (v: any): Uint8Array => new Uint8Array(v?.valueBlock?.valueHexView ?? new Uint8Array(0));

/** Checks an OCSPResponse (DER) about `input.cert` as RFC 6960 says (see the file's comment). Never throws. */
export async function checkOcspResponse(der: Uint8Array, input: OcspCheckInput): Promise<OcspAnswer> {
  try {
    return await check(der, input);
  } catch {
    return { status: 'unknown', problem: 'malformed' };
  }
}

async function check(der: Uint8Array, input: OcspCheckInput): Promise<OcspAnswer> {
  const p = await pkijs();
  const resp = p.OCSPResponse.fromBER(toArrayBuffer(der));
  const rs = resp.responseStatus.valueBlock.valueDec;
  if (rs !== 0) return { status: 'unknown', problem: `status-${rs}` };
  if (!resp.responseBytes || resp.responseBytes.responseType !== OCSP_BASIC) return { status: 'unknown', problem: 'malformed' };
  const basicDer = hexView(resp.responseBytes.response).slice();
  const basic = p.BasicOCSPResponse.fromBER(toArrayBuffer(basicDer));
  const tbs = new Uint8Array(basic.tbsResponseData.tbsView);
  const algDer = new Uint8Array(basic.signatureAlgorithm.toSchema().toBER());
  const alg = readAlgorithm(algDer, readTlv(algDer, 0), 'OCSP signatureAlgorithm');
  const signature = hexView(basic.signature);
  const { cert, issuer, now } = input;
  const skew = input.clockSkewSeconds * 1000;

  // The SingleResponse about this certificate, first: an answer about another certificate (a stapled response
  // about the signer, read while its CA's status is asked) says nothing about this one, whoever signed it.
  const ids = new Map<string, { nameHash: Uint8Array; keyHash: Uint8Array }>();
  let single: (typeof basic.tbsResponseData.responses)[number] | undefined;
  for (const candidate of basic.tbsResponseData.responses) {
    const hash = HASHES[candidate.certID.hashAlgorithm.algorithmId];
    if (!hash) continue;
    if (!equal(hexView(candidate.certID.serialNumber), cert.serial)) continue;
    let mine = ids.get(hash);
    if (!mine) ids.set(hash, (mine = await certIdFor(issuer, hash, input.crypto)));
    if (!equal(hexView(candidate.certID.issuerNameHash), mine.nameHash) || !equal(hexView(candidate.certID.issuerKeyHash), mine.keyHash)) continue;
    single = candidate;
    break;
  }
  if (!single) return { status: 'unknown', problem: 'no-matching-response' };

  // The signer: the issuer itself, or a delegated responder the issuer certified for OCSP signing.
  const id = responderId(tbs);
  let signedOk = false;
  let problem: OcspProblem = 'signature-invalid';
  const verify = async (signer: CertInfo): Promise<boolean> => {
    const r = await verifySignature(alg, undefined, signer, tbs, signature, input.crypto);
    if (!r.ok) return false;
    if (!input.allowWeak && isWeakHash(r.hash)) {
      problem = 'weak-algorithm';
      return false;
    }
    return true;
  };
  if (await namedBy(id, issuer, input.crypto)) signedOk = await verify(issuer);
  if (!signedOk) {
    for (const c of responseCerts(basicDer)) {
      if (!(await namedBy(id, c, input.crypto))) continue;
      if (!(await verify(c))) continue;
      // RFC 6960 §4.2.2.2: issued by the CA that issued the certificate asked about, with id-kp-OCSPSigning.
      const issued =
        namesMatch(c.issuer, issuer.subject) &&
        (await verifySignature(readAlgorithm(c.signatureAlgorithm, readTlv(c.signatureAlgorithm, 0), 'signatureAlgorithm'), undefined, issuer, c.tbs, c.signature, input.crypto)).ok;
      const usable =
        issued &&
        (c.eku ?? []).includes(OCSP_SIGNING_EKU) &&
        isValidAt(c, now) &&
        (c.keyUsage === undefined || c.keyUsage[KU.digitalSignature] === true || c.keyUsage[KU.nonRepudiation] === true);
      if (!usable) {
        problem = 'signer-untrusted';
        continue;
      }
      if (!c.extensions.some((e) => e.oid === OCSP_NOCHECK) && (await input.responderRevoked(c))) {
        problem = 'responder-revoked';
        continue;
      }
      signedOk = true;
      break;
    }
  }
  if (!signedOk) return { status: 'unknown', problem };

  // The nonce, when both sides have one.
  if (input.nonce) {
    const ext = basic.tbsResponseData.responseExtensions?.find((e) => e.extnID === OCSP_NONCE);
    if (ext) {
      const v = hexView(ext.extnValue);
      const inner = readTlv(v, 0);
      const got = inner.cls === 0 && inner.tagNo === 4 && inner.end === v.length ? v.subarray(inner.contentStart, inner.contentEnd) : v;
      if (!equal(got, input.nonce)) return { status: 'unknown', problem: 'nonce-mismatch' };
    }
  }

  // The answer: fresh, then its status.
  if (single.thisUpdate.getTime() > now.getTime() + skew) return { status: 'unknown', problem: 'not-yet-valid' };
  const until = single.nextUpdate ? single.nextUpdate.getTime() : single.thisUpdate.getTime() + input.maxResponseAgeSeconds * 1000;
  if (until < now.getTime() - skew) return { status: 'unknown', problem: 'stale' };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const st: any = single.certStatus;
  const tag: number = st?.idBlock?.tagNumber;
  if (tag === 0) return { status: 'good', expires: until };
  if (tag === 1) {
    const stDer = new Uint8Array(st.toBER());
    const [timeT, reasonT] = children(stDer, readTlv(stDer, 0));
    const date = parseTime(stDer, timeT!);
    let reason: number | undefined;
    if (reasonT && reasonT.cls === 2 && reasonT.tagNo === 0) {
      const e = children(stDer, reasonT)[0];
      if (e && e.contentEnd - e.contentStart === 1) reason = stDer[e.contentStart];
    }
    return { status: 'revoked', date, ...(reason !== undefined ? { reason } : {}), expires: until };
  }
  return { status: 'unknown', problem: 'unknown', expires: until };
}
