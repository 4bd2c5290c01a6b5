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
 * is crypto/signatures.ts, the digests crypto/digest.ts, the algorithm tables crypto/algorithms.ts, and signing
 * (the key, the signatureAlgorithm, the signature) cms/signer.ts.
 */
import { CMSInvalid, CMSLimitExceeded, UnsupportedAlgorithm } from '../errors.js';
import { DEFAULT_LIMITS, type Limits } from '../lib/limits.js';
import { DEFAULT_POLICY, isWeakHash, keyPolicyProblem, WEAK_SIGNATURE_OIDS, type AlgorithmPolicy } from '../crypto/policy.js';
import { DIGESTS, digestAlgorithmByOid } from '../crypto/algorithms.js';
import { digest, digestByOid } from '../crypto/digest.js';
import { verifySignature, verifySignatureOverDigest, type SignatureCheck } from '../crypto/signatures.js';
import { copyBytes, equal, concat } from '../lib/bytes.js';
import { parseTime } from '../lib/time.js';
import { certInfo, keyKind, type CertInfo } from '../certs/cert_info.js';
import { rsaModulusBits } from '../certs/keys.js';
import {
  algorithmIdentifier,
  children,
  decodeOid,
  header,
  integer,
  oid,
  readAlgorithm,
  readTlv,
  seq,
  set,
  stringContent,
  TAG,
  tlv,
  type ParsedAlgorithm,
  type Tlv,
} from '../lib/der.js';
import { OIDS, oidName } from './oids.js';

/** id-ri-ocsp-response (RFC 5940 §4.1): an OCSPResponse carried in RevocationInfoChoices `other`. */
const ID_RI_OCSP_RESPONSE = '1.3.6.1.5.5.7.16.2';
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
import { signatureAlgorithmFor, signBytes, signingHash, type HashName, type SignParams } from './signer.js';

/** micalg names (RFC 5751 §3.4.3.2 / RFC 8551), by hash name: from the algorithm registry. */
export const MICALG: Record<string, string> = Object.fromEntries(Object.values(DIGESTS).map((d) => [d.name, d.micalg]));

/** The hash name of a digest algorithm OID ("SHA-256"…), if smime-core knows it. */
export function hashNameOfOid(o: string): string | undefined {
  return digestAlgorithmByOid(o)?.name;
}

/** What `buildSignedData` needs besides the content: the signer, and what the SignedData carries. */
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

/** A built SignedData ContentInfo. */
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

/** The parts of a SignedData around its content, for a content whose digest is known (see {@link signedDataParts}). */
export interface SignedDataParts {
  /** The digest algorithm's AlgorithmIdentifier (the digestAlgorithms SET holds it alone). */
  digestAlgorithm: Uint8Array;
  /** The DER of each certificate of the certificates field, duplicates dropped (may be empty). */
  certificates: Uint8Array[];
  /** The one SignerInfo's DER. */
  signerInfo: Uint8Array;
  /** The signed attributes, as the SET that was signed. */
  signedAttributes: Uint8Array;
}

/** The hash a SignedData built with `options` digests its content with (Ed25519: always SHA-512, RFC 8419). */
export function contentHashFor(options: Pick<BuildSignedDataOptions, 'signer' | 'hash'>): HashName {
  return signingHash(options.signer, options.hash);
}

/**
 * The SignerInfo (signed attributes over `messageDigest`, the content's digest with {@link contentHashFor}, and the
 * signature), the digest AlgorithmIdentifier and the certificates of a SignedData: everything but the content, so
 * that a stream can write the content first and these once its digest is known (issue 16). `buildSignedData` is this
 * plus the layout.
 */
