/**
 * `--pkcs11 MODULE` on sign, decrypt and open (issue 14, CLI), without a token: the usage errors and the help of the
 * BUILT bin; the PIN forms reaching the code that opens the token, the token closed on every path and nothing
 * written on a failure, through runCli with a stand-in for smime-core/pkcs11 (CliIo.pkcs11); and the bundle run
 * from a directory where pkcs11js cannot be found: everything works but --pkcs11, which says how to install it.
 * The runs against a real token (SoftHSM2) come with its test harness (phase 2 of issue 14).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { REPO, tmp, VECTORS } from '../_helpers/env.js';
import { PASSWORD } from '../_helpers/identities.js';
import { checkBuilt, S, SMIME_JS, sh } from './_sh.js';
import { runCli, type CliIo } from '../../src/cli/main.js';
import { INSTALL_HINT, loadPkcs11, type Pkcs11Api, type TokenHandle } from '../../src/cli/token.js';
import { KeyOperationRefused, TokenNotFound, TokenPinIncorrect, TokenUnavailable } from '../../src/index.node.js';

const v = (rel: string) => join(VECTORS, rel);
const PLAIN = readFileSync(v('openssl/plain.txt'), 'utf8');
const BOB_P12 = v('identities/bob.p12');
const TO_BOB = v('openssl/enc-to-bob-only.eml');
const PIN = '4711-secret';
const MODULE = '/opt/token/libtoken.so';
/** Whether smime-core/pkcs11 is in this tree (it is written beside the CLI, issue 14). */
const HAS_PKCS11 = existsSync(join(REPO, 'src', 'pkcs11', 'index.ts'));

let dir = '';

