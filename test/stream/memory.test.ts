/**
 * encryptStream and decryptStream run in bounded memory: a child process streams 256 MiB through encryptStream (and,
 * second test, through encryptStream then decryptStream) into a counting sink, and its
 * peak RSS (process.resourceUsage().maxRSS, not an address-space cap, which breaks V8) stays within 64 MiB of its
 * baseline after a warm-up — the issue 16 bound, whatever the size (a 16 MiB run is measured too, for comparison).
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { manifest, PASSWORD } from '../_helpers/identities.js';
import { referenceClockEnv } from '../_helpers/clock.js';
import { VECTORS, rssBoundKiB } from '../_helpers/env.js';

const here = dirname(fileURLToPath(import.meta.url));
let dir: string;
let child: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'smime-rss-'));
  child = join(dir, 'child.mjs');
  await build({
    entryPoints: [join(here, '_rss_child.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: child,
    external: ['pkcs11js', 'ldapts'],
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    logLevel: 'silent',
  });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function measure(mib: number, mode = 'encrypt'): { baselineKiB: number; peakKiB: number; bytesOut: number } {
  const bob = manifest.identities.bob!;
  // The child's clock starts at the reference date (test/_helpers/clock.ts): Bob's certificate is chosen as on that day.
  const out = execFileSync(process.execPath, [child, join(VECTORS, bob.p12), PASSWORD, bob.email, String(mib), mode], { encoding: 'utf8', env: { ...process.env, ...referenceClockEnv() } });
  return JSON.parse(out.trim().split('\n').pop()!);
}

describe('encryptStream memory', () => {
  it('256 MiB through encryptStream: peak RSS within 64 MiB of the baseline', () => {
    const small = measure(16);
    const big = measure(256);
    console.log(JSON.stringify({ small, big }));
    // The output is the base64 of the BER: about 4/3 of the input plus line ends.
    expect(big.bytesOut).toBeGreaterThan(256 * 2 ** 20 * 1.35);
    expect(big.peakKiB - big.baselineKiB).toBeLessThan(rssBoundKiB(64));
    // Flat: 16 times the input costs at most what dead chunks not yet collected take (16–21 MiB seen on Node 20
    // with another test file running beside it); holding the input or the output would take 240 MiB and more.
    expect(big.peakKiB - small.peakKiB).toBeLessThan(rssBoundKiB(32));
  });
});

describe('decryptStream memory', () => {
  it('256 MiB through encryptStream then decryptStream, chained in one process: peak RSS within 64 MiB of the baseline', () => {
    const small = measure(16, 'roundtrip');
    const big = measure(256, 'roundtrip');
    console.log(JSON.stringify({ small, big }));
    // The content comes back whole: the entity is the header and 256 MiB of body.
    expect(big.bytesOut).toBeGreaterThan(256 * 2 ** 20);
    expect(big.bytesOut).toBeLessThan(256 * 2 ** 20 + 1024);
    // Two stream functions chained in one process (Node 20: 38 MiB above the baseline); rssBoundKiB on Node 22+.
    expect(big.peakKiB - big.baselineKiB).toBeLessThan(rssBoundKiB(64));
    // Flat: 16 times the input costs at most what dead chunks not yet collected take (16–21 MiB seen on Node 20
    // with another test file running beside it); holding the input or the output would take 240 MiB and more.
    expect(big.peakKiB - small.peakKiB).toBeLessThan(rssBoundKiB(32));
  });
});
