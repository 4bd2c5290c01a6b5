/**
 * Loading the PKCS#11 binding and the modules it opens.
 *
 * The binding is pkcs11js (PeculiarVentures, an optional peer dependency): a thin N-API layer over the Cryptoki
 * functions, with asynchronous forms of C_Sign, C_Decrypt and C_DeriveKey that run on libuv's thread pool. We use it
 * rather than graphene-pk11 because graphene is an object layer on top of pkcs11js, and the adapter needs the raw
 * mechanisms (CKM_RSA_X_509 for the constant-time PKCS#1 v1.5 unpadding of RFC 3218, CKM_ECDH1_DERIVE with the
 * derived secret read back) with nothing in between; pkcs11js is small and maintained (2.1.7, August 2026).
 *
 * It is loaded with a dynamic `import()` (lib/optional_peer.ts) only by `openPkcs11Token`, so `import 'smime-core'`
 * never loads a native module. A module (the .so) is loaded and C_Initialize'd once per process and path, shared by
 * every token opened on it, and C_Finalize'd when its last token closes.
 */
import { TokenUnavailable } from '../errors.js';
import { optionalPeer } from '../lib/optional_peer.js';
import { CKR } from './constants.js';
import { ckrOf, mapPkcs11Error } from './ckr.js';

/** An attribute in a template: type and value (the binding encodes numbers, booleans and Buffers). */
export interface P11Attribute {
  type: number;
  value?: number | boolean | string | Uint8Array;
}

/** An attribute as read back. */
export interface P11AttributeResult {
  type: number;
  value: Uint8Array;
}

/** A mechanism with its parameter (a binding parameter structure: `type` is a CK_PARAMS_* tag of the binding). */
export interface P11Mechanism {
  mechanism: number;
  parameter?: Uint8Array | number | ({ type: number } & Record<string, unknown>);
}

/** A slot, session or object handle as the binding gives it (a Buffer holding the CK_ULONG). */
export type P11Handle = Uint8Array;

/** The part of pkcs11js's `PKCS11` class the adapter calls (kept here so no exported type names the binding). */
export interface P11Api {
  load(path: string): void;
  C_Initialize(): void;
  C_Finalize(): void;
  close(): void;
  C_GetSlotList(tokenPresent?: boolean): P11Handle[];
  C_GetTokenInfo(slot: P11Handle): { label: string; manufacturerID: string; model: string; serialNumber: string; flags: number };
  C_GetMechanismList(slot: P11Handle): number[];
  C_OpenSession(slot: P11Handle, flags: number): P11Handle;
  C_CloseSession(session: P11Handle): void;
  C_Login(session: P11Handle, userType: number, pin?: string): void;
  C_Logout(session: P11Handle): void;
  C_FindObjectsInit(session: P11Handle, template: P11Attribute[]): void;
  C_FindObjects(session: P11Handle, max: number): P11Handle[];
  C_FindObjectsFinal(session: P11Handle): void;
  C_GetAttributeValue(session: P11Handle, object: P11Handle, template: P11Attribute[]): P11AttributeResult[];
  C_DestroyObject(session: P11Handle, object: P11Handle): void;
  C_SignInit(session: P11Handle, mechanism: P11Mechanism, key: P11Handle): void;
  C_SignAsync(session: P11Handle, data: Uint8Array, out: Uint8Array): Promise<Uint8Array>;
  C_DecryptInit(session: P11Handle, mechanism: P11Mechanism, key: P11Handle): void;
  C_DecryptAsync(session: P11Handle, data: Uint8Array, out: Uint8Array): Promise<Uint8Array>;
  C_DeriveKeyAsync(session: P11Handle, mechanism: P11Mechanism, key: P11Handle, template: P11Attribute[]): Promise<P11Handle>;
}

/** The binding's parameter-structure tags (pkcs11js constants, not PKCS#11 values). */
export interface P11ParamTags {
  rsaOaep: number;
  rsaPss: number;
  ecdh: number;
}

/** The open tokens on one slot, and the digest of the PIN that logged the slot in (undefined: no login by us). */
export interface SlotLogin {
  count: number;
  pinDigest: Uint8Array | undefined;
}

/** One loaded, initialized module and the tokens open on it. */
export interface LoadedModule {
  readonly path: string;
  readonly api: P11Api;
  readonly params: P11ParamTags;
  /**
   * The open tokens per slot. A login is shared by every session of the process on the slot, so only the last token
   * to close logs out, and a PIN given while the slot is already logged in is checked against the SHA-256 of the PIN
   * that logged it in (the token would answer CKR_USER_ALREADY_LOGGED_IN to any PIN).
   */
  readonly openBySlot: Map<number, SlotLogin>;
  /** Open tokens in all. */
  refs: number;
}

interface BindingModule {
  PKCS11: new () => P11Api;
  CK_PARAMS_RSA_OAEP: number;
  CK_PARAMS_RSA_PSS: number;
  CK_PARAMS_EC_DH: number;
}

/** pkcs11js, loaded once at the first `acquireModule`; not installed (or not built) → TokenUnavailable saying how to install it. */
const loadBinding = optionalPeer<BindingModule>({
  name: 'pkcs11js',
  neededBy: 'smime-core/pkcs11',
  install: 'npm install pkcs11js',
  pick: (mod) => {
    const m = mod as { default?: Partial<BindingModule> } & Partial<BindingModule>;
    const b = m.default ?? m;
    return typeof b.PKCS11 === 'function' ? (b as BindingModule) : undefined;
  },
});

const modules = new Map<string, LoadedModule>();

/** The module at `path`, loaded and initialized (or the one already loaded); one more reference to it. */
export async function acquireModule(path: string): Promise<LoadedModule> {
  const b = await loadBinding();
  let m = modules.get(path);
  if (!m) {
    const api = new b.PKCS11();
    try {
      api.load(path);
    } catch (e) {
      throw new TokenUnavailable(`PKCS#11 module ${JSON.stringify(path)} could not be loaded`, { cause: e });
    }
    try {
      api.C_Initialize();
    } catch (e) {
      if (ckrOf(e)?.code !== CKR.CRYPTOKI_ALREADY_INITIALIZED) {
        try {
          api.close();
        } catch {
          // nothing more to release
        }
        throw mapPkcs11Error(e, 'C_Initialize', false);
      }
    }
    m = { path, api, params: { rsaOaep: b.CK_PARAMS_RSA_OAEP, rsaPss: b.CK_PARAMS_RSA_PSS, ecdh: b.CK_PARAMS_EC_DH }, openBySlot: new Map(), refs: 0 };
    modules.set(path, m);
  }
  m.refs++;
  return m;
}

/** Gives back one reference; the last one finalizes and unloads the module. */
export function releaseModule(m: LoadedModule): void {
  m.refs--;
  if (m.refs > 0) return;
  modules.delete(m.path);
  try {
    m.api.C_Finalize();
  } catch {
    // the module is being dropped anyway
  }
  try {
    m.api.close();
  } catch {
    // idem
  }
}
