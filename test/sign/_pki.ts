/**
 * A small PKI made at test time with @peculiar/x509 and WebCrypto: a root, an issuing CA, and leaf certificates
 * for every signature status (dedicated signing, encryption, dual use, ECDSA on each curve, TLS-only, expired,
 * revoked, an untrusted root's leaf, a self-signed impostor). PEM files are written to a temporary folder for the
 * interop peers (openssl, NSS, gpgsm).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { x509 } from '../../src/certs/x509.js';
import { CertificateStore } from '../../src/index.js';
import { run, tmp } from '../_helpers/env.js';
import { algorithmIdentifier, children, integer, octets, oid, readTlv, seq, set, sortDerSet, tlv } from '../../src/lib/der.js';
import { ATTR, attribute, encodeTime, issuerAndSerial } from '../../src/cms/attributes.js';
import { signBytes, signatureAlgorithmFor } from '../../src/cms/signer.js';
import { OIDS } from '../../src/cms/oids.js';
import { certInfo } from '../../src/certs/cert_info.js';

const DAY = 86_400_000;

export interface TestIdentity {
  name: string;
  email: string;
  cert: x509.X509Certificate;
  der: Uint8Array;
  certPem: string;
  keyPem: string;
  pkcs8: Uint8Array;
  keys: CryptoKeyPair;
  /** Files in the PKI folder. */
  certFile: string;
  keyFile: string;
}

export interface TestPki {
  dir: string;
  root: TestIdentity;
  ca: TestIdentity;
  otherRoot: TestIdentity;
  ids: Record<string, TestIdentity>;
  /** A CRL by the issuing CA that revokes `revoked`. */
  crlDer: Uint8Array;
  crlFile: string;
  rootFile: string;
  chainFile: string;
}

type KeyKind = 'rsa' | 'p256' | 'p384' | 'p521';

async function keyPair(kind: KeyKind): Promise<CryptoKeyPair> {
  if (kind === 'rsa')
    return crypto.subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      true,
      ['sign', 'verify'],
    ) as Promise<CryptoKeyPair>;
  const namedCurve = kind === 'p256' ? 'P-256' : kind === 'p384' ? 'P-384' : 'P-521';
  return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve }, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

function sigAlg(issuerKeys: CryptoKeyPair, sha1 = false): Algorithm | EcdsaParams {
  const a = issuerKeys.privateKey.algorithm as { name: string };
  if (a.name === 'ECDSA') return { name: 'ECDSA', hash: sha1 ? 'SHA-1' : 'SHA-256' } as EcdsaParams;
  return { name: 'RSASSA-PKCS1-v1_5', hash: sha1 ? 'SHA-1' : 'SHA-256' } as Algorithm;
}

function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

interface LeafSpec {
  email?: string;
  kind?: KeyKind;
  ku?: number;
  eku?: string[] | null;
  notBefore?: Date;
  notAfter?: Date;
  issuer?: 'ca' | 'otherRoot' | 'self';
  serial?: string;
}

const KUF = x509.KeyUsageFlags;
export const EKU_EMAIL = '1.3.6.1.5.5.7.3.4';
export const EKU_SERVER = '1.3.6.1.5.5.7.3.1';

