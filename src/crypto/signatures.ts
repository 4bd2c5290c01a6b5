/**
 * Signature verification for X.509 certificates, CRLs and CMS SignerInfos (RFC 5280 §4.1.1.3, RFC 5652 §5.6,
 * RFC 8551 §2.2, RFC 5754, RFC 5753, RFC 4056, RFC 8419), and the ECDSA signature formats.
 *
 * WebCrypto does what it can (RSASSA-PKCS1-v1_5 and RSA-PSS with SHA-1/256/384/512 and one hash for both PSS uses,
 * ECDSA on the NIST curves, Ed25519); crypto/rsa_sig.ts does the RSA cases WebCrypto lacks (SHA-224, MD5, another
 * MGF1 hash) and RSA on a digest, crypto/ecdsa_digest.ts ECDSA on a digest (a stream's SignerInfo without signed
 * attributes). The algorithms come from the registry (crypto/algorithms.ts).
 */
import { UnsupportedAlgorithm } from '../errors.js';
import { algorithmIdentifier, children, decodeOid, integer, NULL, seq, TAG, tlv, type ParsedAlgorithm } from '../lib/der.js';
import {
  DIGESTS,
  digestAlgorithmByOid,
  isHashName,
  isWebCryptoHash,
  KEY_ALGORITHMS,
  keyKindOfOid,
  MGF1_OID,
  NIST_CURVES,
  type NistCurve,
  signatureByOid,
  SIGNATURES,
  type HashName,
  type WebCryptoHash,
} from './algorithms.js';
import { ecdsaVerifyDigest } from './ecdsa_digest.js';
import { importPublicKey } from './key_cache.js';
import { getCrypto } from './provider.js';
import { rsaPublicKeyBits } from './rsa_key.js';
import { rsaPkcs1v15Verify, rsaPkcs1v15VerifyDigest, rsaPssVerify, rsaPssVerifyDigest } from './rsa_sig.js';

/** The public key a signature is checked with: the fields of a certificate's SubjectPublicKeyInfo. */
export interface SignerPublicKey {
  /** The SubjectPublicKeyInfo DER. */
  spki: Uint8Array;
  /** The SubjectPublicKeyInfo algorithm OID. */
  keyAlgorithm: string;
  /** The named curve OID for EC keys. */
  curve?: string;
  /** The public key bits (the BIT STRING content without the unused-bits octet). */
  publicKey: Uint8Array;
}

/** The outcome of a signature check: ok, or why not (`signature-mismatch`, `unsupported-algorithm: <oid>`…). */
export type SignatureCheck =
  | { ok: true; hash?: string }
  | { ok: false; reason: string; hash?: string };

/** ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } from the IEEE P1363 form r‖s that WebCrypto produces. */
export function ecdsaP1363ToDer(sig: Uint8Array): Uint8Array {
  const n = sig.length >> 1;
  return seq(integer(sig.subarray(0, n)), integer(sig.subarray(n)));
}

/**
 * r‖s (each `size` bytes) from the DER ECDSA-Sig-Value; undefined when it is not DER (BER lengths, an INTEGER with a
 * needless leading octet, a negative one, bytes after the SEQUENCE or inside it after s) or a value longer than `size`.
 * Strict as OpenSSL is (it re-encodes what it parsed and compares): the same for verifySignature and its digest form.
 * Whether r and s lie in [1, n-1] is left to the verifier.
 */
export function ecdsaDerToP1363(der: Uint8Array, size: number): Uint8Array | undefined {
  let p = 0;
  // A DER header of the given tag (no long form below 128, no indefinite length): the content's length.
  const header = (tag: number): number | undefined => {
    if (der[p++] !== tag) return undefined;
    const l0 = der[p++];
    if (l0 === undefined || l0 === 0x80 || l0 > 0x81) return undefined;
    if (l0 < 0x80) return l0;
    const l = der[p++];
    return l === undefined || l < 0x80 ? undefined : l;
  };
  const len = header(0x30);
  if (len === undefined || p + len !== der.length) return undefined;
  const out = new Uint8Array(size * 2);
  for (let i = 0; i < 2; i++) {
    const n = header(0x02);
    if (n === undefined || n === 0 || p + n > der.length) return undefined;
    let v = der.subarray(p, p + n);
    p += n;
    if ((v[0]! & 0x80) !== 0) return undefined; // negative
    if (v[0] === 0) {
      if (v.length === 1) continue; // zero: DER, but out of range (the verifier says no)
      if ((v[1]! & 0x80) === 0) return undefined; // a needless leading zero
      v = v.subarray(1);
    }
    if (v.length > size) return undefined;
    out.set(v, i * size + size - v.length);
  }
  return p === der.length ? out : undefined;
}

