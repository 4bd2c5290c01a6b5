// encryptStream against encryptMessage: `node bench/stream_encrypt.js [streamMiB] [bufferMiB]` (defaults 256, 64).
// The stream is generated in 64 KiB pieces (a message of makeMessage's shape) and drained into a counting sink;
// the buffer function encrypts the whole message in memory. Prints throughput (MiB/s) of each and their ratio, and
// the peak RSS of the process (process.resourceUsage().maxRSS) after the stream run, before the buffer run.
import { encryptMessage, encryptStream } from '../dist/index.node.js';
import { ADDRESS, base64MessageStream as source, bobStore, drain, makeMessage, MiB } from './_utils.js';

const streamMiB = Number(process.argv[2] ?? 256);
const bufferMiB = Number(process.argv[3] ?? 64);
const cipher = process.argv[4] ?? 'aes-256-gcm';
const store = await bobStore();
const opts = { store, to: [ADDRESS], cipher };

const baseKiB = process.memoryUsage.rss() / 1024;
await drain(await encryptStream(source(4 * MiB), opts));
const t0 = performance.now();
const out = await drain(await encryptStream(source(streamMiB * MiB), opts));
const ts = (performance.now() - t0) / 1000;
const peakKiB = process.resourceUsage().maxRSS;
const { message } = makeMessage(bufferMiB * MiB);
await encryptMessage(makeMessage(4 * MiB).message, opts);
const t1 = performance.now();
await encryptMessage(message, opts);
const tb = (performance.now() - t1) / 1000;
const rs = streamMiB / ts;
const rb = bufferMiB / tb;
console.log(`${cipher}: encryptStream ${streamMiB} MiB in ${ts.toFixed(2)} s (${rs.toFixed(0)} MiB/s, ${(out / MiB).toFixed(0)} MiB out); encryptMessage ${bufferMiB} MiB in ${tb.toFixed(2)} s (${rb.toFixed(0)} MiB/s); ratio ${(rs / rb).toFixed(2)}; RSS after the stream ${(peakKiB / 1024).toFixed(0)} MiB (baseline ${(baseKiB / 1024).toFixed(0)} MiB)`);
