/**
 * The `smime` command: a thin layer over the public API that follows the conventions of gpgsm and `openssl cms`.
 * Its commands and options (options.ts) and its exit codes (exit_codes.ts) are a contract: scripts call it.
 *
 *   smime encrypt|decrypt|sign|verify|open [--in FILE] [--out FILE] [options]   (default stdin/stdout)
 *   smime inspect [FILE] [--json]
 *   smime --help | smime <command> --help | smime --version   (stdout, exit 0)
 *
 * On any failure: the exit code of the table, one clear message on stderr that names the file and hints at the fix,
 * and nothing written to --out. When the reader of stdout goes away early the exit is 141 (128 + SIGPIPE, what a
 * shell shows for `cat big | head`), quietly, and the rest of the output (and --report) is not written.
 */
import { readFileSync, writeFileSync, lstatSync } from 'node:fs';
import {
  CertificateStore,
  CONTENT_CIPHERS,
  exportCertificates,
  importFromMessage,
  inspectFile,
  KeyOperationRefused,
  MissingRecipientCertificatesError,
  nodeCrypto,
  Pkcs12BadPassword,
  setCrypto,
  SmimeError,
  TokenNotFound,
  TokenPinIncorrect,
  TokenUnavailable,
  type ContentCipherName,
  type EncryptOptions,
  type MissingReason,
  type OaepHash,
  type SignDigest,
  type SignerResult,
  type VerifyOptions,
  type SignOptions,
  type VerifyResult,
  type OpenResult,
  type X509Certificate,
  type HeaderField,
  type HeaderProtectionInfo,
  type OpenPart,
} from '../index.node.js';
import { EXIT, EXIT_BY_ERROR_CODE } from './exit_codes.js';
import { commandHelp, generalHelp, LDAP_PASSWORD, parseArgs, PASSWORD, PIN, STORE_PASSWORD, STORE_WRITERS, usageHint, UsageError, type Args } from './options.js';
import { writeFileAtomically } from './atomic_write.js';
import { lockStore, readStoreFile, StoreLocked, writeStoreFile, type StoreLock } from './store_file.js';
import { closeResolver, ldapRequest, ldapResolverFor, onlineLdapFetch, type ClosableResolver, type LdapApi } from './ldap.js';
import { secretFromArgs, type Prompt } from './secrets.js';
import { BindingMissing, closeQuietly, loadPkcs11, openTokenInto, tokenRequest, type Pkcs11Api, type TokenHandle, type TokenRequest } from './token.js';
import { certSummary, inspectionJson, inspectionText } from './describe.js';
import { bytesInput, fileInput, streamToTemp, type PendingOutput, type StreamInput } from './stream_io.js';
import { decryptStreamed, encryptStreamed, openStreamed, signStreamed, verifyStreamed, type BccCopy } from './streamed_ops.js';

/** Where the CLI reads and writes: the process's own streams (bin.ts, stdio.ts), or a test's buffers. */
export interface CliIo {
  /** All of standard input (read only when there is no --in). */
  stdin: () => Uint8Array | Promise<Uint8Array>;
  /** Standard input as a stream, for the streamed commands (stream_io.ts); default: `stdin()` in one piece. */
  stdinStream?: () => StreamInput;
  /** `stdout` is done with the bytes when its promise resolves, so the caller may reuse the buffer (bin.ts). */
  stdoutReusable?: boolean;
  /** Writes to standard output; a rejection with code EPIPE means the reader went away (exit 141). */
  stdout: (b: Uint8Array) => void | Promise<void>;
  stderr: (s: string) => void;
  env: Record<string, string | undefined>;
  /** Asks for a secret without echo; given only when stdin is a terminal. */
  prompt?: Prompt;
  /** Reads an open file descriptor (--password-fd, --pin-fd); default: a synchronous read (secrets.ts). */
  readFd?: (fd: number) => Promise<Uint8Array>;
  /** Loads smime-core/pkcs11 for --pkcs11; default: its chunk, imported only then (token.ts). */
  pkcs11?: () => Promise<Pkcs11Api>;
  /** Loads smime-core/ldap for --ldap; default: its chunk, imported only then (ldap.ts). */
  ldap?: () => Promise<LdapApi>;
  /** The clock of the command's store (`CertificateStoreOptions.now`); default: the real one. A test's fixed time. */
  now?: () => Date;
}

/** The exit code when stdout's reader went away early (EPIPE): 128 + SIGPIPE, as a shell reports `cat big | head`. */
export const EXIT_PIPE = EXIT.pipe;

/** A failure the CLI explains itself: its message (naming the file) and its exit code. */
class CliFailure extends Error {
  constructor(
    message: string,
    readonly exit: number,
  ) {
    super(message);
  }
}

/** The package's version, from the package.json next to dist/ (or src/). */
function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name?: string; version?: string };
    return `smime ${pkg.version ?? '(unknown)'} (${pkg.name ?? 'smime-core'})\n`;
  } catch {
    return 'smime (version unknown)\n';
  }
}

