/**
 * KeyTransRecipientInfo (RFC 5652 §6.2.1) with RSA: PKCS#1 v1.5 (the default of every mail client) and RSA-OAEP
 * (RFC 8017; any hash, any MGF1 hash, any label on decryption). The private key is used only through
 * `ExternalKey.decrypt` (src/crypto/external_key.ts). The RSA arithmetic is in src/crypto/rsa.ts: Node 20
 * refuses PKCS#1 v1.5 decryption and WebCrypto has none, so v1.5 unpadding is ours, constant-style, and on bad
 * padding it yields a random CEK (RFC 3218 §2.3) so that every failure looks alike: the same work follows a good
 * and a bad padding, for a recipient that names us and for a key tried on someone else's RecipientInfo alike.
 *
 * Which keys offer what (for `ExternalKey.decryptModes`): the raw operation ('rsa-raw') is what to prefer, and most
 * devices have it: PKCS#11 CKM_RSA_X_509 (SoftHSM2, most HSMs, OpenSC's PIV and PKCS#15 cards: a PIV card does raw
 * RSA natively), Apple's kSecKeyAlgorithmRSAEncryptionRaw, Android Keystore's RSA/ECB/NoPadding, CNG's
 * NCRYPT_NO_PADDING_FLAG. Some tokens and remote services offer only CKM_RSA_PKCS ('rsaes-pkcs1-v1_5', the token
 * unpads) and CKM_RSA_PKCS_OAEP (often SHA-1 only, as SoftHSM2 2.6); WebCrypto offers OAEP only, with the hash the
 * key was imported with, and no v1.5 at all.
 *
 * Every part of the structure that the message controls is checked before it is used: a missing child, a wrong
 * tag or an empty OID is `CMSInvalid` (never a TypeError from reading a child that isn't there).
 */
import { CMSInvalid, KeyOperationRefused, SmimeError, TokenPinIncorrect, TokenUnavailable, UnsupportedAlgorithm } from '../errors.js';
import { randomBytes } from '../crypto/provider.js';
import type { CertInfo } from '../certs/cert_info.js';
import { externalKeyOf, type PrivateKeyRef } from '../certs/keys.js';
import { parseRsaPublicKey, type RsaPublicKey } from '../crypto/rsa_key.js';
import { os2ip } from '../crypto/bigint.js';
import { ciphertextRep, oaepDecode, rsaByteLength, rsaesOaepEncrypt, rsaesPkcs1v15Encrypt, rsaPublic, v15UnpadCek } from '../crypto/rsa.js';
import { isSelfCheckedKey } from '../crypto/software_key.js';
import { adaptedCryptoKey, webCryptoOaepProblem } from '../crypto/webcrypto_key.js';
import type { ExternalDecryptAlgorithm, ExternalKey, ExternalOaepParams } from '../crypto/external_key.js';
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

/** RSA public keys of the certificates, by their SPKI array: parsed once, for the checks of a key's results. */
const publicKeys = new WeakMap<Uint8Array, RsaPublicKey>();

function publicKeyOf(info: CertInfo): RsaPublicKey {
  let k = publicKeys.get(info.spki);
  if (!k) {
    k = parseRsaPublicKey(info.spki);
    publicKeys.set(info.spki, k);
  }
  return k;
}

/** Errors a key may throw that say nothing about the ciphertext: they are passed on as they are. */
function isTokenError(e: unknown): boolean {
  return e instanceof TokenPinIncorrect || e instanceof TokenUnavailable;
}

/** A key's failure that is not about the ciphertext: SmimeErrors as they are, anything else KeyOperationRefused. */
function refusal(e: unknown, what: string): SmimeError {
  if (e instanceof SmimeError) return e;
  return new KeyOperationRefused(`${what}: ${e instanceof Error ? e.message : String(e)}`);
}

/** The message's OAEP parameters in the form `ExternalKey.decrypt` takes. */
function externalOaep(p: KeyTransParams): ExternalOaepParams {
  return { name: 'rsaes-oaep', hash: p.hash as OaepHash, mgfHash: p.mgfHash as OaepHash, label: p.label };
}

/**
 * The raw RSA operation by the key (m = c^d mod n), checked: as long as the modulus, below n, and (unless the key
 * is our own, which checks itself) re-encrypting to `c`. A key that gives anything else is faulty or holds another
 * key: KeyOperationRefused. None of this depends on the padding.
 */
async function rawDecrypt(key: ExternalKey, pub: RsaPublicKey, c: bigint, ciphertext: Uint8Array): Promise<Uint8Array> {
  let em: Uint8Array;
  try {
    em = await key.decrypt!(ciphertext, 'rsa-raw');
  } catch (e) {
    throw refusal(e, 'the key refused the raw RSA operation');
  }
  const k = rsaByteLength(pub);
  if (!(em instanceof Uint8Array) || em.length !== k) throw new KeyOperationRefused(`the key's raw RSA result is not ${k} bytes long`);
  if (isSelfCheckedKey(key)) return em;
  const m = os2ip(em);
  if (m >= pub.n || rsaPublic(pub, m) !== c) throw new KeyOperationRefused("the key's raw RSA result does not match the certificate's public key");
  return em;
}

