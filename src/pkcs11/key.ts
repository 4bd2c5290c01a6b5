/**
 * A private key on a PKCS#11 token as an `ExternalKey`: each operation is one C_*Init + C_* pair (or one
 * C_DeriveKey) on the token's session, through the session's queue, with the asynchronous forms of the binding so
 * the event loop is not blocked while the token works.
 */
import type { ExternalDecryptAlgorithm, ExternalDecryptMode, ExternalKey, ExternalKeyType } from '../crypto/external_key.js';
import { children, integer, readTlv, seq, TAG } from '../lib/der.js';
import { KeyOperationRefused } from '../errors.js';
import type { P11Attribute, P11Handle, P11Mechanism } from './binding.js';
import { CKA, CKD_NULL, CKK, CKM, CKO, CKZ_DATA_SPECIFIED } from './constants.js';
import { oaepMechanismParams, signPlan } from './mechanisms.js';
import type { TokenSession } from './session.js';

/** What the token says about one private key. */
export interface TokenKeyFacts {
  handle: P11Handle;
  type: ExternalKeyType;
  /** RSA: the modulus length in bytes (0 when the token did not say). */
  modulusLength: number;
}

/** The largest signature or decryption result the adapter accepts from a token (RSA-16384). */
const MAX_OUTPUT = 2048;

/** The ExternalKey of a token's private key, offering what its type and the token's mechanisms allow. */
export function tokenKey(session: TokenSession, facts: TokenKeyFacts): ExternalKey {
  const { type } = facts;
  const has = (m: number) => session.mechanisms.has(m);
  const key: { -readonly [K in keyof ExternalKey]: ExternalKey[K] } = { type };
  if (type === 'rsa') {
    const modes: ExternalDecryptMode[] = [];
    if (has(CKM.RSA_X_509)) modes.push('rsa-raw');
    if (has(CKM.RSA_PKCS)) modes.push('rsaes-pkcs1-v1_5');
    if (has(CKM.RSA_PKCS_OAEP)) modes.push('rsaes-oaep');
    if (modes.length > 0) {
      key.decryptModes = modes;
      key.decrypt = (data, algorithm) => rsaDecrypt(session, facts, data, algorithm);
    }
  }
  // EdDSA keys sign only where the token offers CKM_EDDSA; RSA and EC signing is left to the token to refuse.
  if (type === 'rsa' || type === 'ec' || ((type === 'ed25519' || type === 'ed448') && has(CKM.EDDSA))) key.sign = (data, algorithm) => sign(session, facts, data, algorithm);
  if ((type === 'ec' || type === 'x25519' || type === 'x448') && has(CKM.ECDH1_DERIVE)) key.deriveSecret = (spki) => derive(session, facts, spki);
  return key;
}

function bytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice();
}

async function sign(session: TokenSession, facts: TokenKeyFacts, data: Uint8Array, algorithm: { oid: string; params?: Uint8Array }): Promise<Uint8Array> {
  const plan = signPlan(facts.type, algorithm.oid, algorithm.params);
  let input = data;
  let mechanism: P11Mechanism;
  if (plan.kind === 'rsa') {
    mechanism = plan.pss ? { mechanism: plan.mechanism, parameter: { type: session.module.params.rsaPss, ...plan.pss } } : { mechanism: plan.mechanism };
  } else if (plan.kind === 'ecdsa') {
    input = new Uint8Array(await globalThis.crypto.subtle.digest(plan.hash, new Uint8Array(data)));
    mechanism = { mechanism: CKM.ECDSA };
  } else mechanism = { mechanism: CKM.EDDSA };
  const out = await session.run('C_Sign', true, async (api, h) => {
    api.C_SignInit(h, mechanism, facts.handle);
    return bytes(await api.C_SignAsync(h, session.buffer(input), session.buffer(new Uint8Array(MAX_OUTPUT))));
  });
  if (plan.kind !== 'ecdsa') return out;
  // CKM_ECDSA answers r || s, each as long as the group order; CMS carries ECDSA-Sig-Value (RFC 3279 §2.2.3).
  if (out.length === 0 || out.length % 2 !== 0) throw new KeyOperationRefused('PKCS#11 C_Sign: the token returned a malformed ECDSA signature');
  const half = out.length / 2;
  return seq(integer(out.subarray(0, half)), integer(out.subarray(half)));
}