/** The hash name of a digest algorithm OID (MD5 included, so that weak signatures can be named), if known. */
function hashOfOid(o: string | undefined): HashName | undefined {
  return o === undefined ? undefined : digestAlgorithmByOid(o)?.name;
}

/** RSASSA-PSS parameters we verify (RFC 4055 §3.1, MGF1 only). */
type PssParams = { hash: HashName; mgfHash: HashName; salt: number };

/**
 * The RSA signature scheme `alg` names for `signer` (with the digestAlgorithm when `alg` is bare rsaEncryption):
 * RSASSA-PKCS1-v1_5 with its hash, or RSASSA-PSS with its parameters; a failed check when the key is not RSA or a hash
 * is one we lack; undefined when `alg` is not an RSA signature. Shared by {@link verifySignature} and
 * {@link verifySignatureOverDigest}.
 */
function rsaScheme(alg: ParsedAlgorithm, digestOid: string | undefined, signer: SignerPublicKey): { pkcs1: HashName } | { pss: PssParams } | SignatureCheck | undefined {
  const kind = keyKindOfOid(signer.keyAlgorithm);
  const known = signatureByOid(alg.oid);
  const rsaEncryption = KEY_ALGORITHMS.rsaEncryption.oid;
  if (alg.oid === rsaEncryption || (known?.scheme === 'rsa-pkcs1' && isHashName(known.hash))) {
    const hash = alg.oid === rsaEncryption ? hashOfOid(digestOid) : known!.hash;
    if (kind !== 'rsa') return { ok: false, reason: 'key-algorithm-mismatch', hash };
    if (!hash) return { ok: false, reason: `unsupported-algorithm: ${alg.oid === rsaEncryption && digestOid ? digestOid : alg.oid}`, hash };
    if (!isHashName(hash)) return { ok: false, reason: `unsupported-algorithm: ${alg.oid}`, hash };
    return { pkcs1: hash };
  }
  if (alg.oid === SIGNATURES.rsassaPss.oid) {
    if (kind !== 'rsa') return { ok: false, reason: 'key-algorithm-mismatch' };
    const pss = readPssParams(alg);
    if (!pss) return { ok: false, reason: `unsupported-algorithm: ${alg.oid}`, hash: undefined };
    if (!isHashName(pss.hash) || !isHashName(pss.mgfHash) || pss.hash === 'MD5' || pss.mgfHash === 'MD5')
      return { ok: false, reason: `unsupported-algorithm: ${alg.oid}`, hash: pss.hash };
    return { pss: { hash: pss.hash, mgfHash: pss.mgfHash, salt: pss.salt } };
  }
  return undefined;
}

/**
 * The ECDSA signature `alg` names for `signer` (with the digestAlgorithm when `alg` is bare id-ecPublicKey): its curve
 * and hash; a failed check when the key is not EC, its curve is not P-256/384/521 or the hash is not SHA-1/256/384/512
 * (any of them on any of the curves, as WebCrypto pairs them); undefined when `alg` is not ECDSA. Shared by
 * {@link verifySignature} and {@link verifySignatureOverDigest}.
 */
function ecdsaScheme(alg: ParsedAlgorithm, digestOid: string | undefined, signer: SignerPublicKey): { curve: NistCurve; hash: WebCryptoHash } | SignatureCheck | undefined {
  const ecPublicKey = KEY_ALGORITHMS.ecPublicKey.oid;
  const known = signatureByOid(alg.oid);
  if (alg.oid !== ecPublicKey && known?.scheme !== 'ecdsa') return undefined;
  const hash = alg.oid === ecPublicKey ? hashOfOid(digestOid) : known!.hash;
  if (keyKindOfOid(signer.keyAlgorithm) !== 'ec') return { ok: false, reason: 'key-algorithm-mismatch', hash };
  const curve = signer.curve ? NIST_CURVES[signer.curve] : undefined;
  if (!curve) return { ok: false, reason: `unsupported-algorithm: ${signer.curve ?? ecPublicKey}`, hash };
  if (!hash || !isWebCryptoHash(hash)) return { ok: false, reason: `unsupported-algorithm: ${alg.oid}`, hash };
  return { curve, hash };
}

