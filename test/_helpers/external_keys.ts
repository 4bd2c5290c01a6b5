/**
 * `ExternalKey` test doubles on node:crypto: an in-memory key that does what a token does (raw RSA with
 * RSA_NO_PADDING, OAEP, signatures with crypto.sign, ECDH/X25519 with crypto.diffieHellman), and wrappers that hide
 * the raw operation (a v1.5-only token), refuse everything, return garbage, or drop an operation. Every double
 * counts its calls.
 */
import {
  constants,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  privateDecrypt,
  randomBytes,
  sign as nodeSign,
  type KeyObject,
} from 'node:crypto';
import type { ExternalDecryptAlgorithm, ExternalKey, ExternalKeyType } from '../../src/index.js';

/** Calls made to a double, by operation (decrypt: the algorithm asked, 'rsa-raw', 'rsaes-pkcs1-v1_5' or 'rsaes-oaep'). */
export interface KeyCalls {
  sign: string[];
  decrypt: string[];
  derive: number;
}

/** A double with its call log. */
export type CountedKey = ExternalKey & { calls: KeyCalls };

const HASH_BY_SIG_OID: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};
/** The DER content of the hash OIDs, to find the hash of RSASSA-PSS-params. */
const HASH_OID_BYTES: [string, number[], number][] = [
  ['sha256', [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01], 32],
  ['sha384', [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02], 48],
  ['sha512', [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03], 64],
];
const PSS_OID = '1.2.840.113549.1.1.10';
const ED25519_OID = '1.3.101.112';

function includes(hay: Uint8Array, needle: number[]): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

function nodeHash(h: string): string {
  return h.toLowerCase().replace('-', '');
}

/** The in-memory double over a PEM (PKCS#8 or traditional) private key. */
export function nodeExternalKey(pem: string | KeyObject): CountedKey {
  const key = typeof pem === 'string' ? createPrivateKey(pem) : pem;
  const t = key.asymmetricKeyType!;
  const type = (t === 'rsa' ? 'rsa' : t === 'ec' ? 'ec' : t) as ExternalKeyType;
  const calls: KeyCalls = { sign: [], decrypt: [], derive: 0 };
  const out: CountedKey = { type, calls } as CountedKey;
  if (type !== 'x25519' && type !== 'x448') {
    out.sign = async (data, algorithm) => {
      calls.sign.push(algorithm.oid);
      if (algorithm.oid === ED25519_OID) return new Uint8Array(nodeSign(null, data, key));
      if (algorithm.oid === PSS_OID) {
        if (!algorithm.params) throw new Error('PSS without parameters');
        const h = HASH_OID_BYTES.find(([, b]) => includes(algorithm.params!, b));
        if (!h) throw new Error('PSS hash not supported by the double');
        return new Uint8Array(nodeSign(h[0], data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: h[2] }));
      }
      const hash = HASH_BY_SIG_OID[algorithm.oid];
      if (!hash) throw new Error(`algorithm ${algorithm.oid} not supported by the double`);
      return new Uint8Array(nodeSign(hash, data, type === 'ec' ? { key, dsaEncoding: 'der' } : key));
    };
  }
  if (type === 'rsa') {
    (out as { decryptModes?: ExternalKey['decryptModes'] }).decryptModes = ['rsa-raw', 'rsaes-oaep'];
    out.decrypt = async (data: Uint8Array, algorithm: ExternalDecryptAlgorithm) => {
      calls.decrypt.push(typeof algorithm === 'string' ? algorithm : algorithm.name);
      if (algorithm === 'rsa-raw') return new Uint8Array(privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, data));
      if (algorithm === 'rsaes-pkcs1-v1_5') throw new Error('this double does v1.5 only through v15Only()');
      if (algorithm.hash !== algorithm.mgfHash) throw new Error('node:crypto OAEP has one hash for both uses');
      return new Uint8Array(
        privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: nodeHash(algorithm.hash), oaepLabel: algorithm.label }, data),
      );
    };
  }
  if (type === 'ec' || type === 'x25519' || type === 'x448') {
    out.deriveSecret = async (spki) => {
      calls.derive++;
      const publicKey = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
      return new Uint8Array(diffieHellman({ privateKey: key, publicKey }));
    };
  }
  return out;
}

