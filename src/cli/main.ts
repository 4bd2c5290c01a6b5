/**
 * The `smime` command: a thin layer over the public API. Its options are a contract (scripts call it):
 *
 *   smime encrypt|decrypt|sign|verify|open [--in FILE] [--out FILE]   (default stdin/stdout)
 *     --identity FILE   repeatable: a PKCS#12 file, or a PEM file with cert and key (the user's own)
 *     --password PASS   for the PKCS#12 files (or env SMIME_PASSWORD)
 *     --cert FILE       repeatable: other people's certs and intermediates (PEM, DER, PEM bundle)
 *     --trust FILE      repeatable: trust anchors
 *     --report FILE     JSON about what was done
 *     --crl FILE        repeatable: CRLs; --allow-weak, --min-rsa-bits N: algorithm policy
 *   encrypt: --to EMAIL (repeatable), --from EMAIL, --cipher NAME, --oaep [sha1|sha256|sha384|sha512], --keyid
 *   sign:    --from EMAIL, --opaque, --digest sha256|sha384|sha512
 *
 * On any failure: a non-zero exit, a clear message on stderr, and nothing written to --out.
 * Exit codes: 0 done, 1 failed (or a signature not valid), 2 usage, 3 no certificate for a recipient, 70 internal
 * error, 141 (128 + SIGPIPE, what a shell shows for `cat big | head`) when the reader of stdout went away early:
 * no message then, as for any Unix filter killed by SIGPIPE, and the rest of the output (and --report) is not written.
 */