export async function signedDataParts(messageDigest: Uint8Array, options: Omit<BuildSignedDataOptions, 'encapsulate'>): Promise<SignedDataParts> {
  const o = { ...options, hash: contentHashFor(options) };
  const signedAttrs = buildSignedAttributes({
    contentType: OIDS.data,
    digest: messageDigest,
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
  return { digestAlgorithm: digestAlg, certificates: certs, signerInfo, signedAttributes: signedAttrs };
}

/** Builds a ContentInfo holding SignedData with one SignerInfo over `content`. */
export async function buildSignedData(content: Uint8Array, options: BuildSignedDataOptions): Promise<BuiltSignedData> {
  const md = await digest(contentHashFor(options), content, options.crypto);
  const parts = await signedDataParts(md, options);
  const pieces = signedDataLayout(parts, options.encapsulate ? content : undefined);
  let length = 0;
  for (const p of pieces) length += p.length;
  return { pieces, length, signedAttributes: parts.signedAttributes };
}

/**
 * The definite-length ContentInfo of a SignedData made of `parts`, encapsulating `content` when given (detached
 * otherwise), as pieces: the content, when encapsulated, is its own piece, not copied.
 */
export function signedDataLayout(parts: SignedDataParts, content?: Uint8Array): Uint8Array[] {
  // EncapsulatedContentInfo ::= SEQUENCE { eContentType, [0] EXPLICIT OCTET STRING OPTIONAL }
  const eci = content ? wrap(0x30, [oid(OIDS.data), ...wrap(0xa0, wrap(0x04, [content]))]) : [seq(oid(OIDS.data))];
  const body = [
    integer(1),
    set(parts.digestAlgorithm),
    ...eci,
    ...(parts.certificates.length ? [tlv(0xa0, ...parts.certificates)] : []),
    set(parts.signerInfo),
  ];
  const ci = wrap(0x30, [oid(OIDS.signedData), ...wrap(0xa0, wrap(0x30, body))]);
  // Merge the small pieces around the content.
  const idx = content ? ci.indexOf(content) : -1;
  return idx < 0 ? [concat(ci)] : [concat(ci.slice(0, idx)), content!, concat(ci.slice(idx + 1))];
}

// -----------------------------------------------------------------------------------------------------------------
// Parsing

/** One SignerInfo (RFC 5652 §5.3), as parsed. */
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

/** A SignedData (RFC 5652 §5.1), as parsed. */
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
  /** The DER of each OCSPResponse in the crls field (RFC 5940 `other` with id-ri-ocsp-response): stapled answers. */
  ocspResponses: Uint8Array[];
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
  const ocspResponses: Uint8Array[] = [];
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
    for (const c of list) {
      if (c.cls === 0 && c.tagNo === TAG.SEQUENCE) crls.push(der.subarray(c.start, c.end));
      else if (c.cls === 2 && c.tagNo === 1 && c.constructed) {
        const [fmt, info] = children(der, c);
        if (fmt && info && fmt.tagNo === TAG.OID && decodeOid(der, fmt) === ID_RI_OCSP_RESPONSE) ocspResponses.push(der.subarray(info.start, info.end));
      }
    }
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
    ocspResponses,
    signerInfos: signerInfos.map((s) => readSignerInfo(der, s)),
  };
}

function buf0(der: Uint8Array, t: Tlv): number {
  return der[t.contentEnd - 1] ?? 0;
}

// -----------------------------------------------------------------------------------------------------------------
// SignerInfo verification

/** The digest with `hashOid` among `c`'s; UnsupportedAlgorithm for an OID outside the registry (as digestByOid). */
function knownDigest(c: ContentDigests, hashOid: string): Uint8Array | undefined {
  if (!digestAlgorithmByOid(hashOid)) throw new UnsupportedAlgorithm(`digest ${hashOid}`, hashOid);
  return c.digests.get(hashOid);
}

/** SHA-1, MD5 or MD2 in the digest or the signature algorithm (RFC 8551 §2.2: no longer acceptable). */
export function isWeak(si: ParsedSignerInfo, check?: SignatureCheck): boolean {
  return (
    WEAK_SIGNATURE_OIDS.has(si.digestAlgorithm.oid) ||
    WEAK_SIGNATURE_OIDS.has(si.signatureAlgorithm.oid) ||
    isWeakHash(check?.hash)
  );
}

/** What `verifySignerInfo` says about one SignerInfo. */
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
 * The digests of a content that was hashed as it streamed past (issue 16), in place of the content: by digest
 * algorithm OID, for the hashes the reader ran.
 */
export interface ContentDigests {
  readonly digests: ReadonlyMap<string, Uint8Array>;
  /** The content itself when the reader kept it (a small one): used for what the digests cannot answer. */
  readonly content?: Uint8Array;
}

/**
 * Checks one SignerInfo against its signer certificate and the content: contentType matches eContentType,
 * messageDigest is the content's digest, the signature covers the signed attributes. Every problem found is listed.
 * The content may be given as its digests ({@link ContentDigests}, a stream): a digest the reader did not run is
 * `digest-not-computed: <hash>`. A SignerInfo without signed attributes (the signature is over the content itself) is
 * checked against the content when the reader kept it (a small one), else against the digest the reader computed
 * when its signature is RSA (PKCS#1 v1.5 or PSS) or ECDSA (they sign a digest); EdDSA is then
 * `unsupported-in-stream: no signed attributes` (see verifySignatureOverDigest).
 */
export async function verifySignerInfo(
  sd: ParsedSignedData,
  si: ParsedSignerInfo,
  content: Uint8Array | ContentDigests,
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
        const whole = content instanceof Uint8Array ? content : undefined;
        let d = whole ? await digestByOid(si.digestAlgorithm.oid, whole, opts.crypto) : knownDigest(content as ContentDigests, si.digestAlgorithm.oid);
        if (d === undefined && !whole && (content as ContentDigests).content) d = await digestByOid(si.digestAlgorithm.oid, (content as ContentDigests).content!, opts.crypto);
        if (d === undefined) reasons.push(`digest-not-computed: ${digestName}`);
        else if (!equal(d, buf.subarray(mdT.contentStart, mdT.contentEnd))) reasons.push('digest-mismatch');
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
    const whole = content instanceof Uint8Array ? content : content.content;
    if (whole) check = await verifySignature(si.signatureAlgorithm, si.digestAlgorithm.oid, signer, whole, si.signature, opts.crypto);
    else {
      // A stream: RSA and ECDSA sign a digest of the content, which the reader computed as it went by.
      const digests = content as ContentDigests;
      const digestOf = (h: keyof typeof DIGESTS) => digests.digests.get(DIGESTS[h].oid);
      check = await verifySignatureOverDigest(si.signatureAlgorithm, si.digestAlgorithm.oid, signer, digestOf, si.signature, opts.crypto);
    }
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
