/**
 * Signatures made on a real SoftHSM2 token through signMessage, checked by the peers: OpenSSL (`openssl cms
 * -verify`), NSS (`cmsutil -D` with an NSS database) and Bouncy Castle (vectors/java/SmimePeer.java). RSA PKCS#1
 * v1.5 SHA-256, RSA-PSS, ECDSA P-256 and P-384, and the RSA key generated on the token. The peers' set-up is
 * test/_helpers/peers.ts (shared with test/interop/matrix-outbound.test.ts). The token never skips under CI=true;
 * neither do the peers (hasPeer throws there).
 */
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, signMessage, verifyMessage } from '../../src/index.js';
import { openPkcs11Token, type Pkcs11Identity, type Pkcs11Token } from '../../src/pkcs11/index.js';
import { atReference, CHAIN, OPENSSL_AT_REFERENCE, ROOT } from '../_helpers/identities.js';
import { tmp } from '../_helpers/env.js';
import { compileSmimePeer, havePeers, makeNssDb, nssVerify, ROOT_CA_FILE, runAsync } from '../_helpers/peers.js';
import { createSoftHsmToken, GENERATED_LABEL, issueSampleCertificate, softHsmAvailable, type SoftHsmToken } from '../_helpers/softhsm.js';
import { cmsOf } from '../sign/_pki.js';

const available = await softHsmAvailable();
const HAVE = havePeers();
const PIN = '97531';

/** One kind of signature: the token identity (label), the address, the options, the SignerInfo's algorithm OID. */
interface Kind {
  name: string;
  label: string;
  from: string;
  pss?: boolean;
  digest?: 'SHA-256' | 'SHA-384';
  signatureOid: string;
}
const P384_SIGNING = 'ec-enc as a signing key';
const KINDS: Kind[] = [
  { name: 'RSA PKCS#1 v1.5 SHA-256', label: 'alice-sign', from: 'alice@example.com', signatureOid: '1.2.840.113549.1.1.11' },
  { name: 'RSA-PSS SHA-256', label: 'bob', from: 'bob@example.com', pss: true, signatureOid: '1.2.840.113549.1.1.10' },
  { name: 'ECDSA P-256 SHA-256', label: 'ec-sign', from: 'ecuser@example.com', signatureOid: '1.2.840.10045.4.3.2' },
  { name: 'ECDSA P-384 SHA-384', label: P384_SIGNING, from: 'ecuser384@example.com', digest: 'SHA-384', signatureOid: '1.2.840.10045.4.3.3' },
  { name: 'RSA generated on the token', label: GENERATED_LABEL, from: 'alice@example.com', signatureOid: '1.2.840.113549.1.1.11' },
];

const message = (from: string) =>
  `From: ${from}\r\nTo: bob@example.com\r\nSubject: signed on a token\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\n` +
  'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSigned on the token, checked by the peers.\r\n';

