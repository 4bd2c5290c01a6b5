/**
 * Issue 15, certs-only messages (RFC 8551 §3.6) with the peers, both ways:
 * - what smime-core writes (exportCertificates DER and PEM, createCertsOnlyMessage) is read by OpenSSL (`openssl
 *   pkcs7 -print_certs`, `openssl smime -pk7out` on the MIME entity), NSS (`cmsutil -D -k` keeps its certificates
 *   in the database, `certutil -A` imports the .p7c) and Bouncy Castle (SmimePeer `certs`: CMSSignedData);
 * - what they write is read by store.addCertificate and verifyMessage: `openssl crl2pkcs7 -nocrl` (DER and PEM)
 *   and with a CRL, `openssl smime -pk7out`, NSS `cmsutil -O` (certs-only), Bouncy Castle `CMSSignedDataGenerator`
 *   without signers (BER, indefinite lengths);
 * - a SignedData with a signer (`openssl smime -pk7out` of a signed message) is refused with a clear CMSInvalid.
 * With CI=true a missing peer is a failure; elsewhere its tests skip with a notice.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CertificateStore, createCertsOnlyMessage, exportCertificates, verifyMessage } from '../../src/index.js';
import { CMSInvalid } from '../../src/errors.js';
import { run, tmp, tryRun, VECTORS } from '../_helpers/env.js';
import { CHAIN_FILE, compileSmimePeer, havePeers, ISSUING_CA_FILE, makeNssDb, type RunResult } from '../_helpers/peers.js';

const HAVE = havePeers();
const BOB_FILE = join(VECTORS, 'identities', 'bob.cert.pem');
const ALICE_FILE = join(VECTORS, 'identities', 'alice-sign.cert.pem');
const td = new TextDecoder();

const pemDers = (pem: string): Uint8Array[] =>
  [...pem.matchAll(/-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/g)].map((m) => new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
const hex = (b: Uint8Array | ArrayBuffer) => Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString('hex');
const BOB = pemDers(readFileSync(BOB_FILE, 'utf8'))[0]!;
const ALICE = pemDers(readFileSync(ALICE_FILE, 'utf8'))[0]!;
const CHAIN = pemDers(readFileSync(CHAIN_FILE, 'utf8'));
const EXPECTED = [BOB, ...CHAIN].map(hex).sort();

let dir = '';
let n = 0;
/** A new empty directory in the test's temporary directory. */
function subdir(name: string): string {
  const d = join(dir, `${name}${++n}`);
  mkdirSync(d);
  return d;
}
function put(data: Uint8Array | string, ext: string): string {
  const f = join(dir, `f${++n}.${ext}`);
  writeFileSync(f, data);
  return f;
}

/**
 * Bob's key (vectors/identities/bob.key.pem) certified by the sample issuing CA from now for a year, with the
 * sample certificate's subject, usages and address: a leaf valid whenever the test runs. Its DER.
 */
function bobCertifiedNow(d: string): Uint8Array {
  const ext = join(d, 'leaf.cnf');
  writeFileSync(ext, '[leaf]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation,keyEncipherment\nextendedKeyUsage=emailProtection\nsubjectAltName=email:bob@example.com\n');
  const csr = join(d, 'bob.csr');
  run('openssl', ['req', '-new', '-key', join(VECTORS, 'identities', 'bob.key.pem'), '-subj', '/C=US/O=smime-core demo/CN=Bob Example', '-out', csr]);
  const pem = td.decode(run('openssl', [
    'x509', '-req', '-in', csr, '-CA', ISSUING_CA_FILE, '-CAkey', join(VECTORS, 'pki', 'issuing-ca.key.pem'),
    '-set_serial', '0x7b0b', '-days', '365', '-extfile', ext, '-extensions', 'leaf',
  ]));
  return pemDers(pem)[0]!;
}

/** What addCertificate returns for `input`, as sorted DER hex. */
async function added(input: Uint8Array | string): Promise<string[]> {
  const store = new CertificateStore();
  return (await store.addCertificate(input)).map((c) => hex(c.rawData)).sort();
}

beforeAll(() => {
  dir = tmp('certs-only-');
});

