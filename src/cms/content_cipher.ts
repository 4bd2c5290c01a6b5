/**
 * Content-encryption algorithms: AES-CBC and AES-GCM through WebCrypto, ChaCha20-Poly1305 through @noble/ciphers
 * (WebCrypto has none), and the legacy 3DES and RC2 (decryption only) through src/crypto/legacy.ts.
 * Each works on whole buffers and returns subarrays where it can, so the 64 MiB path makes no extra copies.
 */
import { CMSInvalid, UnsupportedAlgorithm } from '../errors.js';
import { accelerators, getCrypto, randomBytes, type AesStream, type IncrementalAes } from '../crypto/provider.js';
import { concat, toArrayBuffer } from '../lib/bytes.js';
import { des3CbcDecrypt, rc2CbcDecrypt, rc2EffectiveBitsFromVersion, stripPkcs7Padding } from '../crypto/legacy.js';
import { algorithmIdentifier, children, decodeOid, integer, octets, readTlv, seq, stringContent, TAG, type Tlv } from '../lib/der.js';
import { OIDS, oidName } from './oids.js';
import { CONTENT_CIPHERS, type ContentCipherName, type ContentCipherSpec } from '../crypto/algorithms.js';

export type { ContentCipherName };

/** The ciphers offered for encryption, strongest first (also the SMIMECapabilities order). */
export const ENCRYPTION_CIPHERS: readonly ContentCipherName[] = [
  'aes-256-gcm',
  'chacha20-poly1305',
  'aes-128-gcm',
  'aes-256-cbc',
  'aes-192-cbc',
  'aes-128-cbc',
];

/** The content ciphers by API name: the registry's table (crypto/algorithms.ts). */
export const CIPHERS: Readonly<Record<ContentCipherName, ContentCipherSpec>> = CONTENT_CIPHERS;

/** The API name of a content cipher OID, if it is one smime-core writes. */
export function cipherByOid(oid: string): ContentCipherName | undefined {
  return (Object.keys(CIPHERS) as ContentCipherName[]).find((k) => CIPHERS[k].oid === oid);
}

/** Whether the cipher authenticates (GCM, ChaCha20-Poly1305: AuthEnvelopedData) rather than CBC. */
export function isAead(name: ContentCipherName): boolean {
  return CIPHERS[name].mode !== 'cbc';
}

/**
 * WebCrypto calls on large content work on chunks of this many bytes (a multiple of the AES block): the buffers of
 * each call are then reused by the allocator instead of being fresh memory the size of the message, and AES on one
 * chunk overlaps with base64 on the previous one.
 */
export const CHUNK = 1 << 20;

/** Incremental AES when the provider has it (see {@link Accelerators}); `smime-core/node`'s has, on node:crypto. */
function incrementalAes(c: Crypto): IncrementalAes | undefined {
  return accelerators(c).incrementalAes;
}

/**
 * Incremental AES works on pieces of this many bytes: small enough that its buffers stay in the cache and in the
 * allocator's heap (below glibc's 128 KiB mmap threshold), large enough that the per-call cost does not show.
 */
export const STREAM_CHUNK = 1 << 16;

/** What {@link pump} runs: an {@link AesStream}, or a synchronous {@link ContentDecryptor} (`final` = `finish`). */
type Pumped = Pick<AesStream, 'update' | 'final'>;

/** Runs `src` through `s` in chunks of STREAM_CHUNK bytes, then finishes it, handing every non-empty output to `emit`. */
function pump(s: Pumped, src: Uint8Array, emit: (piece: Uint8Array) => void): void {
  for (let i = 0; i < src.length; i += STREAM_CHUNK) {
    const piece = s.update(src.subarray(i, Math.min(src.length, i + STREAM_CHUNK)));
    if (piece.length > 0) emit(piece);
  }
  const last = s.final();
  if (last.length > 0) emit(last);
}

/**
 * {@link pump} into `dst` from its start, counting in `written` (also when it throws). `dst` may be `src`: what
 * comes out never covers input not yet read.
 */
function pumpInto(s: Pumped, src: Uint8Array, dst: Uint8Array, written = { n: 0 }): number {
  pump(s, src, (piece) => {
    dst.set(piece, written.n);
    written.n += piece.length;
  });
  return written.n;
}

/** One run of a {@link ContentEncryptor}: the content in, the ciphertext out to the run's sink, in order. */
export interface ContentCipherRun {
  /**
   * Encrypts the next piece of content; the ciphertext it completes goes to the sink (a cipher may hold some back: CBC
   * a block, a one-shot cipher everything until {@link finish}).
   */
  update(content: Uint8Array): Promise<void>;
  /** Ends the content: the rest of the ciphertext goes to the sink; resolves to the tag (AEAD ciphers). */
  finish(): Promise<Uint8Array | undefined>;
}

/**
 * Encrypts content, of a length known in advance (the buffer functions) or not (the streams); the one content
 * encryption of both (issue 16: one code path). {@link encrypt} is {@link start} + one {@link ContentCipherRun.update}
 * + {@link ContentCipherRun.finish}.
 */