/** A file's bytes as a Uint8Array view of the Buffer Node read (no second copy of a 64 MiB message). */
function readBytes(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function str(a: Args, name: string): string | undefined {
  const v = a.single.get(name);
  return typeof v === 'string' ? v : undefined;
}

type FileKind = 'pkcs12' | 'certificate' | 'pem-identity' | 'pem-key' | 'other';

/** What a file given as --identity or --cert is, to say so when it is given as the other. */
function fileKind(bytes: Uint8Array): FileKind {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, Math.min(bytes.length, 1 << 16)));
  if (head.includes('-----BEGIN')) {
    const key = /-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(head);
    const cert = /-----BEGIN (X509 |TRUSTED )?CERTIFICATE-----/.test(head);
    return key && cert ? 'pem-identity' : key ? 'pem-key' : cert ? 'certificate' : 'other';
  }
  if (bytes[0] !== 0x30) return 'other';
  try {
    const k = inspectFile(bytes).kind;
    return k === 'pkcs12' ? 'pkcs12' : k === 'certificates' ? 'certificate' : 'other';
  } catch {
    return 'other';
  }
}

/** Runs `f` on a file's contents; an smime-core error becomes a message naming the file. */
async function withFile<T>(file: string, f: () => T | Promise<T>, token?: TokenRequest): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof SmimeError && !(e instanceof Pkcs12BadPassword) && !(e instanceof MissingRecipientCertificatesError)) {
      // A key on the token that refused, or a token gone, is the token's failure, not the file's: name the token.
      const where = token && TOKEN_ERRORS.has(e.code) ? token.name : file;
      throw new CliFailure(`${where}: ${e.code}: ${e.message}`, EXIT_BY_ERROR_CODE[e.code]);
    }
    throw e;
  }
}

/** The errors a token's key gives while a message is worked on (the CLI's other keys are in memory). */
const TOKEN_ERRORS: ReadonlySet<string> = new Set([KeyOperationRefused.code, TokenPinIncorrect.code, TokenNotFound.code, TokenUnavailable.code]);

const PASSWORD_HINT = 'give it with --password-file FILE, --password-env NAME or --password-fd N';

async function importPkcs12(store: CertificateStore, file: string, bytes: Uint8Array, given: string | undefined, io: CliIo, asked: { pw?: string }): Promise<void> {
  const attempt = async (pw: string): Promise<boolean> => {
    try {
      await withFile(file, () => store.importPkcs12(bytes, pw));
      return true;
    } catch (e) {
      if (e instanceof Pkcs12BadPassword) return false;
      throw e;
    }
  };
  if (given !== undefined) {
    if (await attempt(given)) return;
    throw new CliFailure(`${file}: wrong password (ERR_PKCS12_BAD_PASSWORD)`, EXIT.secretRefused);
  }
  // No password given: the empty one first (some files have it), then one typed at the terminal.
  if (await attempt('')) return;
  if (asked.pw !== undefined && (await attempt(asked.pw))) return;
  if (!io.prompt) throw new CliFailure(`${file}: no password given, and the empty password does not open it: ${PASSWORD_HINT}`, EXIT.secretRefused);
  asked.pw = await io.prompt(`Password for ${file}: `);
  if (await attempt(asked.pw)) return;
  throw new CliFailure(`${file}: wrong password (ERR_PKCS12_BAD_PASSWORD)`, EXIT.secretRefused);
}

/** The --store file a command opened: where, its password, its lock (writers), and what the command line added. */
interface StoreFile {
  path: string;
  password: string;
  /** Held by the commands that write the store back, from before it is read until after it is written. */
  lock?: StoreLock;
  /** The certificates the file held when read. */
  before: Set<string>;
  /** The certificates the command line added (--identity, --cert, --trust, a token): not saved into the file. */
  extras: X509Certificate[];
}

/** Notes what the command line added to the store (everything new since the file was read): saveStore leaves it out. */
function markExtras(store: CertificateStore, file: StoreFile | undefined): void {
  if (file) file.extras = store.certificates().filter((c) => !file.before.has(derKey(c.certificate))).map((c) => c.certificate);
}

/** A certificate's identity: its DER in hex. */
function derKey(c: X509Certificate): string {
  return Buffer.from(c.rawData).toString('hex');
}

/** Whether this run writes the --store file back: import, verify and open (harvesting), encrypt with --ldap. */
function writesStore(a: Args): boolean {
  return STORE_WRITERS.includes(a.command) || (a.command === 'encrypt' && a.single.has('ldap'));
}

/** The store password: its options, SMIME_STORE_PASSWORD, else a prompt on a terminal; none is exit 7. */
async function storePassword(a: Args, io: CliIo, path: string): Promise<string> {
  const pw = await secretFromArgs(a, STORE_PASSWORD, io.env, io.readFd);
  if (pw !== undefined) return pw;
  if (!io.prompt)
    throw new CliFailure(
      `${path}: no store password given: give it with --store-password-file FILE, --store-password-env NAME or --store-password-fd N (or ${STORE_PASSWORD.env})`,
      EXIT.secretRefused,
    );
  return io.prompt(`Store password for ${path}: `);
}

/** How long a writer waits for another's lock: SMIME_STORE_LOCK_WAIT_MS, default 10 s. */
function lockWait(io: CliIo): number | undefined {
  const v = io.env['SMIME_STORE_LOCK_WAIT_MS'];
  return v !== undefined && /^\d{1,9}$/.test(v) ? Number(v) : undefined;
}