describe.runIf(HAVE.openssl)('certs-only with OpenSSL', () => {
  it('[openssl|out] openssl pkcs7 -print_certs reads our DER .p7c and our PEM .p7b: the same certificates', () => {
    const derFile = put(exportCertificates([BOB, ...CHAIN], 'der') as Uint8Array, 'p7c');
    const pemFile = put(exportCertificates([BOB, ...CHAIN], 'pem') as string, 'p7b');
    for (const args of [['-inform', 'DER', '-in', derFile], ['-in', pemFile]]) {
      const out = td.decode(run('openssl', ['pkcs7', ...args, '-print_certs']));
      expect(pemDers(out).map(hex).sort()).toEqual(EXPECTED);
    }
  });

  it('[openssl|out] openssl smime -pk7out reads our MIME entity; we read the PKCS7 it writes', async () => {
    const entity = put(createCertsOnlyMessage([BOB, ...CHAIN], { headers: { From: 'bob@example.com', Subject: 'certs' } }), 'eml');
    const pem = td.decode(run('openssl', ['smime', '-pk7out', '-in', entity]));
    expect(pem).toMatch(/^-----BEGIN PKCS7-----/);
    expect(pemDers(td.decode(run('openssl', ['pkcs7', '-print_certs'], pem))).map(hex).sort()).toEqual(EXPECTED);
    expect(await added(pem)).toEqual(EXPECTED);
  });

  it('[openssl|in] openssl crl2pkcs7 -nocrl, DER and PEM: addCertificate adds them all, verifyMessage says certs-only', async () => {
    const der = run('openssl', ['crl2pkcs7', '-nocrl', '-certfile', BOB_FILE, '-certfile', CHAIN_FILE, '-outform', 'DER']);
    const pem = td.decode(run('openssl', ['crl2pkcs7', '-nocrl', '-certfile', BOB_FILE, '-certfile', CHAIN_FILE]));
    expect(await added(der)).toEqual(EXPECTED);
    expect(await added(pem)).toEqual(EXPECTED);
    const v = await verifyMessage(der, { store: new CertificateStore() });
    expect(v.signers).toEqual([]);
    expect(v.certsOnly!.map((c) => hex(c.rawData)).sort()).toEqual(EXPECTED);
  });

  it('[openssl|in] openssl crl2pkcs7 with a CRL: the certificates and the CRL go into the store', async () => {
    const ca = subdir('ca');
    writeFileSync(join(ca, 'index.txt'), '');
    writeFileSync(join(ca, 'crlnumber'), '01\n');
    const cnf = put(`[ca]\ndefault_ca = CA\n[CA]\ndatabase = ${join(ca, 'index.txt')}\ncrlnumber = ${join(ca, 'crlnumber')}\ndefault_md = sha256\ndefault_crl_days = 30\n`, 'cnf');
    const crl = put('', 'crl');
    run('openssl', ['ca', '-gencrl', '-config', cnf, '-cert', ISSUING_CA_FILE, '-keyfile', join(VECTORS, 'pki', 'issuing-ca.key.pem'), '-out', crl]);
    const der = run('openssl', ['crl2pkcs7', '-in', crl, '-certfile', BOB_FILE, '-outform', 'DER']);
    const store = new CertificateStore();
    expect((await store.addCertificate(der)).map((c) => hex(c.rawData))).toEqual([hex(BOB)]);
    expect(store.crls.map(hex)).toEqual([hex(run('openssl', ['crl', '-in', crl, '-outform', 'DER']))]);
  });

  it('[openssl|in] openssl smime -pk7out of a signed message (a signer): CMSInvalid, not certs-only, nothing added', async () => {
    const msg = put('Content-Type: text/plain\r\n\r\nhello\r\n', 'txt');
    const signed = put('', 'eml');
    run('openssl', ['smime', '-sign', '-in', msg, '-signer', ALICE_FILE, '-inkey', join(VECTORS, 'identities', 'alice-sign.key.pem'), '-certfile', CHAIN_FILE, '-out', signed]);
    const pem = td.decode(run('openssl', ['smime', '-pk7out', '-in', signed]));
    const store = new CertificateStore();
    const e = await store.addCertificate(pem).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(CMSInvalid);
    expect((e as Error).message).toMatch(/not certs-only: the SignedData has 1 signer \(a signed message: verify it instead\)/);
    expect((await store.findEncryptionCertificate('alice@example.com')).certificate).toBeUndefined();
  });
});

