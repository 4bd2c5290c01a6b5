/**
 * smime-core/ldap against a real OpenLDAP slapd (started by the test on a free port, see test/_helpers/slapd.ts):
 * each address resolves to its DER certificates (userCertificate;binary, userSMIMECertificate as PKCS#7, several
 * values), RFC 4515 escaping, a refused bind, a stopped server and a black hole, and one search per lookup.
 */
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ldapResolver, escapeFilterValue, addressFilter } from '../../src/ldap/index.js';
import { run, tmp } from '../_helpers/env.js';
import { hasSlapd, startSlapd, type Slapd } from '../_helpers/slapd.js';
import { der, sampleEntries } from './_directory.js';

const hex = (b: unknown) => Buffer.from(b as Uint8Array).toString('hex');
const signal = () => new AbortController().signal;

describe('escapeFilterValue / addressFilter (RFC 4515)', () => {
  it('escapes the filter metacharacters and non-ASCII bytes', () => {
    expect(escapeFilterValue('a*b(c)d\\e\0@x.org')).toBe('a\\2ab\\28c\\29d\\5ce\\00@x.org');
    expect(escapeFilterValue('jörg@x.org')).toBe('j\\c3\\b6rg@x.org');
    expect(addressFilter('(mail={address})', ['a@x.org'])).toBe('(mail=a@x.org)');
    expect(addressFilter('(|(mail={address})(proxyAddresses=smtp:{address}))', ['a@x.org', 'b*@x.org'])).toBe(
      '(|(|(mail=a@x.org)(proxyAddresses=smtp:a@x.org))(|(mail=b\\2a@x.org)(proxyAddresses=smtp:b\\2a@x.org)))',
    );
  });
});

