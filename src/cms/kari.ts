/**
 * KeyAgreeRecipientInfo (RFC 5652 §6.2.2): ephemeral-static ECDH on P-256/P-384/P-521 (RFC 5753) and X25519/X448
 * (RFC 8418), with the ANSI X9.63 KDF or HKDF over ECC-CMS-SharedInfo, and AES key wrap (RFC 3394).
 *
 * Everything goes through WebCrypto (ECDH/X25519 deriveBits, digests, HKDF, AES-KW) except SHA-224, which
 * WebCrypto lacks (crypto/digest.ts takes it from @noble/hashes).
 *
 * ECC-CMS-SharedInfo (RFC 5753 §7.2) is written the way OpenSSL and Bouncy Castle write it: keyInfo is the wrap
 * AlgorithmIdentifier exactly as the message encodes it, entityUInfo [0] appears ONLY when the message has a ukm
 * (pkijs writes an empty one, which is why it can't open OpenSSL output), suppPubInfo [2] is the KEK length in bits.
 */
import { CMSInvalid, KeyOperationRefused, SmimeError, UnsupportedAlgorithm } from '../errors.js';
import { getCrypto, randomBytes } from '../crypto/provider.js';
import { digest } from '../crypto/digest.js';
import { KEY_AGREEMENTS, KEY_WRAPS, MONTGOMERY_BITS, NIST_CURVES, type KeyAgreementScheme, type KeyWrapName } from '../crypto/algorithms.js';
import { concat, toArrayBuffer } from '../lib/bytes.js';
import type { CertInfo } from '../certs/cert_info.js';
import { keyKind, OID } from '../certs/cert_info.js';
import { externalKeyOf, type PrivateKeyRef } from '../certs/keys.js';
import {
  algorithmIdentifier,
  children,
  decodeOid,
  explicit,
  integer,
  octets,
  oid,
  seq,
  stringContent,
  TAG,
  tlv,
  type Tlv,
} from '../lib/der.js';
import { readRecipientId, type RecipientId } from './recipient_id.js';

export type KeyAgreeKdf = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512' | 'hkdf-sha256' | 'hkdf-sha384' | 'hkdf-sha512';
export type { KeyWrapName };

export interface KeyAgreeOptions {
  /** Identify the recipient by subjectKeyIdentifier (rKeyId) instead of issuerAndSerialNumber. */
  useSki?: boolean;
  /**
   * The KDF. Defaults: sha256 for P-256 and X25519, sha384 for P-384 and P-521, sha512 for X448. The hkdf-* KDFs
   * are defined for X25519/X448 only (RFC 8418); sha1 and sha224 for the NIST curves only (RFC 5753).
   */
  kdf?: KeyAgreeKdf;
  /** The key wrap. Defaults: aes128 for P-256 and X25519, aes256 for P-384, P-521 and X448. */
  wrap?: KeyWrapName;
  /** Add a random 64-byte user keying material (ukm). */
  ukm?: boolean;
}

type Scheme = KeyAgreementScheme;

/** Key agreement scheme OIDs (the keyEncryptionAlgorithm of a KARI), by name: from the registry. */
export const KA_OIDS = {
  stdDhSha1kdf: KEY_AGREEMENTS.stdDhSha1kdf.oid,
  stdDhSha224kdf: KEY_AGREEMENTS.stdDhSha224kdf.oid,
  stdDhSha256kdf: KEY_AGREEMENTS.stdDhSha256kdf.oid,
  stdDhSha384kdf: KEY_AGREEMENTS.stdDhSha384kdf.oid,
  stdDhSha512kdf: KEY_AGREEMENTS.stdDhSha512kdf.oid,
  cofactorDhSha1kdf: KEY_AGREEMENTS.cofactorDhSha1kdf.oid,
  cofactorDhSha224kdf: KEY_AGREEMENTS.cofactorDhSha224kdf.oid,
  cofactorDhSha256kdf: KEY_AGREEMENTS.cofactorDhSha256kdf.oid,
  cofactorDhSha384kdf: KEY_AGREEMENTS.cofactorDhSha384kdf.oid,
  cofactorDhSha512kdf: KEY_AGREEMENTS.cofactorDhSha512kdf.oid,
  /** id-alg-dhSinglePass-stdDH-hkdf-sha256/384/512-scheme (RFC 8418 §2.2). */
  stdDhHkdfSha256: KEY_AGREEMENTS.stdDhHkdfSha256.oid,
  stdDhHkdfSha384: KEY_AGREEMENTS.stdDhHkdfSha384.oid,
  stdDhHkdfSha512: KEY_AGREEMENTS.stdDhHkdfSha512.oid,
} as const;