/**
 * Verifies `signature` over `data` with the public key of `signer`, for a signatureAlgorithm (and, when the algorithm
 * names no hash, the digestAlgorithm). Never throws for bad input: the result says why.
 * - RSA PKCS#1 v1.5 with SHA-1/256/384/512 and RSA-PSS with one hash for both uses go through WebCrypto; PKCS#1 v1.5
 *   with SHA-224 or MD5, and PSS with SHA-224 or another MGF1 hash, through crypto/rsa_sig.ts. PSS takes the salt
 *   length the parameters state.
 * - ECDSA on P-256/384/521 with SHA-1/256/384/512; Ed25519 (PureEdDSA, RFC 8419).
 * - Anything else (DSA, ECDSA with SHA-224, other curves) is `unsupported-algorithm: <oid>`.
 * Whether the algorithm is weak is not decided here (see `WEAK_SIGNATURE_OIDS` and `isWeakHash`).
 */
export async function verifySignature(
  alg: ParsedAlgorithm,
  digestOid: string | undefined,
  signer: SignerPublicKey,
  data: Uint8Array,
  signature: Uint8Array,
  crypto?: Crypto,
): Promise<SignatureCheck> {
  const c = getCrypto(crypto).subtle;
  const kind = keyKindOfOid(signer.keyAlgorithm);
  const known = signatureByOid(alg.oid);
  let hash: string | undefined;
  const unsupported = (o = alg.oid): SignatureCheck => ({ ok: false, reason: `unsupported-algorithm: ${o}`, hash });
  const result = (ok: boolean): SignatureCheck => (ok ? { ok, hash } : { ok, reason: 'signature-mismatch', hash });
  try {
    const rsa = rsaScheme(alg, digestOid, signer);
    if (rsa && 'ok' in rsa) return rsa;
    if (rsa && 'pkcs1' in rsa) {
      hash = rsa.pkcs1;
      if (!isWebCryptoHash(hash)) return result(rsaPkcs1v15Verify(rsaSpki(signer), rsa.pkcs1, data, signature));
      const key = await importPublicKey(c, rsaSpki(signer), { name: 'RSASSA-PKCS1-v1_5', hash }, ['verify']);
      return result(await c.verify('RSASSA-PKCS1-v1_5', key, signature as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>));
    }
    if (rsa) {
      const pss = rsa.pss;
      hash = pss.hash;
      const spki = rsaSpki(signer);
      if (pss.hash !== pss.mgfHash || !isWebCryptoHash(pss.hash)) return result(rsaPssVerify(spki, pss, data, signature));
      // A salt longer than the encoding allows can't verify (WebCrypto would throw instead of saying no).
      const emLen = (rsaPublicKeyBits(signer.publicKey) - 1 + 7) >> 3;
      if (pss.salt > emLen - DIGESTS[pss.hash].length - 2) return result(false);
      const key = await importPublicKey(c, spki, { name: 'RSA-PSS', hash: pss.hash }, ['verify']);
      return result(await c.verify({ name: 'RSA-PSS', saltLength: pss.salt }, key, signature as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>));
    }
    const ec = ecdsaScheme(alg, digestOid, signer);
    if (ec && 'ok' in ec) return ec;
    if (ec) {
      hash = ec.hash;
      const raw = ecdsaDerToP1363(signature, ec.curve.size);
      if (!raw) return result(false);
      const key = await importPublicKey(c, signer.spki, { name: 'ECDSA', namedCurve: ec.curve.name }, ['verify']);
      return result(await c.verify({ name: 'ECDSA', hash: ec.hash }, key, raw as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>));
    }
    if (alg.oid === SIGNATURES.ed25519.oid) {
      // PureEdDSA (RFC 8419 §3): over the signed attributes' DER, or the content itself when there are none.
      if (kind !== 'ed25519') return { ok: false, reason: 'key-algorithm-mismatch' };
      if (signature.length !== 64) return result(false);
      const key = await importPublicKey(c, signer.spki, { name: 'Ed25519' }, ['verify']);
      return result(await c.verify({ name: 'Ed25519' }, key, signature as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>));
    }
    if (known?.scheme === 'dsa') hash = known.hash ?? hashOfOid(digestOid);
  } catch (e) {
    if (e instanceof UnsupportedAlgorithm) return unsupported(e.oid ?? alg.oid);
    // WebCrypto refuses the key (for example a curve or key size it lacks): that is no proof of a forgery.
    return { ok: false, reason: `unsupported-key: ${e instanceof Error ? e.message : String(e)}`, hash };
  }
  return unsupported();
}

