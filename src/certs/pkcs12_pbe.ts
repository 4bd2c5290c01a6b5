/**
 * The password-based decryption of PKCS#12 (RFC 7292 Appendix C, RFC 8018): the PKCS#12 PBEs
 * (pbeWithSHAAnd3-KeyTripleDES-CBC, ...2-KeyTripleDES-CBC, ...128BitRC2-CBC, ...40BitRC2-CBC) keyed by the RFC 7292
 * KDF over the BMPString password, and PBES2 (PBKDF2 with HMAC-SHA-1/224/256/384/512; AES-128/192/256-CBC,
 * DES-EDE3-CBC, RC2-CBC, DES-CBC) over its UTF-8 bytes, with their parameters read and checked; also the PBKDF2
 * parameters that PBMAC1 shares.
 *
 * Every key derivation is announced to the caller's `beforeKdf` hook first (pkcs12.ts checks it against its work
 * budget and may hold it back or abort it). A bad padding: {@link BadDecrypt}; malformed parameters:
 * Pkcs12Invalid; an unknown algorithm: UnsupportedAlgorithm naming its OID.
 */
import { UnsupportedAlgorithm } from '../errors.js';
import { TAG, UNIVERSAL, stringContent, type Tlv } from '../lib/der.js';
import { CONTENT_CIPHERS, DIGESTS, digestByHmacOid, PBE, type HashName as RegistryHashName } from '../crypto/algorithms.js';
import { aesCbcDecrypt } from '../crypto/aes_cbc.js';
import { des3CbcDecrypt, rc2CbcDecrypt, rc2EffectiveBitsFromVersion } from '../crypto/legacy.js';
import { pbkdf2, pkcs12Kdf, type Pkcs12KdfOptions } from '../crypto/kdf.js';
import { algorithmIdentifier, expectSeq, invalid, named, octetString, OID, readInt } from './pkcs12_syntax.js';

/** The MAC and PRF hashes: every registry digest but MD5. */
export type HashName = Exclude<RegistryHashName, 'MD5'>;

/** A MAC or PRF hash with the sizes the RFC 7292 KDF uses. */
export interface HashInfo {
  name: HashName;
  /** Output length u (bytes). */
  u: number;
  /** Block length v (bytes). */
  v: number;
}

/** The MAC and PRF hashes (every registry digest but MD5), with the KDF's u and v: from the registry. */
export const HASHES = Object.fromEntries(
  Object.values(DIGESTS).flatMap((d) => (d.name === 'MD5' ? [] : [[d.name, { name: d.name, u: d.length, v: d.blockLength }]])),
) as Record<HashName, HashInfo>;

/** The PBKDF2 / PBMAC1 PRF (hmacWithSHA1 … hmacWithSHA512, RFC 8018 §B.1.2) by OID. */
export function hmacInfoOf(oid: string): HashInfo | undefined {
  const d = digestByHmacOid(oid);
  return d && d.name !== 'MD5' ? HASHES[d.name] : undefined;
}

/** Thrown inside the parser when a decryption's padding is wrong: always a wrong password. */
export class BadDecrypt extends Error {}

/** The password in the two encodings PKCS#12 uses. */
export interface Password {
  /** BMPString with terminator, for the RFC 7292 KDF (or empty: OpenSSL's NULL password). */
  bmp: Uint8Array;
  /** UTF-8, for PBKDF2. */
  utf8: Uint8Array;
}

/** What one password-based decryption needs from the reader. */
export interface PbeContext {
  crypto: Crypto;
  pw: Password;
  /**
   * Called before each key derivation with its iteration count and output blocks: the reader checks its limits and
   * may hold the run back; it throws to refuse it (Pkcs12LimitExceeded, KdfAborted).
   */
  beforeKdf(iterations: number, blocks: number, what: string): Promise<void>;
  /** The options of the RFC 7292 KDF runs (the iteration limit, the abort signal). */
  kdf: Pkcs12KdfOptions;
}

/** PBKDF2's parameters. */
export interface Pbkdf2Params {
  salt: Uint8Array;
  iterations: number;
  keyLength?: number;
  prf: HashInfo;
}

