/**
 * A sample PKI for the online revocation tests, generated at test time with OpenSSL, and the real servers it
 * points to, started by the tests: `openssl ocsp` responders (signed by the issuing CA itself, by a delegated
 * responder with id-kp-OCSPSigning and id-pkix-ocsp-nocheck, by a rogue key with the CA's name, and one whose
 * answers expire after a minute) and a small `node:http` server serving the CRLs and CA certificates.
 *
 * The certificates name fixed hosts (`ocsp.smime.test`, `pki.smime.test`); `routedFetch` sends each host to the
 * local port the test chooses, so one set of certificates meets every responder.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { run, tmp } from './env.js';
import { freePorts } from './ports.js';

/** The leaves of the sample PKI: what each one's AIA and CRLDP name, and its state at the CA. */
export const LEAVES = {
  good: { serial: '2001', ocsp: true, crl: true, caIssuers: 'inter.der', state: 'valid' },
  revoked: { serial: '2002', ocsp: true, crl: true, caIssuers: 'inter.der', state: 'revoked' },
  unknown: { serial: '2003', ocsp: true, crl: false, caIssuers: undefined, state: 'absent' },
  ocsponly: { serial: '2004', ocsp: true, crl: false, caIssuers: undefined, state: 'valid' },
  crlgood: { serial: '2005', ocsp: false, crl: true, caIssuers: 'inter.p7c', state: 'valid' },
  crlrevoked: { serial: '2006', ocsp: false, crl: true, caIssuers: undefined, state: 'revoked' },
  // For clients that cannot route names (the CLI on the global fetch): their AIA names the local ports.
  directrevoked: { serial: '2007', ocsp: 'ca', crl: false, caIssuers: undefined, state: 'revoked' },
  directdead: { serial: '2008', ocsp: 'dead', crl: false, caIssuers: undefined, state: 'valid' },
} as const;
export type LeafName = keyof typeof LEAVES;

/** The responders: signed by the CA, by a delegated responder, by a rogue key, with answers valid for a minute. */
export type ResponderName = 'ca' | 'delegated' | 'rogue' | 'short';

export interface RevocationPki {
  dir: string;
  /** PEM of each certificate, and the DER of the CRLs. */
  pem(name: LeafName | 'root' | 'inter' | 'deleg' | 'rogue'): string;
  file(name: string): string;
  /** The local port of each responder, of the http server, and one with nothing listening. */
  ports: Record<ResponderName, number> & { http: number; dead: number };
  /** Requests the http server answered, by path. */
  hits: Map<string, number>;
  stop(): Promise<void>;
}

const OCSP_HOST = 'ocsp.smime.test';
const PKI_HOST = 'pki.smime.test';

/** Waits until something accepts connections on `port`. */
async function waitForPort(port: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), r(true)));
      c.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A test CA made with the openssl command in `dir`: `key(n)` an EC P-256 key `n.key`, `root(subj)` the self-signed
 * `root.pem` (CA, keyCertSign and cRLSign, 60 days), `issue(n, subj, ca, serial, ext)` `n.pem` signed by `ca` for 30
 * days with the extension lines `ext`. Files are named by `f(name)`.
 */
export function opensslCa(dir: string) {
  const f = (n: string) => join(dir, n);
  const key = (n: string) => run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f(`${n}.key`)]);
  const root = (subj: string) => {
    key('root');
    run('openssl', ['req', '-x509', '-new', '-key', f('root.key'), '-subj', subj, '-days', '60', '-sha256', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', f('root.pem')]);
  };
  const issue = (n: string, subj: string, ca: string, serial: string, ext: string[]) => {
    writeFileSync(f(`${n}.ext`), `[x]\n${ext.join('\n')}\n`);
    run('openssl', ['req', '-new', '-key', f(`${n}.key`), '-subj', subj, '-out', f(`${n}.csr`)]);
    run('openssl', ['x509', '-req', '-in', f(`${n}.csr`), '-CA', f(`${ca}.pem`), '-CAkey', f(`${ca}.key`), '-set_serial', `0x${serial}`, '-days', '30', '-sha256', '-extfile', f(`${n}.ext`), '-extensions', 'x', '-out', f(`${n}.pem`)]);
  };
  return { f, key, root, issue };
}

const yymmdd = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';

/** A responder could not bind its port (another process took it after it was chosen). */
class PortTaken extends Error {}

/**
 * Generates the PKI and starts the servers. The responders' ports are chosen distinct; should another process take
 * one before its responder binds it, the responder exits and everything is made again on new ports.
 */
export async function startRevocationPki(): Promise<RevocationPki> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce();
    } catch (e) {
      if (!(e instanceof PortTaken) || attempt >= 3) throw e;
    }
  }
}

