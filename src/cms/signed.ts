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
 * algorithms were used; chain, usage, revocation and address checks are in verify.ts. The signature check itself
 * is crypto/signatures.ts, the digests crypto/digest.ts, the algorithm tables crypto/algorithms.ts.
 */
import { CMSInvalid, CMSLimitExceeded, KeyInvalid, UnsupportedAlgorithm } from '../errors.js';
import { DEFAULT_LIMITS, type Limits } from '../lib/limits.js';
import { getCrypto } from '../crypto/provider.js';
import { importPrivateKey } from '../crypto/key_cache.js';
import { DEFAULT_POLICY, isWeakHash, keyPolicyProblem, WEAK_SIGNATURE_OIDS, type AlgorithmPolicy } from '../crypto/policy.js';
import {
  DIGESTS,
  digestAlgorithmByOid,
  KEY_ALGORITHMS,
  MGF1_OID,
  NIST_CURVES,
  signatureOidFor,
  SIGNATURES,
  type WebCryptoHash,
} from '../crypto/algorithms.js';
import { digest, digestByOid } from '../crypto/digest.js';
import { ecdsaP1363ToDer, verifySignature, type SignatureCheck } from '../crypto/signatures.js';
import { copyBytes, equal, concat } from '../lib/bytes.js';
import { parseTime } from '../lib/time.js';
import { certInfo, keyKind, type CertInfo } from '../certs/cert_info.js';
import { rsaModulusBits, type PrivateKeyRef } from '../certs/keys.js';
import {
  algorithmIdentifier,
  children,
  decodeOid,
  header,
  integer,
  NULL,
  oid,
  readAlgorithm,
  readTlv,
  seq,
  set,
  stringContent,
  explicit,
  TAG,
  tlv,
  type ParsedAlgorithm,
  type Tlv,
} from '../lib/der.js';
import { OIDS, oidName } from './oids.js';
import {
  ATTR,
  buildSignedAttributes,
  issuerAndSerial,
  readAttributes,
  readIssuerSerial,
  readSmimeAttributes,
  signedAttributesDer,
  type CertRef,
  type ParsedAttribute,
  type SmimeAttributes,
} from './attributes.js';
import { checkEssCertId, readFirstEssCertId, signingCertificateV2Value } from './ess.js';

/** The hashes a signer may be asked for (WebCrypto's spelling). */
export type HashName = WebCryptoHash;

/** micalg names (RFC 5751 §3.4.3.2 / RFC 8551), by hash name: from the algorithm registry. */
export const MICALG: Record<string, string> = Object.fromEntries(Object.values(DIGESTS).map((d) => [d.name, d.micalg]));

/** Whether smime-core can sign with this certificate's key type (RSA, ECDSA on P-256/384/521, Ed25519). */
export function canSignWith(info: CertInfo): boolean {
  const kind = keyKind(info);
  if (kind === 'rsa') return info.keyAlgorithm === KEY_ALGORITHMS.rsaEncryption.oid;
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

/** The hash name of a digest algorithm OID ("SHA-256"…), if smime-core knows it. */
export function hashNameOfOid(o: string): string | undefined {
  return digestAlgorithmByOid(o)?.name;
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
      const h = algorithmIdentifier(DIGESTS[p.hash].oid);
      const params = seq(explicit(0, h), explicit(1, algorithmIdentifier(MGF1_OID, h)), explicit(2, integer(DIGESTS[p.hash].length)));
      return algorithmIdentifier(SIGNATURES.rsassaPss.oid, params);
    }
    return algorithmIdentifier(signatureOidFor('rsa-pkcs1', p.hash)!, NULL);
  }
  if (kind === 'ec') return algorithmIdentifier(signatureOidFor('ecdsa', p.hash)!);
  // RFC 8419 §2.3 / RFC 8410 §3: id-Ed25519 with the parameters absent.
  if (kind === 'ed25519') return algorithmIdentifier(SIGNATURES.ed25519.oid);
  throw new UnsupportedAlgorithm(`signing with a ${oidName(p.signer.keyAlgorithm)} key`, p.signer.keyAlgorithm);
}

/** The WebCrypto key and algorithm to sign with; a CryptoKey of another algorithm is re-imported when extractable. */
async function signingKey(p: SignParams): Promise<{ key: CryptoKey; alg: AlgorithmIdentifier | RsaPssParams | EcdsaParams }> {
  const c = getCrypto(p.crypto).subtle;
  const kind = keyKind(p.signer);
  let importAlg: RsaHashedImportParams | EcKeyImportParams | Algorithm;
  let alg: AlgorithmIdentifier | RsaPssParams | EcdsaParams;
  if (kind === 'rsa') {
    importAlg = { name: p.pss ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5', hash: p.hash };
    alg = p.pss ? { name: 'RSA-PSS', saltLength: DIGESTS[p.hash].length } : { name: 'RSASSA-PKCS1-v1_5' };
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
  const digestAlg = algorithmIdentifier(DIGESTS[o.hash].oid);
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
// SignerInfo verification

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
  const digestName = hashNameOfOid(si.digestAlgorithm.oid);
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
