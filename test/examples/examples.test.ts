/**
 * The runnable examples of examples/, run as a user runs them: the package is packed (`npm pack`) and its tarball
 * unpacked into the node_modules of a copy of examples/ in a temporary folder, so each example imports `smime-core`
 * from node_modules as an application does, and gets only what the tarball ships. The Node examples (ESM, CommonJS,
 * a mail server's folder of .eml files, composing with mimetext) are run and their output checked; the browser
 * example is built with Vite, served on 127.0.0.1 and driven in headless Chromium (playwright-core, as
 * test/browser/chromium.test.ts does): a .p12 is chosen in its file input, then encrypt, decrypt, sign and verify
 * are clicked and the results read from the page.
 * `npm test` builds first (pretest), so dist/ is current.
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, tmp, VECTORS } from '../_helpers/env.js';
import { manifest, PASSWORD, REFERENCE_DATE } from '../_helpers/identities.js';
import { findChromium, launchChromium, listenLocal } from '../_helpers/chromium.js';

const CHROMIUM = findChromium('the browser example is');

let dir = '';
let app = '';

/** The Node examples' runs, started together once the copy is ready: each resolves to its standard output. */
const runs = new Map<string, Promise<string>>();

/** Starts one Node example from the installed copy (a non-zero exit rejects, with its standard error). */
function start(file: string, ...args: string[]): void {
  const run = new Promise<string>((resolve, reject) => {
    execFile('node', [file, ...args], { cwd: app, encoding: 'utf8' }, (err, stdout, stderr) => (err ? reject(new Error(`${file}: ${err.message}\n${stderr}`)) : resolve(stdout)));
  });
  run.catch(() => {}); // reported by the test that awaits it, not as an unhandled rejection before that
  runs.set(file, run);
}

/** The standard output of a Node example started by `start`. */
const example = (file: string): Promise<string> => runs.get(file)!;

