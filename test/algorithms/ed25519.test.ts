/**
 * Ed25519 signatures (RFC 8419), both ways:
 * - the draft-ireland vectors made with the RFC 9216 keys: Carlos's opaque signature with signed attributes, his
 *   detached signature without signed attributes, and his signer in the two-signer message without certificates
 *   (certificates from the store); trust through the Ed25519 CA, or through the RSA CA and its cross-certificate of
 *   the Ed25519 CA (and the other way round, Ed25519 signatures on a certificate in the chain);
 * - ours, signed with Carlos's RFC 9216 key: SHA-512 message digest, id-Ed25519 with absent parameters, sha512 digest
 *   algorithm, micalg=sha-512; checked by our verifier and, since OpenSSL 3.0 can't verify Ed25519 CMS with signed
 *   attributes, by node:crypto's Ed25519 over the signed attributes' DER.
 */
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CertificateStore, signMessage, verifyMessage } from '../../src/index.js';
import { parseSignedData } from '../../src/cms/signed.js';
import { ATTR } from '../../src/cms/attributes.js';
import { sharedAvailable, shared } from '../_helpers/env.js';
import { cmsOf, multipartSigned, pkcs7Mime, text } from '../sign/_pki.js';
import { storeInternals } from '../../src/store/internal.js';

const HAVE = sharedAvailable();
const CONTENT = 'This is some sample content.';
const AT = new Date('2024-06-01T12:00:00Z');
const now = () => AT;

const cert = (name: string) => shared(`rfc9216/certs/${name}.pem`);
const RSA_CA = 'Sample_LAMPS_RSA_Certification_Authority.selfsigned';
const ED_CA = 'Sample_LAMPS_Ed25519_Certification_Authority.selfsigned';
const ED_CA_BY_RSA = 'Sample_LAMPS_Ed25519_Certification_Authority.crosssigned';
const RSA_CA_BY_ED = 'Sample_LAMPS_RSA_Certification_Authority.crosssigned';
const vec = (name: string) => shared(`draft-ireland-examples-cms/${name}`);

async function store(opts: { anchors: string[]; certs?: string[]; carlosKey?: boolean }) {
  const s = new CertificateStore({ now });
  for (const a of opts.anchors) s.addTrustAnchor(cert(a));
  for (const c of opts.certs ?? []) await s.addCertificate(cert(c));
  if (opts.carlosKey) await s.importIdentity(shared('rfc9216/keys/lamps-carlos.crt'), shared('rfc9216/keys/lamps-carlos.p8.pem'));
  return s;
}

const MESSAGE =
  'From: Carlos <carlos@smime.example>\r\nTo: dana@smime.example\r\nSubject: Ed25519\r\n' +
  'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nSigned with Ed25519.\r\n';

