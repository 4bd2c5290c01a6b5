/**
 * The `smime` CLI follows the conventions of gpgsm and `openssl cms` (issue 13, CLI section). Every case runs the
 * BUILT bin (dist/cli/smime.js) in a shell pipeline, the message coming from a slow writer where the command reads
 * stdin, and compares the exit code, stdout and stderr. Run `npm run build` first (`npm test` does it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IN_CI, REPO, tmp, VECTORS } from '../_helpers/env.js';
import { PASSWORD } from '../_helpers/identities.js';
import { checkBuilt, S, SLOW, sh } from './_sh.js';
import { OPTIONS, COMMANDS } from '../../src/cli/options.js';
import { EXIT, EXIT_BY_ERROR_CODE, EXIT_TABLE } from '../../src/cli/exit_codes.js';
import * as api from '../../src/index.node.js';

const v = (rel: string) => join(VECTORS, rel);
const PLAIN = readFileSync(v('openssl/plain.txt'), 'utf8');
const BOB_P12 = v('identities/bob.p12');
const TO_BOB = v('openssl/enc-to-bob-only.eml');
const TRUST = { CHAIN: v('pki/chain.pem'), ROOT: v('pki/root-ca.cert.pem') };
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
/** Exactly one line on stderr. */
const ONE_LINE = /^[^\n]+\n$/;

const helps = new Map<string, ReturnType<typeof sh>>();
/**
 * `smime <cmd> --help` (or `smime help <cmd>` with `help` set), run once per file: several tests read the same
 * help text, and each run of the bin is a Node start-up.
 */
const helpOf = (cmd: string, form: 'flag' | 'help' = 'flag') => {
  const script = form === 'flag' ? `${S} ${cmd} --help` : `${S} help ${cmd}`;
  let r = helps.get(script);
  if (!r) helps.set(script, (r = sh(script)));
  return r;
};

let dir = '';
let pwFile = '';
let emptyP12 = '';

