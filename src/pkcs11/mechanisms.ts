/**
 * From what smime-core asks (a signature algorithm's OID and parameters, an OAEP parameter set) to the PKCS#11
 * mechanism that does it.
 */
import type { ExternalOaepHash } from '../crypto/external_key.js';
import { children, decodeOid, readTlv, TAG, type Tlv } from '../lib/der.js';
import { KeyOperationRefused, UnsupportedAlgorithm } from '../errors.js';
import { CKG, CKM } from './constants.js';

/** A hash by its WebCrypto name, with its PKCS#11 digest mechanism and MGF1 generator. */
interface HashInfo {
  name: ExternalOaepHash | 'SHA-224';
  ckm: number;
  mgf: number;
  size: number;
}

const HASHES: Record<string, HashInfo> = {
  '1.3.14.3.2.26': { name: 'SHA-1', ckm: CKM.SHA_1, mgf: CKG.MGF1_SHA1, size: 20 },
  '2.16.840.1.101.3.4.2.4': { name: 'SHA-224', ckm: CKM.SHA224, mgf: CKG.MGF1_SHA224, size: 28 },
  '2.16.840.1.101.3.4.2.1': { name: 'SHA-256', ckm: CKM.SHA256, mgf: CKG.MGF1_SHA256, size: 32 },
  '2.16.840.1.101.3.4.2.2': { name: 'SHA-384', ckm: CKM.SHA384, mgf: CKG.MGF1_SHA384, size: 48 },
  '2.16.840.1.101.3.4.2.3': { name: 'SHA-512', ckm: CKM.SHA512, mgf: CKG.MGF1_SHA512, size: 64 },
};
const BY_NAME: Record<string, HashInfo> = Object.fromEntries(Object.values(HASHES).map((h) => [h.name, h]));

const SHA1 = '1.3.14.3.2.26';
const MGF1 = '1.2.840.113549.1.1.8';
const RSASSA_PSS = '1.2.840.113549.1.1.10';

/** The hash-and-sign RSA PKCS#1 v1.5 mechanisms by signature OID. */
const RSA_PKCS1: Record<string, number> = {
  '1.2.840.113549.1.1.5': CKM.SHA1_RSA_PKCS,
  '1.2.840.113549.1.1.14': CKM.SHA224_RSA_PKCS,
  '1.2.840.113549.1.1.11': CKM.SHA256_RSA_PKCS,
  '1.2.840.113549.1.1.12': CKM.SHA384_RSA_PKCS,
  '1.2.840.113549.1.1.13': CKM.SHA512_RSA_PKCS,
};

/** The hash-and-sign RSASSA-PSS mechanisms by the PSS hash OID. */
const RSA_PSS: Record<string, number> = {
  '1.3.14.3.2.26': CKM.SHA1_RSA_PKCS_PSS,
  '2.16.840.1.101.3.4.2.4': CKM.SHA224_RSA_PKCS_PSS,
  '2.16.840.1.101.3.4.2.1': CKM.SHA256_RSA_PKCS_PSS,
  '2.16.840.1.101.3.4.2.2': CKM.SHA384_RSA_PKCS_PSS,
  '2.16.840.1.101.3.4.2.3': CKM.SHA512_RSA_PKCS_PSS,
};

/** ecdsa-with-SHA* by OID: the hash done here before CKM_ECDSA. */
const ECDSA: Record<string, string> = {
  '1.2.840.10045.4.1': SHA1,
  '1.2.840.10045.4.3.1': '2.16.840.1.101.3.4.2.4',
  '1.2.840.10045.4.3.2': '2.16.840.1.101.3.4.2.1',
  '1.2.840.10045.4.3.3': '2.16.840.1.101.3.4.2.2',
  '1.2.840.10045.4.3.4': '2.16.840.1.101.3.4.2.3',
};

const ED25519 = '1.3.101.112';
const ED448 = '1.3.101.113';

/** How to sign: an RSA mechanism over the data, ECDSA over a hash, or EdDSA over the data. */
export type SignPlan =
  | { kind: 'rsa'; mechanism: number; pss?: { hashAlg: number; mgf: number; saltLen: number } }
  | { kind: 'ecdsa'; hash: 'SHA-1' | 'SHA-224' | 'SHA-256' | 'SHA-384' | 'SHA-512' }
  | { kind: 'eddsa'; curve: 'ed25519' | 'ed448' };

