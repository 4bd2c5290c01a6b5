/**
 * The `smime` process raises glibc's mmap and trim thresholds before it runs (src/cli/malloc_tuning.ts), so that a
 * streamed command's buffers are reused from the heap instead of being mapped, given back and faulted in again.
 *
 * Observed from inside the process: a probe loaded with `--import` runs at exit, lets the collector free what was
 * dropped, then allocates 8 MiB (again every 50 ms, up to 3 s, while the collector may still be freeing) and looks
 * at the address ranges /proc/self/maps adds. With glibc's default thresholds (128 KiB) the 8 MiB are a mapping of
 * their own (exactly 8 MiB and one page for the chunk header); with the thresholds raised they come from the heap
 * (its brk area grows, or, when that cannot grow, glibc maps more heap with its 128 KiB pad: never that exact size).
 * The control, `node -e 0` under the same probe, shows the default, so the probe would see a bin that does not tune.
 * glibc only: elsewhere there is nothing to tune (skipped with a notice).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkBuilt, sh } from './_sh.js';

const glibc = process.platform === 'linux' && Boolean((process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime);
if (!glibc) console.warn('test/cli/malloc_tuning: not glibc on Linux, skipped (the tuning is glibc-specific)');

const PROBE = `
import { readFileSync } from 'node:fs';
process.on('exit', () => {
  globalThis.gc();
  // The address ranges mapped now, as [start, end) pairs.
  const ranges = () => readFileSync('/proc/self/maps', 'utf8').split('\\n').filter(Boolean).map((l) => l.split(' ')[0].split('-').map((h) => parseInt(h, 16)));
  // The lengths of the pieces of \`after\` not covered by \`before\` (a new mapping may merge with a neighbour).
  const added = (before, after) => {
    const out = [];
    for (const [a, b] of after) {
      let pieces = [[a, b]];
      for (const [c, d] of before) pieces = pieces.flatMap(([x, y]) => (d <= x || c >= y ? [[x, y]] : [...(c > x ? [[x, c]] : []), ...(d < y ? [[d, y]] : [])]));
      for (const [x, y] of pieces) out.push(y - x);
    }
    return out;
  };
  // The collector frees array buffers on a helper thread, late on a loaded machine: try again every 50 ms for up to
  // 3 s, until an allocation is not a mapping of its own. All are kept (freeing a mapped one would raise glibc's
  // threshold by itself).
  const held = [];
  let own = 0;
  while (held.length < 60 && own === held.length) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    const before = ranges();
    held.push(new ArrayBuffer(8 << 20));
    if (added(before, ranges()).includes((8 << 20) + 4096)) own++;
  }
  process._rawDebug('PROBE ' + JSON.stringify({ own, tries: held.length }));
});
`;

/**
 * How many of the probe's 8 MiB allocations at the end of the command were a mapping of their own (glibc maps such a
 * chunk as exactly the bytes and one page), and how many it made.
 */
function probed(err: string): { own: number; tries: number } {
  const m = /PROBE (\{.*\})/.exec(err);
  if (!m) throw new Error(`no probe output in: ${err}`);
  const r = JSON.parse(m[1]!) as { own: number; tries: number };
  expect(r.tries).toBeGreaterThan(0);
  return r;
}

describe.skipIf(!glibc)('smime raises glibc malloc thresholds for streaming', () => {
  let dir = '';
  beforeAll(() => {
    checkBuilt();
    dir = mkdtempSync(join(tmpdir(), 'smime-malloc-'));
    writeFileSync(join(dir, 'probe.mjs'), PROBE);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a plain Node process maps 8 MiB of its own (the control: glibc defaults)', async () => {
    const r = await sh('"$NODE" --expose-gc --import "$PROBE" -e 0', { PROBE: join(dir, 'probe.mjs') });
    expect(r.code).toBe(0);
    const p = probed(r.err);
    expect(p.own).toBe(p.tries);
  });

  it('the smime bin takes 8 MiB from its heap (thresholds raised)', async () => {
    const r = await sh(`"$NODE" --expose-gc --import "$PROBE" "$SMIME_JS" --version`, { PROBE: join(dir, 'probe.mjs') });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^smime /);
    const p = probed(r.err);
    expect(p.own).toBeLessThan(p.tries);
  });

  it('MALLOC_MMAP_THRESHOLD_ set by the caller is kept (glibc then leaves the thresholds alone)', async () => {
    const r = await sh(`"$NODE" --expose-gc --import "$PROBE" "$SMIME_JS" --version`, { PROBE: join(dir, 'probe.mjs'), MALLOC_MMAP_THRESHOLD_: '131072' });
    expect(r.code).toBe(0);
    const p = probed(r.err);
    expect(p.own).toBe(p.tries);
  });
});