beforeAll(() => {
  checkBuilt();
  dir = tmp('smime-cli-conventions-');
  pwFile = join(dir, 'password.txt');
  writeFileSync(pwFile, `${PASSWORD}\nsecond line ignored\n`);
  // A PKCS#12 file with the empty password (some exporters write them): made from bob's key and certificate.
  emptyP12 = join(dir, 'bob-empty.p12');
  execFileSync('openssl', ['pkcs12', '-export', '-inkey', v('identities/bob.key.pem'), '-in', v('identities/bob.cert.pem'), '-passout', 'pass:', '-out', emptyP12]);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.concurrent('--help, <command> --help, --version: on stdout, exit 0', () => {
  it('smime --help lists every command and the exit codes', async () => {
    for (const flag of ['--help', '-h', 'help']) {
      const r = await sh(`${S} ${flag}`);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      for (const c of COMMANDS) expect(r.stdout).toContain(`smime ${c} `);
      expect(r.stdout).toContain(EXIT_TABLE);
    }
  });

  it.each(COMMANDS)('smime %s --help lists each of its options, and only those', async (cmd) => {
    const r = await helpOf(cmd);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith(`usage: smime ${cmd}`)).toBe(true);
    const listed = [...r.stdout.matchAll(/^ {2}--([a-z0-9-]+)/gm)].map((m) => m[1]);
    expect(listed).toEqual(OPTIONS.filter((o) => o.commands.includes(cmd)).map((o) => o.name));
  });

  it('the options the issue names are listed where they belong (--pss for sign, the password forms)', async () => {
    const sign = (await helpOf('sign')).stdout;
    for (const o of ['--pss', '--digest', '--opaque', '--from', '--password-file', '--password-env', '--password-fd', '--report FILE|-'])
      expect(sign).toContain(o);
    const enc = (await helpOf('encrypt')).stdout;
    for (const o of ['--to', '--cipher', '--oaep', '--keyid']) expect(enc).toContain(o);
    expect(enc).not.toContain('--pss');
    const verify = (await helpOf('verify')).stdout;
    for (const o of ['--at ISO-TIME', '--verify-at', '--crl', '--trust']) expect(verify).toContain(o);
    expect((await helpOf('inspect')).stdout).toContain('--json');
    // A PKCS#11 token for the commands that use a private key, its PIN in the password's forms (never on the command line).
    for (const cmd of ['sign', 'decrypt', 'open']) {
      const help = (await helpOf(cmd)).stdout;
      for (const o of ['--pkcs11 MODULE', '--token LABEL', '--slot N', '--pin-file FILE', '--pin-env NAME', '--pin-fd N', 'SMIME_PIN']) expect(help).toContain(o);
      expect(help).not.toMatch(/^ {2}--pin /m);
    }
    for (const cmd of ['encrypt', 'verify', 'inspect']) expect((await helpOf(cmd)).stdout).not.toContain('--pkcs11');
    expect((await helpOf('sign', 'help')).stdout).toBe(sign);
  });

  it('issue 15: --store and its password forms on every command but inspect; import, certs, export-certs, encrypt --ldap', async () => {
    for (const cmd of COMMANDS.filter((c) => c !== 'inspect')) {
      const help = (await helpOf(cmd)).stdout;
      for (const o of ['--store FILE', '--store-password-file FILE', '--store-password-env NAME', '--store-password-fd N', 'SMIME_STORE_PASSWORD']) expect(help, cmd).toContain(o);
      expect(help).not.toMatch(/^ {2}--store-password /m); // never on the command line
    }
    expect((await helpOf('inspect')).stdout).not.toContain('--store');
    const imp = (await helpOf('import')).stdout;
    for (const o of ['--password-file FILE', '--trust FILE']) expect(imp).toContain(o);
    expect(imp).not.toContain('--identity');
    expect((await helpOf('certs')).stdout).toMatch(/--email EMAIL[\s\S]*--json/);
    const exp = (await helpOf('export-certs')).stdout;
    for (const o of ['--email EMAIL', '--out FILE', '--cert FILE', '--pem']) expect(exp).toContain(o);
    const enc = (await helpOf('encrypt')).stdout;
    for (const o of ['--ldap URL', '--ldap-base DN', '--ldap-bind DN', '--ldap-password-file FILE', '--ldap-password-env NAME']) expect(enc).toContain(o);
    for (const cmd of ['decrypt', 'sign', 'verify', 'open']) expect((await helpOf(cmd)).stdout).not.toMatch(/^ {2}--ldap/m);
  });

  it('smime --version prints the package version', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await sh(`${S} ${flag}`);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`smime ${VERSION} (smime-core)\n`);
    }
  });
});

describe.concurrent('usage errors: exit 2 with a one-line hint', () => {
  it.each([
    ['sign --frobnicate', "smime: unknown option --frobnicate for smime sign (see 'smime sign --help')\n"],
    ['verify --to bob@example.com', "smime: unknown option --to for smime verify (it belongs to smime encrypt) (see 'smime verify --help')\n"],
    ['frobnicate', "smime: unknown command: frobnicate (see 'smime --help')\n"],
    ['encrypt --cipher aes-512-gcm --to bob@example.com', `smime: --cipher must be one of ${api.CONTENT_CIPHERS.join(', ')} (see 'smime encrypt --help')\n`],
    ['sign --pss=yes', "smime: --pss takes no value (see 'smime sign --help')\n"],
    ['verify --in', "smime: --in needs a value (FILE) (see 'smime verify --help')\n"],
    ['encrypt -x', "smime: unknown option -x for smime encrypt (see 'smime encrypt --help')\n"],
    ['decrypt stray', "smime: unexpected argument: stray (the input is --in FILE) (see 'smime decrypt --help')\n"],
  ])('smime %s', async (args, message) => {
    const r = await sh(`${SLOW} | ${S} ${args}`, { MSG: TO_BOB });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.err).toBe(message);
    expect(r.err).toMatch(ONE_LINE);
  });
});

