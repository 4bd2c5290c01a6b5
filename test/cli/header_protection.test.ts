/**
 * The CLI's header protection and Bcc: `--protect-headers`, `--hcp`, `--legacy-display` on sign and encrypt,
 * `--bcc` (one more file per Bcc recipient beside --out), and the JSON report of open, verify and decrypt carrying
 * the protected headers, the outer ones and the mismatches. Run in-process (test/_helpers/cli.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli as runCli } from '../_helpers/cli.js';
import { tmp, VECTORS } from '../_helpers/env.js';
import { atReference, PASSWORD } from '../_helpers/identities.js';

/** The CLI in-process, its store judging the sample identities at the reference date. */
const cli = (args: string[], stdin?: Uint8Array) => runCli(args, stdin, { now: atReference });

const v = (rel: string) => join(VECTORS, rel);
const MSG =
  'From: Alice <alice@example.com>\r\nTo: alice@example.com\r\nSubject: Board meeting\r\nDate: Mon, 30 Nov 2026 10:00:00 +0100\r\n' +
  'MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nSee you there.\r\n';
const TRUST = ['--cert', v('pki/chain.pem'), '--trust', v('pki/root-ca.cert.pem')];
let dir = '';
let msg = '';
const f = (n: string) => join(dir, n);
const json = (n: string) => JSON.parse(readFileSync(f(n), 'utf8'));
const text = (n: string) => readFileSync(f(n), 'latin1');

beforeAll(() => {
  dir = tmp('smime-cli-hp-');
  msg = f('msg.eml');
  writeFileSync(msg, MSG);
});

describe('smime encrypt/sign --protect-headers, and the reports', () => {
  it('encrypt --protect-headers --hcp shy, then open: [...] outside, the real Subject in the report', async () => {
    const e = await cli(['encrypt', '--to', 'alice@example.com', '--cert', v('identities/alice-enc-2025.cert.pem'), ...TRUST, '--protect-headers', '--hcp', 'shy', '--in', msg, '--out', f('enc.eml')]);
    expect(e.err).toBe('');
    expect(e.code).toBe(0);
    expect(text('enc.eml')).toMatch(/^From: alice@example\.com\r\n/m);
    expect(text('enc.eml')).toContain('Subject: [...]\r\n');
    expect(text('enc.eml')).not.toContain('Board meeting');
    const o = await cli(['open', '--identity', v('identities/alice-enc-2025.p12'), '--password', PASSWORD, ...TRUST, '--in', f('enc.eml'), '--out', f('enc.out'), '--report', f('open.json')]);
    expect(o.err).toBe('');
    expect(o.code).toBe(0);
    const r = json('open.json');
    expect(r.coverage).toBe('full');
    expect(r.outer.find((h: { name: string }) => h.name === 'Subject').value).toBe('[...]');
    expect(r.headerProtection.hp).toBe('cipher');
    expect(r.headerProtection.headers.find((h: { name: string }) => h.name === 'Subject').value).toBe('Board meeting');
    expect(r.headerProtection.exposed.find((h: { name: string }) => h.name === 'From').value).toBe('alice@example.com');
    expect(r.headerProtection.mismatches).toEqual([]);
    // decrypt's report says the same.
    const d = await cli(['decrypt', '--identity', v('identities/alice-enc-2025.p12'), '--password', PASSWORD, '--in', f('enc.eml'), '--out', f('dec.out'), '--report', f('dec.json')]);
    expect(d.code).toBe(0);
    expect(json('dec.json').headerProtection.headers.find((h: { name: string }) => h.name === 'Subject').value).toBe('Board meeting');
  });

  it('sign --protect-headers, then verify with a forged outer Subject: the mismatch is in the report', async () => {
    const s = await cli(['sign', '--from', 'alice@example.com', '--identity', v('identities/alice-sign.p12'), '--password', PASSWORD, '--protect-headers', '--in', msg, '--out', f('signed.eml')]);
    expect(s.code).toBe(0);
    writeFileSync(f('forged.eml'), text('signed.eml').replace('Subject: Board meeting', 'Subject: Meeting cancelled'), 'latin1');
    const r = await cli(['verify', ...TRUST, '--in', f('forged.eml'), '--out', f('v.out'), '--report', f('verify.json')]);
    expect(r.code).toBe(0);
    const rep = json('verify.json');
    expect(rep.signers[0].status).toBe('valid');
    expect(rep.headerProtection.hp).toBe('clear');
    expect(rep.headerProtection.mismatches).toEqual([{ name: 'subject', outer: ['Meeting cancelled'], expected: ['Board meeting'] }]);
  });

  it('encrypt --bcc: the main message to --out, one more per Bcc recipient beside it, each for that recipient alone', async () => {
    const e = await cli(['encrypt', '--to', 'alice@example.com', '--bcc', 'bob@example.com', '--cert', v('identities/alice-enc-2025.cert.pem'), '--cert', v('identities/bob.cert.pem'), ...TRUST, '--in', msg, '--out', f('bcc.eml'), '--report', f('bcc.json')]);
    expect(e.err).toBe('');
    expect(e.code).toBe(0);
    expect(json('bcc.json').bcc).toEqual(['bob@example.com']);
    const copy = f('bcc.eml.bcc-bob@example.com');
    expect(existsSync(copy)).toBe(true);
    const bob = await cli(['decrypt', '--identity', v('identities/bob.p12'), '--password', PASSWORD, '--in', copy, '--out', f('bob.out')]);
    expect(bob.code).toBe(0);
    expect(readFileSync(f('bob.out'), 'latin1')).toContain('See you there.');
    const notForBob = await cli(['decrypt', '--identity', v('identities/bob.p12'), '--password', PASSWORD, '--in', f('bcc.eml'), '--out', f('bob2.out')]);
    expect(notForBob.code).not.toBe(0);
  });

  it('usage errors: --hcp without --protect-headers, an unknown policy, --bcc without --out', async () => {
    const a = await cli(['encrypt', '--to', 'alice@example.com', '--hcp', 'shy', '--in', msg]);
    expect(a.err).toContain('--hcp and --legacy-display go with --protect-headers');
    const b = await cli(['encrypt', '--to', 'alice@example.com', '--protect-headers', '--hcp', 'paranoid', '--in', msg]);
    expect(b.err).toContain('--hcp takes baseline, shy or none');
    const c = await cli(['encrypt', '--to', 'alice@example.com', '--bcc', 'bob@example.com', '--in', msg]);
    expect(c.err).toContain('--bcc needs --out');
    for (const r of [a, b, c]) expect(r.code).toBe(2);
  });
});

describe('smime open on a plain message', () => {
  it('is still bad input (exit 5): openMessage says coverage none, the command is for protected mail', async () => {
    const r = await cli(['open', ...TRUST, '--in', msg]);
    expect(r.code).toBe(5);
    expect(r.err).toBe(`smime: ${msg}: ERR_MIME_INVALID: not an S/MIME message: no part of it is signed or encrypted\n`);
  });
});
