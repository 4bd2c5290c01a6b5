/**
 * The interop peers' set-up, shared by the tests that hand smime-core's output to them (test/interop/
 * matrix-outbound.test.ts, test/pkcs11/interop-sign.test.ts): the sample PKI's files, an NSS database for `cmsutil`,
 * Bouncy Castle's vectors/java/SmimePeer.java compiled, and a non-blocking command runner.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasPeer, run, VECTORS } from './env.js';
import { PASSWORD } from './identities.js';

/** The sample root CA (the trust anchor), PEM file. */
export const ROOT_CA_FILE = join(VECTORS, 'pki', 'root-ca.cert.pem');
/** The sample issuing CA, PEM file. */
export const ISSUING_CA_FILE = join(VECTORS, 'pki', 'issuing-ca.cert.pem');
/** The issuing and root CAs, PEM file. */
export const CHAIN_FILE = join(VECTORS, 'pki', 'chain.pem');
/** Debian's Bouncy Castle jars (libbcprov-java, libbcpkix-java, libbcutil-java), as a class path. */
export const BC_JARS = ['bcprov', 'bcpkix', 'bcutil'].map((j) => `/usr/share/java/${j}.jar`).join(':');

/** Which peers are installed (with CI=true a missing one throws, see hasPeer). Evaluated on first use. */
export const havePeers = () => ({
  openssl: hasPeer('openssl', ['version']),
  nss: hasPeer('cmsutil', ['-h']) && hasPeer('certutil', ['-h']) && hasPeer('pk12util', ['-h']),
  gpgsm: hasPeer('gpgsm', ['--version']) && hasPeer('gpgconf', ['--version']),
  bc: hasPeer('java', ['-version']) && hasPeer('javac', ['-version']),
});

