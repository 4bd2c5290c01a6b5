/**
 * Encryption interop with OpenSSL, both ways.
 * Inbound: every encrypted message of vectors/manifest.json (made by `openssl cms`, see vectors/generate.sh) is
 * decrypted through the public API and through the `smime` CLI by each identity that should open it, and refused
 * (ERR_CMS_DECRYPTION_FAILED) by a store holding every identity that should not.
 * Outbound: smime-core encrypts, `openssl cms -decrypt` opens it.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { decryptMessage, encryptMessage, type CertificateStore } from '../../src/index.js';
import { cli as runCli } from '../_helpers/cli.js';
import { atReference, manifest, PASSWORD, storeWith, vfile } from '../_helpers/identities.js';
import { hasPeer, run, tmp, VECTORS } from '../_helpers/env.js';

/** The CLI in-process, its store judging the sample identities at the reference date. */
const cli = (args: string[], stdin?: Uint8Array) => runCli(args, stdin, { now: atReference });

const encrypted = manifest.messages.filter((m) => m.peer === 'openssl' && /enveloped/i.test(String(m.smimeType ?? 'enveloped')));

const storeCache = new Map<string, Promise<CertificateStore>>();
function cachedStore(names: string[]): Promise<CertificateStore> {
  const k = [...names].sort().join(',');
  let s = storeCache.get(k);
  if (!s) storeCache.set(k, (s = storeWith(names)));
  return s;
}

describe('OpenSSL → smime-core (vectors/manifest.json)', () => {
  it('has encrypted messages to test', () => {
    expect(encrypted.length).toBeGreaterThanOrEqual(10);
  });
  for (const m of encrypted) {
    describe(m.id, () => {
      for (const name of m.identities ?? []) {
        it(`opens with ${name}`, async () => {
          const store = await cachedStore([name]);
          const r = await decryptMessage(vfile(m.file), { store });
          expect(r.content).toEqual(vfile(m.expect.content!));
          expect(r.recipient.serialNumber.toLowerCase()).toBe(
            store.identities[0]!.certificate.serialNumber.toLowerCase(),
          );
          expect(r.authenticated).toBe(/gcm/.test(m.id));
        });
      }
      const mustFail = (m.mustFail as { identities: string[]; expect: { error: string } } | undefined);
      if (mustFail && mustFail.identities.length > 0) {
        it('is refused by every other identity, with one uniform error', async () => {
          const store = await cachedStore(mustFail.identities);
          const err = await decryptMessage(vfile(m.file), { store }).catch((e: unknown) => e);
          expect((err as { code?: string }).code).toBe(mustFail.expect.error);
          expect((err as Error).message).toBe('decryption failed: no key in the store opens this message');
        });
      }
      const first = (m.identities ?? [])[0];
      if (first) {
        it('opens through the smime CLI, with a report', async () => {
          const dir = tmp();
          const out = join(dir, 'out.eml');
          const report = join(dir, 'report.json');
          const r = await cli(['decrypt', '--identity', join(VECTORS, manifest.identities[first]!.p12), '--password', PASSWORD, '--in', join(VECTORS, m.file), '--out', out, '--report', report]);
          expect(r.err).toBe('');
          expect(r.code).toBe(0);
          expect(new Uint8Array(readFileSync(out))).toEqual(vfile(m.expect.content!));
          const rep = JSON.parse(readFileSync(report, 'utf8'));
          expect(rep.recipient.serialNumber).toBeTruthy();
          expect(typeof rep.authenticated).toBe('boolean');
        });
      }
    });
  }
});

describe('smime-core → OpenSSL', () => {
  const MSG = 'From: alice@example.com\r\nTo: bob@example.com\r\nSubject: interop\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello Bob, caf\u00e9.\r\n';
  for (const cipher of ['aes-256-cbc', 'aes-128-cbc', 'aes-256-gcm', 'aes-128-gcm'] as const) {
    for (const oaep of [undefined, 'SHA-256'] as const) {
      it(`${cipher}${oaep ? ' with OAEP-SHA-256' : ''}: openssl cms -decrypt opens it`, async () => {
        if (!hasPeer('openssl', ['version'])) return;
        const store = await cachedStore(['alice-enc-2025']);
        await store.addCertificate(readFileSync(join(VECTORS, manifest.identities.bob!.cert), 'utf8'));
        const smime = await encryptMessage(MSG, { store, to: ['bob@example.com'], from: 'alice@example.com', cipher, oaep });
        const text = new TextDecoder().decode(smime);
        expect(text).toMatch(/^From: alice@example.com\r\n/);
        expect(text).toContain(cipher.endsWith('gcm') ? 'smime-type=authEnveloped-data' : 'smime-type=enveloped-data');
        expect(text).not.toContain('Hello Bob');
        const dir = tmp();
        const f = join(dir, 'm.eml');
        writeFileSync(f, smime);
        for (const who of ['bob', 'alice-enc-2025']) {
          const id = manifest.identities[who]!;
          const plain = run('openssl', ['cms', '-decrypt', '-in', f, '-recip', join(VECTORS, id.cert), '-inkey', join(VECTORS, id.key)]);
          expect(new TextDecoder().decode(plain)).toBe('Content-Type: text/plain; charset=utf-8\r\n\r\nHello Bob, caf\u00e9.\r\n');
        }
      });
    }
  }
  it('the smime CLI encrypts for openssl, with the sender copy', async () => {
    if (!hasPeer('openssl', ['version'])) return;
    const dir = tmp();
    const out = join(dir, 'o.eml');
    const plain = join(VECTORS, 'openssl', 'plain.txt');
    const r = await cli(['encrypt', '--identity', join(VECTORS, manifest.identities['alice-enc-2025']!.p12), '--password', PASSWORD, '--cert', join(VECTORS, manifest.identities.bob!.cert), '--to', 'bob@example.com', '--from', 'alice@example.com', '--in', plain, '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const id = manifest.identities.bob!;
    const got = run('openssl', ['cms', '-decrypt', '-in', out, '-recip', join(VECTORS, id.cert), '-inkey', join(VECTORS, id.key)]);
    expect(got.length).toBeGreaterThan(0);
    expect(existsSync(out)).toBe(true);
  });
  it('the smime CLI refuses, names every missing recipient, and writes nothing', async () => {
    const dir = tmp();
    const out = join(dir, 'o.eml');
    const r = await cli(['encrypt', '--cert', join(VECTORS, manifest.identities.bob!.cert), '--to', 'bob@example.com', '--to', 'carol@example.com', '--to', 'zed@example.com', '--in', join(VECTORS, 'openssl', 'plain.txt'), '--out', out]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('carol@example.com');
    expect(r.err).toContain('zed@example.com');
    expect(existsSync(out)).toBe(false);
  });
});
