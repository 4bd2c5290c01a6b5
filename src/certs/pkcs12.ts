/**
 * PKCS#12 (RFC 7292) reader: private keys (as PKCS#8) and X.509 certificates, with their friendlyName and
 * localKeyId attributes.
 *
 * - DER or BER (indefinite lengths and constructed OCTET STRINGs, as written by Windows and NSS).
 * - Integrity: the password MAC (HMAC-SHA-1/224/256/384/512 keyed with the RFC 7292 Appendix B KDF, ID=3) and
 *   PBMAC1 (RFC 9579). A MAC mismatch → Pkcs12BadPassword. Public-key integrity mode (signedData) is not read.
 * - Privacy: `data` and `encryptedData` contents. Encryption schemes: PBES2 (PBKDF2 with HMAC-SHA-1/224/256/384/512;
 *   AES-128/192/256-CBC, DES-EDE3-CBC, RC2-CBC, DES-CBC) and the PKCS#12 PBEs pbeWithSHAAnd3-KeyTripleDES-CBC,
 *   …2-KeyTripleDES-CBC, …128BitRC2-CBC and …40BitRC2-CBC. RC4 and PBES1 are not read (UnsupportedAlgorithm).
 * - Bags: keyBag, pkcs8ShroudedKeyBag, certBag (x509Certificate) and nested safeContentsBag; CRL, secret and
 *   unknown bags are skipped.
 *
 * Passwords: the MAC and the PKCS#12 PBEs take the password as a BMPString (UTF-16BE plus a 2-byte terminator);
 * PBES2 takes its UTF-8 bytes. An empty password is tried both as the empty BMPString (the terminator alone) and as
 * no bytes at all, as OpenSSL does; a non-ASCII password is also tried in the pre-1.1.0 OpenSSL encoding (each UTF-8
 * byte taken as one character). No error message ever contains the password.
 *
 * Work limits (`Limits`): every PBKDF2 and PKCS#12 KDF run (the derivations are in crypto/kdf.ts) is checked here
 * before it starts, against `maxPbkdf2Iterations` (one run) and `maxPkcs12KdfWork` (iterations × output blocks of
 * every run for one file, the MAC, each encrypted safe and shrouded key bag and each password tried), so a file with
 * one huge iteration count or with thousands of encrypted bags is refused (Pkcs12LimitExceeded) before it costs
 * seconds. Until the
 * password is known to be right (by the MAC, or without one by the first decryption to end) only SPECULATIVE_RUNS
 * decryptions start, so a wrong password costs the MAC or two decryptions, however many bags the file holds.
 *
 * The password-based decryption (PKCS#12 PBEs, PBES2) is in pkcs12_pbe.ts, the OIDs and small BER readers it shares
 * with this file in pkcs12_syntax.ts, HMAC verification in crypto/digest.ts and AES-CBC in crypto/aes_cbc.ts.
 *
 * Errors: wrong password → Pkcs12BadPassword; malformed structure → Pkcs12Invalid; too much work →
 * Pkcs12LimitExceeded naming the limit; an unknown algorithm → UnsupportedAlgorithm naming its OID. Bad arguments
 * (not a Uint8Array / not a string) → TypeError.
 */
import { CMSInvalid, CMSLimitExceeded, Pkcs12BadPassword, Pkcs12Invalid, Pkcs12LimitExceeded, UnsupportedAlgorithm } from '../errors.js';
import { DEFAULT_LIMITS, type Limits } from '../lib/limits.js';
import { CONTEXT, TAG, UNIVERSAL, children, decodeOid, readTlv, stringContent, type Tlv } from '../lib/der.js';
import { getCrypto } from '../crypto/provider.js';
import { digestAlgorithmByOid } from '../crypto/algorithms.js';
import { hmacVerify } from '../crypto/digest.js';
import { KdfAborted, pbkdf2, pkcs12Kdf } from '../crypto/kdf.js';
import { utf8 } from '../lib/bytes.js';
import { BadDecrypt, decryptPasswordBased, HASHES, hmacInfoOf, pbkdf2Params, type HashInfo, type Password, type Pbkdf2Params } from './pkcs12_pbe.js';
import { algorithmIdentifier, expectSeq, invalid, named, octetString, OID, readInt, readWhole } from './pkcs12_syntax.js';

