/**
 * `smime --pkcs11` against a real token (issue 14, CLI): a SoftHSM2 token made by the harness (test/_helpers/
 * softhsm.ts) holding the sample identities, used by the BUILT bin in child processes (SOFTHSM2_CONF passed in
 * their environment). OpenSSL's v1.5, OAEP and ECDH messages are decrypted with the token's keys; signatures made
 * on the token are checked by `openssl cms -verify` and `smime verify`; `smime open` decrypts with the token; a
 * PKCS#12 beside the token gives the old encryption keys while the token signs (the managed device); a wrong PIN
 * (exit 7), a missing token, a missing module and a key that refuses to sign or decrypt (exit 8: the adapter offers
 * the operations by mechanism, the token's C_Sign/C_Decrypt answers CKR_KEY_FUNCTION_NOT_PERMITTED, the core makes it
 * KeyOperationRefused) each end with one message naming the token, nothing written and no PIN in stderr. The CLI without pkcs11js (--help, --identity) is tested in pkcs11.test.ts (the bundle run from a
 * copy of dist/cli outside the repository). Never skipped under CI=true (softHsmAvailable throws there).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmp, tryRun, VECTORS } from '../_helpers/env.js';
import { OPENSSL_AT_REFERENCE, PASSWORD } from '../_helpers/identities.js';
import { createSoftHsmToken, softHsmAvailable, type SoftHsmToken } from '../_helpers/softhsm.js';
import { checkBuilt, S, sh, type Run } from './_sh.js';

const v = (rel: string) => join(VECTORS, rel);
const PLAIN = readFileSync(v('openssl/plain.txt'), 'utf8');
const ROOT = v('pki/root-ca.cert.pem');
const CHAIN = v('pki/chain.pem');
const LABEL = 'smime-cli';
const PIN = '7391-cli-pin';
const WRONG_PIN = '0000-not-it';
/** A child's output as text. */
const txt = (b: Uint8Array) => Buffer.from(b).toString('utf8');

const available = await softHsmAvailable();

let token: SoftHsmToken;
let dir = '';
let pinFile = '';

beforeAll(async () => {
  if (!available) return;
  checkBuilt();
  dir = tmp('smime-cli-token-');
  pinFile = join(dir, 'pin.txt');
  writeFileSync(pinFile, `${PIN}\n`);
  token = await createSoftHsmToken({ label: LABEL, pin: PIN });
});

