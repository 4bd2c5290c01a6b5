/** Every content cipher we offer, round trip through the API, and the default. */
import { describe, expect, it } from 'vitest';
import { decryptMessage, encryptMessage } from '../../src/index.js';
import { CIPHERS, type ContentCipherName } from '../../src/cms/content_cipher.js';
import { storeWith } from '../_helpers/identities.js';

const MSG = 'From: alice@example.com\r\nTo: bob@example.com\r\nSubject: c\r\nContent-Type: text/plain\r\n\r\nciphers\r\n';
const INNER = 'Content-Type: text/plain\r\n\r\nciphers\r\n';

describe('content ciphers', async () => {
  const store = await storeWith(['alice-enc-2025', 'ec-enc'], ['bob']);
  for (const cipher of Object.keys(CIPHERS) as ContentCipherName[]) {
    it(`${cipher} round-trips to RSA and ECDH recipients`, async () => {
      const out = await encryptMessage(MSG, { store, to: ['bob@example.com', 'ecuser@example.com'], from: 'alice@example.com', cipher });
      const head = new TextDecoder().decode(out.subarray(0, 400));
      const aead = cipher !== 'aes-128-cbc' && cipher !== 'aes-192-cbc' && cipher !== 'aes-256-cbc';
      expect(head).toContain(aead ? 'smime-type=authEnveloped-data' : 'smime-type=enveloped-data');
      const r = await decryptMessage(out, { store });
      expect(new TextDecoder().decode(r.content)).toBe(INNER);
      expect(r.cipher).toBe(cipher);
      expect(r.authenticated).toBe(aead);
      expect(r.type).toBe(aead ? 'authEnveloped' : 'enveloped');
    });
  }
  it('defaults to aes-256-cbc, which every deployed client reads', async () => {
    const out = await encryptMessage(MSG, { store, to: ['bob@example.com'], from: 'alice@example.com' });
    expect((await decryptMessage(out, { store })).cipher).toBe('aes-256-cbc');
  });
});
