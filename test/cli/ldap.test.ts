/**
 * `smime encrypt --ldap URL --ldap-base DN` through the BUILT bin (run `npm run build` first) against a real
 * OpenLDAP slapd (test/_helpers/slapd.ts, the sample directory of test/ldap): from an empty store, the recipients
 * are found in the directory, the message opens for each, and the answers are saved as contacts in --store; an
 * entry without a certificate is refused as `none`; a bind, a refused bind, a stopped directory (exit 3 with the
 * lookup's failure); and the usage errors of the --ldap options.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmp, VECTORS } from '../_helpers/env.js';
import { PASSWORD } from '../_helpers/identities.js';
import { hasSlapd, startSlapd, type Slapd } from '../_helpers/slapd.js';
import { sampleEntries } from '../ldap/_directory.js';
import { checkBuilt, S, sh } from './_sh.js';
import { CertificateStore, nodeCrypto, setCrypto, TokenUnavailable } from '../../src/index.node.js';
import { runCli } from '../../src/cli/main.js';

const v = (rel: string) => join(VECTORS, rel);
let dir = '';
let env: Record<string, string> = {};

beforeAll(() => {
  checkBuilt();
  setCrypto(nodeCrypto());
  dir = tmp('smime-cli-ldap-');
  writeFileSync(join(dir, 'pw'), `${PASSWORD}\n`);
  writeFileSync(join(dir, 'msg.txt'), 'Subject: directory\r\nContent-Type: text/plain\r\n\r\nfound in the directory\r\n');
  env = { D: dir, PW: join(dir, 'pw'), ROOT: v('pki/root-ca.cert.pem'), CHAIN: v('pki/chain.pem'), SMIME_STORE_PASSWORD: 'store-secret' };
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('--ldap usage errors (exit 2, before anything is read)', () => {
  it.each([
    ['encrypt --to a@example.com --ldap ldap://127.0.0.1:1', "smime: --ldap needs --ldap-base DN (where to search) (see 'smime encrypt --help')\n"],
    ['encrypt --to a@example.com --ldap-base dc=x', "smime: --ldap-base needs --ldap URL (see 'smime encrypt --help')\n"],
    ['encrypt --to a@example.com --ldap http://x --ldap-base dc=x', "smime: --ldap takes ldap://HOST[:PORT] or ldaps://HOST[:PORT] (see 'smime encrypt --help')\n"],
    ['encrypt --to a@example.com --ldap ldap://x --ldap-base dc=x --ldap-password-env P', "smime: --ldap-password-env needs --ldap-bind DN (see 'smime encrypt --help')\n"],
    ['decrypt --ldap ldap://x', "smime: unknown option --ldap for smime decrypt (it belongs to smime encrypt) (see 'smime decrypt --help')\n"],
  ])('smime %s', async (args, message) => {
    const r = await sh(`${S} ${args} < /dev/null`, env);
    expect(r.code).toBe(2);
    expect(r.err).toBe(message);
  });
});

describe('a missing ldapts (in-process, smime-core/ldap replaced by one whose lookups fail as without ldapts)', () => {
  it('is a failed lookup: exit 3, the reason lookup-failed with the install hint, nothing written', async () => {
    let err = '';
    let out: Uint8Array | undefined;
    let closed = 0;
    const missing = new TokenUnavailable('smime-core/ldap needs the optional peer dependency ldapts 8.x: npm install ldapts@8');
    const code = await runCli(['encrypt', '--ldap', 'ldap://127.0.0.1:1', '--ldap-base', 'dc=example,dc=com', '--to', 'bob@example.com'], {
      stdin: () => new TextEncoder().encode('Subject: x\r\n\r\nhi\r\n'),
      stdout: (b) => {
        out = b;
      },
      stderr: (s) => {
        err += s;
      },
      env: {},
      ldap: async () => ({
        ldapResolver: (o) => {
          expect(o).toEqual({ url: 'ldap://127.0.0.1:1', baseDN: 'dc=example,dc=com' });
          return Object.assign(async () => Promise.reject(missing), {
            close: async () => {
              closed++;
            },
          });
        },
      }),
    });
    expect(code).toBe(3);
    expect(err).toBe(
      'smime: no certificate for bob@example.com: add one with --cert or import one into the store (the directory lookup failed: smime-core/ldap needs the optional peer dependency ldapts 8.x: npm install ldapts@8)\n',
    );
    expect(out).toBeUndefined();
    expect(closed).toBe(1);
  });
});

describe.runIf(hasSlapd())('smime encrypt --ldap against slapd', () => {
  let slapd: Slapd;
  beforeAll(async () => {
    slapd = await startSlapd({ entries: sampleEntries() });
    env = { ...env, URL: slapd.url, BASE: slapd.baseDN, BIND: slapd.bindDN, LDAPPW: slapd.password };
  }, 30_000);
  afterAll(async () => {
    await slapd?.stop();
  });

  it('from an empty store: bob (userCertificate;binary), Ivan (userSMIMECertificate) and alice (one expired, one current) are found, each opens; the contacts are saved', async () => {
    const r = await sh(
      `${S} encrypt --store "$D/empty.store" --trust "$ROOT" --cert "$CHAIN" --ldap "$URL" --ldap-base "$BASE" --to bob@example.com --to ivan@example.com --to alice@example.com --in "$D/msg.txt" --out "$D/enc.eml"`,
      env,
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    for (const [p12, name] of [
      ['bob.p12', 'bob'],
      ['ivan-noski.p12', 'ivan'],
      ['alice-enc-2025.p12', 'alice'],
    ] as const) {
      const d = await sh(`${S} decrypt --identity "$P12" --password-file "$PW" --in "$D/enc.eml" --report -  --out /dev/null`, { ...env, P12: v(`identities/${p12}`) });
      expect(d.err, name).toBe('');
      expect(d.code, name).toBe(0);
    }
    // The directory's answers are contacts of the saved store (the --trust of that run is not saved).
    const s = await CertificateStore.import(new Uint8Array(readFileSync(join(dir, 'empty.store'))), { password: 'store-secret' });
    const contacts = s.certificates().filter((c) => c.role === 'contact');
    expect(contacts.some((c) => c.certificate.subject.includes('Bob Example'))).toBe(true);
    expect(contacts.some((c) => c.certificate.subject.includes('Alice Example') && c.certificate.serialNumber === '2004')).toBe(true);
    expect(s.certificates().some((c) => c.role === 'anchor')).toBe(false);
    // A second run finds them in the store, without the directory.
    const again = await sh(`${S} encrypt --store "$D/empty.store" --trust "$ROOT" --cert "$CHAIN" --to bob@example.com --in "$D/msg.txt" --out /dev/null`, env);
    expect(again.code).toBe(0);
  });

  it('an entry without a certificate is refused as none (exit 3); with a bind DN and its password file it works', async () => {
    const r = await sh(`${S} encrypt --trust "$ROOT" --cert "$CHAIN" --ldap "$URL" --ldap-base "$BASE" --to carol@example.com --in "$D/msg.txt" --out "$D/carol.eml"`, env);
    expect(r.code).toBe(3);
    expect(r.err).toBe('smime: no certificate for carol@example.com: add one with --cert or import one into the store\n');
    writeFileSync(join(dir, 'ldappw'), `${slapd.password}\n`);
    const b = await sh(
      `${S} encrypt --trust "$ROOT" --cert "$CHAIN" --ldap "$URL" --ldap-base "$BASE" --ldap-bind "$BIND" --ldap-password-file "$D/ldappw" --to bob@example.com --in "$D/msg.txt" --out /dev/null`,
      env,
    );
    expect(b.err).toBe('');
    expect(b.code).toBe(0);
    const bad = await sh(`${S} encrypt --trust "$ROOT" --cert "$CHAIN" --ldap "$URL" --ldap-base "$BASE" --ldap-bind "$BIND" --ldap-password-env X --to bob@example.com --in "$D/msg.txt"`, { ...env, X: 'Not-It-9' });
    expect(bad.code).toBe(3);
    expect(bad.err).toMatch(/^smime: no certificate for bob@example\.com: .*\(the directory lookup failed: LDAP lookup failed: .*InvalidCredentials/i);
    expect(bad.err).not.toContain('Not-It-9');
  });

  it('a stopped directory: exit 3, lookup-failed with the reason, nothing written', async () => {
    const stopped = await startSlapd({ entries: sampleEntries() });
    await stopped.stop();
    const r = await sh(`${S} encrypt --trust "$ROOT" --cert "$CHAIN" --ldap "$U" --ldap-base "$BASE" --to bob@example.com --in "$D/msg.txt" --out "$D/never.eml"`, { ...env, U: stopped.url });
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/^smime: no certificate for bob@example\.com: add one with --cert or import one into the store \(the directory lookup failed: .+\)\n$/);
    expect(() => readFileSync(join(dir, 'never.eml'))).toThrow();
  }, 30_000);
});
