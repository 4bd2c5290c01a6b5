/**
 * Test environment helpers: where the shared public vectors are, and which interop peers are installed.
 * With CI=true a missing peer or missing ../shared is a failure, never a silent skip.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED_VECTORS = resolve(REPO, '..', 'shared', 'vectors');
export const VECTORS = join(REPO, 'vectors');
export const IN_CI = process.env.CI === 'true';

export function sharedAvailable(): boolean {
  const ok = existsSync(join(SHARED_VECTORS, 'INDEX.md'));
  if (!ok) {
    if (IN_CI) throw new Error('../shared/vectors is missing, and CI=true forbids skipping');
    console.warn('[smime-core tests] NOTICE: ../shared/vectors is absent: public-vector tests are skipped');
  }
  return ok;
}

export function shared(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(join(SHARED_VECTORS, rel)));
}

export function vector(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(join(VECTORS, rel)));
}

const peerCache = new Map<string, boolean>();

/** True when `cmd` runs. With CI=true a missing peer throws; elsewhere it prints a visible notice. */
export function hasPeer(cmd: string, args: string[] = ['--version']): boolean {
  let ok = peerCache.get(cmd);
  if (ok === undefined) {
    const r = spawnSync(cmd, args, { stdio: 'ignore' });
    ok = r.error === undefined;
    peerCache.set(cmd, ok);
    if (!ok) {
      if (IN_CI) throw new Error(`interop peer "${cmd}" is not installed, and CI=true forbids skipping`);
      console.warn(`[smime-core tests] NOTICE: "${cmd}" is not installed: its interop tests are skipped`);
    }
  }
  return ok;
}

export function tmp(prefix = 'smime-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Runs a command and returns stdout as bytes; throws with stderr on a non-zero exit. */
export function run(cmd: string, args: string[], input?: Uint8Array | string): Uint8Array {
  return new Uint8Array(execFileSync(cmd, args, { input, maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'pipe'] }));
}

/** Runs a command and returns { status, stdout, stderr } without throwing. */
export function tryRun(cmd: string, args: string[], input?: Uint8Array | string) {
  const r = spawnSync(cmd, args, { input, maxBuffer: 1 << 30 });
  return { status: r.status, stdout: new Uint8Array(r.stdout ?? []), stderr: String(r.stderr ?? '') };
}

/**
 * How much more peak RSS the streaming memory tests allow on this Node: 1 on Node 20, where the issue 16 bounds
 * (64 MiB above the baseline, flat against a 16 MiB run) were measured and are met; 2.5 on Node 22 and 4 on Node 24
 * and later, whose V8 sizes the heap more generously and lets more short-lived garbage gather before collecting
 * (measured on the same VM for 256 MiB: Node 22 65–101 MiB above the baseline and 18–35 MiB above the 16 MiB run,
 * Node 24 up to 101 MiB and 42–63 MiB, from run to run). Why Node 24 grows more is not yet understood (issue 16's
 * note). The bounds still fail a stream that keeps what it reads (256 MiB more data would cost 256 MiB more).
 */
export const RSS_SLACK = ((major) => (major >= 24 ? 4 : major >= 22 ? 2.5 : 1))(Number(process.versions.node.split('.')[0]));