/**
 * The command's store: the --store file read with its password (the writers lock it first, and create it when it
 * does not exist), else an empty store; then the command line's --identity, --cert, --trust, --crl beside it.
 */
async function loadStore(a: Args, io: CliIo, held: { file?: StoreFile }): Promise<CertificateStore> {
  const minRsa = str(a, 'min-rsa-bits');
  if (minRsa !== undefined && !/^\d+$/.test(minRsa)) throw new UsageError('--min-rsa-bits takes a number of bits', a.command);
  const options = {
    policy: { ...(minRsa ? { minRsaBits: Number(minRsa) } : {}), ...(a.single.has('allow-weak') ? { allowWeak: true } : {}) },
    ...(io.now ? { now: io.now } : {}),
  };
  const storePath = str(a, 'store');
  let store: CertificateStore;
  if (storePath !== undefined) {
    const password = await storePassword(a, io, storePath);
    const file: StoreFile = { path: storePath, password, before: new Set(), extras: [] };
    if (writesStore(a)) {
      try {
        file.lock = await lockStore(storePath, lockWait(io));
      } catch (e) {
        if (e instanceof StoreLocked) throw new CliFailure(e.message, EXIT.io);
        throw e;
      }
    }
    held.file = file;
    const bytes = readStoreFile(storePath);
    if (bytes === undefined) {
      if (!file.lock) throw new CliFailure(`${storePath}: no such store file (smime import --store ${storePath} FILE... creates one)`, EXIT.io);
      store = new CertificateStore(options);
    } else {
      store = await withFile(storePath, () => CertificateStore.import(bytes, { password, ...options }));
    }
  } else {
    store = new CertificateStore(options);
  }
  if (held.file) held.file.before = new Set(store.certificates().map((c) => derKey(c.certificate)));
  await addCommandLine(a, io, store);
  markExtras(store, held.file);
  return store;
}

/**
 * Saves what the store learned into the --store file (atomically, under the lock taken by loadStore): what the
 * command line added (--identity, --cert, --trust, a token's identities) is left out.
 */
async function saveStore(store: CertificateStore, file: StoreFile | undefined): Promise<void> {
  if (!file?.lock) return;
  for (const c of file.extras) store.remove(c);
  const bytes = await store.export({ password: file.password });
  writeStoreFile(file.path, bytes);
}

/** The command line's identities, certificates, trust anchors and CRLs, into `store`. */
async function addCommandLine(a: Args, io: CliIo, store: CertificateStore): Promise<void> {
  const identities = a.multi.get('identity') ?? [];
  const password = identities.length ? await secretFromArgs(a, PASSWORD, io.env, io.readFd) : undefined;
  const asked: { pw?: string } = {};
  for (const f of identities) {
    const bytes = readBytes(f);
    const kind = fileKind(bytes);
    if (kind === 'certificate')
      throw new UsageError(`${f}: this is a certificate without its private key: use --cert ${f} (--identity takes a PKCS#12 file, or PEM with certificate and key)`, a.command);
    if (kind === 'pem-key') throw new UsageError(`${f}: this PEM file has a private key but no certificate: put the certificate in the same file, or use a PKCS#12 file`, a.command);
    if (kind === 'pem-identity') await withFile(f, () => store.importIdentity(bytes));
    else await importPkcs12(store, f, bytes, password, io, asked);
  }
  for (const [opt, add] of [
    ['cert', (b: Uint8Array) => store.addCertificate(b)],
    ['trust', (b: Uint8Array) => store.addTrustAnchor(b)],
  ] as const) {
    for (const f of a.multi.get(opt) ?? []) {
      const bytes = readBytes(f);
      const kind = fileKind(bytes);
      if (kind === 'pkcs12') throw new UsageError(`${f}: this is a PKCS#12 file: use --identity ${f}`, a.command);
      if (kind === 'pem-key') throw new UsageError(`${f}: this PEM file has a private key and no certificate`, a.command);
      await withFile(f, () => add(bytes));
    }
  }
  for (const f of a.multi.get('crl') ?? []) {
    const bytes = readBytes(f);
    await withFile(f, () => store.addCrl(bytes));
  }
}

/**
 * Opens the --pkcs11 token and imports its identities into the store: smime-core/pkcs11 is loaded first, then the
 * PIN is read as the password is (secrets.ts), or asked for on a terminal. A token error names the token: wrong PIN
 * exit 7, no such token or an unusable module exit 8; a missing pkcs11js says how to install it.
 */
async function openToken(a: Args, req: TokenRequest, store: CertificateStore, io: CliIo): Promise<TokenHandle> {
  const api = await loadPkcs11(io.pkcs11);
  let pin = await secretFromArgs(a, PIN, io.env, io.readFd);
  if (pin === undefined) {
    if (!io.prompt) throw new CliFailure(`${req.name}: no PIN given: give it with --pin-file FILE, --pin-env NAME or --pin-fd N`, EXIT.secretRefused);
    pin = await io.prompt(`PIN for ${req.name}: `);
  }
  try {
    return await openTokenInto(api, req, pin, store);
  } catch (e) {
    if (e instanceof SmimeError && !(e instanceof BindingMissing)) throw new CliFailure(`${req.name}: ${e.code}: ${e.message}`, EXIT_BY_ERROR_CODE[e.code] ?? EXIT.keyUnavailable);
    throw e;
  }
}

