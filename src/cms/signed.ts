/**
 * SignedData (RFC 5652 §5): build and parse, with the signature algorithms S/MIME uses (RFC 8551 §2.2, RFC 5754,
 * RFC 5753, RFC 4056).
 *
 * Written with the DER writer, not pkijs: pkijs neither sorts the signed attributes (Bouncy Castle rejects unsorted
 * ones) nor lets the content go by without copies, and defaults to SHA-1. Parsed with the zero-copy BER reader: the
 * encapsulated content of an opaque message is a subarray of the input (or one joined copy when chunked BER), and
 * the signed attributes are hashed exactly as received, with the [0] IMPLICIT tag changed back to SET OF (§5.4).
 *
 * Nothing here decides trust: `verifySignerInfo` says whether the digest and the signature hold and which
 * algorithms were used; chain, usage, revocation and address checks are in verify.ts.
 */
import { CMSInvalid, CMSLimitExceeded, KeyInvalid, UnsupportedAlgorithm } from '../errors.js';
import { DEFAULT_LIMITS, type Limits } from '../lib/limits.js';
import { getCrypto } from '../crypto/provider.js';
import { importPrivateKey, importPublicKey } from '../crypto/key_cache.js';
import { DEFAULT_POLICY, isWeakHash, keyPolicyProblem, WEAK_SIGNATURE_OIDS, type AlgorithmPolicy } from '../crypto/policy.js';
import { hashSync, isAnyHash, rsaPkcs1v15Verify, rsaPssVerify } from '../crypto/rsa_sig.js';
import { copyBytes, equal, concat } from '../lib/bytes.js';
import { certInfo, keyKind, NIST_CURVES, type CertInfo } from '../certs/cert_info.js';
import { rsaModulusBits, type PrivateKeyRef } from '../certs/keys.js';
import {
  algorithmIdentifier,
  children,
  decodeOid,
  header,
  integer,
  NULL,
  oid,
  readTlv,
  seq,
  set,
  stringContent,
  explicit,
  TAG,
  tlv,
  type Tlv,
} from '../lib/der.js';
import { HASH_BY_OID, OIDS, oidName } from './oids.js';
import {
  ATTR,
  buildSignedAttributes,
  issuerAndSerial,
  parseTime,
  readAttributes,
  readIssuerSerial,
  readSmimeAttributes,
  signedAttributesDer,
  type CertRef,
  type ParsedAttribute,
  type SmimeAttributes,
} from './attributes.js';
import { checkEssCertId, readFirstEssCertId, signingCertificateV2Value } from './ess.js';

export type HashName = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

/** micalg names (RFC 5751 §3.4.3.2 / RFC 8551). */
export const MICALG: Record<string, string> = {
  'SHA-1': 'sha-1',
  'SHA-224': 'sha-224',
  'SHA-256': 'sha-256',
  'SHA-384': 'sha-384',
  'SHA-512': 'sha-512',
  MD5: 'md5',
};

/** Digest OIDs by name: the CMS table plus MD5, which verification must recognise to call it weak. */
const HASH_OID: Record<string, string> = { ...HASH_BY_OID, [OIDS.md5]: 'MD5' };
const OID_OF_HASH: Record<HashName, string> = {
  'SHA-1': OIDS.sha1,
  'SHA-256': OIDS.sha256,
  'SHA-384': OIDS.sha384,
  'SHA-512': OIDS.sha512,
};

export const SIG = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  md5WithRSA: '1.2.840.113549.1.1.4',
  sha1WithRSA: '1.2.840.113549.1.1.5',
  rsassaPss: '1.2.840.113549.1.1.10',
  sha256WithRSA: '1.2.840.113549.1.1.11',
  sha384WithRSA: '1.2.840.113549.1.1.12',
  sha512WithRSA: '1.2.840.113549.1.1.13',
  sha224WithRSA: '1.2.840.113549.1.1.14',
  sha1WithRSAOiw: '1.3.14.3.2.29',
  mgf1: '1.2.840.113549.1.1.8',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaSha1: '1.2.840.10045.4.1',
  ecdsaSha224: '1.2.840.10045.4.3.1',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  ecdsaSha512: '1.2.840.10045.4.3.4',
  ed25519: '1.3.101.112',
} as const;

const RSA_SIG_HASH: Record<string, string> = {
  [SIG.md5WithRSA]: 'MD5',
  [SIG.sha1WithRSA]: 'SHA-1',
  [SIG.sha1WithRSAOiw]: 'SHA-1',
  [SIG.sha224WithRSA]: 'SHA-224',
  [SIG.sha256WithRSA]: 'SHA-256',
  [SIG.sha384WithRSA]: 'SHA-384',
  [SIG.sha512WithRSA]: 'SHA-512',
};
const ECDSA_SIG_HASH: Record<string, string> = {
  [SIG.ecdsaSha1]: 'SHA-1',
  [SIG.ecdsaSha224]: 'SHA-224',
  [SIG.ecdsaSha256]: 'SHA-256',
  [SIG.ecdsaSha384]: 'SHA-384',
  [SIG.ecdsaSha512]: 'SHA-512',
};
const RSA_SIG_BY_HASH: Record<HashName, string> = {
  'SHA-1': SIG.sha1WithRSA,
  'SHA-256': SIG.sha256WithRSA,
  'SHA-384': SIG.sha384WithRSA,
  'SHA-512': SIG.sha512WithRSA,
};
const ECDSA_SIG_BY_HASH: Record<HashName, string> = {
  'SHA-1': SIG.ecdsaSha1,
  'SHA-256': SIG.ecdsaSha256,
  'SHA-384': SIG.ecdsaSha384,
  'SHA-512': SIG.ecdsaSha512,
};


