/**
 * The package as its consumers' tools see it: @arethetypeswrong/cli under the `esm-only` profile (the types resolve
 * for node16 from ESM, bundler, and node10, `smime-core/node` included) and publint (package.json's fields against
 * the packed files) both report nothing, `smime-core/pkcs11` included. CI runs the same two commands (.ci/run), and the API reference there too:
 * this file also pins that .ci/run keeps them, with the Node 22 and 24 runs of the suite.
 * `npm test` builds first (pretest), so dist/ is current.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../_helpers/env.js';

const bin = (name: string) => join(REPO, 'node_modules', '.bin', name);

describe('package lint', () => {
  it('attw --pack --profile esm-only: no problem, and smime-core/node, smime-core/pkcs11 and smime-core/ldap resolve under node10 too', () => {
    if (!existsSync(join(REPO, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
    // attw exits non-zero on a problem the profile does not ignore (execFileSync then throws).
    const out = execFileSync(bin('attw'), ['--pack', '--profile', 'esm-only', '--format', 'json'], { cwd: REPO, encoding: 'utf8' });
    type Problem = { kind: string; entrypoint: string; resolutionKind: string };
    const report = JSON.parse(out) as { problems?: Record<string, Problem[]>; analysis: { entrypoints: Record<string, { resolutions: Record<string, { resolution?: { fileName: string } }> }> } };
    // The only problem reported is the one the esm-only profile accepts: CommonJS resolution (node16-cjs) finds ES
    // modules (require() of them works from Node 20.19). node10, which the profile also ignores, has none.
    const problems = Object.values(report.problems ?? {}).flat();
    expect(problems.filter((p) => p.resolutionKind !== 'node16-cjs')).toEqual([]);
    expect([...new Set(problems.map((p) => p.kind))]).toEqual(['CJSResolvesToESM']);
    const node = report.analysis.entrypoints['./node']!.resolutions;
    expect(node['node10']!.resolution?.fileName).toMatch(/dist\/crypto\/node\.d\.ts$/);
    expect(node['node16-esm']!.resolution?.fileName).toMatch(/dist\/crypto\/node\.d\.ts$/);
    expect(node['bundler']!.resolution?.fileName).toMatch(/dist\/crypto\/node\.d\.ts$/);
    const pkcs11 = report.analysis.entrypoints['./pkcs11']!.resolutions;
    for (const mode of ['node10', 'node16-esm', 'bundler']) expect(pkcs11[mode]!.resolution?.fileName).toMatch(/dist\/pkcs11\/index\.d\.ts$/);
    const ldap = report.analysis.entrypoints['./ldap']!.resolutions;
    for (const mode of ['node10', 'node16-esm', 'bundler']) expect(ldap[mode]!.resolution?.fileName).toMatch(/dist\/ldap\/index\.d\.ts$/);
  });

  it('publint --strict: all good', () => {
    const out = execFileSync(bin('publint'), ['--strict'], { cwd: REPO, encoding: 'utf8' });
    expect(out).toContain('All good!');
  });

  it('.ci/run builds the API reference, runs attw and publint, and the suite on Node 22 and 24', () => {
    const ci = readFileSync(join(REPO, '.ci', 'run'), 'utf8');
    expect(ci).toMatch(/^npm run docs$/m);
    expect(ci).toMatch(/^npx --no-install attw --pack --profile esm-only$/m);
    expect(ci).toMatch(/^npx --no-install publint --strict$/m);
    expect(ci).toMatch(/for v in 22 24; do[\s\S]*npx -y "node@\$v" node_modules\/vitest\/vitest\.mjs run/);
    const typedoc = JSON.parse(readFileSync(join(REPO, 'typedoc.json'), 'utf8')) as { treatWarningsAsErrors: boolean; validation: { notDocumented: boolean }; entryPoints: string[] };
    expect(typedoc.treatWarningsAsErrors).toBe(true);
    expect(typedoc.validation.notDocumented).toBe(true);
    expect(typedoc.entryPoints).toEqual(['src/index.ts', 'src/crypto/node.ts', 'src/pkcs11/index.ts', 'src/ldap/index.ts']);
  });
});
