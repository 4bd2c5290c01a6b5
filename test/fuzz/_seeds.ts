/**
 * Fuzz seeds: the real messages, certificates, CRLs and PKCS#12 files of vectors/ and, when it is there,
 * ../shared/vectors (read in place, never copied into the repository; without it the public seeds are skipped with
 * a notice, and with CI=true its absence is a failure, as in every other test). Real inputs make the mutators
 * start from structures the parsers accept, so the mutations land deep in the code instead of at the first check.
 *
 * FUZZ_SHARED_VECTORS may point at the public vectors when the checkout has no ../shared (a git worktree).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED_VECTORS, VECTORS, sharedAvailable } from '../_helpers/env.js';
import { manifest } from '../_helpers/identities.js';
import { x509 } from '../../src/certs/x509.js';
import { extractCms } from '../../src/mime/extract.js';
import { parseMultipartSigned } from '../../src/mime/multipart_signed.js';
import { encodeDer, parseDer, type Family, type Seed } from './_mutators.js';

/**
 * The fuzz targets, one per parser the library exposes to untrusted input; the stream entry points (decryptStream,
 * verifyStream, openStream) are targets of their own, on the seeds of their buffer function.
 */
export const TARGET_NAMES = ['decrypt', 'verify', 'open', 'pkcs12', 'certificate', 'crl', 'mime', 'decryptStream', 'verifyStream', 'openStream'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

/** The stream targets, each with the buffer function whose seeds it takes and whose result it is compared with. */
export const STREAM_OF = { decryptStream: 'decrypt', verifyStream: 'verify', openStream: 'open' } as const satisfies Partial<Record<TargetName, TargetName>>;
export type StreamTarget = keyof typeof STREAM_OF;
export const isStreamTarget = (t: TargetName): t is StreamTarget => t in STREAM_OF;

/** A PKCS#12 seed carries its password. */
export interface FuzzSeed extends Seed {
  password?: string;
}

const has = (b: Uint8Array, needle: number[]): boolean => {
  outer: for (let i = 0; i + needle.length <= Math.min(b.length, 64); i++) {
    for (let j = 0; j < needle.length; j++) if (b[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
};
const PKCS7 = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07];
const AUTH_ENV = [0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x17];

function derKind(b: Uint8Array): 'enveloped' | 'signed' | 'other' {
  if (has(b, [...PKCS7, 0x03]) || has(b, AUTH_ENV)) return 'enveloped';
  if (has(b, [...PKCS7, 0x02])) return 'signed';
  return 'other';
}

function emlKind(b: Uint8Array): 'enveloped' | 'signed' | 'other' {
  const head = Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, 8192)).toString('latin1');
  if (/enveloped-data|authenveloped-data/i.test(head)) return 'enveloped';
  if (/multipart\/signed|signed-data|pkcs7-mime/i.test(head)) return 'signed';
  return 'other';
}

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

const read = (p: string): Uint8Array => new Uint8Array(readFileSync(p));
const isPem = (b: Uint8Array): boolean => Buffer.from(b.subarray(0, 11)).toString('latin1') === '-----BEGIN ';

/** Passwords of the public PKCS#12 files, by folder (from each folder's PROVENANCE.md). */
const SHARED_P12_PASSWORDS: Record<string, string> = {
  'thunderbird-comm-central': 'nss',
  'simple-java-mail': 'letmein',
  'lamps-protected-headers-2019': 'bob',
  'bc-java-mail': '',
};

function sharedRoot(): string | undefined {
  const env = process.env.FUZZ_SHARED_VECTORS;
  if (env && existsSync(join(env, 'INDEX.md'))) return env;
  return sharedAvailable() ? SHARED_VECTORS : undefined;
}

/** Adds one file to the seed lists it fits. */
function classify(seeds: Record<TargetName, FuzzSeed[]>, name: string, bytes: Uint8Array, password?: string): void {
  const add = (t: TargetName, family: Family, extra: Partial<FuzzSeed> = {}) => seeds[t].push({ name, family, bytes, ...extra });
  const lower = name.toLowerCase();
  if (/\.(eml|message|env|inner|txt)$/.test(lower)) {
    if (/plain(-large)?\.txt$/.test(lower) || /\.md$/.test(lower)) return;
    add('mime', 'mime');
    const k = emlKind(bytes);
    if (k === 'enveloped') add('decrypt', 'eml');
    if (k === 'signed') add('verify', 'eml');
    if (k !== 'other') add('open', 'eml');
    return;
  }
  if (/\.(p7m|bin)$/.test(lower) && bytes[0] === 0x30) {
    const k = derKind(bytes);
    if (k === 'enveloped') add('decrypt', 'der');
    if (k === 'signed') add('verify', 'der');
    if (k !== 'other') add('open', 'der');
    return;
  }
  if (/\.p12(\.der)?$/.test(lower) && password !== undefined) {
    add('pkcs12', isPem(bytes) ? 'pem' : 'der', { password });
    return;
  }
  if (/\.crl$/.test(lower)) {
    add('crl', isPem(bytes) ? 'pem' : 'der');
    return;
  }
  if (/\.(crt|cer|pem)$/.test(lower)) {
    const text = Buffer.from(bytes).toString('latin1');
    if (isPem(bytes) && text.includes('-----BEGIN CERTIFICATE-----') && !text.includes('PRIVATE KEY')) add('certificate', 'pem');
    else if (bytes[0] === 0x30 && !isPem(bytes)) add('certificate', 'der');
  }
}

/** A CRL seed made from the committed sample CA (vectors/pki): deterministic (RSA PKCS#1 v1.5, fixed dates). */
async function sampleCrl(): Promise<Uint8Array> {
  const pem = readFileSync(join(VECTORS, 'pki', 'issuing-ca.key.pem'), 'utf8');
  const ca = new x509.X509Certificate(readFileSync(join(VECTORS, 'pki', 'issuing-ca.cert.pem'), 'utf8'));
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const key = await crypto.subtle.importKey('pkcs8', der, alg, false, ['sign']);
  const bob = new x509.X509Certificate(readFileSync(join(VECTORS, 'identities', 'bob.cert.pem'), 'utf8'));
  const crl = await x509.X509CrlGenerator.create({
    issuer: ca.subject,
    thisUpdate: new Date('2026-11-01T00:00:00Z'),
    nextUpdate: new Date('2027-01-01T00:00:00Z'),
    signingAlgorithm: alg,
    signingKey: key,
    entries: [{ serialNumber: bob.serialNumber, revocationDate: new Date('2026-10-01T00:00:00Z'), reason: x509.X509CrlReason.keyCompromise }],
  });
  return new Uint8Array(crl.rawData);
}

let cached: Promise<Record<TargetName, FuzzSeed[]>> | undefined;

/** Every seed, by target (loaded once per worker). */
export function loadSeeds(): Promise<Record<TargetName, FuzzSeed[]>> {
  cached ??= load();
  return cached;
}

async function load(): Promise<Record<TargetName, FuzzSeed[]>> {
  const seeds = Object.fromEntries(TARGET_NAMES.map((t) => [t, [] as FuzzSeed[]])) as Record<TargetName, FuzzSeed[]>;
  for (const p of walk(VECTORS)) {
    const rel = p.slice(VECTORS.length + 1);
    if (rel.startsWith('java/') || rel.endsWith('.key.pem') || /^pki\/.*key/.test(rel)) continue;
    classify(seeds, `vectors/${rel}`, read(p), rel.endsWith('.p12') ? manifest.password : undefined);
  }
  // The CMS of each message also as raw DER (accepted as is): the zero-copy path over the caller's own bytes.
  for (const t of ['decrypt', 'verify', 'open'] as const) {
    for (const s of seeds[t].filter((x) => x.family === 'eml' && x.name.startsWith('vectors/'))) {
      try {
        const der = extractCms(s.bytes).der;
        seeds[t].push({ name: `${s.name} (CMS DER)`, family: 'der', bytes: der.slice() });
      } catch {
        try {
          const der = parseMultipartSigned(s.bytes).signature;
          seeds[t].push({ name: `${s.name} (signature DER)`, family: 'der', bytes: der.slice() });
        } catch {
          // neither: no DER seed from this one
        }
      }
    }
  }
  // The certificates also as DER.
  for (const s of seeds.certificate.filter((x) => x.family === 'pem' && x.name.startsWith('vectors/identities/'))) {
    const b64 = Buffer.from(s.bytes).toString('latin1').replace(/-----[^-]+-----|\s/g, '');
    seeds.certificate.push({ name: `${s.name} (DER)`, family: 'der', bytes: new Uint8Array(Buffer.from(b64, 'base64')) });
  }
  // Each PKCS#12 file also without its MacData (it is OPTIONAL): with a MAC, nearly every mutation ends at the MAC
  // check (Pkcs12BadPassword), and errors of the parsing done meanwhile are never seen; without one, they are.
  for (const s of seeds.pkcs12.filter((x) => x.family === 'der')) {
    const pfx = parseDer(s.bytes);
    if (pfx?.kids?.length !== 3) continue;
    pfx.kids.pop();
    seeds.pkcs12.push({ ...s, name: `${s.name} (no MAC)`, bytes: encodeDer(pfx) });
  }
  const crl = await sampleCrl();
  seeds.crl.push({ name: 'sample CRL (DER)', family: 'der', bytes: crl });
  const crlPem = `-----BEGIN X509 CRL-----\n${Buffer.from(crl).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END X509 CRL-----\n`;
  seeds.crl.push({ name: 'sample CRL (PEM)', family: 'pem', bytes: new Uint8Array(Buffer.from(crlPem)) });

  const shared = sharedRoot();
  if (shared) {
    for (const p of walk(shared)) {
      const rel = p.slice(shared.length + 1);
      if (rel.startsWith('wycheproof/') || /PROVENANCE|INDEX/.test(rel) || /\/keys\//.test(rel)) continue;
      const folder = rel.split('/')[0]!;
      classify(seeds, `shared/${rel}`, read(p), rel.includes('.p12') ? SHARED_P12_PASSWORDS[folder] : undefined);
    }
  }
  for (const [t, from] of Object.entries(STREAM_OF)) seeds[t as StreamTarget] = seeds[from];
  return seeds;
}
