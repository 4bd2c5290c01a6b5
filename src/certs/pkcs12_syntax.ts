/**
 * What the PKCS#12 reader (pkcs12.ts) and its password-based decryption (pkcs12_pbe.ts) share: the OIDs of RFC 7292,
 * the names under which unsupported algorithms are reported, and the small BER readers, each of which throws
 * `Pkcs12Invalid` ("PKCS#12: ...") on what it does not expect.
 */
import { Pkcs12Invalid } from '../errors.js';
import { TAG, UNIVERSAL, children, decodeOid, readTlv, stringContent, type Tlv } from '../lib/der.js';
import { LEGACY_CIPHERS, PBE } from '../crypto/algorithms.js';

/** The OIDs the PKCS#12 reader reads: content types, bag types, attributes, and (from the registry) algorithms. */
export const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  encryptedData: '1.2.840.113549.1.7.6',

  keyBag: '1.2.840.113549.1.12.10.1.1',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',

  // Algorithms: from the registry (crypto/algorithms.ts).
  pbeWithSHAAnd128BitRC4: PBE.pbeWithSHAAnd128BitRC4.oid,
  pbeWithSHAAnd40BitRC4: PBE.pbeWithSHAAnd40BitRC4.oid,
  pbeWithSHAAnd3KeyTripleDESCBC: PBE.pbeWithSHAAnd3KeyTripleDESCBC.oid,
  pbeWithSHAAnd2KeyTripleDESCBC: PBE.pbeWithSHAAnd2KeyTripleDESCBC.oid,
  pbeWithSHAAnd128BitRC2CBC: PBE.pbeWithSHAAnd128BitRC2CBC.oid,
  pbeWithSHAAnd40BitRC2CBC: PBE.pbeWithSHAAnd40BitRC2CBC.oid,
  pbes2: PBE.pbes2.oid,
  pbkdf2: PBE.pbkdf2.oid,
  pbmac1: PBE.pbmac1.oid,

  desEde3CBC: LEGACY_CIPHERS.desEde3CBC.oid,
  desCBC: LEGACY_CIPHERS.desCBC.oid,
  rc2CBC: LEGACY_CIPHERS.rc2CBC.oid,
} as const;

/** Names of the OIDs that are reported unsupported, for the messages. */
const OID_NAMES: Record<string, string> = {
  [OID.pbeWithSHAAnd128BitRC4]: 'pbeWithSHAAnd128BitRC4',
  [OID.pbeWithSHAAnd40BitRC4]: 'pbeWithSHAAnd40BitRC4',
  '1.2.840.113549.1.5.3': 'pbeWithMD5AndDES-CBC (PBES1)',
  '1.2.840.113549.1.5.10': 'pbeWithSHA1AndDES-CBC (PBES1)',
  '1.2.840.113549.1.5.6': 'pbeWithMD5AndRC2-CBC (PBES1)',
  '1.2.840.113549.1.5.11': 'pbeWithSHA1AndRC2-CBC (PBES1)',
  '1.3.6.1.4.1.11591.4.11': 'scrypt',
  '1.2.840.113549.2.12': 'hmacWithSHA512-224',
  '1.2.840.113549.2.13': 'hmacWithSHA512-256',
  [OID.signedData]: 'public-key integrity mode (signedData)',
  [OID.envelopedData]: 'public-key privacy mode (envelopedData)',
};

/** `what` and the name of `oid` (or the OID itself), for an UnsupportedAlgorithm message. */
export const named = (what: string, oid: string) => `${what} ${OID_NAMES[oid] ?? oid}`;

/** Throws Pkcs12Invalid: `PKCS#12: <msg>`. */
export function invalid(msg: string): never {
  throw new Pkcs12Invalid(`PKCS#12: ${msg}`);
}

/** Reads the one element that fills `buf` (trailing bytes are not allowed inside decrypted or nested content). */
export function readWhole(buf: Uint8Array, what: string): Tlv {
  const t = readTlv(buf, 0);
  if (t.end !== buf.length) invalid(`${what}: trailing data`);
  return t;
}

/** The elements of the SEQUENCE `t`. */
export function expectSeq(buf: Uint8Array, t: Tlv, what: string): Tlv[] {
  if (t.cls !== UNIVERSAL || t.tagNo !== TAG.SEQUENCE || !t.constructed) invalid(`${what}: expected a SEQUENCE`);
  return children(buf, t);
}

/** The content of the OCTET STRING `t` (constructed ones joined). */
export function octetString(buf: Uint8Array, t: Tlv, what: string): Uint8Array {
  if (t.cls !== UNIVERSAL || t.tagNo !== TAG.OCTET_STRING) invalid(`${what}: expected an OCTET STRING`);
  return stringContent(buf, t);
}

/** A non-negative INTEGER that fits in a safe JavaScript number. */
export function readInt(buf: Uint8Array, t: Tlv, what: string): number {
  if (t.cls !== UNIVERSAL || t.tagNo !== TAG.INTEGER || t.constructed) invalid(`${what}: expected an INTEGER`);
  const b = buf.subarray(t.contentStart, t.contentEnd);
  if (b.length === 0) invalid(`${what}: empty INTEGER`);
  if (b[0]! & 0x80) invalid(`${what}: negative INTEGER`);
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  if (b.length - i > 6) invalid(`${what}: INTEGER too large`);
  let v = 0;
  for (; i < b.length; i++) v = v * 256 + b[i]!;
  return v;
}

/** An AlgorithmIdentifier: its OID and its parameters (none when absent or NULL). */
export function algorithmIdentifier(buf: Uint8Array, t: Tlv, what: string): { oid: string; params?: Tlv } {
  const p = expectSeq(buf, t, what);
  if (p.length < 1 || p.length > 2) invalid(`${what}: malformed AlgorithmIdentifier`);
  const oid = decodeOid(buf, p[0]!);
  const params = p[1];
  // An explicit NULL is the same as no parameters.
  if (params && params.cls === UNIVERSAL && params.tagNo === TAG.NULL) return { oid };
  return params ? { oid, params } : { oid };
}
