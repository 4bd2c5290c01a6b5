/**
 * The `smime` process raises glibc's mmap and trim thresholds before it runs (src/cli/malloc_tuning.ts), so that a
 * streamed command's buffers are reused from the heap instead of being mapped, given back and faulted in again.
 *
 * Observed from inside the process: a probe loaded with `--import` runs at exit, lets the collector free what was
 * dropped, then allocates 8 MiB and looks at /proc/self/maps. With glibc's default thresholds (128 KiB) the 8 MiB
 * are a mapping of their own (8 MiB and one page for the chunk header); with the thresholds raised they come from the
 * heap. The control, `node -e 0` under the same probe, shows the default, so the probe would see a bin that does not
 * tune. glibc only: elsewhere there is nothing to tune (skipped with a notice).
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
  // The collector may free array buffers on a helper thread: give it a moment.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  const spans = () => new Set(readFileSync('/proc/self/maps', 'utf8').split('\\n').filter(Boolean).map((l) => l.split(' ')[0]));
  const before = spans();
  const held = new ArrayBuffer(8 << 20);
  const sizes = [...spans()].filter((s) => !before.has(s)).map((s) => {
    const [a, b] = s.split('-').map((h) => parseInt(h, 16));
    return b - a;
  });
  process._rawDebug('PROBE ' + JSON.stringify({ sizes, held: held.byteLength }));
});
`;

/** The new address ranges the probe saw when it allocated 8 MiB at the end of the command. */
function probed(err: string): number[] {
  const m = /PROBE (\{.*\})/.exec(err);
  if (!m) throw new Error(`no probe output in: ${err}`);
  const r = JSON.parse(m[1]!) as { sizes: number[]; held: number };
  expect(r.held).toBe(8 << 20);
  return r.sizes;
}

/** The size of a chunk glibc maps for 8 MiB: the bytes and one page (its header, rounded up). */
const OWN_MAPPING = (8 << 20) + 4096;

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
    expect(probed(r.err)).toContain(OWN_MAPPING);
  });

  it('the smime bin takes 8 MiB from its heap (thresholds raised)', async () => {
    const r = await sh(`"$NODE" --expose-gc --import "$PROBE" "$SMIME_JS" --version`, { PROBE: join(dir, 'probe.mjs') });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^smime /);
    expect(probed(r.err)).not.toContain(OWN_MAPPING);
  });

  it('MALLOC_MMAP_THRESHOLD_ set by the caller is kept (glibc then leaves the thresholds alone)', async () => {
    const r = await sh(`"$NODE" --expose-gc --import "$PROBE" "$SMIME_JS" --version`, { PROBE: join(dir, 'probe.mjs'), MALLOC_MMAP_THRESHOLD_: '131072' });
    expect(r.code).toBe(0);
    expect(probed(r.err)).toContain(OWN_MAPPING);
  });
});
