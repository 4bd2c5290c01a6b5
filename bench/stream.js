// Streaming benchmarks (issue 16): `node bench/stream.js [--quick]`, or as the `stream` section of `npm run bench`.
//
// 1. The CLI against OpenSSL, whole processes on the same generated file: `smime encrypt` vs
//    `openssl cms -encrypt -stream -binary` (AES-256-CBC and AES-256-GCM, both stream in OpenSSL 3) and `smime decrypt`
//    vs `openssl cms -decrypt` of OpenSSL's message; 64 MiB and 256 MiB (1 GiB with SMIME_BENCH_GIB=1). Wall time:
//    median of 3 interleaved runs; peak RSS: GNU time's %M, for smime minus Node's own (`node -e 0`).
// 2. The API in a child process: encryptStream of the large size into a counting sink against encryptMessage of
//    64 MiB (throughput ratio, target ≥ 0.8), and the same for decryptStream, signStream and verifyStream when the
//    build exports them (feature-detected: the bench runs before and after they exist).
// --quick (CI): 16 and 64 MiB, one run each, encryption with AES-256-GCM only, and a gate that cannot flake, on ratios measured in this run: the CLI's
// peak RSS encrypting 64 MiB is within 32 MiB of its peak at 16 MiB (flat: a buffering CLI takes 4× the message),
// and encryptStream's throughput is at least 0.5× encryptMessage's.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADDRESS, MiB, REPO, check, fmt, identityFile, sizeName, table } from './_utils.js';

const GNU_TIME = '/usr/bin/time';
const BIN = join(REPO, 'dist', 'cli', 'smime.js');
/** The Node floor of `smime encrypt` (read, AES, base64 lines, write, fsync, rename: no CMS, no MIME). */
const FLOOR = join(REPO, 'bench', 'cli_floor.js');
const API_CHILD = '--api-child';

/** The outer headers of the generated message (they stay outside the encryption); then the protected part. */
const OUTER = `From: alice@example.com\r\nTo: ${ADDRESS}\r\nSubject: a large attachment\r\nMIME-Version: 1.0\r\n`;
const CONTENT_HEAD = 'Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n';

/** A 1 MiB block of pseudo-random base64 lines ended by CRLF (canonical, like mail from a client). */
function block() {
  const raw = Buffer.alloc(786432);
  let x = 0x2545f491;
  for (let i = 0; i < raw.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    raw[i] = x & 0xff;
  }
  return Buffer.from(raw.toString('base64').replace(/.{1,76}/g, '$&\r\n'), 'latin1');
}

/** Writes a message of about `size` bytes (whole lines) to `path`; returns the offset where the protected part starts. */
export function writeMessage(path, size) {
  const b = block();
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, OUTER + CONTENT_HEAD);
    let n = Buffer.byteLength(OUTER + CONTENT_HEAD);
    while (n < size) {
      const take = Math.min(b.length, size - n);
      const cut = take === b.length ? take : b.lastIndexOf(10, take - 1) + 1 || take;
      writeSync(fd, b, 0, cut);
      n += cut;
    }
  } finally {
    closeSync(fd);
  }
  return Buffer.byteLength(OUTER);
}

/** SHA-256 of a file from `start`, streamed (1 GiB files are never held whole). */
function hashFile(path, start = 0) {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path, { start })
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

/**
 * Runs a command under GNU time (when installed): { ms, peakKiB, faults } (faults: minor page faults); throws when it
 * fails. `output`, when given, is removed first and the page cache written back (neither timed): each command writes
 * a new file, as a user encrypting a message does. Replacing the last round's output instead measures the machine:
 * openssl truncates the old file as it opens it and reuses its pages, smime writes a temporary file beside it and
 * renames it over the old one only at the end (nothing is lost on failure), so its output needs pages the old file
 * still holds; on a VM whose free memory the host reclaims each new page is a host fault (bench/README.md).
 */