describe.runIf(HAVE)('draft-ireland Ed25519 vectors (RFC 9216 keys)', () => {
  it('signedByCarlosEd25519.p7m (signed attributes, SHA-512) is valid with the Ed25519 CA as anchor', async () => {
    const r = await verifyMessage(vec('signedByCarlosEd25519.p7m'), { store: await store({ anchors: [ED_CA] }), harvest: false });
    expect(text(r.content)).toBe(CONTENT);
    expect(r.signers).toHaveLength(1);
    expect(r.signers[0]).toMatchObject({
      status: 'valid',
      reasons: [],
      email: 'carlos@smime.example',
      signatureAlgorithm: '1.3.101.112',
      digestAlgorithm: 'SHA-512',
    });
  });

  it('signedByCarlosEd25519.p7m with one bit of the signature flipped is invalid (signature-mismatch)', async () => {
    const der = new Uint8Array(vec('signedByCarlosEd25519.p7m'));
    der[der.length - 5] ^= 0x01; // the signature is the SignerInfo's last field
    const r = await verifyMessage(der, { store: await store({ anchors: [ED_CA] }), harvest: false });
    expect(r.signers[0]!.status).toBe('invalid');
    expect(r.signers[0]!.reasons).toEqual(['signature-mismatch']);
  });

  it('signedByCarlosDetached.p7m (no signed attributes: PureEdDSA over the content) is valid as multipart/signed', async () => {
    const sig = vec('signedByCarlosDetached.p7m');
    expect(parseSignedData(sig).eContent).toBeUndefined();
    expect(parseSignedData(sig).signerInfos[0]!.signedAttrs).toBeUndefined();
    const msg = multipartSigned(new TextEncoder().encode(CONTENT), sig, 'From: carlos@smime.example\r\n');
    const r = await verifyMessage(msg, { store: await store({ anchors: [ED_CA] }), harvest: false });
    expect(text(r.content)).toBe(CONTENT);
    expect(r.signers.map((s) => [s.status, s.reasons, s.digestAlgorithm])).toEqual([['valid', [], 'SHA-512']]);
    // Other content under the same signature: the Ed25519 signature itself fails.
    const other = multipartSigned(new TextEncoder().encode(CONTENT.replace('sample', 'simple')), sig, 'From: carlos@smime.example\r\n');
    const bad = await verifyMessage(other, { store: await store({ anchors: [ED_CA] }), harvest: false });
    expect(bad.signers[0]!.status).toBe('invalid');
    expect(bad.signers[0]!.reasons).toEqual(['signature-mismatch']);
  });

  it('signedByAliceAndCarlosNoCerts.p7m: both signers valid with their certificates from the store', async () => {
    const der = vec('signedByAliceAndCarlosNoCerts.p7m');
    expect(parseSignedData(der).certificates).toEqual([]);
    const s = await store({ anchors: [RSA_CA, ED_CA], certs: ['alice@smime.example.sig', 'carlos@smime.example.sig'] });
    const r = await verifyMessage(der, { store: s, harvest: false });
    const bySig = Object.fromEntries(r.signers.map((x) => [x.signatureAlgorithm, x]));
    expect(Object.keys(bySig).sort()).toEqual(['1.2.840.113549.1.1.1', '1.3.101.112']);
    expect(bySig['1.3.101.112']).toMatchObject({ status: 'valid', reasons: [], email: 'carlos@smime.example', digestAlgorithm: 'SHA-512' });
    expect(bySig['1.2.840.113549.1.1.1']).toMatchObject({ status: 'valid', reasons: [], email: 'alice@smime.example', digestAlgorithm: 'SHA-256' });
    // Without the certificates nobody can be shown to have signed.
    const none = await verifyMessage(der, { store: await store({ anchors: [RSA_CA, ED_CA] }), harvest: false });
    expect(none.signers.map((x) => [x.status, x.reasons])).toEqual([
      ['untrusted', ['signer-certificate-not-found']],
      ['untrusted', ['signer-certificate-not-found']],
    ]);
  });
});

describe.runIf(HAVE)('chains through the RFC 9216 cross-certificates', () => {
  it('Carlos (Ed25519 cert signed Ed25519) chains to the RSA CA through the Ed25519 CA cross-certified by it', async () => {
    const onlyRsa = await store({ anchors: [RSA_CA] });
    const before = await verifyMessage(vec('signedByCarlosEd25519.p7m'), { store: onlyRsa, harvest: false });
    expect(before.signers[0]!.status).toBe('untrusted');
    expect(before.signers[0]!.reasons).toEqual(['no-chain-to-trust-anchor']);
    const s = await store({ anchors: [RSA_CA], certs: [ED_CA_BY_RSA] });
    const r = await verifyMessage(vec('signedByCarlosEd25519.p7m'), { store: s, harvest: false });
    expect(r.signers[0]!.status).toBe('valid');
    const carlos = (await s.addCertificate(cert('carlos@smime.example.sig')))[0]!;
    const info = storeInternals(s).allCertificates().find((c) => c.der.length === carlos.rawData.byteLength)!;
    const chain = await storeInternals(s).chain(info, AT);
    expect(chain.chain?.map((c) => storeInternals(s).x509(c).subject)).toEqual([
      'O=IETF, OU=LAMPS WG, CN=Carlos Turing',
      'O=IETF, OU=LAMPS WG, CN=Sample LAMPS Ed25519 Certification Authority',
      'O=IETF, OU=LAMPS WG, CN=Sample LAMPS RSA Certification Authority',
    ]);
    // The middle link is the cross-certificate (issued by the RSA CA), not the self-signed Ed25519 root.
    expect(storeInternals(s).x509(chain.chain![1]!).issuer).toBe('O=IETF, OU=LAMPS WG, CN=Sample LAMPS RSA Certification Authority');
  });

  it('Alice (RSA) chains to the Ed25519 CA through the RSA CA cross-certified with an Ed25519 signature', async () => {
    const only = await verifyMessage(vec('signedByAliceRSAPSS.p7m'), { store: await store({ anchors: [ED_CA] }), harvest: false });
    expect(only.signers[0]!.status).toBe('untrusted');
    const s = await store({ anchors: [ED_CA], certs: [RSA_CA_BY_ED] });
    const r = await verifyMessage(vec('signedByAliceRSAPSS.p7m'), { store: s, harvest: false });
    expect(r.signers.map((x) => [x.status, x.reasons])).toEqual([['valid', []]]);
  });
});

