/**
 * verifyStream of ECDSA SignerInfos without signed attributes (`openssl cms -sign -noattr -binary`: the signature is
 * over the content itself, RFC 5652 §5.4) over 2 MiB of content, more than the 1 MiB the reader keeps: checked on the
 * digest the reader computed (crypto/ecdsa_digest.ts), with verifyMessage's status, reasons and content, for
 * P-256/SHA-256, P-384/SHA-384 and P-521/SHA-512, detached and opaque (and SHA-1, weak, and SHA-512 on P-384,
 * truncated, as verifyMessage judges them); a byte changed deep in the content and a
 * signature made by another key are `signature-mismatch` in both; the streamed `smime verify` (verifyMessage wrapped
 * here to count its calls: not called) reports what verifyMessage says. Ed25519 stays `unsupported-in-stream: no
 * signed attributes` on the stream (PureEdDSA hashes R ‖ A ‖ M, R after the content; RFC 8419 §3). Keys and
 * certificates are made by OpenSSL at test time (a P-384 CA).
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createPrivateKey, sign as nodeSign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CertificateStore, verifyMessage, verifyStream, type VerifyResult } from '../../src/index.node.js';
import { algorithmIdentifier, children, integer, octets, oid, readTlv, seq, set, tlv } from '../../src/lib/der.js';
import { issuerAndSerial } from '../../src/cms/attributes.js';
import { OIDS } from '../../src/cms/oids.js';
import { certInfo } from '../../src/certs/cert_info.js';
import { SIGNATURES } from '../../src/crypto/algorithms.js';
import { cli } from '../_helpers/cli.js';
import { hasPeer, IN_CI, run, tmp } from '../_helpers/env.js';
import { multipartSigned, pkcs7Mime } from '../sign/_pki.js';
import { collect, source } from './_streams.js';

const calls = vi.hoisted(() => ({ verifyMessage: 0 }));
vi.mock('../../src/verify.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/verify.js')>();
  return { ...m, verifyMessage: ((...a: Parameters<typeof m.verifyMessage>) => (calls.verifyMessage++, m.verifyMessage(...a))) as typeof m.verifyMessage };
});

/** 2 MiB of text lines (more than the 1 MiB verifyStream keeps), CRLF. */
const BODY = 'Content-Type: text/plain\r\n\r\n' + 'a line of a large message signed with an EC key, no signed attributes\r\n'.repeat(30000);

type Leaf = 'p256' | 'p256b' | 'p384' | 'p521' | 'ed25519';
const LEAVES: Record<Leaf, string[]> = {
  p256: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  p256b: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  p384: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  p521: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521'],
  ed25519: ['-algorithm', 'ED25519'],
};

let dir = '';
const f = (n: string) => join(dir, n);

/** A P-384 CA and one signing leaf per entry of LEAVES, made by OpenSSL. */
function makePki(): void {
  dir = tmp('smime-noattr-ec-');
  run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', f('ca.key')]);
  run('openssl', [
    'req', '-new', '-x509', '-key', f('ca.key'), '-sha384', '-days', '3650', '-subj', '/CN=No-attr EC Test CA/O=smime-core tests',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', f('ca.crt'),
  ]);
  for (const [name, gen] of Object.entries(LEAVES)) {
    run('openssl', ['genpkey', ...gen, '-out', f(`${name}.key`)]);
    run('openssl', ['req', '-new', '-key', f(`${name}.key`), '-subj', `/CN=${name}/O=smime-core tests`, '-out', f(`${name}.csr`)]);
    writeFileSync(
      f(`${name}.ext`),
      `subjectAltName=email:${name}@example.org\nkeyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=emailProtection\n` +
        'authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\nbasicConstraints=CA:FALSE\n',
    );
    run('openssl', ['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-sha384', '-days', '365', '-extfile', f(`${name}.ext`), '-CAcreateserial', '-out', f(`${name}.crt`)]);
  }
  writeFileSync(f('body.eml'), BODY);
}

/** `openssl cms -sign -noattr -binary` of BODY by `leaf`. */
const sign = (leaf: Leaf, extra: string[]) =>
  run('openssl', ['cms', '-sign', '-noattr', '-binary', '-signer', f(`${leaf}.crt`), '-inkey', f(`${leaf}.key`), '-in', f('body.eml'), ...extra]);