function timed(cmd, args, env, output) {
  if (output) {
    rmSync(output, { force: true });
    if (process.platform !== 'win32') spawnSync('sync');
  }
  const gnu = existsSync(GNU_TIME);
  const argv = gnu ? [GNU_TIME, '-f', 'peak=%M faults=%R', cmd, ...args] : [cmd, ...args];
  const t0 = performance.now();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 20, env });
  const ms = performance.now() - t0;
  const err = r.stderr?.toString() ?? '';
  if (r.error || r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? err}`);
  const m = /peak=(\d+) faults=(\d+)/.exec(err);
  return { ms, peakKiB: m ? Number(m[1]) : NaN, faults: m ? Number(m[2]) : NaN };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const mib = (kib) => (Number.isNaN(kib) ? 'n/a' : (kib / 1024).toFixed(0));

/**
 * The CLI rows: for each size and cipher, smime and openssl encrypt the same file, then each decrypts OpenSSL's
 * message; every output is checked (by hash) once.
 */
async function cliRows(dir, sizes, rounds, env, { ciphers = ['aes-256-cbc', 'aes-256-gcm'], decrypt = true, floor = false } = {}) {
  const cert = identityFile('cert');
  const key = identityFile('key');
  const pem = join(dir, 'bob.pem');
  writeFileSync(pem, readFileSync(cert, 'utf8') + readFileSync(key, 'utf8'));
  const f = (n) => join(dir, n);
  const node = median([0, 1, 2].map(() => timed(process.execPath, ['-e', '0'], env).peakKiB));
  const rows = [];
  const peaks = {};
  for (const size of sizes) {
    const innerStart = writeMessage(f('msg.eml'), size);
    const whole = await hashFile(f('msg.eml'));
    const inner = await hashFile(f('msg.eml'), innerStart);
    for (const cipher of ciphers) {
      // Each command: [program, arguments, its output file].
      const cmds = {
        opensslEncrypt: ['openssl', ['cms', '-encrypt', '-stream', '-binary', `-${cipher}`, '-in', f('msg.eml'), '-out', f('o.p7m'), cert], f('o.p7m')],
        smimeEncrypt: [process.execPath, [BIN, 'encrypt', '--cert', cert, '--to', ADDRESS, '--cipher', cipher, '--in', f('msg.eml'), '--out', f('s.p7m')], f('s.p7m')],
        opensslDecrypt: ['openssl', ['cms', '-decrypt', '-binary', '-in', f('o.p7m'), '-recip', cert, '-inkey', key, '-out', f('o.out')], f('o.out')],
        smimeDecrypt: [process.execPath, [BIN, 'decrypt', '--identity', pem, '--in', f('o.p7m'), '--out', f('s.out')], f('s.out')],
        floorEncrypt: [process.execPath, [FLOOR, f('msg.eml'), f('n.out'), cipher], f('n.out')],
      };
      if (!floor) delete cmds.floorEncrypt;
      if (!decrypt) {
        delete cmds.opensslDecrypt;
        delete cmds.smimeDecrypt;
      }
      const runs = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
      for (let i = 0; i < rounds; i++) {
        for (const [k, [c, a, out]] of Object.entries(cmds)) runs[k].push(timed(c, a, env, out));
        if (i === 0) {
          if (decrypt) {
            check((await hashFile(f('o.out'))) === whole, `openssl cms ${cipher} ${sizeName(size)} round trip`);
            check((await hashFile(f('s.out'))) === whole, `smime decrypt of openssl's ${cipher} ${sizeName(size)} message`);
          }
          timed('openssl', ['cms', '-decrypt', '-binary', '-in', f('s.p7m'), '-recip', cert, '-inkey', key, '-out', f('x.out')], env);
          check((await hashFile(f('x.out'))) === inner, `openssl cms decrypts smime's ${cipher} ${sizeName(size)} message`);
          rmSync(f('x.out'));
        }
      }
      for (const op of decrypt ? ['Encrypt', 'Decrypt'] : ['Encrypt']) {
        const o = runs[`openssl${op}`];
        const s = runs[`smime${op}`];
        const om = median(o.map((r) => r.ms));
        const sm = median(s.map((r) => r.ms));
        const speak = Math.max(...s.map((r) => r.peakKiB));
        const fl = op === 'Encrypt' && runs.floorEncrypt ? median(runs.floorEncrypt.map((r) => r.ms)) : undefined;
        peaks[`${op.toLowerCase()} ${cipher} ${size}`] = speak;
        rows.push([
          op.toLowerCase(),
          sizeName(size),
          cipher,
          fmt(om / 1000, 2),
          fmt(sm / 1000, 2),
          `${(sm / om).toFixed(2)}×`,
          mib(Math.max(...o.map((r) => r.peakKiB))),
          mib(speak),
          mib(speak - node),
          Number.isNaN(s[0].faults) ? 'n/a' : String(median(s.map((r) => r.faults))),
          ...(floor ? (fl === undefined ? ['', '', ''] : [fmt(fl / 1000, 2), `${(fl / om).toFixed(2)}×`, `${(sm / fl).toFixed(2)}×`]) : []),
        ]);
      }
      for (const n of ['o.p7m', 's.p7m', 'o.out', 's.out', 'n.out']) rmSync(f(n), { force: true });
    }
  }
  return { rows, peaks, nodeKiB: node };
}

