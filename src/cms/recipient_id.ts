/**
 * RecipientIdentifier matching (RFC 5652 §6.2.1): issuerAndSerialNumber, or subjectKeyIdentifier. When a
 * certificate has no SKI extension, the SHA-1 of its public key (RFC 5280 §4.2.1.2 method 1) and the SHA-1 of the
 * whole SubjectPublicKeyInfo (what Outlook 2010 writes) are accepted too.
 */
import { CMSInvalid } from '../errors.js';
import { digest } from '../crypto/digest.js';
import { equal, toArrayBuffer } from '../lib/bytes.js';
import type { CertInfo } from '../certs/cert_info.js';
import { children, integer, readTlv, seq, tlv, type Tlv } from '../lib/der.js';

export type RecipientId = { issuer: Uint8Array; serial: Uint8Array } | { ski: Uint8Array };

/** Reads a RecipientIdentifier / KeyAgreeRecipientIdentifier element. */
export function readRecipientId(buf: Uint8Array, t: Tlv): RecipientId {
  if (t.cls === 0 && t.tagNo === 16) {
    const [issuerT, serialT] = children(buf, t);
    if (!issuerT || issuerT.tagNo !== 16 || !serialT || serialT.tagNo !== 2) throw new CMSInvalid('issuerAndSerialNumber: missing issuer or serial number');
    return {
      issuer: buf.subarray(issuerT!.start, issuerT!.end),
      serial: buf.subarray(serialT!.contentStart, serialT!.contentEnd),
    };
  }
  if (t.cls === 2 && t.tagNo === 0) {
    // [0] IMPLICIT SubjectKeyIdentifier; tolerate a constructed wrapping of an OCTET STRING.
    if (t.constructed) {
      const inner = readTlv(buf, t.contentStart, t.contentEnd);
      return { ski: buf.subarray(inner.contentStart, inner.contentEnd) };
    }
    return { ski: buf.subarray(t.contentStart, t.contentEnd) };
  }
  throw new CMSInvalid('unknown recipient identifier');
}

function stripZeros(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

const skiCache = new WeakMap<Uint8Array, Uint8Array[]>();

/** The key identifiers a certificate answers to. */
export async function keyIdentifiers(info: CertInfo, crypto?: Crypto): Promise<Uint8Array[]> {
  const hit = skiCache.get(info.der);
  if (hit) return hit;
  const ids: Uint8Array[] = [];
  if (info.ski) ids.push(info.ski);
  // Over copies of their own (toArrayBuffer): certificate bytes may sit in any buffer the caller handed over.
  ids.push(await digest('SHA-1', new Uint8Array(toArrayBuffer(info.publicKey)), crypto));
  ids.push(await digest('SHA-1', new Uint8Array(toArrayBuffer(info.spki)), crypto));
  skiCache.set(info.der, ids);
  return ids;
}

export async function matchesRecipient(rid: RecipientId, info: CertInfo, crypto?: Crypto): Promise<boolean> {
  if ('issuer' in rid) return equal(rid.issuer, info.issuer) && equal(stripZeros(rid.serial), stripZeros(info.serial));
  return (await keyIdentifiers(info, crypto)).some((k) => equal(k, rid.ski));
}

/** Writes issuerAndSerialNumber, or [0] subjectKeyIdentifier when `useSki` and the cert has an SKI. */
export function writeRecipientId(info: CertInfo, useSki: boolean): { der: Uint8Array; ski: boolean } {
  if (useSki && info.ski) return { der: tlv(0x80, info.ski), ski: true };
  return { der: seq(info.issuer, integer(info.serial)), ski: false };
}