beforeAll(() => {
  checkBuilt();
  dir = tmp('smime-cli-pkcs11-');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A stand-in for smime-core/pkcs11: records what it was asked, fails as told, has no identities. */
function fakeToken(fail: { open?: Error; identities?: Error } = {}) {
  const calls = { open: [] as unknown[], closed: 0, identities: 0 };
  const token: TokenHandle = {
    info: { label: 'mail', manufacturer: 'test', model: 'stand-in', serial: '1', slot: 0 },
    identities: async () => {
      calls.identities++;
      if (fail.identities) throw fail.identities;
      return [];
    },
    close: async () => {
      calls.closed++;
    },
  };
  const api: Pkcs11Api = {
    openPkcs11Token: async (o) => {
      calls.open.push(o);
      if (fail.open) throw fail.open;
      return token;
    },
  };
  return { calls, load: async () => api };
}

interface InProcess {
  code: number;
  out: string;
  err: string;
  prompts: string[];
}

/** runCli in this process with the given environment, token stand-in and, optionally, a terminal prompt. */
async function run(args: string[], io: Partial<CliIo> & { answer?: string } = {}): Promise<InProcess> {
  let out = '';
  let err = '';
  const prompts: string[] = [];
  const { answer, ...rest } = io;
  const code = await runCli(args, {
    stdin: () => new Uint8Array(),
    stdout: (b) => {
      out += new TextDecoder().decode(b);
    },
    stderr: (s) => {
      err += s;
    },
    env: {},
    ...(answer !== undefined
      ? {
          prompt: async (q: string) => {
            prompts.push(q);
            return answer;
          },
        }
      : {}),
    ...rest,
  });
  return { code, out, err, prompts };
}

/** decrypt OpenSSL's message to bob with bob.p12 beside the token (the token's identities join the store). */
const decryptBeside = (...more: string[]) => ['decrypt', '--identity', BOB_P12, '--password-env', 'PW', '--in', TO_BOB, '--pkcs11', MODULE, ...more];

describe('the PIN forms reach the code that opens the token; the token is closed after the command', () => {
  it.each([
    ['--pin-file FILE (its first line)', () => ['--pin-file', join(dir, 'pin.txt')], {}],
    ['--pin-env NAME', () => ['--pin-env', 'MY_PIN'], { MY_PIN: PIN }],
    ['--pin-env NAME over SMIME_PIN', () => ['--pin-env', 'MY_PIN'], { MY_PIN: PIN, SMIME_PIN: 'not-this-one' }],
    ['SMIME_PIN', () => [], { SMIME_PIN: PIN }],
  ] as const)('%s', async (_, opts, env) => {
    writeFileSync(join(dir, 'pin.txt'), `${PIN}\nsecond line ignored\n`);
    const t = fakeToken();
    const r = await run([...decryptBeside('--token', 'mail'), ...opts()], { env: { PW: PASSWORD, ...env }, pkcs11: t.load });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe(PLAIN);
    expect(t.calls.open).toEqual([{ module: MODULE, token: 'mail', pin: PIN }]);
    expect([t.calls.identities, t.calls.closed]).toEqual([1, 1]);
  });

  it('--pin-fd N: the first line of the descriptor', async () => {
    const t = fakeToken();
    const fds: number[] = [];
    const readFd = async (fd: number) => {
      fds.push(fd);
      return new TextEncoder().encode(`${PIN}\r\nmore`);
    };
    const r = await run([...decryptBeside('--slot', '3'), '--pin-fd', '5'], { env: { PW: PASSWORD }, pkcs11: t.load, readFd });
    expect(r.code).toBe(0);
    expect(fds).toEqual([5]);
    expect(t.calls.open).toEqual([{ module: MODULE, slot: 3, pin: PIN }]);
    expect(t.calls.closed).toBe(1);
  });

  it('on a terminal without a PIN option: asked for once, without echo, naming the token', async () => {
    const t = fakeToken();
    const r = await run(decryptBeside('--token', 'mail'), { env: { PW: PASSWORD }, pkcs11: t.load, answer: PIN });
    expect(r.code).toBe(0);
    expect(r.prompts).toEqual([`PIN for token "mail" of ${MODULE}: `]);
    expect(t.calls.open).toEqual([{ module: MODULE, token: 'mail', pin: PIN }]);
  });

  it('no PIN and no terminal: exit 7 "no PIN given" with the forms, and the token is not opened', async () => {
    const t = fakeToken();
    const r = await run(decryptBeside(), { env: { PW: PASSWORD }, pkcs11: t.load });
    expect(r.code).toBe(7);
    expect(r.out).toBe('');
    expect(r.err).toBe(`smime: the token of ${MODULE}: no PIN given: give it with --pin-file FILE, --pin-env NAME or --pin-fd N\n`);
    expect(t.calls.open).toEqual([]);
  });

  it('sign and open take --pkcs11 too (sign without a signing key: exit 3, the token closed)', async () => {
    writeFileSync(join(dir, 'msg.txt'), PLAIN);
    const t = fakeToken();
    const s = await run(['sign', '--from', 'alice@example.com', '--in', join(dir, 'msg.txt'), '--pkcs11', MODULE, '--pin-env', 'P'], { env: { P: PIN }, pkcs11: t.load });
    expect(s.code).toBe(3);
    expect(s.err).toMatch(/ERR_CERTIFICATE_NOT_FOUND: no signing certificate for alice@example\.com/);
    const o = await run([...decryptBeside(), '--pin-env', 'P'].map((x) => (x === 'decrypt' ? 'open' : x)), { env: { P: PIN, PW: PASSWORD }, pkcs11: t.load });
    expect(o.code).toBe(0);
    expect(o.out).toBe(PLAIN);
    expect([t.calls.open.length, t.calls.closed]).toEqual([2, 2]);
  });
});

describe('token errors: a typed exit code naming the token, the PIN in no message, nothing written, the token closed', () => {
  it.each([
    [7, 'a wrong PIN', { open: new TokenPinIncorrect('the token refused the PIN') }, 'ERR_TOKEN_PIN_INCORRECT: the token refused the PIN', 0],
    [8, 'no such token', { open: new TokenNotFound('no token labelled mail') }, 'ERR_TOKEN_NOT_FOUND: no token labelled mail', 0],
    [8, 'a module that does not load', { open: new TokenUnavailable('the module does not load') }, 'ERR_TOKEN_UNAVAILABLE: the module does not load', 0],
    [8, 'a token removed while listing its objects', { identities: new TokenUnavailable('the token was removed') }, 'ERR_TOKEN_UNAVAILABLE: the token was removed', 1],
    [8, 'a key that refuses', { identities: new KeyOperationRefused('the key refused') }, 'ERR_KEY_OPERATION_REFUSED: the key refused', 1],
  ] as const)('exit %i: %s', async (code, _, fail, message, closed) => {
    const out = join(dir, `out-${code}-${closed}-${message.length}.eml`);
    const t = fakeToken(fail);
    const r = await run([...decryptBeside('--token', 'mail', '--pin-env', 'P'), '--out', out], { env: { P: PIN, PW: PASSWORD }, pkcs11: t.load });
    expect(r.code).toBe(code);
    expect(r.err).toBe(`smime: token "mail" of ${MODULE}: ${message}\n`);
    expect(r.err).not.toContain(PIN);
    expect(r.out).toBe('');
    expect(existsSync(out)).toBe(false);
    expect(t.calls.closed).toBe(closed);
  });

  it('the command fails after the token opened (no key for the message): exit 4, nothing written, the token closed', async () => {
    const out = join(dir, 'undecryptable.eml');
    const t = fakeToken();
    const r = await run(['decrypt', '--in', TO_BOB, '--out', out, '--pkcs11', MODULE, '--pin-env', 'P'], { env: { P: PIN }, pkcs11: t.load });
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/ERR_CMS_DECRYPTION_FAILED/);
    expect(existsSync(out)).toBe(false);
    expect(t.calls.closed).toBe(1);
  });

  it('stdout closed early (EPIPE): exit 141, and the token was closed', async () => {
    const t = fakeToken();
    const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    const r = await run(decryptBeside('--pin-env', 'P'), {
      env: { P: PIN, PW: PASSWORD },
      pkcs11: t.load,
      stdout: () => Promise.reject(epipe),
    });
    expect(r.code).toBe(141);
    expect(r.err).toBe('');
    expect(t.calls.closed).toBe(1);
  });
});

describe('loading smime-core/pkcs11: pkcs11js missing is exit 8 with the install command', () => {
  /** The error Node really gives for pkcs11js where it is not installed (required from outside the repository). */
  function realMissingBinding(): unknown {
    try {
      createRequire(join(dir, 'app.cjs'))('pkcs11js');
      return undefined;
    } catch (e) {
      return e;
    }
  }

  it('MODULE_NOT_FOUND for pkcs11js becomes TokenUnavailable "npm install pkcs11js"', async () => {
    const missing = realMissingBinding();
    expect((missing as { code?: string }).code).toBe('MODULE_NOT_FOUND');
    const err = await loadPkcs11(() => Promise.reject(missing)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenUnavailable);
    expect((err as Error).message).toBe(`--pkcs11 needs the PKCS#11 binding pkcs11js, which cannot be loaded: ${INSTALL_HINT}`);
    expect((err as Error).cause).toBe(missing);
  });

  it('through the CLI, found on import: exit 8, one line, the PIN never asked for', async () => {
    const missing = realMissingBinding();
    const r = await run(decryptBeside(), { env: { PW: PASSWORD }, pkcs11: () => Promise.reject(missing), answer: PIN });
    expect(r.code).toBe(8);
    expect(r.err).toBe(`smime: ERR_TOKEN_UNAVAILABLE: --pkcs11 needs the PKCS#11 binding pkcs11js, which cannot be loaded: ${INSTALL_HINT}\n`);
    expect(r.prompts).toEqual([]);
  });

  it.each([
    ['a require() that fails', Object.assign(new Error("Cannot find module 'pkcs11js'"), { code: 'MODULE_NOT_FOUND' })],
    ["the module's own TokenUnavailable", new TokenUnavailable('smime-core/pkcs11 needs the optional peer dependency pkcs11js: npm install pkcs11js')],
  ])('the binding missing only when the token is opened (%s) is the same error, not tied to the token', async (_, missing) => {
    const t = fakeToken({ open: missing });
    const r = await run(decryptBeside('--pin-env', 'P'), { env: { P: PIN, PW: PASSWORD }, pkcs11: t.load });
    expect(r.code).toBe(8);
    expect(r.err).toBe(`smime: ERR_TOKEN_UNAVAILABLE: --pkcs11 needs the PKCS#11 binding pkcs11js, which cannot be loaded: ${INSTALL_HINT}\n`);
  });

  it('any other failure to load it is TokenUnavailable (exit 8), never an internal error', async () => {
    const r = await run(decryptBeside('--pin-env', 'P'), { env: { P: PIN, PW: PASSWORD }, pkcs11: async () => ({}) as Pkcs11Api });
    expect(r.code).toBe(8);
    expect(r.err).toBe('smime: ERR_TOKEN_UNAVAILABLE: smime-core/pkcs11 cannot be loaded: smime-core/pkcs11 has no openPkcs11Token\n');
  });
});

describe.concurrent('usage errors of the built bin: exit 2, one line, nothing read or written', () => {
  it.each([
    ['sign --from a@example.com --pkcs11 "$MOD" --token mail --slot 0', 'give --token LABEL or --slot N, not both', 'sign'],
    ['decrypt --token mail', '--token needs --pkcs11 MODULE (the token\'s PKCS#11 module)', 'decrypt'],
    ['open --slot 1', '--slot needs --pkcs11 MODULE (the token\'s PKCS#11 module)', 'open'],
    ['decrypt --pin-env MY_PIN', '--pin-env needs --pkcs11 MODULE (the token\'s PKCS#11 module)', 'decrypt'],
    ['open --pkcs11 "$MOD" --slot one', '--slot takes a slot number, e.g. 0 (not one)', 'open'],
    ['decrypt --pkcs11 "$MOD" --slot -1', '--slot takes a slot number, e.g. 0 (not -1)', 'decrypt'],
    ['sign --from a@example.com --pkcs11 "$MOD" --pin-env P --pin-file "$PINFILE"', 'give the PIN one way only, not --pin-file and --pin-env', 'sign'],
    ['decrypt --pkcs11 "$MOD" --pin-fd 3 --pin-env P', 'give the PIN one way only, not --pin-env and --pin-fd', 'decrypt'],
    ['decrypt --pkcs11 "$MOD" --pin 1234', 'unknown option --pin for smime decrypt', 'decrypt'],
    ['encrypt --to bob@example.com --pkcs11 "$MOD"', 'unknown option --pkcs11 for smime encrypt (it belongs to smime decrypt, sign, open)', 'encrypt'],
    ['verify --pin-file "$PINFILE"', 'unknown option --pin-file for smime verify (it belongs to smime decrypt, sign, open)', 'verify'],
  ])('smime %s', async (args, message, cmd) => {
    const out = join(dir, `usage-${message.length}-${cmd}.eml`);
    const r = await sh(`${S} ${args} --in "$MSG" --out "$OUT"`, { MSG: TO_BOB, OUT: out, MOD: MODULE, PINFILE: join(dir, 'no-such-pin-file') });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.err).toBe(`smime: ${message} (see 'smime ${cmd} --help')\n`);
    expect(existsSync(out)).toBe(false);
  });
});

