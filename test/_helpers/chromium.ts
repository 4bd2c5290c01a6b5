/**
 * Headless Chromium for the browser tests (Debian's `chromium`, driven by playwright-core): where it is, how it is
 * launched, and a local server's origin. With CI=true a missing Chromium is a failure, never a silent skip.
 */
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { IN_CI } from './env.js';

/** The Chromium executable, or undefined when it is not installed (outside CI only). */
export function findChromium(what: string): string | undefined {
  const path = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  if (!path) {
    if (IN_CI) throw new Error(`Chromium is not installed, and CI=true forbids skipping ${what}`);
    console.warn(`[smime-core tests] NOTICE: Chromium is not installed (Debian package chromium): ${what} skipped`);
  }
  return path;
}

/** Launches headless Chromium with the flags every browser test uses (no sandbox, no network side traffic). */
export async function launchChromium(executablePath: string) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Starts `server` on a free loopback port; returns its origin (`http://127.0.0.1:PORT`). */
export async function listenLocal(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
}
