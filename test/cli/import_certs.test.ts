/**
 * `smime import`, `smime certs` and `smime export-certs` through the BUILT bin (run `npm run build` first): what
 * each kind of file adds (PKCS#12, PEM certificate, an OpenSSL .p7c, a mail carrying a PKCS#12 attachment), that
 * nothing imported becomes a trust anchor, `certs --json`, and a .p7c that OpenSSL reads (`openssl pkcs7
 * -print_certs`, DER and PEM).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasPeer, run, tmp, VECTORS } from '../_helpers/env.js';
import { PASSWORD } from '../_helpers/identities.js';
import { checkBuilt, S, sh } from './_sh.js';

const v = (rel: string) => join(VECTORS, rel);
let dir = '';
let env: Record<string, string> = {};

/** A mail from Alice to herself with her PKCS#12 file attached (base64), as a mail client sends it. */
function mailWithPkcs12(p12: Uint8Array): string {
  const b64 = Buffer.from(p12).toString('base64').replace(/.{1,76}/g, '$&\r\n');
  return (
    'From: alice@example.com\r\nTo: alice@example.com\r\nSubject: my certificate\r\nMIME-Version: 1.0\r\n' +
    'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nFor the new laptop.\r\n' +
    '--b1\r\nContent-Type: application/x-pkcs12; name="alice.p12"\r\nContent-Disposition: attachment; filename="alice.p12"\r\n' +
    `Content-Transfer-Encoding: base64\r\n\r\n${b64}--b1--\r\n`
  );
}

