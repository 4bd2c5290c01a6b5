/**
 * The saved store: one versioned binary format (DER), the whole of it authenticated under a password.
 *
 * ```
 * SavedStore ::= SEQUENCE {
 *   magic       UTF8String ("smime-core store"),
 *   version     INTEGER (1),
 *   encryption  AlgorithmIdentifier,   -- id-PBES2 (RFC 8018 §A.4): PBKDF2 with hmacWithSHA256 (salt 16 random
 *                                      -- bytes, iterationCount, keyLength 32), encryptionScheme id-aes256-GCM
 *                                      -- with GCMParameters { nonce: 12 random bytes, icvLen 16 } (RFC 5084)
 *   payload     OCTET STRING }         -- AES-256-GCM(StorePayload) || tag; additional data: the DER of magic,
 *                                      -- version and encryption, so the header is authenticated too
 *
 * StorePayload ::= SEQUENCE {
 *   identities    SEQUENCE OF SEQUENCE { certificate Certificate, source UTF8String,
 *                   key CHOICE { pkcs8 [0] IMPLICIT OCTET STRING,            -- PrivateKeyInfo
 *                                detached [1] IMPLICIT SEQUENCE { reference UTF8String OPTIONAL } } },
 *   certificates  SEQUENCE OF Certificate,       -- contacts and intermediates
 *   anchors       SEQUENCE OF Certificate,
 *   crls          SEQUENCE OF CertificateList,
 *   preferences   SEQUENCE OF SEQUENCE { email UTF8String, signingTime INTEGER (ms since 1970),
 *                   certificate [0] EXPLICIT Certificate OPTIONAL, capabilities [1] IMPLICIT SEQUENCE OF OID OPTIONAL },
 *   trusted       SEQUENCE OF Certificate,       -- explicit trust decisions (trustCertificate)
 *   options       UTF8String }                   -- JSON: { allowUserTrust, policy, limits, certificatePolicies }
 * ```
 *
 * Everything, not only the keys, is inside the GCM envelope: whoever can write the file but does not know the
 * password cannot add a trust anchor or a contact certificate. A wrong password and a modified file both fail GCM's
 * tag check and are indistinguishable: both are `StoreBadPassword`. What is wrong before decryption (the magic, an
 * unknown version, a truncated or malformed header, iterations above `maxPbkdf2Iterations`, checked before any KDF
 * work) is `StoreInvalid`; so is a payload that decrypts but does not parse (a bug or a foreign writer).
 */
import { StoreBadPassword, StoreInvalid, SmimeError } from '../errors.js';
import { getCrypto, randomBytes } from '../crypto/provider.js';
import { pbkdf2 } from '../crypto/kdf.js';
import { algorithmIdentifier, children, decodeOid, integer, octets, oid, readTlv, seq, tlv, withBerLimits, type Tlv } from '../lib/der.js';
import { fromUtf8, utf8 } from '../lib/bytes.js';
import type { Limits } from '../lib/limits.js';

/** The format's magic string. */
export const STORE_MAGIC = 'smime-core store';
/** The format version this code writes and reads. */
export const STORE_VERSION = 1;
/** PBKDF2 iterations when `export` is given none. */
export const DEFAULT_STORE_ITERATIONS = 600_000;

const OID_PBES2 = '1.2.840.113549.1.5.13';
const OID_PBKDF2 = '1.2.840.113549.1.5.12';
const OID_HMAC_SHA256 = '1.2.840.113549.2.9';
const OID_AES256_GCM = '2.16.840.1.101.3.4.1.46';
const SALT_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** One identity as saved: its key's PKCS#8, or nothing (detached) with the application's reference. */
export interface SavedIdentity {
  /** The certificate (DER). */
  certificate: Uint8Array;
  /** Where the identity came from ('pkcs12', 'pem', 'cryptokey', 'external'). */
  source: string;
  /** The private key (PrivateKeyInfo DER); absent: the identity is detached. */
  pkcs8?: Uint8Array;
  /** The application's reference for a detached key. */
  reference?: string;
}

/** One contact preference as saved. */
export interface SavedPreference {
  /** The correspondent's address, lower case. */
  email: string;
  /** The signingTime of the message the preference came from (kept to the millisecond). */
  signingTime: Date;
  /** The preferred encryption certificate (DER). */
  certificate?: Uint8Array;
  /** The advertised content-encryption OIDs, strongest first. */
  capabilities?: string[];
}

/** The store options kept in the file (none of the callbacks). */
export interface SavedOptions {
  /** `CertificateStoreOptions.allowUserTrust`. */
  allowUserTrust?: boolean;
  /** The resolved algorithm policy. */
  policy?: Record<string, unknown>;
  /** The resolved limits (those that are finite). */
  limits?: Record<string, number>;
  /** The initial policy inputs, when set. */
  certificatePolicies?: Record<string, unknown>;
}