async function startOnce(): Promise<RevocationPki> {
  const dir = tmp('smime-revocation-');
  const [ca, delegated, rogue, short, dead] = (await freePorts(5)) as [number, number, number, number, number];
  // `http` is the node server's own (it binds port 0 below); nothing listens on `dead`. (Not a low port such as 1:
  // fetch refuses the spec's "bad ports" before it connects, which would test something else.)
  const ports = { ca, delegated, rogue, short, http: 0, dead };
  const { f, key, root, issue } = opensslCa(dir);
  root('/CN=Revocation Test Root');
  key('inter');
  issue('inter', '/CN=Revocation Test Issuing CA', 'root', '1001', [
    'basicConstraints=critical,CA:TRUE',
    'keyUsage=critical,keyCertSign,cRLSign',
    'subjectKeyIdentifier=hash',
    'authorityKeyIdentifier=keyid',
    `crlDistributionPoints=URI:http://${PKI_HOST}/root.crl`,
    `authorityInfoAccess=caIssuers;URI:http://${PKI_HOST}/root.der`,
  ]);
  const leafExt = (name: LeafName) => {
    const l = LEAVES[name];
    const ocspUrl = l.ocsp === 'ca' || l.ocsp === 'dead' ? `http://127.0.0.1:${ports[l.ocsp]}/` : `http://${OCSP_HOST}/`;
    const aia = [...(l.ocsp ? [`OCSP;URI:${ocspUrl}`] : []), ...(l.caIssuers ? [`caIssuers;URI:http://${PKI_HOST}/${l.caIssuers}`] : [])];
    return [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyAgreement',
      'extendedKeyUsage=emailProtection',
      `subjectAltName=email:${name}@example.com`,
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid',
      ...(aia.length ? [`authorityInfoAccess=${aia.join(',')}`] : []),
      ...(l.crl ? [`crlDistributionPoints=URI:http://${PKI_HOST}/inter.crl`] : []),
    ];
  };
  for (const name of Object.keys(LEAVES) as LeafName[]) {
    key(name);
    issue(name, `/CN=${name}/emailAddress=${name}@example.com`, 'inter', LEAVES[name].serial, leafExt(name));
  }
  // The delegated responder: issued by the CA for OCSP signing, with id-pkix-ocsp-nocheck.
  key('deleg');
  issue('deleg', '/CN=Revocation Test OCSP Responder', 'inter', '2010', ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=OCSPSigning', 'noCheck=ignored', 'authorityKeyIdentifier=keyid']);
  // A rogue responder: the CA's name, another key, self-signed.
  key('rogue');
  run('openssl', ['req', '-x509', '-new', '-key', f('rogue.key'), '-subj', '/CN=Revocation Test Issuing CA', '-days', '30', '-sha256', '-addext', 'extendedKeyUsage=OCSPSigning', '-out', f('rogue.pem')]);

  // The CA databases (index.txt): the leaves, revoked ones with keyCompromise; 'unknown' is not there.
  const now = new Date();
  const exp = yymmdd(new Date(now.getTime() + 30 * 86400_000));
  const revokedAt = yymmdd(new Date(now.getTime() - 3600_000));
  const subj = (n: string) => `/CN=${n}/emailAddress=${n}@example.com`;
  const index = (Object.keys(LEAVES) as LeafName[])
    .filter((n) => LEAVES[n].state !== 'absent')
    .map((n) => (LEAVES[n].state === 'revoked' ? `R\t${exp}\t${revokedAt},keyCompromise\t${LEAVES[n].serial}\tunknown\t${subj(n)}` : `V\t${exp}\t\t${LEAVES[n].serial}\tunknown\t${subj(n)}`));
  index.push(`V\t${exp}\t\t2010\tunknown\t/CN=Revocation Test OCSP Responder`);
  writeFileSync(f('index.txt'), index.join('\n') + '\n');
  writeFileSync(f('root-index.txt'), `V\t${exp}\t\t1001\tunknown\t/CN=Revocation Test Issuing CA\n`);
  const gencrl = (ca: string, db: string) => {
    writeFileSync(f(`${ca}-crlnumber`), '01\n');
    writeFileSync(
      f(`${ca}-ca.cnf`),
      `[ca]\ndefault_ca=d\n[d]\ndatabase=${f(db)}\ncrlnumber=${f(`${ca}-crlnumber`)}\ndefault_md=sha256\ndefault_crl_days=7\ncrl_extensions=e\n[e]\nauthorityKeyIdentifier=keyid\n`,
    );
    run('openssl', ['ca', '-gencrl', '-config', f(`${ca}-ca.cnf`), '-keyfile', f(`${ca}.key`), '-cert', f(`${ca}.pem`), '-out', f(`${ca}.crl.pem`)]);
    run('openssl', ['crl', '-in', f(`${ca}.crl.pem`), '-outform', 'DER', '-out', f(`${ca}.crl`)]);
  };
  gencrl('inter', 'index.txt');
  gencrl('root', 'root-index.txt');
  for (const n of ['root', 'inter']) run('openssl', ['x509', '-in', f(`${n}.pem`), '-outform', 'DER', '-out', f(`${n}.der`)]);
  run('openssl', ['crl2pkcs7', '-nocrl', '-certfile', f('inter.pem'), '-outform', 'DER', '-out', f('inter.p7c')]);

  // The servers.
  const responders: ChildProcess[] = [];
  // Each responder says `ACCEPT [::]:port` on stdout once it has bound its port, or exits when it cannot.
  const bound: Promise<boolean>[] = [];
  const responder = (port: number, signer: string, extra: string[] = []) => {
    const p = spawn('openssl', ['ocsp', '-index', f('index.txt'), '-CA', f('inter.pem'), '-rsigner', f(`${signer}.pem`), '-rkey', f(`${signer}.key`), '-port', String(port), '-multi', '2', ...extra], { stdio: ['ignore', 'pipe', 'ignore'] });
    responders.push(p);
    bound.push(
      new Promise<boolean>((resolve) => {
        let out = '';
        p.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('ACCEPT')) resolve(true);
        });
        p.once('exit', () => resolve(false));
      }),
    );
  };
  responder(ports.ca, 'inter');
  responder(ports.delegated, 'deleg');
  responder(ports.rogue, 'rogue');
  responder(ports.short, 'inter', ['-nmin', '1']);
  const hits = new Map<string, number>();
  const served: Record<string, string> = { '/root.crl': 'root.crl', '/inter.crl': 'inter.crl', '/root.der': 'root.der', '/inter.der': 'inter.der', '/inter.p7c': 'inter.p7c' };
  const http: Server = createHttpServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path === '/slow') return; // never answers: the client's timeout ends it
    if (path === '/big') {
      res.writeHead(200, { 'content-type': 'application/pkix-crl' });
      res.end(Buffer.alloc(2 * 1024 * 1024, 0x30));
      return;
    }
    const file = served[path];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200).end(readFileSync(f(file)));
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  ports.http = (http.address() as AddressInfo).port;
  const stop = async () => {
    // `-multi` forks workers that outlive their parent (and spin once it is gone): the whole process group goes.
    for (const p of responders) {
      if (p.pid !== undefined) spawnSync('pkill', ['-KILL', '-P', String(p.pid)]);
      p.kill('SIGKILL');
    }
    http.closeAllConnections();
    await new Promise<void>((r) => http.close(() => r()));
  };
  try {
    // A responder that could not bind has exited (and what answers on its port is someone else).
    if (!(await Promise.all(bound)).every(Boolean)) throw new PortTaken('an openssl ocsp responder could not bind its port');
    await Promise.all([ports.ca, ports.delegated, ports.rogue, ports.short].map((p) => waitForPort(p)));
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    dir,
    pem: (name) => readFileSync(f(`${name}.pem`), 'utf8'),
    file: f,
    ports,
    hits,
    stop,
  };
}

