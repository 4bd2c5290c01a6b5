/**
 * `--pkcs11 MODULE`: the keys on a PKCS#11 token (smart card, HSM, PIV) beside the --identity files, for sign,
 * decrypt and open. The token is chosen by `--token LABEL` or `--slot N` (neither: the only token present), its PIN
 * comes as the secrets do (secrets.ts: --pin-file, --pin-env, --pin-fd, SMIME_PIN, a prompt on a terminal).
 *
 * smime-core/pkcs11 and its native binding (pkcs11js, an optional peer dependency) are loaded here only, and only
 * when --pkcs11 is given: the dynamic import below is a separate chunk of the bundled CLI (scripts/bundle-cli.mjs,
 * pkcs11js left external), so `smime --help` and every run without --pkcs11 work without pkcs11js installed.
 */
import { SmimeError, TokenUnavailable, type CertificateStore } from '../index.node.js';
// Types only (erased from the build): the CLI loads smime-core/pkcs11, and with it pkcs11js, only for --pkcs11.
import type { Pkcs11Options, Pkcs11Token } from '../pkcs11/index.js';
import { PIN, UsageError, type Args } from './options.js';
import { secretForm } from './secrets.js';

/**
 * An open token, as the CLI calls it: the part of smime-core/pkcs11's `Pkcs11Token` it uses (a `Pick`, so tests can
 * stand in for the token with a plain object; the class has private members).
 */
export type TokenHandle = Pick<Pkcs11Token, 'info' | 'identities' | 'close'>;

/** What the CLI uses of smime-core/pkcs11 (src/pkcs11/index.ts). */
export interface Pkcs11Api {
  /** Loads the module, finds the token and logs in. */
  openPkcs11Token(options: Pkcs11Options): Promise<TokenHandle>;
}

/** Where the token's identities go: `CertificateStore.importExternalIdentity`. */
export type ExternalIdentityStore = Pick<CertificateStore, 'importExternalIdentity'>;

/** The token the command line asks for. */
export interface TokenRequest {
  /** The PKCS#11 module (a shared library path). */
  module: string;
  /** The token's label (--token). */
  token?: string;
  /** The slot number (--slot). */
  slot?: number;
  /** How the token is named in messages: "token LABEL", "slot N" or "the token", with the module. */
  name: string;
}

const TOKEN_OPTIONS = ['token', 'slot', 'pin-file', 'pin-env', 'pin-fd'] as const;

/**
 * The token the options ask for, or undefined without --pkcs11; checked before anything is read. Usage errors:
 * --token with --slot, --token/--slot/a PIN option without --pkcs11, a slot that is not a number, two PIN forms.
 */
export function tokenRequest(a: Args): TokenRequest | undefined {
  const module = a.single.get('pkcs11');
  if (module === undefined) {
    const stray = TOKEN_OPTIONS.find((o) => a.single.has(o));
    if (stray !== undefined) throw new UsageError(`--${stray} needs --pkcs11 MODULE (the token's PKCS#11 module)`, a.command);
    return undefined;
  }
  if (typeof module !== 'string' || module === '') throw new UsageError('--pkcs11 takes the path of a PKCS#11 module', a.command);
  const token = a.single.get('token');
  const slot = a.single.get('slot');
  if (token !== undefined && slot !== undefined) throw new UsageError('give --token LABEL or --slot N, not both', a.command);
  if (slot !== undefined && (typeof slot !== 'string' || !/^\d{1,10}$/.test(slot) || Number(slot) > 0xffffffff))
    throw new UsageError(`--slot takes a slot number, e.g. 0 (not ${String(slot)})`, a.command);
  secretForm(a, PIN);
  const which = typeof token === 'string' ? `token "${token}"` : typeof slot === 'string' ? `slot ${slot}` : 'the token';
  return {
    module,
    ...(typeof token === 'string' ? { token } : {}),
    ...(typeof slot === 'string' ? { slot: Number(slot) } : {}),
    name: `${which} of ${module}`,
  };
}

/** The hint when the native binding is missing. */
export const INSTALL_HINT = 'npm install pkcs11js';

/**
 * pkcs11js (or its native part) cannot be loaded: TokenUnavailable (exit 8) whose message says how to install it,
 * the same whether the import of smime-core/pkcs11 or the opening of the token found it missing, and not tied to a
 * token (main.ts prints it as it is).
 */
export class BindingMissing extends TokenUnavailable {}

/** Whether an error says the pkcs11js binding (or its native part) could not be loaded. */
function bindingMissing(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | null;
  if (!err || typeof err !== 'object' || typeof err.message !== 'string' || !/\bpkcs11js\b/.test(err.message)) return false;
  if (err instanceof SmimeError) return err.code === TokenUnavailable.code;
  return err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'MODULE_NOT_FOUND' || err.code === 'ERR_DLOPEN_FAILED';
}

/** The error for a missing binding, with the command that installs it. */
function missingBinding(e: unknown): BindingMissing {
  if (e instanceof BindingMissing) return e;
  return new BindingMissing(`--pkcs11 needs the PKCS#11 binding pkcs11js, which cannot be loaded: ${INSTALL_HINT}`, { cause: e });
}

/**
 * smime-core/pkcs11, imported only now (a chunk of its own in the bundled CLI). It loads the binding itself when a
 * token is opened (src/pkcs11 is the only code that names it), so a missing pkcs11js shows then.
 */
async function importPkcs11(): Promise<Pkcs11Api> {
  const mod = await import('../pkcs11/index.js');
  const api: Pkcs11Api = mod;
  return api;
}

/**
 * Loads smime-core/pkcs11 (`load` replaces the import in tests). A missing pkcs11js, or one whose native module
 * does not load, is TokenUnavailable with the command that installs it; any other failure is TokenUnavailable too.
 */
export async function loadPkcs11(load: () => Promise<Pkcs11Api> = importPkcs11): Promise<Pkcs11Api> {
  try {
    const api = await load();
    if (typeof api?.openPkcs11Token !== 'function') throw new TypeError('smime-core/pkcs11 has no openPkcs11Token');
    return api;
  } catch (e) {
    if (bindingMissing(e)) throw missingBinding(e);
    if (e instanceof SmimeError) throw e;
    throw new TokenUnavailable(`smime-core/pkcs11 cannot be loaded: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/**
 * Opens the token, logs in with `pin` and imports each of its identities (certificate and key) into `store`.
 * Returns the open token, which the caller closes (in a `finally`); on a failure here it is closed already.
 */
export async function openTokenInto(api: Pkcs11Api, req: TokenRequest, pin: string, store: ExternalIdentityStore): Promise<TokenHandle> {
  let token: TokenHandle;
  try {
    token = await api.openPkcs11Token({
      module: req.module,
      ...(req.token !== undefined ? { token: req.token } : {}),
      ...(req.slot !== undefined ? { slot: req.slot } : {}),
      pin,
    });
  } catch (e) {
    if (bindingMissing(e)) throw missingBinding(e);
    throw e;
  }
  try {
    for (const id of await token.identities()) await store.importExternalIdentity(id.certificate, id.key);
    return token;
  } catch (e) {
    await closeQuietly(token);
    throw e;
  }
}

/** Closes a token; a failure to close (a token already removed) changes nothing for the command's result. */
export async function closeQuietly(token: TokenHandle | undefined): Promise<void> {
  if (!token) return;
  try {
    await token.close();
  } catch {
    /* the session is gone either way */
  }
}
