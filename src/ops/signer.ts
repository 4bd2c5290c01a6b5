/**
 * One signer of a SignedData, judged: its certificate (from the message or the store), the signature and digest,
 * the algorithm policy, the certificate's validity, the path to a trust anchor with revocation, the key usages and
 * the address check, each finding a status and a reason (see SignerStatus for the precedence).
 */
import { chainProblems } from '../path/chain.js';
import { storeInternals } from '../store/internal.js';
import { revokedReason } from '../path/path_validation.js';
import { checkRevocation } from '../path/revocation.js';
import type { X509Certificate } from '../certs/x509.js';
import { ekuAllowsEmail, isValidAt, type CertInfo } from '../certs/cert_info.js';
import { allowsSigning } from '../store/signing.js';
import { namesMatch } from '../certs/names.js';
import { parseCrl } from '../certs/crl.js';
import { SmimeError } from '../errors.js';
import { matchesRecipient } from '../cms/recipient_id.js';
import { refMatches, type CertRef } from '../cms/attributes.js';
import { hashNameOfOid, verifySignerInfo, type ContentDigests, type ParsedSignedData, type ParsedSignerInfo, type SignerInfoCheck } from '../cms/signed.js';
import { checkAddresses } from './address_check.js';
import { STATUS_PRECEDENCE, type SignerResult, type SignerStatus } from './signer_result.js';
import type { VerifyContext } from './verify_context.js';

async function findSignerCert(sid: CertRef, sd: ParsedSignedData, ctx: VerifyContext): Promise<CertInfo | undefined> {
  const internals = storeInternals(ctx.store);
  const pools = [sd.certificates, internals.allCertificates(), internals.trustAnchors()];
  for (const pool of pools) {
    for (const c of pool) if (refMatches(sid, c)) return c;
  }
  if ('ski' in sid) {
    // No SKI extension: the key identifier may be the SHA-1 of the public key (RFC 5280 §4.2.1.2).
    for (const pool of pools) for (const c of pool) if (await matchesRecipient(sid, c, ctx.crypto)) return c;
  }
  return undefined;
}

function pickStatus(found: Set<Exclude<SignerStatus, 'valid'>>): SignerStatus {
  for (const s of STATUS_PRECEDENCE) if (found.has(s)) return s;
  return 'valid';
}

/** A judged signer: the result reported, and what harvesting needs. */
export interface SignerOutcome {
  result: SignerResult;
  info?: CertInfo;
  si: ParsedSignerInfo;
  check?: SignerInfoCheck;
  /** The path to the trust anchor, leaf first, when there is one. */
  path?: CertInfo[];
}