export async function makePki(): Promise<TestPki> {
  const dir = tmp('smime-sign-pki-');
  const now = Date.now();
  let serial = 0x1000;

  const finish = async (name: string, email: string, cert: x509.X509Certificate, keys: CryptoKeyPair): Promise<TestIdentity> => {
    const der = new Uint8Array(cert.rawData);
    const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
    const certPem = pem('CERTIFICATE', der);
    const keyPem = pem('PRIVATE KEY', pkcs8);
    const certFile = join(dir, `${name}.cert.pem`);
    const keyFile = join(dir, `${name}.key.pem`);
    writeFileSync(certFile, certPem);
    writeFileSync(keyFile, keyPem);
    return { name, email, cert, der, certPem, keyPem, pkcs8, keys, certFile, keyFile };
  };

  const makeCa = async (name: string, cn: string, issuer?: TestIdentity): Promise<TestIdentity> => {
    const keys = await keyPair('rsa');
    const exts: x509.Extension[] = [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(KUF.keyCertSign | KUF.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ];
    if (issuer) exts.push(await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey));
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: (serial++).toString(16),
      subject: `CN=${cn}, O=smime-core tests`,
      issuer: issuer ? issuer.cert.subject : `CN=${cn}, O=smime-core tests`,
      notBefore: new Date(now - 3650 * DAY),
      notAfter: new Date(now + 3650 * DAY),
      publicKey: keys.publicKey,
      signingKey: issuer ? issuer.keys.privateKey : keys.privateKey,
      signingAlgorithm: sigAlg(issuer ? issuer.keys : keys),
      extensions: exts,
    });
    return finish(name, '', cert, keys);
  };

  const root = await makeCa('root', 'Test Root');
  const ca = await makeCa('ca', 'Test Issuing CA', root);
  const otherRoot = await makeCa('other-root', 'Other Root');

  const leaf = async (name: string, s: LeafSpec): Promise<TestIdentity> => {
    const keys = await keyPair(s.kind ?? 'rsa');
    const email = s.email ?? `${name}@example.com`;
    const issuer = s.issuer === 'otherRoot' ? otherRoot : s.issuer === 'self' ? undefined : ca;
    const exts: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, false),
      new x509.KeyUsagesExtension(s.ku ?? KUF.digitalSignature | KUF.nonRepudiation, true),
      new x509.SubjectAlternativeNameExtension([{ type: 'email', value: email }]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ];
    if (s.eku !== null) exts.push(new x509.ExtendedKeyUsageExtension(s.eku ?? [EKU_EMAIL]));
    if (issuer) exts.push(await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey));
    const subject = `CN=${name}, E=${email}, O=smime-core tests`;
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: s.serial ?? (serial++).toString(16),
      subject,
      issuer: issuer ? issuer.cert.subject : subject,
      notBefore: s.notBefore ?? new Date(now - 30 * DAY),
      notAfter: s.notAfter ?? new Date(now + 365 * DAY),
      publicKey: keys.publicKey,
      signingKey: issuer ? issuer.keys.privateKey : keys.privateKey,
      signingAlgorithm: sigAlg(issuer ? issuer.keys : keys),
      extensions: exts,
    });
    return finish(name, email, cert, keys);
  };

  const ids: Record<string, TestIdentity> = {};
  const add = async (name: string, s: LeafSpec) => {
    ids[name] = await leaf(name, s);
  };
  await Promise.all([
    // Alice: a dedicated signing cert, an older dual-use one, and an encryption cert.
    add('alice-sign', { email: 'alice@example.com' }),
    add('alice-dual', {
      email: 'alice@example.com',
      ku: KUF.digitalSignature | KUF.keyEncipherment,
      notBefore: new Date(now - 10 * DAY),
    }),
    add('alice-enc', { email: 'alice@example.com', ku: KUF.keyEncipherment }),
    add('alice-enc-old', { email: 'alice@example.com', ku: KUF.keyEncipherment, notBefore: new Date(now - 300 * DAY) }),
    add('alice-expired', {
      email: 'alice@example.com',
      notBefore: new Date(now - 800 * DAY),
      notAfter: new Date(now - 400 * DAY),
    }),
    add('bob', { email: 'bob@example.com', ku: KUF.digitalSignature | KUF.keyEncipherment }),
    add('ec256', { email: 'carol@example.com', kind: 'p256' }),
    add('ec384', { email: 'carol384@example.com', kind: 'p384' }),
    add('ec521', { email: 'carol521@example.com', kind: 'p521' }),
    add('erin-tls', { email: 'erin@example.com', eku: [EKU_SERVER] }),
    add('erin-ku', { email: 'erin2@example.com', ku: KUF.keyEncipherment }),
    add('dave-expired', { email: 'dave@example.com', notBefore: new Date(now - 800 * DAY), notAfter: new Date(now - 400 * DAY) }),
    add('rita-revoked', { email: 'rita@example.com' }),
    add('grace-untrusted', { email: 'grace@example.com', issuer: 'otherRoot' }),
    add('mallory-self', { email: 'alice@example.com', issuer: 'self' }),
    add('noeku', { email: 'kim@example.com', eku: null }),
  ]);

  const crl = await x509.X509CrlGenerator.create({
    issuer: ca.cert.subject,
    thisUpdate: new Date(now - 2 * DAY),
    nextUpdate: new Date(now + 30 * DAY),
    signingAlgorithm: sigAlg(ca.keys),
    signingKey: ca.keys.privateKey,
    entries: [
      {
        serialNumber: ids['rita-revoked']!.cert.serialNumber,
        revocationDate: new Date(now - 5 * DAY),
        reason: x509.X509CrlReason.keyCompromise,
      },
    ],
    extensions: [await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey)],
  });
  const crlDer = new Uint8Array(crl.rawData);
  const crlFile = join(dir, 'ca.crl.pem');
  writeFileSync(crlFile, pem('X509 CRL', crlDer));
  const rootFile = root.certFile;
  const chainFile = join(dir, 'chain.pem');
  writeFileSync(chainFile, ca.certPem + root.certPem);
  return { dir, root, ca, otherRoot, ids, crlDer, crlFile, rootFile, chainFile };
}

/** A store with the named identities (cert + PKCS#8), the issuing CA as intermediate, and the root as anchor. */
export async function storeFor(pki: TestPki, own: string[], others: string[] = [], opts: { trust?: boolean; now?: () => Date } = {}) {
  const store = new CertificateStore({ now: opts.now });
  for (const n of own) await store.importIdentity(pki.ids[n]!.certPem, pki.ids[n]!.keyPem);
  for (const n of others) await store.addCertificate(pki.ids[n]!.certPem);
  await store.addCertificate(pki.ca.certPem);
  if (opts.trust !== false) store.addTrustAnchor(pki.root.certPem);
  return store;
}

export const MESSAGE =
  'From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nSubject: hello\r\nDate: Sun, 29 Nov 2026 10:00:00 +0000\r\n' +
  'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello Bob,\r\nthis is signed.\r\n';

