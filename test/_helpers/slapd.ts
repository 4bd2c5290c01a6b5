/**
 * A real OpenLDAP directory for the tests of smime-core/ldap: `startSlapd({ entries })` writes a slapd.conf (mdb
 * backend, the core, cosine and inetorgperson schemas) into a temporary directory, starts slapd on a free port of
 * 127.0.0.1 as a child process, waits until it answers, loads the entries with ldapadd, and `stop()` kills it and
 * removes the directory. Nothing under the system's /etc/ldap or /var/lib/ldap is written (the schemas are read
 * from there); it runs as whoever runs the tests, root included (no -u/-g).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasPeer, tmp } from './env.js';
import { freePorts } from './ports.js';

/** One attribute value: a string, or bytes (written base64 in the LDIF). */
export type LdifValue = string | Uint8Array;

/** An entry to load: its DN and its attributes (objectClass included). */
export interface SlapdEntry {
  dn: string;
  attributes: Record<string, LdifValue | LdifValue[]>;
}

/** A running slapd. */
export interface Slapd {
  /** ldap://127.0.0.1:PORT, or the ldaps:// URL when started with `tls`. */
  url: string;
  port: number;
  baseDN: string;
  bindDN: string;
  password: string;
  /** Kills slapd (SIGTERM, then SIGKILL after 5 s), waits for it, and removes its directory. */
  stop(): Promise<void>;
}

const SCHEMA_DIR = '/etc/ldap/schema';
const MODULE_DIRS = ['/usr/lib/ldap', '/usr/lib/x86_64-linux-gnu/ldap', '/usr/lib/aarch64-linux-gnu/ldap', '/usr/libexec/openldap'];

/** True when slapd and ldapadd are installed (with CI=true, throws when they are not: never a silent skip). */
export function hasSlapd(): boolean {
  return hasPeer('slapd', ['-VV']) && hasPeer('ldapadd', ['-VV']);
}

function ldifLine(name: string, v: LdifValue): string {
  if (typeof v !== 'string') return `${name}:: ${Buffer.from(v).toString('base64')}`;
  // RFC 2849: a SAFE-STRING is written as is, anything else base64.
  return /^[\x01-\x09\x0b-\x0c\x0e-\x1f\x21-\x39\x3b\x3d-\x7f][\x01-\x09\x0b-\x0c\x0e-\x7f]*$/.test(v) && !v.endsWith(' ')
    ? `${name}: ${v}`
    : `${name}:: ${Buffer.from(v, 'utf8').toString('base64')}`;
}

/** The LDIF of some entries. */
export function toLdif(entries: readonly SlapdEntry[]): string {
  return entries
    .map((e) => {
      const lines = [ldifLine('dn', e.dn)];
      for (const [name, val] of Object.entries(e.attributes)) for (const v of Array.isArray(val) ? val : [val]) lines.push(ldifLine(name, v));
      return lines.join('\n') + '\n';
    })
    .join('\n');
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/** Starts slapd with the suffix dc=example,dc=com, its root entry, and `entries` loaded. */
export async function startSlapd(options: { entries?: readonly SlapdEntry[]; tls?: { certFile: string; keyFile: string } } = {}): Promise<Slapd> {
  const dir = tmp('smime-slapd-');
  const db = join(dir, 'db');
  mkdirSync(db);
  const baseDN = 'dc=example,dc=com';
  const bindDN = 'cn=admin,dc=example,dc=com';
  const password = 'slapd-test-secret';
  const modulePath = MODULE_DIRS.find((d) => existsSync(join(d, 'back_mdb.la')) || existsSync(join(d, 'back_mdb.so')));
  const conf = [
    `include ${SCHEMA_DIR}/core.schema`,
    `include ${SCHEMA_DIR}/cosine.schema`,
    `include ${SCHEMA_DIR}/inetorgperson.schema`,
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    ...(options.tls ? [`TLSCertificateFile ${options.tls.certFile}`, `TLSCertificateKeyFile ${options.tls.keyFile}`] : []),
    ...(modulePath ? [`modulepath ${modulePath}`, 'moduleload back_mdb'] : []),
    'database mdb',
    `suffix "${baseDN}"`,
    `rootdn "${bindDN}"`,
    `rootpw ${password}`,
    `directory ${db}`,
    'maxsize 16777216',
    '',
  ].join('\n');
  const confFile = join(dir, 'slapd.conf');
  writeFileSync(confFile, conf);
  // With TLS, slapd also listens for ldaps:// on a second port (the plain one is for loading the entries). Another
  // process may take a chosen port before slapd binds it: then slapd exits at once and is started on new ports.
  for (let attempt = 1; ; attempt++) {
    const [port, tlsPort] = await freePorts(options.tls ? 2 : 1);
    const plain = `ldap://127.0.0.1:${port}`;
    const url = tlsPort ? `ldaps://127.0.0.1:${tlsPort}` : plain;
    const listen = tlsPort ? `${plain}/ ${url}/` : `${plain}/`;
    const child = spawn('slapd', ['-h', listen, '-f', confFile, '-d', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const kill = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        if (!(await waitExit(child, 5000))) {
          child.kill('SIGKILL');
          await waitExit(child, 5000);
        }
      }
    };
    const stop = async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      // Wait until it answers (an anonymous base search of the root DSE).
      const deadline = Date.now() + 15_000;
      for (;;) {
        if (child.exitCode !== null) {
          if (attempt < 3) break;
          throw new Error(`slapd exited (${child.exitCode}): ${stderr}`);
        }
        const r = spawnSync('ldapsearch', ['-x', '-H', plain, '-b', '', '-s', 'base', '-o', 'nettimeout=2', '(objectClass=*)'], { stdio: 'ignore', timeout: 5000 });
        if (r.status === 0) break;
        if (Date.now() > deadline) throw new Error(`slapd did not answer on ${plain}: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      if (child.exitCode !== null) continue; // it could not bind: new ports
      const all: SlapdEntry[] = [{ dn: baseDN, attributes: { objectClass: ['top', 'dcObject', 'organization'], dc: 'example', o: 'Example' } }, ...(options.entries ?? [])];
      const add = spawnSync('ldapadd', ['-x', '-H', plain, '-D', bindDN, '-w', password], { input: toLdif(all) });
      if (add.status !== 0) throw new Error(`ldapadd failed: ${String(add.stderr)}`);
    } catch (e) {
      await stop();
      throw e;
    }
    return { url, port: port!, baseDN, bindDN, password, stop };
  }
}