const OAEP: Record<string, OaepHash> = { sha1: 'SHA-1', sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };

/**
 * Writes atomically: a temporary file renamed into place, so a failure never leaves partial output (`durable`, from
 * --fsync: flushed to the disk first). A path that exists and is not a regular file (/dev/stdout is a symbolic link,
 * a FIFO, a device) is written directly.
 */
async function writeOut(path: string | undefined, data: Uint8Array, io: CliIo, durable = false): Promise<void> {
  if (!path || path === '-') {
    await io.stdout(data);
    return;
  }
  let special = false;
  try {
    special = !lstatSync(path).isFile();
  } catch {
    special = false; // does not exist yet
  }
  if (special) {
    writeFileSync(path, data);
    return;
  }
  writeFileAtomically(path, data, 0o666, durable);
}

function signerReport(s: SignerResult) {
  return {
    email: s.email ?? null,
    status: s.status,
    serialNumber: s.certificate?.serialNumber ?? null,
    issuer: s.certificate?.issuer ?? null,
    signingTime: s.signingTime ? s.signingTime.toISOString() : null,
    reasons: s.reasons,
  };
}

/** What an I/O error code means, in words. */
const ERRNO: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
  EBADF: 'not an open file descriptor',
  EEXIST: 'exists',
};

/** A certificate in one line: its subject, serial number and validity. */
function certLine(c: X509Certificate): string {
  return `${c.subject || '(no subject)'}, serial ${c.serialNumber}, ${c.notBefore.toISOString().slice(0, 10)} to ${c.notAfter.toISOString().slice(0, 10)}`;
}

/** Whether some bytes start like a mail message (a header field), not a certificate or PKCS#7 object. */
function looksLikeMessage(bytes: Uint8Array): boolean {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 1024));
  return /^[\x21-\x39\x3b-\x7e]+:/.test(head) && !head.startsWith('-----BEGIN');
}

/** One file of `smime import`: what it added (lines for stdout) and what it skipped (lines for stderr). */
async function importOne(store: CertificateStore, f: string, a: Args, io: CliIo, given: string | undefined, asked: { pw?: string }): Promise<{ added: string[]; skipped: string[] }> {
  const bytes = readBytes(f);
  const kind = fileKind(bytes);
  if (kind === 'pkcs12' || kind === 'pem-identity') {
    const before = new Set(store.identities.map((i) => derKey(i.certificate)));
    if (kind === 'pem-identity') await withFile(f, () => store.importIdentity(bytes));
    else await importPkcs12(store, f, bytes, given, io, asked);
    const added = store.identities.filter((i) => !before.has(derKey(i.certificate)));
    return { added: added.map((i) => `${f}: identity ${certLine(i.certificate)}`), skipped: [] };
  }
  if (kind === 'pem-key') throw new UsageError(`${f}: this PEM file has a private key but no certificate: put the certificate in the same file, or use a PKCS#12 file`, a.command);
  if (kind === 'other' && looksLikeMessage(bytes)) {
    const password = async (name: string): Promise<string | undefined> => {
      if (given !== undefined) return given;
      if (asked.pw !== undefined) return asked.pw;
      if (!io.prompt) return undefined;
      asked.pw = await io.prompt(`Password for ${JSON.stringify(name)} in ${f}: `);
      return asked.pw;
    };
    const r = await withFile(f, () => importFromMessage(bytes, { store, password }));
    return {
      added: [...r.identities.map((i) => `${f}: identity ${certLine(i.certificate)}`), ...r.certificates.map((c) => `${f}: certificate ${certLine(c)}`)],
      skipped: r.skipped.map((s) => `${f}: skipped ${JSON.stringify(s.name)}: ${s.reason}`),
    };
  }
  // A certificate, a bundle, a .p7c (DER or PEM) or a certs-only MIME entity: never a trust anchor.
  const added = await withFile(f, () => store.addCertificate(bytes));
  return { added: added.map((c) => `${f}: certificate ${certLine(c)}`), skipped: added.length ? [] : [`${f}: nothing new (the store holds these certificates already)`] };
}

