/**
 * KeyTransRecipientInfo (RFC 5652 §6.2.1) with RSA: PKCS#1 v1.5 (the default of every mail client) and RSA-OAEP
 * (RFC 8017; any hash, any MGF1 hash, any label on decryption). The RSA arithmetic is in src/crypto/rsa.ts: Node 20
 * refuses PKCS#1 v1.5 decryption and WebCrypto has none, so v1.5 unpadding is ours, constant-style, and on bad
 * padding it yields a random CEK (RFC 3218 §2.3) so that every failure looks alike: the same work follows a good
 * and a bad padding, for a recipient that names us and for a key tried on someone else's RecipientInfo alike.
 *
 * Every part of the structure that the message controls is checked before it is used: a missing child, a wrong
 * tag or an empty OID is `CMSInvalid` (never a TypeError from reading a child that isn't there).
 */
import { CMSInvalid, SmimeError, UnsupportedAlgorithm } from '../errors.js';
import { getCrypto, randomBytes } from '../crypto/provider.js';
import { toArrayBuffer } from '../lib/bytes.js';
import type { CertInfo } from '../certs/cert_info.js';
import type { PrivateKeyRef } from '../certs/keys.js';
import { parseRsaPrivateKey, parseRsaPublicKey, type RsaPrivateKey } from '../crypto/rsa_key.js';
import { rsaesOaepDecrypt, rsaesOaepEncrypt, rsaesPkcs1v15DecryptCek, rsaesPkcs1v15Encrypt } from '../crypto/rsa.js';
import { algorithmIdentifier, children, decodeOid, explicit, integer, NULL, octets, seq, stringContent, TAG, type Tlv } from '../lib/der.js';
import { HASH_BY_OID, OID_BY_HASH, OIDS, oidName } from './oids.js';
import { readRecipientId, writeRecipientId, type RecipientId } from './recipient_id.js';

/** The hash of RSAES-OAEP (RFC 8017 §7.1), used both for the label and by MGF1. */
export type OaepHash = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

export interface KeyTransOptions {
  /** Use RSA-OAEP with this hash (MGF1 with the same hash). Default: PKCS#1 v1.5. */
  oaep?: OaepHash;
  /** Identify the recipient by subjectKeyIdentifier instead of issuerAndSerialNumber. */
  useSki?: boolean;
}

export interface KeyTransParams {
  kind: 'v15' | 'oaep';
  hash: string;
  mgfHash: string;
  label: Uint8Array;
}

export interface ParsedKtri {
  rid: RecipientId;
  params: KeyTransParams;
  encryptedKey: Uint8Array;
  algorithmOid: string;
}

/** The OID of an AlgorithmIdentifier element (a SEQUENCE whose first child is an OID), or CMSInvalid. */
function algorithmOid(buf: Uint8Array, t: Tlv | undefined, what: string): { oid: string; params: Tlv | undefined } {
  if (!t || t.cls !== 0 || t.tagNo !== TAG.SEQUENCE || !t.constructed) throw new CMSInvalid(`${what}: expected an AlgorithmIdentifier`);
  const [oidT, params] = children(buf, t);
  if (!oidT || oidT.cls !== 0 || oidT.tagNo !== TAG.OID) throw new CMSInvalid(`${what}: the AlgorithmIdentifier has no OID`);
  return { oid: decodeOid(buf, oidT), params };
}

function parseOaepParams(buf: Uint8Array, t: Tlv | undefined): KeyTransParams {
  const p: KeyTransParams = { kind: 'oaep', hash: 'SHA-1', mgfHash: 'SHA-1', label: new Uint8Array(0) };
  if (!t || t.tagNo === TAG.NULL) return p; // absent or NULL parameters mean the defaults (C# EnvelopedCms writes NULL)
  if (!t.constructed) throw new CMSInvalid('RSA-OAEP: malformed parameters');
  for (const f of children(buf, t)) {
    if (f.cls !== 2) continue;
    if (!f.constructed) throw new CMSInvalid(`RSA-OAEP: malformed parameter [${f.tagNo}]`);
    const { oid, params } = algorithmOid(buf, children(buf, f)[0], `RSA-OAEP parameter [${f.tagNo}]`);
    if (f.tagNo === 0) {
      const h = HASH_BY_OID[oid];
      if (!h) throw new UnsupportedAlgorithm(`RSA-OAEP hash ${oidName(oid)}`, oid);
      p.hash = h;
    } else if (f.tagNo === 1) {
      if (oid !== OIDS.mgf1) throw new UnsupportedAlgorithm(`RSA-OAEP mask generation ${oidName(oid)}`, oid);
      const hashOid = algorithmOid(buf, params, 'MGF1').oid;
      const h = HASH_BY_OID[hashOid];
      if (!h) throw new UnsupportedAlgorithm(`MGF1 hash ${oidName(hashOid)}`, hashOid);
      p.mgfHash = h;
    } else if (f.tagNo === 2) {
      if (oid !== OIDS.pSpecified) throw new UnsupportedAlgorithm(`RSA-OAEP pSource ${oidName(oid)}`, oid);
      if (params) {
        if (params.cls !== 0 || params.tagNo !== TAG.OCTET_STRING) throw new CMSInvalid('RSA-OAEP: the label is not an OCTET STRING');
        p.label = stringContent(buf, params).slice();
      }
    }
  }
  return p;
}

