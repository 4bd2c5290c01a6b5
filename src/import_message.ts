/**
 * importFromMessage(): installs the certificates and identities a received message carries, the way users mail
 * their own certificates to themselves (a `.p12`/`.pfx`, a `.cer`, a certs-only `.p7c`) and correspondents send
 * theirs (a signed message).
 *
 * The message is walked with postal-mime (mime/attachments.ts) to its attachments:
 * - PKCS#12 (`application/x-pkcs12`, `application/pkcs12`, `.p12`, `.pfx`) → `store.importPkcs12`, with the password
 *   of `options.password` (a string for every file, or a callback asked once per file name). A file without a
 *   password (the callback returns undefined) is tried with the empty password only, then skipped as
 *   'password-needed'; a wrong password is 'bad-password'. Nothing else is guessed.
 * - Certificates (`application/pkix-cert`, `application/x-x509-ca-cert`, …, `.cer`, `.crt`, `.der`, `.pem`) and
 *   certs-only PKCS#7 (`application/pkcs7-certificates`, `.p7c`, `.p7b`, or a `pkcs7-mime` object that is a
 *   SignedData without content and signers) → `store.addCertificate`.
 * - A forwarded message (message/rfc822, `.eml`) is walked; an S/MIME layer (multipart/signed, opaque signed-data,
 *   an encrypted wrapper) is opened with the store as `openMessage` does, and its content walked. A signature that
 *   verifies `valid` teaches the store what `verifyMessage` teaches it (the signer's certificates and preferences);
 *   one that does not is reported as `signature-<status>` and teaches nothing, but its content is still walked (an
 *   attachment gains no trust from a signature: see below).
 * - Any other attachment (a picture, a PDF) is ignored and not reported.
 *
 * **Nothing that arrives by mail becomes a trust anchor**: a CA certificate goes in as an intermediate, so a root
 * attached by an attacker is only ever a link of a path that must end at an anchor the administrator added.
 *
 * The structure is walked first, within the limits (`maxInputBytes`, `maxMimeDepth`, `maxParts`, `maxHeaderBytes`
 * and `maxAttachments`), before anything is imported: a message beyond a limit throws `MIMELimitExceeded` and
 * imports nothing (signatures verified while walking have taught the store as `verifyMessage` would). Then every
 * PKCS#12 password is asked (an exception from the callback is passed through, with nothing imported), and each
 * file is imported on its own: one that fails is in `skipped` with a reason, and the others still go in.
 */
import type { X509Certificate } from './certs/x509.js';
import type { CertInfo } from './certs/cert_info.js';
import type { Identity, CertificateStore } from './store/store.js';
import { storeInternals } from './store/internal.js';
import { CertificateNotFound, CMSDecryptionFailed, KeyOperationRefused, LimitExceeded, MIMELimitExceeded, Pkcs12BadPassword, SmimeError } from './errors.js';
import { checkOption } from './lib/args.js';
import { toBytes } from './lib/bytes.js';
import { withBerLimits } from './lib/der.js';
import { berLimits, inputLimits, mimeLimits, type Limits } from './lib/limits.js';
import { OIDS } from './cms/oids.js';
import { readContentInfo } from './cms/enveloped.js';
import { parseSignedData } from './cms/signed.js';
import { extractCms, smimeKindOf } from './mime/extract.js';
import { attachmentKind, readAttachments } from './mime/attachments.js';
import { openMessage } from './open.js';
import { STATUS_PRECEDENCE } from './ops/signer_result.js';

/** The options of `importFromMessage`. */
export interface ImportFromMessageOptions {
  /** The store to install into. */
  store: CertificateStore;
  /**
   * The password of the PKCS#12 files: one string for every file, or a callback asked once per file with the
   * file's name (as the sender named it: untrusted, show it as text), returning the password or undefined when the
   * user has none (the file is then tried with the empty password only, else skipped as 'password-needed').
   */
  password?: string | ((name: string) => Promise<string | undefined>);
  /** Work limits for this call, layered over the store's (see `Limits`, in particular `maxAttachments`). */
  limits?: Partial<Limits>;
  /** WebCrypto implementation for opening S/MIME layers; default: the store's, else globalThis.crypto. */
  crypto?: Crypto;
}

/** Something `importFromMessage` found but did not import, and why. */
export interface ImportSkipped {
  /** The attachment's file name as sent (untrusted), or a description ('message', 'attachment (application/x-pkcs12)'). */
  name: string;
  /**
   * Why: 'password-needed' (a PKCS#12 file without a password, and the empty one is not it), 'bad-password',
   * 'not-a-pkcs12', 'not-a-certificate' (a file named or typed as one that is not), 'cannot-decrypt' (an
   * encrypted layer none of the store's keys opens), 'not-a-message' (a PKCS#7 object or S/MIME layer that could
   * not be read), 'signature-<status>' (a signature that is not `valid`, e.g. 'signature-untrusted': its
   * certificates were not learned), or 'limit-exceeded: <limit>' (the file is beyond one of its own limits, e.g. a
   * PKCS#12 file's `maxPbkdf2Iterations`).
   */
  reason: string;
}

