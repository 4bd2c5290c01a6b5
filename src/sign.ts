/** signMessage(): not implemented yet (the signatures issue). */
import { NotSupported } from './errors.js';
import type { CertificateStore } from './certs/store.js';

export interface SignOptions {
  store: CertificateStore;
  from: string;
  /** multipart/signed (default) or opaque application/pkcs7-mime signed-data. */
  detached?: boolean;
  crypto?: Crypto;
}

export async function signMessage(_mime: Uint8Array | string, _options: SignOptions): Promise<Uint8Array> {
  throw new NotSupported('signMessage is not implemented yet');
}