/** What `runAsync` returns. */
export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a command without blocking the event loop (so concurrent tests overlap); stdout and stderr as latin1. */
export function runAsync(cmd: string, args: string[], input?: string): Promise<RunResult> {
  return new Promise<RunResult>((resolve) => {
    const child = execFile(cmd, args, { maxBuffer: 1 << 26, encoding: 'latin1' }, (err, stdout, stderr) => {
      const status = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ status, stdout: String(stdout), stderr: String(stderr) });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/**
 * An NSS database in `dir/nssdb` (empty password) with the sample root trusted for everything, the issuing CA, and
 * the given PKCS#12 files (sample password) imported. Returns the `-d` argument (`sql:…`).
 */
export function makeNssDb(dir: string, p12Files: readonly string[] = []): string {
  const d = join(dir, 'nssdb');
  mkdirSync(d);
  const db = `sql:${d}`;
  run('certutil', ['-N', '-d', db, '--empty-password']);
  run('certutil', ['-A', '-d', db, '-n', 'root', '-t', 'C,C,C', '-i', ROOT_CA_FILE]);
  run('certutil', ['-A', '-d', db, '-n', 'issuing', '-t', ',,', '-i', ISSUING_CA_FILE]);
  for (const f of p12Files) run('pk12util', ['-i', f, '-d', db, '-W', PASSWORD, '-K', '']);
  return db;
}

/** Checks a detached signature (`der`, the CMS) over `content` with `cmsutil -D … -h 2 -n`; the stdout and stderr. */
export async function nssVerify(db: string, derFile: string, contentFile: string): Promise<string> {
  const r = await runAsync('cmsutil', ['-D', '-i', derFile, '-c', contentFile, '-d', db, '-h', '2', '-n']);
  return r.stdout + r.stderr;
}

/**
 * The JVM options of every SmimePeer run: each run is short (one message), so the client compiler alone (no C2
 * warm-up threads) and the serial collector; about a third less CPU per run than the defaults, same results.
 */
export const JAVA_OPTIONS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];

let classesDir: string | undefined;

/**
 * vectors/java/SmimePeer.java compiled, once per source and jars for every test file and run (javac takes seconds
 * of CPU): the class folder, in the system's temporary directory, named by a hash of the source and the jars.
 */
export function smimePeerClasses(): string {
  if (classesDir && existsSync(join(classesDir, 'SmimePeer.class'))) return classesDir;
  const source = join(VECTORS, 'java', 'SmimePeer.java');
  const h = createHash('sha256').update(readFileSync(source));
  for (const jar of BC_JARS.split(':')) {
    const st = statSync(jar, { throwIfNoEntry: false });
    h.update(`${jar} ${st?.size} ${st?.mtimeMs}\n`);
  }
  const dir = join(tmpdir(), `smime-core-bc-classes-${h.digest('hex').slice(0, 16)}`);
  if (!existsSync(join(dir, 'SmimePeer.class'))) {
    // Compiled beside it, then renamed into place: a file running at the same time finds all the classes or none.
    const fresh = mkdtempSync(`${dir}.tmp-`);
    run('javac', ['-nowarn', '-Xlint:-options', '-cp', BC_JARS, '-d', fresh, source]);
    try {
      renameSync(fresh, dir);
    } catch {
      rmSync(fresh, { recursive: true, force: true }); // another file won the race: its classes are the same
    }
    if (!existsSync(join(dir, 'SmimePeer.class'))) throw new Error(`SmimePeer.java did not compile into ${dir}`);
  }
  return (classesDir = dir);
}

/**
 * SmimePeer compiled (smimePeerClasses; `_dir` is no longer used); returns a runner of its commands. They run in one
 * JVM per runner (SmimePeer's `serve`, started on the first command), one after the other in the order given, with
 * the status and output each would have on its own: a JVM start per command took most of the peer's time.
 */
export function compileSmimePeer(_dir?: string): (args: string[]) => Promise<RunResult> {
  const classes = smimePeerClasses();
  let server: ReturnType<typeof serveSmimePeer> | undefined;
  return (args) => (server ??= serveSmimePeer(classes))(args);
}

/** Starts `SmimePeer serve`; a function that sends it one command and resolves with that command's result. */
function serveSmimePeer(classes: string): (args: string[]) => Promise<RunResult> {
  const child = spawn('java', [...JAVA_OPTIONS, '-cp', `${BC_JARS}:${classes}`, 'SmimePeer', 'serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const waiting: { resolve: (r: RunResult) => void; reject: (e: Error) => void }[] = [];
  let buffered = Buffer.alloc(0);
  let stderr = '';
  let gone: Error | undefined;
  child.stdout.on('data', (b: Buffer) => {
    buffered = Buffer.concat([buffered, b]);
    for (;;) {
      const nl = buffered.indexOf(10);
      if (nl < 0) return;
      const [status, outLength, errLength] = buffered.subarray(0, nl).toString('latin1').split(' ').map(Number) as [number, number, number];
      const end = nl + 1 + outLength + errLength;
      if (buffered.length < end) return;
      const stdout = buffered.subarray(nl + 1, nl + 1 + outLength).toString('latin1');
      const err = buffered.subarray(nl + 1 + outLength, end).toString('latin1');
      buffered = buffered.subarray(end);
      waiting.shift()?.resolve({ status, stdout, stderr: err });
    }
  });
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString('latin1')));
  const fail = (e: Error) => {
    gone ??= e;
    for (const w of waiting.splice(0)) w.reject(gone);
  };
  child.on('error', fail);
  child.on('exit', (code) => fail(new Error(`SmimePeer serve exited (${code}): ${stderr}`)));
  child.stdin.on('error', () => {}); // the exit above says why
  // Never keeps the test process alive; gone with it (its stdin closes).
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void }).unref?.();
  process.once('exit', () => child.kill());
  return (args) =>
    new Promise<RunResult>((resolve, reject) => {
      if (gone) return reject(gone);
      if (args.some((a) => /[\t\r\n]/.test(a))) return reject(new Error(`SmimePeer serve: an argument holds a tab or a line break: ${JSON.stringify(args)}`));
      waiting.push({ resolve, reject });
      child.stdin.write(`${args.join('\t')}\n`);
    });
}
