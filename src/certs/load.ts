/**
 * PEM / DER / PEM-bundle input for certificates, CRLs and PKCS#8 keys (the PEM codec itself is lib/pem.ts). A
 * bundle's certificate blocks are counted before any is decoded (`maxPemCertificates`). DER input is copied, so
 * nothing kept depends on the caller's buffer (a Node Buffer may be a view into a shared pool).
 */
import { CertificateInvalid, CMSLimitExceeded, KeyInvalid } from '../errors.js';
import { latin1, toBytes } from '../lib/bytes.js';
import { DEFAULT_LIMITS } from '../lib/limits.js';
import { pemBlocks, pemOf } from '../lib/pem.js';
import { algorithmIdentifier, children, integer, NULL, octets, readTlv, seq, tlv } from '../lib/der.js';
import { KEY_ALGORITHMS } from '../crypto/algorithms.js';

/** A certificate or key as PEM text or DER bytes (PEM may hold several blocks; bytes are sniffed for PEM too). */
export type PemOrDer = string | Uint8Array | ArrayBuffer;

function isDer(b: Uint8Array): boolean {
  return b.length > 2 && b[0] === 0x30;
}

/** The size of an input in bytes (in characters for a string). */
export function inputSize(input: PemOrDer): number {
  return typeof input === 'string' ? input.length : input instanceof Uint8Array || input instanceof ArrayBuffer ? input.byteLength : 0;
}

/** Refuses an input above `max` bytes (characters for a string) with CMSLimitExceeded('maxInputBytes'). */
export function checkInputSize(input: PemOrDer, max: number, what: string): void {
  const n = inputSize(input);
  if (n > max) throw new CMSLimitExceeded(`${what}: the input is larger than maxInputBytes (${max} bytes)`, { limit: 'maxInputBytes' });
}

const CERT_LABELS = ['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE'];

/**
 * Certificates from PEM (one or a bundle) or DER, as fresh copies. A bundle of more than `maxPem` certificates is
 * refused before any is decoded (CMSLimitExceeded, limit 'maxPemCertificates').
 */
export function loadCertificates(input: PemOrDer, maxPem: number = DEFAULT_LIMITS.maxPemCertificates): Uint8Array[] {
  const bytes = typeof input === 'string' ? undefined : toBytes(input);
  if (bytes && isDer(bytes)) return [bytes.slice()];
  const text = typeof input === 'string' ? input : latin1(bytes!);
  const certs = pemOf(text, CERT_LABELS, maxPem, 'maxPemCertificates');
  if (certs.length === 0) throw new CertificateInvalid('no certificate found (expected PEM or DER)');
  return certs;
}

/** The "X509 CRL" blocks of a PEM text, in order (empty when there are none). */
export function pemCrls(text: string): Uint8Array[] {
  return pemOf(text, ['X509 CRL'], Infinity, 'maxCrls');
}

/** CRLs from PEM (one or several "X509 CRL" blocks) or DER, as fresh copies. */
export function loadCrls(input: PemOrDer): Uint8Array[] {
  const bytes = typeof input === 'string' ? undefined : toBytes(input);
  if (bytes && isDer(bytes)) return [bytes.slice()];
  const crls = pemCrls(typeof input === 'string' ? input : latin1(bytes!));
  if (crls.length === 0) throw new CertificateInvalid('no CRL found (expected PEM "X509 CRL" or DER)');
  return crls;
}

/** A PKCS#8 private key from PEM (PRIVATE KEY) or DER. */
export function loadPrivateKey(input: PemOrDer): Uint8Array {
  const bytes = typeof input === 'string' ? undefined : toBytes(input);
  if (bytes && isDer(bytes)) return bytes.slice();
  const text = typeof input === 'string' ? input : latin1(bytes!);
  const blocks = pemBlocks(text);
  const k = blocks.find((b) => b.label === 'PRIVATE KEY');
  if (k) return k.der;
  const rsa = blocks.find((b) => b.label === 'RSA PRIVATE KEY');
  if (rsa) return pkcs1ToPkcs8(rsa.der);
  const ec = blocks.find((b) => b.label === 'EC PRIVATE KEY');
  if (ec) return sec1ToPkcs8(ec.der);
  if (blocks.some((b) => b.label === 'ENCRYPTED PRIVATE KEY'))
    throw new KeyInvalid('encrypted PKCS#8 keys are not read: use PKCS#12, or decrypt the key first');
  if (blocks.some((b) => / PRIVATE KEY$/.test(b.label)))
    throw new KeyInvalid('only PKCS#8, PKCS#1 RSA and SEC1 EC keys are read; convert with `openssl pkcs8 -topk8 -nocrypt`');
  throw new KeyInvalid('no private key found (expected PKCS#8 PEM or DER)');
}

/** Wraps a PKCS#1 RSAPrivateKey in a PKCS#8 PrivateKeyInfo. */
function pkcs1ToPkcs8(der: Uint8Array): Uint8Array {
  return seq(integer(0), algorithmIdentifier(KEY_ALGORITHMS.rsaEncryption.oid, NULL), octets(der));
}

/** Wraps a SEC1 ECPrivateKey (RFC 5915) in a PKCS#8 PrivateKeyInfo, taking the curve from its parameters. */
function sec1ToPkcs8(der: Uint8Array): Uint8Array {
  try {
    const top = readTlv(der, 0);
    const params = children(der, top).find((c) => c.cls === 2 && c.tagNo === 0);
    if (!params) throw new KeyInvalid('EC PRIVATE KEY without curve parameters');
    const curve = children(der, params)[0]!;
    const curveDer = der.subarray(curve.start, curve.end);
    return seq(integer(0), tlv(0x30, tlv(0x06, new Uint8Array([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01])), curveDer), octets(der));
  } catch (e) {
    if (e instanceof KeyInvalid) throw e;
    throw new KeyInvalid('malformed EC PRIVATE KEY');
  }
}