import { readFileSync, writeFileSync, renameSync, unlinkSync, lstatSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import {
  CertificateStore,
  CONTENT_CIPHERS,
  decryptMessage,
  encryptMessage,
  MissingRecipientCertificatesError,
  nodeCrypto,
  openMessage,
  setCrypto,
  signMessage,
  SmimeError,
  verifyMessage,
  type ContentCipherName,
  type EncryptOptions,
  type SignerResult,
  type SignOptions,
  type VerifyOptions,
} from '../index.node.js';

type OaepHash = NonNullable<EncryptOptions['oaep']>;
type SignDigest = NonNullable<SignOptions['digest']>;

/** Where the CLI reads and writes: the process's own streams (bin.ts, stdio.ts), or a test's buffers. */
export interface CliIo {
  /** All of standard input (read only when there is no --in). */
  stdin: () => Uint8Array | Promise<Uint8Array>;
  /** Writes to standard output; a rejection with code EPIPE means the reader went away (exit 141). */
  stdout: (b: Uint8Array) => void | Promise<void>;
  stderr: (s: string) => void;
  env: Record<string, string | undefined>;
}

/** The exit code when stdout's reader went away early (EPIPE): 128 + SIGPIPE, as a shell reports `cat big | head`. */
export const EXIT_PIPE = 141;

const USAGE = `usage: smime encrypt|decrypt|sign|verify|open [options]
  --in FILE          input (default stdin)
  --out FILE         output (default stdout); nothing is written on failure
  --identity FILE    repeatable: your PKCS#12 file, or a PEM file with certificate and PKCS#8 key
  --password PASS    password of the PKCS#12 files (or env SMIME_PASSWORD)
  --cert FILE        repeatable: other people's certificates and intermediates (PEM, DER, PEM bundle)
  --trust FILE       repeatable: trust anchors
  --report FILE      write a JSON report of what was done
  --crl FILE         repeatable: certificate revocation lists (PEM or DER)
  --allow-weak       accept SHA-1/MD5 signatures (old mail)
  --min-rsa-bits N   smallest RSA key accepted (default 2048)
 verify, open: [--at ISO-TIME] [--verify-at now|signing-time]
          certificates are judged now (or --at); signing-time trusts the signer's claimed signingTime (archives)
 encrypt: --to EMAIL (repeatable) [--from EMAIL] [--cipher ${CONTENT_CIPHERS.join('|')}]
          [--oaep [sha1|sha256|sha384|sha512]] [--keyid]
 sign:    --from EMAIL [--opaque] [--digest sha256|sha384|sha512]
exit: 0 done, 1 failed or signature not valid, 2 usage, 3 no certificate for a recipient, 70 internal error,
      141 stdout closed early by its reader (e.g. | head), quietly
`;

class UsageError extends Error {}

interface Args {
  command: string;
  single: Map<string, string | true>;
  multi: Map<string, string[]>;
}

const MULTI = new Set(['identity', 'cert', 'trust', 'to', 'crl']);
const VALUED = new Set(['in', 'out', 'password', 'report', 'from', 'cipher', 'digest', 'min-rsa-bits', 'at', 'verify-at', ...MULTI]);
const FLAGS = new Set(['opaque', 'keyid', 'pss', 'help', 'allow-weak']);
const OPTIONAL_VALUE = new Set(['oaep']);

function parseArgs(argv: string[]): Args {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h') throw new UsageError('');
  const a: Args = { command, single: new Map(), multi: new Map() };
  for (let i = 0; i < rest.length; i++) {
    const tok = rest[i]!;
    if (!tok.startsWith('--')) throw new UsageError(`unexpected argument: ${tok}`);
    let name = tok.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (FLAGS.has(name)) {
      a.single.set(name, true);
    } else if (OPTIONAL_VALUE.has(name)) {
      if (value === undefined && rest[i + 1] && !rest[i + 1]!.startsWith('--')) value = rest[++i];
      a.single.set(name, value ?? true);
    } else if (VALUED.has(name)) {
      if (value === undefined) {
        value = rest[++i];
        if (value === undefined) throw new UsageError(`--${name} needs a value`);
      }
      if (MULTI.has(name)) a.multi.set(name, [...(a.multi.get(name) ?? []), value]);
      else a.single.set(name, value);
    } else throw new UsageError(`unknown option --${name}`);
  }
  return a;
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

async function loadStore(a: Args, io: CliIo): Promise<CertificateStore> {
  const minRsa = str(a, 'min-rsa-bits');
  if (minRsa !== undefined && !/^\d+$/.test(minRsa)) throw new UsageError('--min-rsa-bits takes a number of bits');
  const store = new CertificateStore({
    policy: { ...(minRsa ? { minRsaBits: Number(minRsa) } : {}), ...(a.single.has('allow-weak') ? { allowWeak: true } : {}) },
  });
  const password = str(a, 'password') ?? io.env.SMIME_PASSWORD ?? '';
  for (const f of a.multi.get('identity') ?? []) {
    const bytes = readBytes(f);
    const text = new TextDecoder('latin1').decode(bytes.subarray(0, Math.min(bytes.length, 4096)));
    if (text.includes('-----BEGIN')) await store.importIdentity(bytes);
    else await store.importPkcs12(bytes, password);
  }
  for (const f of a.multi.get('cert') ?? []) await store.addCertificate(readBytes(f));
  for (const f of a.multi.get('trust') ?? []) store.addTrustAnchor(readBytes(f));
  for (const f of a.multi.get('crl') ?? []) store.addCrl(readBytes(f));
  return store;
}

const OAEP: Record<string, OaepHash> = { sha1: 'SHA-1', sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };

/**
 * Writes atomically: a temporary file renamed into place, so a failure never leaves partial output. A path that
 * exists and is not a regular file (/dev/stdout is a symbolic link, a FIFO, a device) is written directly.
 */
async function writeOut(path: string | undefined, data: Uint8Array, io: CliIo): Promise<void> {
  if (!path) {
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
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* nothing to remove */
    }
    throw e;
  }
}

function certSummary(c: { subject: string; serialNumber: string; notBefore: Date; notAfter: Date }) {
  return { subject: c.subject, serialNumber: c.serialNumber, notBefore: c.notBefore.toISOString(), notAfter: c.notAfter.toISOString() };
}

function signerReport(s: SignerResult) {
  return {
    email: s.email ?? null,
    status: s.status,
    serialNumber: s.certificate?.serialNumber ?? null,
    signingTime: s.signingTime ? s.signingTime.toISOString() : null,
    reasons: s.reasons,
  };
}

/** Runs the CLI; returns the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let a: Args;
  try {
    a = parseArgs(argv);
    if (a.single.has('help')) throw new UsageError('');
  } catch (e) {
    io.stderr((e as Error).message ? `smime: ${(e as Error).message}\n${USAGE}` : USAGE);
    return 2;
  }
  setCrypto(nodeCrypto());
  try {
    const store = await loadStore(a, io);
    const inPath = str(a, 'in');
    const input = inPath ? readBytes(inPath) : await io.stdin();
    let output: Uint8Array;
    let report: unknown;
    let exit = 0;
    switch (a.command) {
      case 'encrypt': {
        const to = a.multi.get('to') ?? [];
        if (to.length === 0) throw new UsageError('encrypt needs at least one --to');
        const cipher = str(a, 'cipher');
        if (cipher !== undefined && !(CONTENT_CIPHERS as readonly string[]).includes(cipher))
          throw new UsageError(`--cipher must be one of ${CONTENT_CIPHERS.join(', ')}`);
        const oaepOpt = a.single.get('oaep');
        let oaep: OaepHash | undefined;
        if (oaepOpt !== undefined) {
          oaep = oaepOpt === true ? 'SHA-256' : OAEP[oaepOpt.toLowerCase().replace('-', '')];
          if (!oaep) throw new UsageError('--oaep takes sha1, sha256, sha384 or sha512');
        }
        output = await encryptMessage(input, {
          store,
          to,
          from: str(a, 'from'),
          cipher: cipher as ContentCipherName | undefined,
          oaep,
          useSki: a.single.has('keyid'),
        });
        report = { command: 'encrypt', to, from: str(a, 'from') ?? null, cipher: cipher ?? 'auto', bytes: output.length };
        break;
      }
      case 'decrypt': {
        // A file read for this run is the CLI's own: decoding and decryption work over it (no second 64 MiB).
        const r = await decryptMessage(input, { store, overwriteInput: inPath !== undefined });
        output = r.content;
        report = {
          command: 'decrypt',
          recipient: certSummary(r.recipient),
          type: r.type,
          cipher: r.cipher,
          keyTransport: r.keyTransport,
          authenticated: r.authenticated,
          legacy: r.legacy,
        };
        break;
      }
      case 'sign': {
        const from = str(a, 'from');
        if (!from) throw new UsageError('sign needs --from');
        const digest = str(a, 'digest');
        if (digest !== undefined && !['sha256', 'sha384', 'sha512'].includes(digest)) throw new UsageError('--digest takes sha256, sha384 or sha512');
        output = await signMessage(input, {
          store,
          from,
          detached: !a.single.has('opaque'),
          digest: digest === undefined ? undefined : (digest.toUpperCase().replace('SHA', 'SHA-') as SignDigest),
          pss: a.single.has('pss'),
        });
        report = { command: 'sign', from, detached: !a.single.has('opaque'), digest: digest ?? 'sha256' };
        break;
      }
      case 'verify':
      case 'open': {
        const opts: VerifyOptions = { store };
        const at = a.single.get('at');
        if (at !== undefined) {
          const d = new Date(String(at));
          if (at === true || Number.isNaN(d.getTime())) throw new UsageError('--at takes a date and time, e.g. 2026-01-31T12:00:00Z');
          opts.at = d;
        }
        const verifyAt = a.single.get('verify-at');
        if (verifyAt !== undefined) {
          if (verifyAt !== 'now' && verifyAt !== 'signing-time') throw new UsageError('--verify-at takes now or signing-time');
          opts.verifyAt = verifyAt;
        }
        const r = a.command === 'verify' ? await verifyMessage(input, opts) : await openMessage(input, opts);
        output = r.content;
        const signers = r.signers.map(signerReport);
        const layers =
          'layers' in r
            ? r.layers.map((l) =>
                l.type === 'signed'
                  ? { type: l.type, detached: l.detached, signers: l.signers.map(signerReport) }
                  : { type: l.type, cipher: l.cipher, keyTransport: l.keyTransport, authenticated: l.authenticated, legacy: l.legacy, recipient: certSummary(l.recipient) },
              )
            : [{ type: 'signed', signers }];
        report = { command: a.command, signers, layers, ...('encrypted' in r ? { encrypted: r.encrypted, authenticated: r.authenticated } : {}) };
        if (a.command === 'verify' && (signers.length === 0 || signers.some((s) => s.status !== 'valid'))) {
          exit = 1;
          for (const s of signers) io.stderr(`smime: signer ${s.email ?? '(unknown)'}: ${s.status}${s.reasons.length ? ` (${s.reasons.join(', ')})` : ''}\n`);
        }
        break;
      }
      default:
        throw new UsageError(`unknown command: ${a.command}`);
    }
    if (exit !== 0) {
      const rp = str(a, 'report');
      if (rp) await writeOut(rp, new TextEncoder().encode(JSON.stringify(report, null, 2) + '\n'), io);
      return exit;
    }
    await writeOut(str(a, 'out'), output, io);
    const rp = str(a, 'report');
    if (rp) await writeOut(rp, new TextEncoder().encode(JSON.stringify(report, null, 2) + '\n'), io);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`smime: ${e.message}\n${USAGE}`);
      return 2;
    }
    if (e instanceof MissingRecipientCertificatesError) {
      io.stderr(`smime: encryption refused: no usable certificate for ${e.missing.length} recipient(s):\n`);
      for (const m of e.missing) io.stderr(`  ${m}: ${e.reasons[m]}\n`);
      return 3;
    }
    if (e instanceof SmimeError) {
      io.stderr(`smime: ${e.code}: ${e.message}\n`);
      return 1;
    }
    const err = e as NodeJS.ErrnoException;
    // The reader of our output went away (`smime decrypt | head`): not an error of ours, and nothing to say.
    if (err && err.code === 'EPIPE') return EXIT_PIPE;
    if (err && typeof err.code === 'string' && err.code.startsWith('E') && err.path) {
      io.stderr(`smime: cannot read or write ${err.path}: ${err.code}\n`);
      return 1;
    }
    io.stderr(`smime: internal error: ${err?.message ?? String(e)}\n`);
    return 70;
  }
}
