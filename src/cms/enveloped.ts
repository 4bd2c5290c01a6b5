/**
 * EnvelopedData (RFC 5652 §6) and AuthEnvelopedData (RFC 5083/5084, which pkijs lacks), both directions.
 *
 * The bulk bytes never go through asn1js or pkijs: on output the DER headers are written around the ciphertext
 * and handed on as a list of pieces (the MIME layer base64-encodes them straight into the output buffer); on input
 * the zero-copy BER reader finds the ciphertext (a subarray, or one joined copy for chunked `-stream`/Outlook BER).
 */
import { CMSDecryptionFailed, CMSInvalid, UnsupportedAlgorithm } from '../errors.js';
import { getCrypto, randomBytes } from '../crypto/provider.js';
import type { CertInfo } from '../certs/cert_info.js';
import { keyKind } from '../certs/cert_info.js';
import type { Identity } from '../certs/store.js';
import {
  children,
  decodeOid,
  header,
  integer,
  oid,
  readTlv,
  set,
  sortDerSet,
  stringContent,
  TAG,
  type Tlv,
} from './der.js';
import { OIDS, oidName } from './oids.js';
import {
  CIPHERS,
  decryptContent,
  encryptContent,
  isAead,
  parseContentAlgorithm,
  type ContentAlgorithm,
  type ContentCipherName,
} from './content_cipher.js';
import { buildKtri, parseKtri, unwrapKtri, type OaepHash, type ParsedKtri } from './ktri.js';
import { buildKari, parseKari, unwrapKari, type KeyAgreeOptions, type ParsedKari } from './kari.js';
import { matchesRecipient } from './recipient_id.js';

export interface EnvelopeOptions {
  cipher: ContentCipherName;
  oaep?: OaepHash;
  useSki?: boolean;
  keyAgree?: KeyAgreeOptions;
  crypto?: Crypto;
}

export interface Envelope {
  /** The DER, as pieces to be written in order (the middle one is the ciphertext, not copied). */
  pieces: Uint8Array[];
  length: number;
  authenticated: boolean;
}

/** Wraps pieces in a DER header. */
function wrap(id: number, pieces: Uint8Array[]): Uint8Array[] {
  let n = 0;
  for (const p of pieces) n += p.length;
  return [header(id, n), ...pieces];
}

/** Builds (Auth)EnvelopedData for the recipients' certificates. */
export async function buildEnvelope(content: Uint8Array, recipients: readonly CertInfo[], opts: EnvelopeOptions): Promise<Envelope> {
  const spec = CIPHERS[opts.cipher];
  if (!spec) throw new RangeError(`cipher: expected one of ${Object.keys(CIPHERS).join(', ')}`);
  const cek = randomBytes(spec.keyLength, opts.crypto);
  const ris: Uint8Array[] = [];
  let allV0 = true;
  for (const r of recipients) {
    const kind = keyKind(r);
    if (kind === 'rsa') {
      const ri = await buildKtri(r, cek, { oaep: opts.oaep, useSki: opts.useSki }, opts.crypto);
      if (opts.useSki && r.ski) allV0 = false;
      ris.push(ri);
    } else if (kind === 'ec' || kind === 'x25519' || kind === 'x448') {
      ris.push(await buildKari(r, cek, { useSki: opts.useSki, ...opts.keyAgree }, opts.crypto));
      allV0 = false;
    } else throw new UnsupportedAlgorithm(`encryption to a ${r.keyAlgorithm} key`, r.keyAlgorithm);
  }
  const aead = isAead(opts.cipher);
  const enc = await encryptContent(opts.cipher, cek, content, opts.crypto);
  cek.fill(0);
  // EncryptedContentInfo ::= SEQUENCE { contentType, contentEncryptionAlgorithm, [0] IMPLICIT OCTET STRING }
  const eci = wrap(0x30, [oid(OIDS.data), enc.algorithm, header(0x80, enc.ciphertext.length), enc.ciphertext]);
  const riSet = set(...sortDerSet(ris));
  // RFC 5652 §6.1: version 0 when every RecipientInfo is version 0, else 2. AuthEnvelopedData is always 0.
  const version = integer(aead ? 0 : allV0 ? 0 : 2);
  const body = aead ? [version, riSet, ...eci, header(0x04, enc.mac!.length), enc.mac!] : [version, riSet, ...eci];
  const ci = wrap(0x30, [oid(aead ? OIDS.authEnvelopedData : OIDS.envelopedData), ...wrap(0xa0, wrap(0x30, body))]);
  // Merge the small leading pieces so there are at most three: prefix, ciphertext, suffix.
  const idx = ci.indexOf(enc.ciphertext);
  const prefix = concatPieces(ci.slice(0, idx));
  const suffix = concatPieces(ci.slice(idx + 1));
  const pieces = suffix.length ? [prefix, enc.ciphertext, suffix] : [prefix, enc.ciphertext];
  return { pieces, length: prefix.length + enc.ciphertext.length + suffix.length, authenticated: aead };
}