/** What `importFromMessage` installed. */
export interface ImportFromMessageResult {
  /** The identities imported from PKCS#12 files. */
  identities: Identity[];
  /** The certificates added: certificate files, certs-only objects, and what valid signatures taught the store. */
  certificates: X509Certificate[];
  /** What was found and not imported, with the reason. */
  skipped: ImportSkipped[];
}

/** One file found while walking, imported afterwards. */
interface Found {
  kind: 'pkcs12' | 'certificates';
  name: string;
  content: Uint8Array;
}

/** The state of one call. */
interface Walk {
  store: CertificateStore;
  options: ImportFromMessageOptions;
  limits: Limits;
  counted: number;
  found: Found[];
  result: ImportFromMessageResult;
}

/** Counts one thing to import or open against `maxAttachments`. */
function count(w: Walk): void {
  if (++w.counted > w.limits.maxAttachments)
    throw new MIMELimitExceeded(`importFromMessage: more than maxAttachments (${w.limits.maxAttachments}) files and nested messages`, {
      limit: 'maxAttachments',
    });
}

/** A DER ContentInfo that is a certs-only SignedData (no content, no signers: RFC 8551 §3.6). */
function isCertsOnly(der: Uint8Array, limits: Limits): boolean {
  try {
    if (readContentInfo(der).type !== OIDS.signedData) return false;
    const sd = withBerLimits(berLimits(limits), () => parseSignedData(der, limits));
    return sd.eContent === undefined && sd.signerInfos.length === 0;
  } catch (e) {
    if (e instanceof LimitExceeded) throw e;
    return false;
  }
}

/** The reason for an error of one file's import, or undefined when it is not a SmimeError (rethrown). */
function reasonOf(e: unknown, invalid: string): string | undefined {
  if (e instanceof LimitExceeded) return `limit-exceeded: ${e.limit ?? 'unknown'}`;
  if (e instanceof SmimeError) return invalid;
  return undefined;
}

/** Opens an S/MIME layer (or a certs-only object) found at `name`, and walks what it holds. */
async function unwrap(w: Walk, bytes: Uint8Array, name: string, depth: number): Promise<void> {
  count(w);
  let der: Uint8Array | undefined;
  try {
    der = smimeKindOf(bytes, w.limits).kind === 'multipart-signed' ? undefined : extractCms(bytes, mimeLimits(w.limits)).der;
  } catch (e) {
    if (e instanceof LimitExceeded) throw e;
    w.result.skipped.push({ name, reason: 'not-a-message' });
    return;
  }
  if (der && isCertsOnly(der, w.limits)) {
    w.found.push({ kind: 'certificates', name, content: der });
    return;
  }
  const internals = storeInternals(w.store);
  const before = new Set<CertInfo>(internals.allCertificates());
  let opened: Awaited<ReturnType<typeof openMessage>>;
  try {
    opened = await openMessage(bytes, {
      store: w.store,
      ...(w.options.crypto ? { crypto: w.options.crypto } : {}),
      ...(w.options.limits ? { limits: w.options.limits } : {}),
    });
  } catch (e) {
    if (e instanceof LimitExceeded) throw e;
    if (e instanceof CMSDecryptionFailed || e instanceof CertificateNotFound || e instanceof KeyOperationRefused) {
      w.result.skipped.push({ name, reason: 'cannot-decrypt' });
      return;
    }
    if (e instanceof SmimeError) {
      w.result.skipped.push({ name, reason: 'not-a-message' });
      return;
    }
    throw e;
  }
  for (const info of internals.allCertificates()) if (!before.has(info)) w.result.certificates.push(internals.x509(info));
  for (const layer of opened.layers) {
    if (layer.type !== 'signed' || layer.signers.some((s) => s.status === 'valid')) continue;
    // The worst status of the layer (STATUS_PRECEDENCE lists the worst first); a layer without signers is 'invalid'.
    const rank = (s: string): number => (STATUS_PRECEDENCE as readonly string[]).indexOf(s);
    const worst = layer.signers.map((s) => s.status).sort((a, b) => rank(a) - rank(b))[0];
    w.result.skipped.push({ name, reason: `signature-${worst ?? 'invalid'}` });
  }
  await walk(w, opened.content, name, depth + opened.layers.length);
}

