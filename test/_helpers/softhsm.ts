/**
 * A real PKCS#11 token for the tests: SoftHSM2 with a token in a temporary directory (softhsm2.conf with
 * directories.tokendir inside it, objectstore.backend = file), initialized by `softhsm2-util --init-token --free`,
 * holding the sample identities of vectors/ (keys CKA_SENSITIVE, with their certificates, same CKA_ID), one RSA-2048
 * key GENERATED on the token (CKA_SENSITIVE true, CKA_EXTRACTABLE false) with a certificate from the sample issuing
 * CA for alice@example.com (so alice has several signing certificates, one with its key on the token), and one key
 * whose CKA_SIGN, CKA_DECRYPT and CKA_DERIVE are false (frank-signonly's, for "the key refuses").
 *
 * The objects are written through pkcs11js in this process, not with one pkcs11-tool run per object: SoftHSM's file
 * store makes every pkcs11-tool login slower as the token fills (15 runs took 2.5-3 s; this takes about 0.5 s, most
 * of it the RSA key generation). pkcs11-tool 0.23 also ignores --usage-* when it imports a private key.
 *
 * SoftHSM reads SOFTHSM2_CONF from the environment of the process that loads it, when C_Initialize runs: the tests
 * load the module in the vitest worker (a forked process per test file), so `createSoftHsmToken` sets
 * `process.env.SOFTHSM2_CONF` to its token's configuration, fills the token, and finalizes the module again. Each
 * call makes its own directory, so two test files (two workers) never share a token directory; within one process,
 * create the token before the first `openPkcs11Token` (SoftHSM reads the configuration again only at the
 * C_Initialize after its last token closed). Child processes (softhsm2-util, pkcs11-tool, the CLI) get the same
 * variable through `env`.
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { x509 } from '../../src/certs/x509.js';
import { IN_CI, VECTORS } from './env.js';
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
    const identities: Record<string, SoftHsmObject> = {};
    let generated: SoftHsmObject | undefined;
    let refusing: SoftHsmObject | undefined;
    await withSession(module, slot, pin, async (p, h) => {
      const names = options.identities ?? DEFAULT_TOKEN_IDENTITIES;
      for (const [i, name] of names.entries()) identities[name] = await importIdentity(p, h, name, (i + 1).toString(16).padStart(2, '0'), true);
      refusing = await importIdentity(p, h, REFUSING_IDENTITY, 'f0', false);
      // The key generated on the token, and a certificate for it from the sample issuing CA.
      const id = Buffer.from('a0', 'hex');
      const common = [
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_ID, value: id },
        { type: pkcs11js.CKA_LABEL, value: GENERATED_LABEL },
      ];
      const pair = p.C_GenerateKeyPair(
        h,
        { mechanism: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN },
        [...common, { type: pkcs11js.CKA_MODULUS_BITS, value: 2048 }, { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) }, { type: pkcs11js.CKA_VERIFY, value: true }, { type: pkcs11js.CKA_ENCRYPT, value: true }],
        [
          ...common,
          { type: pkcs11js.CKA_PRIVATE, value: true },
          { type: pkcs11js.CKA_SENSITIVE, value: true },
          { type: pkcs11js.CKA_EXTRACTABLE, value: false },
          { type: pkcs11js.CKA_SIGN, value: true },
          { type: pkcs11js.CKA_DECRYPT, value: true },
        ],
      );
      const [n, e] = p.C_GetAttributeValue(h, pair.publicKey, [{ type: pkcs11js.CKA_MODULUS }, { type: pkcs11js.CKA_PUBLIC_EXPONENT }]);
      const spki = createPublicKey({ key: { kty: 'RSA', n: n!.value.toString('base64url'), e: e!.value.toString('base64url') }, format: 'jwk' }).export({ type: 'spki', format: 'der' });
      const certificate = await issueCertificate(new Uint8Array(spki));
      createCertificate(p, h, id, GENERATED_LABEL, certificate);
      generated = { id: 'a0', label: GENERATED_LABEL, certificate };
    });
    if (!generated || !refusing) throw new Error('the token was not filled');

    return { module, label, pin, soPin, slot, dir, env, identities, generated, refusing, cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}

/**
 * Runs `fill` on a read-write session of the token in `slot`, logged in as the user, with pkcs11js loaded here and
 * finalized afterwards (SoftHSM reads SOFTHSM2_CONF again at the next C_Initialize, the adapter's).
 */
