// Shared helpers for the benchmarks: sample identities, deterministic messages, statistics, table printing.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { CertificateStore } from '../dist/index.node.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const VECTORS = join(REPO, 'vectors');
const manifest = JSON.parse(readFileSync(join(VECTORS, 'manifest.json'), 'utf8'));
export const PASSWORD = manifest.password;

/** The sample identity the benchmarks encrypt to and sign with: RSA-2048, signing and encryption. */
export const WHO = 'bob';
export const ADDRESS = 'bob@example.com';
export const identityFile = (ext) => join(VECTORS, manifest.identities[WHO][ext]);

export const KiB = 1024;
export const MiB = 1024 * 1024;

export function sizeName(n) {
  return n >= MiB ? `${n / MiB} MiB` : `${n / KiB} KiB`;
}

/** A store holding bob's identity (from his PKCS#12 file), the sample chain and its root as trust anchor. */
export async function bobStore() {
  const store = new CertificateStore();
  await store.importPkcs12(new Uint8Array(readFileSync(identityFile('p12'))), PASSWORD);
  await store.addCertificate(readFileSync(join(VECTORS, 'pki', 'chain.pem'), 'utf8'));
  store.addTrustAnchor(readFileSync(join(VECTORS, 'pki', 'root-ca.cert.pem'), 'utf8'));
  return store;
}

const headOuter = (from, to) => `From: ${from}\r\nTo: ${to}\r\nSubject: benchmark\r\nDate: Sun, 29 Nov 2026 12:00:00 +0000\r\nMIME-Version: 1.0\r\n`;
const HEAD_CONTENT = 'Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n';

/**
 * A `size`-byte message: outer headers, Content-* headers, and a body of 76-char printable lines ended by CRLF
 * (already canonical, like mail from a client). Deterministic. `inner` is what encryption protects and what
 * decryption gives back (the Content-* headers, the empty line and the body); the signed entity too.
 */
export function makeMessage(size, { from = 'alice@example.com', to = ADDRESS } = {}) {
  const outer = headOuter(from, to);
  const head = Buffer.from(outer + HEAD_CONTENT + '\r\n', 'latin1');
  if (size < head.length + 2) throw new RangeError(`message size ${size} is too small`);
  const msg = Buffer.allocUnsafe(size);
  head.copy(msg, 0);
  // A 64 KiB block of pseudo-random lines, repeated.
  const block = Buffer.allocUnsafe(78 * 840);
  let x = 0x12345678;
  for (let i = 0; i < block.length; i++) {
    if (i % 78 === 76) {
      block[i] = 13;
      block[i + 1] = 10;
      i++;
      continue;
    }
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    block[i] = 33 + ((x >>> 0) % 94);
  }
  for (let o = head.length; o < size; o += block.length) block.copy(msg, o, 0, Math.min(block.length, size - o));
  // End on a line break.
  msg[size - 2] = 13;
  msg[size - 1] = 10;
  const u8 = new Uint8Array(msg.buffer, msg.byteOffset, msg.length);
  const innerStart = Buffer.byteLength(outer);
  return { message: u8, inner: u8.subarray(innerStart) };
}

export function sameBytes(a, b) {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

export function check(ok, what) {
  if (!ok) throw new Error(`benchmark check failed: ${what}`);
}

const gc = globalThis.gc;

/**
 * Runs `tasks` ({ name: async fn }) with tinybench in `rounds` interleaved rounds (so that a load change on the
 * machine hits every task alike) and returns the median latency of each task in ms.
 */
export async function measure(tasks, { rounds = 3, iterations = 5, time = 0, gcEach = true } = {}) {
  const samples = Object.fromEntries(Object.keys(tasks).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    const bench = new Bench({
      iterations,
      time,
      warmup: r === 0,
      warmupIterations: 1,
      warmupTime: 0,
      retainSamples: true,
      throws: true,
    });
    // With large messages, start each sample with a collected heap, and give the collector's background threads a
    // moment to hand the memory back: one task's garbage (node-forge's strings above all) is not billed to the next.
    // `async: true`: otherwise tinybench calls a plain function once, unawaited, to see whether it returns a
    // promise, and that extra run overlaps the first timed one.
    const settle = async () => {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 50));
    };
    const opts = gcEach && gc ? { async: true, beforeEach: settle } : { async: true };
    for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn, opts);
    await bench.run();
    for (const t of bench.tasks) {
      if (t.result.state !== 'completed') throw t.result.error ?? new Error(`${t.name}: ${t.result.state}`);
      samples[t.name].push(...t.result.latency.samples);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, s]) => [k, median(s)]));
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** MB/s (10^6 bytes per second) for `bytes` in `ms`. */
export function mbps(bytes, ms) {
  return bytes / 1e6 / (ms / 1000);
}

export function fmt(x, digits = 2) {
  if (x === undefined || x === null || Number.isNaN(x)) return 'n/a';
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(digits);
}

/** Prints rows (arrays of cells) as a Markdown table. */
export function table(header, rows) {
  const all = [header, ...rows].map((r) => r.map((c) => String(c)));
  const w = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => '| ' + r.map((c, i) => (i < 3 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ') + ' |';
  const out = [line(all[0]), '|' + w.map((n, i) => (i < 3 ? '-'.repeat(n + 2) : '-'.repeat(n + 1) + ':')).join('|') + '|'];
  for (const r of all.slice(1)) out.push(line(r));
  console.log(out.join('\n'));
}

/**
 * The stream benches' input: `first` (a header section), then fresh copies of `piece` until `total` bytes of them
 * have gone out, one per pull (highWaterMark 0: nothing is generated before it is asked for).
 */
export function piecesStream(first, piece, total) {
  let sent = -1;
  return new ReadableStream(
    {
      pull(c) {
        if (sent < 0) {
          sent = 0;
          return c.enqueue(first);
        }
        if (sent >= total) return c.close();
        c.enqueue(piece.slice());
        sent += piece.length;
      },
    },
    { highWaterMark: 0 },
  );
}

/** A message to ADDRESS with a base64 body of `total` bytes (76-char lines), in 64 KiB pieces, generated as it is read. */
export function base64MessageStream(total) {
  const head = new TextEncoder().encode(`From: alice@example.com\r\nTo: ${ADDRESS}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n`);
  const line = new TextEncoder().encode('QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n');
  const piece = new Uint8Array(65536 - (65536 % line.length));
  for (let i = 0; i < piece.length; i += line.length) piece.set(line, i);
  return piecesStream(head, piece, total);
}

/** Reads a stream to its end, keeping nothing (a counting sink); resolves to the bytes read. */
export async function drain(s) {
  let n = 0;
  const r = s.getReader();
  for (;;) {
    const { done, value } = await r.read();
    if (done) return n;
    n += value.length;
  }
}