/** Walks one message (or MIME entity) at nesting `depth`: S/MIME layers are opened, attachments sorted. */
async function walk(w: Walk, bytes: Uint8Array, name: string, depth: number): Promise<void> {
  if (depth > w.limits.maxMimeDepth)
    throw new MIMELimitExceeded(`importFromMessage: messages nested deeper than maxMimeDepth (${w.limits.maxMimeDepth})`, {
      limit: 'maxMimeDepth',
    });
  let kind: string;
  try {
    kind = smimeKindOf(bytes, w.limits).kind;
  } catch (e) {
    if (e instanceof LimitExceeded) throw e;
    kind = 'other';
  }
  // A bare CMS object (a .p7m file given as the message) is unwrapped like an S/MIME entity.
  if (kind === 'multipart-signed' || kind === 'pkcs7-mime' || kind === 'der') return unwrap(w, bytes, name, depth);
  for (const a of await readAttachments(bytes, w.limits)) {
    const what = attachmentKind(a);
    if (what === 'other') continue;
    const aname = a.filename ?? `attachment (${a.mimeType || 'no type'})`;
    if (what === 'message') {
      count(w);
      await walk(w, a.content, aname, depth + 1);
    } else if (what === 'pkcs7') {
      await unwrap(w, a.content, aname, depth + 1);
    } else {
      count(w);
      w.found.push({ kind: what === 'pkcs12' ? 'pkcs12' : 'certificates', name: aname, content: a.content });
    }
  }
}

/** The password for the PKCS#12 file `name`, or undefined when none is given. */
async function passwordFor(options: ImportFromMessageOptions, name: string): Promise<string | undefined> {
  const p = options.password;
  if (typeof p !== 'function') return p;
  const got = await p(name);
  if (got !== undefined && typeof got !== 'string') throw new TypeError('importFromMessage: the password callback must return a string or undefined');
  return got;
}

/** Imports one file found by the walk (with its password, for PKCS#12); a failure is a `skipped` entry. */
async function importOne(w: Walk, f: Found, password: string | undefined): Promise<void> {
  const limits = w.options.limits ? { limits: w.options.limits } : undefined;
  if (f.kind === 'certificates') {
    try {
      w.result.certificates.push(...(await w.store.addCertificate(f.content, limits)));
    } catch (e) {
      const reason = reasonOf(e, 'not-a-certificate');
      if (reason === undefined) throw e;
      w.result.skipped.push({ name: f.name, reason });
    }
    return;
  }
  try {
    w.result.identities.push(...(await w.store.importPkcs12(f.content, password ?? '', limits)));
  } catch (e) {
    const reason = e instanceof Pkcs12BadPassword ? (password === undefined ? 'password-needed' : 'bad-password') : reasonOf(e, 'not-a-pkcs12');
    if (reason === undefined) throw e;
    w.result.skipped.push({ name: f.name, reason });
  }
}

/**
 * Installs what a received message carries: identities from its PKCS#12 attachments, certificates from its
 * certificate and certs-only attachments, and the signer's certificates when it is signed and verifies `valid`;
 * forwarded messages and S/MIME layers (opened with the store) are walked too. Nothing becomes a trust anchor.
 * Files that cannot be imported (no password, a wrong one, not what they claim) are listed in `skipped`.
 *
 * @example
 * ```ts
 * const { identities, certificates, skipped } = await importFromMessage(mail, {
 *   store,
 *   password: async (name) => prompt(`Password for ${name}`) ?? undefined,
 * });
 * ```
 */
export async function importFromMessage(message: Uint8Array | string, options: ImportFromMessageOptions): Promise<ImportFromMessageResult> {
  checkOption('importFromMessage: options', options, 'object', true);
  const store = options.store;
  storeInternals(store, 'importFromMessage: options.store');
  if (options.password !== undefined && typeof options.password !== 'string' && typeof options.password !== 'function')
    throw new TypeError('importFromMessage: options.password must be a string or a function');
  const bytes = toBytes(message, 'importFromMessage: message');
  const limits = inputLimits(bytes, 'importFromMessage', store.limits, options.limits);
  const w: Walk = { store, options, limits, counted: 0, found: [], result: { identities: [], certificates: [], skipped: [] } };
  await walk(w, bytes, 'message', 0);
  // Every password is asked before anything is imported, so a callback that throws leaves the store as it was.
  const passwords: (string | undefined)[] = [];
  for (const f of w.found) passwords.push(f.kind === 'pkcs12' ? await passwordFor(options, f.name) : undefined);
  for (const [i, f] of w.found.entries()) await importOne(w, f, passwords[i]);
  // The same certificate attached twice (or also learned from the signature) is listed once.
  w.result.certificates = [...new Set(w.result.certificates)];
  return w.result;
}
