/**
 * Node's crypto provider: the one module in src/ (besides the CLI) that may use Node-only APIs.
 * `smime-core/node` exports it: `setCrypto(nodeCrypto())` makes every call use @peculiar/webcrypto, which runs on
 * Node's OpenSSL, except for what Node's own WebCrypto does faster with the same results: AES-CBC and AES-GCM with
 * raw keys (the content encryption; @peculiar's AES is about three times slower) and the SHA digests.
 *
 * Node's accelerators ({@link nodeAccelerators}, see `Accelerators` in src/crypto/provider.ts) come with it: AES-GCM
 * content both ways, and AES-CBC content both ways, streamed through node:crypto; incremental digests (`createHash`,
 * for signStream and verifyStream); and the raw RSA private-key
 * operation through node:crypto (RSA_NO_PADDING: OpenSSL's constant-time, blinded RSADP, about 0.3 ms for RSA-2048
 * against 5 ms in BigInt), the padding checks staying in src/crypto/rsa.ts (Node 20 refuses PKCS#1 v1.5 decryption
 * itself, CVE-2023-46809). The package's `node` export condition (src/index.node.ts) registers the accelerators for
 * Node's own `globalThis.crypto` with {@link installNodeAccelerators}, so `import 'smime-core'` on Node gets them.
 * @peculiar/webcrypto is loaded on first use, not at import: a CLI run that needs only AES, SHA and the RSA done in
 * TypeScript starts without it.
 *
 * @module smime-core/node
 */
import { constants, createCipheriv, createHash, createDecipheriv, createPrivateKey, privateDecrypt, webcrypto, type CipherGCMTypes, type KeyObject } from 'node:crypto';
import { DIGESTS } from './algorithms.js';
import { createInflate } from 'node:zlib';
import { getBase64Codec, setBase64Codec, type Base64Codec } from '../lib/base64.js';
import { getInflateEngine, setInflateEngine, type InflateEngine } from '../lib/zlib.js';
import { ACCELERATORS, setPlatformAccelerators, type Accelerators, type AesStream, type HashStream, type IncrementalAes, type IncrementalHash, type RawRsa } from './provider.js';

export type { Accelerators, AesStream, HashStream, IncrementalAes, IncrementalHash, RawRsa } from './provider.js';

let instance: Crypto | undefined;
let peculiar: Promise<SubtleCrypto> | undefined;

function loadPeculiar(): Promise<SubtleCrypto> {
  peculiar ??= import('@peculiar/webcrypto').then((m) => new m.Crypto().subtle as unknown as SubtleCrypto);
  return peculiar;
}

const native = webcrypto.subtle as unknown as SubtleCrypto;
const NativeKey = globalThis.CryptoKey;
const NATIVE_KEYS = new Set(['AES-CBC', 'AES-GCM']);
const NATIVE_DIGESTS: ReadonlySet<string> = new Set(Object.values(DIGESTS).flatMap((d) => (d.webCrypto ? [d.name] : [])));
const METHODS = ['encrypt', 'decrypt', 'sign', 'verify', 'digest', 'generateKey', 'deriveKey', 'deriveBits', 'importKey', 'exportKey', 'wrapKey', 'unwrapKey'] as const;

function algorithmName(a: unknown): string {
  const name = typeof a === 'string' ? a : (a as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name.toUpperCase() : '';
}

/** Whether a call goes to Node's WebCrypto: AES keys it imported (only it made them), raw AES imports, SHA digests. */
function toNative(method: (typeof METHODS)[number], args: unknown[]): boolean {
  if (method === 'importKey') return args[0] === 'raw' && NATIVE_KEYS.has(algorithmName(args[2]));
  if (method === 'digest') return NATIVE_DIGESTS.has(algorithmName(args[0]));
  return args.some((a) => a instanceof NativeKey);
}

function nodeSubtle(): SubtleCrypto {
  const subtle: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const method of METHODS) {
    subtle[method] = async (...args: unknown[]) => {
      const target = toNative(method, args) ? native : await loadPeculiar();
      return Reflect.apply(target[method] as (...a: unknown[]) => Promise<unknown>, target, args);
    };
  }
  return subtle as unknown as SubtleCrypto;
}

const bytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.length);
const noTag = (): never => {
  throw new TypeError('no tag: only AES-GCM encryption has one');
};

