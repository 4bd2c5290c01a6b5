/**
 * Certificates made fast for the security tests: ECDSA P-256 keys from WebCrypto and our own DER writer
 * (src/cms/der.ts), so a test can make a thousand certificates (with one key) in about a second, and shape each
 * extension (basicConstraints with pathLen, keyUsage) exactly. Also a signed message carrying any certificates,
 * and a WebCrypto that counts its signature checks.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { algorithmIdentifier, explicit, integer, octets, oid, seq, set, tlv } from '../../src/lib/der.js';
import { buildSignedData } from '../../src/cms/signed.js';
import { ecdsaP1363ToDer } from '../../src/crypto/signatures.js';
import { certInfo } from '../../src/certs/cert_info.js';
import { utf8 } from '../../src/lib/bytes.js';
import { bytes, multipartSigned } from '../sign/_pki.js';
import { countingCrypto as counting } from '../_helpers/counting_crypto.js';

const DAY = 86_400_000;
const ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const EKU_EMAIL = '1.3.6.1.5.5.7.3.4';

/** keyUsage bit numbers (RFC 5280 §4.2.1.3). */
export const KU = { digitalSignature: 0, keyAgreement: 4, keyCertSign: 5, cRLSign: 6 } as const;

export interface Key {
  keys: CryptoKeyPair;
  spki: Uint8Array;
  pkcs8: Uint8Array;
  /** SHA-1 of the public key bits (RFC 5280 §4.2.1.2 method 1). */
  keyId: Uint8Array;
}

export async function newKey(): Promise<Key> {
  const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', keys.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyId = new Uint8Array(await crypto.subtle.digest('SHA-1', spki.subarray(spki.length - 65)));
  return { keys, spki, pkcs8, keyId };
}

export interface CertSpec {
  /** The subject's common name. */
  subject: string;
  key: Key;
  /** The issuer's name and key; self-signed when absent. */
  issuer?: { name: string; key: Key };
  /** CA:TRUE, with this pathLenConstraint when a number. */
  ca?: boolean;
  pathLen?: number;
  /** keyUsage bit numbers; no extension when absent. */
  ku?: number[];
  /** An rfc822Name SAN and the emailProtection EKU (for end-entity certificates). */
  email?: string;
  serial?: number;
  /** Key identifier extensions (SKI, AKI); default true. */
  keyIds?: boolean;
  /** More extensions, as they are: OID, value (DER), critical. */
  extensions?: { oid: string; value: Uint8Array; critical?: boolean }[];
}

let serials = 1;

const name = (cn: string): Uint8Array => seq(set(seq(oid('2.5.4.3'), tlv(0x0c, utf8(cn)))));
const utcTime = (d: Date): Uint8Array => tlv(0x17, utf8(d.toISOString().replace(/^\d\d(\d\d)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d).*$/, '$1$2$3$4$5$6Z')));
const ext = (id: string, value: Uint8Array, critical = false): Uint8Array =>
  seq(oid(id), ...(critical ? [Uint8Array.of(0x01, 0x01, 0xff)] : []), octets(value));

function bitString(bits: number[]): Uint8Array {
  const top = Math.max(...bits);
  const out = new Uint8Array(1 + (top >> 3) + 1);
  for (const b of bits) out[1 + (b >> 3)]! |= 0x80 >> (b & 7);
  out[0] = 7 - (top & 7);
  return tlv(0x03, out);
}

/** A DER certificate, signed with ECDSA P-256/SHA-256 by the issuer's key (its own when self-signed). */
export async function makeCert(s: CertSpec): Promise<Uint8Array> {
  const issuer = s.issuer ?? { name: s.subject, key: s.key };
  const now = Date.now();
  const exts: Uint8Array[] = [];
  if (s.ca) exts.push(ext('2.5.29.19', seq(Uint8Array.of(0x01, 0x01, 0xff), ...(s.pathLen !== undefined ? [integer(s.pathLen)] : [])), true));
  else exts.push(ext('2.5.29.19', seq(), true));
  if (s.ku) exts.push(ext('2.5.29.15', bitString(s.ku), true));
  if (s.email) {
    exts.push(ext('2.5.29.17', seq(tlv(0x81, utf8(s.email)))));
    exts.push(ext('2.5.29.37', seq(oid(EKU_EMAIL))));
  }
  for (const e of s.extensions ?? []) exts.push(ext(e.oid, e.value, e.critical));
  if (s.keyIds !== false) {
    exts.push(ext('2.5.29.14', octets(s.key.keyId)));
    exts.push(ext('2.5.29.35', seq(tlv(0x80, issuer.key.keyId))));
  }
  const tbs = seq(
    explicit(0, integer(2)),
    integer(s.serial ?? serials++),
    algorithmIdentifier(ECDSA_SHA256),
    name(issuer.name),
    seq(utcTime(new Date(now - DAY)), utcTime(new Date(now + 365 * DAY))),
    name(s.subject),
    s.key.spki,
    explicit(3, seq(...exts)),
  );
  const sig = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, issuer.key.keys.privateKey, tbs as Uint8Array<ArrayBuffer>));
  const bits = new Uint8Array([0, ...ecdsaP1363ToDer(sig)]);
  return seq(tbs, algorithmIdentifier(ECDSA_SHA256), tlv(0x03, bits));
}

export function pem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/** Writes certificates as one PEM file in `dir`; returns its path. */
export function pemFile(dir: string, file: string, ders: Uint8Array[]): string {
  const f = join(dir, file);
  writeFileSync(f, ders.map(pem).join(''));
  return f;
}

/**
 * A multipart/signed message from `from`, signed by `signer` (certificate and key), carrying `certs` after the
 * signer's certificate in its certificates field.
 */
export async function signedMessage(signer: Uint8Array, key: Key, certs: Uint8Array[], from: string): Promise<Uint8Array> {
  const entity = bytes('Content-Type: text/plain\r\n\r\nhello\r\n');
  const info = certInfo(signer);
  const built = await buildSignedData(entity, {
    signer: info,
    key: { pkcs8: key.pkcs8 },
    hash: 'SHA-256',
    encapsulate: false,
    certificates: [info, ...certs.map((c) => certInfo(c))],
    signingTime: new Date(),
  });
  const der = new Uint8Array(built.length);
  let o = 0;
  for (const p of built.pieces) {
    der.set(p, o);
    o += p.length;
  }
  return multipartSigned(entity, der, `From: ${from}\r\n`);
}

/**
 * A WebCrypto over Node's that counts `subtle.verify` calls and, past `stopAfter` of them, throws instead (so code
 * that would check signatures for hours ends, and fails the count, within a second).
 */
export function countingCrypto(stopAfter = Infinity): { crypto: Crypto; verifies: () => number } {
  const { crypto, counts } = counting({ failVerifyAfter: stopAfter });
  return { crypto, verifies: () => counts.calls.verify ?? 0 };
}
