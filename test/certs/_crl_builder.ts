/**
 * Builds X.509 CRLs for tests with the DER writer, signed by the sample issuing CA of vectors/pki (or not signed
 * properly, on request): entries with any extensions, issuingDistributionPoint, cRLNumber, deltaCRLIndicator,
 * certificateIssuer, and cRLDistributionPoints extension values for certificates.
 */
import { createPrivateKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { certInfo, type CertInfo } from '../../src/certs/cert_info.js';
import { loadCertificates } from '../../src/certs/load.js';
import { algorithmIdentifier, explicit, implicitPrim, integer, NULL, octets, oid, seq, set, tlv } from '../../src/lib/der.js';
import { concat } from '../../src/lib/bytes.js';
import { VECTORS } from '../_helpers/env.js';
import { certPem } from '../_helpers/identities.js';

export const SHA256_RSA = '1.2.840.113549.1.1.11';
export const SHA1_RSA = '1.2.840.113549.1.1.5';
export const DAY = 86_400_000;
const CA_KEY = createPrivateKey(readFileSync(join(VECTORS, 'pki', 'issuing-ca.key.pem'), 'utf8'));
const ROOT_KEY = createPrivateKey(readFileSync(join(VECTORS, 'pki', 'root-ca.key.pem'), 'utf8'));
/** The sample root CA (the issuing CA's issuer). */
export const ROOT_CA: CertInfo = certInfo(loadCertificates(readFileSync(join(VECTORS, 'pki', 'root-ca.cert.pem'), 'utf8'))[0]!);
/** The sample issuing CA (keyUsage keyCertSign, cRLSign) and Alice's signing certificate it issued. */
export const CA: CertInfo = certInfo(loadCertificates(readFileSync(join(VECTORS, 'pki', 'issuing-ca.cert.pem'), 'utf8'))[0]!);
export const ALICE: CertInfo = certInfo(loadCertificates(certPem('alice-sign'))[0]!);
/** Inside Alice's validity (2025-06-01 – 2028-06-01). */
export const AT = new Date('2026-06-01T00:00:00Z');

export const utcTime = (d: Date): Uint8Array => tlv(0x17, new TextEncoder().encode(d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'));
export const genTime = (d: Date): Uint8Array => tlv(0x18, new TextEncoder().encode(d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'));
export const ext = (id: string, value: Uint8Array, critical = false): Uint8Array =>
  seq(oid(id), ...(critical ? [Uint8Array.of(0x01, 0x01, 0xff)] : []), octets(value));
export const reasonExt = (code: number): Uint8Array => ext('2.5.29.21', tlv(0x0a, Uint8Array.of(code)));
/** A directoryName GeneralName. */
export const dirName = (name: Uint8Array): Uint8Array => tlv(0xa4, name);
/** A Name of one CN (UTF8String). */
export const cnName = (cn: string): Uint8Array => seq(set(seq(oid('2.5.4.3'), tlv(0x0c, new TextEncoder().encode(cn)))));
/** An RDN (SET) of one CN. */
export const cnRdn = (cn: string): Uint8Array => set(seq(oid('2.5.4.3'), tlv(0x0c, new TextEncoder().encode(cn))));
/** certificateIssuer entry extension (critical, as RFC 5280 §5.3.3 requires). */
export const certIssuerExt = (...names: Uint8Array[]): Uint8Array => ext('2.5.29.29', seq(...names.map(dirName)), true);
/** ReasonFlags BIT STRING content for the given bit numbers, as [n] IMPLICIT. */
export function reasonFlags(tag: number, ...bits: number[]): Uint8Array {
  const b = [0, 0];
  for (const n of bits) b[n >> 3]! |= 0x80 >> (n & 7);
  return b[1] ? tlv(0x80 | tag, Uint8Array.of(7, b[0]!, b[1])) : tlv(0x80 | tag, Uint8Array.of(1, b[0]!));
}

/** One revokedCertificates entry. */
export const entry = (serial: Uint8Array, date: Date, exts?: Uint8Array[]): Uint8Array =>
  seq(tlv(0x02, serial), utcTime(date), ...(exts ? [seq(...exts)] : []));

/** The fields of an IssuingDistributionPoint. */
export interface IdpFields {
  fullName?: Uint8Array[];
  relative?: Uint8Array;
  onlyUser?: boolean;
  onlyCA?: boolean;
  onlySomeReasons?: number[];
  indirect?: boolean;
  onlyAttr?: boolean;
}

/** An issuingDistributionPoint extension (critical). */
export function idpExt(f: IdpFields): Uint8Array {
  const parts: Uint8Array[] = [];
  if (f.fullName) parts.push(explicit(0, explicit(0, ...f.fullName)));
  if (f.relative) parts.push(explicit(0, tlv(0xa1, f.relative.subarray(2))));
  const yes = Uint8Array.of(0xff);
  if (f.onlyUser) parts.push(implicitPrim(1, yes));
  if (f.onlyCA) parts.push(implicitPrim(2, yes));
  if (f.onlySomeReasons) parts.push(reasonFlags(3, ...f.onlySomeReasons));
  if (f.indirect) parts.push(implicitPrim(4, yes));
  if (f.onlyAttr) parts.push(implicitPrim(5, yes));
  return ext('2.5.29.28', seq(...parts), true);
}

/** A DistributionPoint (for a certificate's cRLDistributionPoints). */
export function dp(f: { fullName?: Uint8Array[]; relative?: Uint8Array; reasons?: number[]; crlIssuer?: Uint8Array[] }): Uint8Array {
  const parts: Uint8Array[] = [];
  if (f.fullName) parts.push(explicit(0, explicit(0, ...f.fullName)));
  if (f.relative) parts.push(explicit(0, tlv(0xa1, f.relative.subarray(2))));
  if (f.reasons) parts.push(reasonFlags(1, ...f.reasons));
  if (f.crlIssuer) parts.push(explicit(2, ...f.crlIssuer));
  return seq(...parts);
}

/** `cert` with a cRLDistributionPoints extension made of `dps` (or of raw bytes). */
export function withDps(cert: CertInfo, value: Uint8Array[] | Uint8Array): CertInfo {
  const v = value instanceof Uint8Array ? value : seq(...value);
  return { ...cert, extensions: [...cert.extensions.filter((e) => e.oid !== '2.5.29.31'), { oid: '2.5.29.31', critical: false, value: v }] };
}

/** What a test CRL holds; defaults: the CA as issuer, a day before `AT` to 30 days after, no entries, cRLNumber 1. */
export interface CrlFields {
  issuer?: Uint8Array;
  thisUpdate?: Date;
  nextUpdate?: Date | null;
  entries?: Uint8Array[];
  /** Extensions besides cRLNumber; `number: null` drops cRLNumber. */
  exts?: Uint8Array[];
  number?: number | null;
  delta?: number;
  alg?: string;
  /** Flip a bit of the signature. */
  badSignature?: boolean;
  /** Who signs it (and is its issuer unless `issuer` says otherwise): the issuing CA (default) or the root. */
  signer?: 'ca' | 'root';
  version?: number | null;
}

/** A CRL signed by the sample issuing CA (or its root, with `signer: 'root'`). */
export function makeCrl(f: CrlFields = {}): Uint8Array {
  const alg = f.alg ?? SHA256_RSA;
  const exts = [...(f.number === null ? [] : [ext('2.5.29.20', integer(f.number ?? 1))])];
  if (f.delta !== undefined) exts.push(ext('2.5.29.27', integer(f.delta), true));
  exts.push(...(f.exts ?? []));
  const tbs = seq(
    ...(f.version === null ? [] : [integer(f.version ?? 1)]),
    algorithmIdentifier(alg, NULL),
    f.issuer ?? (f.signer === 'root' ? ROOT_CA.subject : CA.subject),
    utcTime(f.thisUpdate ?? new Date(AT.getTime() - DAY)),
    ...(f.nextUpdate === null ? [] : [utcTime(f.nextUpdate ?? new Date(AT.getTime() + 30 * DAY))]),
    ...(f.entries && f.entries.length > 0 ? [seq(concat(f.entries))] : []),
    ...(exts.length > 0 ? [explicit(0, seq(...exts))] : []),
  );
  const sig = new Uint8Array(sign(alg === SHA1_RSA ? 'sha1' : 'sha256', tbs, f.signer === 'root' ? ROOT_KEY : CA_KEY));
  if (f.badSignature) sig[10]! ^= 1;
  return seq(tbs, algorithmIdentifier(alg, NULL), tlv(0x03, Uint8Array.of(0), sig));
}
