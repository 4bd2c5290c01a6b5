/**
 * The long fuzz pass, run by scripts/fuzz.mjs (`npm run fuzz`). Not a *.test.ts file: `npm test` never collects it
 * (the short pass, short.test.ts, is the one it runs). FUZZ_RUNS cases per target (default 100 000), at most
 * FUZZ_MINUTES per target, FUZZ_TARGET to pick targets, FUZZ_SEED for the sequence; failing and slow (> 2 s)
 * inputs go to test/fuzz/corpus/, where corpus.test.ts replays them.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fuzzTarget, summary } from './_fuzz.js';
import { TARGET_NAMES, type TargetName } from './_seeds.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 100_000);
const MINUTES = Number(process.env.FUZZ_MINUTES ?? 20);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 0x7fffffff);
const ONLY = process.env.FUZZ_TARGET;
const CORPUS = join(dirname(fileURLToPath(import.meta.url)), 'corpus');
const targets = TARGET_NAMES.filter((t) => !ONLY || ONLY.split(',').includes(t));

describe('long fuzz pass', () => {
  it('knows the target it was asked for', () => {
    expect(targets.length, `unknown FUZZ_TARGET ${ONLY}; targets: ${TARGET_NAMES.join(', ')}`).toBeGreaterThan(0);
  });
  for (const t of targets as TargetName[]) {
    it(
      t,
      async () => {
        const s = await fuzzTarget(t, { runs: RUNS, seed: SEED, timeLimitMs: MINUTES * 60_000, corpusDir: CORPUS });
        console.log(`[fuzz] seed ${SEED} ${summary(s)}`);
        for (const f of s.findings) console.log(`[fuzz] ${f.kind} ${t} ${f.file ?? ''} (seed file ${f.seedName}): ${f.message}\n${f.stack}`);
        expect(s.findings.filter((f) => f.kind === 'failure').map((f) => `${f.file}: ${f.message}`)).toEqual([]);
      },
      MINUTES * 60_000 + 120_000,
    );
  }
});