/** smime import, smime certs, smime export-certs: commands on the store itself (no message). */
async function runStoreCommand(a: Args, io: CliIo, held: { file?: StoreFile }): Promise<number> {
  const storePath = str(a, 'store');
  const email = str(a, 'email');
  const out = str(a, 'out');
  if ((a.command === 'import' || a.command === 'certs') && storePath === undefined) throw new UsageError(`${a.command} needs --store FILE`, a.command);
  if (a.command === 'export-certs') {
    if (email === undefined) throw new UsageError('export-certs needs --email EMAIL', a.command);
    if (out === undefined) throw new UsageError('export-certs needs --out FILE', a.command);
    if (storePath === undefined && (a.multi.get('cert') ?? []).length === 0) throw new UsageError('export-certs needs --store FILE or --cert FILE', a.command);
  }
  const given = a.command === 'import' ? await secretFromArgs(a, PASSWORD, io.env, io.readFd) : undefined;
  setCrypto(nodeCrypto());
  const store = await loadStore(a, io, held);
  const enc = (s: string) => new TextEncoder().encode(s);
  if (a.command === 'import') {
    // import's --trust is the explicit act that saves a trust anchor into the store: not left out as a run's extra.
    if (held.file) held.file.extras = [];
    const asked: { pw?: string } = {};
    const added: string[] = [];
    const skipped: string[] = [];
    for (const f of a.positional) {
      const r = await importOne(store, f, a, io, given, asked);
      added.push(...r.added);
      skipped.push(...r.skipped);
    }
    await saveStore(store, held.file);
    for (const l of skipped) io.stderr(`smime: ${l}\n`);
    await io.stdout(enc(added.map((l) => `${l}\n`).join('') + `${added.length} added to ${storePath}\n`));
    return EXIT.ok;
  }
  const list = store.certificates(email !== undefined ? { email } : {});
  if (a.command === 'certs') {
    const rows = list.map((c) => ({
      role: c.role,
      ...certSummary(c.certificate),
      ...(c.trustedExplicitly ? { trustedExplicitly: true } : {}),
      ...(c.detached ? { detached: true } : {}),
    }));
    const text = a.single.has('json')
      ? JSON.stringify(rows, null, 2) + '\n'
      : rows.map((r) => `${r.role.padEnd(12)} ${r.subject}  serial ${r.serialNumber}  ${r.notBefore.slice(0, 10)} to ${r.notAfter.slice(0, 10)}${r.trustedExplicitly ? '  trusted explicitly' : ''}${r.detached ? '  (key not attached)' : ''}\n`).join('');
    await io.stdout(enc(text));
    return EXIT.ok;
  }
  // export-certs: the address's own certificates (identities and contacts), not the CAs.
  const mine = list.filter((c) => c.role === 'identity' || c.role === 'contact').map((c) => c.certificate);
  if (mine.length === 0) throw new CliFailure(`no certificate for ${email}: add one with --cert or import one into the store`, EXIT.missingCertificate);
  const p7 = exportCertificates(mine, a.single.has('pem') ? 'pem' : 'der');
  await writeOut(out, typeof p7 === 'string' ? enc(p7) : p7, io, a.single.has('fsync'));
  return EXIT.ok;
}

/** Runs a command; the --store file's lock, if it took one, is released however it ends. */
async function runCommand(a: Args, io: CliIo): Promise<number> {
  const held: { file?: StoreFile } = {};
  try {
    return await runLocked(a, io, held);
  } finally {
    held.file?.lock?.release();
  }
}

/** The commands that stream their input to their output (stream_io.ts); the others read their input whole. */
const STREAMED: ReadonlySet<Args['command']> = new Set(['encrypt', 'decrypt', 'sign', 'verify', 'open']);

async function runLocked(a: Args, io: CliIo, held: { file?: StoreFile }): Promise<number> {
  // A streamed command's output waits in a temporary file until the end: thrown away on any failure.
  const pending: { out?: PendingOutput<unknown> } = {};
  try {
    return await runMessage(a, io, held, pending);
  } finally {
    await pending.out?.abort();
  }
}