/** Every key agreement scheme the registry knows, by OID (with the RFC 8619 HKDF OIDs read as RFC 8418 schemes). */
const SCHEMES: Readonly<Record<string, Scheme>> = Object.fromEntries(Object.values(KEY_AGREEMENTS).map((k) => [k.oid, k]));

/** The scheme each `kdf` option writes: standard (not cofactor) DH. */
const KDF_OID: Record<KeyAgreeKdf, string> = {
  sha1: KA_OIDS.stdDhSha1kdf,
  sha224: KA_OIDS.stdDhSha224kdf,
  sha256: KA_OIDS.stdDhSha256kdf,
  sha384: KA_OIDS.stdDhSha384kdf,
  sha512: KA_OIDS.stdDhSha512kdf,
  'hkdf-sha256': KA_OIDS.stdDhHkdfSha256,
  'hkdf-sha384': KA_OIDS.stdDhHkdfSha384,
  'hkdf-sha512': KA_OIDS.stdDhHkdfSha512,
};

const WRAPS: Record<string, { name: KeyWrapName; keyLength: number }> = Object.fromEntries(
  (Object.keys(KEY_WRAPS) as KeyWrapName[]).map((name) => [KEY_WRAPS[name].oid, { name, keyLength: KEY_WRAPS[name].keyLength }]),
);
const WRAP_OID: Record<KeyWrapName, string> = Object.fromEntries(
  (Object.keys(KEY_WRAPS) as KeyWrapName[]).map((name) => [name, KEY_WRAPS[name].oid]),
) as Record<KeyWrapName, string>;

/** How to run the key agreement for a recipient certificate's key. */
interface Agreement {
  kind: 'ec' | 'x25519' | 'x448';
  algorithm: EcKeyImportParams | Algorithm;
  /** Shared secret length in bits. */
  bits: number;
  /** The curve OID, for EC. */
  curve?: string;
  /** The OriginatorPublicKey algorithm OID. */
  keyOid: string;
}