/** Reads a KeyTransRecipientInfo. */
export function parseKtri(buf: Uint8Array, t: Tlv): ParsedKtri {
  const f = children(buf, t);
  if (f.length !== 4) throw new CMSInvalid('KeyTransRecipientInfo: expected 4 fields');
  const [, ridT, algT, ekT] = f as [Tlv, Tlv, Tlv, Tlv];
  const rid = readRecipientId(buf, ridT);
  const alg = algorithmOid(buf, algT, 'KeyTransRecipientInfo keyEncryptionAlgorithm');
  let params: KeyTransParams;
  if (alg.oid === OIDS.rsaEncryption) params = { kind: 'v15', hash: '', mgfHash: '', label: new Uint8Array(0) };
  else if (alg.oid === OIDS.rsaesOaep) params = parseOaepParams(buf, alg.params);
  else throw new UnsupportedAlgorithm(`key transport ${oidName(alg.oid)}`, alg.oid);
  if (ekT.cls !== 0 || ekT.tagNo !== TAG.OCTET_STRING) throw new CMSInvalid('KeyTransRecipientInfo: missing encryptedKey');
  return { rid, params, encryptedKey: stringContent(buf, ekT), algorithmOid: alg.oid };
}

/**
 * Parsed private keys, by the store's DER bytes (which nobody writes): a key is parsed and checked once, and the
 * same object (with its DER) reaches src/crypto/rsa.ts every time, for its native accelerator's cache.
 */
const parsedKeys = new WeakMap<Uint8Array, RsaPrivateKey>();

function rsaKey(der: Uint8Array): RsaPrivateKey {
  let k = parsedKeys.get(der);
  if (!k) {
    k = parseRsaPrivateKey(der);
    parsedKeys.set(der, k);
  }
  return k;
}

/**
 * Recovers the CEK. A bad PKCS#1 v1.5 padding or OAEP decoding (or a key of another length than `expectedLength`)
 * yields a random key of `expectedLength` (never an error), so the content decryption runs and fails exactly as
 * with a wrong key (RFC 3218 §2.3.2): the caller does the same work either way, also for a key tried on a
 * RecipientInfo that names someone else; the garbage a random key lets through CBC one time in 256 is the caller's
 * to reject (src/cms/enveloped.ts). A CryptoKey that cannot do the key transport throws a plain Error.
 */
export async function unwrapKtri(k: ParsedKtri, key: PrivateKeyRef, expectedLength: number | undefined, crypto?: Crypto): Promise<Uint8Array> {
  if (key.pkcs8) {
    const priv = rsaKey(key.pkcs8);
    if (k.params.kind === 'v15') return rsaesPkcs1v15DecryptCek(priv, k.encryptedKey, expectedLength, crypto);
    let cek: Uint8Array | undefined;
    try {
      cek = await rsaesOaepDecrypt(priv, k.encryptedKey, { hash: k.params.hash as OaepHash, mgfHash: k.params.mgfHash as OaepHash, label: k.params.label }, crypto);
    } catch (e) {
      if (e instanceof SmimeError) throw e;
    }
    // The same for OAEP: a failed decoding (or a key of another length) goes on with a random key.
    if (!cek || (expectedLength !== undefined && cek.length !== expectedLength)) return randomBytes(expectedLength ?? 32, crypto);
    return cek;
  }
  // A CryptoKey (perhaps non-extractable): only what WebCrypto itself can do, i.e. OAEP with hash == MGF1 hash.
  const ck = key.cryptoKey;
  if (!ck) throw new Error('no key');
  const alg = ck.algorithm as RsaHashedKeyAlgorithm;
  if (k.params.kind !== 'oaep' || alg.name !== 'RSA-OAEP' || k.params.mgfHash !== k.params.hash || alg.hash.name !== k.params.hash) {
    throw new Error('this CryptoKey cannot perform the key transport the message uses');
  }
  const params: RsaOaepParams = { name: 'RSA-OAEP' };
  if (k.params.label.length) params.label = toArrayBuffer(k.params.label);
  return new Uint8Array(await getCrypto(crypto).subtle.decrypt(params, ck, toArrayBuffer(k.encryptedKey)));
}

function oaepAlgorithm(hash: OaepHash): Uint8Array {
  if (hash === 'SHA-1') return algorithmIdentifier(OIDS.rsaesOaep, seq()); // all defaults
  const hashAlg = algorithmIdentifier(OID_BY_HASH[hash]!, NULL);
  return algorithmIdentifier(OIDS.rsaesOaep, seq(explicit(0, hashAlg), explicit(1, algorithmIdentifier(OIDS.mgf1, hashAlg))));
}

/** Builds a KeyTransRecipientInfo for an RSA certificate. */
export async function buildKtri(info: CertInfo, cek: Uint8Array, opts: KeyTransOptions, crypto?: Crypto): Promise<Uint8Array> {
  const pub = parseRsaPublicKey(info.spki);
  const rid = writeRecipientId(info, opts.useSki === true);
  let alg: Uint8Array;
  let ek: Uint8Array;
  if (opts.oaep) {
    alg = oaepAlgorithm(opts.oaep);
    ek = await rsaesOaepEncrypt(pub, cek, { hash: opts.oaep, mgfHash: opts.oaep }, crypto);
  } else {
    alg = algorithmIdentifier(OIDS.rsaEncryption, NULL);
    ek = await rsaesPkcs1v15Encrypt(pub, cek, crypto);
  }
  return seq(integer(rid.ski ? 2 : 0), rid.der, alg, octets(ek));
}