describe.concurrent('passwords: never only on the command line', () => {
  const decrypt = `${SLOW} | ${S} decrypt --identity "$P12"`;

  it.each([
    ['--password-file FILE (its first line)', '--password-file "$PWFILE"', {}],
    ['--password-env NAME', '--password-env MY_PW', { MY_PW: PASSWORD }],
    ['--password-fd 3', '--password-fd 3 3<"$PWFILE"', {}],
    ['--password-fd 3 from a pipe', '--password-fd 3 3<<EOF\n' + PASSWORD + '\nEOF\n', {}],
    ['SMIME_PASSWORD', '', { SMIME_PASSWORD: PASSWORD }],
  ] as const)('%s opens the PKCS#12 file: exit 0, the plaintext', async (_, opt, env) => {
    const r = await sh(`${decrypt} ${opt}`, { MSG: TO_BOB, P12: BOB_P12, PWFILE: pwFile, ...env });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(PLAIN);
  });

  it('no password and no terminal: the empty password is tried, then exit 7 "no password given" (not "wrong password")', async () => {
    const r = await sh(decrypt, { MSG: TO_BOB, P12: BOB_P12 });
    expect(r.code).toBe(7);
    expect(r.stdout).toBe('');
    expect(r.err).toBe(
      `smime: ${BOB_P12}: no password given, and the empty password does not open it: give it with --password-file FILE, --password-env NAME or --password-fd N\n`,
    );
    expect(r.err).not.toMatch(/wrong/);
  });

  it('a PKCS#12 file with the empty password opens without any password option', async () => {
    const r = await sh(decrypt, { MSG: TO_BOB, P12: emptyP12 });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(PLAIN);
  });

  it('a wrong password: exit 7, "wrong password", naming the file', async () => {
    const r = await sh(`${decrypt} --password-env MY_PW`, { MSG: TO_BOB, P12: BOB_P12, MY_PW: 'not-it' });
    expect(r.code).toBe(7);
    expect(r.stdout).toBe('');
    expect(r.err).toBe(`smime: ${BOB_P12}: wrong password (ERR_PKCS12_BAD_PASSWORD)\n`);
  });

  it('two password forms at once, an unset variable, a bad descriptor: usage (2) or I/O (6)', async () => {
    const both = await sh(`${decrypt} --password-env MY_PW --password-file "$PWFILE"`, { MSG: TO_BOB, P12: BOB_P12, PWFILE: pwFile, MY_PW: 'x' });
    expect(both.code).toBe(2);
    expect(both.err).toBe("smime: give the password one way only, not --password-file and --password-env (see 'smime decrypt --help')\n");
    const unset = await sh(`${decrypt} --password-env NOT_SET_ANYWHERE`, { MSG: TO_BOB, P12: BOB_P12 });
    expect(unset.code).toBe(2);
    expect(unset.err).toMatch(/^smime: --password-env NOT_SET_ANYWHERE: the environment variable NOT_SET_ANYWHERE is not set/);
    const fd = await sh(`${decrypt} --password-fd 7`, { MSG: TO_BOB, P12: BOB_P12 });
    expect(fd.code).toBe(6);
    expect(fd.err).toMatch(/^smime: file descriptor 7: cannot read or write: /);
    expect(fd.err).toMatch(ONE_LINE);
  });

  const hasScript = (() => {
    try {
      // The util-linux `script` and a pseudo-terminal to run it on.
      execFileSync('script', ['-qec', 'true', '/dev/null'], { stdio: 'ignore', timeout: 10_000 });
      return true;
    } catch {
      return false;
    }
  })();

  // `script` gives the CLI a terminal; the writer types only once the prompt has appeared (the output file), so the
  // terminal is in no-echo mode by then.
  // With CI=true a missing `script` or pty is a failure, never a silent skip (util-linux's `script` is in Debian's
  // essential bsdutils package).
  if (!hasScript && IN_CI) throw new Error("the terminal tests need util-linux's `script` and a pseudo-terminal, and CI=true forbids skipping");
  if (!hasScript) console.warn('[smime-core tests] NOTICE: no `script`/pty: the terminal prompt tests are skipped');
  describe.skipIf(!hasScript)('on a terminal', () => {
    const typed = (answer: string) =>
      `(i=0; until grep -q "Password for" "$TTYOUT" 2>/dev/null || [ $i -ge 300 ]; do sleep 0.1; i=$((i+1)); done; printf '${answer}\\r') | ` +
      `script -qfec '${S} decrypt --identity "$P12" --in "$MSG" --out "$OUT"; echo "exit=$?"' /dev/null > "$TTYOUT"`;

    it('asks for the password without echo, and opens the file with it', async () => {
      const ttyOut = join(dir, 'tty1.out');
      const out = join(dir, 'tty1.eml');
      const r = await sh(typed(PASSWORD), { MSG: TO_BOB, P12: BOB_P12, OUT: out, TTYOUT: ttyOut, NODE: process.execPath });
      expect(r.code).toBe(0);
      const screen = readFileSync(ttyOut, 'utf8');
      expect(screen).toBe(`Password for ${BOB_P12}: \r\nexit=0\r\n`);
      expect(screen).not.toContain(PASSWORD);
      expect(readFileSync(out, 'utf8')).toBe(PLAIN);
    });

    it('a wrong password typed: exit 7, "wrong password", no output file', async () => {
      const ttyOut = join(dir, 'tty2.out');
      const out = join(dir, 'tty2.eml');
      await sh(typed('not-it'), { MSG: TO_BOB, P12: BOB_P12, OUT: out, TTYOUT: ttyOut });
      const screen = readFileSync(ttyOut, 'utf8');
      expect(screen).toBe(`Password for ${BOB_P12}: \r\nsmime: ${BOB_P12}: wrong password (ERR_PKCS12_BAD_PASSWORD)\r\nexit=7\r\n`);
      expect(existsSync(out)).toBe(false);
    });
  });
});