/** One request the routed fetch passed on. */
export interface FetchLog {
  url: string;
  method: string;
}

/**
 * A `fetch` that sends `ocsp.smime.test` to `ocspPort` and `pki.smime.test` to the http server (paths rewritten by
 * `rewrite`), over Node's real fetch; every request is logged.
 */
export function routedFetch(pki: RevocationPki, ocspPort: number, opts: { rewrite?: Record<string, string>; log?: FetchLog[] } = {}) {
  return async (url: string, init?: { method?: string; headers?: Record<string, string>; body?: Uint8Array<ArrayBuffer>; signal?: AbortSignal }) => {
    const u = new URL(url);
    opts.log?.push({ url, method: init?.method ?? 'GET' });
    const port = u.hostname === OCSP_HOST ? ocspPort : u.hostname === PKI_HOST ? pki.ports.http : pki.ports.dead;
    const path = opts.rewrite?.[u.pathname] ?? u.pathname;
    return httpFetch(`http://127.0.0.1:${port}${path}`, init);
  };
}

/**
 * A fetch over node:http without keep-alive: `openssl ocsp` answers one connection at a time and keeps it open,
 * so the pooled connections of the global fetch would queue behind each other.
 */
function httpFetch(url: string, init?: { method?: string; headers?: Record<string, string>; body?: Uint8Array; signal?: AbortSignal }): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init?.method ?? 'GET', headers: { ...init?.headers, connection: 'close' }, agent: false, signal: init?.signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(new Response(res.statusCode === 204 ? null : Buffer.concat(chunks), { status: res.statusCode ?? 500 })));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init?.body);
  });
}
