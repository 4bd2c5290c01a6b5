/** Reads the DER certificates of a PEM file. */
import { readFileSync } from 'node:fs';

export function certificatesFromPem(path: string): Uint8Array[] {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/g)].map((m) => new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
}