function concatPieces(p: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const x of p) n += x.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const x of p) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

export type EnvelopeKind = 'enveloped' | 'authEnveloped';

interface ParsedEnvelope {
  kind: EnvelopeKind;
  recipientInfos: Tlv[];
  buf: Uint8Array;
  alg: ContentAlgorithm;
  ciphertext: Uint8Array;
  mac?: Uint8Array;
  aad?: Uint8Array;
}

/** The content type of a ContentInfo, and its [0] content element. */
export function readContentInfo(der: Uint8Array): { type: string; content: Tlv } {
  const top = readTlv(der, 0);
  if (top.cls !== 0 || top.tagNo !== TAG.SEQUENCE) throw new CMSInvalid('not a CMS ContentInfo (expected a SEQUENCE)');
  const [typeT, contentT] = children(der, top);
  if (!typeT || typeT.tagNo !== TAG.OID) throw new CMSInvalid('ContentInfo: missing contentType');
  const type = decodeOid(der, typeT);
  if (!contentT || contentT.cls !== 2 || contentT.tagNo !== 0) throw new CMSInvalid('ContentInfo: missing content');
  const inner = children(der, contentT)[0];
  if (!inner) throw new CMSInvalid('ContentInfo: empty content');
  return { type, content: inner };
}

function parseEnvelope(der: Uint8Array): ParsedEnvelope {
  const { type, content } = readContentInfo(der);
  let kind: EnvelopeKind;
  if (type === OIDS.envelopedData) kind = 'enveloped';
  else if (type === OIDS.authEnvelopedData) kind = 'authEnveloped';
  else throw new CMSInvalid(`not an encrypted message: the CMS content type is ${oidName(type)}`);
  const f = children(der, content);
  let i = 1; // version
  if (f[i] && f[i]!.cls === 2 && f[i]!.tagNo === 0) i++; // originatorInfo
  const riSetT = f[i++];
  if (!riSetT || riSetT.tagNo !== TAG.SET) throw new CMSInvalid('EnvelopedData: missing recipientInfos');
  const eciT = f[i++];
  if (!eciT || eciT.tagNo !== TAG.SEQUENCE) throw new CMSInvalid('EnvelopedData: missing encryptedContentInfo');
  const eci = children(der, eciT);
  if (!eci[1]) throw new CMSInvalid('EncryptedContentInfo: missing algorithm');
  const alg = parseContentAlgorithm(der.subarray(eci[1].start, eci[1].end));
  const ecT = eci[2];
  if (!ecT || ecT.cls !== 2 || ecT.tagNo !== 0) throw new CMSInvalid('EncryptedContentInfo: no encrypted content (detached content is not supported)');
  const ciphertext = stringContent(der, ecT);
  const parsed: ParsedEnvelope = { kind, recipientInfos: children(der, riSetT), buf: der, alg, ciphertext };
  if (kind === 'authEnveloped') {
    let t = f[i++];
    if (t && t.cls === 2 && t.tagNo === 1) {
      // authAttrs: the AAD is their DER with the SET OF tag (RFC 5083 §2.2).
      const attrs = der.subarray(t.contentStart, t.contentEnd);
      parsed.aad = new Uint8Array([...header(0x31, attrs.length), ...attrs]);
      t = f[i++];
    }
    if (!t || t.tagNo !== TAG.OCTET_STRING) throw new CMSInvalid('AuthEnvelopedData: missing mac');
    parsed.mac = stringContent(der, t);
    if (!alg.aead) throw new CMSInvalid('AuthEnvelopedData with a non-AEAD cipher');
  }
  return parsed;
}