/** A private key read from a PKCS#12 file, with its bag attributes. */
export interface Pkcs12Key {
  /** The private key as a PrivateKeyInfo (PKCS#8), decrypted: the bytes as stored in the file (DER in practice). */
  pkcs8: Uint8Array;
  localKeyId?: Uint8Array;
  friendlyName?: string;
}

/** A certificate read from a PKCS#12 file, with its bag attributes. */
export interface Pkcs12Cert {
  /** The certificate, DER. */
  der: Uint8Array;
  localKeyId?: Uint8Array;
  friendlyName?: string;
}

/** What a PKCS#12 file holds: its keys and certificates, in file order. */
export interface Pkcs12Contents {
  keys: Pkcs12Key[];
  certs: Pkcs12Cert[];
}

/** Nesting limit for safeContentsBag. */
const MAX_BAG_NESTING = 8;

/**
 * Decryptions (encrypted safes, shrouded key bags) started before the password is known to be right (while the MAC
 * is checked, or without a MAC before the first decryption ends): enough for the usual file (one encrypted
 * certificate safe and one key bag), and all a wrong password can cost on top of the MAC, however many bags.
 */
const SPECULATIVE_RUNS = 2;

/** The limits a PKCS#12 read obeys. */
export type Pkcs12Limits = Pick<Limits, 'maxInputBytes' | 'maxPbkdf2Iterations' | 'maxPkcs12KdfWork'>;

/** The KDF work of one file: each run is checked (and counted) before it starts. */
class KdfBudget {
  spent = 0;
  constructor(readonly limits: Pkcs12Limits) {}

  /** Refuses an iteration count below 1 (Pkcs12Invalid) or above `maxPbkdf2Iterations` (Pkcs12LimitExceeded). */
  checkIterations(n: number, what: string): void {
    if (n < 1) invalid(`${what} iteration count must be at least 1`);
    const max = this.limits.maxPbkdf2Iterations;
    if (n > max) {
      throw new Pkcs12LimitExceeded(`PKCS#12: ${what} iteration count ${n} is above the limit of ${max}`, { limit: 'maxPbkdf2Iterations' });
    }
  }

  /** Spends one run of `iterations` × `blocks`, or throws Pkcs12LimitExceeded when the file's total would pass the limit. */
  take(iterations: number, blocks: number, what: string): void {
    this.checkIterations(iterations, what);
    const max = this.limits.maxPkcs12KdfWork;
    const cost = iterations * blocks;
    if (this.spent + cost > max) {
      throw new Pkcs12LimitExceeded(`PKCS#12: the key derivations of this file need more than ${max} iterations in all`, {
        limit: 'maxPkcs12KdfWork',
      });
    }
    this.spent += cost;
  }
}

/** The MacData digest (RFC 7292 §4) by OID. */
function digestInfoOf(oid: string): HashInfo | undefined {
  const d = digestAlgorithmByOid(oid);
  return d && d.name !== 'MD5' ? HASHES[d.name] : undefined;
}

function bmpString(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 2 + 2);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[2 * i] = c >>> 8;
    out[2 * i + 1] = c & 0xff;
  }
  return out;
}