/** node:crypto's ciphers, for the content encryption to stream AES. */
const incrementalAes: IncrementalAes = {
  start({ mode, encrypt, key, iv, aad, tag }): AesStream {
    const name = `aes-${key.length * 8}-${mode}`;
    if (mode === 'cbc') {
      const c = encrypt ? createCipheriv(name, key, iv) : createDecipheriv(name, key, iv);
      return { update: (d) => bytes(c.update(d)), final: () => bytes(c.final()), tag: noTag };
    }
    const gcm = name as CipherGCMTypes;
    const options = { authTagLength: tag?.length ?? 16 };
    if (encrypt) {
      const c = createCipheriv(gcm, key, iv, options);
      if (aad) c.setAAD(aad);
      return { update: (d) => bytes(c.update(d)), final: () => bytes(c.final()), tag: () => bytes(c.getAuthTag()) };
    }
    // Without the tag (a stream's comes after the content), its length is left open: setAuthTag takes it later.
    const c = tag ? createDecipheriv(gcm, key, iv, options) : createDecipheriv(gcm, key, iv);
    if (aad) c.setAAD(aad);
    if (tag) c.setAuthTag(tag);
    return {
      update: (d) => bytes(c.update(d)),
      final: () => bytes(c.final()),
      tag: noTag,
      setTag: (t) => void c.setAuthTag(t),
    };
  },
};

/** KeyObjects made from the DER of RSA private keys (null: Node refused the DER; the TypeScript RSA runs). */
const rsaKeys = new WeakMap<Uint8Array, KeyObject | null>();

function rsaKeyObject(der: Uint8Array): KeyObject | null {
  let k = rsaKeys.get(der);
  if (k === undefined) {
    try {
      k = createPrivateKey({ key: Buffer.from(der.buffer, der.byteOffset, der.length), format: 'der', type: 'pkcs1' });
      // Node 24's OpenSSL reads other DER too (a PKCS#8 EC key given as 'pkcs1', say): only an RSA key is taken.
      if (k.asymmetricKeyType !== 'rsa') k = null;
    } catch {
      k = null;
    }
    rsaKeys.set(der, k);
  }
  return k;
}

/**
 * RSADP through OpenSSL (no padding: the padding is checked in src/crypto/rsa.ts, in the same way for every path).
 * A failure of OpenSSL's throws, and src/crypto/rsa.ts then runs the operation itself.
 */
const rawRsa: RawRsa = {
  privateRaw(der, input) {
    const key = rsaKeyObject(der);
    return key ? bytes(privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, input)) : undefined;
  },
};

