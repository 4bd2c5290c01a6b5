/**
 * Harvesting after a valid signature learns only what concerns the signer: its path's certificates and its own
 * other certificates (its encryption certificate). Anything else a message carries (the certificates field is not
 * covered by the signature) stays out of the store, so a correspondent can't fill the store that every later path
 * building looks at.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { signMessage, verifyMessage } from '../../src/index.js';
import { children, readTlv, seq, tlv } from '../../src/lib/der.js';
import { cmsOf, makePki, MESSAGE, pkcs7Mime, storeFor, type TestPki } from '../sign/_pki.js';
import { storeInternals } from '../../src/store/internal.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await makePki();
});

/** The SignedData with `extra` certificates appended to its certificates field. */
function withExtraCerts(der: Uint8Array, extra: Uint8Array[]): Uint8Array {
  const top = readTlv(der, 0);
  const [typeT, ctxT] = children(der, top);
  const sdT = children(der, ctxT!)[0]!;
  const fields = children(der, sdT).map((t) => der.subarray(t.start, t.end));
  const i = fields.findIndex((f) => f[0] === 0xa0);
  const certs = children(fields[i]!, readTlv(fields[i]!, 0)).map((t) => fields[i]!.subarray(t.start, t.end));
  fields[i] = tlv(0xa0, ...certs, ...extra);
  return seq(der.subarray(typeT!.start, typeT!.end), tlv(0xa0, seq(...fields)));
}

describe('harvest', () => {
  it('learns the signer\'s path and its encryption certificate, not the other certificates of the message', async () => {
    const alice = await storeFor(pki, ['alice-sign', 'alice-enc']);
    const opaque = await signMessage(MESSAGE, { store: alice, from: 'alice@example.com', detached: false });
    const junk = ['grace-untrusted', 'erin-tls', 'noeku', 'carol'].flatMap((n) => (pki.ids[n] ? [pki.ids[n]!.der] : []));
    const message = pkcs7Mime(withExtraCerts(cmsOf(opaque), [...junk, pki.otherRoot.der]), 'From: alice@example.com\r\n');
    const bob = await storeFor(pki, ['bob']);
    const r = await verifyMessage(message, { store: bob });
    expect(r.signers[0]!.status).toBe('valid');
    const known = storeInternals(bob).allCertificates().map((c) => c.serialHex);
    expect(known).toContain(pki.ids['alice-sign']!.cert.serialNumber.toLowerCase());
    expect(known).toContain(pki.ids['alice-enc']!.cert.serialNumber.toLowerCase());
    for (const n of ['grace-untrusted', 'erin-tls', 'noeku']) expect(known).not.toContain(pki.ids[n]!.cert.serialNumber.toLowerCase());
    expect(known).not.toContain(pki.otherRoot.cert.serialNumber.toLowerCase());
    expect((await bob.findEncryptionCertificate('alice@example.com')).certificate?.serialNumber.toLowerCase()).toBe(pki.ids['alice-enc']!.cert.serialNumber.toLowerCase());
  });
});
