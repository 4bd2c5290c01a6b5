/**
 * Content-encryption algorithms: AES-CBC and AES-GCM through WebCrypto, ChaCha20-Poly1305 through @noble/ciphers
 * (WebCrypto has none), and the legacy 3DES and RC2 (decryption only) through src/crypto/legacy.ts.
 * Each works on whole buffers and returns subarrays where it can, so the 64 MiB path makes no extra copies.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { CMSInvalid, UnsupportedAlgorithm } from '../errors.js';
import { getCrypto, randomBytes } from '../crypto/provider.js';
import { toArrayBuffer } from '../lib/bytes.js';
import { des3CbcDecrypt, rc2CbcDecrypt, rc2EffectiveBitsFromVersion } from '../crypto/legacy.js';
import { algorithmIdentifier, children, decodeOid, integer, octets, readTlv, seq, stringContent, TAG } from './der.js';
import { OIDS, oidName } from './oids.js';

export type ContentCipherName =
  | 'aes-128-cbc'
  | 'aes-192-cbc'
  | 'aes-256-cbc'
  | 'aes-128-gcm'
  | 'aes-192-gcm'
  | 'aes-256-gcm'
  | 'chacha20-poly1305';

/** The ciphers offered for encryption, strongest first (also the SMIMECapabilities order). */
export const ENCRYPTION_CIPHERS: readonly ContentCipherName[] = [
  'aes-256-gcm',
  'chacha20-poly1305',
  'aes-128-gcm',
  'aes-256-cbc',
  'aes-192-cbc',
  'aes-128-cbc',
];

interface CipherSpec {
  oid: string;
  keyLength: number;
  mode: 'cbc' | 'gcm' | 'chacha';
}

export const CIPHERS: Record<ContentCipherName, CipherSpec> = {
  'aes-128-cbc': { oid: OIDS.aes128CBC, keyLength: 16, mode: 'cbc' },
  'aes-192-cbc': { oid: OIDS.aes192CBC, keyLength: 24, mode: 'cbc' },
  'aes-256-cbc': { oid: OIDS.aes256CBC, keyLength: 32, mode: 'cbc' },
  'aes-128-gcm': { oid: OIDS.aes128GCM, keyLength: 16, mode: 'gcm' },
  'aes-192-gcm': { oid: OIDS.aes192GCM, keyLength: 24, mode: 'gcm' },
  'aes-256-gcm': { oid: OIDS.aes256GCM, keyLength: 32, mode: 'gcm' },
  'chacha20-poly1305': { oid: OIDS.chacha20Poly1305, keyLength: 32, mode: 'chacha' },
};

export function cipherByOid(oid: string): ContentCipherName | undefined {
  return (Object.keys(CIPHERS) as ContentCipherName[]).find((k) => CIPHERS[k].oid === oid);
}

export function isAead(name: ContentCipherName): boolean {
  return CIPHERS[name].mode !== 'cbc';
}

export interface EncryptedContent {
  /** DER AlgorithmIdentifier with the parameters (IV or nonce). */
  algorithm: Uint8Array;
  ciphertext: Uint8Array;
  /** The authentication tag (AEAD ciphers only). */
  mac?: Uint8Array;
}

