// decryptStream against decryptMessage: `node bench/stream_decrypt.js [streamMiB] [bufferMiB] [cipher]` (defaults 256,
// 64, aes-256-gcm). The encrypted message of streamMiB is written once to a temporary file by encryptStream (in a
// child process, so that its memory does not count in this one's peak RSS), then read back through decryptStream (fs stream, 64 KiB reads) into a counting sink; the buffer function decrypts a bufferMiB
// message in memory. Prints throughput (MiB of content per second) of each and their ratio, and the peak RSS of the
// process (process.resourceUsage().maxRSS) after the stream run, before the buffer run. Needs `npm run build`.
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { decryptMessage, decryptStream, encryptMessage, encryptStream } from '../dist/index.node.js';
import { ADDRESS, base64MessageStream as source, bobStore, drain, makeMessage, MiB } from './_utils.js';

if (process.argv[2] === '--generate') {
  // The child: `--generate FILE MiB CIPHER`.
  const [, , , file, mib, c] = process.argv;
  const s = await bobStore();
  await (await encryptStream(source(Number(mib) * MiB), { store: s, to: [ADDRESS], cipher: c })).pipeTo(Writable.toWeb(createWriteStream(file)));
  process.exit(0);
}

const streamMiB = Number(process.argv[2] ?? 256);
const bufferMiB = Number(process.argv[3] ?? 64);
const cipher = process.argv[4] ?? 'aes-256-gcm';
const store = await bobStore();
const opts = { store, to: [ADDRESS], cipher };

const dir = mkdtempSync(join(tmpdir(), 'smime-bench-decrypt-'));
try {
  const file = join(dir, 'msg.p7m.eml');
  const small = join(dir, 'small.p7m.eml');
  const self = fileURLToPath(import.meta.url);
  execFileSync(process.execPath, [self, '--generate', file, String(streamMiB), cipher], { stdio: 'inherit' });
  execFileSync(process.execPath, [self, '--generate', small, '4', cipher], { stdio: 'inherit' });
  const open = (f) => Readable.toWeb(createReadStream(f, { highWaterMark: 65536 }));

  const baseKiB = process.memoryUsage.rss() / 1024;
  const warm = await decryptStream(open(small), { store });
  await drain(warm.content);
  await warm.done;
  const t0 = performance.now();
  const { content, done } = await decryptStream(open(file), { store });
  const out = await drain(content);
  const r = await done;
  const ts = (performance.now() - t0) / 1000;
  const peakKiB = process.resourceUsage().maxRSS;

  const smime = await encryptMessage(makeMessage(bufferMiB * MiB).message, opts);
  await decryptMessage(await encryptMessage(makeMessage(4 * MiB).message, opts), { store });
  const t1 = performance.now();
  const b = await decryptMessage(smime, { store });
  const tb = (performance.now() - t1) / 1000;
  const rs = out / MiB / ts;
  const rb = b.content.length / MiB / tb;
  console.log(
    `${cipher}: decryptStream ${(out / MiB).toFixed(0)} MiB in ${ts.toFixed(2)} s (${rs.toFixed(0)} MiB/s, authenticated ${r.authenticated}); ` +
      `decryptMessage ${bufferMiB} MiB in ${tb.toFixed(2)} s (${rb.toFixed(0)} MiB/s); ratio ${(rs / rb).toFixed(2)}; ` +
      `peak RSS after the stream ${(peakKiB / 1024).toFixed(0)} MiB (baseline ${(baseKiB / 1024).toFixed(0)} MiB)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