async function runMessage(a: Args, io: CliIo, held: { file?: StoreFile }, pending: { out?: PendingOutput<unknown> }): Promise<number> {
  const report = str(a, 'report');
  const outPath = str(a, 'out');
  /** --fsync: --out (streamed or not, Bcc copies and --report too) flushed to the disk before it is renamed into place. */
  const durable = a.single.has('fsync');
  if (report === '-' && (outPath === undefined || outPath === '-'))
    throw new UsageError('--report - writes the report to stdout: give the message a file with --out FILE', a.command);
  if (a.command === 'inspect') {
    const file = a.positional[0] ?? str(a, 'in');
    if (a.positional[0] !== undefined && str(a, 'in') !== undefined) throw new UsageError('give the file once: FILE or --in FILE', a.command);
    const bytes = file !== undefined && file !== '-' ? readBytes(file) : await io.stdin();
    const name = file ?? '<stdin>';
    const what = await withFile(name, () => inspectFile(bytes));
    const text = a.single.has('json') ? JSON.stringify(inspectionJson(name, what), null, 2) + '\n' : inspectionText(name, what);
    await io.stdout(new TextEncoder().encode(text));
    return EXIT.ok;
  }
  if (a.command === 'import' || a.command === 'certs' || a.command === 'export-certs') return runStoreCommand(a, io, held);
  // The options are checked before any file is read.
  const cipher = str(a, 'cipher');
  if (cipher !== undefined && !(CONTENT_CIPHERS as readonly string[]).includes(cipher))
    throw new UsageError(`--cipher must be one of ${CONTENT_CIPHERS.join(', ')}`, a.command);
  const digest = str(a, 'digest');
  if (digest !== undefined && !['sha256', 'sha384', 'sha512'].includes(digest)) throw new UsageError('--digest takes sha256, sha384 or sha512', a.command);
  const oaepOpt = a.single.get('oaep');
  let oaep: OaepHash | undefined;
  if (oaepOpt !== undefined) {
    oaep = oaepOpt === true ? 'SHA-256' : OAEP[oaepOpt.toLowerCase().replace('-', '')];
    if (!oaep) throw new UsageError('--oaep takes sha1, sha256, sha384 or sha512', a.command);
  }
  if (a.command === 'encrypt' && (a.multi.get('to') ?? []).length === 0) throw new UsageError('encrypt needs at least one --to EMAIL', a.command);
  if (a.command === 'sign' && !str(a, 'from')) throw new UsageError('sign needs --from EMAIL', a.command);
  const verifyOpts: Omit<VerifyOptions, 'store'> = {};
  const at = str(a, 'at');
  if (at !== undefined) {
    const d = new Date(at);
    if (Number.isNaN(d.getTime())) throw new UsageError('--at takes a date and time, e.g. 2026-01-31T12:00:00Z', a.command);
    verifyOpts.at = d;
  }
  const verifyAt = str(a, 'verify-at');
  if (verifyAt !== undefined) {
    if (verifyAt !== 'now' && verifyAt !== 'signing-time') throw new UsageError('--verify-at takes now or signing-time', a.command);
    verifyOpts.verifyAt = verifyAt;
  }

  // --online (soft-fail), --online=hard (hard-fail), --offline (the default): Node's global fetch.
  const online = a.single.get('online');
  if (online !== undefined && a.single.has('offline')) throw new UsageError('--online and --offline exclude each other', a.command);
  if (online !== undefined && online !== true && online !== 'hard') throw new UsageError('--online takes no value, or =hard', a.command);
  // ldap:// CRL distribution points and caIssuers through smime-core/ldap's ldapFetch, when that entry loads.
  const fetchLdap = online === undefined ? undefined : await onlineLdapFetch(io.ldap);
  const onlineOpts =
    online === undefined ? {} : { fetch: globalThis.fetch, revocation: online === 'hard' ? ('hard-fail' as const) : ('soft-fail' as const), ...(fetchLdap ? { fetchLdap } : {}) };
  Object.assign(verifyOpts, onlineOpts);

  const tokenReq = tokenRequest(a);
  const ldapReq = ldapRequest(a);

  setCrypto(nodeCrypto());
  const store = await loadStore(a, io, held);
  const opts: VerifyOptions = { ...verifyOpts, store };
  const inPath = str(a, 'in');
  const inName = inPath ?? '<stdin>';
  let output: Uint8Array = new Uint8Array(0);
  let bccCopies: BccCopy[] = [];
  let rep: unknown;
  let exit: number = EXIT.ok;
  // The token is open while the message is worked on, and closed (also on any failure) before anything is written.
  const token = tokenReq ? await openToken(a, tokenReq, store, io) : undefined;
  markExtras(store, held.file);
  let resolver: ClosableResolver | undefined;
  let source: StreamInput | undefined;
  try {
    if (ldapReq) resolver = await ldapResolverFor(ldapReq, await secretFromArgs(a, LDAP_PASSWORD, io.env, io.readFd), io.ldap);
    const fromFile = inPath !== undefined && inPath !== '-';
    // A streamed command opens its input now (a missing file fails here, as a whole read does) and reads it as it goes.
    source = STREAMED.has(a.command)
      ? fromFile
        ? await fileInput(inPath)
        : (io.stdinStream?.() ?? bytesInput(io.stdin))
      : undefined;
    const target = { path: outPath, stdout: io.stdout, stdoutReusable: io.stdoutReusable === true, durable };
    switch (a.command) {
      case 'encrypt': {
        const to = a.multi.get('to')!;
        const from = str(a, 'from');
        const bcc = a.multi.get('bcc');
        if (bcc && (outPath === undefined || outPath === '-')) throw new UsageError('--bcc needs --out (each Bcc copy goes to a file beside it)', a.command);
        const encOpts: EncryptOptions = {
          store,
          to,
          from,
          cipher: cipher as ContentCipherName | undefined,
          oaep,
          useSki: a.single.has('keyid'),
          ...(resolver ? { resolver } : {}),
          ...protectionOptions(a, true),
          ...(bcc ? { bcc } : {}),
          ...onlineOpts,
        };
        try {
          // Each Bcc copy streams to a temporary file beside --out, made visible with the main message.
          const bccTarget = (address: string) => ({ path: `${outPath}.bcc-${address.replace(/[^A-Za-z0-9@._+-]/g, '_')}`, stdout: io.stdout, durable });
          const out = await withFile(inName, () => streamToTemp(source!, target, (s) => encryptStreamed(s, encOpts, bccTarget)));
          bccCopies = out.result;
          pending.out = {
            result: out.result,
            bytes: out.bytes,
            readBack: () => out.readBack(),
            commit: async () => {
              await out.commit();
              for (const c of bccCopies) await c.commit();
            },
            abort: async () => {
              await out.abort();
              for (const c of bccCopies) await c.abort();
            },
          };
        } catch (e) {
          if (!(e instanceof MissingRecipientCertificatesError)) throw e;
          const why: Record<MissingReason, string> = {
            none: '',
            expired: ' (the one known has expired)',
            'wrong-usage': ' (the one known is not for encryption)',
            untrusted: ' (the one known does not chain to a --trust anchor)',
            'lookup-failed': ' (the directory lookup failed)',
            revoked: ' (the one known is revoked)',
            'revocation-unknown': ' (its revocation status could not be established, --online=hard)',
          };
          const cause = e.cause instanceof Error ? `: ${e.cause.message}` : '';
          const lines = e.missing.map((m) => {
            const reason = e.reasons[m] ?? 'none';
            const because = reason === 'lookup-failed' ? ` (the directory lookup failed${cause})` : why[reason];
            return `no certificate for ${m}: add one with --cert or import one into the store${because}`;
          });
          throw new CliFailure(lines.join('\nsmime: '), EXIT.missingCertificate);
        }
        if (report !== undefined) {
          // The cipher actually used, read back from the message; each recipient's certificate as the store chose it.
          const what = inspectFile(await pending.out.readBack());
          const layer = what.kind === 'smime' ? what.layers[0] : undefined;
          const env = layer && layer.type !== 'signed' ? layer : undefined;
          const chosen = await store.selectRecipients(from ? [...to, from] : to);
          rep = {
            command: 'encrypt',
            to,
            from: from ?? null,
            type: env?.type ?? null,
            cipher: env?.cipher ?? null,
            keyTransport: [...new Set(env?.recipients.map((r) => r.algorithm ?? r.type) ?? [])],
            recipients: [...chosen].map(([email, c]) => ({ email, ...certSummary(c) })),
            bytes: pending.out.bytes,
            ...(bcc ? { bcc: bccCopies.map((c) => c.address) } : {}),
          };
        }
        break;
      }
      case 'decrypt': {
        // Streamed: the plaintext waits in the temporary file until decryptStream's done resolves (the GCM tag).
        const out = await withFile(inName, () => streamToTemp(source!, target, (s) => decryptStreamed(s, { store })), tokenReq);
        pending.out = out;
        const r = out.result;
        rep = {
          command: 'decrypt',
          recipient: certSummary(r.recipient),
          type: r.type,
          cipher: r.cipher,
          keyTransport: r.keyTransport,
          authenticated: r.authenticated,
          legacy: r.legacy,
          ...headerReport(r.headerProtection),
        };
        break;
      }
      case 'sign': {
        const from = str(a, 'from')!;
        const signOpts: SignOptions = {
          store,
          from,
          detached: !a.single.has('opaque'),
          digest: digest === undefined ? undefined : (digest.toUpperCase().replace('SHA', 'SHA-') as SignDigest),
          pss: a.single.has('pss'),
          ...protectionOptions(a, false),
        };
        // A regular file (--in, or stdin but on Windows) is read twice (a scan, then the signing: signMessage's bytes);
        // a pipe once (signStreamed).
        pending.out = await withFile(inName, () => streamToTemp(source!, target, (s) => signStreamed(s, signOpts, source!.rewind)), tokenReq);
        rep = { command: 'sign', from, detached: !a.single.has('opaque'), digest: digest ?? 'sha256', pss: a.single.has('pss') };
        break;
      }
      case 'verify':
      case 'open': {
        let r: VerifyResult | OpenResult;
        if (a.command === 'verify') {
          // Streamed: the content waits in the temporary file, committed only when every signer is valid.
          const out = await withFile(inName, () => streamToTemp(source!, target, (s) => verifyStreamed(s, opts)), tokenReq);
          pending.out = out;
          r = out.result;
        } else {
          // Streamed: the content waits in the temporary file until every layer has been read (tags, signatures).
          const out = await withFile(inName, () => streamToTemp(source!, target, (s) => openStreamed(s, opts)), tokenReq);
          pending.out = out;
          r = out.result;
        }
        // smime open is for protected mail: a message without any S/MIME part is bad input, as before.
        if ('coverage' in r && r.coverage === 'none') throw new CliFailure(`${inName}: ERR_MIME_INVALID: not an S/MIME message: no part of it is signed or encrypted`, EXIT_BY_ERROR_CODE.ERR_MIME_INVALID ?? EXIT.badInput);
        output = r.content;
        const signers = r.signers.map(signerReport);
        const layers =
          'layers' in r
            ? r.layers.map((l) =>
                l.type === 'signed'
                  ? { type: l.type, detached: l.detached, signers: l.signers.map(signerReport) }
                  : l.type === 'certs-only'
                    ? { type: l.type, certificates: l.certificates.map(certSummary) }
                    : l.type === 'compressed'
                      ? { type: l.type, algorithm: l.algorithm }
                      : { type: l.type, cipher: l.cipher, keyTransport: l.keyTransport, authenticated: l.authenticated, legacy: l.legacy, recipient: certSummary(l.recipient) },
              )
            : r.certsOnly
              ? [{ type: 'certs-only', certificates: r.certsOnly.map(certSummary) }]
              : [{ type: 'signed', signers }];
        rep = {
          command: a.command,
          signers,
          layers,
          ...('encrypted' in r ? { encrypted: r.encrypted, authenticated: r.authenticated, coverage: r.coverage, ...(r.parts ? { parts: r.parts.map(partReport) } : {}) } : {}),
          ...headerReport(r.headerProtection, 'outer' in r ? r.outer : undefined),
        };
        if (a.command === 'verify' && (signers.length === 0 || signers.some((s) => s.status !== 'valid'))) {
          exit = EXIT.verifyFailed;
          const certsOnly = 'certsOnly' in r ? r.certsOnly : undefined;
          if (signers.length === 0) io.stderr(`smime: ${inName}: no signer${certsOnly ? ` (a certs-only message with ${certsOnly.length} certificate(s))` : ''}\n`);
          for (const s of signers) io.stderr(`smime: signer ${s.email ?? '(unknown)'}: ${s.status}${s.reasons.length ? ` (${s.reasons.join(', ')})` : ''}\n`);
        } else {
          // --online (soft-fail): a status nobody could establish is said, though the signature stands.
          for (const s of signers) {
            const notes = s.reasons.filter((x) => /^(issuer-)?revocation-unknown: /.test(x));
            if (s.status === 'valid' && notes.length > 0) io.stderr(`smime: signer ${s.email ?? '(unknown)'}: valid (${notes.join(', ')})\n`);
          }
        }
        break;
      }
    }
  } finally {
    await source?.close();
    await closeQuietly(token);
    await closeResolver(resolver);
  }
  // What the command learned (harvested signatures, directory answers) goes back into the --store file.
  await saveStore(store, held.file);
  const reportBytes = () => new TextEncoder().encode(JSON.stringify(rep, null, 2) + '\n');
  if (exit !== EXIT.ok) {
    if (report !== undefined) await writeOut(report, reportBytes(), io, durable);
    return exit;
  }
  if (pending.out) await pending.out.commit();
  else await writeOut(outPath, output, io, durable);
  if (report !== undefined) await writeOut(report, reportBytes(), io, durable);
  return EXIT.ok;
}

