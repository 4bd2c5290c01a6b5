/**
 * A real PKCS#11 token for the tests: SoftHSM2 with a token in a temporary directory, holding sample identities of
 * vectors/ (keys imported with pkcs11-tool, so they are sensitive but not "never extractable"), one RSA-2048 key
 * GENERATED on the token (CKA_SENSITIVE true, CKA_EXTRACTABLE false) with a certificate from the sample issuing CA
 * for alice@example.com, and one key whose CKA_SIGN and CKA_DECRYPT are false (for "the key refuses").
 *
 * SoftHSM reads SOFTHSM2_CONF from the environment of the process that loads it, when C_Initialize runs: the tests
 * load the module in the vitest worker (a forked process per test file), so `createSoftHsmToken` sets
 * `process.env.SOFTHSM2_CONF` to its token's configuration. Each call makes its own directory, so two test files
 * (two workers) never share a token directory; within one process, create the token before the first
 * `openPkcs11Token` of the module (SoftHSM reads the configuration again only after its last token closed).
 * The children the harness runs (softhsm2-util, pkcs11-tool, node) get the same variable through `env`.
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { x509 } from '../../src/certs/x509.js';
import { IN_CI, REPO, VECTORS } from './env.js';
import { manifest } from './identities.js';

const exec = promisify(execFile);

/** Where distributions put SoftHSM2's module. */
const MODULE_CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
  '/opt/homebrew/lib/softhsm/libsofthsm2.so',
];

/** The SoftHSM2 module's path, or undefined when it is not installed. */
export const SOFTHSM_MODULE: string | undefined = MODULE_CANDIDATES.find((p) => existsSync(p));

let availability: boolean | undefined;

/**
 * True when SoftHSM2 (module and softhsm2-util) and pkcs11-tool are installed. Missing: with CI=true a failure,
 * elsewhere a visible notice (the caller skips).
 */
export async function softHsmAvailable(): Promise<boolean> {
  if (availability !== undefined) return availability;
  const tools = await Promise.all(
    [['softhsm2-util', '--version'], ['pkcs11-tool', '--show-info', '--module', SOFTHSM_MODULE ?? '/nonexistent']].map(([cmd, ...args]) =>
      exec(cmd!, args).then(
        () => true,
        (e: { code?: unknown }) => e.code !== 'ENOENT',
      ),
    ),
  );
  availability = SOFTHSM_MODULE !== undefined && tools.every(Boolean);
  if (!availability) {
    if (IN_CI) throw new Error('SoftHSM2 (softhsm2-util, libsofthsm2.so) or pkcs11-tool is not installed, and CI=true forbids skipping');
    console.warn('[smime-core tests] NOTICE: SoftHSM2 or pkcs11-tool is not installed: the PKCS#11 token tests are skipped');
  }
  return availability;
}

/** One object pair (private key + certificate) on the token. */
export interface SoftHsmObject {
  /** CKA_ID, hex. */
  id: string;
  /** CKA_LABEL of both objects. */
  label: string;
  /** The certificate (DER). */
  certificate: Uint8Array;
}

/** What `createSoftHsmToken` is asked for. */
export interface SoftHsmTokenOptions {
  /** The token label. */
  label: string;
  /** The user PIN. */
  pin: string;
  /** The security officer's PIN (default: a fixed test value). */
  soPin?: string;
  /** Sample identities of vectors/manifest.json to import (key + certificate). Default: DEFAULT_TOKEN_IDENTITIES. */
  identities?: readonly string[];
}

/** A SoftHSM2 token ready for `openPkcs11Token`. */
export interface SoftHsmToken {
  /** The module path. */
  module: string;
  /** The token label. */
  label: string;
  /** The user PIN. */
  pin: string;
  /** The SO PIN. */
  soPin: string;
  /** The token's slot ID (SoftHSM assigns it at initialization). */
  slot: number;
  /** The temporary directory (softhsm2.conf and tokens/). */
  dir: string;
  /** The environment for a child process that uses the token (process.env with SOFTHSM2_CONF). */
  env: NodeJS.ProcessEnv;
  /** The imported sample identities by manifest name. */
  identities: Record<string, SoftHsmObject>;
  /** The RSA-2048 key generated on the token (never extractable) and its certificate (alice@example.com). */
  generated: SoftHsmObject;
  /** A key with CKA_SIGN false and CKA_DECRYPT false (frank-signonly's key and certificate). */
  refusing: SoftHsmObject;
  /** Removes the directory. */
  cleanup(): void;
}

