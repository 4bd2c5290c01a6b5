// The long fuzz run (`npm run fuzz`): runs test/fuzz/long.fuzz.ts through vitest (the targets are TypeScript, and
// vitest already compiles them for the tests), one target after another, each for --runs cases (default 100 000)
// or --minutes minutes (default 20), whichever ends first. Failing inputs, and inputs slower than 2 s, are written
// to test/fuzz/corpus/ (target + short hash; a stream target's pieces beside it in a .pieces.json);
// test/fuzz/corpus.test.ts replays them in every `npm test`. A case made
// from a public vector of ../shared is written to the system's temporary folder instead (smime-fuzz-corpus-shared):
// the public vectors are never copied into the repository, so reproduce it from a vectors/ seed before committing.
// FUZZ_SHARED_VECTORS=<path> points at the public vectors when ../shared is not beside the checkout.
//
//   npm run fuzz -- [--runs N] [--minutes M] [--target NAME[,NAME…]] [--seed S]
//
// Targets: decrypt, verify, open, pkcs12, certificate, crl, mime, decryptStream, verifyStream, openStream (the
// streams on the seeds of their buffer function, compared with it where both succeed). The seed is printed, so a run can be repeated.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startVitest } from 'vitest/node';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opts = { runs: '100000', minutes: '20', target: '', seed: String(Date.now() % 0x7fffffff) };
for (let i = 0; i < args.length; i++) {
  const m = /^--(runs|minutes|target|seed)(?:=(.*))?$/.exec(args[i]);
  if (!m) {
    console.error(`fuzz: unknown argument ${args[i]}\nusage: npm run fuzz -- [--runs N] [--minutes M] [--target NAME[,NAME…]] [--seed S]\ntargets: decrypt, verify, open, pkcs12, certificate, crl, mime, decryptStream, verifyStream, openStream`);
    process.exit(2);
  }
  opts[m[1]] = m[2] ?? args[++i] ?? '';
}
for (const k of ['runs', 'minutes', 'seed']) {
  if (!(Number(opts[k]) > 0)) {
    console.error(`fuzz: --${k} must be a positive number, got "${opts[k]}"`);
    process.exit(2);
  }
}

console.log(`fuzz: ${opts.runs} runs, at most ${opts.minutes} min per target${opts.target ? `, target ${opts.target}` : ''}, seed ${opts.seed}`);
Object.assign(process.env, {
  FUZZ_RUNS: opts.runs,
  FUZZ_MINUTES: opts.minutes,
  FUZZ_TARGET: opts.target,
  FUZZ_SEED: opts.seed,
});
// long.fuzz.ts is not a *.test.ts file, so `npm test` never collects it; here it is the only file included.
const vitest = await startVitest('test', [], { root: repo, include: ['test/fuzz/long.fuzz.ts'], watch: false, fileParallelism: false });
await vitest?.close();
process.exit(process.exitCode ?? (vitest?.state.getCountOfFailedTests() ? 1 : 0));