/** Whether smime-core can sign with this certificate's key type (RSA, ECDSA on P-256/384/521, Ed25519). */
export function canSignWith(info: CertInfo): boolean {
  const kind = keyKind(info);
  if (kind === 'rsa') return info.keyAlgorithm === SIG.rsaEncryption;
  if (kind === 'ec') return !!info.curve && info.curve in NIST_CURVES;
  return kind === 'ed25519';
}

/**
 * The digest a signer uses when `requested` is asked for: RFC 8419 §3 makes SHA-512 the only message digest for
 * Ed25519 with signed attributes, so an Ed25519 signer always uses SHA-512; RSA and ECDSA use what is asked.
 */
export function signingHash(signer: CertInfo, requested: HashName): HashName {
  return keyKind(signer) === 'ed25519' ? 'SHA-512' : requested;
}

// -----------------------------------------------------------------------------------------------------------------
// ECDSA signature formats

/** ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } from the IEEE P1363 form r‖s that WebCrypto produces. */
export function ecdsaP1363ToDer(sig: Uint8Array): Uint8Array {
  const n = sig.length >> 1;
  return seq(integer(sig.subarray(0, n)), integer(sig.subarray(n)));
}

/** r‖s (each `size` bytes) from the DER ECDSA-Sig-Value; undefined when malformed or out of range. */
export function ecdsaDerToP1363(der: Uint8Array, size: number): Uint8Array | undefined {
  try {
    const top = readTlv(der, 0);
    if (top.end !== der.length || top.tagNo !== TAG.SEQUENCE) return undefined;
    const parts = children(der, top);
    if (parts.length !== 2) return undefined;
    const out = new Uint8Array(size * 2);
    for (let i = 0; i < 2; i++) {
      const t = parts[i]!;
      if (t.tagNo !== TAG.INTEGER || t.constructed) return undefined;
      let v = der.subarray(t.contentStart, t.contentEnd);
      if (v.length === 0 || (v[0]! & 0x80) !== 0) return undefined; // negative
      while (v.length > 1 && v[0] === 0) v = v.subarray(1);
      if (v.length > size) return undefined;
      out.set(v, i * size + size - v.length);
    }
    return out;
  } catch {
    return undefined;
  }
}

// -----------------------------------------------------------------------------------------------------------------
// Digests

/**
 * The digest of `data` with a hash named by OID: WebCrypto for SHA-1/256/384/512, @noble/hashes for SHA-224 and MD5
 * (WebCrypto has neither; MD5 only so a weak signature can be reported as such). UnsupportedAlgorithm otherwise.
 */
export async function digestByOid(hashOid: string, data: Uint8Array, crypto?: Crypto): Promise<Uint8Array> {
  const name = HASH_OID[hashOid];
  if (!name || !isAnyHash(name)) throw new UnsupportedAlgorithm(`digest ${oidName(hashOid)}`, hashOid);
  if (name === 'MD5' || name === 'SHA-224') return hashSync(name, data);
  return digest(name as HashName, data, crypto);
}

export async function digest(name: HashName, data: Uint8Array, crypto?: Crypto): Promise<Uint8Array> {
  return new Uint8Array(await getCrypto(crypto).subtle.digest(name, data as Uint8Array<ArrayBuffer>));
}

export function hashNameOfOid(o: string): string | undefined {
  return HASH_OID[o];
}

// -----------------------------------------------------------------------------------------------------------------
// Signing

export interface SignParams {
  /** The signer's certificate. */
  signer: CertInfo;
  key: PrivateKeyRef;
  hash: HashName;
  /** RSASSA-PSS (salt = hash length, MGF1 with the same hash) instead of PKCS#1 v1.5. RSA only. */
  pss?: boolean;
  crypto?: Crypto;
}

/** The SignerInfo's signatureAlgorithm for the signer, as DER. */
export function signatureAlgorithmFor(p: SignParams): Uint8Array {
  const kind = keyKind(p.signer);
  if (kind === 'rsa') {
    if (p.pss) {
      const h = algorithmIdentifier(OID_OF_HASH[p.hash]);
      const params = seq(explicit(0, h), explicit(1, algorithmIdentifier(SIG.mgf1, h)), explicit(2, integer(hashLength(p.hash))));
      return algorithmIdentifier(SIG.rsassaPss, params);
    }
    return algorithmIdentifier(RSA_SIG_BY_HASH[p.hash], NULL);
  }
  if (kind === 'ec') return algorithmIdentifier(ECDSA_SIG_BY_HASH[p.hash]);
  // RFC 8419 §2.3 / RFC 8410 §3: id-Ed25519 with the parameters absent.
  if (kind === 'ed25519') return algorithmIdentifier(SIG.ed25519);
  throw new UnsupportedAlgorithm(`signing with a ${oidName(p.signer.keyAlgorithm)} key`, p.signer.keyAlgorithm);
}

