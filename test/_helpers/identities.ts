/** Loads the sample identities of vectors/ (made by vectors/generate.sh) into stores. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CertificateStore, type CertificateStoreOptions } from '../../src/index.js';
import { VECTORS } from './env.js';

export interface ManifestIdentity {
  email: string;
  p12: string;
  cert: string;
  key: string;
  usage: string;
  notBefore: string;
  notAfter: string;
  /** The serial number, in hex. */
  serialHex: string;
  [k: string]: unknown;
}

export interface Manifest {
  password: string;
  /** The date the identities' validity is judged at (YYYY-MM-DD). */
  referenceDate: string;
  identities: Record<string, ManifestIdentity>;
  messages: {
    id: string;
    file: string;
    peer: string;
    command?: string;
    recipients?: string[];
    identities?: string[];
    expect: { content?: string; error?: string; [k: string]: unknown };
    [k: string]: unknown;
  }[];
  [k: string]: unknown;
}

export const manifest: Manifest = JSON.parse(readFileSync(join(VECTORS, 'manifest.json'), 'utf8'));
export const PASSWORD = manifest.password;

/**
 * The time the sample identities are judged at: noon (UTC) of the manifest's `referenceDate`. Their certificates
 * expire from 2028 on, so a test that needs them valid passes this time (a store's `now`, a call's `at`, OpenSSL's
 * `-attime`) instead of reading the clock, and gives the same result whenever it runs.
 */
export const REFERENCE_DATE = new Date(`${manifest.referenceDate}T12:00:00Z`);
/** A store clock stopped at {@link REFERENCE_DATE}: `new CertificateStore({ now: atReference })`. */
export const atReference = (): Date => new Date(REFERENCE_DATE.getTime());
/** OpenSSL's option judging certificates at {@link REFERENCE_DATE} (`cms -verify`, `verify`): `-attime EPOCH`. */
export const OPENSSL_AT_REFERENCE = ['-attime', String(Math.floor(REFERENCE_DATE.getTime() / 1000))];

export function vfile(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(join(VECTORS, rel)));
}

export function certPem(name: string): string {
  return readFileSync(join(VECTORS, manifest.identities[name]!.cert), 'utf8');
}

export const ROOT = () => readFileSync(join(VECTORS, 'pki', 'root-ca.cert.pem'), 'utf8');
export const CHAIN = () => readFileSync(join(VECTORS, 'pki', 'chain.pem'), 'utf8');

/**
 * A store with the named identities (from their PKCS#12 files), other people's certs, and the sample root. Its
 * clock is {@link atReference} unless `opts.now` says otherwise: the sample certificates are judged as on the
 * manifest's reference date, not on the day the test runs.
 */
export async function storeWith(
  own: string[],
  others: string[] = [],
  opts: CertificateStoreOptions & { trust?: boolean } = {},
): Promise<CertificateStore> {
  const store = new CertificateStore({ now: atReference, ...opts });
  for (const n of own) await store.importPkcs12(vfile(manifest.identities[n]!.p12), PASSWORD);
  for (const n of others) await store.addCertificate(certPem(n));
  await store.addCertificate(CHAIN());
  if (opts.trust !== false) store.addTrustAnchor(ROOT());
  return store;
}

const shared = new Map<string, Promise<CertificateStore>>();
/** {@link storeWith} of the named identities, made once per name list and shared by the tests of a file. */
export function sharedStoreWith(names: string[]): Promise<CertificateStore> {
  const k = names.join(',');
  let s = shared.get(k);
  if (!s) shared.set(k, (s = storeWith(names)));
  return s;
}