export interface ContentEncryptor {
  /** DER AlgorithmIdentifier with the parameters (IV or nonce). */
  algorithm: Uint8Array;
  /** The length of the ciphertext, when the content length was given. */
  ciphertextLength: number | undefined;
  /** Length of the authentication tag (AEAD ciphers), else 0. */
  macLength: number;
  /**
   * Starts the encryption (once): the ciphertext goes to `sink` in order, in one or more pieces, each handed on only
   * once the content it covers has been read. With a content length given, the content passed to `update` must stay
   * as it is until `finish` resolves (it may be read then, not copied before); without one, it is copied when held.
   */
  start(sink: (piece: Uint8Array) => void): ContentCipherRun;
  /**
   * Encrypts `content` and passes the ciphertext to `sink` in order, in one or more pieces; resolves to the tag
   * (AEAD ciphers). A piece is handed on only once the content it covers has been read, so the sink may write
   * over content that precedes the content still to be encrypted.
   */
  encrypt(content: Uint8Array, sink: (piece: Uint8Array) => void): Promise<Uint8Array | undefined>;
}

/** @noble/ciphers' ChaCha20-Poly1305, loaded when first needed (most mail never uses it). */
const chacha = () => import('@noble/ciphers/chacha.js');

function importAes(c: Crypto, cek: Uint8Array, name: 'AES-CBC' | 'AES-GCM', usages: KeyUsage[]): Promise<CryptoKey> {
  return c.subtle.importKey('raw', toArrayBuffer(cek), name, false, usages);
}

/**
 * A content encryptor with a fresh IV/nonce, for `contentLength` bytes of content or, with `undefined`, for content of
 * a length not known in advance (a stream). `aad` is the DER of the authAttrs (AEAD only). The key is copied: the
 * caller may wipe `cek` at once; the copy is wiped when the run starts (its cipher holds its own).
 *
 * The cipher under it: the provider's incremental AES when it has one (`smime-core/node`'s, on node:crypto), for AES-CBC
 * and AES-GCM, in pieces of {@link STREAM_CHUNK} bytes. Without it: AES-CBC on WebCrypto in calls of {@link CHUNK}
 * bytes (each chained on the previous ciphertext block); AES-GCM on WebCrypto in one call when the length is known
 * (WebCrypto has no incremental GCM), else on WebCrypto's AES-CTR with GHASH in TypeScript ({@link webCryptoGcmRun});
 * ChaCha20-Poly1305 on @noble/ciphers, in one call when the length is known, else incrementally (the portable ciphers
 * of src/crypto/incremental_fallback.ts). The legacy ciphers are never written.
 */
export function contentEncryptor(
  name: ContentCipherName,
  cek: Uint8Array,
  contentLength: number | undefined,
  crypto?: Crypto,
  aad?: Uint8Array,
): ContentEncryptor {
  const spec = CIPHERS[name];
  if (!spec) throw new RangeError(`unknown cipher ${String(name)}`);
  if (contentLength !== undefined && (!Number.isSafeInteger(contentLength) || contentLength < 0)) throw new RangeError('contentLength: expected a byte count');
  const c = getCrypto(crypto);
  const inc = incrementalAes(c);
  const known = contentLength !== undefined;
  const key = cek.slice();
  let algorithm: Uint8Array;
  let macLength = 16;
  let ciphertextLength: number | undefined = contentLength;
  let engine: (sink: (piece: Uint8Array) => void) => ContentCipherRun;
  if (spec.mode === 'cbc') {
    const iv = randomBytes(16, crypto);
    algorithm = algorithmIdentifier(spec.oid, octets(iv));
    macLength = 0;
    if (known) ciphertextLength = (Math.floor(contentLength / 16) + 1) * 16;
    engine = inc
      ? (sink) => incrementalRun(inc.start({ mode: 'cbc', encrypt: true, key, iv }), sink, 0)
      : (sink) => webCryptoCbcRun(c, importAes(c, key, 'AES-CBC', ['encrypt']), iv, sink, known);
  } else {
    const nonce = randomBytes(12, crypto);
    if (spec.mode === 'gcm') {
      // GCMParameters ::= SEQUENCE { aes-nonce OCTET STRING, aes-ICVlen INTEGER DEFAULT 12 }
      algorithm = algorithmIdentifier(spec.oid, seq(octets(nonce), integer(16)));
      engine = inc
        ? (sink) => incrementalRun(inc.start({ mode: 'gcm', encrypt: true, key, iv: nonce, ...(aad ? { aad } : {}) }), sink, 16)
        : !known
          ? (sink) => webCryptoGcmRun(c, key, nonce, aad, sink)
          : (sink) => {
            const keyP = importAes(c, key, 'AES-GCM', ['encrypt']);
            return oneShotRun(sink, async (content) => {
              // One call: WebCrypto has no incremental GCM.
              const params: AesGcmParams = { name: 'AES-GCM', iv: toArrayBuffer(nonce), tagLength: 128 };
              if (aad) params.additionalData = toArrayBuffer(aad);
              return new Uint8Array(await c.subtle.encrypt(params, await keyP, content as Uint8Array<ArrayBuffer>));
            });
          };
    } else {
      algorithm = algorithmIdentifier(spec.oid, octets(nonce));
      if (known) {
        engine = (sink) => {
          const k = key.slice();
          return oneShotRun(sink, async (content) => {
            try {
              return (await chacha()).chacha20poly1305(k, nonce, aad).encrypt(content);
            } finally {
              k.fill(0);
            }
          });
        };
      } else {
        engine = (sink) => incrementalRun(portableStream(key, (m, k) => m.portableChaCha20Poly1305(k, nonce, true, aad)), sink, 16);
      }
    }
  }
  let started = false;
  const start = (sink: (piece: Uint8Array) => void): ContentCipherRun => {
    if (started) throw new Error('ContentEncryptor: already started');
    started = true;
    let run: ContentCipherRun;
    try {
      run = engine(sink);
    } finally {
      key.fill(0);
    }
    if (!known) return run;
    // A known length is checked: more content than announced is refused before it is encrypted, less at the end.
    let seen = 0;
    return {
      update(content) {
        seen += content.length;
        if (seen > contentLength) return Promise.reject(new RangeError(`content: expected ${contentLength} bytes, got more`));
        return run.update(content);
      },
      finish() {
        if (seen !== contentLength) return Promise.reject(new RangeError(`content: expected ${contentLength} bytes, got ${seen}`));
        return run.finish();
      },
    };
  };
  return {
    algorithm,
    ciphertextLength,
    macLength,
    start,
    async encrypt(content, sink) {
      const run = start(sink);
      await run.update(content);
      return run.finish();
    },
  };
}

