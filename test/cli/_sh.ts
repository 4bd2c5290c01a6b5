/**
 * Runs the BUILT `smime` bin (dist/cli/smime.js) in `sh -c` pipelines for the CLI tests: paths go in environment
 * variables (no quoting), `S` runs the bin, `$SLOW` is a slow writer of `$MSG` (nothing for 0.3 s, the first
 * 1000 bytes, then the rest 0.2 s later), so stdin is read from a pipe whose writer is slow, as in pipeline.test.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { referenceClockEnv } from '../_helpers/clock.js';
import { REPO } from '../_helpers/env.js';

/** The built bin. */
export const SMIME_JS = join(REPO, 'dist', 'cli', 'smime.js');

/** The bin in a script: `${S} verify …`. */
export const S = '"$NODE" "$SMIME_JS"';

/** The slow writer of $MSG. */
export const SLOW = '(sleep 0.3; head -c 1000 "$MSG"; sleep 0.2; tail -c +1001 "$MSG")';

/** What a run gave. */
export interface Run {
  code: number | null;
  out: Uint8Array;
  stdout: string;
  err: string;
}

/** Throws unless dist/cli/smime.js exists and is newer than every file of src/cli (run `npm run build`). */
export function checkBuilt(): void {
  if (!existsSync(SMIME_JS)) throw new Error('dist/cli/smime.js is missing: run `npm run build` first');
  const built = statSync(SMIME_JS).mtimeMs;
  for (const dir of ['src/cli', 'src']) {
    for (const f of readdirSync(join(REPO, dir))) {
      const p = join(REPO, dir, f);
      if (f.endsWith('.ts') && statSync(p).mtimeMs > built) throw new Error(`dist/cli/smime.js is older than ${dir}/${f}: run \`npm run build\``);
    }
  }
}

/**
 * Runs a `sh -c` script with $NODE and $SMIME_JS (see `S`) and the given variables; killed after 60 s. The `node`
 * processes of the script start their clock at the sample identities' reference date (see test/_helpers/clock.ts),
 * so the bin judges vectors/ as on that day; `{ SMIME_TEST_CLOCK: '' }` leaves them the real clock.
 */
export function sh(script: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn('sh', ['-c', script], {
      env: { ...process.env, NODE: process.execPath, SMIME_JS, ...referenceClockEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      const o = Buffer.concat(out);
      resolve({ code, out: new Uint8Array(o), stdout: o.toString('utf8'), err: Buffer.concat(err).toString('utf8') });
    });
  });
}