describe.concurrent('--report - and the encrypt report', () => {
  const encrypt = `${SLOW} | ${S} encrypt --cert "$BOBCERT" --cert "$CHAIN" --trust "$ROOT" --to bob@example.com`;
  const env = () => ({ MSG: v('openssl/plain.txt'), BOBCERT: v('identities/bob.cert.pem'), ...TRUST, OUT: join(dir, 'enc.eml') });

  it('the report on stdout names the cipher actually used and the recipient certificate (serial, issuer, notAfter)', async () => {
    const r = await sh(`${encrypt} --out "$OUT" --report -`, env());
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(rep).toMatchObject({ command: 'encrypt', to: ['bob@example.com'], type: 'enveloped', cipher: 'aes-256-cbc', keyTransport: ['rsaEncryption'] });
    expect(rep.recipients).toEqual([
      {
        email: 'bob@example.com',
        subject: 'C=US, O=smime-core demo, CN=Bob Example',
        issuer: 'C=US, O=smime-core demo PKI, CN=smime-core Demo Issuing CA',
        serialNumber: '2005',
        notBefore: '2025-01-01T00:00:00.000Z',
        notAfter: '2029-01-01T00:00:00.000Z',
      },
    ]);
    // The message went to --out, and bob opens it.
    const d = await sh(`${S} decrypt --identity "$P12" --password-env PW --in "$OUT"`, { ...env(), P12: BOB_P12, PW: PASSWORD });
    expect(d.code).toBe(0);
    expect(d.stdout).toBe(PLAIN);
  });

  it('with --cipher aes-128-gcm, --oaep and --from: that cipher, AuthEnvelopedData, OAEP, and the sender as a recipient', async () => {
    const r = await sh(
      `${encrypt} --cipher aes-128-gcm --oaep --identity "$ALICE" --password-env PW --from alice@example.com --out "$OUT" --report -`,
      { ...env(), ALICE: v('identities/alice-enc-2025.p12'), PW: PASSWORD },
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout) as { cipher: string; type: string; keyTransport: string[]; recipients: { email: string; serialNumber: string }[] };
    expect([rep.type, rep.cipher, rep.keyTransport]).toEqual(['authEnveloped', 'aes-128-gcm', ['rsaesOaep']]);
    expect(rep.recipients.map((x) => x.email)).toEqual(['bob@example.com', 'alice@example.com']);
    expect(rep.recipients[1]!.serialNumber).toMatch(/^[0-9a-f]+$/i);
  });

  it('--report - without --out is a usage error: exit 2, nothing on stdout', async () => {
    const r = await sh(`${encrypt} --report -`, env());
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.err).toBe("smime: --report - writes the report to stdout: give the message a file with --out FILE (see 'smime encrypt --help')\n");
  });

  it('verify --report - with --out: the content to the file, the report on stdout', async () => {
    const out = join(dir, 'verified.txt');
    const r = await sh(`${SLOW} | ${S} verify --cert "$CHAIN" --trust "$ROOT" --out "$OUT" --report -`, { ...TRUST, MSG: v('openssl/sig-rsa-opaque.eml'), OUT: out });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout) as { signers: { email: string; status: string; serialNumber: string }[] };
    expect(rep.signers.map((s) => [s.email, s.status, s.serialNumber])).toEqual([['alice@example.com', 'valid', '2000']]);
    expect(readFileSync(out, 'utf8')).toBe(PLAIN);
  });
});