/** Encrypts `content` with a fresh IV/nonce. `aad` is the DER of the authAttrs (AEAD only). */
export async function encryptContent(
  name: ContentCipherName,
  cek: Uint8Array,
  content: Uint8Array,
  crypto?: Crypto,
  aad?: Uint8Array,
): Promise<EncryptedContent> {
  const spec = CIPHERS[name];
  if (!spec) throw new RangeError(`unknown cipher ${String(name)}`);
  const c = getCrypto(crypto);
  if (spec.mode === 'cbc') {
    const iv = randomBytes(16, crypto);
    const key = await c.subtle.importKey('raw', toArrayBuffer(cek), 'AES-CBC', false, ['encrypt']);
    const ct = new Uint8Array(await c.subtle.encrypt({ name: 'AES-CBC', iv: toArrayBuffer(iv) }, key, content as Uint8Array<ArrayBuffer>));
    return { algorithm: algorithmIdentifier(spec.oid, octets(iv)), ciphertext: ct };
  }
  const nonce = randomBytes(12, crypto);
  if (spec.mode === 'gcm') {
    const key = await c.subtle.importKey('raw', toArrayBuffer(cek), 'AES-GCM', false, ['encrypt']);
    const params: AesGcmParams = { name: 'AES-GCM', iv: toArrayBuffer(nonce), tagLength: 128 };
    if (aad) params.additionalData = toArrayBuffer(aad);
    const out = new Uint8Array(await c.subtle.encrypt(params, key, content as Uint8Array<ArrayBuffer>));
    return {
      // GCMParameters ::= SEQUENCE { aes-nonce OCTET STRING, aes-ICVlen INTEGER DEFAULT 12 }
      algorithm: algorithmIdentifier(spec.oid, seq(octets(nonce), integer(16))),
      ciphertext: out.subarray(0, out.length - 16),
      mac: out.subarray(out.length - 16),
    };
  }
  const out = chacha20poly1305(cek, nonce, aad).encrypt(content);
  return {
    algorithm: algorithmIdentifier(spec.oid, octets(nonce)),
    ciphertext: out.subarray(0, out.length - 16),
    mac: out.subarray(out.length - 16),
  };
}

/** What a content-encryption AlgorithmIdentifier says. */
export interface ContentAlgorithm {
  oid: string;
  name: string;
  /** Expected CEK length, when the algorithm fixes it. */
  keyLength?: number;
  kind: 'aes-cbc' | 'aes-gcm' | 'chacha' | '3des' | 'rc2' | 'des';
  iv: Uint8Array;
  tagLength?: number;
  rc2Bits?: number;
  /** Legacy ciphers (3DES, RC2, DES) are decrypted but flagged. */
  legacy: boolean;
  aead: boolean;
}

/** Reads a content-encryption AlgorithmIdentifier (given as the bytes of the whole SEQUENCE). */
export function parseContentAlgorithm(buf: Uint8Array): ContentAlgorithm {
  const t = readTlv(buf, 0);
  const [oidT, paramsT] = children(buf, t);
  const oid = decodeOid(buf, oidT!);
  const name = cipherByOid(oid);
  const octetParam = (): Uint8Array => {
    if (!paramsT || paramsT.tagNo !== TAG.OCTET_STRING) throw new CMSInvalid(`${oidName(oid)}: missing IV`);
    return stringContent(buf, paramsT);
  };
  if (name) {
    const spec = CIPHERS[name];
    if (spec.mode === 'cbc') {
      const iv = octetParam();
      if (iv.length !== 16) throw new CMSInvalid('AES-CBC: the IV must be 16 bytes');
      return { oid, name, keyLength: spec.keyLength, kind: 'aes-cbc', iv, legacy: false, aead: false };
    }
    if (spec.mode === 'gcm') {
      if (!paramsT || paramsT.tagNo !== TAG.SEQUENCE) throw new CMSInvalid('AES-GCM: missing GCMParameters');
      const [nT, lT] = children(buf, paramsT);
      if (!nT || nT.tagNo !== TAG.OCTET_STRING) throw new CMSInvalid('AES-GCM: missing nonce');
      const iv = stringContent(buf, nT);
      let tagLength = 12;
      if (lT) tagLength = Number(readUint(buf.subarray(lT.contentStart, lT.contentEnd)));
      if (![12, 13, 14, 15, 16].includes(tagLength)) throw new CMSInvalid(`AES-GCM: unsupported tag length ${tagLength}`);
      if (iv.length === 0 || iv.length > 64) throw new CMSInvalid('AES-GCM: bad nonce length');
      return { oid, name, keyLength: spec.keyLength, kind: 'aes-gcm', iv, tagLength, legacy: false, aead: true };
    }
    const iv = octetParam();
    if (iv.length !== 12) throw new CMSInvalid('ChaCha20-Poly1305: the nonce must be 12 bytes');
    return { oid, name, keyLength: 32, kind: 'chacha', iv, tagLength: 16, legacy: false, aead: true };
  }
  if (oid === OIDS.desEde3CBC) {
    const iv = octetParam();
    if (iv.length !== 8) throw new CMSInvalid('3DES: the IV must be 8 bytes');
    return { oid, name: 'des-ede3-cbc', keyLength: 24, kind: '3des', iv, legacy: true, aead: false };
  }
  if (oid === OIDS.rc2CBC) {
    // RC2-CBCParameter ::= SEQUENCE { rc2ParameterVersion INTEGER OPTIONAL, iv OCTET STRING } (or a bare IV)
    let iv: Uint8Array;
    let bits = 32;
    if (paramsT && paramsT.tagNo === TAG.SEQUENCE) {
      const parts = children(buf, paramsT);
      const ivT = parts[parts.length - 1]!;
      if (parts.length === 2) bits = rc2EffectiveBitsFromVersion(Number(readUint(buf.subarray(parts[0]!.contentStart, parts[0]!.contentEnd))));
      iv = stringContent(buf, ivT);
    } else iv = octetParam();
    if (iv.length !== 8) throw new CMSInvalid('RC2: the IV must be 8 bytes');
    return { oid, name: `rc2-${bits}-cbc`, kind: 'rc2', iv, rc2Bits: bits, legacy: true, aead: false };
  }
  throw new UnsupportedAlgorithm(`content encryption ${oidName(oid)}`, oid);
}

