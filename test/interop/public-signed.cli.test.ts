/**
 * A handful of the signed public vectors (see public-signed.test.ts) through the `smime` CLI:
 * `smime verify --trust CA --in MSG --out CONTENT --report REPORT.json` exits 0 only when every signer is valid, and
 * writes the report either way (the content only on success); `smime open` unwraps nested layers with an identity.
 * Skipped with a notice when ../shared is absent (never in CI).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { SHARED_VECTORS, shared, sharedAvailable, tmp } from '../_helpers/env.js';

const HAVE = sharedAvailable();
const td = new TextDecoder();
const EX_CONTENT = 'This is some sample content.';
const ALICE_BOB = 'This is a test message from Alice to Bob.';
const TB = 'thunderbird-comm-central';

const sv = (rel: string) => join(SHARED_VECTORS, rel);

interface Report {
  command: string;
  signers: { email: string | null; status: string; serialNumber: string | null; signingTime: string | null; reasons: string[] }[];
  layers: { type: string; detached?: boolean; cipher?: string; signers?: { email: string | null; status: string }[] }[];
  encrypted?: boolean;
  authenticated?: boolean;
}

/** Runs `smime <command> --in <vector> --out <tmp> --report <tmp> ...args`. */
async function smime(command: 'verify' | 'open', rel: string, args: string[]) {
  const dir = tmp('smime-public-signed-cli-');
  const out = join(dir, 'content');
  const report = join(dir, 'report.json');
  let err = '';
  const code = await runCli([command, '--in', sv(rel), '--out', out, '--report', report, ...args], {
    stdin: () => new Uint8Array(),
    stdout: () => {
      throw new Error('nothing should go to stdout when --out is given');
    },
    stderr: (s) => {
      err += s;
    },
    env: {},
  });
  return {
    code,
    err,
    content: existsSync(out) ? new Uint8Array(readFileSync(out)) : undefined,
    report: existsSync(report) ? (JSON.parse(readFileSync(report, 'utf8')) as Report) : undefined,
  };
}