/**
 * {@link verifySignature} of content known only by its digests (a stream: a SignerInfo without signed attributes,
 * whose signature is over the content itself, RFC 5652 §5.4), as strict as verifySignature for the same SignerInfo
 * (the same schemes, refusals and reasons). RSASSA-PKCS1-v1_5, RSASSA-PSS and ECDSA sign a digest of the content, so
 * `digestOf(hash)` (what the reader computed as the content went by) is all they need: RSA is checked in TypeScript
 * (crypto/rsa_sig.ts), ECDSA on @noble/curves (crypto/ecdsa_digest.ts), as WebCrypto verifies over the message only;
 * the key must be one WebCrypto imports, as verifySignature asks. Ed25519 is `unsupported-in-stream: no signed
 * attributes`: without signed attributes PureEdDSA signs the content itself (RFC 8419 §3), and its verification hashes
 * R ‖ A ‖ M (RFC 8032 §5.1.7) where R is the signature's first half, which comes in the SignerInfo after the content:
 * no digest computed as the content went by can stand for it. With signed attributes the content is hashed into the
 * messageDigest attribute and only their DER is signed, which is what lets a stream be checked in one pass.
 * A digest the reader did not compute is `digest-not-computed: <hash>`. Never throws for bad input.
 */
export async function verifySignatureOverDigest(
  alg: ParsedAlgorithm,
  digestOid: string | undefined,
  signer: SignerPublicKey,
  digestOf: (hash: HashName) => Uint8Array | undefined,
  signature: Uint8Array,
  crypto?: Crypto,
): Promise<SignatureCheck> {
  let hash: string | undefined;
  const result = (ok: boolean): SignatureCheck => (ok ? { ok, hash } : { ok, reason: 'signature-mismatch', hash });
  try {
    const rsa = rsaScheme(alg, digestOid, signer);
    if (rsa && 'ok' in rsa) return rsa;
    if (rsa) {
      const h = 'pkcs1' in rsa ? rsa.pkcs1 : rsa.pss.hash;
      hash = h;
      const d = digestOf(h);
      if (!d) return { ok: false, reason: `digest-not-computed: ${h}`, hash };
      return result('pkcs1' in rsa ? rsaPkcs1v15VerifyDigest(rsaSpki(signer), h, d, signature) : rsaPssVerifyDigest(rsaSpki(signer), rsa.pss, d, signature));
    }
    const ec = ecdsaScheme(alg, digestOid, signer);
    if (ec && 'ok' in ec) return ec;
    if (ec) {
      hash = ec.hash;
      const d = digestOf(ec.hash);
      if (!d) return { ok: false, reason: `digest-not-computed: ${ec.hash}`, hash };
      const raw = ecdsaDerToP1363(signature, ec.curve.size);
      if (!raw) return result(false);
      // The key verifySignature would refuse (a point off the curve…) is refused the same way: unsupported-key.
      await importPublicKey(getCrypto(crypto).subtle, signer.spki, { name: 'ECDSA', namedCurve: ec.curve.name }, ['verify']);
      return result(await ecdsaVerifyDigest(ec.curve, signer.publicKey, d, raw));
    }
    if (alg.oid === SIGNATURES.ed25519.oid) {
      if (keyKindOfOid(signer.keyAlgorithm) !== 'ed25519') return { ok: false, reason: 'key-algorithm-mismatch' };
      return { ok: false, reason: 'unsupported-in-stream: no signed attributes' };
    }
    // Anything else is what verifySignature says of it, whatever the content.
    const known = signatureByOid(alg.oid);
    if (known?.scheme === 'dsa') hash = known.hash ?? hashOfOid(digestOid);
  } catch (e) {
    if (e instanceof UnsupportedAlgorithm) return { ok: false, reason: `unsupported-algorithm: ${e.oid ?? alg.oid}`, hash };
    return { ok: false, reason: `unsupported-key: ${e instanceof Error ? e.message : String(e)}`, hash };
  }
  return { ok: false, reason: `unsupported-algorithm: ${alg.oid}`, hash };
}

/** WebCrypto imports RSA keys only as rsaEncryption SPKIs; an id-RSASSA-PSS SPKI is rewritten (same key bits). */
function rsaSpki(key: SignerPublicKey): Uint8Array {
  const rsaEncryption = KEY_ALGORITHMS.rsaEncryption.oid;
  if (key.keyAlgorithm === rsaEncryption) return key.spki;
  const bits = new Uint8Array(key.publicKey.length + 1);
  bits.set(key.publicKey, 1);
  return seq(algorithmIdentifier(rsaEncryption, NULL), tlv(0x03, bits));
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
        const h = hashOfOid(decodeOid(der, children(der, inner)[0]!));
        if (!h) return undefined;
        hash = h;
      } else if (f.tagNo === 1) {
        const [mOid, mParams] = children(der, inner);
        if (!mOid || decodeOid(der, mOid) !== MGF1_OID || !mParams) return undefined;
        const h = hashOfOid(decodeOid(der, children(der, mParams)[0]!));
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
