/**
 * `openPkcs11Token` and `Pkcs11Token`: find a token on a PKCS#11 module by label or slot, log in, and list its
 * identities (each certificate paired with the private key of the same CKA_ID) as `ExternalKey`s.
 */
import type { ExternalKey, ExternalKeyType } from '../crypto/external_key.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { TokenNotFound, TokenPinIncorrect, TokenUnavailable } from '../errors.js';
import { acquireModule, type LoadedModule, type P11Api, type P11Handle, releaseModule } from './binding.js';
import { CKA, CKC_X_509, CKF_SERIAL_SESSION, CKF_TOKEN_INITIALIZED, CKK, CKO, CKR, CKU_USER } from './constants.js';
import { ckrOf, mapPkcs11Error } from './ckr.js';
import { tokenKey } from './key.js';
import { TokenSession } from './session.js';

/** How to reach a token. */
export interface Pkcs11Options {
  /** The path of the PKCS#11 module (.so, .dylib, .dll). */
  module: string;
  /** The token's label; `token` or `slot`, not both. Neither: the only token present. */
  token?: string;
  /** The slot ID as the module reports it (`pkcs11-tool --list-slots`). */
  slot?: number;
  /** The user PIN. Absent: no login (only public objects are seen, and keys refuse). */
  pin?: string;
}

/** A certificate on the token with the private key of the same CKA_ID. */
export interface Pkcs11Identity {
  /** The certificate object's CKA_VALUE (DER). */
  certificate: Uint8Array;
  /** The private key with the same CKA_ID. */
  key: ExternalKey;
  /** CKA_ID. */
  id: Uint8Array;
  /** The certificate's CKA_LABEL. */
  label: string;
}

/** What the token says about itself (C_GetTokenInfo, blank padding removed) and its slot. */
export interface Pkcs11TokenInfo {
  /** The token label. */
  label: string;
  /** The device's manufacturer. */
  manufacturer: string;
  /** The device's model. */
  model: string;
  /** The device's serial number. */
  serial: string;
  /** The slot ID. */
  slot: number;
}

/** The most certificates, or private keys, read from one token. */
const MAX_OBJECTS = 1024;
/** The largest certificate read (CKA_VALUE). */
const MAX_CERTIFICATE = 64 * 1024;
/** The longest CKA_ID or CKA_LABEL kept. */
const MAX_ATTRIBUTE = 1024;

function slotNumber(h: P11Handle): number {
  let v = 0;
  for (let i = Math.min(h.length, 7) - 1; i >= 0; i--) v = v * 256 + h[i]!;
  return v;
}