/**
 * A token that cannot do raw RSA: 'rsaes-pkcs1-v1_5' (and OAEP) only. Node 20 refuses RSA_PKCS1_PADDING
 * decryption (CVE-2023-46809), so v1.5 is the raw operation and a strict, NOT constant-time unpadding that throws
 * on bad padding: exactly what a token's C_Decrypt with CKM_RSA_PKCS does.
 */
export function v15Only(inner: CountedKey): CountedKey {
  const calls: KeyCalls = { sign: [], decrypt: [], derive: 0 };
  return {
    type: inner.type,
    calls,
    decryptModes: ['rsaes-pkcs1-v1_5', 'rsaes-oaep'],
    async decrypt(data: Uint8Array, algorithm: ExternalDecryptAlgorithm): Promise<Uint8Array> {
      calls.decrypt.push(typeof algorithm === 'string' ? algorithm : algorithm.name);
      if (algorithm === 'rsa-raw') throw new Error('CKR_MECHANISM_INVALID');
      if (algorithm !== 'rsaes-pkcs1-v1_5') return inner.decrypt!(data, algorithm);
      const em = await inner.decrypt!(data, 'rsa-raw');
      if (em[0] !== 0 || em[1] !== 2) throw new Error('CKR_ENCRYPTED_DATA_INVALID');
      const sep = em.indexOf(0, 2);
      if (sep < 10) throw new Error('CKR_ENCRYPTED_DATA_INVALID');
      return em.slice(sep + 1);
    },
  };
}

/** A key of `type` whose every operation throws `error` (default: a plain Error, as a device's driver might). */
export function refusingKey(type: ExternalKeyType, error: unknown = new Error('the device said no')): CountedKey {
  const calls: KeyCalls = { sign: [], decrypt: [], derive: 0 };
  const k: CountedKey = {
    type,
    calls,
    async sign(_d, a) {
      calls.sign.push(a.oid);
      throw error;
    },
  };
  if (type === 'rsa') {
    k.decrypt = async (_d, a) => {
      calls.decrypt.push(typeof a === 'string' ? a : a.name);
      throw error;
    };
  } else if (type === 'ec' || type === 'x25519') {
    k.deriveSecret = async () => {
      calls.derive++;
      throw error;
    };
  }
  return k;
}

/** A key that answers every operation with random bytes of a plausible length (`size`: the modulus or field). */
export function garbageKey(type: ExternalKeyType, size: number): CountedKey {
  const calls: KeyCalls = { sign: [], decrypt: [], derive: 0 };
  const k: CountedKey = {
    type,
    calls,
    async sign(_d, a) {
      calls.sign.push(a.oid);
      return new Uint8Array(randomBytes(type === 'ed25519' ? 64 : size));
    },
  };
  if (type === 'rsa') {
    k.decrypt = async (_d, a) => {
      calls.decrypt.push(typeof a === 'string' ? a : a.name);
      return new Uint8Array(randomBytes(size));
    };
  } else {
    k.deriveSecret = async () => {
      calls.derive++;
      return new Uint8Array(randomBytes(size));
    };
  }
  return k;
}

/** The key without some of its operations (e.g. a decrypt-only key on a token whose CKA_SIGN is false). */
export function without(inner: CountedKey, ...ops: ('sign' | 'decrypt' | 'deriveSecret')[]): CountedKey {
  const k = { ...inner } as CountedKey;
  for (const op of ops) {
    delete (k as unknown as Record<string, unknown>)[op];
    if (op === 'decrypt') delete (k as { decryptModes?: unknown }).decryptModes;
  }
  return k;
}