// ---------------------------------------------------------------------------------------------------------------
// Message helpers

const te = new TextEncoder();
const td = new TextDecoder('latin1');
export const bytes = (s: string): Uint8Array => te.encode(s);
export const text = (b: Uint8Array): string => td.decode(b);

/** Signs `content` (a MIME message) with `openssl cms -sign`; extra args e.g. ['-nodetach'], ['-md', 'sha1']. */
export function opensslSign(pki: TestPki, id: string, content: string | Uint8Array, extra: string[] = []): Uint8Array {
  const f = join(pki.dir, `in-${Math.random().toString(36).slice(2)}.eml`);
  writeFileSync(f, content);
  const who = pki.ids[id]!;
  return run('openssl', ['cms', '-sign', '-signer', who.certFile, '-inkey', who.keyFile, '-certfile', pki.chainFile, '-in', f, ...extra]);
}

/** The decoded signature part of a multipart/signed message, or the CMS of an opaque one. */
export function cmsOf(message: Uint8Array): Uint8Array {
  const s = text(message);
  const m = /Content-Type: application\/(?:x-)?pkcs7-(?:signature|mime)[\s\S]*?\r?\n\r?\n([A-Za-z0-9+/=\r\n]+)/i.exec(s);
  if (!m) throw new Error('no CMS part');
  return new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}

/** Wraps DER as an application/pkcs7-mime signed-data message with the given headers. */
export function pkcs7Mime(der: Uint8Array, headers = 'From: alice@example.com\r\nTo: bob@example.com\r\nSubject: t\r\n'): Uint8Array {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{76})/g, '$1\r\n').replace(/\r\n$/, '');
  return bytes(
    headers +
      'MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"\r\n' +
      `Content-Transfer-Encoding: base64\r\n\r\n${b64}\r\n`,
  );
}

/** Builds multipart/signed from a signed entity and a detached signature (DER). */
export function multipartSigned(entity: Uint8Array, sig: Uint8Array, headers = 'From: alice@example.com\r\nTo: bob@example.com\r\nSubject: t\r\n'): Uint8Array {
  const b64 = Buffer.from(sig).toString('base64').replace(/(.{76})/g, '$1\r\n').replace(/\r\n$/, '');
  const b = 'b0undary-test-42';
  return new Uint8Array([
    ...bytes(headers + `MIME-Version: 1.0\r\nContent-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="${b}"\r\n\r\n--${b}\r\n`),
    ...entity,
    ...bytes(`\r\n--${b}\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--${b}--\r\n`),
  ]);
}

/** Re-encodes a ContentInfo(SignedData) with CRLs in its crls field (the signature does not cover that field). */
export function withCrls(der: Uint8Array, crls: Uint8Array[]): Uint8Array {
  const top = readTlv(der, 0);
  const [typeT, ctxT] = children(der, top);
  const sdT = children(der, ctxT!)[0]!;
  const f = children(der, sdT);
  const parts = f.map((t) => der.subarray(t.start, t.end));
  const last = parts.pop()!;
  const body = [...parts, tlv(0xa1, ...crls), last];
  return seq(der.subarray(typeT!.start, typeT!.end), tlv(0xa0, seq(...body)));
}

export const CUSTOM_ENTITY = bytes('Content-Type: text/plain\r\n\r\nhello\r\n');

/**
 * A multipart/signed message over CUSTOM_ENTITY whose signed attributes are `attrs(standard)`, where `standard` is
 * [contentType, messageDigest, signingTime]; sorted, signed by `signer`; certificates: the signer, `certs`, the CA.
 */
export async function customSignedMessage(
  pki: TestPki,
  signer: string,
  attrs: (standard: Uint8Array[]) => Uint8Array[],
  certs: string[] = [],
  signingTime = new Date(),
): Promise<Uint8Array> {
  const id = pki.ids[signer]!;
  const info = certInfo(id.der);
  const md = new Uint8Array(await crypto.subtle.digest('SHA-256', CUSTOM_ENTITY as Uint8Array<ArrayBuffer>));
  const standard = [
    attribute(ATTR.contentType, oid(OIDS.data)),
    attribute(ATTR.messageDigest, octets(md)),
    attribute(ATTR.signingTime, encodeTime(signingTime)),
  ];
  const signed = set(...sortDerSet(attrs(standard)));
  const params = { signer: info, key: { pkcs8: id.pkcs8 }, hash: 'SHA-256' as const };
  const sig = await signBytes(params, signed);
  const implicit = new Uint8Array(signed);
  implicit[0] = 0xa0;
  const si = seq(integer(1), issuerAndSerial(info), algorithmIdentifier(OIDS.sha256), implicit, signatureAlgorithmFor(params), tlv(0x04, sig));
  const sd = seq(
    integer(1),
    set(algorithmIdentifier(OIDS.sha256)),
    seq(oid(OIDS.data)),
    tlv(0xa0, ...[signer, ...certs].map((n) => pki.ids[n]!.der), pki.ca.der),
    set(si),
  );
  return multipartSigned(CUSTOM_ENTITY, seq(oid(OIDS.signedData), tlv(0xa0, sd)), `From: ${id.email}\r\n`);
}
