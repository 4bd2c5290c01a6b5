/**
 * ECDSA on a digest (crypto/ecdsa_digest.ts through verifySignatureOverDigest, what verifyStream uses for a SignerInfo
 * without signed attributes over a large content) against verifySignature on the message (WebCrypto, what
 * verifyMessage uses): the same result and reason for every Wycheproof ECDSA DER vector (P-256/SHA-256,
 * P-384/SHA-384, P-521/SHA-512: BER encodings, needless leading zeros, trailing bytes, r or s out of range, high S,
 * edge points), each equal to Wycheproof's expected result; then the pairings and refusals (another hash on a curve,
 * SHA-224, a foreign curve, a key of another kind, a point off the curve, Ed25519, a digest not computed).
 */
import { createHash, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIGESTS, SIGNATURES, type HashName } from '../../src/crypto/algorithms.js';
import { ecdsaDerToP1363, verifySignature, verifySignatureOverDigest, type SignerPublicKey } from '../../src/crypto/signatures.js';
import { REPO, SHARED_VECTORS, sharedAvailable } from '../_helpers/env.js';
import { alg, keyOf } from '../_helpers/signer_key.js';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const NODE_HASH: Record<string, string> = { 'SHA-1': 'sha1', 'SHA-224': 'sha224', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
const ECDSA_WITH: Record<string, string> = {
  'SHA-1': SIGNATURES.ecdsaSha1.oid,
  'SHA-224': SIGNATURES.ecdsaSha224.oid,
  'SHA-256': SIGNATURES.ecdsaSha256.oid,
  'SHA-384': SIGNATURES.ecdsaSha384.oid,
  'SHA-512': SIGNATURES.ecdsaSha512.oid,
};
/** The digests of `data` a stream reader would have computed (every hash, unless `only` names some). */
const digestsOf = (data: Uint8Array, only?: string[]) => (h: HashName) =>
  only && !only.includes(h) ? undefined : new Uint8Array(createHash(NODE_HASH[h] ?? 'md5').update(data).digest());

/** Both forms on the same SignerInfo fields: the message to WebCrypto, its digest to the digest form. */
async function both(sigAlg: string, digestOid: string | undefined, key: SignerPublicKey, data: Uint8Array, sig: Uint8Array, only?: string[]) {
  const whole = await verifySignature(alg(sigAlg), digestOid, key, data, sig);
  const digest = await verifySignatureOverDigest(alg(sigAlg), digestOid, key, digestsOf(data, only), sig);
  return { whole, digest };
}

interface WTest {
  tcId: number;
  comment: string;
  msg: string;
  sig: string;
  result: 'valid' | 'invalid' | 'acceptable';
}
interface WGroup {
  publicKeyDer: string;
  sha: string;
  tests: WTest[];
}

describe.skipIf(!sharedAvailable())('verifySignatureOverDigest: Wycheproof ECDSA (DER), against verifySignature', () => {
  for (const file of ['ecdsa_secp256r1_sha256_test.json', 'ecdsa_secp384r1_sha384_test.json', 'ecdsa_secp521r1_sha512_test.json']) {
    it(file, async () => {
      const data = JSON.parse(readFileSync(join(SHARED_VECTORS, 'wycheproof', file), 'utf8')) as { numberOfTests: number; testGroups: WGroup[] };
      let ran = 0;
      const tally = { valid: 0, invalid: 0 };
      for (const g of data.testGroups) {
        const key = keyOf(hex(g.publicKeyDer));
        for (const t of g.tests) {
          const what = `tcId ${t.tcId} (${t.comment})`;
          expect(t.result, what).not.toBe('acceptable'); // none in these files
          const r = await both(ECDSA_WITH[g.sha]!, undefined, key, hex(t.msg), hex(t.sig));
          expect(r.digest.ok, what).toBe(t.result === 'valid');
          expect(r.digest, what).toEqual(r.whole);
          tally[t.result as 'valid' | 'invalid']++;
          ran++;
        }
      }
      expect(ran).toBe(data.numberOfTests);
      console.log(`[ecdsa-digest] Wycheproof ${file}: ${ran} vectors (${tally.valid} valid, ${tally.invalid} invalid), the digest form equal to WebCrypto's on each`);
    });
  }
});

describe('verifySignatureOverDigest: ECDSA pairings and refusals as verifySignature', () => {
  const data = new TextEncoder().encode('content signed without signed attributes');
  const keys = Object.fromEntries(
    (['P-256', 'P-384', 'P-521'] as const).map((c) => {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: c });
      return [c, { key: keyOf(new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }))), privateKey }];
    }),
  );

  it('every curve with every WebCrypto hash (truncated when longer than the order, whole when shorter): valid, and a changed content or signature is signature-mismatch', async () => {
    for (const c of ['P-256', 'P-384', 'P-521'] as const) {
      for (const h of ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'] as const) {
        const { key, privateKey } = keys[c]!;
        const sig = new Uint8Array(nodeSign(NODE_HASH[h]!, data, privateKey));
        const ok = await both(ECDSA_WITH[h]!, undefined, key, data, sig);
        expect(ok.digest, `${c} ${h}`).toEqual({ ok: true, hash: h });
        expect(ok.whole).toEqual(ok.digest);
        // bare id-ecPublicKey as the signatureAlgorithm: the hash is the digestAlgorithm's
        const bare = await both('1.2.840.10045.2.1', DIGESTS[h].oid, key, data, sig);
        expect(bare.digest).toEqual({ ok: true, hash: h });
        const changed = await both(ECDSA_WITH[h]!, undefined, key, data.subarray(1), sig);
        expect(changed.digest).toEqual({ ok: false, reason: 'signature-mismatch', hash: h });
        expect(changed.whole).toEqual(changed.digest);
      }
    }
  });

  it('a high S (n - s) verifies in both, as WebCrypto and OpenSSL accept it; a trailing byte, a BER length or a needless zero does not', async () => {
    const { key, privateKey } = keys['P-256']!;
    const n = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
    const sig = new Uint8Array(nodeSign('sha256', data, privateKey));
    const raw = ecdsaDerToP1363(sig, 32)!;
    const r = raw.subarray(0, 32);
    const s = BigInt('0x' + Buffer.from(raw.subarray(32)).toString('hex'));
    const int = (b: Uint8Array) => {
      let i = 0;
      while (i < b.length - 1 && b[i] === 0) i++;
      const v = b.subarray(i);
      return v[0]! & 0x80 ? Buffer.concat([Buffer.from([0x02, v.length + 1, 0]), v]) : Buffer.concat([Buffer.from([0x02, v.length]), v]);
    };
    const der = (...parts: Buffer[]) => {
      const body = Buffer.concat(parts);
      return new Uint8Array(Buffer.concat([Buffer.from([0x30, body.length]), body]));
    };
    const flip = hex((n - s).toString(16).padStart(64, '0'));
    const high = der(int(r), int(flip));
    for (const [label, sigBytes, ok] of [
      ['as signed', sig, true],
      ['n - s', high, true],
      ['trailing byte', new Uint8Array([...sig, 0]), false],
      ['long-form length', new Uint8Array([0x30, 0x81, sig[1]!, ...sig.subarray(2)]), false],
      ['leading zero on r', der(Buffer.from([0x02, int(r)[1]! + 1, 0]), int(r).subarray(2), int(raw.subarray(32))), false],
      ['r ‖ s (P1363, not DER)', raw, false],
    ] as const) {
      const x = await both(SIGNATURES.ecdsaSha256.oid, undefined, key, data, sigBytes);
      expect(x.digest.ok, label).toBe(ok);
      expect(x.whole, label).toEqual(x.digest);
    }
  });

  it('refusals: SHA-224, another curve, a key of another kind, a point off the curve: the same reasons; no digest: digest-not-computed', async () => {
    const { key, privateKey } = keys['P-256']!;
    const sig = new Uint8Array(nodeSign('sha224', data, privateKey));
    const sha224 = await both(SIGNATURES.ecdsaSha224.oid, undefined, key, data, sig);
    expect(sha224.digest).toEqual({ ok: false, reason: `unsupported-algorithm: ${SIGNATURES.ecdsaSha224.oid}`, hash: 'SHA-224' });
    expect(sha224.whole).toEqual(sha224.digest);

    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    const k1key = keyOf(new Uint8Array(k1.publicKey.export({ type: 'spki', format: 'der' })));
    const foreign = await both(SIGNATURES.ecdsaSha256.oid, undefined, k1key, data, new Uint8Array(nodeSign('sha256', data, k1.privateKey)));
    expect(foreign.digest).toEqual({ ok: false, reason: 'unsupported-algorithm: 1.3.132.0.10', hash: 'SHA-256' });
    expect(foreign.whole).toEqual(foreign.digest);

    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaKey = keyOf(new Uint8Array(rsa.publicKey.export({ type: 'spki', format: 'der' })));
    const mismatch = await both(SIGNATURES.ecdsaSha256.oid, undefined, rsaKey, data, new Uint8Array(nodeSign('sha256', data, privateKey)));
    expect(mismatch.digest).toEqual({ ok: false, reason: 'key-algorithm-mismatch', hash: 'SHA-256' });
    expect(mismatch.whole).toEqual(mismatch.digest);

    // The point's last byte changed: off the curve. WebCrypto refuses the key in both forms (unsupported-key: …).
    const off = new Uint8Array(key.spki);
    off[off.length - 1]! ^= 1;
    const offKey = keyOf(off);
    const bad = await both(SIGNATURES.ecdsaSha256.oid, undefined, offKey, data, new Uint8Array(nodeSign('sha256', data, privateKey)));
    expect(bad.digest.ok).toBe(false);
    expect((bad.digest as { reason: string }).reason).toMatch(/^unsupported-key: /);
    expect(bad.whole).toEqual(bad.digest);

    const none = await both(SIGNATURES.ecdsaSha384.oid, undefined, key, data, new Uint8Array(nodeSign('sha384', data, privateKey)), ['SHA-256']);
    expect(none.whole).toEqual({ ok: true, hash: 'SHA-384' });
    expect(none.digest).toEqual({ ok: false, reason: 'digest-not-computed: SHA-384', hash: 'SHA-384' });
  });

  it('Ed25519 (PureEdDSA hashes R ‖ A ‖ M, R after the content): unsupported-in-stream on the digest, valid whole; DSA: what verifySignature says', async () => {
    const ed = generateKeyPairSync('ed25519');
    const edKey = keyOf(new Uint8Array(ed.publicKey.export({ type: 'spki', format: 'der' })));
    const r = await both(SIGNATURES.ed25519.oid, undefined, edKey, data, new Uint8Array(nodeSign(null, data, ed.privateKey)));
    expect(r.whole).toEqual({ ok: true });
    expect(r.digest).toEqual({ ok: false, reason: 'unsupported-in-stream: no signed attributes' });
    const dsaOid = '2.16.840.1.101.3.4.3.2'; // dsa-with-sha256
    const dsa = await both(dsaOid, undefined, edKey, data, new Uint8Array(64));
    expect(dsa.digest).toEqual(dsa.whole);
    expect(dsa.digest).toMatchObject({ ok: false, reason: `unsupported-algorithm: ${dsaOid}` });
  });
});

describe('@noble/curves is loaded on first use only', () => {
  it('src/ names it in one dynamic import() (crypto/ecdsa_digest.ts), never in a static import', () => {
    const files = (readdirSync(join(REPO, 'src'), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
    const naming = files.filter((f) => readFileSync(join(REPO, 'src', f), 'utf8').includes("'@noble/curves"));
    expect(naming.map((f) => f.replaceAll('\\', '/'))).toEqual(['crypto/ecdsa_digest.ts']);
    const code = readFileSync(join(REPO, 'src', 'crypto', 'ecdsa_digest.ts'), 'utf8');
    expect(code.match(/'@noble\/curves[^']*'/g)).toEqual(["'@noble/curves/nist.js'"]);
    expect(code).toContain("import('@noble/curves/nist.js')");
    expect(code).not.toMatch(/^import [^;]*'@noble\/curves/m);
  });
});
