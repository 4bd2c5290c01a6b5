/**
 * The interop peers' set-up, shared by the tests that hand smime-core's output to them (test/interop/
 * matrix-outbound.test.ts, test/pkcs11/interop-sign.test.ts): the sample PKI's files, an NSS database for `cmsutil`,
 * Bouncy Castle's vectors/java/SmimePeer.java compiled, and a non-blocking command runner.
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
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

/** Compiles vectors/java/SmimePeer.java into `dir/classes`; returns a runner of its commands. */
export function compileSmimePeer(dir: string): (args: string[]) => Promise<RunResult> {
  const classes = join(dir, 'classes');
  mkdirSync(classes);
  run('javac', ['-nowarn', '-Xlint:-options', '-cp', BC_JARS, '-d', classes, join(VECTORS, 'java', 'SmimePeer.java')]);
  return (args) => runAsync('java', ['-cp', `${BC_JARS}:${classes}`, 'SmimePeer', ...args]);
}
