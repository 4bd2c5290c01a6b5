/**
 * KeyAgreeRecipientInfo (RFC 5652 §6.2.2): ECDH (RFC 5753) and X25519 (RFC 8418). Placeholder until the
 * algorithms work lands: parsing works, key agreement throws UnsupportedAlgorithm.
 */
import { UnsupportedAlgorithm } from '../errors.js';
import type { CertInfo } from '../certs/cert_info.js';
import type { PrivateKeyRef } from '../certs/keys.js';
import { children, stringContent, type Tlv } from './der.js';
import { readRecipientId, type RecipientId } from './recipient_id.js';

export interface KeyAgreeOptions {
  /** Identify the recipient by subjectKeyIdentifier instead of issuerAndSerialNumber. */
  useSki?: boolean;
}

export interface ParsedKari {
  buf: Uint8Array;
  tlv: Tlv;
  recipients: { rid: RecipientId; encryptedKey: Uint8Array }[];
}

/** Reads a KeyAgreeRecipientInfo ([1] IMPLICIT SEQUENCE). */
export function parseKari(buf: Uint8Array, t: Tlv): ParsedKari {
  const f = children(buf, t);
  const reks = f[f.length - 1]!;
  const recipients = children(buf, reks).map((r) => {
    const [ridT, ekT] = children(buf, r);
    return { rid: readRecipientId(buf, ridT!), encryptedKey: stringContent(buf, ekT!) };
  });
  return { buf, tlv: t, recipients };
}

export async function unwrapKari(
  _k: ParsedKari,
  _index: number,
  _id: { info: CertInfo; key: PrivateKeyRef },
  _crypto?: Crypto,
): Promise<Uint8Array> {
  throw new UnsupportedAlgorithm('key agreement (ECDH/X25519)');
}

export async function buildKari(info: CertInfo, _cek: Uint8Array, _opts: KeyAgreeOptions, _crypto?: Crypto): Promise<Uint8Array> {
  throw new UnsupportedAlgorithm(`key agreement for ${info.keyAlgorithm}`, info.keyAlgorithm);
}