describe.skipIf(!HAVE)('public signed vectors through the smime CLI', () => {
  it('verify Thunderbird/NSS alice.dsig.SHA256.multipart.eml --trust TestCA.pem → exit 0, valid', async () => {
    const r = await smime('verify', `${TB}/alice.dsig.SHA256.multipart.eml`, ['--trust', sv(`${TB}/TestCA.pem`)]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.report!.command).toBe('verify');
    expect(r.report!.signers).toEqual([
      expect.objectContaining({ email: 'alice@example.com', status: 'valid', reasons: [], signingTime: '2026-01-26T14:40:10.000Z' }),
    ]);
    expect(td.decode(r.content!)).toContain(ALICE_BOB);
  });

  it('verify alice.dsig.SHA256.multipart.bad.eml → exit 1, invalid (digest-mismatch) in the report and on stderr, no content', async () => {
    const r = await smime('verify', `${TB}/alice.dsig.SHA256.multipart.bad.eml`, ['--trust', sv(`${TB}/TestCA.pem`)]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/alice@example\.com: invalid \(digest-mismatch\)/);
    expect(r.report!.signers.map((s) => [s.status, s.reasons])).toEqual([['invalid', ['digest-mismatch']]]);
    expect(r.content).toBeUndefined();
  });

  it('verify the same message without --trust → exit 1, untrusted', async () => {
    const r = await smime('verify', `${TB}/alice.dsig.SHA256.multipart.eml`, []);
    expect(r.code).toBe(1);
    expect(r.report!.signers.map((s) => [s.status, s.reasons])).toEqual([['untrusted', ['no-chain-to-trust-anchor']]]);
  });

  it('verify Thunderbird 52 tb52-signed.eml (SHA-512) --trust ca.crt → exit 0, Benny Bottema', async () => {
    const r = await smime('verify', 'simple-java-mail/tb52-signed.eml', ['--trust', sv('simple-java-mail/ca.crt')]);
    expect(r.code).toBe(0);
    expect(r.report!.signers.map((s) => [s.email, s.status])).toEqual([['benny@bennybottema.com', 'valid']]);
    expect(r.content!.length).toBe(51452);
  });

  it('verify LAMPS smime-onepart-signed.eml --trust sample-ca.pem → exit 0, content = the .inner payload', async () => {
    const LA = 'lamps-protected-headers-2019';
    const r = await smime('verify', `${LA}/smime-onepart-signed.eml`, ['--trust', sv(`${LA}/sample-ca.pem`)]);
    expect(r.code).toBe(0);
    expect(r.report!.signers.map((s) => [s.email, s.status])).toEqual([['alice@smime.example', 'valid']]);
    const crlf = (s: string) => s.replace(/\r?\n/g, '\r\n');
    expect(crlf(td.decode(r.content!))).toBe(crlf(td.decode(shared(`${LA}/smime-onepart-signed.inner`))));
  });

  it('verify draft-ireland signedByAliceRSA.p7m (bare DER) --trust the RFC 9216 RSA CA → exit 0, the sample content', async () => {
    const r = await smime('verify', 'draft-ireland-examples-cms/signedByAliceRSA.p7m', [
      '--trust',
      sv('rfc9216/certs/Sample_LAMPS_RSA_Certification_Authority.selfsigned.pem'),
    ]);
    expect(r.code).toBe(0);
    expect(td.decode(r.content!)).toBe(EX_CONTENT);
  });

  it('verify MimeKit thunderbird-signed.txt (SHA-1): exit 1 (weak-algorithm) by default, exit 0 with --allow-weak', async () => {
    const trust = ['--trust', sv('mimekit/StartComCertificationAuthority.crt')];
    const d = await smime('verify', 'mimekit/thunderbird-signed.txt', trust);
    expect(d.code).toBe(1);
    expect(d.report!.signers[0]!.status).toBe('invalid');
    expect(d.report!.signers[0]!.reasons).toContain('weak-algorithm');
    // Verified now (the default), the StartCom certificates have long expired.
    const now = await smime('verify', 'mimekit/thunderbird-signed.txt', [...trust, '--allow-weak']);
    expect(now.code).toBe(1);
    expect(now.report!.signers[0]!.status).toBe('expired');
    // At the signingTime (2013-11-02), when the StartCom certificates were valid: the archival option.
    const w = await smime('verify', 'mimekit/thunderbird-signed.txt', [...trust, '--allow-weak', '--verify-at', 'signing-time']);
    expect(w.code).toBe(0);
    expect(w.report!.signers.map((s) => [s.email, s.status, s.signingTime])).toEqual([['fejj@gnome.org', 'valid', '2013-11-02T20:28:04.000Z']]);
  });

  // RFC 4134's RSA-1024 signature stays invalid ('weak-key') with --allow-weak alone; --min-rsa-bits 1024 lifts it.
  it('verify RFC 4134 4.2.bin (RSA-1024, SHA-1) --allow-weak → exit 1, weak-key; with --min-rsa-bits 1024 → exit 0', async () => {
    const r = await smime('verify', 'rfc4134/4.2.bin', ['--trust', sv('rfc4134/CarlRSASelf.cer'), '--allow-weak']);
    expect(r.code).toBe(1);
    expect(r.report!.signers[0]!.status).toBe('invalid');
    expect(r.report!.signers[0]!.reasons.some((x) => x.startsWith('weak-key'))).toBe(true);
    const ok = await smime('verify', 'rfc4134/4.2.bin', ['--trust', sv('rfc4134/CarlRSASelf.cer'), '--allow-weak', '--min-rsa-bits', '1024']);
    expect(ok.report!.signers[0]!.reasons.some((x) => x.startsWith('weak'))).toBe(false);
    expect(ok.report!.signers[0]!.status).toMatch(/^(valid|address-mismatch)$/);
  });

  it('verify an encrypted message (alice.sig.SHA256.opaque.env.eml) → exit 5 (bad input), ERR_CMS_INVALID; open it with Bob.p12 → exit 0', async () => {
    const v = await smime('verify', `${TB}/alice.sig.SHA256.opaque.env.eml`, ['--trust', sv(`${TB}/TestCA.pem`)]);
    expect(v.code).toBe(5);
    expect(v.err).toMatch(/ERR_CMS_INVALID/);
    expect(v.content).toBeUndefined();
    const o = await smime('open', `${TB}/alice.sig.SHA256.opaque.env.eml`, [
      '--trust',
      sv(`${TB}/TestCA.pem`),
      '--identity',
      sv(`${TB}/Bob.p12`),
      '--password',
      'nss',
    ]);
    expect(o.code).toBe(0);
    expect(o.report!.layers.map((l) => l.type)).toEqual(['enveloped', 'signed']);
    expect(o.report!.signers.map((s) => [s.email, s.status])).toEqual([['alice@example.com', 'valid']]);
    expect(o.report!.encrypted).toBe(true);
    expect(o.report!.authenticated).toBe(true);
    expect(td.decode(o.content!)).toContain(ALICE_BOB);
  });

  it('open the Alice-inside-Dave message → exit 0 (open does not judge), both signers in the report', async () => {
    const o = await smime('open', `${TB}/alice.plain.sig.SHA256.opaque.dave.dsig.SHA256.multipart.eml`, ['--trust', sv(`${TB}/TestCA.pem`)]);
    expect(o.code).toBe(0);
    expect(o.report!.signers.map((s) => [s.email, s.status])).toEqual([
      ['dave@example.com', 'valid'],
      ['alice@example.com', 'address-mismatch'],
    ]);
  });
});