describe.runIf(HAVE)('signing with Ed25519 (Carlos, RFC 9216 key)', () => {
  for (const detached of [true, false]) {
    it(`${detached ? 'multipart/signed' : 'opaque signed-data'}: SHA-512, id-Ed25519 without parameters, verifiable by node:crypto and by us`, async () => {
      const s = await store({ anchors: [ED_CA], carlosKey: true });
      // The digest option is for RSA/ECDSA: RFC 8419 makes SHA-512 the Ed25519 message digest.
      const out = await signMessage(MESSAGE, { store: s, from: 'carlos@smime.example', detached, digest: 'SHA-256' });
      const head = text(out).split('\r\n\r\n')[0]!;
      if (detached) expect(head).toContain('micalg=sha-512');
      const sd = parseSignedData(cmsOf(out));
      expect(sd.digestAlgorithms).toEqual(['2.16.840.1.101.3.4.2.3']);
      const si = sd.signerInfos[0]!;
      expect(si.digestAlgorithm.oid).toBe('2.16.840.1.101.3.4.2.3');
      expect(si.digestAlgorithm.params).toBeUndefined();
      expect(si.signatureAlgorithm.oid).toBe('1.3.101.112');
      expect(Buffer.from(si.signatureAlgorithm.der).toString('hex')).toBe('300506032b6570'); // parameters absent
      expect(si.signature).toHaveLength(64);

      // messageDigest = SHA-512 of the signed entity.
      const r = await verifyMessage(out, { store: s, harvest: false });
      const md = si.signedAttrs!.find((a) => a.type === ATTR.messageDigest)!.values[0]!;
      expect(Buffer.from(si.buf.subarray(md.contentStart, md.contentEnd)).toString('hex')).toBe(
        createHash('sha512').update(r.content).digest('hex'),
      );
      // node:crypto's Ed25519 (PureEdDSA) over the DER of the signed attributes.
      const pub = createPublicKey({ key: Buffer.from(cert('carlos@smime.example.sig')).toString('latin1'), format: 'pem' });
      expect(nodeVerify(null, si.signedAttrsDer!, pub, si.signature)).toBe(true);
      const tampered = new Uint8Array(si.signedAttrsDer!);
      tampered[tampered.length - 1] ^= 1;
      expect(nodeVerify(null, tampered, pub, si.signature)).toBe(false);

      expect(r.signers.map((x) => [x.status, x.reasons, x.email, x.digestAlgorithm, x.signatureAlgorithm])).toEqual([
        ['valid', [], 'carlos@smime.example', 'SHA-512', '1.3.101.112'],
      ]);
    });
  }

  it('our Ed25519 signature over altered content is invalid', async () => {
    const s = await store({ anchors: [ED_CA], carlosKey: true });
    const out = text(await signMessage(MESSAGE, { store: s, from: 'carlos@smime.example' })).replace('Signed with', 'Signed by');
    const r = await verifyMessage(out, { store: s, harvest: false });
    expect(r.signers[0]!.status).toBe('invalid');
    expect(r.signers[0]!.reasons).toEqual(['digest-mismatch']);
  });

  it('signs with a non-extractable Ed25519 CryptoKey identity', async () => {
    const pem = text(shared('rfc9216/keys/lamps-carlos.p8.pem'));
    const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    const key = await crypto.subtle.importKey('pkcs8', der, { name: 'Ed25519' }, false, ['sign']);
    const s = await store({ anchors: [ED_CA] });
    await s.importIdentity(shared('rfc9216/keys/lamps-carlos.crt'), key);
    const out = await signMessage(MESSAGE, { store: s, from: 'carlos@smime.example', detached: false });
    const r = await verifyMessage(pkcs7Mime(cmsOf(out), 'From: carlos@smime.example\r\n'), { store: s, harvest: false });
    expect(r.signers.map((x) => x.status)).toEqual(['valid']);
  });
});