/** node:crypto's names of the digests smime-core computes. */
const NODE_HASHES: Readonly<Record<string, string>> = { MD5: 'md5', 'SHA-1': 'sha1', 'SHA-224': 'sha224', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

/** node:crypto's incremental digests (a name it does not know, or an OpenSSL that refuses it, declines). */
const incrementalHash: IncrementalHash = {
  start(name): HashStream | undefined {
    const n = NODE_HASHES[name];
    if (n === undefined) return undefined;
    let h;
    try {
      h = createHash(n);
    } catch {
      return undefined; // MD5 refused by a FIPS OpenSSL, say: the @noble/hashes twin runs
    }
    return { update: (d) => void h.update(d), digest: () => bytes(h.digest()) };
  },
};

/** Node's accelerators: incremental AES, raw RSA and incremental digests on node:crypto. */
export const nodeAccelerators: Accelerators = Object.freeze({ incrementalAes, rawRsa, incrementalHash });

/**
 * Registers {@link nodeAccelerators} for Node's own `globalThis.crypto` (what `import 'smime-core'` does on Node,
 * through the package's `node` export condition). A `Crypto` injected with setCrypto or `options.crypto` is not
 * affected. Also plugs Node's native base64 encoder into the base64 lines (unless a codec was set with
 * `setBase64Codec`): same bytes, faster. And node:zlib's inflater for the streamed decompression (unless one was set
 * with `setInflateEngine`): each piece's output comes with its write, so a step's output stays bounded (Node 22's and
 * 24's `DecompressionStream` paced it by the reads and gave a bomb's rest in one piece at the end).
 */
export function installNodeAccelerators(): void {
  setPlatformAccelerators(nodeAccelerators);
  if (!getBase64Codec()) setBase64Codec(nodeBase64Codec);
  if (!getInflateEngine()) setInflateEngine(nodeInflate);
}

/**
 * node:zlib's inflater in flowing mode: a write's callback comes once its piece has been processed, after the 'data'
 * events of everything it inflated to, so `write` resolves to exactly that piece's output (tested on Node 20, 22, 24).
 */
function nodeInflate(): InflateEngine {
  const z = createInflate();
  let out: Uint8Array[] = [];
  let failed: Error | undefined;
  z.on('data', (d: Buffer) => out.push(new Uint8Array(d.buffer, d.byteOffset, d.length)));
  z.on('error', (e: Error) => {
    failed ??= e;
  });
  const take = (): Uint8Array[] => {
    const o = out;
    out = [];
    return o;
  };
  const settle = (res: (v: Uint8Array[]) => void, rej: (e: Error) => void) => (e?: Error | null) => {
    if (e ?? failed) rej((e ?? failed)!);
    else res(take());
  };
  return {
    write: (piece) =>
      new Promise((res, rej) => {
        if (failed) return rej(failed);
        z.write(piece, settle(res, rej));
      }),
    end: () =>
      new Promise((res, rej) => {
        if (failed) return rej(failed);
        z.once('error', rej);
        z.end(() => {
          z.off('error', rej);
          settle(res, rej)();
        });
      }),
    cancel: () => {
      out = [];
      z.destroy();
    },
  };
}

/**
 * Base64 lines by Node's native encoder (the issue 16 hot path: the built-in table encoder was half of
 * encryptMessage's time): a run of whole lines is encoded in one call, written at its place in `out`, then spread
 * into lines from the last to the first (each moved line lands on bytes already read), each followed by CRLF. Only
 * what the run's own lines will occupy is written. Anything but one run of whole lines is declined (the built-in
 * encoder does the rest). And the stream decoder's runs of whole lines (`Base64Decoder`, decryptStream's and
 * verifyStream's base64 bodies) by Node's native decoder, 5–8 times faster than the built-in one: Node's decoder is
 * lenient (it skips bytes outside the alphabet and takes the URL-safe alphabet), so a run is declined, and decoded by
 * the built-in decoder with its errors, unless it decodes to exactly the bytes its chars give and holds no '-' or '_'.
 */
const nodeBase64Codec: Base64Codec = Object.freeze({
  encode(parts: readonly Uint8Array[], lineLength: number, out: Uint8Array, offset: number): boolean {
    const lineBytes = (lineLength / 4) * 3;
    if (parts.length !== 1) return false;
    const p = parts[0]!;
    const lines = p.length / lineBytes;
    if (lines === 0 || !Number.isInteger(lines)) return false;
    const o = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    const text = Buffer.from(p.buffer, p.byteOffset, p.length).toString('base64');
    o.write(text, offset, 'latin1');
    for (let k = lines - 1; k >= 0; k--) {
      const at = offset + k * (lineLength + 2);
      if (k > 0) o.copyWithin(at, offset + k * lineLength, offset + (k + 1) * lineLength);
      o[at + lineLength] = 13;
      o[at + lineLength + 1] = 10;
    }
    return true;
  },
  decodeLines(input: Uint8Array, chars: number, out: Uint8Array, offset: number): boolean {
    const want = (chars / 4) * 3;
    if (chars % 4 !== 0 || offset + want > out.length) return false;
    const src = Buffer.from(input.buffer, input.byteOffset, input.length);
    // Node's decoder also takes the URL-safe '-' and '_' (and skips any other byte, stops at '='): those two are
    // refused here, and any byte it skips or stops at makes it write fewer than `want` bytes.
    if (src.indexOf(45) >= 0 || src.indexOf(95) >= 0) return false;
    const o = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    return o.write(src.toString('latin1'), offset, want, 'base64') === want;
  },
});

/** A WebCrypto `Crypto` backed by Node's OpenSSL (see the module comment), created once. */
export function nodeCrypto(): Crypto {
  instance ??= {
    subtle: nodeSubtle(),
    getRandomValues: <T extends ArrayBufferView | null>(array: T): T => webcrypto.getRandomValues(array as never) as T,
    randomUUID: () => webcrypto.randomUUID(),
    [ACCELERATORS]: nodeAccelerators,
  } as Crypto;
  return instance;
}
