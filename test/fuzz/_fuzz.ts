/**
 * The fuzz loop shared by the short pass (short.test.ts) and the long runner (long.fuzz.ts, scripts/fuzz.mjs):
 * fast-check draws plans from a fixed seed (so a pass is reproducible), each plan mutates a real seed, and the
 * case is checked by `runCase`. A failure does not stop the loop: it is recorded once per kind (error class, message
 * and top stack frame), a known finding apart, so one run reports every distinct problem it met. Cases slower than
 * `slowMs` are flagged here, in the runner, never by a test assertion.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { applyPlan, planArb, type Plan } from './_mutators.js';
import { isStreamTarget, loadSeeds, type TargetName } from './_seeds.js';
import { PropertyViolation, knownFinding, runCase, stackOf, targetContext, type KnownFinding } from './_targets.js';

/** The corpus file that names the finding of each `.known` entry. */
export const KNOWN_INDEX = 'KNOWN.json';

export interface FuzzOptions {
  runs: number;
  /** fast-check seed. */
  seed: number;
  /** Stop after this long (ms), whatever the runs. */
  timeLimitMs?: number;
  /** Flag cases slower than this (ms). Default 2000. */
  slowMs?: number;
  /** Write failing and slow inputs to this folder (the long runner); the short pass writes nothing. */
  corpusDir?: string;
}

export interface Finding {
  kind: 'failure' | 'known' | 'slow';
  message: string;
  /** The first lines of the stack of the original error. */
  stack: string;
  plan: Plan;
  seedName: string;
  file?: string;
  ms?: number;
}

export interface FuzzStats {
  target: TargetName;
  cases: number;
  results: number;
  errors: Record<string, number>;
  ms: number;
  findings: Finding[];
}

/** A short hash of the input (corpus file names). */
export function shortHash(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex').slice(0, 12);
}

function signature(v: PropertyViolation): string {
  const frame = stackOf(v)
    .split('\n')
    .find((l) => /\/src\//.test(l));
  const name = v.error instanceof Error ? v.error.name : 'none';
  return `${name}|${v.message.replace(/\d+/g, 'N').slice(0, 120)}|${frame?.replace(/:\d+:\d+\)?$/, '') ?? ''}`;
}

/** Fuzzes one target. */
export async function fuzzTarget(target: TargetName, o: FuzzOptions): Promise<FuzzStats> {
  const seeds = (await loadSeeds())[target];
  if (seeds.length === 0) throw new Error(`fuzz: no seeds for ${target}`);
  const ctx = await targetContext();
  const stats: FuzzStats = { target, cases: 0, results: 0, errors: {}, ms: 0, findings: [] };
  const seen = new Set<string>();
  const slowMs = o.slowMs ?? 2000;
  const t0 = performance.now();
  // The long runner keeps the case in progress in a file: if a case hangs the process (a synchronous endless
  // loop), that file is the input to save in the corpus.
  const inflight = o.corpusDir ? join(tmpdir(), `smime-fuzz-inflight-${target}.bin`) : undefined;
  if (inflight) console.log(`[fuzz] ${target}: the case in progress is kept in ${inflight}`);

  const save = (input: Uint8Array, known: KnownFinding | 'slow' | undefined, fromShared: boolean, password?: string, plan?: Plan): string | undefined => {
    if (!o.corpusDir) return undefined;
    // A case made from a public vector (../shared) is that vector, nearly: it never goes into the repository. It is
    // written outside it, to be reproduced from a seed of vectors/ (or by hand) before it joins the corpus.
    const dir = fromShared ? join(tmpdir(), 'smime-fuzz-corpus-shared') : o.corpusDir;
    mkdirSync(dir, { recursive: true });
    const index = join(dir, KNOWN_INDEX);
    const all: Record<string, string> = existsSync(index) ? JSON.parse(readFileSync(index, 'utf8')) : {};
    if (known && known !== 'slow') {
      // One case per known finding and target is enough: the finding is being fixed.
      const had = Object.keys(all).find((f) => f.startsWith(`${target}-`) && all[f]!.startsWith(`${known.id}:`));
      if (had) return had;
    }
    const file = `${target}-${shortHash(input)}.bin${known === 'slow' ? '.slow' : known ? '.known' : ''}`;
    writeFileSync(join(dir, file), input);
    if (password !== undefined && password !== ctx.password) writeFileSync(join(dir, `${target}-${shortHash(input)}.pw`), password);
    // A stream target's pieces, so the replay cuts the input where the fuzzer did.
    if (plan?.pieces) writeFileSync(join(dir, `${target}-${shortHash(input)}.pieces.json`), JSON.stringify(plan.pieces) + '\n');
    if (known && known !== 'slow') {
      all[file] = `${known.id}: ${known.finding}`;
      writeFileSync(index, JSON.stringify(all, Object.keys(all).sort(), 2) + '\n');
    }
    return fromShared ? join(dir, file) : file;
  };

  await fc.assert(
    fc.asyncProperty(planArb(seeds.length, isStreamTarget(target)), async (plan) => {
      const input = applyPlan(seeds, plan);
      const seed = seeds[plan.seed]!;
      const fromShared = seed.name.startsWith('shared/');
      const cctx = seed.password !== undefined ? { ...ctx, password: seed.password } : ctx;
      stats.cases++;
      if (inflight) writeFileSync(inflight, input);
      const c0 = performance.now();
      try {
        const r = await runCase(target, input, cctx, plan);
        if (r.outcome === 'result') stats.results++;
        else stats.errors[r.code!] = (stats.errors[r.code!] ?? 0) + 1;
        if (r.ms > slowMs) {
          stats.findings.push({ kind: 'slow', message: `${target}: ${Math.round(r.ms)} ms`, stack: '', plan, seedName: seed.name, ms: r.ms, file: save(input, 'slow', fromShared, seed.password, plan) });
        }
      } catch (v) {
        if (!(v instanceof PropertyViolation)) throw v;
        const sig = signature(v);
        if (seen.has(sig)) return;
        seen.add(sig);
        const known = knownFinding(v);
        stats.findings.push({
          kind: known ? 'known' : 'failure',
          message: known ? `${known.id}: ${v.message}` : v.message,
          stack: stackOf(v).split('\n').slice(0, 8).join('\n'),
          plan,
          seedName: seed.name,
          ms: performance.now() - c0,
          file: save(input, known, fromShared, seed.password, plan),
        });
      }
    }),
    { seed: o.seed, numRuns: o.runs, interruptAfterTimeLimit: o.timeLimitMs, markInterruptAsFailure: false, endOnFailure: true },
  );
  stats.ms = performance.now() - t0;
  return stats;
}

/** One line per target for logs. */
export function summary(s: FuzzStats): string {
  const rate = s.ms > 0 ? ((s.cases * 1000) / s.ms).toFixed(1) : '-';
  const errs = Object.entries(s.errors)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k.replace(/^ERR_/, '')}:${v}`)
    .join(' ');
  const f = (k: Finding['kind']) => s.findings.filter((x) => x.kind === k).length;
  return `${s.target}: ${s.cases} cases in ${(s.ms / 1000).toFixed(1)} s (${rate}/s); results ${s.results}; errors ${errs}; failures ${f('failure')}, known ${f('known')}, slow ${f('slow')}`;
}
