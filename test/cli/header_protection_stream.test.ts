/**
 * The CLI's header protection on the stream functions: `smime decrypt/verify --report` and `smime encrypt --bcc
 * --legacy-display` no longer fall back to the buffer functions (decryptMessage, verifyMessage and encryptMessage are
 * wrapped here to count their calls), and say what they said before. `--legacy-display` on a message whose element's
 * place is past maxHeaderBytes of the body is refused (encryptMessage refuses it alike: no fallback). Run in-process.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli as runCli } from '../_helpers/cli.js';
import { tmp, VECTORS } from '../_helpers/env.js';
import { atReference, PASSWORD } from '../_helpers/identities.js';

/** The CLI in-process, its store judging the sample identities at the reference date. */
const cli = (args: string[], stdin?: Uint8Array) => runCli(args, stdin, { now: atReference });

const calls = vi.hoisted(() => ({ decryptMessage: 0, verifyMessage: 0, encryptMessage: 0 }));
vi.mock('../../src/decrypt.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/decrypt.js')>();
  return { ...m, decryptMessage: ((...a: Parameters<typeof m.decryptMessage>) => (calls.decryptMessage++, m.decryptMessage(...a))) as typeof m.decryptMessage };
});
vi.mock('../../src/verify.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/verify.js')>();
  return { ...m, verifyMessage: ((...a: Parameters<typeof m.verifyMessage>) => (calls.verifyMessage++, m.verifyMessage(...a))) as typeof m.verifyMessage };
});
vi.mock('../../src/encrypt.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/encrypt.js')>();
  const wrapped = (mime: Uint8Array | string, options: Parameters<typeof m.encryptMessage>[1]) => (calls.encryptMessage++, m.encryptMessage(mime, options));
  return { ...m, encryptMessage: wrapped as typeof m.encryptMessage };
});

const v = (rel: string) => join(VECTORS, rel);
const MSG =
  'From: Alice <alice@example.com>\r\nTo: alice@example.com\r\nBcc: bob@example.com\r\nSubject: Board meeting\r\nDate: Mon, 30 Nov 2026 10:00:00 +0100\r\n' +
  'MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nSee you there.\r\n';
const TRUST = ['--cert', v('pki/chain.pem'), '--trust', v('pki/root-ca.cert.pem')];
const ALICE = ['--identity', v('identities/alice-enc-2025.p12'), '--password', PASSWORD];
let dir = '';
const f = (n: string) => join(dir, n);
const json = (n: string) => JSON.parse(readFileSync(f(n), 'utf8'));
const text = (n: string) => readFileSync(f(n), 'latin1');
const reset = () => Object.assign(calls, { decryptMessage: 0, verifyMessage: 0, encryptMessage: 0 });

beforeAll(() => {
  dir = tmp('smime-cli-hp-stream-');
  writeFileSync(f('msg.eml'), MSG);
});

describe('the stream path under --report, --bcc, --legacy-display', () => {
  it('encrypt --bcc --legacy-display streams (no encryptMessage); decrypt --report streams (no decryptMessage) and reports the header protection', async () => {
    reset();
    const e = await cli(['encrypt', '--to', 'alice@example.com', '--bcc', 'bob@example.com', '--cert', v('identities/alice-enc-2025.cert.pem'), '--cert', v('identities/bob.cert.pem'), ...TRUST,
      '--protect-headers', '--legacy-display', '--in', f('msg.eml'), '--out', f('enc.eml'), '--report', f('enc.json')]);
    expect(e.err).toBe('');
    expect(e.code).toBe(0);
    expect(calls.encryptMessage).toBe(0);
    expect(json('enc.json').bcc).toEqual(['bob@example.com']);
    // The header section only: the base64 body may hold "bcc" by chance (it did once: "…CX8nSBccHcZ…").
    const encHead = text('enc.eml').split('\r\n\r\n')[0]!;
    expect(encHead).toMatch(/^From: /);
    expect(encHead).not.toMatch(/bcc|bob@/i);
    expect(readdirSync(dir).filter((n) => n.includes('.tmp') || n.startsWith('.'))).toEqual([]);
    const d = await cli(['decrypt', ...ALICE, '--in', f('enc.eml'), '--out', f('dec.out'), '--report', f('dec.json')]);
    expect(d.err).toBe('');
    expect(d.code).toBe(0);
    expect(calls.decryptMessage).toBe(0);
    const hp = json('dec.json').headerProtection;
    expect(hp.hp).toBe('cipher');
    expect(hp.legacyDisplay).toBe('Subject: Board meeting');
    expect(hp.headers.find((h: { name: string }) => h.name === 'Subject').value).toBe('Board meeting');
    expect(text('dec.out')).toContain('Subject: Board meeting\r\n\r\nSee you there.');
    // Bob's copy, beside --out, for Bob alone; the same entity.
    const copy = f('enc.eml.bcc-bob@example.com');
    expect(existsSync(copy)).toBe(true);
    const b = await cli(['decrypt', '--identity', v('identities/bob.p12'), '--password', PASSWORD, '--in', copy, '--out', f('bob.out'), '--report', f('bob.json')]);
    expect(b.code).toBe(0);
    expect(text('bob.out')).toBe(text('dec.out'));
    expect(json('bob.json').headerProtection).toEqual(hp);
    expect(calls.decryptMessage).toBe(0);
  });

  it('verify --report streams (no verifyMessage): the protected headers and a forged outer Subject, as before', async () => {
    const s = await cli(['sign', '--from', 'alice@example.com', '--identity', v('identities/alice-sign.p12'), '--password', PASSWORD, '--protect-headers', '--in', f('msg.eml'), '--out', f('signed.eml')]);
    expect(s.code).toBe(0);
    writeFileSync(f('forged.eml'), text('signed.eml').replace('Subject: Board meeting', 'Subject: Meeting cancelled'), 'latin1');
    reset();
    const r = await cli(['verify', ...TRUST, '--in', f('forged.eml'), '--out', f('v.out'), '--report', f('verify.json')]);
    expect(r.code).toBe(0);
    expect(calls.verifyMessage).toBe(0);
    const rep = json('verify.json');
    expect(rep.signers[0].status).toBe('valid');
    expect(rep.headerProtection.hp).toBe('clear');
    expect(rep.headerProtection.mismatches).toEqual([{ name: 'subject', outer: ['Meeting cancelled'], expected: ['Board meeting'] }]);
  });

  it('--legacy-display where the element\'s place is past the look-ahead (a text/html part with no <body> tag in its first MiB): refused, nothing written, no fallback (encryptMessage refuses it alike)', async () => {
    const html = MSG.replace('Content-Type: text/plain\r\n\r\nSee you there.\r\n', `Content-Type: text/html\r\n\r\n<html><head>${'<meta name="x" content="y">\r\n'.repeat(45_000)}</head><body>See you there.</body></html>\r\n`);
    writeFileSync(f('html.eml'), html);
    reset();
    const e = await cli(['encrypt', '--to', 'alice@example.com', '--cert', v('identities/alice-enc-2025.cert.pem'), ...TRUST, '--protect-headers', '--legacy-display', '--in', f('html.eml'), '--out', f('html.p7m')]);
    expect(e.code).not.toBe(0);
    expect(e.err).toMatch(/<body> tag.*maxHeaderBytes/);
    expect(calls.encryptMessage).toBe(0);
    expect(existsSync(f('html.p7m'))).toBe(false);
  });
});
