/**
 * KeyAgreeRecipientInfo: ECDH P-256/384/521 both ways with OpenSSL, X25519 against the public RFC 9216 / draft-ireland
 * vectors, our own X25519/X448 round trips with every KDF, the cofactor OIDs, and an independent node:crypto
 * implementation of the sender side for the encodings OpenSSL never writes (ukm, NULL wrap parameters, curve OID in
 * the originator key, HKDF).
 */
import { createCipheriv, createECDH, createHash, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { certInfo, type CertInfo } from '../../src/certs/cert_info.js';
import { algorithmIdentifier, children, explicit, integer, NULL, octets, oid, readTlv, seq, tlv } from '../../src/lib/der.js';
import { buildEnvelope, openEnvelope, type RecipientKey } from '../../src/cms/enveloped.js';
import { buildKari, KA_OIDS, parseKari, sharedInfo, unwrapKari, type KeyAgreeOptions } from '../../src/cms/kari.js';
import { CMSDecryptionFailed, UnsupportedAlgorithm } from '../../src/errors.js';
import { hasPeer, run, SHARED_VECTORS, sharedAvailable, tmp, tryRun } from '../_helpers/env.js';

const te = new TextEncoder();
const td = new TextDecoder();
const CONTENT = 'Key agreement test content\r\nline two\r\n';
const WRAP = { aes128: '2.16.840.1.101.3.4.1.5', aes192: '2.16.840.1.101.3.4.1.25', aes256: '2.16.840.1.101.3.4.1.45' } as const;

function pemToDer(pem: string): Uint8Array {
  const b64 = pem.replace(/-----(BEGIN|END)[^-]+-----/g, '').replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

function identity(info: CertInfo, pkcs8: Uint8Array): RecipientKey {
  return { info, key: { pkcs8 } };
}

function concatPieces(p: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(p));
}

/** The [1] KARI elements of an (Auth)EnvelopedData's RecipientInfos. */
function karis(der: Uint8Array): Uint8Array[] {
  const top = readTlv(der, 0);
  const inner = children(der, children(der, top)[1]!)[0]!;
  const f = children(der, inner);
  const riSet = f.find((t) => t.cls === 0 && t.tagNo === 17)!;
  return children(der, riSet)
    .filter((t) => t.cls === 2 && t.tagNo === 1)
    .map((t) => der.subarray(t.start, t.end));
}

function parsed(kari: Uint8Array) {
  return parseKari(kari, readTlv(kari, 0));
}

/** Replaces every occurrence of an OID encoding by another of the same length. */
function rewriteOid(der: Uint8Array, from: string, to: string): Uint8Array {
  const a = oid(from);
  const b = oid(to);
  expect(a.length).toBe(b.length);
  const out = der.slice();
  let n = 0;
  outer: for (let i = 0; i + a.length <= out.length; i++) {
    for (let j = 0; j < a.length; j++) if (out[i + j] !== a[j]) continue outer;
    out.set(b, i);
    n++;
  }
  expect(n).toBeGreaterThan(0);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// An independent sender written with node:crypto (not WebCrypto, not our KDF code).

type RefHash = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';
interface RefOptions {
  ka: string;
  kdf: 'x963' | 'hkdf';
  hash: RefHash;
  wrap: keyof typeof WRAP;
  wrapParamsNull?: boolean;
  /** EC only: how the originator key's AlgorithmIdentifier parameters are written. */
  originatorParams?: 'absent' | 'null' | 'curve' | 'other-curve';
  ukm?: Uint8Array;
  cek: Uint8Array;
}

const NODE_CURVE: Record<string, string> = { '1.2.840.10045.3.1.7': 'prime256v1', '1.3.132.0.34': 'secp384r1', '1.3.132.0.35': 'secp521r1' };

function refKari(info: CertInfo, o: RefOptions): Uint8Array {
  let z: Buffer;
  let origAlg: Uint8Array;
  let origPub: Uint8Array;
  if (info.curve) {
    const e = createECDH(NODE_CURVE[info.curve]!);
    e.generateKeys();
    z = e.computeSecret(Buffer.from(info.publicKey));
    origPub = e.getPublicKey();
    const p = o.originatorParams ?? 'absent';
    const params = p === 'null' ? NULL : p === 'curve' ? oid(info.curve) : p === 'other-curve' ? oid(info.curve === '1.3.132.0.34' ? '1.3.132.0.35' : '1.3.132.0.34') : undefined;
    origAlg = algorithmIdentifier('1.2.840.10045.2.1', params);
  } else {
    const type = info.keyAlgorithm === '1.3.101.110' ? 'x25519' : 'x448';
    const eph = generateKeyPairSync(type as 'x25519');
    const recip = createPublicKey({ key: Buffer.from(info.spki), format: 'der', type: 'spki' });
    z = diffieHellman({ privateKey: eph.privateKey, publicKey: recip });
    const spki = new Uint8Array(eph.publicKey.export({ format: 'der', type: 'spki' }));
    origPub = spki.subarray(spki.length - (type === 'x25519' ? 32 : 56));
    origAlg = algorithmIdentifier(info.keyAlgorithm);
  }
  const kekLen = { aes128: 16, aes192: 24, aes256: 32 }[o.wrap];
  const wrapAlg = algorithmIdentifier(WRAP[o.wrap], o.wrapParamsNull ? NULL : undefined);
  // ECC-CMS-SharedInfo written by hand here, not with the module's helper.
  const siParts = [wrapAlg];
  if (o.ukm) siParts.push(tlv(0xa0, tlv(0x04, o.ukm)));
  siParts.push(tlv(0xa2, tlv(0x04, Uint8Array.of(0, 0, (kekLen * 8) >> 8, (kekLen * 8) & 0xff))));
  const si = seq(...siParts);
  let kek: Buffer;
  if (o.kdf === 'hkdf') kek = Buffer.from(hkdfSync(o.hash, z, Buffer.alloc(0), si, kekLen));
  else {
    const out: Buffer[] = [];
    for (let c = 1; Buffer.concat(out).length < kekLen; c++) {
      out.push(createHash(o.hash).update(z).update(Uint8Array.of(0, 0, 0, c)).update(si).digest());
    }
    kek = Buffer.concat(out).subarray(0, kekLen);
  }
  const w = createCipheriv(`id-${o.wrap}-wrap`, kek, Buffer.from('A6A6A6A6A6A6A6A6', 'hex'));
  const ek = Buffer.concat([w.update(o.cek), w.final()]);
  const parts = [integer(3), explicit(0, tlv(0xa1, origAlg, tlv(0x03, Uint8Array.of(0), origPub)))];
  if (o.ukm) parts.push(explicit(1, octets(o.ukm)));
  parts.push(algorithmIdentifier(o.ka, wrapAlg), seq(seq(seq(info.issuer, tlv(0x02, info.serial)), octets(ek))));
  return tlv(0xa1, ...parts);
}

// ---------------------------------------------------------------------------------------------------------------

const haveOpenssl = hasPeer('openssl', ['version']);

interface Party {
  name: string;
  dir: string;
  certPem: string;
  keyPem: string;
  info: CertInfo;
  pkcs8: Uint8Array;
}

function osl(args: string[], input?: Uint8Array | string): Uint8Array {
  return run('openssl', args, input);
}

function loadParty(name: string, dir: string, certPem: string, keyPem: string): Party {
  const der = osl(['x509', '-in', certPem, '-outform', 'DER']);
  const pkcs8 = osl(['pkcs8', '-topk8', '-nocrypt', '-in', keyPem, '-outform', 'DER']);
  return { name, dir, certPem, keyPem, info: certInfo(der), pkcs8 };
}

function makeEcParty(dir: string, curve: string): Party {
  const key = join(dir, `${curve}.key.pem`);
  const cert = join(dir, `${curve}.cert.pem`);
  osl([
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${curve}`, '-nodes', '-keyout', key, '-out', cert,
    '-subj', `/CN=kari ${curve}`, '-days', '2', '-addext', 'keyUsage=keyAgreement', '-addext', 'subjectAltName=email:x@example.com',
  ]);
  return loadParty(curve, dir, cert, key);
}

/** An X25519/X448 certificate, issued by an EC CA (an X25519 key can't sign its own request). */
function makeXParty(dir: string, alg: 'X25519' | 'X448', ca: Party): Party {
  const key = join(dir, `${alg}.key.pem`);
  const pub = join(dir, `${alg}.pub.pem`);
  const csr = join(dir, `${alg}.csr`);
  const cert = join(dir, `${alg}.cert.pem`);
  const ext = join(dir, `${alg}.ext`);
  osl(['genpkey', '-algorithm', alg, '-out', key]);
  osl(['pkey', '-in', key, '-pubout', '-out', pub]);
  osl(['req', '-new', '-key', ca.keyPem, '-subj', `/CN=kari ${alg}`, '-out', csr]);
  writeFileSync(ext, 'keyUsage=keyAgreement\nsubjectAltName=email:x@example.com\nsubjectKeyIdentifier=hash\n');
  osl(['x509', '-req', '-in', csr, '-CA', ca.certPem, '-CAkey', ca.keyPem, '-CAcreateserial', '-force_pubkey', pub, '-days', '2', '-extfile', ext, '-out', cert]);
  return loadParty(alg, dir, cert, key);
}

/** `openssl cms -encrypt` to the party's cert; returns the DER (from DER or S/MIME output). */
function opensslEncrypt(p: Party, content: string, args: string[], smime: boolean): Uint8Array {
  const input = join(p.dir, 'in.txt');
  writeFileSync(input, content);
  const out = osl(['cms', '-encrypt', '-binary', '-in', input, '-recip', p.certPem, ...args, '-outform', smime ? 'SMIME' : 'DER']);
  if (!smime) return out;
  const text = td.decode(out).replace(/\r\n/g, '\n');
  const body = text.slice(text.indexOf('\n\n') + 2);
  return new Uint8Array(Buffer.from(body, 'base64'));
}

function opensslDecrypt(p: Party, der: Uint8Array): { status: number | null; stdout: string; stderr: string } {
  const f = join(p.dir, `msg-${Math.random().toString(36).slice(2)}.der`);
  writeFileSync(f, der);
  const r = tryRun('openssl', ['cms', '-decrypt', '-binary', '-inform', 'DER', '-in', f, '-recip', p.certPem, '-inkey', p.keyPem]);
  return { status: r.status, stdout: td.decode(r.stdout), stderr: r.stderr };
}

async function open(der: Uint8Array, p: Party): Promise<string> {
  const r = await openEnvelope(der, [identity(p.info, p.pkcs8)]);
  expect(r.keyTransport).toBe('key-agreement');
  return td.decode(r.content);
}

async function seal(p: Party, cipher: 'aes-128-cbc' | 'aes-256-cbc' | 'aes-128-gcm' | 'aes-256-gcm' | 'aes-192-cbc', keyAgree: KeyAgreeOptions, content = CONTENT): Promise<Uint8Array> {
  const env = await buildEnvelope(te.encode(content), [p.info], { cipher, keyAgree });
  return concatPieces(env.pieces);
}

const CURVES = ['P-256', 'P-384', 'P-521'] as const;
const MDS = ['sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
const OPENSSL_KA: Record<(typeof MDS)[number], string> = {
  sha1: KA_OIDS.stdDhSha1kdf,
  sha224: KA_OIDS.stdDhSha224kdf,
  sha256: KA_OIDS.stdDhSha256kdf,
  sha384: KA_OIDS.stdDhSha384kdf,
  sha512: KA_OIDS.stdDhSha512kdf,
};
const COFACTOR: Record<string, string> = {
  [KA_OIDS.stdDhSha1kdf]: KA_OIDS.cofactorDhSha1kdf,
  [KA_OIDS.stdDhSha224kdf]: KA_OIDS.cofactorDhSha224kdf,
  [KA_OIDS.stdDhSha256kdf]: KA_OIDS.cofactorDhSha256kdf,
  [KA_OIDS.stdDhSha384kdf]: KA_OIDS.cofactorDhSha384kdf,
  [KA_OIDS.stdDhSha512kdf]: KA_OIDS.cofactorDhSha512kdf,
};

let dir: string;
const parties: Record<string, Party> = {};

beforeAll(() => {
  if (!haveOpenssl) return;
  dir = tmp('smime-kari-');
  for (const c of CURVES) parties[c] = makeEcParty(dir, c);
  parties.X25519 = makeXParty(dir, 'X25519', parties['P-256']!);
  parties.X448 = makeXParty(dir, 'X448', parties['P-256']!);
});

describe.skipIf(!haveOpenssl)('KARI: OpenSSL encrypts, we decrypt', () => {
  const ciphers = ['-aes-128-cbc', '-aes-256-cbc', '-aes-256-gcm'];
  let n = 0;
  for (const curve of CURVES) {
    for (const md of MDS) {
      const cipher = ciphers[n % 3]!;
      const smime = n % 2 === 1;
      n++;
      it(`${curve} ecdh_kdf_md:${md} ${cipher} (${smime ? 'SMIME' : 'DER'})`, async () => {
        const p = parties[curve]!;
        const der = opensslEncrypt(p, CONTENT, [cipher, '-keyopt', `ecdh_kdf_md:${md}`], smime);
        const k = parsed(karis(der)[0]!);
        expect(k.keyAgreement).toBe(OPENSSL_KA[md]);
        expect(await open(der, p)).toBe(CONTENT);
      });
    }
    it(`${curve} with -wrap aes192-wrap, aes-128-cbc, default KDF`, async () => {
      const p = parties[curve]!;
      const der = opensslEncrypt(p, CONTENT, ['-aes-128-cbc', '-wrap', 'aes192-wrap'], false);
      expect(parsed(karis(der)[0]!).wrapOid).toBe(WRAP.aes192);
      expect(await open(der, p)).toBe(CONTENT);
    });
  }

  it('the wrong key fails as CMSDecryptionFailed', async () => {
    const p = parties['P-256']!;
    const other = makeEcParty(tmp('smime-kari-other-'), 'P-256');
    const der = opensslEncrypt(p, CONTENT, ['-aes-128-cbc'], false);
    // Same certificate (so the recipient matches), another key.
    await expect(openEnvelope(der, [identity(p.info, other.pkcs8)])).rejects.toBeInstanceOf(CMSDecryptionFailed);
  });
});

describe.skipIf(!haveOpenssl)('KARI: we encrypt, OpenSSL decrypts', () => {
  const variants: [string, KeyAgreeOptions, 'aes-128-cbc' | 'aes-256-cbc' | 'aes-256-gcm' | 'aes-128-gcm' | 'aes-192-cbc'][] = [
    ['defaults', {}, 'aes-256-gcm'],
    ['sha1 kdf', { kdf: 'sha1' }, 'aes-128-cbc'],
    ['sha224 kdf, aes192 wrap', { kdf: 'sha224', wrap: 'aes192' }, 'aes-192-cbc'],
    ['sha512 kdf, aes128 wrap', { kdf: 'sha512', wrap: 'aes128' }, 'aes-256-cbc'],
    ['ukm', { ukm: true }, 'aes-128-gcm'],
    ['rKeyId (SKI)', { useSki: true }, 'aes-256-cbc'],
  ];
  for (const curve of CURVES) {
    for (const [name, opts, cipher] of variants) {
      it(`${curve} ${name} (${cipher})`, async () => {
        const p = parties[curve]!;
        const der = await seal(p, cipher, opts);
        const k = parsed(karis(der)[0]!);
        expect(k.version).toBe(3);
        if (name === 'defaults') {
          expect(k.keyAgreement).toBe(curve === 'P-256' ? KA_OIDS.stdDhSha256kdf : KA_OIDS.stdDhSha384kdf);
          expect(k.wrapOid).toBe(curve === 'P-256' ? WRAP.aes128 : WRAP.aes256);
        }
        expect(k.wrapParams).toBeUndefined();
        expect(k.ukm?.length).toBe(opts.ukm ? 64 : undefined);
        if (opts.useSki) expect('ski' in k.recipients[0]!.rid).toBe(true);
        const r = opensslDecrypt(p, der);
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        expect(r.stdout).toBe(CONTENT);
        // And back through our own reader.
        expect(await open(der, p)).toBe(CONTENT);
      });
    }
  }
});

describe.skipIf(!haveOpenssl)('KARI: cofactor DH OIDs (decryption only)', () => {
  for (const md of MDS) {
    it(`OpenSSL message with stdDH-${md}kdf rewritten to cofactorDH`, async () => {
      const p = parties['P-384']!;
      const der = opensslEncrypt(p, CONTENT, ['-aes-256-cbc', '-keyopt', `ecdh_kdf_md:${md}`], false);
      const std = OPENSSL_KA[md];
      const cof = rewriteOid(der, std, COFACTOR[std]!);
      expect(parsed(karis(cof)[0]!).keyAgreement).toBe(COFACTOR[std]);
      expect(await open(cof, p)).toBe(CONTENT);
      // OpenSSL itself reads the cofactor variant the same way.
      expect(opensslDecrypt(p, cof).stdout).toBe(CONTENT);
    });
  }
  it('cofactor OIDs from the node:crypto sender, every curve', async () => {
    for (const curve of CURVES) {
      const p = parties[curve]!;
      const cek = new Uint8Array(32).fill(7);
      for (const [hash, ka] of [['sha1', KA_OIDS.cofactorDhSha1kdf], ['sha224', KA_OIDS.cofactorDhSha224kdf], ['sha512', KA_OIDS.cofactorDhSha512kdf]] as const) {
        const kari = refKari(p.info, { ka, kdf: 'x963', hash, wrap: 'aes256', cek });
        expect(await unwrapKari(parsed(kari), 0, { info: p.info, key: { pkcs8: p.pkcs8 } })).toEqual(cek);
      }
    }
  });
});

describe.skipIf(!haveOpenssl)('KARI: encodings from an independent node:crypto sender', () => {
  const cek = Uint8Array.from({ length: 16 }, (_, i) => i * 11);
  const unwrap = (p: Party, kari: Uint8Array) => unwrapKari(parsed(kari), 0, { info: p.info, key: { pkcs8: p.pkcs8 } });

  it('wrap parameters NULL and absent', async () => {
    for (const curve of CURVES) {
      const p = parties[curve]!;
      for (const wrapParamsNull of [false, true]) {
        const kari = refKari(p.info, { ka: KA_OIDS.stdDhSha256kdf, kdf: 'x963', hash: 'sha256', wrap: 'aes128', wrapParamsNull, cek });
        expect(parsed(kari).wrapParams?.length).toBe(wrapParamsNull ? 2 : undefined);
        expect(await unwrap(p, kari)).toEqual(cek);
      }
    }
  });

  it('originator key parameters: absent, NULL, the named curve; another curve is refused', async () => {
    const p = parties['P-256']!;
    for (const originatorParams of ['absent', 'null', 'curve'] as const) {
      const kari = refKari(p.info, { ka: KA_OIDS.stdDhSha384kdf, kdf: 'x963', hash: 'sha384', wrap: 'aes192', originatorParams, cek });
      expect(await unwrap(p, kari)).toEqual(cek);
    }
    const bad = refKari(p.info, { ka: KA_OIDS.stdDhSha384kdf, kdf: 'x963', hash: 'sha384', wrap: 'aes192', originatorParams: 'other-curve', cek });
    await expect(unwrap(p, bad)).rejects.toThrow(/another curve/);
  });

  it('ukm present: entityUInfo [0] in the SharedInfo', async () => {
    const ukm = Uint8Array.from({ length: 64 }, (_, i) => 255 - i);
    for (const curve of CURVES) {
      const p = parties[curve]!;
      const kari = refKari(p.info, { ka: KA_OIDS.stdDhSha512kdf, kdf: 'x963', hash: 'sha512', wrap: 'aes256', ukm, cek });
      expect(parsed(kari).ukm).toEqual(ukm);
      expect(await unwrap(p, kari)).toEqual(cek);
    }
    // An empty entityUInfo (what pkijs writes) is a different SharedInfo: not what we write when the ukm is absent.
    const w = algorithmIdentifier(WRAP.aes128);
    expect(sharedInfo(w, 16)).toEqual(seq(w, explicit(2, octets(Uint8Array.of(0, 0, 0, 128)))));
    expect(sharedInfo(w, 16)).not.toEqual(seq(w, explicit(0, octets(new Uint8Array(0))), explicit(2, octets(Uint8Array.of(0, 0, 0, 128)))));
  });

  it('X25519 and X448: X9.63 and HKDF schemes', async () => {
    for (const name of ['X25519', 'X448'] as const) {
      const p = parties[name]!;
      const cases = [
        [KA_OIDS.stdDhSha256kdf, 'x963', 'sha256', 'aes128'],
        [KA_OIDS.stdDhSha384kdf, 'x963', 'sha384', 'aes256'],
        [KA_OIDS.stdDhSha512kdf, 'x963', 'sha512', 'aes256'],
        [KA_OIDS.stdDhHkdfSha256, 'hkdf', 'sha256', 'aes128'],
        [KA_OIDS.stdDhHkdfSha384, 'hkdf', 'sha384', 'aes192'],
        [KA_OIDS.stdDhHkdfSha512, 'hkdf', 'sha512', 'aes256'],
      ] as const;
      for (const [ka, kdf, hash, wrap] of cases) {
        const kari = refKari(p.info, { ka, kdf, hash, wrap, cek, ukm: hash === 'sha384' ? new Uint8Array(64).fill(1) : undefined });
        expect(await unwrap(p, kari), `${name} ${ka}`).toEqual(cek);
      }
      // RFC 8418 defines no cofactor variant.
      const cof = refKari(p.info, { ka: KA_OIDS.cofactorDhSha256kdf, kdf: 'x963', hash: 'sha256', wrap: 'aes128', cek });
      await expect(unwrap(p, cof)).rejects.toThrow();
    }
  });

  it('unknown key agreement and wrap OIDs are UnsupportedAlgorithm naming the OID', async () => {
    const p = parties['P-256']!;
    const kari = refKari(p.info, { ka: KA_OIDS.stdDhSha256kdf, kdf: 'x963', hash: 'sha256', wrap: 'aes128', cek });
    const badKa = rewriteOid(kari, KA_OIDS.stdDhSha256kdf, '1.3.132.1.11.9');
    const e1 = await unwrap(p, badKa).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(UnsupportedAlgorithm);
    expect((e1 as UnsupportedAlgorithm).oid).toBe('1.3.132.1.11.9');
    expect((e1 as Error).message).toContain('1.3.132.1.11.9');
    const badWrap = rewriteOid(kari, WRAP.aes128, '2.16.840.1.101.3.4.1.8'); // id-aes128-wrap-pad
    const e2 = await unwrap(p, badWrap).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(UnsupportedAlgorithm);
    expect((e2 as UnsupportedAlgorithm).oid).toBe('2.16.840.1.101.3.4.1.8');
  });

  it('a tampered encryptedKey or the wrong key throws (not UnsupportedAlgorithm)', async () => {
    const p = parties['P-256']!;
    const kari = refKari(p.info, { ka: KA_OIDS.stdDhSha256kdf, kdf: 'x963', hash: 'sha256', wrap: 'aes128', cek });
    const k = parsed(kari);
    const ek = k.recipients[0]!.encryptedKey;
    const tampered = kari.slice();
    tampered[ek.byteOffset - kari.byteOffset + 3]! ^= 1;
    const e1 = await unwrap(p, tampered).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(Error);
    expect(e1).not.toBeInstanceOf(UnsupportedAlgorithm);
    const other = parties['P-384']!;
    await expect(unwrapKari(k, 0, { info: p.info, key: { pkcs8: other.pkcs8 } })).rejects.toThrow();
  });
});

describe.skipIf(!haveOpenssl)('KARI: our own round trips', () => {
  const kdfs = ['sha256', 'sha384', 'sha512', 'hkdf-sha256', 'hkdf-sha384', 'hkdf-sha512'] as const;
  for (const name of ['X25519', 'X448'] as const) {
    for (const kdf of kdfs) {
      it(`${name} ${kdf}`, async () => {
        const p = parties[name]!;
        const wrap = kdf.endsWith('256') ? 'aes128' : kdf.endsWith('384') ? 'aes192' : 'aes256';
        const der = await seal(p, kdf.startsWith('hkdf') ? 'aes-128-gcm' : 'aes-256-cbc', { kdf, wrap, ukm: kdf === 'sha384', useSki: kdf === 'hkdf-sha512' });
        const k = parsed(karis(der)[0]!);
        expect(k.originator.type).toBe('key');
        if (k.originator.type === 'key') {
          expect(k.originator.algorithm).toBe(p.info.keyAlgorithm);
          expect(k.originator.params).toBeUndefined();
          expect(k.originator.publicKey.length).toBe(name === 'X25519' ? 32 : 56);
        }
        expect(await open(der, p)).toBe(CONTENT);
      });
    }
    it(`${name} defaults`, async () => {
      const p = parties[name]!;
      const der = await seal(p, 'aes-256-gcm', {});
      const k = parsed(karis(der)[0]!);
      expect(k.keyAgreement).toBe(name === 'X25519' ? KA_OIDS.stdDhSha256kdf : KA_OIDS.stdDhSha512kdf);
      expect(k.wrapOid).toBe(name === 'X25519' ? WRAP.aes128 : WRAP.aes256);
      expect(await open(der, p)).toBe(CONTENT);
    });
  }

  it('a CryptoKey private key works as well as PKCS#8', async () => {
    for (const name of ['P-521', 'X25519'] as const) {
      const p = parties[name]!;
      const alg = name === 'X25519' ? { name: 'X25519' } : { name: 'ECDH', namedCurve: 'P-521' };
      const cryptoKey = await crypto.subtle.importKey('pkcs8', p.pkcs8.slice().buffer, alg, false, ['deriveBits']);
      const cek = new Uint8Array(24).fill(3);
      const kari = await buildKari(p.info, cek, {});
      expect(await unwrapKari(parsed(kari), 0, { info: p.info, key: { cryptoKey } })).toEqual(cek);
    }
  });

  it('refuses KDFs a curve does not define', async () => {
    const cek = new Uint8Array(16);
    await expect(buildKari(parties['P-256']!.info, cek, { kdf: 'hkdf-sha256' })).rejects.toThrow(RangeError);
    await expect(buildKari(parties.X25519!.info, cek, { kdf: 'sha1' })).rejects.toThrow(RangeError);
  });

  it('two recipients (P-256 and X25519) in one envelope, each opens it', async () => {
    const a = parties['P-256']!;
    const b = parties.X25519!;
    const env = await buildEnvelope(te.encode(CONTENT), [a.info, b.info], { cipher: 'aes-256-gcm' });
    const der = concatPieces(env.pieces);
    expect(karis(der).length).toBe(2);
    expect(await open(der, a)).toBe(CONTENT);
    expect(await open(der, b)).toBe(CONTENT);
    expect(opensslDecrypt(a, der).stdout).toBe(CONTENT);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Public X25519 vectors (draft-ireland-examples-cms, keys from RFC 9216)

const haveShared = sharedAvailable();

describe.skipIf(!haveShared)('KARI: X25519 public vectors (Dana)', () => {
  const SAMPLE = 'This is some sample content.';
  let dana: RecipientKey;
  beforeAll(() => {
    const keys = join(SHARED_VECTORS, 'rfc9216', 'keys');
    const info = certInfo(pemToDer(readFileSync(join(keys, 'lamps-dana.encrypt.crt'), 'utf8')));
    const pkcs8 = pemToDer(readFileSync(join(keys, 'lamps-dana.decrypt.p8.pem'), 'utf8'));
    dana = identity(info, pkcs8);
  });
  const vec = (name: string) => new Uint8Array(readFileSync(join(SHARED_VECTORS, 'draft-ireland-examples-cms', name)));

  it('authEnvelopedForDanaX25519HKDF.p7m: HKDF-SHA-256, aes256-wrap, AES-128-GCM', async () => {
    const der = vec('authEnvelopedForDanaX25519HKDF.p7m');
    expect(parsed(karis(der)[0]!).keyAgreement).toBe(KA_OIDS.stdDhHkdfSha256);
    const r = await openEnvelope(der, [dana]);
    expect(r.kind).toBe('authEnveloped');
    expect(td.decode(r.content)).toBe(SAMPLE);
  });

  it('encryptedForBobAndDana.p7m: the Dana KARI (X9.63 SHA-256, aes128-wrap, AES-128-CBC)', async () => {
    const der = vec('encryptedForBobAndDana.p7m');
    const k = parsed(karis(der)[0]!);
    expect(k.keyAgreement).toBe(KA_OIDS.stdDhSha256kdf);
    const r = await openEnvelope(der, [dana]);
    expect(r.keyTransport).toBe('key-agreement');
    expect(td.decode(r.content)).toBe(SAMPLE);
  });

  it('Dana round trip with every KDF', async () => {
    for (const kdf of ['sha256', 'sha384', 'sha512', 'hkdf-sha256', 'hkdf-sha384', 'hkdf-sha512'] as const) {
      const env = await buildEnvelope(te.encode(SAMPLE), [dana.info], { cipher: 'aes-128-cbc', keyAgree: { kdf } });
      const r = await openEnvelope(concatPieces(env.pieces), [dana]);
      expect(td.decode(r.content), kdf).toBe(SAMPLE);
    }
  });
});