/** The API rows, from a child process started through `sh` (so its maxRSS is its own, not this process's). */
function apiRows(streamMiB, bufferMiB, env) {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync('sh', ['-c', '"$0" "$@"; exit $?', process.execPath, self, API_CHILD, String(streamMiB), String(bufferMiB)], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    env,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith(API_CHILD));
  if (r.status !== 0 || !line) throw new Error(`bench/stream.js ${API_CHILD} failed: ${r.stderr}`);
  return JSON.parse(line.slice(API_CHILD.length + 1));
}

/**
 * In the child: each stream function present in the build, on `streamMiB` generated in 64 KiB pieces into a counting
 * sink, against its buffer function on `bufferMiB`. Returns rows { op, streamMiB, streamMs, bufferMiB, bufferMs,
 * ratio, peakAboveKiB } (ratio: stream throughput ÷ buffer throughput; peakAboveKiB: maxRSS after the stream run
 * minus RSS before it).
 */
async function apiChild(streamMiB, bufferMiB) {
  const api = await import('../dist/index.node.js');
  const { bobStore, drain, makeMessage, piecesStream } = await import('./_utils.js');
  const store = await bobStore();
  const cipher = 'aes-256-gcm';
  const piece = block().subarray(0, 65536 - (65536 % 78));
  const head = new TextEncoder().encode(OUTER + CONTENT_HEAD);
  // The signed messages are from the signer (the From binding makes a message from someone else `invalid`).
  const signedHead = new TextEncoder().encode(OUTER.replace('From: alice@example.com', `From: ${ADDRESS}`) + CONTENT_HEAD);
  /** A generated message of `total` body bytes, one fresh 64 KiB piece per pull. */
  const source = (total, first = head) => piecesStream(first, piece, total);
  /** A stream over bytes in memory (an encrypted or signed message made for the readers), 64 KiB per pull. */
  const over = (bytes) => {
    let off = 0;
    return new ReadableStream(
      {
        pull(c) {
          if (off >= bytes.length) return c.close();
          c.enqueue(bytes.slice(off, off + 65536));
          off += 65536;
        },
      },
      { highWaterMark: 0 },
    );
  };
  /** Drains into a chunk list (the readers' input, made once by the writers; only for the reader rows). */
  const collect = async (s) => {
    const chunks = [];
    const r = s.getReader();
    for (;;) {
      const { done, value } = await r.read();
      if (done) return Buffer.concat(chunks);
      chunks.push(value);
    }
  };
  const buffer = makeMessage(bufferMiB * MiB, { from: ADDRESS });
  const rows = [];
  const time = async (f) => {
    const t0 = performance.now();
    const out = await f();
    return { ms: performance.now() - t0, out };
  };
  const row = async (op, streamRun, bufferRun) => {
    await streamRun(1); // warm-up
    const before = process.memoryUsage.rss();
    const s = await time(() => streamRun(streamMiB));
    const peakAboveKiB = process.resourceUsage().maxRSS - before / 1024;
    await bufferRun();
    const b = await time(bufferRun);
    rows.push({ op, streamMiB, streamMs: s.ms, bufferMiB, bufferMs: b.ms, ratio: streamMiB / s.ms / (bufferMiB / b.ms), peakAboveKiB });
  };
  const enc = { store, to: [ADDRESS], cipher };
  await row('encryptStream', async (m) => drain(await api.encryptStream(source(m * MiB), enc)), () => api.encryptMessage(buffer.message, enc));
  if (typeof api.decryptStream === 'function') {
    const encrypted = await collect(await api.encryptStream(source(streamMiB * MiB), enc));
    const small = await collect(await api.encryptStream(source(MiB), enc));
    const bufEnc = await api.encryptMessage(buffer.message, enc);
    await row(
      'decryptStream',
      async (m) => {
        const { content, done } = await api.decryptStream(over(m === 1 ? small : encrypted), { store });
        const n = await drain(content);
        await done;
        return n;
      },
      () => api.decryptMessage(bufEnc, { store }),
    );
  }
  const sig = { store, from: ADDRESS };
  if (typeof api.signStream === 'function') {
    await row('signStream', async (m) => drain(await api.signStream(source(m * MiB, signedHead), sig)), () => api.signMessage(buffer.message, sig));
  }
  if (typeof api.verifyStream === 'function' && typeof api.signStream === 'function') {
    const signed = await collect(await api.signStream(source(streamMiB * MiB, signedHead), sig));
    const small = await collect(await api.signStream(source(MiB, signedHead), sig));
    const bufSigned = await api.signMessage(buffer.message, sig);
    await row(
      'verifyStream',
      async (m) => {
        const { content, done } = await api.verifyStream(over(m === 1 ? small : signed), { store });
        const n = await drain(content);
        const r = await done;
        check(r.signers.every((x) => x.status === 'valid'), 'verifyStream: the signature is valid');
        return n;
      },
      () => api.verifyMessage(bufSigned, { store }),
    );
  }
  return rows;
}

