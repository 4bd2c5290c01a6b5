/**
 * `smime inspect`: what `inspectFile` (the public API) found, as text for people or as JSON for scripts, and the
 * certificate summaries the reports share.
 */
import type { Inspection, InspectedCertRef, X509Certificate } from '../index.node.js';

/** A certificate as the reports and `inspect --json` show it. */
export function certSummary(c: X509Certificate) {
  return {
    subject: c.subject,
    issuer: c.issuer,
    serialNumber: c.serialNumber,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
  };
}

function ref(r: InspectedCertRef) {
  return r.subjectKeyIdentifier !== undefined
    ? { subjectKeyIdentifier: r.subjectKeyIdentifier }
    : { issuer: r.issuer ?? null, serialNumber: r.serialNumber ?? null };
}

/** The JSON form of an inspection (certificates summarised, dates as ISO strings). */
export function inspectionJson(file: string, what: Inspection): unknown {
  switch (what.kind) {
    case 'certificates':
      return { file, kind: 'certificates', certificates: what.certificates.map((c) => ({ ...certSummary(c.certificate), emails: c.emails })) };
    case 'pkcs12':
      return {
        file,
        kind: 'pkcs12',
        safes: what.safes,
        encryptedSafes: what.encryptedSafes,
        bags: what.bags.length,
        bagTypes: what.bags,
        mac: what.mac,
      };
    case 'smime':
      return {
        file,
        kind: 'smime',
        layers: what.layers.map((l) =>
          l.type === 'signed'
            ? {
                type: l.type,
                detached: l.detached,
                certificates: l.certificates,
                signers: l.signers.map((s) => ({
                  ...ref(s),
                  digest: s.digest,
                  emails: s.emails,
                  subject: s.certificate?.subject ?? null,
                  signingTime: s.signingTime?.toISOString() ?? null,
                })),
              }
            : { type: l.type, cipher: l.cipher, recipients: l.recipients.map((r) => ({ type: r.type, algorithm: r.algorithm ?? null, ...ref(r) })) },
        ),
      };
  }
}

function refText(r: InspectedCertRef): string {
  return r.subjectKeyIdentifier !== undefined ? `key identifier ${r.subjectKeyIdentifier}` : `issuer ${r.issuer}, serial ${r.serialNumber}`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The text form of an inspection. */
export function inspectionText(file: string, what: Inspection): string {
  const out: string[] = [];
  switch (what.kind) {
    case 'certificates':
      out.push(`${file}: ${what.certificates.length === 1 ? 'a certificate' : plural(what.certificates.length, 'certificate')}`);
      what.certificates.forEach((c, i) => {
        const s = certSummary(c.certificate);
        if (what.certificates.length > 1) out.push(`  certificate ${i + 1}:`);
        out.push(`  subject:  ${s.subject}`, `  issuer:   ${s.issuer}`, `  serial:   ${s.serialNumber}`, `  valid:    ${s.notBefore} to ${s.notAfter}`);
        if (c.emails.length) out.push(`  emails:   ${c.emails.join(', ')}`);
      });
      break;
    case 'pkcs12': {
      out.push(`${file}: a PKCS#12 file (read without its password)`);
      out.push(`  bags:     ${what.bags.length} readable without the password${what.bags.length ? ` (${what.bags.join(', ')})` : ''}`);
      out.push(`  safes:    ${what.safes}, ${what.encryptedSafes} encrypted (their bags need the password)`);
      out.push(`  MAC:      ${what.mac ? 'yes (password integrity)' : 'none'}`);
      break;
    }
    case 'smime':
      out.push(`${file}: an S/MIME message, ${plural(what.layers.length, 'layer')} (outermost first)`);
      what.layers.forEach((l, i) => {
        if (l.type === 'signed') {
          out.push(`  ${i + 1}. signed (${l.detached ? 'multipart/signed' : 'opaque signed-data'}), ${plural(l.signers.length, 'signer')}, ${plural(l.certificates, 'certificate')}`);
          for (const s of l.signers) {
            const who = s.emails[0] ?? s.certificate?.subject ?? '(certificate not in the message)';
            out.push(`     signer ${who}: ${refText(s)}, ${s.digest}${s.signingTime ? `, signingTime ${s.signingTime.toISOString()}` : ''}`);
          }
        } else {
          out.push(`  ${i + 1}. ${l.type}, ${l.cipher}, ${plural(l.recipients.length, 'recipient')} (the content is encrypted: inner layers are not shown)`);
          for (const r of l.recipients) out.push(`     recipient (${r.type}${r.algorithm ? `, ${r.algorithm}` : ''}): ${r.type === 'keyTransport' || r.type === 'keyAgreement' ? refText(r) : 'not named by certificate'}`);
        }
      });
      break;
  }
  return out.join('\n') + '\n';
}