beforeAll(() => {
  if (!existsSync(join(REPO, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  dir = tmp('smime-examples-');
  const json = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: REPO, encoding: 'utf8' });
  const tarball = join(dir, (JSON.parse(json) as { filename: string }[])[0]!.filename);
  app = join(dir, 'examples');
  cpSync(join(REPO, 'examples'), app, { recursive: true, filter: (src) => !/[\\/](node_modules|dist)$/.test(src) });
  // smime-core is unpacked from its tarball into node_modules, as `npm install <tarball>` puts it. Its declared
  // dependencies and the examples' own (mimetext) are linked to the checkout's installed copies instead of installed
  // again (test/package/tarball.test.ts does the full install): an import of anything undeclared fails.
  const modules = join(app, 'node_modules');
  mkdirSync(modules);
  execFileSync('tar', ['-xzf', tarball, '-C', dir]);
  renameSync(join(dir, 'package'), join(modules, 'smime-core'));
  const deps = (file: string) => Object.keys((JSON.parse(readFileSync(file, 'utf8')) as { dependencies: Record<string, string> }).dependencies);
  for (const dep of [...deps(join(modules, 'smime-core', 'package.json')), ...deps(join(app, 'package.json'))]) {
    if (dep === 'smime-core') continue;
    mkdirSync(dirname(join(modules, dep)), { recursive: true });
    symlinkSync(join(REPO, 'node_modules', dep), join(modules, dep), 'dir');
  }
  // The Node examples run in the background while the browser example is built and driven.
  start('node-esm/index.mjs', VECTORS);
  start('node-cjs/index.cjs', VECTORS);
  start('server-folder/index.mjs', join(VECTORS, 'openssl'), VECTORS);
  start('compose-mimetext/index.mjs', VECTORS, join(dir, 'composed.eml'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!CHROMIUM)('examples/browser in headless Chromium', () => {
  let server: Server;
  let origin = '';
  const status: Record<string, string> = {};
  const output: Record<string, string> = {};
  let identity = '';

  beforeAll(async () => {
    const site = join(dir, 'site');
    const { build } = await import('vite');
    await build({ configFile: false, logLevel: 'silent', root: join(app, 'browser'), build: { outDir: site, emptyOutDir: true } });
    const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
    server = createServer((req, res) => {
      const path = normalize(join(site, new URL(req.url ?? '/', 'http://x').pathname));
      const file = path.endsWith(sep) ? join(path, 'index.html') : path;
      if (!file.startsWith(site + sep) || !existsSync(file) || lstatSync(file).isDirectory()) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
    });
    origin = await listenLocal(server);

    const browser = await launchChromium(CHROMIUM!);
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      // The page is an application: its stores use the browser's clock, which reads the reference date here, so
      // Bob's certificate (until 2029-01-01) is judged as on that day whenever the test runs.
      await page.clock.setFixedTime(REFERENCE_DATE);
      await page.goto(origin + '/');
      /** Clicks a button of the page and waits for its step to finish; returns the #status line and the #output. */
      const click = async (button: string) => {
        await page.click(`#${button}`);
        await page.waitForFunction(() => {
          const s = document.getElementById('status')!.textContent ?? '';
          return s !== '' && !s.endsWith('…');
        });
        status[button] = (await page.textContent('#status'))!;
        output[button] = await page.inputValue('#output');
        await page.evaluate(() => (document.getElementById('status')!.textContent = ''));
      };
      await page.setInputFiles('#p12', join(VECTORS, manifest.identities.bob!.p12));
      await page.fill('#password', PASSWORD);
      await page.setInputFiles('#anchor', join(VECTORS, 'pki', 'root-ca.cert.pem'));
      await page.fill('#email', 'bob@example.com');
      await click('import');
      identity = (await page.textContent('#identity'))!;
      for (const b of ['encrypt', 'decrypt', 'sign', 'verify']) await click(b);
      // A changed byte in the signed text: the same page says "invalid".
      await page.$eval('#output', (el, v) => ((el as HTMLTextAreaElement).value = v), output.sign!.replace('Hello from the browser.', 'Hello from the browsex.'));
      const verified = status.verify!;
      await click('verify');
      status.tampered = status.verify!;
      status.verify = verified;
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);

  afterAll(() => {
    server?.close();
  });

  it('imports the PKCS#12 chosen in the file input, and the trust anchor', () => {
    expect(status.import).toBe('imported: 1 identity, 1 trust anchor');
    expect(identity).toBe('C=US, O=smime-core demo, CN=Bob Example (until 2029-01-01)');
  });

  it('encrypts to the identity’s address and decrypts it back', () => {
    expect(status.encrypt).toMatch(/^encrypted: \d+ bytes to bob@example.com$/);
    expect(output.encrypt).toContain('Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"');
    expect(status.decrypt).toBe('decrypted: aes-256-cbc, not authenticated');
    // (A textarea gives its value with LF line ends.)
    expect(output.decrypt).toBe('Content-Type: text/plain; charset=utf-8\n\nHello from the browser.\n');
  });

  it('signs and verifies (valid); a changed byte makes it invalid', () => {
    expect(status.sign).toMatch(/^signed: \d+ bytes as bob@example.com$/);
    expect(output.sign).toContain('Content-Type: multipart/signed; protocol="application/pkcs7-signature"');
    expect(status.verify).toBe('verified: bob@example.com valid');
    expect(status.tampered).toMatch(/^verified: bob@example.com invalid \(.*digest-mismatch/);
  });
});

describe('examples/', () => {
  it('are installed from the packed tarball, not linked to the checkout', () => {
    const installed = join(app, 'node_modules', 'smime-core');
    expect(lstatSync(installed).isSymbolicLink()).toBe(false);
    expect(existsSync(join(installed, 'src'))).toBe(false);
    expect(execFileSync('node', ['-p', "require.resolve('smime-core')"], { cwd: app, encoding: 'utf8' }).trim()).toBe(join(installed, 'dist', 'index.node.js'));
  });

  it('node-esm: Alice signs and encrypts to Bob, Bob opens it; a recipient without a certificate is refused', async () => {
    const out = await example('node-esm/index.mjs');
    expect(out).toMatch(/^signed: \d+ bytes, multipart\/signed$/m);
    expect(out).toMatch(/^encrypted: \d+ bytes to bob@example.com and alice@example.com$/m);
    expect(out).toContain('decrypted: cipher aes-256-cbc, authenticated false, key of C=US, O=smime-core demo, CN=Bob Example\n');
    expect(out).toContain('opened: layers enveloped > signed\n');
    expect(out).toContain('signer: alice@example.com valid\n');
    expect(out).toContain('content: "See you at noon.\\r\\n"\n');
    expect(out).toContain('refused: ERR_MISSING_RECIPIENT_CERTIFICATES, missing carol@example.com\n');
  });

  it('node-cjs: require(), an RSA-PSS opaque signature verified, OpenSSL’s message decrypted, a typed error', async () => {
    const out = await example('node-cjs/index.cjs');
    expect(out).toMatch(/^signed: \d+ bytes, application\/pkcs7-mime; smime-type=signed-data, RSA-PSS$/m);
    expect(out).toContain('signer: bob@example.com valid\n');
    expect(out).toContain("decrypted OpenSSL's message: cipher aes-256-cbc, key transport rsaEncryption\n");
    expect(out).toContain('content: "Hello from the smime-core test vectors."\n');
    expect(out).toContain('not S/MIME: ERR_MIME_INVALID\n');
  });

  it('server-folder: every .eml of OpenSSL’s folder opened, verified or refused with a code, one line each', async () => {
    const folder = join(VECTORS, 'openssl');
    const out = await example('server-folder/index.mjs');
    const lines = out.trim().split('\n');
    const emls = readdirSync(folder).filter((f) => f.endsWith('.eml'));
    expect(lines).toHaveLength(emls.length + 2);
    expect(lines[0]).toBe('keys: alice-sign, alice-sign-2022, alice-enc-2021, alice-enc-2023, alice-enc-2025, bob');
    for (const line of [
      'enc-aes256gcm.eml: authEnveloped(aes-256-gcm) signers none',
      'enc-old-2021.eml: enveloped(aes-256-cbc) signers none unauthenticated',
      'enc-rsa15-des3.eml: enveloped(des-ede3-cbc) signers none unauthenticated',
      'enc-ecdh-p384-gcm.eml: error ERR_CMS_DECRYPTION_FAILED',
      'sig-rsa-detached.eml: signed signers alice@example.com=valid',
      'sig-expired.eml: signed signers alice@example.com=expired',
      'sig-tampered.eml: signed signers alice@example.com=invalid',
      'sig-selfsigned.eml: signed signers mallory@example.com=untrusted',
      'sig-then-enc.eml: enveloped(aes-256-cbc)>signed signers alice@example.com=valid',
    ]) {
      expect(lines).toContain(line);
    }
    expect(lines.at(-1)).toBe(`${emls.length} messages: 25 opened, 7 with every signature valid, 3 failed`);
  });

  it('compose-mimetext: mimetext’s message signed and encrypted (AES-256-GCM), then opened with its parts intact', async () => {
    const eml = join(dir, 'composed.eml');
    const out = await example('compose-mimetext/index.mjs');
    expect(out).toMatch(/^composed: \d+ bytes, multipart\/mixed$/m);
    expect(out).toMatch(/^encrypted: \d+ bytes, application\/pkcs7-mime; smime-type=authEnveloped-data; name="smime.p7m"$/m);
    expect(out).toContain('outer headers: Date, From, To, Message-ID, Subject\n');
    expect(out).toContain('opened: layers authEnveloped(aes-256-gcm) > signed, authenticated true\n');
    expect(out).toContain('signer: alice@example.com valid\n');
    expect(out).toContain('parts: multipart/mixed, multipart/alternative, text/plain, text/html, text/csv\n');
    expect(out).toContain('attachment: figures.csv\n');
    // The file it wrote keeps the message headers outside and nothing of the content in the clear.
    const written = readFileSync(eml, 'latin1');
    expect(written).toMatch(/^Subject: /m);
    expect(written).not.toContain('figures.csv');
  });
});