/** The header-protection options of sign and encrypt (--protect-headers, --hcp, --legacy-display). */
function protectionOptions(a: Args, encrypting: boolean): { protectHeaders?: boolean; headerConfidentiality?: 'baseline' | 'shy' | 'none'; legacyDisplay?: boolean } {
  const hcp = str(a, 'hcp');
  const on = a.single.has('protect-headers');
  if (hcp !== undefined && hcp !== 'baseline' && hcp !== 'shy' && hcp !== 'none') throw new UsageError('--hcp takes baseline, shy or none', a.command);
  if (!on && (hcp !== undefined || a.single.has('legacy-display'))) throw new UsageError('--hcp and --legacy-display go with --protect-headers', a.command);
  if (!on) return {};
  const out: { protectHeaders: boolean; headerConfidentiality?: 'baseline' | 'shy' | 'none'; legacyDisplay?: boolean } = { protectHeaders: true };
  if (hcp !== undefined) out.headerConfidentiality = hcp;
  else if (!encrypting && a.single.has('legacy-display')) out.headerConfidentiality = 'baseline';
  if (a.single.has('legacy-display')) out.legacyDisplay = true;
  return out;
}

/** What the JSON report says of a result's header fields: the protected ones, the outer ones, the mismatches. */
function headerReport(hp: HeaderProtectionInfo | undefined, outer?: HeaderField[]) {
  return {
    ...(outer ? { outer } : {}),
    headerProtection: hp
      ? { form: hp.form, hp: hp.hp ?? null, headers: hp.headers, exposed: hp.exposed ?? null, mismatches: hp.mismatches, problems: hp.problems, legacyDisplay: hp.legacyDisplay ?? null }
      : null,
  };
}