/** Everything a saved store holds, as plain DER and values. */
export interface StoreSnapshot {
  /** Identities, with keys or detached, in import order. */
  identities: SavedIdentity[];
  /** Contacts and intermediates (DER). */
  certificates: Uint8Array[];
  /** Trust anchors (DER). */
  anchors: Uint8Array[];
  /** CRLs (DER). */
  crls: Uint8Array[];
  /** Contact preferences. */
  preferences: SavedPreference[];
  /** Explicitly trusted certificates (DER). */
  trusted: Uint8Array[];
  /** The store options kept. */
  options: SavedOptions;
}

const utf8String = (s: string): Uint8Array => tlv(0x0c, utf8(s));
const seqOf = (items: readonly Uint8Array[]): Uint8Array => seq(...items);

/**
 * The DER of a snapshot (StorePayload).
 *
 * @example
 * ```ts
 * const file = await sealStore(encodePayload(snapshot), password, DEFAULT_STORE_ITERATIONS);
 * ```
 */
export function encodePayload(s: StoreSnapshot): Uint8Array {
  const ids = s.identities.map((i) =>
    seq(i.certificate, utf8String(i.source), i.pkcs8 ? tlv(0x80, i.pkcs8) : tlv(0xa1, ...(i.reference !== undefined ? [utf8String(i.reference)] : []))),
  );
  const prefs = s.preferences.map((p) =>
    seq(
      utf8String(p.email),
      integer(BigInt(Math.max(0, p.signingTime.getTime()))),
      ...(p.certificate ? [tlv(0xa0, p.certificate)] : []),
      ...(p.capabilities ? [tlv(0xa1, ...p.capabilities.map((o) => oid(o)))] : []),
    ),
  );
  return seq(seqOf(ids), seqOf(s.certificates), seqOf(s.anchors), seqOf(s.crls), seqOf(prefs), seqOf(s.trusted), utf8String(JSON.stringify(s.options)));
}

function bad(msg: string): never {
  throw new StoreInvalid(`saved store: ${msg}`);
}

function elementBytes(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.slice(t.start, t.end);
}

function expectTag(t: Tlv | undefined, id: number, what: string): Tlv {
  if (!t || ((t.cls << 6) | (t.constructed ? 0x20 : 0) | t.tagNo) !== id) bad(`expected ${what}`);
  return t;
}

function readUtf8(buf: Uint8Array, t: Tlv | undefined, what: string): string {
  const e = expectTag(t, 0x0c, what);
  return fromUtf8(buf.subarray(e.contentStart, e.contentEnd));
}

function readInteger(buf: Uint8Array, t: Tlv | undefined, what: string): number {
  const e = expectTag(t, 0x02, what);
  const len = e.contentEnd - e.contentStart;
  if (len < 1 || len > 7 || (buf[e.contentStart]! & 0x80) !== 0) bad(`${what} out of range`);
  let v = 0;
  for (let i = e.contentStart; i < e.contentEnd; i++) v = v * 256 + buf[i]!;
  if (!Number.isSafeInteger(v)) bad(`${what} out of range`);
  return v;
}

function readOctets(buf: Uint8Array, t: Tlv | undefined, what: string, id = 0x04): Uint8Array {
  const e = expectTag(t, id, what);
  return buf.slice(e.contentStart, e.contentEnd);
}

function readSeqOfElements(buf: Uint8Array, t: Tlv | undefined, what: string): Uint8Array[] {
  return children(buf, expectTag(t, 0x30, what)).map((c) => elementBytes(buf, c));
}

/**
 * A StorePayload read back (malformed: StoreInvalid), within the BER limits. Certificates and CRLs are parsed by
 * the caller.
 *
 * @example
 * ```ts
 * const snapshot = decodePayload(await openStore(file, password, limits), limits);
 * ```
 */