function store(): CertificateStore {
  const s = new CertificateStore();
  s.addTrustAnchor(readFileSync(f('ca.crt'), 'latin1'));
  return s;
}

async function both(msg: Uint8Array): Promise<{ stream: VerifyResult; buffer: VerifyResult; content: Uint8Array }> {
  const s = store();
  const buffer = await verifyMessage(msg, { store: s, harvest: false });
  const { content, done } = await verifyStream(source(msg, 65536).stream, { store: s, harvest: false });
  const c = await collect(content);
  return { stream: await done, buffer, content: c };
}

const summary = (r: VerifyResult) => r.signers.map((s) => ({ status: s.status, reasons: s.reasons }));

/** A byte changed deep in the content: the text in the detached form, a base64 character mid-eContent in the opaque. */
function tamper(msg: Uint8Array, detached: boolean): Uint8Array {
  const s = Buffer.from(msg).toString('latin1');
  const at = detached ? s.indexOf('a line of a large', s.length >> 1) : s.indexOf('\n', s.length >> 1) + 10;
  return new Uint8Array(Buffer.from(s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1), 'latin1'));
}

/** ContentInfo(SignedData) `der` (DER, definite lengths) with its one SignerInfo's signature replaced by `signature`. */
function withSignature(der: Uint8Array, signature: Uint8Array): Uint8Array {
  const [typeT, ctxT] = children(der, readTlv(der, 0));
  const fields = children(der, children(der, ctxT!)[0]!);
  const si = children(der, children(der, fields.at(-1)!)[0]!);
  const raw = (t: { start: number; end: number }) => der.subarray(t.start, t.end);
  return seq(raw(typeT!), tlv(0xa0, seq(...fields.slice(0, -1).map(raw), set(seq(...si.slice(0, -1).map(raw), tlv(0x04, signature))))));
}

/** The signature value of the one SignerInfo of ContentInfo(SignedData) `der`. */
function signatureOf(der: Uint8Array): Uint8Array {
  const [, ctxT] = children(der, readTlv(der, 0));
  const fields = children(der, children(der, ctxT!)[0]!);
  const sig = children(der, children(der, fields.at(-1)!)[0]!).at(-1)!;
  return der.subarray(sig.contentStart, sig.contentEnd);
}

