/**
 * The public API is pinned by a checked-in report, api/smime-core.api.md (scripts/api-report.mjs: the declarations
 * reachable from the entry points of package.json, comments stripped, whitespace collapsed). Any change to the
 * public API changes the report: this test then fails with the diff, and `npm run api:update` rewrites the report
 * so the change is visible in review.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error: a plain ES module script, without declarations
import { apiReport, emitDeclarations, lineDiff, REPORT } from '../../scripts/api-report.mjs';

describe('public API report', () => {
  let dir: string;
  let report: string;
  beforeAll(() => {
    dir = emitDeclarations();
    report = apiReport(dir);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('matches api/smime-core.api.md (run `npm run api:update` after a deliberate API change)', () => {
    const checkedIn = readFileSync(REPORT, 'utf8');
    const diff = lineDiff(checkedIn, report);
    if (diff) throw new Error(`the public API differs from api/smime-core.api.md:\n${diff}\n\nIf the change is deliberate, run \`npm run api:update\` and list it in CHANGELOG.md.`);
    expect(report).toBe(checkedIn);
  });

  it('names every export of both entry points, and no internal model type', () => {
    for (const name of ['CertificateStore', 'encryptMessage', 'decryptMessage', 'signMessage', 'verifyMessage', 'openMessage', 'OaepHash', 'SignDigest', 'PrivateKeyRef', 'PolicyOptions', 'nodeCrypto'])
      expect(report).toContain(`- \`${name}\`:`);
    for (const internal of ['CertInfo', 'storeInternals', 'learnCertificate', 'allCertificates', 'setPreference', 'cryptoImpl', 'ParsedCrl', 'ChainResult', 'allowWeak?: boolean'])
      expect(report).not.toContain(internal);
  });

  it('a changed declaration shows in the diff', () => {
    const store = join(dir, 'store', 'store.d.ts');
    const original = readFileSync(store, 'utf8');
    try {
      writeFileSync(store, original.replace(/^(\s*)selectRecipients\(/m, '$1selectRecipientz('));
      const diff = lineDiff(report, apiReport(dir));
      expect(diff).toMatch(/^- +selectRecipients\(emails: readonly string\[\], at\?: Date, options\?: SelectionLookupOptions\): Promise<Map<string, X509Certificate>>;$/m);
      expect(diff).toMatch(/^\+ +selectRecipientz\(emails: readonly string\[\], at\?: Date, options\?: SelectionLookupOptions\): Promise<Map<string, X509Certificate>>;$/m);
      expect(diff.split('\n').filter((l: string) => /^[-+] /.test(l))).toHaveLength(2);
    } finally {
      writeFileSync(store, original);
    }
  });
});
