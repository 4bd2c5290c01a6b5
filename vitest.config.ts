import { availableParallelism } from 'node:os';
import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that took longest in a full run (seconds, one worker, 2 cores, before the tests were made cheaper), for
 * the first run on a machine without vitest's results cache (a fresh CI checkout): started first, so that no long
 * file starts last and runs alone. With a cache, the durations it recorded come first. Approximate: a file missing
 * here only starts later.
 */
const SLOW_FILES: Record<string, number> = {
  'test/interop/matrix-outbound.test.ts': 24,
  'test/cli/pipeline.test.ts': 28,
  'test/crypto/rsa.test.ts': 24,
  'test/cli/conventions.test.ts': 20,
  'test/cli/store.test.ts': 19,
  'test/cms/compressed.test.ts': 13,
  'test/cli/pkcs11_token.test.ts': 11,
  'test/lib/ber_stream.test.ts': 10,
  'test/package/tarball.test.ts': 10,
  'test/browser/chromium.test.ts': 9,
  'test/examples/examples.test.ts': 9,
  'test/security/non_der_attrs.test.ts': 9,
  'test/certs/crl_lazy.test.ts': 9,
  'test/api/import_message.test.ts': 8,
  'test/interop/compressed.test.ts': 8,
  'test/path/online_revocation.test.ts': 8,
};

/** Longest first: the duration vitest's cache recorded, else SLOW_FILES, else after those (in vitest's order). */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const ms = (f: TestSpecification): number => {
      const path = relative(this.ctx.config.root, f.moduleId).replaceAll('\\', '/');
      const cached = this.ctx.cache.getFileTestResults(`${f.project.name}:${path}`);
      if (cached && !cached.failed) return cached.duration;
      return (SLOW_FILES[path] ?? 0) * 1000;
    };
    const rank = new Map(sorted.map((f, i) => [f, { ms: ms(f), i }]));
    return sorted.sort((a, b) => rank.get(b)!.ms - rank.get(a)!.ms || rank.get(a)!.i - rank.get(b)!.i);
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // vitest's default in `run` mode is one worker fewer than the cores: ONE worker on a 2-core CI runner, which
    // leaves a core idle whenever a test computes. Most files also wait on child processes (the CLI, the peers).
    maxWorkers: Math.max(2, availableParallelism()),
    sequence: { sequencer: LongestFirst },
  },
});
