/** verifyMessage() and openMessage(): not implemented yet (the signatures issue). */
import { NotSupported } from './errors.js';
import type { CertificateStore } from './certs/store.js';

export interface VerifyOptions {
  store: CertificateStore;
  crypto?: Crypto;
}

export async function verifyMessage(_message: Uint8Array | string, _options: VerifyOptions): Promise<never> {
  throw new NotSupported('verifyMessage is not implemented yet');
}

export async function openMessage(_message: Uint8Array | string, _options: VerifyOptions): Promise<never> {
  throw new NotSupported('openMessage is not implemented yet');
}