afterAll(() => {
  token?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs a script with the bin, the token's SOFTHSM2_CONF, the module, its label and the PIN file. */
function run(script: string, env: Record<string, string> = {}): Promise<Run> {
  return sh(script, { SOFTHSM2_CONF: token.env.SOFTHSM2_CONF!, MOD: token.module, LABEL, PINFILE: pinFile, ...env });
}

/** `--pkcs11 "$MOD" --token "$LABEL" --pin-file "$PINFILE"` */
const TOKEN = '--pkcs11 "$MOD" --token "$LABEL" --pin-file "$PINFILE"';

/** The subject and serial of the signer of a signed message, as OpenSSL reads them (and OpenSSL's verdict). */
function opensslVerify(signed: string): { ok: boolean; content: string; signer: string; err: string } {
  const signerPem = `${signed}.signer.pem`;
  const r = tryRun('openssl', ['cms', '-verify', ...OPENSSL_AT_REFERENCE, '-in', signed, '-CAfile', ROOT, '-certfile', CHAIN, '-signer', signerPem, '-purpose', 'smimesign']);
  const ok = r.status === 0;
  const signer = ok ? txt(tryRun('openssl', ['x509', '-in', signerPem, '-noout', '-serial']).stdout).trim() : '';
  return { ok, content: txt(r.stdout), signer, err: r.stderr };
}

/** The serial of a DER certificate as `openssl x509 -serial` prints it. */
function serialOf(der: Uint8Array): string {
  return txt(tryRun('openssl', ['x509', '-inform', 'DER', '-noout', '-serial'], der).stdout).trim();
}

describe.skipIf(!available)('smime --pkcs11 with a SoftHSM2 token', () => {
  describe('decrypt: OpenSSL messages with the token keys', () => {
    it.each([
      ['enc-rsa15-aes256cbc', 'RSA PKCS#1 v1.5 (alice-enc-2025)'],
      ['enc-oaep-sha1', 'RSA-OAEP SHA-1'],
      ['enc-oaep-sha256', 'RSA-OAEP SHA-256 (SoftHSM: through rsa-raw)'],
      ['enc-ecdh-p384-aes256cbc', 'ECDH P-384 (ec-enc)'],
      ['enc-multi', 'three recipients, bob on the token'],
    ])('%s: %s, --token --pin-file', async (id) => {
      const out = join(dir, `${id}.txt`);
      const r = await run(`${S} decrypt ${TOKEN} --in "$MSG" --out "$OUT"`, { MSG: v(`openssl/${id}.eml`), OUT: out });
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe(PLAIN);
    });

    it('--slot N (the slot SoftHSM assigned) instead of --token', async () => {
      const r = await run(`${S} decrypt --pkcs11 "$MOD" --slot "$SLOT" --pin-file "$PINFILE" --in "$MSG"`, { SLOT: String(token.slot), MSG: v('openssl/enc-rsa15-des3.eml') });
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(PLAIN);
    });

    it('--pin-env NAME', async () => {
      const r = await run(`${S} decrypt --pkcs11 "$MOD" --token "$LABEL" --pin-env TOKEN_PIN --in "$MSG"`, { TOKEN_PIN: PIN, MSG: v('openssl/enc-keyid.eml') });
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(PLAIN);
    });

    it('--pin-fd 3 (the PIN on descriptor 3, stdin left for the message)', async () => {
      const r = await run(`${S} decrypt --pkcs11 "$MOD" --token "$LABEL" --pin-fd 3 3<"$PINFILE" < "$MSG"`, { MSG: v('openssl/enc-to-bob-only.eml') });
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(PLAIN);
    });

    it('SMIME_PIN when no PIN option is given', async () => {
      const r = await run(`${S} decrypt --pkcs11 "$MOD" --token "$LABEL" --in "$MSG"`, { SMIME_PIN: PIN, MSG: v('openssl/enc-rsa15-aes128cbc.eml') });
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(PLAIN);
    });
  });

  describe('sign with the token: OpenSSL and smime verify accept it', () => {
    it.each([
      ['alice@example.com', 'RSA PKCS#1 v1.5', '', 'sha256WithRSAEncryption|rsaEncryption'],
      ['alice@example.com', 'RSASSA-PSS', '--pss', 'rsassaPss'],
      ['ecuser@example.com', 'ECDSA P-256', '', 'ecdsa-with-SHA256'],
    ])('%s, %s', async (from, _, extra, sigAlg) => {
      const msg = join(dir, 'msg.txt');
      writeFileSync(msg, PLAIN);
      const out = join(dir, `signed-${from}-${extra || 'v15'}.eml`);
      const r = await run(`${S} sign ${TOKEN} ${extra} --cert "$CHAIN" --from "$FROM" --in "$MSG" --out "$OUT"`, { FROM: from, MSG: msg, OUT: out, CHAIN });
      expect(r.err).toBe('');
      expect(r.code).toBe(0);

      const o = opensslVerify(out);
      expect(o.ok, o.err).toBe(true);
      expect(o.content).toContain('Hello from the smime-core test vectors.');
      // The signer is one of the certificates whose key is on the token.
      const onToken = [token.generated, ...Object.values(token.identities)].map((x) => serialOf(x.certificate));
      expect(onToken).toContain(o.signer);
      const parsed = txt(tryRun('openssl', ['cms', '-cmsout', '-print', '-in', out]).stdout);
      expect(parsed).toMatch(new RegExp(`signatureAlgorithm:\\s*\\n?\\s*algorithm: (${sigAlg})`));

      // smime verify: valid, and the content it gives is what OpenSSL gives (the signed entity, as sign wrote it).
      const content = `${out}.content`;
      const s = await run(`${S} verify --trust "$ROOT" --in "$SIGNED" --out "$CONTENT" --report -`, { ROOT, SIGNED: out, CONTENT: content });
      expect(s.err).toBe('');
      expect(s.code).toBe(0);
      const rep = JSON.parse(s.stdout) as { signers: { status: string; email: string }[] };
      expect(rep.signers.map((x) => [x.email, x.status])).toEqual([[from, 'valid']]);
      expect(readFileSync(content, 'utf8').replace(/\r\n/g, '\n')).toBe(o.content.replace(/\r\n/g, '\n'));
    });
  });

  it('open: a signed-then-encrypted message decrypted with the token (bob), the signature checked', async () => {
    const out = join(dir, 'opened.txt');
    const r = await run(`${S} open ${TOKEN} --trust "$ROOT" --in "$MSG" --out "$OUT" --report -`, { ROOT, MSG: v('openssl/sig-then-enc.eml'), OUT: out });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(PLAIN);
    const rep = JSON.parse(r.stdout) as { encrypted: boolean; signers: { email: string; status: string }[]; layers: { type: string }[] };
    expect(rep.encrypted).toBe(true);
    expect(rep.signers.map((s) => [s.email, s.status])).toEqual([['alice@example.com', 'valid']]);
  });

  it('the managed device: old mail decrypted with the PKCS#12 key, the answer signed with the token, in one pipeline', async () => {
    const out = join(dir, 'managed.eml');
    const both = `--identity "$OLD" --password-env PW ${TOKEN}`;
    const r = await run(`set -e; ${S} decrypt ${both} --in "$MSG" | ${S} sign ${both} --cert "$CHAIN" --from alice@example.com --out "$OUT"`, {
      OLD: v('identities/alice-enc-2021.p12'),
      PW: PASSWORD,
      MSG: v('openssl/enc-old-2021.eml'),
      CHAIN,
      OUT: out,
    });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const o = opensslVerify(out);
    expect(o.ok, o.err).toBe(true);
    expect(o.content).toContain('If you can read this, decryption worked.');
    const onToken = [token.generated, ...Object.values(token.identities)].map((x) => serialOf(x.certificate));
    expect(onToken).toContain(o.signer);
    // The old key is only in the PKCS#12: the token alone cannot read that mail.
    const alone = await run(`${S} decrypt ${TOKEN} --in "$MSG"`, { MSG: v('openssl/enc-old-2021.eml') });
    expect(alone.code).toBe(4);
    expect(alone.stdout).toBe('');
  });

  it('the same identity in the PKCS#12 and on the token (bob): no conflict, the message opens', async () => {
    const r = await run(`${S} decrypt --identity "$P12" --password-env PW ${TOKEN} --in "$MSG"`, { P12: v('identities/bob.p12'), PW: PASSWORD, MSG: v('openssl/enc-to-bob-only.eml') });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(PLAIN);
  });

  describe('failures: the exit code, one message, nothing written to --out, no PIN in stderr', () => {
    it.each([
      [7, 'a wrong PIN', `--pkcs11 "$MOD" --token "$LABEL" --pin-env BAD`, 'decrypt', /^smime: token "smime-cli" of \S+: ERR_TOKEN_PIN_INCORRECT: [^\n]+\n$/],
      [8, 'no token with that label', `--pkcs11 "$MOD" --token no-such-token --pin-file "$PINFILE"`, 'decrypt', /^smime: token "no-such-token" of \S+: ERR_TOKEN_NOT_FOUND: [^\n]+\n$/],
      [8, 'a module that does not exist', `--pkcs11 "$DIR/no-such-module.so" --token "$LABEL" --pin-file "$PINFILE"`, 'sign', /^smime: token "smime-cli" of \S+no-such-module\.so: ERR_TOKEN_UNAVAILABLE: [^\n]+\n$/],
    ] as const)('exit %i: %s (%s)', async (code, _, opts, cmd, message) => {
      const out = join(dir, `fail-${code}-${cmd}.out`);
      const args = cmd === 'sign' ? `--from alice@example.com --in "$PLAIN"` : `--in "$MSG"`;
      const r = await run(`${S} ${cmd} ${opts} ${args} --out "$OUT"`, { BAD: WRONG_PIN, DIR: dir, OUT: out, MSG: v('openssl/enc-rsa15-aes256cbc.eml'), PLAIN: v('openssl/plain.txt') });
      expect(r.code).toBe(code);
      expect(r.stdout).toBe('');
      expect(r.err).toMatch(message);
      expect(r.err).not.toContain(PIN);
      expect(r.err).not.toContain(WRONG_PIN);
      expect(existsSync(out)).toBe(false);
    });

    it.each([
      ['PKCS#1 v1.5 (C_Decrypt with CKM_RSA_X_509)', []],
      ['OAEP', ['-keyopt', 'rsa_padding_mode:oaep']],
    ])('a key that refuses to decrypt (frank-signonly: CKA_DECRYPT false), %s: exit 8, not a padding error', async (_name, keyopt) => {
      // OpenSSL encrypts to a certificate whatever its keyUsage; the refusal does not depend on the ciphertext.
      const msg = join(dir, `to-frank-${keyopt.length}.eml`);
      const made = tryRun('openssl', ['cms', '-encrypt', '-in', v('openssl/plain.txt'), '-out', msg, '-aes256', '-recip', v('identities/frank-signonly.cert.pem'), ...keyopt]);
      expect(made.status, made.stderr).toBe(0);
      const out = join(dir, `refused-${keyopt.length}.txt`);
      const r = await run(`${S} decrypt ${TOKEN} --in "$MSG" --out "$OUT"`, { MSG: msg, OUT: out });
      expect(r.code).toBe(8);
      expect(r.stdout).toBe('');
      expect(r.err).toBe(`smime: token "${LABEL}" of ${token.module}: ERR_KEY_OPERATION_REFUSED: PKCS#11 C_Decrypt: the token refused the operation (CKR_KEY_FUNCTION_NOT_PERMITTED)\n`);
      expect(existsSync(out)).toBe(false);
    });

    it('a key that refuses to sign (frank-signonly: CKA_SIGN false on the token)', async () => {
      const out = join(dir, 'refused.eml');
      const r = await run(`${S} sign ${TOKEN} --from frank@example.com --in "$PLAIN" --out "$OUT"`, { OUT: out, PLAIN: v('openssl/plain.txt') });
      expect(r.code).toBe(8);
      expect(r.stdout).toBe('');
      expect(r.err).toBe(`smime: token "${LABEL}" of ${token.module}: ERR_KEY_OPERATION_REFUSED: PKCS#11 C_Sign: the token refused the operation (CKR_KEY_FUNCTION_NOT_PERMITTED)\n`);
      expect(r.err).not.toContain(PIN);
      expect(existsSync(out)).toBe(false);
    });
  });
});