/** PBKDF2-params (RFC 8018 A.2), checked; the PRF defaults to HMAC-SHA-1. */
export function pbkdf2Params(der: Uint8Array, params: Tlv | undefined): Pbkdf2Params {
  // PBKDF2-params ::= SEQUENCE { salt CHOICE { specified OCTET STRING, otherSource AlgorithmIdentifier },
  //   iterationCount INTEGER, keyLength INTEGER OPTIONAL, prf AlgorithmIdentifier DEFAULT hmacWithSHA1 }
  if (!params) invalid('PBKDF2 without parameters');
  const p = expectSeq(der, params, 'PBKDF2 parameters');
  if (p.length < 2 || p.length > 4) invalid('malformed PBKDF2 parameters');
  if (p[0]!.tagNo !== TAG.OCTET_STRING || p[0]!.cls !== UNIVERSAL) {
    throw new UnsupportedAlgorithm('PBKDF2 salt from an otherSource');
  }
  const salt = octetString(der, p[0]!, 'PBKDF2 salt');
  const iterations = readInt(der, p[1]!, 'PBKDF2 iterations');
  let i = 2;
  let keyLength: number | undefined;
  if (p[i] && p[i]!.cls === UNIVERSAL && p[i]!.tagNo === TAG.INTEGER) {
    keyLength = readInt(der, p[i]!, 'PBKDF2 keyLength');
    if (keyLength < 1 || keyLength > 1024) invalid('PBKDF2 keyLength out of range');
    i++;
  }
  let prf = HASHES['SHA-1'];
  if (p[i]) {
    const a = algorithmIdentifier(der, p[i]!, 'PBKDF2 prf');
    const h = hmacInfoOf(a.oid);
    if (!h) throw new UnsupportedAlgorithm(named('PBKDF2 prf', a.oid), a.oid);
    prf = h;
    i++;
  }
  if (i !== p.length) invalid('malformed PBKDF2 parameters');
  return { salt, iterations, keyLength, prf };
}

/** The PKCS#12 PBE key lengths (RFC 7292 App. C) by OID: from the registry. */
const PBE_KEY_LENGTH: Record<string, number> = Object.fromEntries(
  Object.values(PBE).flatMap((p) => ('keyLength' in p ? [[p.oid, p.keyLength]] : [])),
);

/** AES-CBC key lengths by OID: from the registry's content ciphers. */
const AES_KEY_LENGTH: Record<string, number> = Object.fromEntries(
  Object.values(CONTENT_CIPHERS).flatMap((c) => (c.mode === 'cbc' ? [[c.oid, c.keyLength]] : [])),
);

/** Decrypts `data` with the password-based scheme `algTlv` (an AlgorithmIdentifier in `der`). Bad padding: BadDecrypt. */
export async function decryptPasswordBased(der: Uint8Array, algTlv: Tlv, data: Uint8Array, ctx: PbeContext): Promise<Uint8Array> {
  const alg = algorithmIdentifier(der, algTlv, 'encryption algorithm');
  switch (alg.oid) {
    case OID.pbeWithSHAAnd3KeyTripleDESCBC:
    case OID.pbeWithSHAAnd2KeyTripleDESCBC:
    case OID.pbeWithSHAAnd128BitRC2CBC:
    case OID.pbeWithSHAAnd40BitRC2CBC: {
      // pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING, iterations INTEGER }
      if (!alg.params) invalid('PKCS#12 PBE without parameters');
      const p = expectSeq(der, alg.params, 'PKCS#12 PBE parameters');
      if (p.length !== 2) invalid('malformed PKCS#12 PBE parameters');
      checkBlocks(data, 8);
      const salt = octetString(der, p[0]!, 'PBE salt');
      const iterations = readInt(der, p[1]!, 'PBE iterations');
      const keyLength = PBE_KEY_LENGTH[alg.oid]!;
      const sha1 = HASHES['SHA-1'];
      await ctx.beforeKdf(iterations, Math.ceil(keyLength / sha1.u) + 1, 'PBE');
      const kdf = ctx.kdf;
      const [key, iv] = await Promise.all([
        pkcs12Kdf('SHA-1', ctx.pw.bmp, salt, 1, iterations, keyLength, kdf),
        pkcs12Kdf('SHA-1', ctx.pw.bmp, salt, 2, iterations, 8, kdf),
      ]);
      return legacyDecrypt(() =>
        alg.oid === OID.pbeWithSHAAnd3KeyTripleDESCBC || alg.oid === OID.pbeWithSHAAnd2KeyTripleDESCBC
          ? des3CbcDecrypt(key, iv, data)
          : rc2CbcDecrypt(key, keyLength * 8, iv, data),
      );
    }
    case OID.pbes2:
      return pbes2Decrypt(der, alg.params, data, ctx);
    default:
      throw new UnsupportedAlgorithm(named('PKCS#12 encryption', alg.oid), alg.oid);
  }
}