function hashLength(h: HashName): number {
  return h === 'SHA-1' ? 20 : h === 'SHA-256' ? 32 : h === 'SHA-384' ? 48 : 64;
}

/** The WebCrypto key and algorithm to sign with; a CryptoKey of another algorithm is re-imported when extractable. */
async function signingKey(p: SignParams): Promise<{ key: CryptoKey; alg: AlgorithmIdentifier | RsaPssParams | EcdsaParams }> {
  const c = getCrypto(p.crypto).subtle;
  const kind = keyKind(p.signer);
  let importAlg: RsaHashedImportParams | EcKeyImportParams | Algorithm;
  let alg: AlgorithmIdentifier | RsaPssParams | EcdsaParams;
  if (kind === 'rsa') {
    importAlg = { name: p.pss ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5', hash: p.hash };
    alg = p.pss ? { name: 'RSA-PSS', saltLength: hashLength(p.hash) } : { name: 'RSASSA-PKCS1-v1_5' };
  } else if (kind === 'ec') {
    const curve = p.signer.curve ? NIST_CURVES[p.signer.curve] : undefined;
    if (!curve) throw new UnsupportedAlgorithm(`EC curve ${p.signer.curve ?? '(none)'}`, p.signer.curve);
    importAlg = { name: 'ECDSA', namedCurve: curve.name };
    alg = { name: 'ECDSA', hash: p.hash };
  } else if (kind === 'ed25519') {
    // PureEdDSA over the DER of the signed attributes (RFC 8419 §3.1): no hash parameter.
    importAlg = { name: 'Ed25519' };
    alg = { name: 'Ed25519' };
  } else throw new UnsupportedAlgorithm(`signing with a ${oidName(p.signer.keyAlgorithm)} key`, p.signer.keyAlgorithm);

  let pkcs8 = p.key.pkcs8;
  const ck = p.key.cryptoKey;
  if (!pkcs8 && ck) {
    const a = ck.algorithm as { name: string; hash?: { name: string }; namedCurve?: string };
    const fits =
      a.name === importAlg.name &&
      (kind === 'ed25519'
        ? true
        : kind === 'ec'
          ? a.namedCurve === (importAlg as EcKeyImportParams).namedCurve
          : a.hash?.name === p.hash) &&
      ck.usages.includes('sign');
    if (fits) return { key: ck, alg };
    if (!ck.extractable)
      throw new KeyInvalid(
        `the signing key is a non-extractable ${a.name}${a.hash ? `/${a.hash.name}` : ''} CryptoKey; it can't sign with ${importAlg.name}/${p.hash}`,
      );
    pkcs8 = new Uint8Array(await c.exportKey('pkcs8', ck));
  }
  if (!pkcs8) throw new KeyInvalid('the identity has no private key');
  try {
    return { key: await importPrivateKey(c, pkcs8, importAlg, ['sign']), alg };
  } catch (e) {
    throw new KeyInvalid(`the signing key could not be imported: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Signs `data` (the DER of the signed attributes) and returns the signature as CMS carries it. */
export async function signBytes(p: SignParams, data: Uint8Array): Promise<Uint8Array> {
  const { key, alg } = await signingKey(p);
  const sig = new Uint8Array(await getCrypto(p.crypto).subtle.sign(alg, key, data as Uint8Array<ArrayBuffer>));
  return keyKind(p.signer) === 'ec' ? ecdsaP1363ToDer(sig) : sig;
}

export interface BuildSignedDataOptions extends SignParams {
  /** Encapsulate the content (opaque signed-data) instead of a detached signature. */
  encapsulate: boolean;
  /** The certificates field: signer, intermediates, encryption certificate (duplicates are dropped). */
  certificates: readonly CertInfo[];
  signingTime: Date;
  /** The sender's current encryption certificate, when it differs from the signer's. */
  encryptionCert?: CertInfo;
  capabilities?: readonly string[];
}

export interface BuiltSignedData {
  /** The ContentInfo DER, as pieces in order (the content, when encapsulated, is its own piece, not copied). */
  pieces: Uint8Array[];
  length: number;
  /** The signed attributes, as the SET that was signed (for tests and reports). */
  signedAttributes: Uint8Array;
}

function wrap(id: number, pieces: Uint8Array[]): Uint8Array[] {
  let n = 0;
  for (const p of pieces) n += p.length;
  return [header(id, n), ...pieces];
}

/** Builds a ContentInfo holding SignedData with one SignerInfo over `content`. */
export async function buildSignedData(content: Uint8Array, options: BuildSignedDataOptions): Promise<BuiltSignedData> {
  const o = { ...options, hash: signingHash(options.signer, options.hash) };
  const md = await digest(o.hash, content, o.crypto);
  const signedAttrs = buildSignedAttributes({
    contentType: OIDS.data,
    digest: md,
    signingTime: o.signingTime,
    capabilities: o.capabilities,
    encryptionCert: o.encryptionCert,
    // RFC 5035: bind the signer's certificate itself, not only its issuer and serial (see ess.ts).
    signingCertificateV2: signingCertificateV2Value(o.signer, await digest('SHA-256', o.signer.der, o.crypto)),
  });
  const signature = await signBytes(o, signedAttrs);
  const digestAlg = algorithmIdentifier(OID_OF_HASH[o.hash]);
  // SignerInfo ::= SEQUENCE { version 1, sid IssuerAndSerialNumber, digestAlgorithm, [0] IMPLICIT signedAttrs,
  //                           signatureAlgorithm, signature OCTET STRING }
  const attrsImplicit = new Uint8Array(signedAttrs);
  attrsImplicit[0] = 0xa0;
  const signerInfo = seq(integer(1), issuerAndSerial(o.signer), digestAlg, attrsImplicit, signatureAlgorithmFor(o), tlv(0x04, signature));

  const seen = new Set<string>();
  const certs: Uint8Array[] = [];
  for (const c of o.certificates) {
    const k = c.serialHex + ':' + c.der.length + ':' + c.issuer.length;
    if (seen.has(k) && certs.some((d) => equal(d, c.der))) continue;
    seen.add(k);
    certs.push(c.der);
  }
  // EncapsulatedContentInfo ::= SEQUENCE { eContentType, [0] EXPLICIT OCTET STRING OPTIONAL }
  const eci = o.encapsulate ? wrap(0x30, [oid(OIDS.data), ...wrap(0xa0, wrap(0x04, [content]))]) : [seq(oid(OIDS.data))];
  const body = [
    integer(1),
    set(digestAlg),
    ...eci,
    ...(certs.length ? [tlv(0xa0, ...certs)] : []),
    set(signerInfo),
  ];
  const ci = wrap(0x30, [oid(OIDS.signedData), ...wrap(0xa0, wrap(0x30, body))]);
  // Merge the small pieces around the content.
  const idx = o.encapsulate ? ci.indexOf(content) : -1;
  const pieces = idx < 0 ? [concat(ci)] : [concat(ci.slice(0, idx)), content, concat(ci.slice(idx + 1))];
  let length = 0;
  for (const p of pieces) length += p.length;
  return { pieces, length, signedAttributes: signedAttrs };
}

// -----------------------------------------------------------------------------------------------------------------
// Parsing

export interface ParsedAlgorithm {
  oid: string;
  /** The whole AlgorithmIdentifier element's bytes. */
  der: Uint8Array;
  /** The parameters element, if any (offsets into `der`). */
  params?: Tlv;
}

export interface ParsedSignerInfo {
  version: number;
  sid: CertRef;
  digestAlgorithm: ParsedAlgorithm;
  /** The signed attributes exactly as received, re-tagged as SET OF (what the signature covers). */
  signedAttrsDer?: Uint8Array;
  signedAttrs?: ParsedAttribute[];
  signatureAlgorithm: ParsedAlgorithm;
  signature: Uint8Array;
  /** The buffer the attribute offsets point into. */
  buf: Uint8Array;
}

export interface ParsedSignedData {
  version: number;
  digestAlgorithms: string[];
  eContentType: string;
  /** The encapsulated content; absent for a detached signature. */
  eContent?: Uint8Array;
  /** The certificates we could parse (others are counted in `badCertificates`). */
  certificates: CertInfo[];
  badCertificates: number;
  /** The DER of each CertificateList in the crls field (other revocation formats are skipped). */
  crls: Uint8Array[];
  signerInfos: ParsedSignerInfo[];
}

/** Reads an AlgorithmIdentifier (its OID, whole DER and parameters); malformed → CMSInvalid naming `what`. */
export function readAlgorithm(buf: Uint8Array, t: Tlv | undefined, what: string): ParsedAlgorithm {
  if (!t || t.cls !== 0 || t.tagNo !== TAG.SEQUENCE || !t.constructed) throw new CMSInvalid(`${what}: expected an AlgorithmIdentifier`);
  const der = buf.subarray(t.start, t.end);
  const top = readTlv(der, 0);
  const [oT, pT] = children(der, top);
  if (!oT) throw new CMSInvalid(`${what}: empty AlgorithmIdentifier`);
  return { oid: decodeOid(der, oT), der, params: pT };
}

function readSignerInfo(buf: Uint8Array, t: Tlv): ParsedSignerInfo {
  if (t.cls !== 0 || t.tagNo !== TAG.SEQUENCE) throw new CMSInvalid('SignerInfo: expected a SEQUENCE');
  const f = children(buf, t);
  let i = 0;
  const vT = f[i++];
  if (!vT || vT.tagNo !== TAG.INTEGER) throw new CMSInvalid('SignerInfo: missing version');
  const version = buf[vT.contentEnd - 1] ?? 0;
  const sidT = f[i++];
  if (!sidT) throw new CMSInvalid('SignerInfo: missing sid');
  let sid: CertRef;
  if (sidT.cls === 0 && sidT.tagNo === TAG.SEQUENCE) sid = readIssuerSerial(buf, sidT);
  else if (sidT.cls === 2 && sidT.tagNo === 0) sid = { ski: sidT.constructed ? stringContent(buf, children(buf, sidT)[0]!) : buf.subarray(sidT.contentStart, sidT.contentEnd) };
  else throw new CMSInvalid('SignerInfo: unknown signer identifier');
  const digestAlgorithm = readAlgorithm(buf, f[i++], 'SignerInfo digestAlgorithm');
  let signedAttrsDer: Uint8Array | undefined;
  let signedAttrs: ParsedAttribute[] | undefined;
  let attrBuf = buf;
  if (f[i] && f[i]!.cls === 2 && f[i]!.tagNo === 0) {
    const a = f[i++]!;
    // RFC 5652 §5.4: the signature covers the DER of the SET OF, i.e. the received bytes with the SET tag.
    signedAttrsDer = copyBytes(buf.subarray(a.start, a.end)); // a copy: the tag is changed below
    signedAttrsDer[0] = 0x31;
    attrBuf = signedAttrsDer;
    signedAttrs = readAttributes(attrBuf, readTlv(attrBuf, 0));
  }
  const signatureAlgorithm = readAlgorithm(buf, f[i++], 'SignerInfo signatureAlgorithm');
  const sigT = f[i++];
  if (!sigT || sigT.tagNo !== TAG.OCTET_STRING) throw new CMSInvalid('SignerInfo: missing signature');
  return {
    version,
    sid,
    digestAlgorithm,
    signedAttrsDer,
    signedAttrs,
    signatureAlgorithm,
    signature: stringContent(buf, sigT),
    buf: attrBuf,
  };
}

/** Throws CMSLimitExceeded when a SET of `n` items is over its limit (checked before any item is parsed). */
function checkCount(n: number, limit: keyof Limits, limits: Limits, what: string): void {
  if (n > limits[limit]) throw new CMSLimitExceeded(`SignedData: ${n} ${what}, more than ${limit} (${limits[limit]})`, { limit });
}

/**
 * Parses a ContentInfo holding SignedData. CMSInvalid when it is anything else; CMSLimitExceeded when it has more
 * SignerInfos, certificates or CRLs than the limits allow (counted before any of them is parsed).
 */
export function parseSignedData(der: Uint8Array, limits: Limits = DEFAULT_LIMITS): ParsedSignedData {
  const top = readTlv(der, 0);
  if (top.cls !== 0 || top.tagNo !== TAG.SEQUENCE) throw new CMSInvalid('not a CMS ContentInfo (expected a SEQUENCE)');
  const [typeT, contentT] = children(der, top);
  if (!typeT || typeT.tagNo !== TAG.OID) throw new CMSInvalid('ContentInfo: missing contentType');
  const type = decodeOid(der, typeT);
  if (type !== OIDS.signedData) throw new CMSInvalid(`not a signed message: the CMS content type is ${oidName(type)}`);
  if (!contentT || contentT.cls !== 2 || contentT.tagNo !== 0) throw new CMSInvalid('ContentInfo: missing content');
  const sdT = children(der, contentT)[0];
  if (!sdT || sdT.tagNo !== TAG.SEQUENCE) throw new CMSInvalid('SignedData: expected a SEQUENCE');
  const f = children(der, sdT);
  let i = 0;
  const vT = f[i++];
  if (!vT || vT.tagNo !== TAG.INTEGER) throw new CMSInvalid('SignedData: missing version');
  const daT = f[i++];
  if (!daT || daT.tagNo !== TAG.SET) throw new CMSInvalid('SignedData: missing digestAlgorithms');
  const digestAlgorithms = children(der, daT).map((a) => readAlgorithm(der, a, 'SignedData digestAlgorithms').oid);
  const eciT = f[i++];
  if (!eciT || eciT.tagNo !== TAG.SEQUENCE) throw new CMSInvalid('SignedData: missing encapContentInfo');
  const eci = children(der, eciT);
  if (!eci[0]) throw new CMSInvalid('EncapsulatedContentInfo: missing eContentType');
  const eContentType = decodeOid(der, eci[0]);
  let eContent: Uint8Array | undefined;
  if (eci[1]) {
    if (eci[1].cls !== 2 || eci[1].tagNo !== 0) throw new CMSInvalid('EncapsulatedContentInfo: bad eContent');
    const os = children(der, eci[1])[0];
    if (!os || os.cls !== 0 || os.tagNo !== TAG.OCTET_STRING) throw new CMSInvalid('EncapsulatedContentInfo: eContent is not an OCTET STRING');
    eContent = stringContent(der, os);
  }
  const certificates: CertInfo[] = [];
  let badCertificates = 0;
  const crls: Uint8Array[] = [];
  if (f[i] && f[i]!.cls === 2 && f[i]!.tagNo === 0) {
    const list = children(der, f[i++]!);
    checkCount(list.length, 'maxCertificates', limits, 'certificates');
    for (const c of list) {
      if (c.cls !== 0 || c.tagNo !== TAG.SEQUENCE) continue; // attribute certificates, other formats
      try {
        certificates.push(certInfo(copyBytes(der.subarray(c.start, c.end))));
      } catch {
        badCertificates++;
      }
    }
  }
  if (f[i] && f[i]!.cls === 2 && f[i]!.tagNo === 1) {
    const list = children(der, f[i++]!);
    checkCount(list.length, 'maxCrls', limits, 'CRLs');
    for (const c of list) if (c.cls === 0 && c.tagNo === TAG.SEQUENCE) crls.push(der.subarray(c.start, c.end));
  }
  const siT = f[i++];
  if (!siT || siT.tagNo !== TAG.SET) throw new CMSInvalid('SignedData: missing signerInfos');
  const signerInfos = children(der, siT);
  checkCount(signerInfos.length, 'maxSignerInfos', limits, 'SignerInfos');
  return {
    version: buf0(der, vT),
    digestAlgorithms,
    eContentType,
    eContent,
    certificates,
    badCertificates,
    crls,
    signerInfos: signerInfos.map((s) => readSignerInfo(der, s)),
  };
}

function buf0(der: Uint8Array, t: Tlv): number {
  return der[t.contentEnd - 1] ?? 0;
}

// -----------------------------------------------------------------------------------------------------------------
// Signature verification

export type SignatureCheck =
  | { ok: true; hash?: string }
  | { ok: false; reason: string; hash?: string };

/** Hashes WebCrypto's RSASSA-PKCS1-v1_5, RSA-PSS and ECDSA take. */
const WEBCRYPTO_HASHES = new Set(['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512']);

/** DSA signature and key OIDs: recognised, not implemented (WebCrypto has no DSA). */
const DSA_OIDS = new Set([
  '1.2.840.10040.4.1', // id-dsa
  '1.2.840.10040.4.3', // id-dsa-with-sha1
  '1.3.14.3.2.27', // dsaWithSHA1 (OIW)
  '2.16.840.1.101.3.4.3.1', // id-dsa-with-sha224
  '2.16.840.1.101.3.4.3.2', // id-dsa-with-sha256
  '2.16.840.1.101.3.4.3.3', // id-dsa-with-sha384
  '2.16.840.1.101.3.4.3.4', // id-dsa-with-sha512
]);
const DSA_SIG_HASH: Record<string, string> = {
  '1.2.840.10040.4.3': 'SHA-1',
  '1.3.14.3.2.27': 'SHA-1',
  '2.16.840.1.101.3.4.3.1': 'SHA-224',
  '2.16.840.1.101.3.4.3.2': 'SHA-256',
  '2.16.840.1.101.3.4.3.3': 'SHA-384',
  '2.16.840.1.101.3.4.3.4': 'SHA-512',
};

/**
 * Verifies `signature` over `data` with the public key of `signer`, for a signatureAlgorithm (and, when the algorithm
 * names no hash, the digestAlgorithm). Never throws for bad input: the result says why.
 * - RSA PKCS#1 v1.5 with SHA-1/256/384/512 and RSA-PSS with one hash for both uses go through WebCrypto; PKCS#1 v1.5
 *   with SHA-224 or MD5, and PSS with SHA-224 or another MGF1 hash, through crypto/rsa_sig.ts. PSS takes the salt
 *   length the parameters state.
 * - ECDSA on P-256/384/521 with SHA-1/256/384/512; Ed25519 (PureEdDSA, RFC 8419).
 * - Anything else (DSA, ECDSA with SHA-224, other curves) is `unsupported-algorithm: <oid>`.
 * `weak` is not decided here (see `isWeak`).
 */
export async function verifySignature(
  alg: ParsedAlgorithm,
  digestOid: string | undefined,
  signer: CertInfo,
  data: Uint8Array,
  signature: Uint8Array,
  crypto?: Crypto,
): Promise<SignatureCheck> {
  const c = getCrypto(crypto).subtle;
  const kind = keyKind(signer);
  let hash: string | undefined;
  const unsupported = (o = alg.oid): SignatureCheck => ({ ok: false, reason: `unsupported-algorithm: ${o}`, hash });
  const result = (ok: boolean): SignatureCheck => (ok ? { ok, hash } : { ok, reason: 'signature-mismatch', hash });
  try {
    if (alg.oid === SIG.rsaEncryption || alg.oid in RSA_SIG_HASH) {
      hash = alg.oid === SIG.rsaEncryption ? (digestOid ? HASH_OID[digestOid] : undefined) : RSA_SIG_HASH[alg.oid];
      if (kind !== 'rsa') return { ok: false, reason: 'key-algorithm-mismatch', hash };
      if (!hash) return unsupported(alg.oid === SIG.rsaEncryption && digestOid ? digestOid : alg.oid);
      if (!WEBCRYPTO_HASHES.has(hash)) {
        if (!isAnyHash(hash)) return unsupported();
        return result(rsaPkcs1v15Verify(rsaSpki(signer), hash, data, signature));
      }
      const key = await importPublicKey(c, rsaSpki(signer), { name: 'RSASSA-PKCS1-v1_5', hash }, ['verify']);
      return result(await c.verify('RSASSA-PKCS1-v1_5', key, signature as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>));
    }
    if (alg.oid === SIG.rsassaPss) {
      if (kind !== 'rsa') return { ok: false, reason: 'key-algorithm-mismatch' };
      const pss = readPssParams(alg);
      hash = pss?.hash;
      if (!pss) return unsupported();
      if (!isAnyHash(pss.hash) || !isAnyHash(pss.mgfHash) || pss.hash === 'MD5' || pss.mgfHash === 'MD5') return unsupported();
      const spki = rsaSpki(signer);
      if (pss.hash !== pss.mgfHash || !WEBCRYPTO_HASHES.has(pss.hash)) {
        return result(rsaPssVerify(spki, { hash: pss.hash, mgfHash: pss.mgfHash, salt: pss.salt }, data, signature));
      }
      // A salt longer than the encoding allows can't verify (WebCrypto would throw instead of saying no).
      const emLen = (rsaModulusBits(signer) - 1 + 7) >> 3;
      if (pss.salt > emLen - hashLength(pss.hash as HashName) - 2) return result(false);
      const key = await importPublicKey(c, spki, { name: 'RSA-PSS', hash: pss.hash }, ['verify']);
      return result(await c.verify({ name: 'RSA-PSS', saltLength: pss.salt }, key, signature as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>));
    }
    if (alg.oid === SIG.ecPublicKey || alg.oid in ECDSA_SIG_HASH) {
      hash = alg.oid === SIG.ecPublicKey ? (digestOid ? HASH_OID[digestOid] : undefined) : ECDSA_SIG_HASH[alg.oid];
      if (kind !== 'ec') return { ok: false, reason: 'key-algorithm-mismatch', hash };
      const curve = signer.curve ? NIST_CURVES[signer.curve] : undefined;
      if (!curve) return unsupported(signer.curve ?? SIG.ecPublicKey);
      if (!hash || !WEBCRYPTO_HASHES.has(hash)) return unsupported();
      const raw = ecdsaDerToP1363(signature, curve.size);
      if (!raw) return result(false);
      const key = await importPublicKey(c, signer.spki, { name: 'ECDSA', namedCurve: curve.name }, ['verify']);
      return result(await c.verify({ name: 'ECDSA', hash }, key, raw as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>));
    }
    if (alg.oid === SIG.ed25519) {
      // PureEdDSA (RFC 8419 §3): over the signed attributes' DER, or the content itself when there are none.
      if (kind !== 'ed25519') return { ok: false, reason: 'key-algorithm-mismatch' };
      if (signature.length !== 64) return result(false);
      const key = await importPublicKey(c, signer.spki, { name: 'Ed25519' }, ['verify']);
      return result(await c.verify({ name: 'Ed25519' }, key, signature as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>));
    }
    if (DSA_OIDS.has(alg.oid)) hash = DSA_SIG_HASH[alg.oid] ?? (digestOid ? HASH_OID[digestOid] : undefined);
  } catch (e) {
    if (e instanceof UnsupportedAlgorithm) return unsupported(e.oid ?? alg.oid);
    // WebCrypto refuses the key (for example a curve or key size it lacks): that is no proof of a forgery.
    return { ok: false, reason: `unsupported-key: ${e instanceof Error ? e.message : String(e)}`, hash };
  }
  return unsupported();
}

/** WebCrypto imports RSA keys only as rsaEncryption SPKIs; an id-RSASSA-PSS SPKI is rewritten (same key bits). */
function rsaSpki(info: CertInfo): Uint8Array {
  if (info.keyAlgorithm === SIG.rsaEncryption) return info.spki;
  const bits = new Uint8Array(info.publicKey.length + 1);
  bits.set(info.publicKey, 1);
  return seq(algorithmIdentifier(SIG.rsaEncryption, NULL), tlv(0x03, bits));
}

/**
 * RSASSA-PSS-params (RFC 4055 §3.1): hashAlgorithm [0] (default SHA-1), maskGenAlgorithm [1] (default MGF1 with
 * SHA-1), saltLength [2] (default 20), trailerField [3] (must be 1). Undefined when malformed or not MGF1.
 */
export function readPssParams(alg: ParsedAlgorithm): { hash: string; mgfHash: string; salt: number } | undefined {
  let hash = 'SHA-1';
  let mgfHash = 'SHA-1';
  let salt = 20;
  const p = alg.params;
  if (!p || p.tagNo === TAG.NULL) return { hash, mgfHash, salt };
  const der = alg.der;
  try {
    if (p.tagNo !== TAG.SEQUENCE || p.cls !== 0) return undefined;
    for (const f of children(der, p)) {
      if (f.cls !== 2) return undefined;
      const inner = children(der, f)[0];
      if (!inner) return undefined;
      if (f.tagNo === 0) {
        const h = HASH_OID[decodeOid(der, children(der, inner)[0]!)];
        if (!h) return undefined;
        hash = h;
      } else if (f.tagNo === 1) {
        const [mOid, mParams] = children(der, inner);
        if (!mOid || decodeOid(der, mOid) !== SIG.mgf1 || !mParams) return undefined;
        const h = HASH_OID[decodeOid(der, children(der, mParams)[0]!)];
        if (!h) return undefined;
        mgfHash = h;
      } else if (f.tagNo === 2) {
        if (inner.tagNo !== TAG.INTEGER || inner.contentEnd - inner.contentStart > 4 || (der[inner.contentStart]! & 0x80) !== 0) return undefined;
        let v = 0;
        for (let k = inner.contentStart; k < inner.contentEnd; k++) v = v * 256 + der[k]!;
        salt = v;
      } else if (f.tagNo === 3) {
        if (inner.tagNo !== TAG.INTEGER || inner.contentEnd - inner.contentStart !== 1 || der[inner.contentStart] !== 1) return undefined;
      } else return undefined;
    }
  } catch {
    return undefined;
  }
  return { hash, mgfHash, salt };
}

/** SHA-1, MD5 or MD2 in the digest or the signature algorithm (RFC 8551 §2.2: no longer acceptable). */
export function isWeak(si: ParsedSignerInfo, check?: SignatureCheck): boolean {
  return (
    WEAK_SIGNATURE_OIDS.has(si.digestAlgorithm.oid) ||
    WEAK_SIGNATURE_OIDS.has(si.signatureAlgorithm.oid) ||
    isWeakHash(check?.hash)
  );
}

export interface SignerInfoCheck {
  /** The digest and signature hold (weakness and key size aside). */
  ok: boolean;
  reasons: string[];
  signingTime?: Date;
  /** SHA-1/MD5 used (whether that is acceptable is the policy's `allowWeak`, decided by the caller). */
  weak: boolean;
  /** An RSA signer key smaller than the policy's `minRsaBits` (its bit count). */
  smallKey?: number;
  smime: SmimeAttributes;
  /** The hash used for the content digest ("SHA-256"…). */
  digestName?: string;
}

/**
 * Checks one SignerInfo against its signer certificate and the content: contentType matches eContentType,
 * messageDigest is the content's digest, the signature covers the signed attributes. Every problem found is listed.
 */
export async function verifySignerInfo(
  sd: ParsedSignedData,
  si: ParsedSignerInfo,
  content: Uint8Array,
  signer: CertInfo,
  opts: { policy?: AlgorithmPolicy; crypto?: Crypto },
): Promise<SignerInfoCheck> {
  const policy = opts.policy ?? DEFAULT_POLICY;
  const reasons: string[] = [];
  let signingTime: Date | undefined;
  let smime: SmimeAttributes = {};
  const digestName = HASH_OID[si.digestAlgorithm.oid];
  let check: SignatureCheck | undefined;
  if (si.signedAttrs && si.signedAttrsDer) {
    const buf = si.buf;
    const byType = new Map<string, ParsedAttribute[]>();
    for (const a of si.signedAttrs) byType.set(a.type, [...(byType.get(a.type) ?? []), a]);
    const single = (type: string, name: string): Tlv | undefined => {
      const list = byType.get(type);
      if (!list) return undefined;
      if (list.length > 1 || list[0]!.values.length !== 1) {
        reasons.push(`malformed-attribute: ${name}`);
        return undefined;
      }
      return list[0]!.values[0];
    };
    const ctT = single(ATTR.contentType, 'contentType');
    if (!ctT) reasons.push('missing-attribute: contentType');
    else if (ctT.tagNo !== TAG.OID || decodeOid(buf, ctT) !== sd.eContentType) reasons.push('content-type-mismatch');
    const mdT = single(ATTR.messageDigest, 'messageDigest');
    if (!mdT || mdT.tagNo !== TAG.OCTET_STRING) reasons.push('missing-attribute: messageDigest');
    else {
      try {
        const d = await digestByOid(si.digestAlgorithm.oid, content, opts.crypto);
        if (!equal(d, buf.subarray(mdT.contentStart, mdT.contentEnd))) reasons.push('digest-mismatch');
      } catch (e) {
        if (e instanceof UnsupportedAlgorithm) reasons.push(`unsupported-algorithm: ${si.digestAlgorithm.oid}`);
        else throw e;
      }
    }
    const stT = single(ATTR.signingTime, 'signingTime');
    if (stT) {
      try {
        signingTime = parseTime(buf, stT);
      } catch {
        reasons.push('malformed-attribute: signingTime');
      }
    }
    try {
      smime = readSmimeAttributes(buf, si.signedAttrs);
    } catch {
      reasons.push('malformed-attribute: S/MIME');
    }
    // ESS signing-certificate (v1) and -v2: the first ESSCertID must name the certificate verified with.
    for (const [type, v2] of [[ATTR.signingCertificate, false], [ATTR.signingCertificateV2, true]] as const) {
      const t = single(type, 'signingCertificate');
      if (!t) continue;
      try {
        const problem = await checkEssCertId(buf, readFirstEssCertId(buf, t, v2), signer, opts.crypto);
        if (problem && !reasons.includes(problem)) reasons.push(problem);
      } catch (e) {
        if (!(e instanceof CMSInvalid)) throw e;
        if (!reasons.includes('malformed-attribute: signingCertificate')) reasons.push('malformed-attribute: signingCertificate');
      }
    }
    // Over the DER (minimal lengths, order as sent), as OpenSSL, NSS and Bouncy Castle do: see signedAttributesDer.
    const signedDer = signedAttributesDer(si.signedAttrsDer);
    check = await verifySignature(si.signatureAlgorithm, si.digestAlgorithm.oid, signer, signedDer, si.signature, opts.crypto);
    if (!check.ok && check.reason === 'signature-mismatch' && signedDer !== si.signedAttrsDer) check = { ...check, reason: 'non-der-signed-attributes' };
  } else {
    // No signed attributes: the signature is over the content itself (RFC 5652 §5.4).
    if (sd.eContentType !== OIDS.data) reasons.push('missing-attribute: contentType');
    check = await verifySignature(si.signatureAlgorithm, si.digestAlgorithm.oid, signer, content, si.signature, opts.crypto);
  }
  if (!check.ok && !reasons.includes(check.reason)) reasons.push(check.reason);
  const weak = isWeak(si, check);
  let smallKey: number | undefined;
  if (keyKind(signer) === 'rsa') {
    const bits = rsaModulusBits(signer);
    if (keyPolicyProblem('rsa', bits, policy)) smallKey = bits;
  }
  return { ok: reasons.length === 0, reasons, signingTime, weak, smallKey, smime, digestName };
}