export function decodePayload(buf: Uint8Array, limits: Pick<Limits, 'maxBerDepth' | 'maxBerElements'>): StoreSnapshot {
  return wrapMalformed(() =>
    withBerLimits({ maxDepth: limits.maxBerDepth, maxChunks: limits.maxBerElements }, () => {
      const top = readTlv(buf, 0);
      if (top.end !== buf.length) bad('trailing bytes after the payload');
      const [idsT, certsT, anchorsT, crlsT, prefsT, trustedT, optsT, extra] = children(buf, expectTag(top, 0x30, 'StorePayload'));
      if (extra) bad('unexpected element in the payload');
      const identities = children(buf, expectTag(idsT, 0x30, 'identities')).map((it): SavedIdentity => {
        const [cT, sT, kT, more] = children(buf, expectTag(it, 0x30, 'identity'));
        if (more || !cT || !kT) bad('malformed identity');
        const certificate = elementBytes(buf, expectTag(cT, 0x30, 'certificate'));
        const source = readUtf8(buf, sT, 'identity source');
        if (kT.cls === 2 && kT.tagNo === 0 && !kT.constructed) return { certificate, source, pkcs8: buf.slice(kT.contentStart, kT.contentEnd) };
        const [rT, more2] = children(buf, expectTag(kT, 0xa1, 'identity key'));
        if (more2) bad('malformed detached identity');
        return { certificate, source, ...(rT ? { reference: readUtf8(buf, rT, 'identity reference') } : {}) };
      });
      const preferences = children(buf, expectTag(prefsT, 0x30, 'preferences')).map((pt): SavedPreference => {
        const [eT, tT, ...rest] = children(buf, expectTag(pt, 0x30, 'preference'));
        const p: SavedPreference = { email: readUtf8(buf, eT, 'preference email'), signingTime: new Date(readInteger(buf, tT, 'signingTime')) };
        for (const r of rest) {
          if (r.cls === 2 && r.tagNo === 0 && r.constructed && !p.certificate && !p.capabilities) {
            const [c, more] = children(buf, r);
            if (!c || more) bad('malformed preference certificate');
            p.certificate = elementBytes(buf, expectTag(c, 0x30, 'preference certificate'));
          } else if (r.cls === 2 && r.tagNo === 1 && r.constructed && !p.capabilities) {
            p.capabilities = children(buf, r).map((o) => decodeOid(buf, expectTag(o, 0x06, 'capability')));
          } else bad('unexpected element in a preference');
        }
        return p;
      });
      let options: unknown;
      try {
        options = JSON.parse(readUtf8(buf, optsT, 'options'));
      } catch (e) {
        if (e instanceof SmimeError) throw e;
        bad('the options are not JSON');
      }
      if (typeof options !== 'object' || options === null || Array.isArray(options)) bad('the options are not an object');
      return {
        identities,
        certificates: readSeqOfElements(buf, certsT, 'certificates'),
        anchors: readSeqOfElements(buf, anchorsT, 'anchors'),
        crls: readSeqOfElements(buf, crlsT, 'crls'),
        preferences,
        trusted: readSeqOfElements(buf, trustedT, 'trusted'),
        options: options as SavedOptions,
      };
    }),
  );
}

/**
 * Runs `f`; any SmimeError other than StoreInvalid/StoreBadPassword (a CMSInvalid from the BER reader, a
 * CertificateInvalid from a certificate) becomes StoreInvalid.
 *
 * @example
 * ```ts
 * wrapMalformed(() => certInfo(der)); // StoreInvalid when der is no certificate
 * ```
 */
export function wrapMalformed<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof StoreInvalid || e instanceof StoreBadPassword) throw e;
    if (e instanceof SmimeError) throw new StoreInvalid(`saved store: ${e.message}`, { cause: e });
    throw e;
  }
}

