/**
 * The three verifying peers of the signed-attribute security tests (ess.test.ts, non_der_attrs.test.ts), run on
 * one detached signature (DER) and its content, over the test PKI of test/sign/_pki.ts:
 * - OpenSSL `cms -verify` (binary detached content, chain to the test root);
 * - NSS `cmsutil -D` against a database that trusts only the test root (as test/sign/interop-nss.test.ts builds it);
 * - Bouncy Castle through vectors/java/SmimePeer.java `verify` (compiled once for all the files: smimePeerClasses).
 * Each returns the peer's verdict and its output, so a test can assert what the peer said.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasPeer, run, tryRun } from '../_helpers/env.js';
import { BC_JARS, compileSmimePeer, JAVA_OPTIONS, smimePeerClasses } from '../_helpers/peers.js';
import { text, type TestPki } from '../sign/_pki.js';

export const HAVE = {
  openssl: hasPeer('openssl', ['version']),
  nss: hasPeer('cmsutil', ['-h']) && hasPeer('certutil', ['-h']) && hasPeer('pk12util', ['-h']),
  bc: hasPeer('java', ['-version']) && hasPeer('javac', ['-version']),
};

export interface Verdict {
  ok: boolean;
  output: string;
}

let n = 0;
function put(pki: TestPki, data: Uint8Array | string, ext: string): string {
  const f = join(pki.dir, `sec-${process.pid}-${++n}.${ext}`);
  writeFileSync(f, data);
  return f;
}

/** `openssl cms -verify` of a detached signature over `content` (`extra`: e.g. ['-cades'] to check ESS). */
export function opensslVerifyDetached(pki: TestPki, der: Uint8Array, content: Uint8Array, extra: string[] = []): Verdict {
  const r = tryRun('openssl', [
    'cms', '-verify', '-binary', '-inform', 'DER', '-in', put(pki, der, 'p7s'), '-content', put(pki, content, 'txt'),
    '-CAfile', pki.rootFile, '-purpose', 'smimesign', '-out', join(pki.dir, `sec-out-${++n}`), ...extra,
  ]);
  return { ok: r.status === 0 && r.stderr.includes('Verification successful'), output: r.stderr };
}

/** An NSS database that trusts the test root (the issuing CA is known, untrusted). */
export function nssDatabase(pki: TestPki): string {
  const dir = join(pki.dir, `nss-sec-${++n}`);
  mkdirSync(dir);
  const db = `sql:${dir}`;
  run('certutil', ['-N', '-d', db, '--empty-password']);
  run('certutil', ['-A', '-d', db, '-n', 'root', '-t', 'C,C,C', '-i', pki.rootFile]);
  run('certutil', ['-A', '-d', db, '-n', 'ca', '-t', ',,', '-i', pki.ca.certFile]);
  return db;
}

/** `cmsutil -D` of a detached signature: ok when it reports signer0.status=GoodSignature. */
export function nssVerifyDetached(pki: TestPki, db: string, der: Uint8Array, content: Uint8Array): Verdict {
  const r = tryRun('cmsutil', ['-D', '-i', put(pki, der, 'p7s'), '-c', put(pki, content, 'txt'), '-d', db, '-h', '2', '-n']);
  const output = `${text(r.stdout)}${r.stderr}`;
  return { ok: output.includes('signer0.status=GoodSignature'), output };
}

/** SmimePeer compiled (smimePeerClasses: once for all the files); returns the class folder. */
export function compileBc(_pki?: TestPki): string {
  return smimePeerClasses();
}

/** SmimePeer `verify` of a detached signature: ok when it reports status=valid. */
export function bcVerifyDetached(pki: TestPki, classes: string, der: Uint8Array, content: Uint8Array): Verdict {
  const r = tryRun('java', [
    ...JAVA_OPTIONS,
    '-cp', `${BC_JARS}:${classes}`, 'SmimePeer', 'verify', '--in', put(pki, der, 'p7s'), '--content', put(pki, content, 'txt'),
    '--trust', pki.rootFile,
  ]);
  const output = `${text(r.stdout)}${r.stderr}`;
  return { ok: r.status === 0 && output.includes('status=valid'), output };
}

let bcRunner: ReturnType<typeof compileSmimePeer> | undefined;

/** bcVerifyDetached through the file's one SmimePeer JVM (compileSmimePeer's runner), not a JVM per call. */
export async function bcVerifyDetachedServed(pki: TestPki, der: Uint8Array, content: Uint8Array): Promise<Verdict> {
  bcRunner ??= compileSmimePeer();
  const r = await bcRunner(['verify', '--in', put(pki, der, 'p7s'), '--content', put(pki, content, 'txt'), '--trust', pki.rootFile]);
  const output = `${r.stdout}${r.stderr}`;
  return { ok: r.status === 0 && output.includes('status=valid'), output };
}