describe.skipIf(!available)('signatures made on the token, checked by OpenSSL, NSS and Bouncy Castle', () => {
  let hsm: SoftHsmToken;
  let token: Pkcs11Token;
  let dir: string;
  let n = 0;
  const put = (data: Uint8Array | string, ext: string) => {
    const f = join(dir, `m${++n}.${ext}`);
    writeFileSync(f, data);
    return f;
  };
  /** Per kind: the signed message (multipart/signed), its CMS, the signed entity, the signer's certificate. */
  const made = new Map<string, { smime: Uint8Array; der: Uint8Array; content: Uint8Array; cert: Uint8Array }>();
  const t0 = performance.now();

  beforeAll(async () => {
    dir = tmp('smime-token-sign-');
    hsm = await createSoftHsmToken({ label: 'signer', pin: PIN });
    token = await openPkcs11Token({ module: hsm.module, token: 'signer', pin: PIN });
    const ids = new Map<string, Pkcs11Identity>((await token.identities()).map((i) => [i.label, i]));
    // The P-384 key on the token (ec-enc's, CKA_SIGN true) with a signing certificate from the sample CA.
    const p384 = ids.get('ec-enc')!;
    const spki = new X509Certificate(p384.certificate).publicKey.export({ type: 'spki', format: 'der' });
    const p384Cert = await issueSampleCertificate(new Uint8Array(spki), {
      serial: '3384',
      subject: 'CN=EC User P-384 signing, O=smime-core demo, C=US',
      email: 'ecuser384@example.com',
      notBefore: new Date('2025-01-01T00:00:00Z'),
      notAfter: new Date('2028-01-01T00:00:00Z'),
    });
    ids.set(P384_SIGNING, { ...p384, certificate: p384Cert, label: P384_SIGNING });
    // One store per kind, holding that token identity only (alice has two signing keys on the token).
    for (const k of KINDS) {
      const store = new CertificateStore({ now: atReference });
      await store.addCertificate(CHAIN());
      store.addTrustAnchor(ROOT());
      const id = ids.get(k.label)!;
      await store.importExternalIdentity(id.certificate, id.key);
      const smime = await signMessage(message(k.from), { store, from: k.from, pss: k.pss, digest: k.digest });
      const v = await verifyMessage(smime, { store, harvest: false });
      expect(v.signers.map((s) => s.status)).toEqual(['valid']);
      expect(Buffer.from(v.signers[0]!.certificate!.rawData).equals(Buffer.from(id.certificate))).toBe(true);
      expect(v.signers[0]!.signatureAlgorithm).toBe(k.signatureOid);
      made.set(k.name, { smime, der: cmsOf(smime), content: v.content, cert: id.certificate });
    }
  });
  afterAll(async () => {
    await token?.close();
    hsm?.cleanup();
    console.log(`[pkcs11] interop-sign.test.ts: ${Math.round(performance.now() - t0)} ms`);
  });

  describe.runIf(HAVE.openssl)('OpenSSL (openssl cms -verify -purpose smimesign)', () => {
    for (const k of KINDS) {
      it(`verifies ${k.name}`, async () => {
        const m = made.get(k.name)!;
        const r = await runAsync('openssl', ['cms', '-verify', '-purpose', 'smimesign', ...OPENSSL_AT_REFERENCE, '-CAfile', ROOT_CA_FILE, '-in', put(m.smime, 'eml'), '-out', join(dir, `o${++n}`)]);
        expect(r.stderr).toContain('Verification successful');
        expect(r.status).toBe(0);
        // and refuses a tampered one
        const altered = Buffer.from(m.smime).toString('latin1').replace('checked by the peers', 'checked by the Peers');
        const bad = await runAsync('openssl', ['cms', '-verify', '-purpose', 'smimesign', ...OPENSSL_AT_REFERENCE, '-CAfile', ROOT_CA_FILE, '-in', put(altered, 'eml'), '-out', join(dir, `o${++n}`)]);
        expect(bad.status).not.toBe(0);
        expect(bad.stderr).toContain('Verification failure');
      });
    }
  });

  describe.runIf(HAVE.nss)('NSS (cmsutil -D)', () => {
    let db = '';
    beforeAll(() => {
      db = makeNssDb(dir);
    });
    for (const k of KINDS) {
      it(`verifies ${k.name}`, async () => {
        const m = made.get(k.name)!;
        expect(await nssVerify(db, put(m.der, 'p7s'), put(m.content, 'txt'))).toContain('signer0.status=GoodSignature');
        const altered = new Uint8Array(m.content);
        altered[altered.length - 4] ^= 1;
        expect(await nssVerify(db, put(m.der, 'p7s'), put(altered, 'txt'))).not.toContain('signer0.status=GoodSignature');
      });
    }
  });

  describe.runIf(HAVE.bc)('Bouncy Castle (SmimePeer verify)', () => {
    let bc: ReturnType<typeof compileSmimePeer>;
    beforeAll(() => {
      bc = compileSmimePeer(dir);
    });
    describe.concurrent('verifies', () => {
      for (const k of KINDS) {
        it(`${k.name}`, async () => {
          const m = made.get(k.name)!;
          const r = await bc(['verify', '--in', put(m.der, 'p7s'), '--content', put(m.content, 'txt'), '--trust', ROOT_CA_FILE]);
          expect(r.stderr).toBe('');
          expect(r.stdout).toContain('status=valid');
          expect(r.stdout).toContain(`signature=${k.signatureOid}`);
          expect(r.status).toBe(0);
        });
      }
    });
  });
});
