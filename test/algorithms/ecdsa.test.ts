/**
 * ECDSA P-384 with SHA-384 and P-521 with SHA-512, both ways with OpenSSL, with keys and certificates OpenSSL makes at
 * test time (a P-384 CA signing with ecdsa-with-SHA384, so the chain check covers EC certificate signatures too):
 * - `openssl cms -sign -md sha384|sha512` (detached and opaque) verify `valid` in smime-core;
 * - ours (signMessage with digest sha384|sha512) verify in `openssl cms -verify -purpose smimesign`;
 * - the algorithm identifiers: ecdsa-with-SHA384/SHA512 with absent parameters, a DER ECDSA-Sig-Value;
 * - tampering is `invalid`, and ECDSA with SHA-224 (no WebCrypto hash) is `unsupported-algorithm: <oid>`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, signMessage, verifyMessage } from '../../src/index.js';
import { parseSignedData } from '../../src/cms/signed.js';
import { children, readTlv } from '../../src/lib/der.js';
import { hasPeer, run, tmp, tryRun } from '../_helpers/env.js';
import { cmsOf, text } from '../sign/_pki.js';

const OPENSSL = hasPeer('openssl', ['version']);

interface Files {
  dir: string;
  caCert: string;
  leaves: Record<'p384' | 'p521', { cert: string; key: string; email: string }>;
}

function makeEcPki(): Files {
  const dir = tmp('smime-ecdsa-');
  const f = (n: string) => join(dir, n);
  run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', f('ca.key')]);
  run('openssl', [
    'req', '-new', '-x509', '-key', f('ca.key'), '-sha384', '-days', '3650', '-subj', '/CN=ECDSA Test CA/O=smime-core tests',
    '-extensions', 'v3_ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-out', f('ca.crt'),
  ]);
  const leaves = {} as Files['leaves'];
  for (const [name, curve, md] of [
    ['p384', 'P-384', 'sha384'],
    ['p521', 'P-521', 'sha384'],
  ] as const) {
    const email = `${name}@example.org`;
    run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${curve}`, '-out', f(`${name}.key`)]);
    run('openssl', ['req', '-new', '-key', f(`${name}.key`), '-subj', `/CN=${name}/O=smime-core tests`, '-out', f(`${name}.csr`)]);
    writeFileSync(
      f(`${name}.ext`),
      `subjectAltName=email:${email}\nkeyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=emailProtection\n` +
        'authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\nbasicConstraints=CA:FALSE\n',
    );
    run('openssl', [
      'x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), `-${md}`, '-days', '365',
      '-extfile', f(`${name}.ext`), '-set_serial', name === 'p384' ? '384' : '521', '-out', f(`${name}.crt`),
    ]);
    leaves[name] = { cert: f(`${name}.crt`), key: f(`${name}.key`), email };
  }
  return { dir, caCert: f('ca.crt'), leaves };
}

const message = (from: string) =>
  `From: ${from}\r\nTo: bob@example.com\r\nSubject: ECDSA\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nHello from ${from}.\r\n`;

const OID = {
  p384: '1.3.132.0.34',
  p521: '1.3.132.0.35',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  ecdsaSha512: '1.2.840.10045.4.3.4',
  ecdsaSha224: '1.2.840.10045.4.3.1',
};

describe.runIf(OPENSSL)('ECDSA P-384/SHA-384 and P-521/SHA-512 with OpenSSL-made keys', () => {
  let pki: Files;
  beforeAll(() => {
    pki = makeEcPki();
  });

  const verifier = async () => {
    const s = new CertificateStore();
    s.addTrustAnchor(readFileSync(pki.caCert, 'latin1'));
    return s;
  };
  const signer = async (name: 'p384' | 'p521') => {
    const s = await verifier();
    await s.importIdentity(readFileSync(pki.leaves[name].cert, 'latin1'), readFileSync(pki.leaves[name].key, 'latin1'));
    return s;
  };
  const opensslSign = (name: 'p384' | 'p521', extra: string[]) => {
    const l = pki.leaves[name];
    const f = join(pki.dir, `in-${name}-${Math.random().toString(36).slice(2)}.eml`);
    writeFileSync(f, message(l.email));
    return run('openssl', ['cms', '-sign', '-signer', l.cert, '-inkey', l.key, '-in', f, ...extra]);
  };

  const cases = [
    ['p384', 'sha384', OID.ecdsaSha384, 'SHA-384'],
    ['p521', 'sha512', OID.ecdsaSha512, 'SHA-512'],
  ] as const;

  for (const [name, md, sigOid, hashName] of cases) {
    for (const opaque of [false, true]) {
      it(`openssl cms -sign -md ${md} with ${name} (${opaque ? 'opaque' : 'detached'}) is valid in smime-core`, async () => {
        const signed = opensslSign(name, ['-md', md, ...(opaque ? ['-nodetach'] : [])]);
        const si = parseSignedData(cmsOf(signed)).signerInfos[0]!;
        expect(si.signatureAlgorithm.oid).toBe(sigOid);
        const r = await verifyMessage(signed, { store: await verifier(), harvest: false });
        expect(r.signers.map((s) => [s.status, s.reasons, s.email, s.digestAlgorithm, s.signatureAlgorithm])).toEqual([
          ['valid', [], pki.leaves[name].email, hashName, sigOid],
        ]);
        if (!opaque) {
          const bad = await verifyMessage(text(signed).replace('Hello from', 'Hello, from'), { store: await verifier(), harvest: false });
          expect(bad.signers[0]!.status).toBe('invalid');
        }
      });
    }

    it(`ours with ${name} and digest ${md} verify in openssl cms -verify`, async () => {
      const store = await signer(name);
      for (const detached of [true, false]) {
        const out = await signMessage(message(pki.leaves[name].email), { store, from: pki.leaves[name].email, digest: (md === 'sha384' ? 'SHA-384' : 'SHA-512'), detached });
        if (detached) expect(text(out)).toContain(`micalg=sha-${md.slice(3)}`);
        const sd = parseSignedData(cmsOf(out));
        const si = sd.signerInfos[0]!;
        expect(si.digestAlgorithm.oid).toBe(md === 'sha384' ? OID.sha384 : OID.sha512);
        expect(si.signatureAlgorithm.oid).toBe(sigOid);
        expect(si.signatureAlgorithm.params).toBeUndefined();
        // ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }
        const top = readTlv(si.signature, 0);
        expect(top.end).toBe(si.signature.length);
        expect(children(si.signature, top).map((t) => t.tagNo)).toEqual([2, 2]);
        expect(sd.certificates.map((c) => c.curve)).toEqual([name === 'p384' ? OID.p384 : OID.p521]);

        const f = join(pki.dir, `ours-${name}-${detached}.eml`);
        writeFileSync(f, out);
        const r = tryRun('openssl', ['cms', '-verify', '-purpose', 'smimesign', '-CAfile', pki.caCert, '-in', f]);
        expect(r.stderr).toContain('Verification successful');
        expect(r.status).toBe(0);
        expect(text(r.stdout)).toContain(`Hello from ${pki.leaves[name].email}.`);
        const v = await verifyMessage(out, { store: await verifier(), harvest: false });
        expect(v.signers.map((s) => s.status)).toEqual(['valid']);
      }
    });
  }

  it('ours: a flipped bit in the ECDSA signature is a signature-mismatch', async () => {
    const store = await signer('p521');
    const out = await signMessage(message(pki.leaves.p521.email), { store, from: pki.leaves.p521.email, digest: 'SHA-512', detached: false });
    const der = cmsOf(out);
    const si = parseSignedData(der).signerInfos[0]!;
    const at = Buffer.from(der).indexOf(Buffer.from(si.signature));
    der[at + si.signature.length - 2] ^= 0x04; // inside s
    const r = await verifyMessage(der, { store: await verifier(), harvest: false });
    expect(r.signers.map((s) => [s.status, s.reasons])).toEqual([['invalid', ['signature-mismatch']]]);
  });

  it('ECDSA with SHA-224 (no WebCrypto hash) is invalid: unsupported-algorithm naming ecdsa-with-SHA224', async () => {
    const signed = opensslSign('p384', ['-md', 'sha224']);
    const r = await verifyMessage(signed, { store: await verifier(), harvest: false });
    expect(r.signers[0]!.status).toBe('invalid');
    expect(r.signers[0]!.reasons).toEqual([`unsupported-algorithm: ${OID.ecdsaSha224}`]);
  });
});