/** The portable incremental ciphers (TypeScript on @noble/ciphers), loaded when a stream first needs them. */
const portable = () => import('../crypto/incremental_fallback.js');
type PortableModule = Awaited<ReturnType<typeof portable>>;

/** A portable cipher started on a copy of `key` once the module is loaded (the copy wiped then: the cipher holds its own). */
function portableStream(key: Uint8Array, start: (m: PortableModule, key: Uint8Array) => AesStream): Promise<AesStream> {
  const k = key.slice();
  const p = portable().then(
    (m) => {
      try {
        return start(m, k);
      } finally {
        k.fill(0);
      }
    },
    (e: unknown) => {
      k.fill(0);
      throw e;
    },
  );
  p.catch(() => {});
  return p;
}

/** A run on an incremental cipher ({@link AesStream}, or one still loading), fed in pieces of {@link STREAM_CHUNK} bytes. */
function incrementalRun(stream: AesStream | Promise<AesStream>, sink: (piece: Uint8Array) => void, macLength: number): ContentCipherRun {
  let s = stream instanceof Promise ? undefined : stream;
  return {
    async update(content) {
      s ??= await stream;
      for (let i = 0; i < content.length; i += STREAM_CHUNK) {
        const piece = s.update(content.subarray(i, Math.min(content.length, i + STREAM_CHUNK)));
        if (piece.length > 0) sink(piece);
      }
    },
    async finish() {
      s ??= await stream;
      const last = s.final();
      if (last.length > 0) sink(last);
      return macLength > 0 ? s.tag() : undefined;
    },
  };
}

/**
 * AES-GCM encryption of content of unknown length without an incremental AES: the WebCrypto AES-CTR + GHASH core of
 * src/crypto/incremental_fallback.ts (`webCryptoGcm`, the decryption's too; loaded on first use), fed in batches of
 * {@link CHUNK} bytes: small pieces are gathered into one reused buffer (copied: the caller may reuse its pieces), whole
 * chunks of a large piece go through where they lie. The key is copied (the caller wipes its own at once).
 */
function webCryptoGcmRun(c: Crypto, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array | undefined, sink: (piece: Uint8Array) => void): ContentCipherRun {
  const k = key.slice();
  const started = portable()
    .then((m) => m.webCryptoGcm(c, k, nonce, true, aad))
    .finally(() => k.fill(0));
  started.catch(() => {});
  let buf: Uint8Array | undefined;
  let fill = 0;
  const send = async (data: Uint8Array): Promise<void> => {
    const out = await (await started).update(data);
    if (out.length > 0) sink(out);
  };
  return {
    async update(content) {
      let i = 0;
      if (fill > 0) {
        i = Math.min(CHUNK - fill, content.length);
        buf!.set(content.subarray(0, i), fill);
        fill += i;
        if (fill < CHUNK) return;
        fill = 0;
        await send(buf!);
      }
      for (; content.length - i >= CHUNK; i += CHUNK) await send(content.subarray(i, i + CHUNK));
      if (i === content.length) return;
      buf ??= new Uint8Array(CHUNK);
      buf.set(content.subarray(i), 0);
      fill = content.length - i;
    },
    async finish() {
      const g = await started;
      if (fill > 0) await send(buf!.subarray(0, fill));
      fill = 0;
      buf?.fill(0);
      const last = await g.final();
      if (last.length > 0) sink(last);
      return g.tag();
    },
  };
}

/**
 * A run on a one-shot AEAD call (`ciphertext ‖ tag` out): the content is kept (by reference; the buffer path gives it
 * whole in one update) and encrypted at `finish`.
 */
function oneShotRun(sink: (piece: Uint8Array) => void, encrypt: (content: Uint8Array) => Promise<Uint8Array>): ContentCipherRun {
  const parts: Uint8Array[] = [];
  return {
    async update(content) {
      parts.push(content);
    },
    async finish() {
      const content = parts.length === 1 ? parts[0]! : concat(parts);
      const out = await encrypt(content);
      const n = out.length - 16;
      sink(out.subarray(0, n));
      return out.subarray(n);
    },
  };
}

