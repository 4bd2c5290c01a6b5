/**
 * The signer's addresses against the From header (RFC 8550 §3; mime/address.ts finds the From binding).
 */
import { certAddressKey } from '../mime/address.js';
import type { VerifyContext } from './verify_context.js';

/**
 * The address check (RFC 8550 §3): the certificate must hold EVERY mailbox of the From header; when From holds
 * several mailboxes (or none, an empty group), the Sender mailbox may stand for them instead. Returns the matched
 * address (as the certificate writes it) or the reason of the mismatch.
 */
export function checkAddresses(emails: readonly string[], ctx: VerifyContext): { email?: string; problem?: string } {
  const b = ctx.from;
  if (!b) return ctx.messageHeader ? { problem: 'no From' } : {};
  if (b.kind === 'problem') return { problem: b.reason };
  const keys = emails.map(certAddressKey);
  const held = (key: string) => {
    const i = keys.indexOf(key);
    return i < 0 ? undefined : emails[i];
  };
  const missing = b.from.filter((m) => held(m.key) === undefined);
  if (missing.length === 0 && b.from.length > 0) return { email: held(b.from[0]!.key) };
  if (b.sender && b.from.length !== 1) {
    const s = held(b.sender.key);
    if (s !== undefined) return { email: s };
  }
  const lacking = (missing.length > 0 ? missing : [b.sender!]).map((m) => m.address.replace(/[A-Z]+/g, (x) => x.toLowerCase()));
  // The reason names the addresses the certificate lacks; a From of thousands of mailboxes names the first ten.
  const more = lacking.length > 10 ? `, and ${lacking.length - 10} more` : '';
  return { problem: lacking.slice(0, 10).join(', ') + more };
}
