/** PEM / DER / PEM-bundle input for certificates and PKCS#8 keys. */
import { CertificateInvalid, KeyInvalid } from '../errors.js';
import { latin1, toBytes } from '../lib/bytes.js';
import { decodeBase64 } from '../mime/base64.js';
import { algorithmIdentifier, children, integer, NULL, octets, readTlv, seq, tlv } from '../cms/der.js';

export type PemOrDer = string | Uint8Array | ArrayBuffer;

export interface PemBlock {
  label: string;
  der: Uint8Array;
}

const PEM_RE = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** All PEM blocks in the text, in order. */
export function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(PEM_RE)) {
    const body = m[2]!.replace(/^[A-Za-z-]+:.*$/gm, ''); // drop RFC 1421 headers such as Proc-Type
    out.push({ label: m[1]!, der: decodeBase64(toBytes(body)) });
  }
  return out;
}

function isDer(b: Uint8Array): boolean {
  return b.length > 2 && b[0] === 0x30;
}

/** Certificates from PEM (one or a bundle) or DER. */
export function loadCertificates(input: PemOrDer): Uint8Array[] {
  const bytes = typeof input === 'string' ? undefined : toBytes(input);
  if (bytes && isDer(bytes)) return [bytes];
  const text = typeof input === 'string' ? input : latin1(bytes!);
  const certs = pemBlocks(text)
    .filter((b) => b.label === 'CERTIFICATE' || b.label === 'X509 CERTIFICATE' || b.label === 'TRUSTED CERTIFICATE')
    .map((b) => b.der);
  if (certs.length === 0) throw new CertificateInvalid('no certificate found (expected PEM or DER)');
  return certs;
}

/** The "X509 CRL" blocks of a PEM text, in order (empty when there are none). */
export function pemCrls(text: string): Uint8Array[] {
  return pemBlocks(text)
    .filter((b) => b.label === 'X509 CRL')
    .map((b) => b.der);
}

/** CRLs from PEM (one or several "X509 CRL" blocks) or DER. */
export function loadCrls(input: PemOrDer): Uint8Array[] {
  const bytes = typeof input === 'string' ? undefined : toBytes(input);
  if (bytes && isDer(bytes)) return [bytes];
  const crls = pemCrls(typeof input === 'string' ? input : latin1(bytes!));
  if (crls.length === 0) throw new CertificateInvalid('no CRL found (expected PEM "X509 CRL" or DER)');
  return crls;
}

/** A PKCS#8 private key from PEM (PRIVATE KEY) or DER. */
export function loadPrivateKey(input: PemOrDer): Uint8Array {
  const bytes = typeof input === 'string' ? undefined : toBytes(input);
  if (bytes && isDer(bytes)) return bytes;
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
  return seq(integer(0), algorithmIdentifier('1.2.840.113549.1.1.1', NULL), octets(der));
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