/**
 * AES-CBC on WebCrypto in calls of {@link CHUNK} bytes: each chunk but the last is encrypted with the previous
 * ciphertext block as its IV, and the extra block WebCrypto appends (the encrypted padding) is dropped; the last chunk
 * (1 to CHUNK bytes, or none) carries the real padding at `finish`. The next chunk is started before the current one
 * is handed on, so AES runs while the sink works. Whole chunks are read where they lie (WebCrypto copies its input);
 * the last one is kept by reference when `inPlace` (the content stays as it is until `finish`), else copied.
 */
function webCryptoCbcRun(c: Crypto, keyP: Promise<CryptoKey>, iv: Uint8Array, sink: (piece: Uint8Array) => void, inPlace: boolean): ContentCipherRun {
  keyP.catch(() => {});
  let chain = iv;
  /** The chunk in flight, not handed on yet (not the last: its padding block is dropped). */
  let inflight: Promise<ArrayBuffer> | undefined;
  /** The content held back (at most CHUNK bytes): a view when `inPlace`, else the start of `buf`. */
  let held: Uint8Array = new Uint8Array(0);
  let buf: Uint8Array | undefined;
  let key: CryptoKey | undefined;
  // WebCrypto copies `data` before it returns (no await before the call): the caller may reuse it at once.
  const run = (data: Uint8Array): Promise<ArrayBuffer> =>
    c.subtle.encrypt({ name: 'AES-CBC', iv: chain as Uint8Array<ArrayBuffer> }, key!, data as Uint8Array<ArrayBuffer>);
  /** Starts `data` (chained on the chunk in flight), then hands that chunk on. */
  const submit = async (data: Uint8Array): Promise<void> => {
    key ??= await keyP;
    let prev: Uint8Array | undefined;
    if (inflight) {
      prev = new Uint8Array(await inflight);
      chain = prev.slice(CHUNK - 16, CHUNK);
    }
    inflight = run(data);
    inflight.catch(() => {});
    if (prev) sink(prev.subarray(0, CHUNK));
  };
  return {
    async update(content) {
      let i = 0;
      if (held.length > 0 && held.length + content.length > CHUNK) {
        // Fill the held chunk (copied: the held view may be of the caller's earlier piece) and send it.
        if (!buf) buf = new Uint8Array(CHUNK);
        if (held.buffer !== buf.buffer) buf.set(held, 0);
        i = CHUNK - held.length;
        buf.set(content.subarray(0, i), held.length);
        held = new Uint8Array(0);
        await submit(buf);
      }
      // Whole chunks with more content after them go where they lie; the last CHUNK bytes at most are held.
      for (; content.length - i > CHUNK; i += CHUNK) await submit(content.subarray(i, i + CHUNK));
      const rest = content.subarray(i);
      if (rest.length === 0) return;
      if (inPlace && held.length === 0) {
        held = rest;
        return;
      }
      if (!buf) buf = new Uint8Array(CHUNK);
      if (held.length > 0 && held.buffer !== buf.buffer) buf.set(held, 0);
      buf.set(rest, held.length);
      held = buf.subarray(0, held.length + rest.length);
    },
    async finish() {
      key ??= await keyP;
      let prev: Uint8Array | undefined;
      if (inflight) {
        prev = new Uint8Array(await inflight);
        chain = prev.slice(CHUNK - 16, CHUNK);
      }
      const last = run(held);
      if (prev) sink(prev.subarray(0, CHUNK));
      sink(new Uint8Array(await last));
      buf?.fill(0);
      return undefined;
    },
  };
}

/** The encrypted content of an envelope, as the parser found it, with what the decryption may do with it. */
export interface EncryptedPayload {
  ciphertext: Uint8Array;
  /** The authentication tag (AEAD). */
  mac?: Uint8Array;
  /** ciphertext ‖ mac in one buffer (what WebCrypto and ChaCha20-Poly1305 take), once made. */
  joined?: Uint8Array;
  /** The plaintext may be written over the ciphertext: nobody reads the buffer afterwards. */
  inPlace?: boolean;
  /** Set when an in-place decryption has begun to write: the ciphertext is gone. */
  consumed?: boolean;
}

/** ciphertext ‖ mac, made once per payload (every candidate key reuses it). */
function aeadInput(p: EncryptedPayload): Uint8Array {
  if (!p.joined) {
    const mac = p.mac!;
    const joined = new Uint8Array(p.ciphertext.length + mac.length);
    joined.set(p.ciphertext, 0);
    joined.set(mac, p.ciphertext.length);
    p.joined = joined;
  }
  return p.joined;
}

/**
 * AES-CBC decryption of large content in chunks, two in flight. The last chunk goes first: its padding tells a
 * wrong key before anything is written. Each other chunk gets one extra block that decrypts to a whole padding
 * block (the CBC encryption of nothing, chained on the chunk's last block), so WebCrypto strips exactly that.
 * Writes the plaintext over the ciphertext when the payload allows it.
 */
