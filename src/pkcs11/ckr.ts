/**
 * Maps what the PKCS#11 binding throws (a `Pkcs11Error` with the CKR name as its message and the CKR value as its
 * code, or a plain native error) to smime-core's typed errors. Messages name the operation and the CKR name only:
 * never a PIN, never key material.
 */
import { KeyOperationRefused, type SmimeError, TokenPinIncorrect, TokenUnavailable } from '../errors.js';
import { CKR } from './constants.js';

/** The CKR name and value of a binding error, when it carries one. */
export function ckrOf(err: unknown): { name: string; code: number } | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { message, code } = err as { message?: unknown; code?: unknown };
  if (typeof code !== 'number' || typeof message !== 'string') return undefined;
  // pkcs11js's NativeError (a failure that is not a CKR: a library that does not load, a bad argument) has code 0.
  if (code === 0 && !/^CKR_/.test(message)) return undefined;
  const name = /^CKR_[A-Z0-9_]+$/.test(message) ? message : `CKR 0x${code.toString(16)}`;
  return { name, code };
}

const PIN = new Set<number>([CKR.PIN_INCORRECT, CKR.PIN_INVALID, CKR.PIN_LEN_RANGE, CKR.PIN_EXPIRED, CKR.PIN_LOCKED]);
const GONE = new Set<number>([
  CKR.DEVICE_ERROR,
  CKR.DEVICE_MEMORY,
  CKR.DEVICE_REMOVED,
  CKR.FUNCTION_CANCELED,
  CKR.SESSION_CLOSED,
  CKR.SESSION_COUNT,
  CKR.SESSION_HANDLE_INVALID,
  CKR.TOKEN_NOT_PRESENT,
  CKR.TOKEN_NOT_RECOGNIZED,
  CKR.CRYPTOKI_NOT_INITIALIZED,
]);

/**
 * The typed error for a failure of `operation`: a refused PIN → `TokenPinIncorrect`; a token, device or session
 * that went away → `TokenUnavailable`; anything else the token answers → `KeyOperationRefused` when `keyOperation`
 * (the key would not do it), else `TokenUnavailable`.
 */
export function mapPkcs11Error(err: unknown, operation: string, keyOperation: boolean): SmimeError {
  const ckr = ckrOf(err);
  if (ckr && PIN.has(ckr.code)) return new TokenPinIncorrect(`PKCS#11 ${operation}: the token refused the PIN (${ckr.name})`);
  if (ckr && GONE.has(ckr.code)) return new TokenUnavailable(`PKCS#11 ${operation}: the token is not available (${ckr.name})`);
  if (ckr && keyOperation) return new KeyOperationRefused(`PKCS#11 ${operation}: the token refused the operation (${ckr.name})`);
  if (ckr) return new TokenUnavailable(`PKCS#11 ${operation} failed (${ckr.name})`);
  const what = err instanceof Error && err.message ? `: ${err.message.split('\n')[0]!.slice(0, 200)}` : '';
  if (keyOperation) return new KeyOperationRefused(`PKCS#11 ${operation} failed${what}`);
  return new TokenUnavailable(`PKCS#11 ${operation} failed${what}`);
}