describe.concurrent('exit codes: one table', () => {
  it('every smime-core error code has an exit code from 1 to 8 (never 70)', () => {
    const codes = Object.values(api)
      .filter((x): x is typeof api.SmimeError => typeof x === 'function' && (x === api.SmimeError || x.prototype instanceof api.SmimeError))
      .map((c) => c.code);
    expect(codes.length).toBeGreaterThanOrEqual(20);
    for (const c of codes) {
      expect(EXIT_BY_ERROR_CODE[c], c).toBeGreaterThanOrEqual(1);
      expect(EXIT_BY_ERROR_CODE[c], c).toBeLessThanOrEqual(8);
    }
  });

  it("the README's CLI section prints the table", () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    expect(readme).toContain(EXIT_TABLE);
  });

  it.each([
    [EXIT.verifyFailed, 'verify, a signer untrusted', `${SLOW} | ${S} verify`, { MSG: v('openssl/sig-rsa-opaque.eml') }, 'smime: signer alice@example.com: untrusted (no-chain-to-trust-anchor)\n'],
    [EXIT.verifyFailed, 'verify, a tampered message', `${SLOW} | ${S} verify --cert "$CHAIN" --trust "$ROOT"`, { MSG: v('openssl/sig-tampered.eml'), ...TRUST }, /^smime: signer alice@example.com: invalid/],
    [EXIT.missingCertificate, 'encrypt to nobody known', `${SLOW} | ${S} encrypt --to bob@example.com`, { MSG: v('openssl/plain.txt') }, 'smime: no certificate for bob@example.com: add one with --cert or import one into the store\n'],
    [EXIT.missingCertificate, 'sign without a signing certificate', `${SLOW} | ${S} sign --from bob@example.com`, { MSG: v('openssl/plain.txt') }, /^smime: <stdin>: ERR_CERTIFICATE_NOT_FOUND: no signing certificate for bob@example.com/],
    [EXIT.decryptionFailed, 'decrypt with the wrong identity', `${SLOW} | ${S} decrypt --identity "$P12" --password-env PW`, { MSG: TO_BOB, P12: v('identities/dave.p12'), PW: PASSWORD }, '<stdin>: ERR_CMS_DECRYPTION_FAILED'],
    [EXIT.badInput, 'verify plain text', `${SLOW} | ${S} verify`, { MSG: v('openssl/plain.txt') }, /^smime: <stdin>: ERR_MIME_INVALID: /],
    [EXIT.badInput, 'verify an encrypted message', `${SLOW} | ${S} verify`, { MSG: TO_BOB }, /^smime: <stdin>: ERR_CMS_INVALID: not a signed message/],
    [EXIT.badInput, 'a malformed certificate', `${SLOW} | ${S} verify --cert "$BAD"`, { MSG: TO_BOB, BAD: v('openssl/plain.txt') }, /^smime: .*plain\.txt: ERR_CERTIFICATE_INVALID: /],
    [EXIT.io, 'an --in that does not exist', `${S} verify --in "$DIR/nope.eml"`, {}, /^smime: .*nope\.eml: cannot read or write: no such file \(ENOENT\)\n$/],
    [EXIT.io, 'an --out in a directory that does not exist', `${SLOW} | ${S} open --out "$DIR/no/such/dir.txt"`, { MSG: v('openssl/sig-rsa-opaque.eml') }, /^smime: .*dir\.txt: cannot read or write: no such file \(ENOENT\)\n$/],
    [EXIT.secretRefused, 'a wrong password', `${SLOW} | ${S} decrypt --identity "$P12" --password-env PW`, { MSG: TO_BOB, P12: BOB_P12, PW: 'nope' }, 'wrong password'],
  ] as const)('%i: %s', async (code, _, script, env, err) => {
    const r = await sh(script, { ...env, DIR: dir });
    expect(r.code).toBe(code);
    if (code !== EXIT.verifyFailed) expect(r.stdout).toBe('');
    if (typeof err === 'string' && err.startsWith('smime:')) expect(r.err).toBe(err);
    else if (typeof err === 'string') expect(r.err).toContain(err);
    else expect(r.err).toMatch(err);
    expect(r.err).not.toMatch(/ at |internal error/);
  });
});