describe.runIf(hasSlapd())('ldapResolver against slapd', () => {
  let slapd: Slapd;
  beforeAll(async () => {
    slapd = await startSlapd({ entries: sampleEntries() });
  }, 30_000);
  afterAll(async () => {
    await slapd?.stop();
  });

  it('resolves each address to its DER certificates, in one search', async () => {
    const r = ldapResolver({ url: slapd.url, baseDN: slapd.baseDN });
    try {
      const found = await r(['bob@example.com', 'IVAN@example.com', 'alice@example.com', 'carol@example.com', 'nobody@example.com'], signal());
      expect(Object.keys(found).sort()).toEqual(['IVAN@example.com', 'alice@example.com', 'bob@example.com']);
      expect(found['bob@example.com']!.map(hex)).toEqual([hex(der('bob'))]);
      expect(found['IVAN@example.com']!.map(hex)).toEqual([hex(der('ivan-noski'))]);
      expect(found['alice@example.com']!.map(hex).sort()).toEqual([hex(der('alice-enc-2021')), hex(der('alice-enc-2025'))].sort());
      // The connection is reused: a second lookup works on it.
      expect((await r(['bob@example.com'], signal()))['bob@example.com']!.map(hex)).toEqual([hex(der('bob'))]);
    } finally {
      await r.close();
    }
  });

  it('binds with the right password, and rejects a wrong one', async () => {
    const ok = ldapResolver({ url: slapd.url, baseDN: slapd.baseDN, bindDN: slapd.bindDN, password: slapd.password });
    expect(Object.keys(await ok(['bob@example.com'], signal()))).toEqual(['bob@example.com']);
    await ok.close();
    const bad = ldapResolver({ url: slapd.url, baseDN: slapd.baseDN, bindDN: slapd.bindDN, password: 'wrong' });
    const e = await bad(['bob@example.com'], signal()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Error);
    expect(String((e as Error).message)).toMatch(/LDAP lookup failed: .*InvalidCredentials/i);
    expect(String((e as Error).message)).not.toContain('wrong');
    await bad.close();
  });

  it('escapes the addresses: * and ) find nothing and match no one else', async () => {
    const r = ldapResolver({ url: slapd.url, baseDN: slapd.baseDN });
    try {
      expect(await r(['*'], signal())).toEqual({});
      expect(await r(['*@example.com', 'bob@example.com)(mail=*', 'b*'], signal())).toEqual({});
      // Without the escaping, `*` would have matched every entry.
      const raw = ldapResolver({ url: slapd.url, baseDN: slapd.baseDN, filter: '(mail=*{address})' });
      expect(Object.keys(await raw(['@example.com', 'bob@example.com'], signal()))).toEqual(['bob@example.com']);
      await raw.close();
    } finally {
      await r.close();
    }
  });

  it('many addresses in one lookup make one search', async () => {
    const { Client } = await import('ldapts');
    const proto = Client.prototype as unknown as { search: (...a: unknown[]) => Promise<unknown> };
    const orig = proto.search;
    const calls: unknown[][] = [];
    proto.search = function (this: unknown, ...a: unknown[]) {
      calls.push(a);
      return orig.apply(this, a);
    };
    const r = ldapResolver({ url: slapd.url, baseDN: slapd.baseDN });
    try {
      const asked = Array.from({ length: 50 }, (_, i) => `user${i}@example.com`).concat(['bob@example.com', 'alice@example.com']);
      const found = await r(asked, signal());
      expect(Object.keys(found).sort()).toEqual(['alice@example.com', 'bob@example.com']);
      expect(calls.length).toBe(1);
      expect(String((calls[0]![1] as { filter: string }).filter)).toMatch(/^\(\|\(mail=user0@example\.com\)/);
    } finally {
      proto.search = orig;
      await r.close();
    }
  });

  it('a stopped server rejects quickly (connection refused)', async () => {
    const other = await startSlapd({ entries: sampleEntries() });
    const r = ldapResolver({ url: other.url, baseDN: other.baseDN, timeoutMs: 5000 });
    expect(Object.keys(await r(['bob@example.com'], signal()))).toEqual(['bob@example.com']);
    await other.stop();
    const t0 = Date.now();
    await expect(r(['bob@example.com'], signal())).rejects.toThrow(/LDAP/);
    expect(Date.now() - t0).toBeLessThan(2000);
    await r.close();
  }, 30_000);

  it('ldaps:// with the tls option: the server certificate is checked against the given CA', async () => {
    const dir = tmp('smime-ldaps-');
    const certFile = join(dir, 'server.pem');
    const keyFile = join(dir, 'server.key');
    run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
    const tlsd = await startSlapd({ entries: sampleEntries(), tls: { certFile, keyFile } });
    try {
      expect(tlsd.url).toMatch(/^ldaps:\/\//);
      const ok = ldapResolver({ url: tlsd.url, baseDN: tlsd.baseDN, tls: { ca: readFileSync(certFile) } });
      expect((await ok(['bob@example.com'], signal()))['bob@example.com']!.map(hex)).toEqual([hex(der('bob'))]);
      await ok.close();
      // Without the CA the server is not trusted: the lookup rejects.
      const untrusted = ldapResolver({ url: tlsd.url, baseDN: tlsd.baseDN, timeoutMs: 3000 });
      await expect(untrusted(['bob@example.com'], signal())).rejects.toThrow(/LDAP lookup failed/);
      await untrusted.close();
    } finally {
      await tlsd.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('a black hole (a socket that never answers) rejects within timeoutMs, and an abort rejects at once', async () => {
    const sockets: Socket[] = [];
    const hole: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((res) => hole.listen(0, '127.0.0.1', res));
    const url = `ldap://127.0.0.1:${(hole.address() as AddressInfo).port}`;
    try {
      const r = ldapResolver({ url, baseDN: 'dc=example,dc=com', bindDN: 'cn=x', password: 'y', timeoutMs: 700 });
      const t0 = Date.now();
      await expect(r(['bob@example.com'], signal())).rejects.toThrow(/LDAP/);
      const took = Date.now() - t0;
      expect(took).toBeGreaterThanOrEqual(600);
      expect(took).toBeLessThan(3000);
      const ac = new AbortController();
      const t1 = Date.now();
      const p = r(['bob@example.com'], ac.signal);
      setTimeout(() => ac.abort(new Error('store timeout')), 100);
      // The abort's own reason (not the 700 ms timeout's LDAP error) says the abort ended it; the bound is a hang
      // guard loose enough for a loaded 2-core runner.
      await expect(p).rejects.toThrow(/store timeout/);
      expect(Date.now() - t1).toBeLessThan(2000);
      await r.close();
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((res) => hole.close(res));
    }
  });
});