/** A part of a partly protected message, for the JSON report. */
function partReport(p: OpenPart): unknown {
  return {
    path: p.path,
    type: p.type,
    protection: p.protection,
    ...(p.signers ? { signers: p.signers.map(signerReport) } : {}),
    ...(p.authenticated !== undefined ? { authenticated: p.authenticated } : {}),
    ...(p.error ? { error: p.error } : {}),
    ...(p.parts ? { parts: p.parts.map(partReport) } : {}),
  };
}

/** Runs the CLI; returns the exit code (see exit_codes.ts). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let command: Args['command'] | undefined;
  try {
    const p = parseArgs(argv);
    if (p.kind === 'help') {
      await io.stdout(new TextEncoder().encode(p.command ? commandHelp(p.command) : generalHelp()));
      return EXIT.ok;
    }
    if (p.kind === 'version') {
      await io.stdout(new TextEncoder().encode(version()));
      return EXIT.ok;
    }
    command = p.args.command;
    return await runCommand(p.args, io);
  } catch (e) {
    if (e instanceof UsageError) {
      if (argv.length === 0) io.stderr(generalHelp());
      io.stderr(usageHint(e.command || !command ? e : new UsageError(e.message, command)));
      return EXIT.usage;
    }
    if (e instanceof CliFailure) {
      io.stderr(`smime: ${e.message}\n`);
      return e.exit;
    }
    if (e instanceof SmimeError) {
      io.stderr(`smime: ${e.code}: ${e.message}\n`);
      return EXIT_BY_ERROR_CODE[e.code] ?? EXIT.badInput;
    }
    const err = e as NodeJS.ErrnoException;
    // The reader of our output went away (`smime decrypt | head`): not an error of ours, and nothing to say.
    if (err && err.code === 'EPIPE') return EXIT.pipe;
    if (err && typeof err.code === 'string' && /^E[A-Z]+$/.test(err.code)) {
      const what = ERRNO[err.code] ? `${ERRNO[err.code]} (${err.code})` : err.code;
      io.stderr(`smime: ${err.path ?? 'a file'}: cannot read or write: ${what}\n`);
      return EXIT.io;
    }
    io.stderr(`smime: internal error (please report it): ${err?.message ?? String(e)}\n`);
    return EXIT.internal;
  }
}