async function rsaDecrypt(session: TokenSession, facts: TokenKeyFacts, data: Uint8Array, algorithm: ExternalDecryptAlgorithm): Promise<Uint8Array> {
  let mechanism: P11Mechanism;
  if (algorithm === 'rsa-raw') mechanism = { mechanism: CKM.RSA_X_509 };
  else if (algorithm === 'rsaes-pkcs1-v1_5') mechanism = { mechanism: CKM.RSA_PKCS };
  else if (typeof algorithm === 'object' && algorithm !== null && algorithm.name === 'rsaes-oaep') {
    const { hashAlg, mgf } = oaepMechanismParams(algorithm.hash, algorithm.mgfHash);
    const parameter: { type: number } & Record<string, unknown> = { type: session.module.params.rsaOaep, hashAlg, mgf, source: CKZ_DATA_SPECIFIED };
    if (algorithm.label.length > 0) parameter.sourceData = session.buffer(algorithm.label);
    mechanism = { mechanism: CKM.RSA_PKCS_OAEP, parameter };
  } else throw new KeyOperationRefused('PKCS#11 decryption: unknown decryption form');
  const out = await session.run('C_Decrypt', true, async (api, h) => {
    api.C_DecryptInit(h, mechanism, facts.handle);
    return bytes(await api.C_DecryptAsync(h, session.buffer(data), session.buffer(new Uint8Array(MAX_OUTPUT))));
  });
  if (algorithm !== 'rsa-raw') return out;
  // The raw operation's result is as long as the modulus; a token that drops leading zero octets is padded back.
  const k = facts.modulusLength || data.length;
  if (out.length > k) throw new KeyOperationRefused('PKCS#11 C_Decrypt: the token returned more than the modulus length');
  if (out.length === k) return out;
  const padded = new Uint8Array(k);
  padded.set(out, k - out.length);
  return padded;
}

/** The public point of a SubjectPublicKeyInfo: its BIT STRING's bytes (an uncompressed EC point, or the raw X25519 key). */
function publicPoint(spki: Uint8Array): Uint8Array {
  try {
    const top = readTlv(spki, 0);
    const [alg, bits] = children(spki, top);
    if (!alg || !bits || bits.tagNo !== TAG.BIT_STRING || bits.constructed || spki[bits.contentStart] !== 0) throw new Error('no BIT STRING');
    const point = spki.subarray(bits.contentStart + 1, bits.contentEnd);
    if (point.length === 0 || point.length > 200) throw new Error('bad point length');
    return point;
  } catch {
    throw new KeyOperationRefused('PKCS#11 key agreement: the public key is not a SubjectPublicKeyInfo the adapter can read');
  }
}

async function derive(session: TokenSession, facts: TokenKeyFacts, spki: Uint8Array): Promise<Uint8Array> {
  const point = publicPoint(spki);
  // Z is as long as the field: the x-coordinate of an uncompressed point (04 || x || y), or the whole Montgomery key.
  const size = facts.type === 'ec' ? (point[0] === 0x04 && point.length % 2 === 1 ? (point.length - 1) / 2 : 0) : point.length;
  if (size === 0) throw new KeyOperationRefused('PKCS#11 key agreement: the public key is not an uncompressed EC point');
  const mechanism: P11Mechanism = { mechanism: CKM.ECDH1_DERIVE, parameter: { type: session.module.params.ecdh, kdf: CKD_NULL, publicData: session.buffer(point) } };
  const template: P11Attribute[] = [
    { type: CKA.CLASS, value: CKO.SECRET_KEY },
    { type: CKA.KEY_TYPE, value: CKK.GENERIC_SECRET },
    { type: CKA.TOKEN, value: false },
    { type: CKA.SENSITIVE, value: false },
    { type: CKA.EXTRACTABLE, value: true },
    { type: CKA.VALUE_LEN, value: size },
  ];
  return session.run('C_DeriveKey', true, async (api, h) => {
    const secret = await api.C_DeriveKeyAsync(h, mechanism, facts.handle, template);
    try {
      const [value] = api.C_GetAttributeValue(h, secret, [{ type: CKA.VALUE }]);
      if (!value || value.value.length !== size) throw new KeyOperationRefused('PKCS#11 C_DeriveKey: the token returned a secret of the wrong length');
      return bytes(value.value);
    } finally {
      try {
        api.C_DestroyObject(h, secret);
      } catch {
        // a session object: it goes with the session anyway
      }
    }
  });
}