async function deriveKey(password: string, salt: Uint8Array, iterations: number, crypto: Crypto): Promise<CryptoKey> {
  const raw = await pbkdf2('SHA-256', utf8(password), salt, iterations, 32, crypto);
  return crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

function headerDer(salt: Uint8Array, iterations: number, nonce: Uint8Array): Uint8Array {
  const kdf = algorithmIdentifier(OID_PBKDF2, seq(octets(salt), integer(iterations), integer(32), algorithmIdentifier(OID_HMAC_SHA256, Uint8Array.of(5, 0))));
  const enc = algorithmIdentifier(OID_AES256_GCM, seq(octets(nonce), integer(TAG_BYTES)));
  return new Uint8Array([...utf8String(STORE_MAGIC), ...integer(STORE_VERSION), ...algorithmIdentifier(OID_PBES2, seq(kdf, enc))]);
}

/**
 * Encrypts and authenticates a payload under `password` into a SavedStore file (fresh random salt and nonce).
 *
 * @example
 * ```ts
 * const file = await sealStore(payload, 'secret', 600_000);
 * ```
 */
export async function sealStore(payload: Uint8Array, password: string, iterations: number, crypto?: Crypto): Promise<Uint8Array> {
  const c = getCrypto(crypto);
  const salt = randomBytes(SALT_BYTES, c);
  const nonce = randomBytes(NONCE_BYTES, c);
  const header = headerDer(salt, iterations, nonce);
  const key = await deriveKey(password, salt, iterations, c);
  const ct = new Uint8Array(
    await c.subtle.encrypt({ name: 'AES-GCM', iv: nonce as Uint8Array<ArrayBuffer>, additionalData: header as Uint8Array<ArrayBuffer>, tagLength: 128 }, key, payload as Uint8Array<ArrayBuffer>),
  );
  return seq(header, octets(ct));
}

/** The header of a SavedStore, read and checked before any KDF work. */
interface SealedStore {
  header: Uint8Array;
  salt: Uint8Array;
  iterations: number;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
}

function readSealed(file: Uint8Array, limits: Pick<Limits, 'maxPbkdf2Iterations'>): SealedStore {
  return wrapMalformed(() =>
    withBerLimits({ maxDepth: 16, maxChunks: 64 }, () => {
      const top = readTlv(file, 0);
      if (top.end !== file.length) bad('trailing bytes after the file');
      const [mT, vT, aT, pT, extra] = children(file, expectTag(top, 0x30, 'SavedStore'));
      if (!mT || mT.tagNo !== 12 || readUtf8(file, mT, 'magic') !== STORE_MAGIC) bad('not a smime-core store (bad magic)');
      const version = readInteger(file, vT, 'version');
      if (version !== STORE_VERSION) bad(`version ${version} not supported (this smime-core reads version ${STORE_VERSION})`);
      if (extra) bad('unexpected element after the payload');
      const [pbes2, params] = children(file, expectTag(aT, 0x30, 'encryption'));
      if (decodeOid(file, expectTag(pbes2, 0x06, 'encryption OID')) !== OID_PBES2) bad('encryption is not PBES2');
      const [kdfT, encT, more] = children(file, expectTag(params, 0x30, 'PBES2-params'));
      if (more) bad('malformed PBES2-params');
      const [kdfOid, kdfParams] = children(file, expectTag(kdfT, 0x30, 'keyDerivationFunc'));
      if (decodeOid(file, expectTag(kdfOid, 0x06, 'KDF OID')) !== OID_PBKDF2) bad('the KDF is not PBKDF2');
      const [saltT, iterT, klT, prfT, more2] = children(file, expectTag(kdfParams, 0x30, 'PBKDF2-params'));
      if (more2) bad('malformed PBKDF2-params');
      const salt = readOctets(file, saltT, 'salt');
      if (salt.length < 8 || salt.length > 64) bad('salt length out of range');
      const iterations = readInteger(file, iterT, 'iterationCount');
      if (iterations < 1) bad('iterationCount must be positive');
      if (iterations > limits.maxPbkdf2Iterations)
        bad(`${iterations} PBKDF2 iterations, more than maxPbkdf2Iterations (${limits.maxPbkdf2Iterations})`);
      if (readInteger(file, klT, 'keyLength') !== 32) bad('keyLength must be 32');
      const [prfOid] = children(file, expectTag(prfT, 0x30, 'prf'));
      if (decodeOid(file, expectTag(prfOid, 0x06, 'prf OID')) !== OID_HMAC_SHA256) bad('the PRF is not hmacWithSHA256');
      const [encOid, gcmT, more3] = children(file, expectTag(encT, 0x30, 'encryptionScheme'));
      if (more3 || decodeOid(file, expectTag(encOid, 0x06, 'cipher OID')) !== OID_AES256_GCM) bad('the cipher is not AES-256-GCM');
      const [nonceT, icvT, more4] = children(file, expectTag(gcmT, 0x30, 'GCMParameters'));
      if (more4) bad('malformed GCMParameters');
      const nonce = readOctets(file, nonceT, 'nonce');
      if (nonce.length !== NONCE_BYTES) bad('nonce length must be 12');
      if (readInteger(file, icvT, 'icvLen') !== TAG_BYTES) bad('icvLen must be 16');
      const ciphertext = readOctets(file, pT, 'payload');
      if (ciphertext.length < TAG_BYTES) bad('payload shorter than its tag');
      return { header: file.slice(mT.start, aT.end), salt, iterations, nonce, ciphertext };
    }),
  );
}

/**
 * Opens a SavedStore file: header checks and the iteration limit first (StoreInvalid), then PBKDF2 and AES-256-GCM
 * (StoreBadPassword when the tag does not verify). Returns the payload's DER.
 *
 * @example
 * ```ts
 * const payload = await openStore(file, 'secret', { maxPbkdf2Iterations: 2_000_000 });
 * ```
 */
export async function openStore(file: Uint8Array, password: string, limits: Pick<Limits, 'maxPbkdf2Iterations'>, crypto?: Crypto): Promise<Uint8Array> {
  const s = readSealed(file, limits);
  const c = getCrypto(crypto);
  const key = await deriveKey(password, s.salt, s.iterations, c);
  try {
    return new Uint8Array(
      await c.subtle.decrypt(
        { name: 'AES-GCM', iv: s.nonce as Uint8Array<ArrayBuffer>, additionalData: s.header as Uint8Array<ArrayBuffer>, tagLength: 128 },
        key,
        s.ciphertext as Uint8Array<ArrayBuffer>,
      ),
    );
  } catch {
    throw new StoreBadPassword('saved store: wrong password, or the file was modified (its authentication failed)');
  }
}