/** Refuses ciphertext that is not a whole number of `size`-byte blocks (Pkcs12Invalid). */
function checkBlocks(data: Uint8Array, size: number): void {
  if (data.length === 0 || data.length % size !== 0) invalid(`encrypted data is not a whole number of ${size}-byte blocks`);
}

/** Runs a legacy-cipher decryption: a padding failure is a BadDecrypt. */
function legacyDecrypt(f: () => Uint8Array): Uint8Array {
  try {
    return f();
  } catch (e) {
    if (e instanceof RangeError || e instanceof TypeError) throw e;
    throw new BadDecrypt();
  }
}

/** PBES2 (RFC 8018 section 6.2): PBKDF2, then AES-CBC, DES-EDE3-CBC, DES-CBC or RC2-CBC. */
async function pbes2Decrypt(der: Uint8Array, params: Tlv | undefined, data: Uint8Array, ctx: PbeContext): Promise<Uint8Array> {
  // PBES2-params ::= SEQUENCE { keyDerivationFunc AlgorithmIdentifier, encryptionScheme AlgorithmIdentifier }
  if (!params) invalid('PBES2 without parameters');
  const p = expectSeq(der, params, 'PBES2 parameters');
  if (p.length !== 2) invalid('malformed PBES2 parameters');
  const kdf = algorithmIdentifier(der, p[0]!, 'PBES2 key derivation');
  if (kdf.oid !== OID.pbkdf2) throw new UnsupportedAlgorithm(named('PBES2 key derivation', kdf.oid), kdf.oid);
  const enc = algorithmIdentifier(der, p[1]!, 'PBES2 encryption scheme');
  const pb = pbkdf2Params(der, kdf.params);

  const ivParam = (len: number): Uint8Array => {
    if (!enc.params || enc.params.cls !== UNIVERSAL || enc.params.tagNo !== TAG.OCTET_STRING) invalid('PBES2: missing IV');
    const iv = stringContent(der, enc.params);
    if (iv.length !== len) invalid(`PBES2: the IV must be ${len} bytes`);
    return iv;
  };
  const keyLen = (fixed: number): number => {
    if (pb.keyLength !== undefined && pb.keyLength !== fixed) invalid('PBES2: keyLength does not match the cipher');
    return fixed;
  };
  const derive = async (len: number): Promise<Uint8Array> => {
    await ctx.beforeKdf(pb.iterations, Math.ceil(len / pb.prf.u), 'PBES2');
    return pbkdf2(pb.prf.name, ctx.pw.utf8, pb.salt, pb.iterations, len, ctx.crypto);
  };

  const aesLen = AES_KEY_LENGTH[enc.oid];
  if (aesLen !== undefined) {
    const iv = ivParam(16);
    checkBlocks(data, 16);
    const key = await derive(keyLen(aesLen));
    const plain = await aesCbcDecrypt(key, iv, data, ctx.crypto);
    if (!plain) throw new BadDecrypt();
    return plain;
  }
  if (enc.oid === OID.desEde3CBC || enc.oid === OID.desCBC) {
    const iv = ivParam(8);
    checkBlocks(data, 8);
    const single = enc.oid === OID.desCBC;
    const key = await derive(keyLen(single ? 8 : 24));
    // Single DES is 3DES with K1 = K2 = K3.
    const k = single ? Uint8Array.from([...key, ...key, ...key]) : key;
    return legacyDecrypt(() => des3CbcDecrypt(k, iv, data));
  }
  if (enc.oid === OID.rc2CBC) {
    // RC2-CBC-Parameter ::= SEQUENCE { rc2ParameterVersion INTEGER OPTIONAL, iv OCTET STRING (SIZE(8)) }
    if (!enc.params) invalid('PBES2: RC2 without parameters');
    const rp = expectSeq(der, enc.params, 'RC2 parameters');
    if (rp.length < 1 || rp.length > 2) invalid('malformed RC2 parameters');
    const bits = rp.length === 2 ? rc2EffectiveBitsFromVersion(readInt(der, rp[0]!, 'RC2 version')) : 32;
    const iv = octetString(der, rp[rp.length - 1]!, 'RC2 IV');
    if (iv.length !== 8) invalid('PBES2: the RC2 IV must be 8 bytes');
    checkBlocks(data, 8);
    const len = pb.keyLength ?? Math.min(128, Math.ceil(bits / 8));
    const key = await derive(len);
    return legacyDecrypt(() => rc2CbcDecrypt(key, bits, iv, data));
  }
  throw new UnsupportedAlgorithm(named('PBES2 encryption scheme', enc.oid), enc.oid);
}
