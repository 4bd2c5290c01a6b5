/**
 * Node's crypto provider: the one module in src/ (besides the CLI) that may use Node-only APIs.
 * `smime-core/node` exports it: `setCrypto(nodeCrypto())` makes every call use @peculiar/webcrypto, which runs on
 * Node's OpenSSL, except for what Node's own WebCrypto does faster with the same results: AES-CBC and AES-GCM with
 * raw keys (the content encryption; @peculiar's AES is about three times slower) and the SHA digests. It also
 * streams AES-GCM content, and the decryption of large AES-CBC content, through node:crypto (see INCREMENTAL_AES in
 * src/cms/content_cipher.ts).
 * @peculiar/webcrypto is loaded on first use, not at import: a CLI run that needs only AES, SHA and the RSA done in
 * TypeScript starts without it.
 */
import { createCipheriv, createDecipheriv, webcrypto, type CipherGCMTypes } from 'node:crypto';
import { INCREMENTAL_AES, type AesStream, type IncrementalAes } from '../cms/content_cipher.js';

let instance: Crypto | undefined;
let peculiar: Promise<SubtleCrypto> | undefined;

function loadPeculiar(): Promise<SubtleCrypto> {
  peculiar ??= import('@peculiar/webcrypto').then((m) => new m.Crypto().subtle as unknown as SubtleCrypto);
  return peculiar;
}

const native = webcrypto.subtle as unknown as SubtleCrypto;
const NativeKey = globalThis.CryptoKey;
const NATIVE_KEYS = new Set(['AES-CBC', 'AES-GCM']);
const NATIVE_DIGESTS = new Set(['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512']);
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

/** node:crypto's ciphers, for the content encryption to stream AES (see INCREMENTAL_AES). */
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
    const c = createDecipheriv(gcm, key, iv, options);
    if (aad) c.setAAD(aad);
    c.setAuthTag(tag!);
    return { update: (d) => bytes(c.update(d)), final: () => bytes(c.final()), tag: noTag };
  },
};

/** A WebCrypto `Crypto` backed by Node's OpenSSL (see the module comment), created once. */
export function nodeCrypto(): Crypto {
  instance ??= {
    subtle: nodeSubtle(),
    getRandomValues: <T extends ArrayBufferView | null>(array: T): T => webcrypto.getRandomValues(array as never) as T,
    randomUUID: () => webcrypto.randomUUID(),
    [INCREMENTAL_AES]: incrementalAes,
  } as Crypto;
  return instance;
}