describe.concurrent('errors name the file and hint at the fix', () => {
  it('a .p12 given as --cert: "this is a PKCS#12 file: use --identity"', async () => {
    const r = await sh(`${SLOW} | ${S} encrypt --cert "$P12" --to bob@example.com`, { MSG: v('openssl/plain.txt'), P12: BOB_P12 });
    expect(r.code).toBe(2);
    expect(r.err).toBe(`smime: ${BOB_P12}: this is a PKCS#12 file: use --identity ${BOB_P12} (see 'smime encrypt --help')\n`);
  });

  it('a certificate given as --identity: "use --cert"', async () => {
    const cert = v('identities/bob.cert.pem');
    const r = await sh(`${SLOW} | ${S} decrypt --identity "$CERT"`, { MSG: TO_BOB, CERT: cert });
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `smime: ${cert}: this is a certificate without its private key: use --cert ${cert} (--identity takes a PKCS#12 file, or PEM with certificate and key) (see 'smime decrypt --help')\n`,
    );
  });

  it('--to without a certificate names every such recipient', async () => {
    const r = await sh(`${SLOW} | ${S} encrypt --cert "$BOBCERT" --to bob@example.com --to carol@example.com --to zed@example.com`, {
      MSG: v('openssl/plain.txt'),
      BOBCERT: v('identities/bob.cert.pem'),
    });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    // bob's certificate is given; carol and zed have none.
    expect(r.err).toBe(
      [
        'smime: no certificate for carol@example.com: add one with --cert or import one into the store',
        'smime: no certificate for zed@example.com: add one with --cert or import one into the store',
        '',
      ].join('\n'),
    );
  });
});