async function withSession(module: string, slot: number, pin: string, fill: (p: pkcs11js.PKCS11, h: Buffer) => Promise<void>): Promise<void> {
  const p = new pkcs11js.PKCS11();
  p.load(module);
  p.C_Initialize();
  try {
    const slotHandle = p.C_GetSlotList(true).find((s) => s.readUInt32LE(0) === slot);
    if (!slotHandle) throw new Error(`SoftHSM shows no slot ${slot}`);
    const h = p.C_OpenSession(slotHandle, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    p.C_Login(h, pkcs11js.CKU_USER, pin);
    try {
      await fill(p, h);
    } finally {
      p.C_Logout(h);
      p.C_CloseSession(h);
    }
  } finally {
    p.C_Finalize();
    p.close();
  }
}

const b64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64url');
/** The DER OIDs of the named curves of the sample identities (CKA_EC_PARAMS). */
const CURVES: Record<string, string> = { 'P-256': '06082a8648ce3d030107', 'P-384': '06052b81040022' };

/** Imports a sample identity's key and certificate; `usable` false: CKA_SIGN, CKA_DECRYPT and CKA_DERIVE false. */
async function importIdentity(p: pkcs11js.PKCS11, h: Buffer, name: string, idHex: string, usable: boolean): Promise<SoftHsmObject> {
  const m = manifest.identities[name];
  if (!m) throw new Error(`no identity ${name} in vectors/manifest.json`);
  const jwk = createPrivateKey(await readFile(join(VECTORS, m.key), 'utf8')).export({ format: 'jwk' });
  const certificate = new Uint8Array(new X509Certificate(await readFile(join(VECTORS, m.cert))).raw);
  const id = Buffer.from(idHex, 'hex');
  const template: pkcs11js.Template = [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_ID, value: id },
    { type: pkcs11js.CKA_LABEL, value: name },
    { type: pkcs11js.CKA_SIGN, value: usable },
  ];
  if (jwk.kty === 'RSA') {
    template.push(
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_RSA },
      { type: pkcs11js.CKA_DECRYPT, value: usable },
      { type: pkcs11js.CKA_MODULUS, value: b64(jwk.n) },
      { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: b64(jwk.e) },
      { type: pkcs11js.CKA_PRIVATE_EXPONENT, value: b64(jwk.d) },
      { type: pkcs11js.CKA_PRIME_1, value: b64(jwk.p) },
      { type: pkcs11js.CKA_PRIME_2, value: b64(jwk.q) },
      { type: pkcs11js.CKA_EXPONENT_1, value: b64(jwk.dp) },
      { type: pkcs11js.CKA_EXPONENT_2, value: b64(jwk.dq) },
      { type: pkcs11js.CKA_COEFFICIENT, value: b64(jwk.qi) },
    );
  } else if (jwk.kty === 'EC' && CURVES[jwk.crv ?? '']) {
    template.push(
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
      { type: pkcs11js.CKA_DERIVE, value: usable },
      { type: pkcs11js.CKA_EC_PARAMS, value: Buffer.from(CURVES[jwk.crv!]!, 'hex') },
      { type: pkcs11js.CKA_VALUE, value: b64(jwk.d) },
    );
  } else throw new Error(`${name}: a key the harness does not import (${jwk.kty} ${jwk.crv ?? ''})`);
  p.C_CreateObject(h, template);
  createCertificate(p, h, id, name, certificate);
  return { id: idHex, label: name, certificate };
}

/** A certificate object (CKA_SUBJECT is required by SoftHSM). */
function createCertificate(p: pkcs11js.PKCS11, h: Buffer, id: Buffer, label: string, der: Uint8Array): void {
  const cert = new x509.X509Certificate(der as Uint8Array<ArrayBuffer>);
  p.C_CreateObject(h, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE },
    { type: pkcs11js.CKA_CERTIFICATE_TYPE, value: pkcs11js.CKC_X_509 },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_ID, value: id },
    { type: pkcs11js.CKA_LABEL, value: label },
    { type: pkcs11js.CKA_SUBJECT, value: Buffer.from(cert.subjectName.toArrayBuffer()) },
    { type: pkcs11js.CKA_VALUE, value: Buffer.from(der) },
  ]);
}

/** What `issueSampleCertificate` writes into a certificate. */
export interface SampleCertificateOptions {
  /** The serial number, hex. */
  serial: string;
  /** The subject DN. */
  subject: string;
  /** The rfc822Name of the subjectAltName. */
  email: string;
  notBefore: Date;
  notAfter: Date;
  /** keyUsage: signing (digitalSignature, nonRepudiation; the default) or keyAgreement. */
  usage?: 'signing' | 'keyAgreement';
}

/**
 * A certificate for `spki` (RSA or EC SubjectPublicKeyInfo DER) from the sample issuing CA of vectors/pki (RSA,
 * SHA-256), with emailProtection: for keys that vectors/ has no certificate for (a key generated on the token,
 * another device's key, the P-384 key as a signing key).
 */
export async function issueSampleCertificate(spki: Uint8Array, o: SampleCertificateOptions): Promise<Uint8Array> {
  const caCert = new x509.X509Certificate(await readFile(join(VECTORS, 'pki', 'issuing-ca.cert.pem'), 'utf8'));
  const caKeyDer = createPrivateKey(await readFile(join(VECTORS, 'pki', 'issuing-ca.key.pem'), 'utf8')).export({ type: 'pkcs8', format: 'der' });
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const caKey = await crypto.subtle.importKey('pkcs8', new Uint8Array(caKeyDer), alg, false, ['sign']);
  const node = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  const curve = node.asymmetricKeyDetails?.namedCurve;
  const keyAlg = node.asymmetricKeyType === 'ec' ? { name: 'ECDSA', namedCurve: curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : 'P-521' } : alg;
  const publicKey = await crypto.subtle.importKey('spki', new Uint8Array(spki), keyAlg, true, ['verify']);
  const usage = o.usage === 'keyAgreement' ? x509.KeyUsageFlags.keyAgreement : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: o.serial,
    subject: o.subject,
    issuer: caCert.subjectName, // the CA's own encoding (NSS matches names byte for byte)
    notBefore: o.notBefore,
    notAfter: o.notAfter,
    publicKey,
    signingKey: caKey,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, false),
      new x509.KeyUsagesExtension(usage, true),
      new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.4']),
      new x509.SubjectAlternativeNameExtension([{ type: 'email', value: o.email }]),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return new Uint8Array(cert.rawData);
}

/** The notBefore of the generated key's certificate (alice's other devices' certificates in the tests are newer). */
export const GENERATED_NOT_BEFORE = new Date('2025-06-01T00:00:00Z');

/** The generated key's signing certificate for alice@example.com. */
function issueCertificate(spki: Uint8Array): Promise<Uint8Array> {
  return issueSampleCertificate(spki, {
    serial: '20a0',
    subject: 'CN=Alice Example (token), O=smime-core demo, C=US',
    email: 'alice@example.com',
    notBefore: GENERATED_NOT_BEFORE,
    notAfter: new Date('2028-06-01T00:00:00Z'),
  });
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