/** Judges one SignerInfo of `sd` over `content` (or its digests, for a stream). */
export async function evaluateSigner(sd: ParsedSignedData, si: ParsedSignerInfo, content: Uint8Array | ContentDigests, ctx: VerifyContext): Promise<SignerOutcome> {
  const found = new Set<Exclude<SignerStatus, 'valid'>>();
  const reasons: string[] = [];
  const add = (status: Exclude<SignerStatus, 'valid'>, reason: string) => {
    found.add(status);
    if (!reasons.includes(reason)) reasons.push(reason);
  };
  const info = await findSignerCert(si.sid, sd, ctx);
  const base = { signatureAlgorithm: si.signatureAlgorithm.oid, digestAlgorithm: hashNameOfOid(si.digestAlgorithm.oid) };
  if (!info) {
    // Without the certificate nothing can be checked: nobody can be shown to have signed.
    add('untrusted', 'signer-certificate-not-found');
    return { result: { ...base, emails: [], status: pickStatus(found), reasons }, si };
  }
  let check: SignerInfoCheck;
  try {
    check = await verifySignerInfo(sd, si, content, info, { policy: ctx.policy, crypto: ctx.crypto });
  } catch (e) {
    // A malformed attribute inside one SignerInfo makes that signer invalid, not the whole message unreadable.
    if (!(e instanceof SmimeError)) throw e;
    check = { ok: false, reasons: [`malformed-signer-info: ${e.message}`], weak: false, smime: {} };
  }
  for (const r of check.reasons) add('invalid', r);
  if (check.weak && !ctx.policy.allowWeak) add('invalid', 'weak-algorithm');
  if (check.smallKey !== undefined) add('invalid', 'weak-key');

  // The time validity and revocation are judged at: now, unless the caller trusts the signer's claimed signingTime.
  const at = ctx.atSigningTime ? (check.signingTime ?? ctx.at) : ctx.at;
  if (!isValidAt(info, at)) {
    let reason = at.getTime() < info.notBefore.getTime() ? 'certificate-not-yet-valid' : 'certificate-expired';
    // Say when it was valid: the signing time is the signer's claim, so it only informs.
    if (check.signingTime && isValidAt(info, check.signingTime) && !ctx.atSigningTime)
      reason += `; valid at claimed signing time ${check.signingTime.toISOString()}`;
    add('expired', reason);
  }

  // Path building and RFC 5280 §6.1 validation, revocation (RFC 5280 §6.3) included, with the message's CRLs,
  // the call's and the store's. The signer's own validity was judged above, with more detail.
  const crls = [...sd.crls.flatMap((d) => {
    try {
      return [parseCrl(d)];
    } catch {
      return []; // a malformed CRL in a message is no CRL; it never makes the message unreadable
    }
  }), ...ctx.crls];
  const chain = await storeInternals(ctx.store).chain(info, at, {
    extra: sd.certificates,
    allowWeak: ctx.policy.allowWeak,
    budget: ctx.pathBudget,
    crypto: ctx.crypto,
    crls,
    certificatePolicies: ctx.certificatePolicies,
    atSigningTime: ctx.atSigningTime,
    crlTime: ctx.atSigningTime ? ctx.at : undefined,
    leafValidity: false,
    // Stapled OCSP responses are evidence at hand, as the message's CRLs: read whatever the network policy.
    online: ctx.online ? ctx.online.withStapled(sd.ocspResponses) : sd.ocspResponses.length > 0 ? ctx.offline?.withStapled(sd.ocspResponses) : undefined,
  });
  if (!chain.chain) for (const f of chainProblems(chain)) add(f.problem, f.reason);
  // Soft-fail online revocation: a status nobody could establish is said, and changes nothing.
  for (const note of chain.notes ?? []) if (!reasons.includes(note)) reasons.push(note);
  // An explicit trust decision is a finding, not a problem: the status stays what the other checks say.
  if (chain.trustedExplicitly) reasons.push('trusted-explicitly');
  if ((!chain.chain || chain.trustedExplicitly) && !chain.findings && crls.length > 0) {
    // No path at all: still say when a CRL from a known issuer revokes the signer's certificate.
    const pool = [...sd.certificates, ...storeInternals(ctx.store).allCertificates(), ...storeInternals(ctx.store).trustAnchors()];
    for (const issuer of pool.filter((c) => namesMatch(c.subject, info.issuer))) {
      const r = await checkRevocation({
        cert: info,
        issuer,
        crls,
        pool,
        at,
        atSigningTime: ctx.atSigningTime,
        crlTime: ctx.atSigningTime ? ctx.at : undefined,
        allowWeak: ctx.policy.allowWeak,
        crypto: ctx.crypto,
        budget: ctx.pathBudget,
        validateCrlSigner: async () => false, // no path: only the issuer's own CRLs speak
      });
      if (r.status === 'revoked') {
        add('revoked', revokedReason(r));
        break;
      }
    }
  }
  if (!allowsSigning(info)) add('wrong-usage', 'wrong-usage: keyUsage');
  if (!ekuAllowsEmail(info)) add('wrong-usage', 'wrong-usage: extendedKeyUsage');

  const addr = checkAddresses(info.emails, ctx);
  const email = addr.email ?? info.emails[0];
  if (addr.problem !== undefined) add('address-mismatch', `address-mismatch: ${addr.problem}`);
  let certificate: X509Certificate | undefined;
  try {
    certificate = storeInternals(ctx.store).x509(info);
  } catch {
    certificate = undefined; // parsed by smime-core, refused by @peculiar/x509: the result still says why
  }
  const result: SignerResult = {
    ...base,
    email,
    emails: [...info.emails],
    certificate,
    status: pickStatus(found),
    reasons,
  };
  if (check.signingTime) result.signingTime = check.signingTime;
  if (chain.chain) result.policies = chain.policies ?? [];
  return { result, info, si, check, path: chain.chain };
}