describe.skipIf(!hasPeer('openssl') && !IN_CI)('verifyStream: ECDSA without signed attributes over 2 MiB', () => {
  beforeAll(makePki);

  for (const [leaf, md] of [
    ['p256', 'sha256'],
    ['p384', 'sha384'],
    ['p521', 'sha512'],
  ] as const) {
    for (const detached of [true, false]) {
      it(`${leaf}/${md}, ${detached ? 'detached' : 'opaque'}: valid on the digest, as verifyMessage says; a changed byte deep in the content: signature-mismatch in both`, async () => {
        const msg = sign(leaf, ['-md', md, ...(detached ? [] : ['-nodetach'])]);
        const r = await both(msg);
        expect(summary(r.stream)).toEqual(summary(r.buffer));
        expect(r.stream.signers[0]?.status).toBe('valid');
        expect(r.content.length).toBeGreaterThan(2 << 20);
        expect(Buffer.from(r.content).equals(Buffer.from(r.buffer.content))).toBe(true);
        const t = await both(tamper(msg, detached));
        expect(summary(t.stream)).toEqual(summary(t.buffer));
        expect(t.stream.signers[0]?.reasons).toContain('signature-mismatch');
      });
    }
  }

  it('p256/sha1 (weak under the default policy) and p384/sha512 (a longer hash, truncated): the same status and reasons in both', async () => {
    for (const [leaf, md] of [['p256', 'sha1'], ['p384', 'sha512']] as const) {
      const r = await both(sign(leaf, ['-md', md]));
      expect(summary(r.stream), `${leaf}/${md}`).toEqual(summary(r.buffer));
      expect(summary(r.stream), `${leaf}/${md}`).toEqual(md === 'sha1' ? [{ status: 'invalid', reasons: ['weak-algorithm'] }] : [{ status: 'valid', reasons: [] }]);
    }
  });

  it('a signature made by another P-256 key (the SignerInfo names p256, the signature is p256b\'s): signature-mismatch in both', async () => {
    const der = (leaf: Leaf) => sign(leaf, ['-md', 'sha256', '-outform', 'DER']);
    const forged = withSignature(der('p256'), signatureOf(der('p256b')));
    const msg = multipartSigned(new TextEncoder().encode(BODY), forged, '');
    const r = await both(msg);
    expect(summary(r.stream)).toEqual(summary(r.buffer));
    expect(r.stream.signers[0]?.reasons).toEqual(['signature-mismatch']);
    // The same SignedData with p256's own signature back: valid in both (the swap alone made the difference).
    const own = await both(multipartSigned(new TextEncoder().encode(BODY), withSignature(der('p256'), signatureOf(der('p256'))), ''));
    expect(summary(own.stream)).toEqual([{ status: 'valid', reasons: [] }]);
    expect(summary(own.buffer)).toEqual(summary(own.stream));
  });

  it('smime verify (streamed, verifyMessage not called): exit 0 and a valid report for P-384 opaque; 1 and signature-mismatch when tampered', async () => {
    const msg = sign('p384', ['-md', 'sha384', '-nodetach']);
    writeFileSync(f('p384.eml'), msg);
    writeFileSync(f('p384-bad.eml'), tamper(msg, false));
    const buffer = { good: await verifyMessage(msg, { store: store(), harvest: false }), bad: await verifyMessage(tamper(msg, false), { store: store(), harvest: false }) };
    for (const [name, expected, code] of [
      ['p384', buffer.good, 0],
      ['p384-bad', buffer.bad, 1],
    ] as const) {
      calls.verifyMessage = 0;
      const r = await cli(['verify', '--trust', f('ca.crt'), '--in', f(`${name}.eml`), '--out', f(`${name}.out`), '--report', f(`${name}.json`)]);
      expect(calls.verifyMessage).toBe(0);
      expect(r.code, r.err).toBe(code);
      const rep = JSON.parse(readFileSync(f(`${name}.json`), 'utf8')) as { signers: { status: string; reasons: string[] }[] };
      expect(rep.signers.map((s) => ({ status: s.status, reasons: s.reasons }))).toEqual(summary(expected));
    }
    expect(summary(buffer.bad)[0]?.reasons).toContain('signature-mismatch');
    expect(readFileSync(f('p384.out')).equals(Buffer.from(BODY))).toBe(true);
  });

  it('Ed25519: valid whole, unsupported-in-stream: no signed attributes on the stream (PureEdDSA hashes R ‖ A ‖ M, R after the content)', async () => {
    // OpenSSL 3.0 signs no Ed25519 CMS ("invalid digest"): the SignedData is built here, RFC 8419's (SHA-512 as the
    // digestAlgorithm, id-Ed25519 without parameters), the signature node:crypto's Ed25519 over the content.
    const certDer = run('openssl', ['x509', '-in', f('ed25519.crt'), '-outform', 'DER']);
    const signature = new Uint8Array(nodeSign(null, Buffer.from(BODY), createPrivateKey(readFileSync(f('ed25519.key')))));
    const sha512 = algorithmIdentifier(OIDS.sha512);
    const si = seq(integer(1), issuerAndSerial(certInfo(certDer)), sha512, algorithmIdentifier(SIGNATURES.ed25519.oid), octets(signature));
    const signedData = (eci: Uint8Array) => seq(oid(OIDS.signedData), tlv(0xa0, seq(integer(1), set(sha512), eci, tlv(0xa0, certDer), set(si))));
    const detached = signedData(seq(oid(OIDS.data)));
    const opaque = signedData(seq(oid(OIDS.data), tlv(0xa0, octets(new TextEncoder().encode(BODY)))));
    for (const msg of [multipartSigned(new TextEncoder().encode(BODY), detached, ''), pkcs7Mime(opaque, '')]) {
      const r = await both(msg);
      expect(summary(r.buffer)).toEqual([{ status: 'valid', reasons: [] }]);
      expect(r.stream.signers[0]?.status).not.toBe('valid');
      expect(r.stream.signers[0]?.reasons).toEqual(['unsupported-in-stream: no signed attributes']);
    }
  });
});