describe.runIf(HAVE.nss)('certs-only with NSS', () => {
  let db = '';
  beforeAll(() => {
    db = makeNssDb(subdir('nss'));
  });
  const list = () => td.decode(run('certutil', ['-L', '-d', db]));

  // cmsutil verifies every certificate of a certs-only for its -u usage (default certUsageEmailSigner), so a bundle
  // with CA certificates fails there (SEC_ERROR_INADEQUATE_KEY_USAGE, whoever wrote it): the leaf alone is given,
  // its chain being in the database. cmsutil verifies it at the clock and has no option for another time, so the
  // leaf is Bob's key certified by the sample issuing CA for a year from now, as vectors/ certifies it (the sample
  // certificate expires 2029-01-01).
  it('[nss|out] cmsutil -D -k reads our .p7c, verifies it and keeps its certificate in the database', () => {
    expect(list()).not.toMatch(/bob@example.com/);
    const leaf = bobCertifiedNow(subdir('leaf'));
    const f = put(exportCertificates([leaf], 'der') as Uint8Array, 'p7c');
    const r = tryRun('cmsutil', ['-D', '-k', '-n', '-i', f, '-d', db]);
    expect(r.status, r.stderr).toBe(0);
    expect(list()).toMatch(/bob@example.com/);
    expect(hex(run('certutil', ['-L', '-d', db, '-n', 'bob@example.com', '-r']))).toBe(hex(leaf));
  });

  it('[nss|out] certutil -A imports our .p7c', () => {
    const d2 = makeNssDb(subdir('nss'));
    const f = put(exportCertificates([ALICE], 'der') as Uint8Array, 'p7c');
    run('certutil', ['-A', '-d', d2, '-n', 'alice', '-t', ',,', '-i', f]);
    const got = run('certutil', ['-L', '-d', d2, '-n', 'alice', '-r']);
    expect(hex(got)).toBe(hex(ALICE));
  });

  // NSS writes an empty eContent (an OCTET STRING of no bytes) where RFC 5652 omits it: read as no content.
  it('[nss|in] cmsutil -O (a certs-only message NSS writes, BER with an empty eContent): addCertificate reads it', async () => {
    const d3 = makeNssDb(subdir('nss'));
    run('certutil', ['-A', '-d', d3, '-n', 'bob', '-t', ',,', '-i', BOB_FILE]);
    const out = join(dir, `nss-out${++n}.p7c`);
    const r = tryRun('cmsutil', ['-O', '-r', 'bob', '-d', d3, '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    const withChain = [BOB, CHAIN[0]!].map(hex).sort(); // NSS adds the chain up to, not including, the root
    expect(await added(new Uint8Array(readFileSync(out)))).toEqual(withChain);
    const v = await verifyMessage(new Uint8Array(readFileSync(out)), { store: new CertificateStore() });
    expect(v.certsOnly!.map((c) => hex(c.rawData)).sort()).toEqual(withChain);
    expect(v.signers).toEqual([]);
  });
});

describe.runIf(HAVE.bc)('certs-only with Bouncy Castle', () => {
  let peer: (args: string[]) => Promise<RunResult>;
  beforeAll(() => {
    peer = compileSmimePeer(subdir('bc'));
  }, 120_000);

  it('[bc|out] CMSSignedData reads our .p7c: no signer, every certificate', async () => {
    const f = put(exportCertificates([BOB, ...CHAIN], 'der') as Uint8Array, 'p7c');
    const r = await peer(['certs', '--in', f]);
    expect(r.status, r.stderr).toBe(0);
    const [first, ...certs] = r.stdout.trim().split('\n');
    expect(first).toBe('signers 0');
    expect(certs.map((b) => hex(new Uint8Array(Buffer.from(b, 'base64')))).sort()).toEqual(EXPECTED);
  });

  it('[bc|in] a certs-only BC writes (BER, indefinite lengths): addCertificate and verifyMessage read it', async () => {
    const out = join(dir, `bc${++n}.p7c`);
    const r = await peer(['certs-only', '--cert', BOB_FILE, '--cert', CHAIN_FILE, '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    const bytes = new Uint8Array(readFileSync(out));
    expect(bytes[1]).toBe(0x80); // BER
    expect(await added(bytes)).toEqual(EXPECTED);
    expect((await verifyMessage(bytes, { store: new CertificateStore() })).certsOnly).toHaveLength(3);
  });
});