describe('the bundle where pkcs11js cannot be found (a copy of dist/cli outside the repository)', () => {
  let bin = '';
  beforeAll(() => {
    const cli = join(dir, 'isolated', 'cli');
    mkdirSync(cli, { recursive: true });
    cpSync(SMIME_JS, join(cli, 'smime.js'));
    cpSync(join(REPO, 'dist', 'cli', 'chunks'), join(cli, 'chunks'), { recursive: true });
    bin = join(cli, 'smime.js');
  });

  it('--help and a command without --pkcs11 work: smime-core/pkcs11 is not loaded', async () => {
    const h = await sh('"$NODE" "$BIN" --help && "$NODE" "$BIN" sign --help', { BIN: bin });
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('--pkcs11 MODULE');
    const d = await sh('"$NODE" "$BIN" decrypt --identity "$P12" --password-env PW --in "$MSG"', { BIN: bin, P12: BOB_P12, PW: PASSWORD, MSG: TO_BOB });
    expect(d.err).toBe('');
    expect(d.code).toBe(0);
    expect(d.stdout).toBe(PLAIN);
  });

  it('--pkcs11: exit 8, one line, nothing written' + (HAS_PKCS11 ? ', "npm install pkcs11js"' : ' (smime-core/pkcs11 not in this tree)'), async () => {
    const out = join(dir, 'isolated', 'out.eml');
    const r = await sh('"$NODE" "$BIN" decrypt --pkcs11 /no/such/module.so --pin-env P --in "$MSG" --out "$OUT"', { BIN: bin, P: PIN, MSG: TO_BOB, OUT: out });
    expect(r.code).toBe(8);
    expect(r.stdout).toBe('');
    expect(r.err).toMatch(/^smime: ERR_TOKEN_UNAVAILABLE: [^\n]+\n$/);
    if (HAS_PKCS11) expect(r.err).toBe(`smime: ERR_TOKEN_UNAVAILABLE: --pkcs11 needs the PKCS#11 binding pkcs11js, which cannot be loaded: ${INSTALL_HINT}\n`);
    else expect(r.err).toMatch(/smime-core\/pkcs11 cannot be loaded/);
    expect(r.err).not.toContain(PIN);
    expect(existsSync(out)).toBe(false);
  });
});
