/**
 * The `smime` process raises glibc's mmap and trim thresholds before it runs (src/cli/malloc_tuning.ts), so that a
 * streamed command's buffers are reused from the heap instead of being mapped, given back and faulted in again.
 *
 * Observed from inside the process: a probe loaded with `--import` runs at exit, lets the collector free what was
 * dropped, then allocates 8 MiB (again every 50 ms, up to 3 s, while the collector may still be freeing) and counts
 * the bytes /proc/self/maps shows outside the brk heap. With glibc's default thresholds (128 KiB) the 8 MiB are a
 * mapping of their own (8 MiB and one page for the chunk header); with the thresholds raised they come from the heap.
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
  // Bytes in mappings other than the brk heap (an adjacent mapping may merge with a new one: count bytes, not lines).
  const mapped = () => readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => l && !l.endsWith('[heap]')).reduce((n, l) => {
    const [a, b] = l.split(' ')[0].split('-').map((h) => parseInt(h, 16));
    return n + (b - a);
  }, 0);
  // The collector frees array buffers on a helper thread, late on a loaded machine: try again every 50 ms for up to
  // 3 s. The 8 MiB allocations are all kept (freeing a mapped one would raise glibc's threshold by itself).
  const held = [];
  let least = Infinity;
  while (held.length < 60 && least >= 8 << 20) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    const before = mapped();
    held.push(new ArrayBuffer(8 << 20));
    least = Math.min(least, mapped() - before);
  }
  process._rawDebug('PROBE ' + JSON.stringify({ mapped: least, tries: held.length }));
});
`;

/** The fewest bytes newly mapped outside the brk heap by one of the probe's 8 MiB allocations at the end of the command. */
function probed(err: string): number {
  const m = /PROBE (\{.*\})/.exec(err);
  if (!m) throw new Error(`no probe output in: ${err}`);
  const r = JSON.parse(m[1]!) as { mapped: number; tries: number };
  expect(r.tries).toBeGreaterThan(0);
  return r.mapped;
}

/** 8 MiB: what glibc maps for the allocation when it is a mapping of its own (the bytes and a page more). */
const OWN_MAPPING = 8 << 20;

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
    expect(probed(r.err)).toBeGreaterThanOrEqual(OWN_MAPPING);
  });

  it('the smime bin takes 8 MiB from its heap (thresholds raised)', async () => {
    const r = await sh(`"$NODE" --expose-gc --import "$PROBE" "$SMIME_JS" --version`, { PROBE: join(dir, 'probe.mjs') });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^smime /);
    expect(probed(r.err)).toBeLessThan(OWN_MAPPING);
  });

  it('MALLOC_MMAP_THRESHOLD_ set by the caller is kept (glibc then leaves the thresholds alone)', async () => {
    const r = await sh(`"$NODE" --expose-gc --import "$PROBE" "$SMIME_JS" --version`, { PROBE: join(dir, 'probe.mjs'), MALLOC_MMAP_THRESHOLD_: '131072' });
    expect(r.code).toBe(0);
    expect(probed(r.err)).toBeGreaterThanOrEqual(OWN_MAPPING);
  });
});