async function cbcDecrypt(c: Crypto, alg: ContentAlgorithm, cek: Uint8Array, p: EncryptedPayload): Promise<Uint8Array> {
  const ct = p.ciphertext;
  const len = ct.length;
  const iv = alg.iv;
  const inc = incrementalAes(c);
  // Incremental AES at every size: a WebCrypto call copies its input and returns its output in two more buffers.
  if (inc) return cbcDecryptIncremental(inc, alg, cek, p);
  if (len <= CHUNK) {
    const key = await importAes(c, cek, 'AES-CBC', ['decrypt']);
    return new Uint8Array(await c.subtle.decrypt({ name: 'AES-CBC', iv: toArrayBuffer(iv) }, key, ct as Uint8Array<ArrayBuffer>));
  }
  if (len % 16 !== 0) throw new Error('AES-CBC: the ciphertext is not a whole number of blocks');
  const key = await importAes(c, cek, 'AES-CBC', ['encrypt', 'decrypt']);
  const n = Math.ceil(len / CHUNK);
  const lastStart = (n - 1) * CHUNK;
  // Every chunk's IV (the block before it), taken before any plaintext is written.
  const ivs: Uint8Array[] = [iv.slice()];
  for (let j = 1; j < n; j++) ivs.push(ct.slice(j * CHUNK - 16, j * CHUNK));
  const aes = (chunkIv: Uint8Array): AesCbcParams => ({ name: 'AES-CBC', iv: chunkIv as Uint8Array<ArrayBuffer> });
  const last = new Uint8Array(await c.subtle.decrypt(aes(ivs[n - 1]!), key, ct.subarray(lastStart) as Uint8Array<ArrayBuffer>));
  const dst = p.inPlace ? ct : new Uint8Array(lastStart + last.length);
  if (p.inPlace) p.consumed = true;
  dst.set(last, lastStart);
  let next = 0;
  const worker = async (): Promise<void> => {
    // One input buffer per worker, reused: each call has returned before the buffer is filled again.
    const input = new Uint8Array(CHUNK + 16);
    for (let j = next++; j < n - 1; j = next++) {
      input.set(ct.subarray(j * CHUNK, (j + 1) * CHUNK), 0);
      const pad = new Uint8Array(await c.subtle.encrypt(aes(ivs[j + 1]!), key, new Uint8Array(0)));
      input.set(pad, CHUNK);
      const plain = new Uint8Array(await c.subtle.decrypt(aes(ivs[j]!), key, input));
      if (plain.length !== CHUNK) throw new Error('AES-CBC: chunk decryption gave an unexpected length');
      dst.set(plain, j * CHUNK);
    }
  };
  await Promise.all([worker(), worker()]);
  return dst.subarray(0, lastStart + last.length);
}

/**
 * AES-CBC decryption chunk by chunk through incremental AES (the {@link contentDecryptor} a stream uses, on one
 * piece), into the ciphertext's own buffer when the payload allows it. The last block is checked first, as in
 * {@link cbcDecrypt}, so a wrong key writes nothing.
 */
function cbcDecryptIncremental(inc: IncrementalAes, alg: ContentAlgorithm, cek: Uint8Array, p: EncryptedPayload): Uint8Array {
  const ct = p.ciphertext;
  const len = ct.length;
  if (len === 0 || len % 16 !== 0) throw new Error('AES-CBC: the ciphertext is not a whole number of blocks');
  const check = inc.start({ mode: 'cbc', encrypt: false, key: cek, iv: len >= 32 ? ct.subarray(len - 32, len - 16) : alg.iv });
  check.update(ct.subarray(len - 16));
  check.final();
  const dst = p.inPlace ? ct : new Uint8Array(len);
  if (p.inPlace) p.consumed = true;
  return dst.subarray(0, pumpInto(pumped(aesDecryptor(inc, alg, cek)), ct, dst));
}

/**
 * AES-GCM decryption chunk by chunk (the {@link contentDecryptor} a stream uses, on one piece, the tag given up
 * front), into the ciphertext's own buffer when the payload allows it. The plaintext is released only after the tag
 * checks out; when it does not, the bytes already written are encrypted again (GCM's keystream undoes itself), so
 * the next key gets the ciphertext back.
 */
function gcmDecryptIncremental(inc: IncrementalAes, alg: ContentAlgorithm, cek: Uint8Array, p: EncryptedPayload, aad?: Uint8Array): Uint8Array {
  const ct = p.ciphertext;
  const dst = p.inPlace ? ct : new Uint8Array(ct.length);
  const written = { n: 0 };
  try {
    return dst.subarray(0, pumpInto(pumped(aesDecryptor(inc, alg, cek, p.mac, aad)), ct, dst, written));
  } catch (e) {
    if (dst === ct) pumpInto(inc.start({ mode: 'gcm', encrypt: true, key: cek, iv: alg.iv }), dst.subarray(0, written.n), dst);
    throw e;
  }
}

/**
 * Content decryption piece by piece: the one cipher loop of both decryptions (issue 16). The buffer decryption
 * (`openEnvelope`) runs the whole ciphertext through it in {@link STREAM_CHUNK} pieces; the stream reader
 * (`EnvelopeStreamReader`) each piece as it arrives, and gives an AEAD tag, which comes after the content in a
 * stream, with `setTag` before `finish`.
 */
