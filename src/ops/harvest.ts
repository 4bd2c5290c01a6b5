/**
 * Harvesting: after a valid signature the store learns the message's certificates that concern the signer and the
 * sender's preferences (the encryption certificate named by either encryption key preference attribute, and the
 * SMIMECapabilities), keyed by signingTime so the newest message wins.
 */
import type { CertInfo } from '../certs/cert_info.js';
import { storeInternals } from '../store/internal.js';
import { OIDS } from '../cms/oids.js';
import { CIPHERS } from '../cms/content_cipher.js';
import { refMatches } from '../cms/attributes.js';
import type { ParsedSignedData } from '../cms/signed.js';
import type { SignerOutcome } from './signer.js';
import type { VerifyContext } from './verify_context.js';

const CONTENT_CIPHER_OIDS = new Set<string>([
  ...Object.values(CIPHERS).map((c) => c.oid),
  OIDS.desEde3CBC,
  OIDS.rc2CBC,
  OIDS.desCBC,
]);

/** After a valid signature: learn the message's certificates and the sender's preferences. */
export function harvest(sd: ParsedSignedData, o: SignerOutcome, ctx: VerifyContext): void {
  const store = storeInternals(ctx.store);
  // Only what concerns the signer: the certificates of its path, and its own other certificates (those naming one
  // of its addresses: its encryption certificate). Whatever else a message carries stays out of the store, so a
  // correspondent can't fill it with certificates that every later path building would have to look at.
  const signerEmails = o.info?.emails ?? [];
  const onPath = new Set(o.path ?? (o.info ? [o.info] : []));
  for (const c of sd.certificates) {
    if (onPath.has(c) || (!c.isCA && c.emails.some((e) => signerEmails.includes(e)))) store.learnCertificate(c);
  }
  const email = o.result.email;
  if (!email || !o.check) return;
  const smime = o.check.smime;
  const pool = [...sd.certificates, ...store.allCertificates()];
  let preferred: CertInfo | undefined;
  for (const ref of [smime.encKeyPref, smime.msEncKeyPref]) {
    if (!ref || preferred) continue;
    // Only a certificate of the same person: a signer can't redirect mail meant for others.
    preferred = pool.find((c) => refMatches(ref, c) && !c.isCA && c.emails.includes(email));
  }
  const capabilities = smime.capabilities?.filter((oid) => CONTENT_CIPHER_OIDS.has(oid));
  store.setPreference(email, {
    ...(preferred ? { certificate: store.learnCertificate(preferred) } : {}),
    ...(capabilities && capabilities.length > 0 ? { capabilities } : {}),
    signingTime: o.check.signingTime ?? ctx.at,
  });
}
