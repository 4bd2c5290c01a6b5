/**
 * Headless Chromium for the browser tests (Debian's `chromium`, driven by playwright-core): where it is, how it is
 * launched, a local server's origin, and a page run against the bundled library. With CI=true a missing Chromium
 * is a failure, never a silent skip.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IN_CI, REPO } from './env.js';

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

/**
 * The start of a page module (a string: the test runner must not transform its `import`): the library as `m`, `get`
 * and `text` of a served file, and `piecesOf(bytes)`, a stream of them in pieces of 7 KB.
 */
export const PAGE_PRELUDE = String.raw`
import * as m from '/smime.js';
const get = async (p) => new Uint8Array(await (await fetch(p)).arrayBuffer());
const text = async (p) => (await fetch(p)).text();
/** A stream of bytes in pieces of 7 KB. */
function piecesOf(bytes) {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close();
      c.enqueue(bytes.slice(at, at + 7000));
      at += 7000;
    },
  });
}
`;

/** A file the page may fetch: its content type and bytes. */
export type ServedFile = [contentType: string, body: Uint8Array | string];

/** What {@link runPageInChromium} leaves behind: the page's result, the bundle's code, and the clean-up. */
export interface PageRun {
  /** What the page module's `run(arg)` resolved to (structured-cloned out of the page). */
  result: Record<string, unknown>;
  /** The bundled library (smime.js) as served. */
  bundle: string;
  /** Removes the bundle's directory and stops the server. */
  close(): void;
}

/**
 * Bundles the package's browser entry (dist/index.js; run `npm run build` first) with Vite, serves it as /smime.js
 * (with its chunks) beside `pageModule` (/page.js, exporting `run(arg)`) and `files` on a loopback server, loads it
 * in headless Chromium and returns what `run(arg)` resolved to. An uncaught error in the page fails the call.
 */
export async function runPageInChromium(executablePath: string, pageModule: string, files: Record<string, ServedFile>, arg: unknown): Promise<PageRun> {
  const dir = mkdtempSync(join(tmpdir(), 'smime-browser-'));
  let server: Server | undefined;
  const close = () => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const { build } = await import('vite');
    await build({
      configFile: false,
      logLevel: 'silent',
      root: REPO,
      build: {
        lib: { entry: join(REPO, 'dist', 'index.js'), formats: ['es'], fileName: () => 'smime.js' },
        outDir: dir,
        emptyOutDir: true,
        minify: false,
        target: 'es2022',
      },
    });
    const served: Record<string, ServedFile> = {
      '/': ['text/html', '<!doctype html><title>smime-core</title>'],
      '/page.js': ['text/javascript', pageModule],
      ...files,
    };
    // The bundle and its chunks (ChaCha20-Poly1305 is loaded on first use).
    for (const f of readdirSync(dir)) served[`/${f}`] = ['text/javascript', readFileSync(join(dir, f))];
    const srv = createServer((req, res) => {
      const f = served[req.url ?? ''];
      if (!f) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': f[0] }).end(f[1]);
    });
    server = srv;
    const origin = await listenLocal(srv);
    const browser = await launchChromium(executablePath);
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(origin + '/');
      const result = (await page.evaluate(`import('/page.js').then((p) => p.run(${JSON.stringify(arg)}))`)) as Record<string, unknown>;
      if (errors.length) throw new Error(`errors in the page: ${errors.join('; ')}`);
      return { result, bundle: readFileSync(join(dir, 'smime.js'), 'utf8'), close };
    } finally {
      await browser.close();
    }
  } catch (e) {
    close();
    throw e;
  }
}