export interface ContentDecryptor {
  /** The plaintext of the next piece of ciphertext (possibly empty: CBC holds back the last block). */
  update(piece: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** AEAD: the expected tag, when it was not known at the start; before {@link finish}. */
  setTag(tag: Uint8Array): void;
  /**
   * The rest of the plaintext. Throws a plain Error when the padding (CBC) or the tag (AEAD) is wrong: the caller
   * turns it into `CMSDecryptionFailed`.
   */
  finish(): Uint8Array | Promise<Uint8Array>;
}

/** {@link ContentDecryptor} on an incremental AES: synchronous. */
interface SyncDecryptor extends ContentDecryptor {
  update(piece: Uint8Array): Uint8Array;
  finish(): Uint8Array;
}

function pumped(d: SyncDecryptor): Pumped {
  return { update: (piece) => d.update(piece), final: () => d.finish() };
}

function aesDecryptor(inc: IncrementalAes, alg: ContentAlgorithm, cek: Uint8Array, tag?: Uint8Array, aad?: Uint8Array): SyncDecryptor {
  if (alg.kind === 'aes-cbc') return streamDecryptor(inc.start({ mode: 'cbc', encrypt: false, key: cek, iv: alg.iv }), alg);
  if (tag) checkTagLength(alg, tag);
  return streamDecryptor(inc.start({ mode: 'gcm', encrypt: false, key: cek, iv: alg.iv, ...(tag ? { tag } : {}), ...(aad ? { aad } : {}) }), alg, tag);
}

/** A plain Error (the caller's `CMSDecryptionFailed`) when `t` is not `alg`'s tag length. */
function checkTagLength(alg: ContentAlgorithm, t: Uint8Array): void {
  if (t.length !== alg.tagLength) throw new Error('bad tag');
}

/**
 * A {@link SyncDecryptor} on a started decryption `s` (AES-CBC, AES-GCM or ChaCha20-Poly1305) for `alg`, with the
 * tag when it was given at the start (AEAD; else by `setTag` before `finish`).
 */
function streamDecryptor(s: AesStream, alg: ContentAlgorithm, tag?: Uint8Array): SyncDecryptor {
  if (!alg.aead) {
    return {
      update: (piece) => s.update(piece),
      setTag() {
        throw new TypeError(`${alg.name} has no tag`);
      },
      finish: () => s.final(),
    };
  }
  let tagged = tag !== undefined;
  if (!tagged && typeof s.setTag !== 'function') throw new UnsupportedAlgorithm(`streaming decryption with ${alg.name}: this incremental cipher takes no late tag`, alg.oid);
  return {
    update: (piece) => s.update(piece),
    setTag(t) {
      if (tagged) throw new TypeError('the tag was already given');
      checkTagLength(alg, t);
      s.setTag!(t);
      tagged = true;
    },
    finish() {
      if (!tagged) throw new Error('bad tag');
      return s.final();
    },
  };
}

/**
 * A {@link ContentDecryptor} on a portable cipher still loading (src/crypto/incremental_fallback.ts, imported on first
 * use): each call waits for it once; a late tag is kept until `finish`.
 */
function portableDecryptor(stream: Promise<AesStream>, alg: ContentAlgorithm, tag?: Uint8Array): ContentDecryptor {
  let d: SyncDecryptor | undefined;
  let late: Uint8Array | undefined;
  const ready = async (): Promise<SyncDecryptor> => (d ??= streamDecryptor(await stream, alg, tag));
  return {
    async update(piece) {
      return (await ready()).update(piece);
    },
    setTag(t) {
      if (tag !== undefined || late !== undefined) throw new TypeError('the tag was already given');
      checkTagLength(alg, t);
      late = t.slice();
    },
    async finish() {
      const x = await ready();
      if (late) x.setTag(late);
      return x.finish();
    },
  };
}

/**
 * AES-GCM decryption without an incremental AES: GCTR on WebCrypto's AES-CTR, GHASH in TypeScript
 * (src/crypto/incremental_fallback.ts `webCryptoGcm`, loaded on first use: the encryption's core too); a late tag is kept until `finish`.
 */
function webCryptoGcmDecryptor(c: Crypto, alg: ContentAlgorithm, cek: Uint8Array, tag?: Uint8Array, aad?: Uint8Array): ContentDecryptor {
  if (tag) checkTagLength(alg, tag);
  const k = cek.slice();
  const started = portable()
    .then((m) => m.webCryptoGcm(c, k, alg.iv, false, aad, tag))
    .finally(() => k.fill(0));
  started.catch(() => {});
  let late: Uint8Array | undefined;
  return {
    async update(piece) {
      return (await started).update(piece);
    },
    setTag(t) {
      if (tag !== undefined || late !== undefined) throw new TypeError('the tag was already given');
      checkTagLength(alg, t);
      late = t.slice();
    },
    async finish() {
      const d = await started;
      if (tag === undefined && late === undefined) throw new Error('bad tag');
      if (late) d.setTag(late);
      return d.final();
    },
  };
}

/**
 * 3DES-CBC and RC2-CBC (src/crypto/legacy.ts) piece by piece: the whole blocks of each piece but the last block,
 * each call chained on the previous ciphertext block; the last block is held for `finish`, which checks its
 * padding (a plain Error, as the buffer path's).
 */
function legacyCbcDecryptor(alg: ContentAlgorithm, cek: Uint8Array): SyncDecryptor {
  const key = cek.slice();
  const raw = (iv: Uint8Array, data: Uint8Array): Uint8Array =>
    alg.kind === '3des' ? des3CbcDecrypt(key, iv, data, { padding: false }) : rc2CbcDecrypt(key, alg.rc2Bits!, iv, data, { padding: false });
  let chain = alg.iv.slice();
  let held: Uint8Array = new Uint8Array(0);
  let done = false;
  return {
    update(piece) {
      if (done) throw new Error(`${alg.name}: already finished`);
      const all = held.length === 0 ? piece : concat([held, piece]);
      // Every whole block but the last (it may hold the padding).
      let n = all.length - (all.length % 8);
      if (n === all.length) n -= 8;
      if (n <= 0) {
        held = all.slice();
        return new Uint8Array(0);
      }
      const out = raw(chain, all.subarray(0, n));
      chain = all.slice(n - 8, n);
      held = all.slice(n);
      return out;
    },
    setTag() {
      throw new TypeError(`${alg.name} has no tag`);
    },
    finish() {
      if (done) throw new Error(`${alg.name}: already finished`);
      done = true;
      try {
        if (held.length !== 8) throw new Error(`${alg.name}: the ciphertext is not a whole number of blocks`);
        return stripPkcs7Padding(raw(chain, held), 8);
      } finally {
        key.fill(0);
        held = new Uint8Array(0);
      }
    },
  };
}

/**
 * The {@link ContentDecryptor} for `alg` and the content-encryption key `cek` (copied: the caller may wipe it), with
 * the tag when it is known (AEAD) and the AAD (AuthEnvelopedData's authAttrs); every content cipher `decryptContent`
 * reads. AES-CBC and AES-GCM run on the provider's incremental AES when it has one (`smime-core/node` installs
 * Node's). Without it AES-CBC runs on WebCrypto in {@link CHUNK}s, and AES-GCM on WebCrypto's AES-CTR with GHASH in
 * TypeScript (src/crypto/incremental_fallback.ts, on @noble/ciphers, loaded on first use: WebCrypto has no
 * incremental GCM).
 * ChaCha20-Poly1305 runs on the portable RFC 8439 construction everywhere (no provider has it), 3DES and RC2 on
 * src/crypto/legacy.ts block by block.
 */
export function contentDecryptor(alg: ContentAlgorithm, cek: Uint8Array, crypto?: Crypto, tag?: Uint8Array, aad?: Uint8Array): ContentDecryptor {
  checkStreamDecryption(alg);
  if (alg.keyLength !== undefined && cek.length !== alg.keyLength) throw new Error('wrong key length');
  const c = getCrypto(crypto);
  const inc = incrementalAes(c);
  switch (alg.kind) {
    case 'aes-cbc':
      return inc ? aesDecryptor(inc, alg, cek.slice()) : webCryptoCbcDecryptor(c, cek, alg.iv);
    case 'aes-gcm':
      return inc ? aesDecryptor(inc, alg, cek.slice(), tag, aad) : webCryptoGcmDecryptor(c, alg, cek, tag, aad);
    case 'chacha':
      if (tag) checkTagLength(alg, tag);
      return portableDecryptor(portableStream(cek, (m, k) => m.portableChaCha20Poly1305(k, alg.iv, false, aad, tag)), alg, tag);
    default:
      return legacyCbcDecryptor(alg, cek);
  }
}

/**
 * `UnsupportedAlgorithm` unless {@link contentDecryptor} can decrypt `alg` piece by piece (asked before any
 * private-key operation): every cipher {@link parseContentAlgorithm} reads (AES-CBC, AES-GCM, ChaCha20-Poly1305,
 * 3DES, RC2), with or without an incremental AES.
 */
export function checkStreamDecryption(alg: ContentAlgorithm): void {
  if (alg.kind === 'aes-cbc' || alg.kind === 'aes-gcm' || alg.kind === 'chacha' || alg.kind === '3des' || alg.kind === 'rc2') return;
  throw new UnsupportedAlgorithm(`streaming decryption with ${alg.name}`, alg.oid);
}

/**
 * AES-CBC decryption of a stream on WebCrypto: whole {@link CHUNK}s are decrypted as they fill, each given one extra
 * block that decrypts to a whole padding block (as {@link cbcDecrypt} does); at least one block is held for
 * `finish`, which checks the real padding.
 */
function webCryptoCbcDecryptor(c: Crypto, cek: Uint8Array, iv: Uint8Array): ContentDecryptor {
  const keyP = importAes(c, cek.slice(), 'AES-CBC', ['encrypt', 'decrypt']);
  keyP.catch(() => {});
  const held = new Uint8Array(CHUNK + 16);
  let n = 0;
  let chain = iv.slice();
  const aes = (chunkIv: Uint8Array): AesCbcParams => ({ name: 'AES-CBC', iv: chunkIv as Uint8Array<ArrayBuffer> });
  return {
    async update(piece) {
      const out: Uint8Array[] = [];
      let i = 0;
      while (i < piece.length) {
        const k = Math.min(CHUNK + 16 - n, piece.length - i);
        held.set(piece.subarray(i, i + k), n);
        n += k;
        i += k;
        if (n === CHUNK + 16) {
          // Decrypt the first CHUNK bytes; the block after them stays held (it may be the last, with the padding).
          const key = await keyP;
          const next = held.slice(CHUNK - 16, CHUNK);
          const input = new Uint8Array(CHUNK + 16);
          input.set(held.subarray(0, CHUNK));
          input.set(new Uint8Array(await c.subtle.encrypt(aes(next), key, new Uint8Array(0))), CHUNK);
          const plain = new Uint8Array(await c.subtle.decrypt(aes(chain), key, input));
          if (plain.length !== CHUNK) throw new Error('AES-CBC: chunk decryption gave an unexpected length');
          out.push(plain);
          chain = next;
          held.copyWithin(0, CHUNK, CHUNK + 16);
          n = 16;
        }
      }
      return out.length === 1 ? out[0]! : concat(out);
    },
    setTag() {
      throw new TypeError('AES-CBC has no tag');
    },
    async finish() {
      if (n === 0 || n % 16 !== 0) throw new Error('AES-CBC: the ciphertext is not a whole number of blocks');
      const plain = new Uint8Array(await c.subtle.decrypt(aes(chain), await keyP, held.subarray(0, n) as Uint8Array<ArrayBuffer>));
      held.fill(0);
      return plain;
    },
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
  if (t.cls !== 0 || t.tagNo !== TAG.SEQUENCE || !t.constructed) throw new CMSInvalid('content encryption: expected an AlgorithmIdentifier');
  const [oidT, paramsT] = children(buf, t);
  if (!oidT || oidT.cls !== 0 || oidT.tagNo !== TAG.OID) throw new CMSInvalid('content encryption: the AlgorithmIdentifier has no OID');
  const oid = decodeOid(buf, oidT);
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
      if (lT) tagLength = smallInteger(buf, lT, 'AES-GCM: aes-ICVlen');
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
      const ivT = parts[parts.length - 1];
      if (!ivT || parts.length > 2 || ivT.cls !== 0 || ivT.tagNo !== TAG.OCTET_STRING) throw new CMSInvalid('RC2: malformed RC2-CBCParameter');
      if (parts.length === 2) {
        bits = rc2EffectiveBitsFromVersion(smallInteger(buf, parts[0]!, 'RC2: rc2ParameterVersion'));
      }
      iv = stringContent(buf, ivT);
    } else iv = octetParam();
    if (iv.length !== 8) throw new CMSInvalid('RC2: the IV must be 8 bytes');
    return { oid, name: `rc2-${bits}-cbc`, kind: 'rc2', iv, rc2Bits: bits, legacy: true, aead: false };
  }
  throw new UnsupportedAlgorithm(`content encryption ${oidName(oid)}`, oid);
}

