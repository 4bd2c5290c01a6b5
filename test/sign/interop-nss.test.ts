/**
 * NSS interop (cmsutil, the S/MIME tool of Thunderbird's library), both ways:
 * - `cmsutil -S` signatures (opaque and detached `-T`, RSA and ECDSA) verify as valid in smime-core;
 * - the encryption key preference NSS writes with `-Y` steers a later encryptMessage;
 * - our signatures decode as `GoodSignature` in `cmsutil -D`, against an NSS database that trusts only the root.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decryptMessage, encryptMessage, signMessage, verifyMessage } from '../../src/index.js';
import { parseSignedData } from '../../src/cms/signed.js';
import { ATTR } from '../../src/cms/attributes.js';
import { hasPeer, run, tryRun } from '../_helpers/env.js';
import { bytes, cmsOf, makePki, MESSAGE, multipartSigned, pkcs7Mime, storeFor, text, type TestPki } from './_pki.js';

const HAVE = hasPeer('cmsutil', ['-h']) && hasPeer('certutil', ['-h']) && hasPeer('pk12util', ['-h']) && hasPeer('openssl', ['version']);

let pki: TestPki;
let aliceDb: string;
let bobDb: string;
const ENTITY = 'Content-Type: text/plain; charset=us-ascii\r\n\r\nHello from NSS.\r\n';

function nssDb(name: string, identities: string[]): string {
  const dir = join(pki.dir, `nss-${name}`);
  mkdirSync(dir);
  const db = `sql:${dir}`;
  run('certutil', ['-N', '-d', db, '--empty-password']);
  for (const n of identities) {
    const p12 = join(pki.dir, `${name}-${n}.p12`);
    run('openssl', ['pkcs12', '-export', '-in', pki.ids[n]!.certFile, '-inkey', pki.ids[n]!.keyFile, '-name', n, '-out', p12, '-passout', 'pass:x']);
    run('pk12util', ['-i', p12, '-d', db, '-W', 'x']);
  }
  run('certutil', ['-A', '-d', db, '-n', 'root', '-t', 'C,C,C', '-i', pki.rootFile]);
  run('certutil', ['-A', '-d', db, '-n', 'ca', '-t', ',,', '-i', pki.ca.certFile]);
  return db;
}

function nssSign(nick: string, extra: string[]): Uint8Array {
  const inFile = join(pki.dir, 'nss-in.txt');
  const outFile = join(pki.dir, `nss-out-${Math.random().toString(36).slice(2)}.p7m`);
  writeFileSync(inFile, ENTITY);
  const r = tryRun('cmsutil', ['-S', '-N', nick, '-G', '-P', '-i', inFile, '-o', outFile, '-d', aliceDb, '-p', '', ...extra]);
  if (r.status !== 0) throw new Error(`cmsutil -S failed: ${r.stderr}`);
  return run('cat', [outFile]);
}

function nssDecode(der: Uint8Array, content?: Uint8Array) {
  const f = join(pki.dir, `nss-dec-${Math.random().toString(36).slice(2)}`);
  writeFileSync(`${f}.p7m`, der);
  const args = ['-D', '-i', `${f}.p7m`, '-d', bobDb, '-h', '2', '-n'];
  if (content) {
    writeFileSync(`${f}.txt`, content);
    args.push('-c', `${f}.txt`);
  }
  const r = tryRun('cmsutil', args);
  return `${text(r.stdout)}${r.stderr}`;
}

beforeAll(async () => {
  if (!HAVE) return;
  pki = await makePki();
  aliceDb = nssDb('alice', ['alice-sign', 'alice-enc-old', 'ec256']);
  bobDb = nssDb('bob', ['bob']);
});

describe.runIf(HAVE)('NSS cmsutil → smime-core', () => {
  const cases: [string, string, string, boolean][] = [
    ['RSA opaque', 'alice-sign', 'alice@example.com', false],
    ['RSA detached (-T)', 'alice-sign', 'alice@example.com', true],
    ['ECDSA P-256 opaque', 'ec256', 'carol@example.com', false],
    ['ECDSA P-256 detached (-T)', 'ec256', 'carol@example.com', true],
  ];
  for (const [name, nick, addr, detached] of cases) {
    it(`${name} verifies as valid`, async () => {
      // Without -Y, cmsutil names the signing cert as the encryption key and refuses a signing-only RSA cert.
      const der = nssSign(nick, [...(detached ? ['-T'] : []), ...(nick === 'alice-sign' ? ['-Y', 'NONE'] : [])]);
      const headers = `From: ${addr}\r\nTo: bob@example.com\r\nSubject: nss\r\n`;
      const msg = detached ? multipartSigned(bytes(ENTITY), der, headers) : pkcs7Mime(der, headers);
      const r = await verifyMessage(msg, { store: await storeFor(pki, ['bob']) });
      expect(r.signers.map((s) => [s.email, s.status, s.reasons])).toEqual([[addr, 'valid', []]]);
      expect(text(r.content)).toBe(ENTITY);
    });
  }

  it('the encryption key preference of cmsutil -S -Y steers a later encryptMessage', async () => {
    const der = nssSign('alice-sign', ['-Y', 'alice-enc-old']);
    const types = parseSignedData(der).signerInfos[0]!.signedAttrs!.map((a) => a.type);
    expect(types).toContain(ATTR.encKeyPref);
    expect(types).toContain(ATTR.msEncKeyPref);
    // Bob knows Alice's newer alice-enc, which he would pick without the preference.
    const bob = await storeFor(pki, ['bob'], ['alice-enc']);
    const alice = await storeFor(pki, ['alice-enc-old']);
    expect((await bob.findEncryptionCertificate('alice@example.com')).certificate!.serialNumber.toLowerCase()).toBe(
      pki.ids['alice-enc']!.cert.serialNumber.toLowerCase(),
    );
    const v = await verifyMessage(pkcs7Mime(der), { store: bob });
    expect(v.signers[0]!.status).toBe('valid');
    const d = await decryptMessage(await encryptMessage(MESSAGE, { store: bob, to: ['alice@example.com'] }), { store: alice });
    expect(d.recipient.serialNumber.toLowerCase()).toBe(pki.ids['alice-enc-old']!.cert.serialNumber.toLowerCase());
  });
});

describe.runIf(HAVE)('smime-core → NSS cmsutil -D', () => {
  const cases: [string, string, Record<string, unknown>][] = [
    ['RSA opaque', 'alice@example.com', { detached: false }],
    ['RSA detached', 'alice@example.com', {}],
    ['RSA SHA-384 detached', 'alice@example.com', { digest: 'SHA-384' }],
    ['ECDSA P-256 opaque', 'carol@example.com', { detached: false }],
    ['ECDSA P-384 detached', 'carol384@example.com', { digest: 'SHA-384' }],
  ];
  for (const [name, from, opts] of cases) {
    it(`${name}: GoodSignature`, async () => {
      const store = await storeFor(pki, ['alice-sign', 'alice-enc', 'ec256', 'ec384']);
      const out = await signMessage(MESSAGE, { store, from, ...opts });
      const der = cmsOf(out);
      const content = opts.detached === false ? undefined : (await verifyMessage(out, { store, harvest: false })).content;
      const report = nssDecode(der, content);
      expect(report).toContain('signer0.status=GoodSignature');
    });
  }

  it('a tampered one is not a GoodSignature', async () => {
    const store = await storeFor(pki, ['alice-sign']);
    const out = await signMessage(MESSAGE, { store, from: 'alice@example.com' });
    const content = (await verifyMessage(out, { store, harvest: false })).content;
    const altered = bytes(text(content).replace('Hello Bob', 'Hello Eve'));
    expect(nssDecode(cmsOf(out), altered)).not.toContain('GoodSignature');
  });
});