/** The plan for signing as `oid` (with `params`) says, for a key of `type`; an OID the adapter does not map → UnsupportedAlgorithm. */
export function signPlan(type: string, oid: string, params: Uint8Array | undefined): SignPlan {
  if (type === 'rsa' && oid in RSA_PKCS1) return { kind: 'rsa', mechanism: RSA_PKCS1[oid]! };
  if (type === 'rsa' && oid === RSASSA_PSS) {
    const p = parsePssParams(params);
    return { kind: 'rsa', mechanism: RSA_PSS[p.hash]!, pss: { hashAlg: HASHES[p.hash]!.ckm, mgf: HASHES[p.mgfHash]!.mgf, saltLen: p.saltLength } };
  }
  if (type === 'ec' && oid in ECDSA) return { kind: 'ecdsa', hash: HASHES[ECDSA[oid]!]!.name };
  if (type === 'ed25519' && oid === ED25519) return { kind: 'eddsa', curve: 'ed25519' };
  if (type === 'ed448' && oid === ED448) return { kind: 'eddsa', curve: 'ed448' };
  throw new UnsupportedAlgorithm(`PKCS#11 signing with a ${type} key as ${oid}`, oid);
}

/** RSASSA-PSS-params (RFC 4055 §3.1): hash, MGF1's hash, salt length; the defaults are SHA-1, MGF1-SHA-1, 20. */
export function parsePssParams(params: Uint8Array | undefined): { hash: string; mgfHash: string; saltLength: number } {
  let hash = SHA1;
  let mgfHash = SHA1;
  let saltLength = 20;
  if (!params || (params.length === 2 && params[0] === 0x05 && params[1] === 0x00)) return { hash, mgfHash, saltLength };
  try {
    const top = readTlv(params, 0);
    if (top.tagNo !== TAG.SEQUENCE || !top.constructed || top.end !== params.length) throw new Error('not a SEQUENCE');
    for (const f of children(params, top)) {
      if (f.cls !== 2 || !f.constructed) throw new Error('unexpected field');
      const inner = children(params, f)[0];
      if (f.tagNo === 0) hash = algorithmOid(params, inner);
      else if (f.tagNo === 1) {
        if (algorithmOid(params, inner) !== MGF1) throw new Error('MGF is not MGF1');
        const [, mgfParams] = children(params, inner);
        mgfHash = algorithmOid(params, mgfParams);
      } else if (f.tagNo === 2) saltLength = smallInteger(params, inner);
      else if (f.tagNo === 3) {
        if (smallInteger(params, inner) !== 1) throw new Error('trailer field is not 1');
      }
    }
  } catch {
    throw new UnsupportedAlgorithm('RSASSA-PSS with parameters the PKCS#11 adapter cannot read', RSASSA_PSS);
  }
  if (!(hash in HASHES) || !(mgfHash in HASHES)) throw new UnsupportedAlgorithm('RSASSA-PSS with an unknown hash', RSASSA_PSS);
  return { hash, mgfHash, saltLength };
}

function algorithmOid(buf: Uint8Array, t: Tlv | undefined): string {
  if (!t || t.tagNo !== TAG.SEQUENCE || !t.constructed) throw new Error('expected an AlgorithmIdentifier');
  return decodeOid(buf, children(buf, t)[0]);
}

function smallInteger(buf: Uint8Array, t: Tlv | undefined): number {
  if (!t || t.cls !== 0 || t.tagNo !== TAG.INTEGER) throw new Error('expected an INTEGER');
  const b = buf.subarray(t.contentStart, t.contentEnd);
  if (b.length === 0 || b.length > 4 || (b[0]! & 0x80) !== 0) throw new Error('INTEGER out of range');
  let v = 0;
  for (const x of b) v = v * 256 + x;
  return v;
}

/** CK_RSA_PKCS_OAEP_PARAMS' hash and MGF for an OAEP parameter set. */
export function oaepMechanismParams(hash: string, mgfHash: string): { hashAlg: number; mgf: number } {
  const h = BY_NAME[hash];
  const m = BY_NAME[mgfHash];
  if (!h || !m) throw new KeyOperationRefused(`PKCS#11 decryption: OAEP with ${hash}/${mgfHash} is not mapped`);
  return { hashAlg: h.ckm, mgf: m.mgf };
}