/**
 * The stream section: prints the tables; returns the gate's failures (quick only). `env` is the environment for the
 * child processes.
 */
export async function streamSection({ quick = false, env = process.env } = {}) {
  const failures = [];
  const gib = process.env.SMIME_BENCH_GIB === '1';
  const sizes = quick ? [16 * MiB, 64 * MiB] : [64 * MiB, 256 * MiB, ...(gib ? [1024 * MiB] : [])];
  const rounds = quick ? 1 : 3;
  const dir = mkdtempSync(join(tmpdir(), 'smime-bench-stream-'));
  try {
    if (spawnSync('openssl', ['version']).error) {
      console.log('openssl is not installed: the CLI rows are skipped.');
    } else {
      console.log(`\n## The CLI streaming: smime vs openssl cms on the same file (whole processes, ${rounds === 1 ? 'one run' : `median of ${rounds} interleaved`})\n`);
      // --quick: encryption with AES-256-GCM only (what the gate reads); the full run has both ciphers and decryption.
      // The full run adds the Node floor of encryption (bench/cli_floor.js) beside each encrypt row.
      const cli = await cliRows(dir, sizes, rounds, env, quick ? { ciphers: ['aes-256-gcm'], decrypt: false } : { floor: true });
      const floorColumns = quick ? [] : ['node floor s', 'floor / openssl', 'smime / floor'];
      table(['operation', 'size', 'algorithm', 'openssl s', 'smime s', 'smime / openssl', 'openssl peak MiB', 'smime peak MiB', 'smime − node MiB', 'smime page faults', ...floorColumns], cli.rows);
      console.log(
        `\nopenssl: \`cms -encrypt -stream -binary\`, \`cms -decrypt -binary\`; smime decrypt opens OpenSSL's message. Peak RSS and page faults: GNU time %M and %R${existsSync(GNU_TIME) ? '' : ' (not installed: n/a)'}; each command writes a new output file (the last one removed and the page cache written back first, untimed);` +
          ` node = \`node -e 0\` (${mib(cli.nodeKiB)} MiB).`,
      );
      if (quick) {
        const [lo, hi] = sizes;
        const a = cli.peaks[`encrypt aes-256-gcm ${lo}`];
        const b = cli.peaks[`encrypt aes-256-gcm ${hi}`];
        if (!Number.isNaN(a) && b - a > 32 * 1024) failures.push(`smime encrypt peak RSS ${mib(b)} MiB at ${sizeName(hi)} vs ${mib(a)} MiB at ${sizeName(lo)}: not flat (gate: +32 MiB)`);
      }
    }
    const streamMiB = quick ? 64 : 256;
    const bufferMiB = quick ? 16 : 64;
    console.log(`\n## The stream API: ${streamMiB} MiB through each stream function into a counting sink vs its buffer function on ${bufferMiB} MiB (AES-256-GCM; a child process)\n`);
    const api = apiRows(streamMiB, bufferMiB, env);
    table(
      ['operation', 'stream MiB', 'stream s', 'stream MiB/s', 'buffer MiB', 'buffer s', 'buffer MiB/s', 'stream ÷ buffer', 'RSS growth MiB'],
      api.map((r) => [
        r.op,
        String(r.streamMiB),
        fmt(r.streamMs / 1000, 2),
        fmt(r.streamMiB / (r.streamMs / 1000)),
        String(r.bufferMiB),
        fmt(r.bufferMs / 1000, 2),
        fmt(r.bufferMiB / (r.bufferMs / 1000)),
        `${r.ratio.toFixed(2)}×`,
        mib(r.peakAboveKiB),
      ]),
    );
    console.log('\nRSS growth: the child\'s maxRSS after the stream run minus its RSS before it (after a 1 MiB warm-up). Target: stream ÷ buffer ≥ 0.8.');
    if (quick) {
      const e = api.find((r) => r.op === 'encryptStream');
      if (e && e.ratio < 0.5) failures.push(`encryptStream throughput ${e.ratio.toFixed(2)}× encryptMessage's (gate: ≥ 0.5×)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return failures;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === API_CHILD) {
    console.log(`${API_CHILD} ${JSON.stringify(await apiChild(Number(process.argv[3]), Number(process.argv[4])))}`);
  } else {
    const failures = await streamSection({ quick: process.argv.includes('--quick') });
    if (failures.length) {
      console.log(`\nFAIL:\n  ${failures.join('\n  ')}`);
      process.exitCode = 1;
    }
  }
}