describe.concurrent('smime inspect FILE: text and --json', () => {
  it('a certificate', async () => {
    const cert = v('identities/bob.cert.pem');
    const r = await sh(`${S} inspect "$F"`, { F: cert });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `${cert}: a certificate\n` +
        '  subject:  C=US, O=smime-core demo, CN=Bob Example\n' +
        '  issuer:   C=US, O=smime-core demo PKI, CN=smime-core Demo Issuing CA\n' +
        '  serial:   2005\n' +
        '  valid:    2025-01-01T00:00:00.000Z to 2029-01-01T00:00:00.000Z\n' +
        '  emails:   bob@example.com\n',
    );
    const j = await sh(`${S} inspect --json "$F"`, { F: cert });
    expect(JSON.parse(j.stdout)).toEqual({
      file: cert,
      kind: 'certificates',
      certificates: [
        {
          subject: 'C=US, O=smime-core demo, CN=Bob Example',
          issuer: 'C=US, O=smime-core demo PKI, CN=smime-core Demo Issuing CA',
          serialNumber: '2005',
          notBefore: '2025-01-01T00:00:00.000Z',
          notAfter: '2029-01-01T00:00:00.000Z',
          emails: ['bob@example.com'],
        },
      ],
    });
  });

  it('a PKCS#12 file without its password: the bag count', async () => {
    const r = await sh(`${S} inspect "$F"`, { F: BOB_P12 });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `${BOB_P12}: a PKCS#12 file (read without its password)\n` +
        '  bags:     1 readable without the password (pkcs8ShroudedKeyBag)\n' +
        '  safes:    2, 1 encrypted (their bags need the password)\n' +
        '  MAC:      yes (password integrity)\n',
    );
    const j = await sh(`${S} inspect --json "$F"`, { F: BOB_P12 });
    expect(JSON.parse(j.stdout)).toEqual({ file: BOB_P12, kind: 'pkcs12', safes: 2, encryptedSafes: 1, bags: 1, bagTypes: ['pkcs8ShroudedKeyBag'], mac: true });
  });

  it('an encrypted message from a slow pipe: its layer and recipients by issuer and serial', async () => {
    const r = await sh(`${SLOW} | ${S} inspect`, { MSG: v('openssl/enc-multi.eml') });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^<stdin>: an S\/MIME message, 1 layer \(outermost first\)\n {2}1\. enveloped, aes-256-cbc, \d+ recipients/);
    expect(r.stdout).toContain('recipient (keyTransport, rsaEncryption): issuer C=US, O=smime-core demo PKI, CN=smime-core Demo Issuing CA, serial 2005\n');
    const j = await sh(`${SLOW} | ${S} inspect --json`, { MSG: TO_BOB });
    expect(JSON.parse(j.stdout)).toEqual({
      file: '<stdin>',
      kind: 'smime',
      layers: [
        {
          type: 'enveloped',
          cipher: 'aes-256-cbc',
          recipients: [{ type: 'keyTransport', algorithm: 'rsaEncryption', issuer: 'C=US, O=smime-core demo PKI, CN=smime-core Demo Issuing CA', serialNumber: '2005' }],
        },
      ],
    });
  });

  it('a signed message: its signers', async () => {
    for (const [file, detached] of [
      ['openssl/sig-rsa-detached.eml', true],
      ['openssl/sig-rsa-opaque.eml', false],
    ] as const) {
      const r = await sh(`${SLOW} | ${S} inspect --json`, { MSG: v(file) });
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout) as { layers: { type: string; detached: boolean; signers: Record<string, unknown>[] }[] };
      expect(j.layers.map((l) => [l.type, l.detached])).toEqual([['signed', detached]]);
      expect(j.layers[0]!.signers).toMatchObject([
        { issuer: 'C=US, O=smime-core demo PKI, CN=smime-core Demo Issuing CA', serialNumber: '2000', emails: ['alice@example.com'], subject: 'C=US, O=smime-core demo, CN=Alice Example' },
      ]);
      const t = await sh(`${S} inspect "$F"`, { F: v(file) });
      expect(t.stdout).toContain(`1. signed (${detached ? 'multipart/signed' : 'opaque signed-data'}), 1 signer, `);
      expect(t.stdout).toContain('signer alice@example.com: issuer C=US, O=smime-core demo PKI, CN=smime-core Demo Issuing CA, serial 2000, sha256');
    }
  });

  it('not a certificate, PKCS#12 file or S/MIME message: exit 5; a missing file: exit 6', async () => {
    const r = await sh(`${SLOW} | ${S} inspect`, { MSG: v('openssl/plain.txt') });
    expect(r.code).toBe(5);
    expect(r.stdout).toBe('');
    expect(r.err).toBe('smime: <stdin>: ERR_MIME_INVALID: not an S/MIME message: Content-Type is text/plain\n');
    const m = await sh(`${S} inspect "$DIR/nope"`, { DIR: dir });
    expect(m.code).toBe(6);
  });
});
