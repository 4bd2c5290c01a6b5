/**
 * gpgsm interop (GnuPG's S/MIME tool), both ways:
 * - gpgsm RSA signatures (detached and opaque) verify as valid in smime-core;
 * - our signatures (RSA and ECDSA, detached and opaque) are a "Good signature" in `gpgsm --verify`, with the test
 *   root in gpgsm's trustlist and CRL checks off (there is no CRL service in the test).
 * gpgsm 2.2 can't import an EC key from PKCS#12 (it crashes), so gpgsm signs with RSA only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { signMessage, verifyMessage } from '../../src/index.js';
import { hasPeer, run, tryRun } from '../_helpers/env.js';
import { bytes, cmsOf, makePki, MESSAGE, multipartSigned, pkcs7Mime, storeFor, text, type TestPki } from './_pki.js';

const HAVE = hasPeer('gpgsm', ['--version']) && hasPeer('openssl', ['version']);

let pki: TestPki;
let home: string;
const ENTITY = 'Content-Type: text/plain; charset=us-ascii\r\n\r\nHello from gpgsm.\r\n';

function gpgsm(args: string[], input?: string) {
  return tryRun('gpgsm', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase-fd', '0', ...args], input ?? 'x\n');
}

beforeAll(async () => {
  if (!HAVE) return;
  pki = await makePki();
  home = join(pki.dir, 'gnupg');
  mkdirSync(home, { mode: 0o700 });
  writeFileSync(join(home, 'gpg-agent.conf'), 'allow-loopback-pinentry\n');
  writeFileSync(join(home, 'gpgsm.conf'), 'disable-crl-checks\ndisable-trusted-cert-crl-check\n');
  const fpr = createHash('sha1').update(pki.root.der).digest('hex').toUpperCase().match(/../g)!.join(':');
  writeFileSync(join(home, 'trustlist.txt'), `${fpr} S relax\n`);
  expect(gpgsm(['--import', pki.rootFile, pki.ca.certFile]).status).toBe(0);
  const p12 = join(pki.dir, 'gpgsm-alice.p12');
  const a = pki.ids['alice-sign']!;
  run('openssl', ['pkcs12', '-export', '-in', a.certFile, '-inkey', a.keyFile, '-out', p12, '-passout', 'pass:x', '-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1']);
  const r = gpgsm(['--import', p12]);
  expect(r.stderr).toContain('secret keys imported: 1');
});

afterAll(() => {
  if (HAVE && home) tryRun('gpgconf', ['--homedir', home, '--kill', 'all']);
});

function gpgsmSign(detached: boolean): Uint8Array {
  const fpr = createHash('sha1').update(pki.ids['alice-sign']!.der).digest('hex').toUpperCase();
  const inFile = join(pki.dir, 'gpgsm-in.txt');
  const outFile = join(pki.dir, `gpgsm-out-${detached ? 'd' : 'o'}.p7`);
  writeFileSync(inFile, ENTITY);
  const r = gpgsm(['-u', fpr, detached ? '--detach-sign' : '--sign', '-o', outFile, inFile]);
  if (r.status !== 0) throw new Error(`gpgsm sign failed: ${r.stderr}`);
  return new Uint8Array(readFileSync(outFile));
}

function gpgsmVerify(der: Uint8Array, content?: Uint8Array) {
  const f = join(pki.dir, `gpgsm-v-${Math.random().toString(36).slice(2)}`);
  writeFileSync(`${f}.p7`, der);
  if (!content) return gpgsm(['-o', `${f}.out`, '--verify', `${f}.p7`]);
  writeFileSync(`${f}.txt`, content);
  return gpgsm(['--verify', `${f}.p7`, `${f}.txt`]);
}

describe.runIf(HAVE)('gpgsm → smime-core', () => {
  it('RSA detached verifies as valid', async () => {
    const msg = multipartSigned(bytes(ENTITY), gpgsmSign(true));
    const r = await verifyMessage(msg, { store: await storeFor(pki, ['bob']) });
    expect(r.signers.map((s) => [s.email, s.status, s.reasons])).toEqual([['alice@example.com', 'valid', []]]);
  });

  it('RSA opaque verifies as valid', async () => {
    const r = await verifyMessage(pkcs7Mime(gpgsmSign(false)), { store: await storeFor(pki, ['bob']) });
    expect(r.signers.map((s) => s.status)).toEqual(['valid']);
    expect(text(r.content)).toBe(ENTITY);
  });
});

describe.runIf(HAVE)('smime-core → gpgsm --verify', () => {
  const cases: [string, string, Record<string, unknown>][] = [
    ['RSA detached', 'alice@example.com', {}],
    ['RSA opaque', 'alice@example.com', { detached: false }],
    ['ECDSA P-256 detached', 'carol@example.com', {}],
    ['ECDSA P-256 opaque', 'carol@example.com', { detached: false }],
  ];
  for (const [name, from, opts] of cases) {
    it(`${name}: Good signature`, async () => {
      const store = await storeFor(pki, ['alice-sign', 'alice-enc', 'ec256']);
      const out = await signMessage(MESSAGE, { store, from, ...opts });
      const content = opts.detached === false ? undefined : (await verifyMessage(out, { store, harvest: false })).content;
      const r = gpgsmVerify(cmsOf(out), content);
      expect(r.stderr).toContain('Good signature');
      expect(r.status).toBe(0);
    });
  }

  it('a tampered one is a BAD signature', async () => {
    const store = await storeFor(pki, ['alice-sign']);
    const out = await signMessage(MESSAGE, { store, from: 'alice@example.com' });
    const content = (await verifyMessage(out, { store, harvest: false })).content;
    const r = gpgsmVerify(cmsOf(out), bytes(text(content).replace('Hello Bob', 'Hello Eve')));
    expect(r.status).not.toBe(0);
    expect(r.stderr).not.toContain('Good signature');
  });
});