/** RSA-2048 (signing, encryption, dual-use), P-256 (signing) and P-384 (key agreement): the sample identities whose OpenSSL messages are in vectors/manifest.json. */
export const DEFAULT_TOKEN_IDENTITIES = ['alice-sign', 'alice-enc-2025', 'bob', 'ec-sign', 'ec-enc'] as const;

/** The label (and manifest name) of the key generated on the token. */
export const GENERATED_LABEL = 'alice-token';
/** The sample identity whose key is imported with CKA_SIGN and CKA_DECRYPT false. */
export const REFUSING_IDENTITY = 'frank-signonly';

/** Creates a SoftHSM2 token in a new temporary directory and sets process.env.SOFTHSM2_CONF to it (see above). */
export async function createSoftHsmToken(options: SoftHsmTokenOptions): Promise<SoftHsmToken> {
  const module = SOFTHSM_MODULE;
  if (!module) throw new Error('SoftHSM2 is not installed');
  const { label, pin } = options;
  const soPin = options.soPin ?? '87654321';
  const dir = mkdtempSync(join(tmpdir(), 'smime-softhsm-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    const conf = join(dir, 'softhsm2.conf');
    const tokens = join(dir, 'tokens');
    mkdirSync(tokens);
    writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
    const env = { ...process.env, SOFTHSM2_CONF: conf };
    process.env.SOFTHSM2_CONF = conf;

    const init = await exec('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', soPin], { env });
    const slotMatch = /reassigned to slot (\d+)/.exec(init.stdout);
    if (!slotMatch) throw new Error(`softhsm2-util did not report the slot: ${init.stdout}`);
    const slot = Number(slotMatch[1]);
    const tool = (...args: string[]) => exec('pkcs11-tool', ['--module', module, '--token-label', label, '--login', '--pin', pin, ...args], { env });

    const write = async (name: string, id: string, extra: string[] = []): Promise<SoftHsmObject> => {
      const m = manifest.identities[name];
      if (!m) throw new Error(`no identity ${name} in vectors/manifest.json`);
      const keyPem = await readFile(join(VECTORS, m.key), 'utf8');
      const certificate = new Uint8Array(new X509Certificate(await readFile(join(VECTORS, m.cert))).raw);
      const keyFile = join(dir, `${id}.key.der`);
      const certFile = join(dir, `${id}.cert.der`);
      writeFileSync(keyFile, createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' }));
      writeFileSync(certFile, certificate);
      await tool('--write-object', keyFile, '--type', 'privkey', '--id', id, '--label', name, ...extra);
      await tool('--write-object', certFile, '--type', 'cert', '--id', id, '--label', name);
      rmSync(keyFile);
      return { id, label: name, certificate };
    };

    const identities: Record<string, SoftHsmObject> = {};
    const names = options.identities ?? DEFAULT_TOKEN_IDENTITIES;
    for (const [i, name] of names.entries()) {
      const ec = /^EC/.test(String((manifest.identities[name] as { keyAlgorithm?: string } | undefined)?.keyAlgorithm));
      identities[name] = await write(name, (i + 1).toString(16).padStart(2, '0'), ec ? ['--usage-derive'] : []);
    }

    // The key generated on the token, and a certificate for it from the sample issuing CA.
    const genId = 'a0';
    await tool('--keypairgen', '--key-type', 'rsa:2048', '--id', genId, '--label', GENERATED_LABEL, '--usage-sign', '--usage-decrypt');
    const pubFile = join(dir, 'generated.pub.der');
    await tool('--read-object', '--type', 'pubkey', '--id', genId, '--output-file', pubFile);
    const generatedCert = await issueCertificate(new Uint8Array(await readFile(pubFile)));
    const genCertFile = join(dir, 'generated.cert.der');
    writeFileSync(genCertFile, generatedCert);
    await tool('--write-object', genCertFile, '--type', 'cert', '--id', genId, '--label', GENERATED_LABEL);
    const generated = { id: genId, label: GENERATED_LABEL, certificate: generatedCert };

    // The refusing key: pkcs11-tool 0.23 sets CKA_SIGN and CKA_DECRYPT on every imported key whatever the --usage
    // flags say, so a child process clears them with C_SetAttributeValue.
    const refusing = await write(REFUSING_IDENTITY, 'f0');
    await exec(process.execPath, ['--input-type=module', '-e', CLEAR_USAGE], {
      cwd: REPO,
      env: { ...env, P11_MODULE: module, P11_SLOT: String(slot), P11_PIN: pin, P11_ID: refusing.id },
    });

    return { module, label, pin, soPin, slot, dir, env, identities, generated, refusing, cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}

/** Sets CKA_SIGN and CKA_DECRYPT false on the private key of CKA_ID $P11_ID (run with pkcs11js in a child). */
const CLEAR_USAGE = `
import pkcs11js from 'pkcs11js';
const p = new pkcs11js.PKCS11();
p.load(process.env.P11_MODULE);
p.C_Initialize();
try {
  const slot = p.C_GetSlotList(true).find((s) => s.readUInt32LE(0) === Number(process.env.P11_SLOT));
  const h = p.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  p.C_Login(h, pkcs11js.CKU_USER, process.env.P11_PIN);
  p.C_FindObjectsInit(h, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }, { type: pkcs11js.CKA_ID, value: Buffer.from(process.env.P11_ID, 'hex') }]);
  const [key] = p.C_FindObjects(h, 2);
  p.C_FindObjectsFinal(h);
  if (!key) throw new Error('no key with that CKA_ID');
  p.C_SetAttributeValue(h, key, [{ type: pkcs11js.CKA_SIGN, value: false }, { type: pkcs11js.CKA_DECRYPT, value: false }]);
  p.C_Logout(h);
  p.C_CloseSession(h);
} finally {
  p.C_Finalize();
}
`;

/** A signing certificate for alice@example.com, for `spki`, from the sample issuing CA (RSA, SHA-256). */
async function issueCertificate(spki: Uint8Array): Promise<Uint8Array> {
  const caCert = new x509.X509Certificate(await readFile(join(VECTORS, 'pki', 'issuing-ca.cert.pem'), 'utf8'));
  const caKeyDer = createPrivateKey(await readFile(join(VECTORS, 'pki', 'issuing-ca.key.pem'), 'utf8')).export({ type: 'pkcs8', format: 'der' });
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const caKey = await crypto.subtle.importKey('pkcs8', new Uint8Array(caKeyDer), alg, false, ['sign']);
  const publicKey = await crypto.subtle.importKey('spki', new Uint8Array(spki), alg, true, ['verify']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '20a0',
    subject: 'CN=Alice Example (token), O=smime-core demo, C=US',
    issuer: caCert.subject,
    notBefore: new Date('2025-06-01T00:00:00Z'),
    notAfter: new Date('2028-06-01T00:00:00Z'),
    publicKey,
    signingKey: caKey,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, false),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true),
      new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.4']),
      new x509.SubjectAlternativeNameExtension([{ type: 'email', value: 'alice@example.com' }]),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return new Uint8Array(cert.rawData);
}

/**
 * Initializes one more (empty) token beside `token`, in the same directory; returns its slot ID. Call it before the
 * process opens the module (SoftHSM scans its token directory at C_Initialize).
 */
export async function addEmptySoftHsmToken(token: SoftHsmToken, label: string, pin: string): Promise<number> {
  const init = await exec('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', token.soPin], { env: token.env });
  const slot = /reassigned to slot (\d+)/.exec(init.stdout);
  if (!slot) throw new Error(`softhsm2-util did not report the slot: ${init.stdout}`);
  return Number(slot[1]);
}
