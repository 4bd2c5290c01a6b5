/**
 * The short fuzz pass that `npm test` runs: a fixed fast-check seed and a few hundred mutated real inputs per
 * target (reproducible: the same cases every run), checked with the fuzz property (_targets.ts `runCase`). A known
 * finding (another part of issue 10 is fixing it) is logged, not failed; any other violation fails the target,
 * with the seed file and the plan that rebuilds the input. Timing is never asserted here (the long runner,
 * scripts/fuzz.mjs, flags slow cases).
 */
import { describe, expect, it } from 'vitest';
import { fuzzTarget, summary } from './_fuzz.js';
import { TARGET_NAMES, type TargetName } from './_seeds.js';

/** The fixed seed of the short pass. */
const SEED = 20261129;
/**
 * Cases per target: sized so the ten targets together stay under a minute on a 2-core machine (the three stream
 * targets add about 8 s: each case is the stream and, when it succeeds, its buffer function).
 */
const RUNS: Record<TargetName, number> = { decrypt: 300, verify: 300, open: 300, pkcs12: 200, certificate: 400, crl: 300, mime: 600, decryptStream: 800, verifyStream: 800, openStream: 800 };

describe('short fuzz pass', () => {
  for (const t of TARGET_NAMES) {
    it(`${t}: ${RUNS[t]} mutated real inputs settle with a result or a SmimeError, input untouched`, async () => {
      const s = await fuzzTarget(t, { runs: RUNS[t], seed: SEED });
      console.log(`[fuzz] ${summary(s)}`);
      expect(s.cases).toBe(RUNS[t]);
      for (const f of s.findings.filter((x) => x.kind === 'known')) console.warn(`[fuzz] known finding still open: ${f.message}`);
      const failures = s.findings.filter((f) => f.kind === 'failure');
      expect(failures.map((f) => `${f.message} (seed ${f.seedName}, plan ${JSON.stringify(f.plan)})\n${f.stack}`)).toEqual([]);
    });
  }
});