const trim = (s: string) => s.replace(/[\s\0]+$/, '');
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const bytes = (b: Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice();

/** An open session on one token. Close it with `close()`; keys taken from it stop working then. */
export class Pkcs11Token {
  /** The token's label, manufacturer, model, serial number and slot. */
  readonly info: Pkcs11TokenInfo;
  private readonly session: TokenSession;
  private closing: Promise<void> | undefined;

  /** Use `openPkcs11Token`. (Private, so the declarations name no internal type; `openPkcs11Token` calls it.) */
  private constructor(info: Pkcs11TokenInfo, session: TokenSession) {
    this.info = info;
    this.session = session;
  }

  /**
   * The identities on the token: every X.509 certificate object paired with the private key of the same CKA_ID;
   * certificates without a key are left out. Without a login (no PIN) the private keys are not visible: empty.
   */
  identities(): Promise<Pkcs11Identity[]> {
    const session = this.session;
    return session.run('C_FindObjects', false, (api, h) => {
      const keys = new Map<string, { handle: P11Handle; type: ExternalKeyType; modulusLength: number }>();
      for (const k of find(api, h, [{ type: CKA.CLASS, value: CKO.PRIVATE_KEY }])) {
        const [id, kt] = api.C_GetAttributeValue(h, k, [{ type: CKA.ID }, { type: CKA.KEY_TYPE }]);
        if (!id || !kt || id.value.length > MAX_ATTRIBUTE) continue;
        const type = keyType(api, h, k, ulong(kt.value));
        if (!type) continue;
        let modulusLength = 0;
        if (type === 'rsa') {
          try {
            const [m] = api.C_GetAttributeValue(h, k, [{ type: CKA.MODULUS }]);
            const mod = m?.value ?? new Uint8Array(0);
            let i = 0;
            while (i < mod.length && mod[i] === 0) i++;
            modulusLength = mod.length - i;
          } catch {
            modulusLength = 0;
          }
        }
        const tag = hex(id.value);
        if (!keys.has(tag)) keys.set(tag, { handle: k, type, modulusLength });
      }
      const out: Pkcs11Identity[] = [];
      if (keys.size === 0) return out;
      for (const c of find(api, h, [
        { type: CKA.CLASS, value: CKO.CERTIFICATE },
        { type: CKA.CERTIFICATE_TYPE, value: CKC_X_509 },
      ])) {
        const [id] = api.C_GetAttributeValue(h, c, [{ type: CKA.ID }]);
        const facts = id && keys.get(hex(id.value));
        if (!id || !facts) continue;
        const [value, label] = api.C_GetAttributeValue(h, c, [{ type: CKA.VALUE }, { type: CKA.LABEL }]);
        if (!value || value.value.length === 0 || value.value.length > MAX_CERTIFICATE) continue;
        out.push({
          certificate: bytes(value.value),
          key: tokenKey(session, facts),
          id: bytes(id.value),
          label: label ? new TextDecoder().decode(label.value.subarray(0, MAX_ATTRIBUTE)) : '',
        });
      }
      return out;
    });
  }

  /**
   * Imports every identity of the token into a store (`CertificateStore.importExternalIdentity`, the same rules as
   * any identity) and returns what the store gives back, one per identity, in token order.
   *
   * @example
   * ```ts
   * const token = await openPkcs11Token({ module, token: 'mail', pin });
   * await token.importInto(store); // the token's identities sign and decrypt through the token
   * ```
   */
  async importInto<T>(store: { importExternalIdentity(certificate: Uint8Array, key: ExternalKey): Promise<T> }): Promise<T[]> {
    if (typeof store?.importExternalIdentity !== 'function') throw new TypeError('importInto: store must be a CertificateStore');
    const out: T[] = [];
    for (const id of await this.identities()) out.push(await store.importExternalIdentity(id.certificate, id.key));
    return out;
  }

  /** Logs out, closes the session; the module is finalized when its last token closes. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const m = this.session.module;
      const entry = m.openBySlot.get(this.info.slot);
      const left = (entry?.count ?? 1) - 1;
      if (entry && left > 0) entry.count = left;
      else m.openBySlot.delete(this.info.slot);
      await this.session.close(left === 0);
      releaseModule(m);
    })();
    return this.closing;
  }
}

/** CK_ULONG from an attribute value (little-endian, as the binding reads it on the platforms Node runs on). */
function ulong(b: Uint8Array): number {
  let v = 0;
  for (let i = Math.min(b.length, 6) - 1; i >= 0; i--) v = v * 256 + b[i]!;
  return v;
}

/** The ExternalKey type of a private key, from CKA_KEY_TYPE (and the curve for EdDSA and Montgomery keys). */
function keyType(api: P11Api, h: P11Handle, k: P11Handle, ckk: number): ExternalKeyType | undefined {
  if (ckk === CKK.RSA) return 'rsa';
  if (ckk === CKK.EC) return 'ec';
  if (ckk !== CKK.EC_EDWARDS && ckk !== CKK.EC_MONTGOMERY) return undefined;
  let params: Uint8Array = new Uint8Array(0);
  try {
    params = api.C_GetAttributeValue(h, k, [{ type: CKA.EC_PARAMS }])[0]?.value ?? params;
  } catch {
    return undefined;
  }
  // An OID (1.3.101.110 … 113) or a PrintableString curve name ("edwards25519", "curve448", …).
  const text = new TextDecoder('latin1').decode(params);
  const last = params[params.length - 1];
  const is448 = (params[0] === 0x06 && (last === 111 || last === 113)) || /448/.test(text);
  if (ckk === CKK.EC_EDWARDS) return is448 ? 'ed448' : 'ed25519';
  return is448 ? 'x448' : 'x25519';
}

/** The objects matching `template`, at most MAX_OBJECTS. */
function find(api: P11Api, h: P11Handle, template: { type: number; value: number }[]): P11Handle[] {
  api.C_FindObjectsInit(h, template);
  try {
    return api.C_FindObjects(h, MAX_OBJECTS);
  } finally {
    api.C_FindObjectsFinal(h);
  }
}

/** The slot to open: by number, by label, or the only token present; none → TokenNotFound. */
function chooseSlot(api: P11Api, options: Pkcs11Options): { slot: P11Handle; info: Pkcs11TokenInfo } {
  const slots = api.C_GetSlotList(true).slice(0, MAX_OBJECTS);
  const infos = slots.map((slot) => {
    const t = api.C_GetTokenInfo(slot);
    return { slot, initialized: (t.flags & CKF_TOKEN_INITIALIZED) !== 0, info: { label: trim(t.label), manufacturer: trim(t.manufacturerID), model: trim(t.model), serial: trim(t.serialNumber), slot: slotNumber(slot) } };
  });
  if (options.slot !== undefined) {
    const hit = infos.find((s) => s.info.slot === options.slot);
    if (!hit) throw new TokenNotFound(`PKCS#11: no token in slot ${options.slot}`);
    return hit;
  }
  if (options.token !== undefined) {
    const hits = infos.filter((s) => s.initialized && s.info.label === options.token);
    if (hits.length === 0) throw new TokenNotFound(`PKCS#11: no token labelled ${JSON.stringify(options.token)}`);
    if (hits.length > 1) throw new TokenNotFound(`PKCS#11: ${hits.length} tokens are labelled ${JSON.stringify(options.token)}; choose one by slot`);
    return hits[0]!;
  }
  // SoftHSM (and some readers) always show one more, uninitialized, token: it is not a choice.
  const ready = infos.filter((s) => s.initialized);
  if (ready.length === 0) throw new TokenNotFound('PKCS#11: no token present');
  if (ready.length > 1) throw new TokenNotFound(`PKCS#11: ${ready.length} tokens present (${ready.map((s) => JSON.stringify(s.info.label)).join(', ')}); choose one by label or slot`);
  return ready[0]!;
}

/**
 * Opens a token on a PKCS#11 module: loads the module (once per process), finds the token by label or slot (or the
 * only one present), opens a session and logs in with the PIN. Node only; needs the optional peer dependency
 * pkcs11js.
 *
 * @throws TokenUnavailable when pkcs11js is not installed, the module does not load, or the token cannot be used;
 *   TokenNotFound when no token matches; TokenPinIncorrect when the token refuses the PIN.
 * @example
 * ```ts
 * const token = await openPkcs11Token({ module: '/usr/lib/softhsm/libsofthsm2.so', token: 'mail', pin });
 * await token.importInto(store); // each certificate with its key, as store.importExternalIdentity(certificate, key)
 * // … sign, decrypt …
 * await token.close();
 * ```
 */
export async function openPkcs11Token(options: Pkcs11Options): Promise<Pkcs11Token> {
  if (typeof options?.module !== 'string' || options.module === '') throw new TokenUnavailable('PKCS#11: no module path given');
  if (options.token !== undefined && options.slot !== undefined) throw new TokenNotFound('PKCS#11: give a token label or a slot, not both');
  if (options.slot !== undefined && (!Number.isSafeInteger(options.slot) || options.slot < 0)) throw new TokenNotFound('PKCS#11: the slot must be a non-negative integer');
  const m: LoadedModule = await acquireModule(options.module);
  let session: P11Handle | undefined;
  let slotId = -1;
  let counted = false;
  try {
    let chosen: { slot: P11Handle; info: Pkcs11TokenInfo };
    try {
      chosen = chooseSlot(m.api, options);
    } catch (e) {
      if (e instanceof TokenNotFound) throw e;
      throw mapPkcs11Error(e, 'C_GetSlotList', false);
    }
    slotId = chosen.info.slot;
    const { api } = m;
    let mechanisms: number[];
    try {
      mechanisms = api.C_GetMechanismList(chosen.slot).slice(0, 4096);
      session = api.C_OpenSession(chosen.slot, CKF_SERIAL_SESSION);
    } catch (e) {
      throw mapPkcs11Error(e, 'C_OpenSession', false);
    }
    const entry = m.openBySlot.get(slotId);
    let loggedIn = false;
    let pinDigest: Uint8Array | undefined;
    if (options.pin !== undefined) {
      pinDigest = new Uint8Array(createHash('sha256').update(options.pin, 'utf8').digest());
      try {
        api.C_Login(session, CKU_USER, options.pin);
      } catch (e) {
        if (ckrOf(e)?.code !== CKR.USER_ALREADY_LOGGED_IN) throw mapPkcs11Error(e, 'C_Login', false);
        // Logged in already by another token of ours: the PIN must be the one that did it.
        const known = entry?.pinDigest;
        if (known && !timingSafeEqual(known, pinDigest)) throw new TokenPinIncorrect('PKCS#11 C_Login: the token refused the PIN (CKR_PIN_INCORRECT)');
      }
      loggedIn = true;
    }
    if (entry) {
      entry.count++;
      entry.pinDigest ??= pinDigest;
    } else m.openBySlot.set(slotId, { count: 1, pinDigest });
    counted = true;
    const construct = Pkcs11Token as unknown as new (info: Pkcs11TokenInfo, session: TokenSession) => Pkcs11Token;
    return new construct(chosen.info, new TokenSession(m, slotId, session, mechanisms, loggedIn));
  } catch (e) {
    if (!counted) {
      if (session) {
        try {
          m.api.C_CloseSession(session);
        } catch {
          // nothing more to release
        }
      }
      releaseModule(m);
    }
    throw e;
  }
}
