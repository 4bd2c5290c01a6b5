/**
 * verifyStream in headless Chromium (the package's browser entry bundled by Vite, as test/browser/chromium.test.ts
 * does) of OpenSSL's `-noattr` ECDSA P-256 message over 2 MiB: the SignerInfo is checked on the digest by
 * @noble/curves, which the bundle loads as a chunk on first use (it is not in the main bundle), with verifyMessage's
 * status; a tampered copy is signature-mismatch on the stream. Skipped with a notice when Chromium is not installed;
 * with CI=true a missing Chromium fails the run.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VECTORS } from '../_helpers/env.js';
import { REFERENCE_DATE } from '../_helpers/identities.js';
import { findChromium, PAGE_PRELUDE, runPageInChromium, type PageRun } from '../_helpers/chromium.js';

const CHROMIUM = findChromium('the browser tests are');

/** The page: verifyStream (7 KB pieces) and verifyMessage of /v/msg.eml and /v/bad.eml. */
const PAGE_MODULE = PAGE_PRELUDE + String.raw`
const summary = (r) => r.signers.map((s) => ({ status: s.status, reasons: s.reasons }));
/** The page's stores judge the sample certificates at the reference date, not at the browser's clock. */
const now = () => new Date(${JSON.stringify(REFERENCE_DATE.toISOString())});
export async function run() {
  const store = new m.CertificateStore({ now });
  await store.addCertificate(await text('/v/chain.pem'));
  store.addTrustAnchor(await text('/v/root.pem'));
  const out = {};
  for (const name of ['msg', 'bad']) {
    const bytes = await get('/v/' + name + '.eml');
    const { content, done } = await m.verifyStream(piecesOf(bytes), { store, harvest: false });
    let length = 0;
    const reader = content.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) length += r.value.length;
    out[name] = { stream: summary(await done), buffer: summary(await m.verifyMessage(bytes, { store, harvest: false })), length };
  }
  return out;
}
`;

describe.skipIf(!CHROMIUM)('headless Chromium: verifyStream of ECDSA without signed attributes over 2 MiB', () => {
  let run: PageRun | undefined;
  let result: Record<string, { stream: unknown; buffer: unknown; length: number }>;
  const body = 'Content-Type: text/plain\r\n\r\n' + 'a line of a large message signed with an EC key, no signed attributes\r\n'.repeat(30000);

  beforeAll(async () => {
    const v = (rel: string) => join(VECTORS, rel);
    const msg = execFileSync('openssl', ['cms', '-sign', '-noattr', '-binary', '-nodetach', '-signer', v('identities/ec-sign.cert.pem'), '-inkey', v('identities/ec-sign.key.pem')], {
      input: body,
      maxBuffer: 1 << 26,
    });
    const s = msg.toString('latin1');
    const at = s.indexOf('\n', s.length >> 1) + 10;
    const bad = Buffer.from(s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1), 'latin1');
    run = await runPageInChromium(
      CHROMIUM!,
      PAGE_MODULE,
      {
        '/v/chain.pem': ['text/plain', readFileSync(v('pki/chain.pem'))],
        '/v/root.pem': ['text/plain', readFileSync(v('pki/root-ca.cert.pem'))],
        '/v/msg.eml': ['text/plain', new Uint8Array(msg)],
        '/v/bad.eml': ['text/plain', new Uint8Array(bad)],
      },
      null,
    );
    result = run.result as typeof result;
  }, 120_000);
  afterAll(() => run?.close());

  it('valid on the stream as verifyMessage says; tampered: signature-mismatch; @noble/curves is a chunk of its own', () => {
    expect(result.msg!.stream).toEqual([{ status: 'valid', reasons: [] }]);
    expect(result.msg!.buffer).toEqual(result.msg!.stream);
    expect(result.msg!.length).toBe(body.length);
    expect(result.bad!.stream).toEqual(result.bad!.buffer);
    expect((result.bad!.stream as { reasons: string[] }[])[0]?.reasons).toContain('signature-mismatch');
    // The main bundle does not carry the curves' code: it comes in the chunk loaded on first use.
    expect(run!.bundle).not.toContain('weierstrass');
  });
});