function agreementFor(info: CertInfo): Agreement {
  const kind = keyKind(info);
  if (kind === 'ec') {
    const c = info.curve ? NIST_CURVES[info.curve] : undefined;
    if (!c) throw new UnsupportedAlgorithm(`key agreement on EC curve ${info.curve ?? '(none)'}`, info.curve);
    return { kind, algorithm: { name: 'ECDH', namedCurve: c.name }, bits: c.size * 8, curve: info.curve, keyOid: OID.ecPublicKey };
  }
  if (kind === 'x25519') return { kind, algorithm: { name: 'X25519' }, bits: MONTGOMERY_BITS.x25519, keyOid: OID.x25519 };
  if (kind === 'x448') return { kind, algorithm: { name: 'X448' }, bits: MONTGOMERY_BITS.x448, keyOid: OID.x448 };
  throw new UnsupportedAlgorithm(`key agreement with a ${info.keyAlgorithm} key`, info.keyAlgorithm);
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing

export type KariOriginator =
  | {
      type: 'key';
      /** OriginatorPublicKey algorithm OID. */
      algorithm: string;
      /** The parameters element (curve OID, NULL, or absent), in the KARI's buffer. */
      params?: Tlv;
      publicKey: Uint8Array;
    }
  /** issuerAndSerialNumber or subjectKeyIdentifier: static-static agreement, not supported. */
  | { type: 'certificate' };

export interface ParsedKari {
  buf: Uint8Array;
  tlv: Tlv;
  version: number;
  originator: KariOriginator;
  ukm?: Uint8Array;
  /** The key agreement scheme OID (keyEncryptionAlgorithm.algorithm). */
  keyAgreement: string;
  /** The key wrap AlgorithmIdentifier (keyEncryptionAlgorithm.parameters), DER as in the message. */
  wrapAlgorithm?: Uint8Array;
  wrapOid?: string;
  /** The wrap AlgorithmIdentifier's parameters: undefined when absent. */
  wrapParams?: Uint8Array;
  recipients: { rid: RecipientId; encryptedKey: Uint8Array }[];
}

/** A malformed KeyAgreeRecipientInfo is input, so a `CMSInvalid` (a failed unwrap ends in CMSDecryptionFailed). */
function bad(msg: string): never {
  throw new CMSInvalid(`KeyAgreeRecipientInfo: ${msg}`);
}

/** Reads a KeyAgreeRecipientInfo ([1] IMPLICIT SEQUENCE). */
export function parseKari(buf: Uint8Array, t: Tlv): ParsedKari {
  const f = children(buf, t);
  let i = 0;
  const vT = f[i++];
  if (!vT || vT.tagNo !== TAG.INTEGER || vT.cls !== 0) bad('missing version');
  const version = vT.contentEnd - vT.contentStart === 1 ? buf[vT.contentStart]! : -1;
  const oT = f[i++];
  if (!oT || oT.cls !== 2 || oT.tagNo !== 0) bad('missing originator');
  const oc = children(buf, oT)[0];
  if (!oc) bad('empty originator');
  let originator: KariOriginator;
  if (oc.cls === 2 && oc.tagNo === 1) {
    // originatorKey [1] IMPLICIT OriginatorPublicKey ::= SEQUENCE { algorithm AlgorithmIdentifier, publicKey BIT STRING }
    const [algT, pkT] = children(buf, oc);
    if (!algT || algT.tagNo !== TAG.SEQUENCE || !pkT || pkT.tagNo !== TAG.BIT_STRING) bad('malformed originatorKey');
    const [aoT, apT] = children(buf, algT);
    if (!aoT) bad('originatorKey: missing algorithm');
    const bits = stringContent(buf, pkT);
    if (bits.length < 2 || bits[0] !== 0) bad('originatorKey: bad BIT STRING');
    originator = {
      type: 'key',
      algorithm: decodeOid(buf, aoT),
      params: apT,
      publicKey: bits.subarray(1),
    };
  } else originator = { type: 'certificate' };
  let ukm: Uint8Array | undefined;
  if (f[i] && f[i]!.cls === 2 && f[i]!.tagNo === 1) {
    const u = children(buf, f[i++]!)[0];
    if (!u || u.tagNo !== TAG.OCTET_STRING) bad('malformed ukm');
    ukm = stringContent(buf, u);
  }
  const kaT = f[i++];
  if (!kaT || kaT.cls !== 0 || kaT.tagNo !== TAG.SEQUENCE) bad('missing keyEncryptionAlgorithm');
  const [kaOidT, wrapT] = children(buf, kaT);
  if (!kaOidT) bad('missing keyEncryptionAlgorithm OID');
  const keyAgreement = decodeOid(buf, kaOidT);
  let wrapAlgorithm: Uint8Array | undefined;
  let wrapOid: string | undefined;
  let wrapParams: Uint8Array | undefined;
  if (wrapT && wrapT.cls === 0 && wrapT.tagNo === TAG.SEQUENCE) {
    wrapAlgorithm = buf.subarray(wrapT.start, wrapT.end);
    const [wo, wp] = children(buf, wrapT);
    if (!wo) bad('empty key wrap AlgorithmIdentifier');
    wrapOid = decodeOid(buf, wo);
    if (wp) wrapParams = buf.subarray(wp.start, wp.end);
  }
  const reks = f[i++];
  if (!reks || reks.cls !== 0 || reks.tagNo !== TAG.SEQUENCE) bad('missing recipientEncryptedKeys');
  const recipients = children(buf, reks).map((r) => {
    const [ridT, ekT] = children(buf, r);
    if (!ridT || !ekT || ekT.tagNo !== TAG.OCTET_STRING) bad('malformed RecipientEncryptedKey');
    return { rid: readRecipientId(buf, ridT), encryptedKey: stringContent(buf, ekT) };
  });
  return { buf, tlv: t, version, originator, ukm, keyAgreement, wrapAlgorithm, wrapOid, wrapParams, recipients };
}

// ---------------------------------------------------------------------------------------------------------------
// KDFs and key wrap

function be32(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** DER of ECC-CMS-SharedInfo (RFC 5753 §7.2). */
export function sharedInfo(wrapAlgorithm: Uint8Array, kekBytes: number, ukm?: Uint8Array): Uint8Array {
  const parts = [wrapAlgorithm];
  if (ukm) parts.push(explicit(0, octets(ukm)));
  parts.push(explicit(2, octets(be32(kekBytes * 8))));
  return seq(...parts);
}

/** ANSI X9.63 KDF (SEC 1 §3.6.1): Hash(Z || counter || SharedInfo) for counter = 1, 2, …, truncated. */
async function x963Kdf(hash: Scheme['hash'], z: Uint8Array, info: Uint8Array, length: number, crypto?: Crypto): Promise<Uint8Array> {
  const blocks: Uint8Array[] = [];
  let have = 0;
  for (let counter = 1; have < length; counter++) {
    const h = await digest(hash, concat([z, be32(counter), info]), crypto);
    blocks.push(h);
    have += h.length;
  }
  return concat(blocks).subarray(0, length);
}

/** HKDF (RFC 5869) as RFC 8418 §2.2 uses it: salt absent (HashLen zeros, same as empty), IKM = Z, info = SharedInfo. */
async function hkdf(hash: Scheme['hash'], z: Uint8Array, info: Uint8Array, length: number, crypto?: Crypto): Promise<Uint8Array> {
  const s = getCrypto(crypto).subtle;
  const ikm = await s.importKey('raw', toArrayBuffer(z), 'HKDF', false, ['deriveBits']);
  const params = { name: 'HKDF', hash, salt: new ArrayBuffer(0), info: toArrayBuffer(info) };
  return new Uint8Array(await s.deriveBits(params, ikm, length * 8));
}

async function deriveKek(scheme: Scheme, z: Uint8Array, info: Uint8Array, length: number, crypto?: Crypto): Promise<Uint8Array> {
  return scheme.kdf === 'hkdf' ? hkdf(scheme.hash, z, info, length, crypto) : x963Kdf(scheme.hash, z, info, length, crypto);
}

// The CEK passes through WebCrypto's AES-KW as an HMAC key: HMAC takes raw keys of any length, so the CEK of any
// content cipher (AES, 3DES, ChaCha20) can be wrapped and unwrapped, and exported again.
const CEK_AS_HMAC: HmacImportParams = { name: 'HMAC', hash: 'SHA-256' };

async function aesKeyWrap(kek: Uint8Array, cek: Uint8Array, crypto?: Crypto): Promise<Uint8Array> {
  const s = getCrypto(crypto).subtle;
  const k = await s.importKey('raw', toArrayBuffer(kek), 'AES-KW', false, ['wrapKey']);
  const c = await s.importKey('raw', toArrayBuffer(cek), CEK_AS_HMAC, true, ['sign']);
  return new Uint8Array(await s.wrapKey('raw', c, k, 'AES-KW'));
}

async function aesKeyUnwrap(kek: Uint8Array, wrapped: Uint8Array, crypto?: Crypto): Promise<Uint8Array> {
  if (wrapped.length < 24 || wrapped.length % 8 !== 0) bad('bad encryptedKey length');
  const s = getCrypto(crypto).subtle;
  const k = await s.importKey('raw', toArrayBuffer(kek), 'AES-KW', false, ['unwrapKey']);
  const c = await s.unwrapKey('raw', toArrayBuffer(wrapped), k, 'AES-KW', CEK_AS_HMAC, true, ['sign']);
  return new Uint8Array(await s.exportKey('raw', c));
}

function isAllZero(b: Uint8Array): boolean {
  let d = 0;
  for (let i = 0; i < b.length; i++) d |= b[i]!;
  return d === 0;
}

async function agree(a: Agreement, priv: CryptoKey, pub: CryptoKey, crypto?: Crypto): Promise<Uint8Array> {
  const z = new Uint8Array(await getCrypto(crypto).subtle.deriveBits({ name: a.algorithm.name, public: pub } as EcdhKeyDeriveParams, priv, a.bits));
  // X25519/X448 with a small-order point give all zeros (RFC 7748 §6.1): refuse it.
  if (isAllZero(z)) bad('degenerate shared secret');
  return z;
}

// ---------------------------------------------------------------------------------------------------------------
// Decryption

/** Unwraps the CEK for recipient `index` of the KARI with the identity's private key. Throws on any failure. */
export async function unwrapKari(
  k: ParsedKari,
  index: number,
  id: { info: CertInfo; key: PrivateKeyRef },
  crypto?: Crypto,
): Promise<Uint8Array> {
  const rek = k.recipients[index];
  if (!rek) bad(`no recipient #${index}`);
  const scheme = SCHEMES[k.keyAgreement];
  if (!scheme) throw new UnsupportedAlgorithm(`key agreement scheme ${k.keyAgreement}`, k.keyAgreement);
  if (!k.wrapAlgorithm || !k.wrapOid) bad('keyEncryptionAlgorithm has no key wrap algorithm');
  const wrap = WRAPS[k.wrapOid];
  if (!wrap) throw new UnsupportedAlgorithm(`key wrap ${k.wrapOid}`, k.wrapOid);
  // AES wrap parameters: absent (RFC 3565), or NULL as some senders write.
  if (k.wrapParams && !(k.wrapParams.length === 2 && k.wrapParams[0] === TAG.NULL && k.wrapParams[1] === 0)) bad('unexpected key wrap parameters');
  if (k.version !== 3) bad(`version ${k.version}, expected 3`);
  if (k.originator.type !== 'key') throw new UnsupportedAlgorithm('static-static key agreement (originator certificate)');

  const a = agreementFor(id.info);
  const o = k.originator;
  if (o.algorithm !== a.keyOid) bad(`originator key ${o.algorithm} does not fit the recipient key`);
  if (a.kind === 'ec') {
    // Parameters absent or NULL (RFC 5753 §7.1.2), or a named curve that must be the recipient's.
    if (o.params && o.params.cls === 0 && o.params.tagNo === TAG.OID) {
      if (decodeOid(k.buf, o.params) !== a.curve) bad('originator key is on another curve');
    } else if (o.params && !(o.params.cls === 0 && o.params.tagNo === TAG.NULL)) bad('unexpected originator key parameters');
  } else {
    if (scheme.cofactor) bad('cofactor DH is not defined for X25519/X448');
    if (o.params) bad('X25519/X448 originator key parameters must be absent');
  }

  const key = externalKeyOf(id.key, id.info, crypto);
  if (!key || typeof key.deriveSecret !== 'function') throw new KeyOperationRefused('the key cannot do key agreement');
  // The originator's key as SubjectPublicKeyInfo: the algorithm the recipient's key has (with its named curve).
  const spki = seq(algorithmIdentifier(a.keyOid, a.kind === 'ec' ? oid(a.curve!) : undefined), tlv(0x03, concat([new Uint8Array(1), o.publicKey])));
  let z: Uint8Array;
  try {
    z = await key.deriveSecret(spki);
  } catch (e) {
    // Our own keys fail as before (WebCrypto's error on a bad point is the message's problem, not the key's).
    if (!id.key.external || e instanceof SmimeError) throw e;
    throw new KeyOperationRefused(`the key refused the key agreement: ${e instanceof Error ? e.message : String(e)}`);
  }
  // For the NIST prime curves the cofactor is 1, so cofactor DH computes the same Z as standard DH.
  if (!(z instanceof Uint8Array) || z.length !== (a.bits + 7) >> 3) throw new KeyOperationRefused(`the key's shared secret is not ${(a.bits + 7) >> 3} bytes long`);
  // X25519/X448 with a small-order point give all zeros (RFC 7748 §6.1): refuse it.
  if (isAllZero(z)) bad('degenerate shared secret');
  const info = sharedInfo(k.wrapAlgorithm, wrap.keyLength, k.ukm);
  const kek = await deriveKek(scheme, z, info, wrap.keyLength, crypto);
  z.fill(0);
  try {
    return await aesKeyUnwrap(kek, rek.encryptedKey, crypto);
  } finally {
    kek.fill(0);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Encryption

const KDF_NAMES = Object.keys(KDF_OID) as KeyAgreeKdf[];
const WRAP_NAMES = Object.keys(WRAP_OID) as KeyWrapName[];

function defaults(a: Agreement): { kdf: KeyAgreeKdf; wrap: KeyWrapName } {
  if (a.kind === 'x448') return { kdf: 'sha512', wrap: 'aes256' };
  if (a.kind === 'x25519' || a.bits === 256) return { kdf: 'sha256', wrap: 'aes128' };
  return { kdf: 'sha384', wrap: 'aes256' };
}

/** Builds a whole KeyAgreeRecipientInfo element ([1] IMPLICIT, tag 0xA1) that carries `cek` to the certificate's key. */
export async function buildKari(info: CertInfo, cek: Uint8Array, opts: KeyAgreeOptions, crypto?: Crypto): Promise<Uint8Array> {
  const a = agreementFor(info);
  const d = defaults(a);
  const kdf = opts.kdf ?? d.kdf;
  const wrapName = opts.wrap ?? d.wrap;
  if (!KDF_NAMES.includes(kdf)) throw new RangeError(`keyAgree.kdf: expected one of ${KDF_NAMES.join(', ')}`);
  if (!WRAP_NAMES.includes(wrapName)) throw new RangeError(`keyAgree.wrap: expected one of ${WRAP_NAMES.join(', ')}`);
  if (a.kind === 'ec' && kdf.startsWith('hkdf')) throw new RangeError(`keyAgree.kdf: ${kdf} is defined for X25519/X448 only (RFC 8418)`);
  if (a.kind !== 'ec' && (kdf === 'sha1' || kdf === 'sha224')) throw new RangeError(`keyAgree.kdf: ${kdf} is not defined for X25519/X448 (RFC 8418)`);
  if (cek.length < 16 || cek.length % 8 !== 0) throw new RangeError('buildKari: the CEK must be a multiple of 8 bytes, at least 16');
  const kaOid = KDF_OID[kdf];
  const scheme = SCHEMES[kaOid]!;
  const wrapOid = WRAP_OID[wrapName];
  const kekLength = WRAPS[wrapOid]!.keyLength;

  const s = getCrypto(crypto).subtle;
  const recipientKey = await s.importKey('spki', toArrayBuffer(info.spki), a.algorithm, false, []);
  const eph = (await s.generateKey(a.algorithm, false, ['deriveBits'])) as CryptoKeyPair; // the public half stays exportable
  const ephPublic = new Uint8Array(await s.exportKey('raw', eph.publicKey));
  const z = await agree(a, eph.privateKey, recipientKey, crypto);

  const ukm = opts.ukm ? randomBytes(64, crypto) : undefined;
  const wrapAlgorithm = algorithmIdentifier(wrapOid); // parameters absent (RFC 3565 §2.3.2)
  const kek = await deriveKek(scheme, z, sharedInfo(wrapAlgorithm, kekLength, ukm), kekLength, crypto);
  z.fill(0);
  let encryptedKey: Uint8Array;
  try {
    encryptedKey = await aesKeyWrap(kek, cek, crypto);
  } finally {
    kek.fill(0);
  }

  // originatorKey [1] IMPLICIT OriginatorPublicKey: id-ecPublicKey / id-X25519 / id-X448 with parameters absent
  // (RFC 5753 §7.1.2 allows absent or NULL for EC; OpenSSL writes absent; RFC 8418 §2 requires absent).
  const originator = explicit(0, tlv(0xa1, algorithmIdentifier(a.keyOid), tlv(0x03, Uint8Array.of(0), ephPublic)));
  // KeyAgreeRecipientIdentifier: rKeyId [0] IMPLICIT RecipientKeyIdentifier, or issuerAndSerialNumber.
  const rid = opts.useSki && info.ski ? tlv(0xa0, octets(info.ski)) : seq(info.issuer, tlv(0x02, info.serial));
  const parts = [integer(3), originator];
  if (ukm) parts.push(explicit(1, octets(ukm)));
  parts.push(algorithmIdentifier(kaOid, wrapAlgorithm), seq(seq(rid, octets(encryptedKey))));
  return tlv(0xa1, ...parts);
}