beforeAll(() => {
  checkBuilt();
  dir = tmp('smime-cli-import-');
  writeFileSync(join(dir, 'pw'), `${PASSWORD}\n`);
  writeFileSync(join(dir, 'mail.eml'), mailWithPkcs12(new Uint8Array(readFileSync(v('identities/alice-enc-2025.p12')))));
  env = { D: dir, PW: join(dir, 'pw'), SMIME_STORE_PASSWORD: 'store-secret' };
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Row {
  role: string;
  subject: string;
  serialNumber: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
}

describe('smime import and smime certs', () => {
  it('a mail carrying a PKCS#12, a PEM certificate, an OpenSSL .p7c and a root: identities and contacts, never an anchor; certs --json lists them', async () => {
    const p7c = join(dir, 'dave.p7c');
    writeFileSync(p7c, run('openssl', ['crl2pkcs7', '-nocrl', '-certfile', v('identities/dave.cert.pem'), '-outform', 'DER']));
    const r = await sh(`${S} import --store "$D/s.store" --password-file "$PW" "$D/mail.eml" "$BOB" "$P7C" "$ROOT"`, {
      ...env,
      BOB: v('identities/bob.cert.pem'),
      P7C: p7c,
      ROOT: v('pki/root-ca.cert.pem'),
    });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/mail\.eml: identity C=US, O=smime-core demo, CN=Alice Example, serial 2004/);
    expect(r.stdout).toMatch(/bob\.cert\.pem: certificate .*CN=Bob Example, serial 2005/);
    expect(r.stdout).toMatch(/dave\.p7c: certificate .*CN=Dave/);
    expect(r.stdout).toMatch(/root-ca\.cert\.pem: certificate .*CN=smime-core Demo Root CA/);

    const c = await sh(`${S} certs --store "$D/s.store" --json`, env);
    expect(c.err).toBe('');
    expect(c.code).toBe(0);
    const rows = JSON.parse(c.stdout) as Row[];
    const roleOf = (serial: string, cn: string) => rows.filter((x) => x.serialNumber === serial && x.subject.includes(cn)).map((x) => x.role);
    expect(roleOf('2004', 'Alice')).toEqual(['identity']);
    expect(roleOf('2005', 'Bob')).toEqual(['contact']);
    expect(rows.some((x) => x.subject.includes('Dave') && x.role === 'contact')).toBe(true);
    // The root arrived as a file to import (and with the PKCS#12's chain): a CA certificate, never a trust anchor.
    expect(rows.some((x) => x.role === 'anchor')).toBe(false);
    expect(roleOf('1000', 'Root CA')).toEqual(['intermediate']);
    for (const x of rows) expect(Object.keys(x).sort()).toEqual(['issuer', 'notAfter', 'notBefore', 'role', 'serialNumber', 'subject']);

    // --email: only the certificates naming the address; the text form, one line each.
    const bob = await sh(`${S} certs --store "$D/s.store" --email BOB@example.com`, env);
    expect(bob.code).toBe(0);
    expect(bob.stdout).toBe('contact      C=US, O=smime-core demo, CN=Bob Example  serial 2005  2025-01-01 to 2029-01-01\n');
  });

  it('import --trust saves a trust anchor (the explicit act); a PKCS#12 password that is wrong is exit 7 and nothing is written', async () => {
    const t = await sh(`${S} import --store "$D/t.store" --trust "$ROOT" "$BOB"`, { ...env, ROOT: v('pki/root-ca.cert.pem'), BOB: v('identities/bob.cert.pem') });
    expect(t.code).toBe(0);
    const rows = JSON.parse((await sh(`${S} certs --store "$D/t.store" --json`, env)).stdout) as Row[];
    expect(rows.filter((x) => x.role === 'anchor').map((x) => x.serialNumber)).toEqual(['1000']);
    const before = readFileSync(join(dir, 't.store'));
    writeFileSync(join(dir, 'bad'), 'not the password\n');
    const w = await sh(`${S} import --store "$D/t.store" --password-file "$D/bad" "$P12"`, { ...env, P12: v('identities/bob.p12') });
    expect(w.code).toBe(7);
    expect(w.err).toMatch(/bob\.p12: wrong password \(ERR_PKCS12_BAD_PASSWORD\)/);
    expect(readFileSync(join(dir, 't.store')).equals(before)).toBe(true);
  });

  it('usage: import needs --store and a FILE; certs needs --store', async () => {
    expect((await sh(`${S} import "$D/mail.eml"`, env)).err).toBe("smime: import needs --store FILE (see 'smime import --help')\n");
    expect((await sh(`${S} import --store "$D/x.store"`, env)).err).toBe("smime: import needs at least one FILE (see 'smime import --help')\n");
    const c = await sh(`${S} certs`, env);
    expect(c.code).toBe(2);
    expect(c.err).toBe("smime: certs needs --store FILE (see 'smime certs --help')\n");
  });
});

describe.runIf(hasPeer('openssl', ['version']))('smime export-certs, read by OpenSSL', () => {
  it('the address\'s certificates as a DER .p7c and a PEM one: openssl pkcs7 -print_certs lists them', async () => {
    await sh(`${S} import --store "$D/e.store" --password-file "$PW" "$A21" "$A25" "$BOB"`, {
      ...env,
      A21: v('identities/alice-enc-2021.cert.pem'),
      A25: v('identities/alice-enc-2025.cert.pem'),
      BOB: v('identities/bob.cert.pem'),
    });
    const r = await sh(`${S} export-certs --store "$D/e.store" --email alice@example.com --out "$D/alice.p7c"`, env);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const der = run('openssl', ['pkcs7', '-inform', 'DER', '-in', join(dir, 'alice.p7c'), '-print_certs', '-noout']);
    const subjects = Buffer.from(der).toString().match(/subject=.*/g) ?? [];
    expect(subjects).toHaveLength(2);
    for (const s of subjects) expect(s).toContain('Alice Example');
    // The same in PEM, with a --cert given beside the store.
    const p = await sh(`${S} export-certs --store "$D/e.store" --cert "$DAVE" --email dave@example.com --out "$D/dave.p7b" --pem`, { ...env, DAVE: v('identities/dave.cert.pem') });
    expect(p.code).toBe(0);
    expect(readFileSync(join(dir, 'dave.p7b'), 'utf8')).toMatch(/^-----BEGIN PKCS7-----\r?\n/);
    const pem = Buffer.from(run('openssl', ['pkcs7', '-in', join(dir, 'dave.p7b'), '-print_certs', '-noout'])).toString();
    expect(pem).toMatch(/subject=.*Dave/);
    // An address the store does not know: exit 3, nothing written.
    const none = await sh(`${S} export-certs --store "$D/e.store" --email carol@example.com --out "$D/carol.p7c"`, env);
    expect(none.code).toBe(3);
    expect(none.err).toBe('smime: no certificate for carol@example.com: add one with --cert or import one into the store\n');
    expect(() => readFileSync(join(dir, 'carol.p7c'))).toThrow();
  });
});