/**
 * A small non-negative INTEGER parameter (a tag length, an RC2 version): at most 4 content bytes, so a huge INTEGER
 * is refused at once instead of being read into a BigInt byte by byte (quadratic in its length).
 */
function smallInteger(buf: Uint8Array, t: Tlv, what: string): number {
  const n = t.contentEnd - t.contentStart;
  if (t.cls !== 0 || t.tagNo !== TAG.INTEGER || t.constructed || n < 1 || n > 4) throw new CMSInvalid(`${what}: expected a small INTEGER`);
  let v = 0;
  for (let i = t.contentStart; i < t.contentEnd; i++) v = v * 256 + buf[i]!;
  return v;
}

/**
 * Decrypts content. Throws a plain Error when the key is wrong (bad padding, bad tag): the caller turns every such
 * failure into one CMSDecryptionFailed.
 */
export async function decryptContent(
  alg: ContentAlgorithm,
  cek: Uint8Array,
  payload: EncryptedPayload,
  crypto?: Crypto,
  aad?: Uint8Array,
): Promise<Uint8Array> {
  if (alg.keyLength !== undefined && cek.length !== alg.keyLength) throw new Error('wrong key length');
  const c = getCrypto(crypto);
  const mac = payload.mac;
  switch (alg.kind) {
    case 'aes-cbc':
      return cbcDecrypt(c, alg, cek, payload);
    case 'aes-gcm': {
      if (!mac || mac.length !== alg.tagLength) throw new Error('bad tag');
      const inc = incrementalAes(c);
      if (inc) return gcmDecryptIncremental(inc, alg, cek, payload, aad);
      const key = await importAes(c, cek, 'AES-GCM', ['decrypt']);
      const params: AesGcmParams = { name: 'AES-GCM', iv: toArrayBuffer(alg.iv), tagLength: alg.tagLength * 8 };
      if (aad) params.additionalData = toArrayBuffer(aad);
      return new Uint8Array(await c.subtle.decrypt(params, key, aeadInput(payload) as Uint8Array<ArrayBuffer>));
    }
    case 'chacha':
      if (!mac || mac.length !== 16) throw new Error('bad tag');
      return (await chacha()).chacha20poly1305(cek, alg.iv, aad).decrypt(aeadInput(payload));
    case '3des':
      return des3CbcDecrypt(cek, alg.iv, payload.ciphertext);
    case 'rc2':
      return rc2CbcDecrypt(cek, alg.rc2Bits!, alg.iv, payload.ciphertext);
    default:
      throw new UnsupportedAlgorithm(`content encryption ${alg.name}`, alg.oid);
  }
}