/**
 * Recovers the CEK with the identity's key, through `ExternalKey.decrypt` only. A bad PKCS#1 v1.5 padding or OAEP
 * decoding (or a key of another length than `expectedLength`) yields a random key of `expectedLength` (never an
 * error), so the content decryption runs and fails exactly as with a wrong key (RFC 3218 §2.3.2): the caller does
 * the same work either way, also for a key tried on a RecipientInfo that names someone else; the garbage a random
 * key lets through CBC one time in 256 is the caller's to reject (src/cms/enveloped.ts).
 *
 * - A key that declares 'rsa-raw' (the default, and every key smime-core holds) is asked for the raw operation, and
 *   the padding (v1.5 or OAEP) is removed here in constant time.
 * - Otherwise v1.5 goes through the key's 'rsaes-pkcs1-v1_5' and OAEP through its OAEP, and ANY failure of the key
 *   there (a throw of any kind but TokenPinIncorrect or TokenUnavailable, a result of the wrong length) becomes the
 *   random key, with the same work after (Bleichenbacher, Manger).
 * - A key that can do neither: KeyOperationRefused naming what it lacks. A key that is not RSA or cannot decrypt:
 *   KeyOperationRefused too.
 */
export async function unwrapKtri(
  k: ParsedKtri,
  id: { info: CertInfo; key: PrivateKeyRef },
  expectedLength: number | undefined,
  crypto?: Crypto,
): Promise<Uint8Array> {
  if (expectedLength !== undefined && (!Number.isInteger(expectedLength) || expectedLength < 0)) {
    throw new RangeError('unwrapKtri: expectedLength must be a non-negative integer');
  }
  const key = externalKeyOf(id.key, id.info, crypto);
  if (!key || typeof key.decrypt !== 'function' || key.type !== 'rsa') throw new KeyOperationRefused('the key cannot decrypt (no RSA decryption)');
  const pub = publicKeyOf(id.info);
  const modes = key.decryptModes ?? ['rsa-raw'];
  const v15 = k.params.kind === 'v15';
  const fallbackLen = expectedLength ?? 32;
  if (modes.includes('rsa-raw')) {
    const fallback = randomBytes(fallbackLen, crypto);
    const c = ciphertextRep(pub, k.encryptedKey);
    // The ciphertext's length and range are public; a CEK longer than k − 11 can never be valid.
    if (c === undefined || (v15 && fallbackLen > rsaByteLength(pub) - 11)) return fallback;
    const em = await rawDecrypt(key, pub, c, k.encryptedKey);
    if (v15) return v15UnpadCek(em, rsaByteLength(pub), expectedLength, fallback);
    let cek: Uint8Array | undefined;
    try {
      cek = await oaepDecode(em, rsaByteLength(pub), { hash: k.params.hash as OaepHash, mgfHash: k.params.mgfHash as OaepHash, label: k.params.label }, crypto);
    } catch (e) {
      if (e instanceof SmimeError) throw e;
    }
    if (!cek || (expectedLength !== undefined && cek.length !== expectedLength)) return fallback;
    return cek;
  }
  let algorithm: ExternalDecryptAlgorithm;
  if (v15) {
    if (!modes.includes('rsaes-pkcs1-v1_5')) {
      const ck = adaptedCryptoKey(key);
      if (ck && !ck.extractable) {
        throw new KeyOperationRefused(
          'this message uses RSA PKCS#1 v1.5 key transport, and the key is a non-extractable CryptoKey: WebCrypto has no PKCS#1 v1.5 decryption. ' +
            'Import the key as PKCS#8 (a file or a PKCS#12), or use an ExternalKey that does rsa-raw (a PKCS#11 token, for one)',
        );
      }
      throw new KeyOperationRefused(`this message uses RSA PKCS#1 v1.5 key transport; the key offers only ${modes.join(', ') || 'no decryption'}`);
    }
    algorithm = 'rsaes-pkcs1-v1_5';
  } else {
    if (!modes.includes('rsaes-oaep')) throw new KeyOperationRefused(`this message uses RSA-OAEP key transport; the key offers only ${modes.join(', ') || 'no decryption'}`);
    algorithm = externalOaep(k.params);
    const problem = webCryptoOaepProblem(key, algorithm);
    if (problem) throw new KeyOperationRefused(problem);
  }
  // The key removes the padding itself: whatever goes wrong there may depend on the ciphertext, so every failure
  // is a bad padding (the random key), and the caller does the same work after.
  const fallback = randomBytes(fallbackLen, crypto);
  let cek: Uint8Array | undefined;
  try {
    cek = await key.decrypt(k.encryptedKey, algorithm);
  } catch (e) {
    if (isTokenError(e)) throw e;
    cek = undefined;
  }
  if (!(cek instanceof Uint8Array)) return fallback;
  if (expectedLength !== undefined ? cek.length !== expectedLength : cek.length === 0 || cek.length > rsaByteLength(pub) - 11) return fallback;
  return cek.slice();
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