export interface OpenedEnvelope {
  content: Uint8Array;
  kind: EnvelopeKind;
  /** The identity whose key opened it. */
  identity: Identity;
  cipher: string;
  cipherOid: string;
  /** True for AEAD content encryption (AES-GCM, ChaCha20-Poly1305). */
  authenticated: boolean;
  /** True for 3DES/RC2/DES. */
  legacy: boolean;
  keyTransport: string;
}

type Candidate =
  | { type: 'ktri'; ri: ParsedKtri; identity: Identity }
  | { type: 'kari'; ri: ParsedKari; index: number; identity: Identity };

/**
 * Opens (Auth)EnvelopedData with any of the identities: matched by recipient identifier first (issuer+serial, SKI,
 * SHA-1 of the key), then every remaining key. All failures end in one CMSDecryptionFailed (RFC 3218).
 */
export async function openEnvelope(der: Uint8Array, identities: readonly Identity[], crypto?: Crypto): Promise<OpenedEnvelope> {
  const env = parseEnvelope(der);
  getCrypto(crypto);
  const matched: Candidate[] = [];
  const fallback: Candidate[] = [];
  let unsupported: UnsupportedAlgorithm | undefined;
  for (const t of env.recipientInfos) {
    try {
      if (t.cls === 0 && t.tagNo === TAG.SEQUENCE) {
        const ri = parseKtri(env.buf, t);
        for (const identity of identities) {
          if (keyKind(identity.info) !== 'rsa') continue;
          if (await matchesRecipient(ri.rid, identity.info, crypto)) matched.push({ type: 'ktri', ri, identity });
          else fallback.push({ type: 'ktri', ri, identity });
        }
      } else if (t.cls === 2 && t.tagNo === 1) {
        const ri = parseKari(env.buf, t);
        for (const identity of identities) {
          const kind = keyKind(identity.info);
          if (kind === 'rsa') continue;
          for (let index = 0; index < ri.recipients.length; index++) {
            if (await matchesRecipient(ri.recipients[index]!.rid, identity.info, crypto)) matched.push({ type: 'kari', ri, index, identity });
          }
        }
      }
      // KEKRI, PWRI and ORI are skipped: no identity can open them.
    } catch (e) {
      if (e instanceof UnsupportedAlgorithm) unsupported ??= e;
      else if (!(e instanceof CMSInvalid)) throw new CMSInvalid(`RecipientInfo: ${e instanceof Error ? e.message : String(e)}`);
      else throw e;
    }
  }
  for (const list of [matched, fallback]) {
    const strict = list === fallback;
    for (const cand of list) {
      let content: Uint8Array;
      try {
        let cek: Uint8Array;
        if (cand.type === 'ktri') cek = await unwrapKtri(cand.ri, cand.identity.key, env.alg.keyLength, crypto, strict);
        else cek = await unwrapKari(cand.ri, cand.index, cand.identity, crypto);
        content = await decryptContent(env.alg, cek, env.ciphertext, crypto, env.mac, env.aad);
      } catch (e) {
        if (e instanceof UnsupportedAlgorithm) unsupported ??= e;
        continue;
      }
      return {
        content,
        kind: env.kind,
        identity: cand.identity,
        cipher: env.alg.name,
        cipherOid: env.alg.oid,
        authenticated: env.alg.aead,
        legacy: env.alg.legacy,
        keyTransport: cand.type === 'ktri' ? (cand.ri.params.kind === 'v15' ? 'rsaEncryption' : `rsaes-oaep-${cand.ri.params.hash.toLowerCase()}`) : 'key-agreement',
      };
    }
  }
  // A matched recipient whose algorithm we lack is worth naming: that is not a key failure.
  if (unsupported && matched.length > 0) throw unsupported;
  throw new CMSDecryptionFailed();
}