function readUint(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

/**
 * Decrypts content. Throws a plain Error when the key is wrong (bad padding, bad tag): the caller turns every such
 * failure into one CMSDecryptionFailed.
 */
export async function decryptContent(
  alg: ContentAlgorithm,
  cek: Uint8Array,
  ciphertext: Uint8Array,
  crypto?: Crypto,
  mac?: Uint8Array,
  aad?: Uint8Array,
): Promise<Uint8Array> {
  if (alg.keyLength !== undefined && cek.length !== alg.keyLength) throw new Error('wrong key length');
  const c = getCrypto(crypto);
  switch (alg.kind) {
    case 'aes-cbc': {
      const key = await c.subtle.importKey('raw', toArrayBuffer(cek), 'AES-CBC', false, ['decrypt']);
      return new Uint8Array(await c.subtle.decrypt({ name: 'AES-CBC', iv: toArrayBuffer(alg.iv) }, key, ciphertext as Uint8Array<ArrayBuffer>));
    }
    case 'aes-gcm': {
      if (!mac || mac.length !== alg.tagLength) throw new Error('bad tag');
      const key = await c.subtle.importKey('raw', toArrayBuffer(cek), 'AES-GCM', false, ['decrypt']);
      // WebCrypto wants ciphertext || tag in one buffer: one copy, unavoidable with this API.
      const joined = new Uint8Array(ciphertext.length + mac.length);
      joined.set(ciphertext, 0);
      joined.set(mac, ciphertext.length);
      const params: AesGcmParams = { name: 'AES-GCM', iv: toArrayBuffer(alg.iv), tagLength: alg.tagLength! * 8 };
      if (aad) params.additionalData = toArrayBuffer(aad);
      return new Uint8Array(await c.subtle.decrypt(params, key, joined));
    }
    case 'chacha': {
      if (!mac || mac.length !== 16) throw new Error('bad tag');
      const joined = new Uint8Array(ciphertext.length + 16);
      joined.set(ciphertext, 0);
      joined.set(mac, ciphertext.length);
      return chacha20poly1305(cek, alg.iv, aad).decrypt(joined);
    }
    case '3des':
      return des3CbcDecrypt(cek, alg.iv, ciphertext);
    case 'rc2':
      return rc2CbcDecrypt(cek, alg.rc2Bits!, alg.iv, ciphertext);
    default:
      throw new UnsupportedAlgorithm(`content encryption ${alg.name}`, alg.oid);
  }
}