function passwordCandidates(password: string): Password[] {
  const u = utf8(password);
  if (password === '') return [{ bmp: Uint8Array.of(0, 0), utf8: u }, { bmp: new Uint8Array(0), utf8: u }];
  const out: Password[] = [{ bmp: bmpString(password), utf8: u }];
  // OpenSSL before 1.1.0 turned each byte of the (UTF-8) password into one BMP character.
  if (/[^\x00-\x7f]/.test(password)) {
    let s = '';
    for (const b of u) s += String.fromCharCode(b);
    out.push({ bmp: bmpString(s), utf8: u });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Entry point

/**
 * Reads a PKCS#12 (.p12/.pfx) file. `der` may be DER or BER. Verifies the MAC when there is one, decrypts every
 * key and certificate bag, and returns them in file order. `limits` bounds the input size and the key-derivation
 * work (see `Limits`); `der` is only read, never written.
 */
export async function parsePkcs12(
  der: Uint8Array,
  password: string,
  crypto?: Crypto,
  limits: Pkcs12Limits = DEFAULT_LIMITS,
): Promise<Pkcs12Contents> {
  if (!(der instanceof Uint8Array)) throw new TypeError('parsePkcs12: der must be a Uint8Array');
  if (typeof password !== 'string') throw new TypeError('parsePkcs12: password must be a string');
  if (der.length > limits.maxInputBytes) {
    throw new Pkcs12LimitExceeded(`PKCS#12: the file is larger than ${limits.maxInputBytes} bytes`, { limit: 'maxInputBytes' });
  }
  const c = getCrypto(crypto);
  // A plain view: on a Node Buffer `slice` would return a view into the caller's (maybe pooled) memory, not a copy.
  const input = new Uint8Array(der.buffer, der.byteOffset, der.byteLength);
  try {
    return await parse(input, password, c, new KdfBudget(limits));
  } catch (e) {
    throw mapError(e);
  }
}

function mapError(e: unknown): Error {
  if (e instanceof Pkcs12BadPassword || e instanceof Pkcs12Invalid || e instanceof Pkcs12LimitExceeded || e instanceof UnsupportedAlgorithm) {
    return e;
  }
  if (e instanceof BadDecrypt) return new Pkcs12BadPassword();
  if (e instanceof CMSInvalid || e instanceof CMSLimitExceeded) {
    return new Pkcs12Invalid(`PKCS#12: ${e.message}`, { cause: e });
  }
  const msg = e instanceof Error ? e.message : 'parse error';
  return new Pkcs12Invalid(`PKCS#12: ${msg}`, { cause: e });
}

/**
 * Holds decryptions back once SPECULATIVE_RUNS have started, until the password is known to be right: by the MAC
 * when there is one, else by the first decryption that ends (its padding is the only check there is). A wrong
 * password thus costs the MAC or the first decryptions, however many encrypted bags the file has.
 */
class Gate {
  free = SPECULATIVE_RUNS;
  /** The first error of a decryption, when that settled the gate. */
  failure: unknown;
  /** Resolves to true once the password is known to be right, false once known to be wrong. */
  readonly open: Promise<boolean>;
  #settle!: (ok: boolean) => void;
  /** `byDecryption`: settled by the first decryption to end (files without a MAC). */
  constructor(readonly byDecryption: boolean) {
    this.open = new Promise<boolean>((r) => (this.#settle = r));
  }
  settle(ok: boolean): void {
    this.#settle(ok);
  }
}

interface Ctx {
  crypto: Crypto;
  pw: Password;
  /** True when a MAC vouched for the password (so a structure error in decrypted content is a real error). */
  macVerified: boolean;
  /** The file's KDF work, shared by every run. */
  budget: KdfBudget;
  /** Set when the result is no longer wanted: the KDF loops stop. */
  abort?: { readonly aborted: boolean };
  gate?: Gate;
}

/**
 * Before each KDF run (one per decryption): the iteration count against `maxPbkdf2Iterations`, then the gate, then
 * the run's share of `maxPkcs12KdfWork` (so a run the gate drops spends nothing).
 */
async function beforeKdf(ctx: Ctx, iterations: number, blocks: number, what: string): Promise<void> {
  ctx.budget.checkIterations(iterations, what);
  const g = ctx.gate;
  if (g) {
    if (g.free > 0) g.free--;
    else if (!(await g.open)) throw new KdfAborted();
  }
  if (ctx.abort?.aborted) throw new KdfAborted();
  ctx.budget.take(iterations, blocks, what);
}

/**
 * The PFX (RFC 7292 §4): its parts (version, authSafe, the optional macData) and the authSafe's content, which must
 * be `data` (password integrity; `signedData`, public-key integrity, is not read).
 */
function readPfx(der: Uint8Array): { parts: Tlv[]; authSafeBytes: Uint8Array } {
  // PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe ContentInfo, macData MacData OPTIONAL }
  const pfx = readTlv(der, 0);
  if (pfx.cls !== UNIVERSAL || pfx.tagNo !== TAG.SEQUENCE || !pfx.constructed) invalid('not a PFX (expected a SEQUENCE)');
  const parts = children(der, pfx);
  if (parts.length < 2 || parts.length > 3) invalid('a PFX has version, authSafe and an optional macData');
  const version = readInt(der, parts[0]!, 'version');
  if (version !== 3) invalid(`unsupported PFX version ${version}`);
  const authSafe = contentInfo(der, parts[1]!);
  if (authSafe.type !== OID.data) throw new UnsupportedAlgorithm(named('PKCS#12 integrity mode', authSafe.type), authSafe.type);
  if (!authSafe.content) invalid('authSafe has no content');
  return { parts, authSafeBytes: octetString(der, authSafe.content, 'authSafe content') };
}

async function parse(der: Uint8Array, password: string, crypto: Crypto, budget: KdfBudget): Promise<Pkcs12Contents> {
  const { parts, authSafeBytes } = readPfx(der);

  const candidates = passwordCandidates(password);
  if (parts[2]) {
    // The MAC's parameters (and its iteration count) are checked before any key derivation starts.
    const mac = readMacData(der, parts[2], budget);
    // Decrypt with the first password candidate while the MAC is checked: both are chains of thousands of digests,
    // and this halves the wait in the usual case. Only SPECULATIVE_RUNS decryptions start before the MAC is known;
    // if the MAC says otherwise the speculative work is aborted.
    const first = candidates[0]!;
    const abort = { aborted: false };
    const gate = new Gate(false);
    const speculative = readAuthenticatedSafe(authSafeBytes, { crypto, pw: first, macVerified: true, budget, abort, gate }).then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    let pw: Password | undefined;
    try {
      pw = await verifyMac(mac, authSafeBytes, candidates, crypto, budget);
    } finally {
      gate.settle(pw === first);
      if (pw !== first) {
        abort.aborted = true;
        await speculative;
      }
    }
    if (!pw) throw new Pkcs12BadPassword();
    if (pw === first) {
      const r = await speculative;
      if (r.ok) return r.value;
      throw r.error;
    }
    return readAuthenticatedSafe(authSafeBytes, { crypto, pw, macVerified: true, budget });
  }
  // No MAC: the only check of the password is the decryption itself.
  let last: unknown;
  for (const pw of candidates) {
    const gate = new Gate(true);
    try {
      return await readAuthenticatedSafe(authSafeBytes, { crypto, pw, macVerified: false, budget, gate });
    } catch (e0) {
      // A decryption held back by the gate says KdfAborted; the reason is the failure that closed the gate.
      const e = e0 instanceof KdfAborted ? (gate.failure ?? new BadDecrypt()) : e0;
      if (!(e instanceof BadDecrypt || e instanceof Pkcs12BadPassword)) throw e;
      last = e;
    }
  }
  throw last;
}

// ---------------------------------------------------------------------------------------------------------------
// MAC

/** A MacData, read and checked (iteration count included) before any key derivation. */
type MacParams =
  | { kind: 'pkcs12'; hash: HashInfo; salt: Uint8Array; iterations: number; expected: Uint8Array }
  | { kind: 'pbmac1'; hash: HashInfo; pb: Pbkdf2Params & { keyLength: number }; expected: Uint8Array };

function readMacData(der: Uint8Array, macTlv: Tlv, budget: KdfBudget): MacParams {
  // MacData ::= SEQUENCE { mac DigestInfo, macSalt OCTET STRING, iterations INTEGER DEFAULT 1 }
  const m = expectSeq(der, macTlv, 'macData');
  if (m.length < 2 || m.length > 3) invalid('malformed macData');
  const digestInfo = expectSeq(der, m[0]!, 'macData DigestInfo');
  if (digestInfo.length !== 2) invalid('malformed macData DigestInfo');
  const alg = algorithmIdentifier(der, digestInfo[0]!, 'MAC algorithm');
  const expected = octetString(der, digestInfo[1]!, 'MAC value');

  if (alg.oid === OID.pbmac1) return readPbmac1(der, alg.params, expected, budget);

  const hash = digestInfoOf(alg.oid);
  if (!hash) throw new UnsupportedAlgorithm(named('PKCS#12 MAC digest', alg.oid), alg.oid);
  const salt = octetString(der, m[1]!, 'macSalt');
  const iterations = m[2] ? readInt(der, m[2], 'MAC iterations') : 1;
  budget.checkIterations(iterations, 'MAC');
  if (expected.length !== hash.u) invalid(`the ${hash.name} MAC value must be ${hash.u} bytes`);
  return { kind: 'pkcs12', hash, salt, iterations, expected };
}

/** RFC 9579 PBMAC1: HMAC keyed by PBKDF2 over the UTF-8 password (macSalt and iterations of MacData are unused). */
function readPbmac1(der: Uint8Array, params: Tlv | undefined, expected: Uint8Array, budget: KdfBudget): MacParams {
  // PBMAC1-params ::= SEQUENCE { keyDerivationFunc AlgorithmIdentifier, messageAuthScheme AlgorithmIdentifier }
  if (!params) invalid('PBMAC1 without parameters');
  const p = expectSeq(der, params, 'PBMAC1 parameters');
  if (p.length !== 2) invalid('malformed PBMAC1 parameters');
  const kdf = algorithmIdentifier(der, p[0]!, 'PBMAC1 key derivation');
  const mac = algorithmIdentifier(der, p[1]!, 'PBMAC1 MAC');
  const hash = hmacInfoOf(mac.oid);
  if (!hash) throw new UnsupportedAlgorithm(named('PBMAC1 MAC', mac.oid), mac.oid);
  if (kdf.oid !== OID.pbkdf2) throw new UnsupportedAlgorithm(named('PBMAC1 key derivation', kdf.oid), kdf.oid);
  const pb = pbkdf2Params(der, kdf.params);
  if (pb.keyLength === undefined) invalid('PBMAC1: PBKDF2 keyLength is required');
  budget.checkIterations(pb.iterations, 'PBMAC1');
  if (expected.length !== hash.u) invalid(`the ${hash.name} MAC value must be ${hash.u} bytes`);
  return { kind: 'pbmac1', hash, pb: { ...pb, keyLength: pb.keyLength }, expected };
}

/** The password candidate the MAC accepts, if any. */
async function verifyMac(
  mac: MacParams,
  content: Uint8Array,
  candidates: Password[],
  crypto: Crypto,
  budget: KdfBudget,
): Promise<Password | undefined> {
  const { hash, expected } = mac;
  if (mac.kind === 'pkcs12') {
    const kdf = { maxIterations: budget.limits.maxPbkdf2Iterations };
    const ok = await Promise.all(
      candidates.map(async (pw) => {
        budget.take(mac.iterations, 1, 'MAC');
        const key = await pkcs12Kdf(hash.name, pw.bmp, mac.salt, 3, mac.iterations, hash.u, kdf);
        return hmacVerify(hash.name, key, content, expected, crypto);
      }),
    );
    return candidates[ok.indexOf(true)];
  }
  const { pb } = mac;
  const tried = new Set<string>();
  for (const pw of candidates) {
    const k = Array.from(pw.utf8).join(',');
    if (tried.has(k)) continue;
    tried.add(k);
    budget.take(pb.iterations, Math.ceil(pb.keyLength / pb.prf.u), 'PBMAC1');
    const key = await pbkdf2(pb.prf.name, pw.utf8, pb.salt, pb.iterations, pb.keyLength, crypto);
    if (await hmacVerify(hash.name, key, content, expected, crypto)) return pw;
  }
  return undefined;
}

/**
 * Decrypts `data` with the password-based scheme `alg` and returns what `shape` (synchronous, no decryption of its
 * own) makes of the plaintext. Bad padding: BadDecrypt; without a MAC, a plaintext of the wrong shape too. Without a MAC,
 * the first decryption to end opens the gate (or closes it, with its error): only once the shape is right, since a
 * wrong password passes the padding check about once in 256 tries and must not open the gate to every other bag.
 */
async function pbeDecrypt<T>(der: Uint8Array, algTlv: Tlv, data: Uint8Array, ctx: Ctx, shape: (plain: Uint8Array) => T): Promise<T> {
  const g = ctx.gate?.byDecryption ? ctx.gate : undefined;
  try {
    const plain = await decryptPasswordBased(der, algTlv, data, {
      crypto: ctx.crypto,
      pw: ctx.pw,
      beforeKdf: (iterations, blocks, what) => beforeKdf(ctx, iterations, blocks, what),
      kdf: { maxIterations: ctx.budget.limits.maxPbkdf2Iterations, signal: ctx.abort },
    });
    const shaped = await decryptedStructure(ctx, () => shape(plain));
    g?.settle(true);
    return shaped;
  } catch (e) {
    if (g && !(e instanceof KdfAborted)) {
      g.failure ??= e;
      g.settle(false);
    }
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// AuthenticatedSafe, SafeContents, SafeBags

async function readAuthenticatedSafe(buf: Uint8Array, ctx: Ctx): Promise<Pkcs12Contents> {
  // AuthenticatedSafe ::= SEQUENCE OF ContentInfo
  const items = expectSeq(buf, readWhole(buf, 'AuthenticatedSafe'), 'AuthenticatedSafe');
  const results = await Promise.all(
    items.map(async (item): Promise<Pkcs12Contents> => {
      const ci = contentInfo(buf, item);
      if (ci.type === OID.data) {
        if (!ci.content) return { keys: [], certs: [] };
        return readSafeContents(octetString(buf, ci.content, 'data content'), ctx, 0);
      }
      if (ci.type === OID.encryptedData) {
        if (!ci.content) invalid('encryptedData without content');
        return readEncryptedData(buf, ci.content, ctx);
      }
      throw new UnsupportedAlgorithm(named('PKCS#12 content type', ci.type), ci.type);
    }),
  );
  return merge(results);
}

async function readEncryptedData(buf: Uint8Array, t: Tlv, ctx: Ctx): Promise<Pkcs12Contents> {
  // EncryptedData ::= SEQUENCE { version INTEGER, encryptedContentInfo EncryptedContentInfo,
  //   unprotectedAttrs [1] IMPLICIT UnprotectedAttributes OPTIONAL }
  // EncryptedContentInfo ::= SEQUENCE { contentType OID, contentEncryptionAlgorithm AlgorithmIdentifier,
  //   encryptedContent [0] IMPLICIT OCTET STRING OPTIONAL }
  const ed = expectSeq(buf, t, 'EncryptedData');
  if (ed.length < 2) invalid('malformed EncryptedData');
  readInt(buf, ed[0]!, 'EncryptedData version');
  const eci = expectSeq(buf, ed[1]!, 'EncryptedContentInfo');
  if (eci.length < 2 || eci.length > 3) invalid('malformed EncryptedContentInfo');
  const type = decodeOid(buf, eci[0]!);
  if (type !== OID.data) invalid(`encrypted content type ${type} is not data`);
  const ec = eci[2];
  if (!ec) return { keys: [], certs: [] };
  if (ec.cls !== CONTEXT || ec.tagNo !== 0) invalid('malformed encryptedContent');
  const data = stringContent(buf, ec);
  const plain = await pbeDecrypt(buf, eci[1]!, data, ctx, safeContentsShape);
  return decryptedStructure(ctx, () => readSafeContents(plain, ctx, 0));
}

/**
 * Runs `f` over freshly decrypted bytes. Without a MAC, a structure error there means a wrong password (the padding
 * check passes by chance about once in 256 tries), so it becomes a bad password.
 */
async function decryptedStructure<T>(ctx: Ctx, f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (!ctx.macVerified && (e instanceof CMSInvalid || e instanceof CMSLimitExceeded || e instanceof Pkcs12Invalid)) {
      throw new BadDecrypt();
    }
    throw e;
  }
}

async function readSafeContents(buf: Uint8Array, ctx: Ctx, depth: number): Promise<Pkcs12Contents> {
  if (depth > MAX_BAG_NESTING) invalid('safeContentsBag nested too deeply');
  // SafeContents ::= SEQUENCE OF SafeBag
  const bags = expectSeq(buf, readWhole(buf, 'SafeContents'), 'SafeContents');
  const results = await Promise.all(bags.map((b) => readSafeBag(buf, b, ctx, depth)));
  return merge(results);
}

async function readSafeBag(buf: Uint8Array, t: Tlv, ctx: Ctx, depth: number): Promise<Pkcs12Contents> {
  // SafeBag ::= SEQUENCE { bagId OID, bagValue [0] EXPLICIT ANY, bagAttributes SET OF PKCS12Attribute OPTIONAL }
  const parts = expectSeq(buf, t, 'SafeBag');
  if (parts.length < 2 || parts.length > 3) invalid('malformed SafeBag');
  const bagId = decodeOid(buf, parts[0]!);
  const wrapper = parts[1]!;
  if (wrapper.cls !== CONTEXT || wrapper.tagNo !== 0 || !wrapper.constructed) invalid('malformed SafeBag value');
  const inner = children(buf, wrapper);
  if (inner.length !== 1) invalid('malformed SafeBag value');
  const value = inner[0]!;
  const attrs = parts[2] ? readAttributes(buf, parts[2]) : {};

  switch (bagId) {
    case OID.keyBag: {
      const pkcs8 = checkPrivateKeyInfo(buf, value);
      return { keys: [{ pkcs8, ...attrs }], certs: [] };
    }
    case OID.pkcs8ShroudedKeyBag: {
      // EncryptedPrivateKeyInfo ::= SEQUENCE { encryptionAlgorithm AlgorithmIdentifier, encryptedData OCTET STRING }
      const epki = expectSeq(buf, value, 'EncryptedPrivateKeyInfo');
      if (epki.length !== 2) invalid('malformed EncryptedPrivateKeyInfo');
      const enc = octetString(buf, epki[1]!, 'encrypted private key');
      const pkcs8 = await pbeDecrypt(buf, epki[0]!, enc, ctx, (plain) => checkPrivateKeyInfo(plain, readWhole(plain, 'PrivateKeyInfo')));
      return { keys: [{ pkcs8, ...attrs }], certs: [] };
    }
    case OID.certBag: {
      // CertBag ::= SEQUENCE { certId OID, certValue [0] EXPLICIT OCTET STRING }
      const cb = expectSeq(buf, value, 'CertBag');
      if (cb.length !== 2) invalid('malformed CertBag');
      const certId = decodeOid(buf, cb[0]!);
      if (certId !== OID.x509Certificate) return { keys: [], certs: [] }; // SDSI and other certificate types
      const w = cb[1]!;
      if (w.cls !== CONTEXT || w.tagNo !== 0 || !w.constructed) invalid('malformed CertBag value');
      const cv = children(buf, w);
      if (cv.length !== 1) invalid('malformed CertBag value');
      const der = octetString(buf, cv[0]!, 'certificate');
      const top = readWhole(der, 'certificate');
      if (top.cls !== UNIVERSAL || top.tagNo !== TAG.SEQUENCE || !top.constructed) invalid('a certificate is not a SEQUENCE');
      return { keys: [], certs: [{ der: der.slice(), ...attrs }] };
    }
    case OID.safeContentsBag:
      return readSafeContents(buf.subarray(value.start, value.end), ctx, depth + 1);
    default:
      // crlBag, secretBag and unknown bags are skipped.
      return { keys: [], certs: [] };
  }
}

/**
 * The outer shape of a decrypted SafeContents: one SEQUENCE of SafeBags, each a SEQUENCE that starts with an OID.
 * Random bytes (a wrong password whose padding passed) have it about once in 2^24 tries or less.
 */
function safeContentsShape(buf: Uint8Array): Uint8Array {
  for (const bag of expectSeq(buf, readWhole(buf, 'SafeContents'), 'SafeContents')) {
    const first = expectSeq(buf, bag, 'SafeBag')[0];
    if (!first || first.cls !== UNIVERSAL || first.tagNo !== TAG.OID) invalid('malformed SafeBag');
  }
  return buf;
}

/** A PrivateKeyInfo / OneAsymmetricKey: a SEQUENCE starting with an INTEGER version. Returns a copy of its bytes. */
function checkPrivateKeyInfo(buf: Uint8Array, t: Tlv): Uint8Array {
  const p = expectSeq(buf, t, 'PrivateKeyInfo');
  if (p.length < 3) invalid('malformed PrivateKeyInfo');
  const v = readInt(buf, p[0]!, 'PrivateKeyInfo version');
  if (v > 1) invalid('unknown PrivateKeyInfo version');
  expectSeq(buf, p[1]!, 'PrivateKeyInfo algorithm');
  return buf.slice(t.start, t.end);
}

function readAttributes(buf: Uint8Array, t: Tlv): { localKeyId?: Uint8Array; friendlyName?: string } {
  if (t.cls !== UNIVERSAL || t.tagNo !== TAG.SET || !t.constructed) invalid('malformed bag attributes');
  const out: { localKeyId?: Uint8Array; friendlyName?: string } = {};
  for (const a of children(buf, t)) {
    // PKCS12Attribute ::= SEQUENCE { attrId OID, attrValues SET OF ANY }
    const parts = expectSeq(buf, a, 'bag attribute');
    if (parts.length !== 2) invalid('malformed bag attribute');
    const id = decodeOid(buf, parts[0]!);
    const values = parts[1]!;
    if (values.cls !== UNIVERSAL || values.tagNo !== TAG.SET || !values.constructed) invalid('malformed bag attribute values');
    const first = children(buf, values)[0];
    if (!first) continue;
    if (id === OID.localKeyId && out.localKeyId === undefined) {
      if (first.cls === UNIVERSAL && first.tagNo === TAG.OCTET_STRING) out.localKeyId = stringContent(buf, first).slice();
    } else if (id === OID.friendlyName && out.friendlyName === undefined) {
      if (first.cls === UNIVERSAL && first.tagNo === 30 && !first.constructed) {
        out.friendlyName = decodeBmp(buf.subarray(first.contentStart, first.contentEnd));
      }
    }
  }
  return out;
}

function decodeBmp(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i + 1 < b.length; i += 2) s += String.fromCharCode((b[i]! << 8) | b[i + 1]!);
  return s.replace(/\u0000+$/, '');
}

function merge(parts: Pkcs12Contents[]): Pkcs12Contents {
  const out: Pkcs12Contents = { keys: [], certs: [] };
  for (const p of parts) {
    out.keys.push(...p.keys);
    out.certs.push(...p.certs);
  }
  return out;
}

function contentInfo(buf: Uint8Array, t: Tlv): { type: string; content?: Tlv } {
  // ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT ANY OPTIONAL }
  const p = expectSeq(buf, t, 'ContentInfo');
  if (p.length < 1 || p.length > 2) invalid('malformed ContentInfo');
  const type = decodeOid(buf, p[0]!);
  if (!p[1]) return { type };
  const w = p[1];
  if (w.cls !== CONTEXT || w.tagNo !== 0 || !w.constructed) invalid('malformed ContentInfo content');
  const inner = children(buf, w);
  if (inner.length !== 1) invalid('malformed ContentInfo content');
  return { type, content: inner[0]! };
}

// ---------------------------------------------------------------------------------------------------------------
// Outline without the password

/** What a PKCS#12 file shows without its password: its safes, the bags readable without it, whether it has a MAC. */
export interface Pkcs12Outline {
  /** The ContentInfos of the AuthenticatedSafe (OpenSSL writes two: the certificates encrypted, the key in clear). */
  safes: number;
  /** How many of them are encrypted (their bags are counted only with the password). */
  encryptedSafes: number;
  /** The bags readable without the password, by type ('pkcs8ShroudedKeyBag', 'certBag', …), in file order. */
  bags: string[];
  /** The file has a MAC (password integrity). */
  mac: boolean;
}

const BAG_NAMES: Record<string, string> = {
  [OID.keyBag]: 'keyBag',
  [OID.pkcs8ShroudedKeyBag]: 'pkcs8ShroudedKeyBag',
  [OID.certBag]: 'certBag',
  '1.2.840.113549.1.12.10.1.4': 'crlBag',
  '1.2.840.113549.1.12.10.1.5': 'secretBag',
  [OID.safeContentsBag]: 'safeContentsBag',
};

/** The bag types of a SafeContents, nested safeContentsBags included (bounded by MAX_BAG_NESTING and `max`). */
function outlineSafeContents(buf: Uint8Array, depth: number, out: string[], max: number): void {
  if (depth > MAX_BAG_NESTING) invalid('safeContentsBag nested too deeply');
  for (const b of expectSeq(buf, readWhole(buf, 'SafeContents'), 'SafeContents')) {
    if (out.length >= max) invalid(`more than ${max} bags`);
    const parts = expectSeq(buf, b, 'SafeBag');
    if (parts.length < 2 || parts.length > 3) invalid('malformed SafeBag');
    const bagId = decodeOid(buf, parts[0]!);
    out.push(BAG_NAMES[bagId] ?? bagId);
    if (bagId === OID.safeContentsBag) {
      const value = children(buf, parts[1]!)[0];
      if (!value) invalid('malformed SafeBag value');
      outlineSafeContents(buf.subarray(value.start, value.end), depth + 1, out, max);
    }
  }
}

/**
 * The structure of a PKCS#12 file read without its password: how many safes, how many encrypted, the types of the
 * bags that are not encrypted, whether there is a MAC. No key derivation runs. Malformed input is `Pkcs12Invalid`.
 */
export function pkcs12Outline(der: Uint8Array, limits: Pick<Limits, 'maxInputBytes' | 'maxRecipientInfos'> = DEFAULT_LIMITS): Pkcs12Outline {
  if (der.length > limits.maxInputBytes) {
    throw new Pkcs12LimitExceeded(`PKCS#12: the file is larger than ${limits.maxInputBytes} bytes`, { limit: 'maxInputBytes' });
  }
  try {
    const { parts, authSafeBytes: buf } = readPfx(der);
    const items = expectSeq(buf, readWhole(buf, 'AuthenticatedSafe'), 'AuthenticatedSafe');
    const out: Pkcs12Outline = { safes: items.length, encryptedSafes: 0, bags: [], mac: parts[2] !== undefined };
    // The bag count is bounded like a message's RecipientInfos: a file is a handful of bags.
    const max = Math.max(limits.maxRecipientInfos, 64);
    for (const item of items) {
      const ci = contentInfo(buf, item);
      if (ci.type === OID.data) {
        if (ci.content) outlineSafeContents(octetString(buf, ci.content, 'data content'), 0, out.bags, max);
      } else out.encryptedSafes++;
    }
    return out;
  } catch (e) {
    throw mapError(e);
  }
}
