// signStream/verifyStream against signMessage/verifyMessage: `node bench/stream_sign.js [streamMiB] [bufferMiB] [form]`
// (defaults 256, 64, both forms; form: detached | opaque). The message (makeMessage's shape: 76-char CRLF lines of
// text, 7bit) is generated in 64 KiB pieces; signStream's output is drained into a counting sink (sign), or piped
// straight into verifyStream whose content is drained (sign + verify, nothing held). The buffer functions sign (and
// verify) the whole message in memory. Prints throughput (MiB/s of message) of each, their ratios, and the peak RSS
// of the process (process.resourceUsage().maxRSS) after the stream runs, before the buffer runs. Needs `npm run build`.
import { signMessage, signStream, verifyMessage, verifyStream } from '../dist/index.node.js';
import { ADDRESS, bobStore, drain, makeMessage, MiB, piecesStream } from './_utils.js';

const streamMiB = Number(process.argv[2] ?? 256);
const bufferMiB = Number(process.argv[3] ?? 64);
const forms = process.argv[4] ? [process.argv[4]] : ['detached', 'opaque'];
const store = await bobStore();
/** Bob signs: the message is from him. */
const SWAP = { from: ADDRESS, to: 'alice@example.com' };

/** A stream of a `total`-byte message in 64 KiB pieces (the same bytes as makeMessage gives, block by block). */
function source(total) {
  const block = makeMessage(4 * MiB, SWAP).message;
  const split = Buffer.from(block).indexOf('\r\n\r\n') + 4;
  return piecesStream(block.slice(0, split), block.subarray(split, split + 78 * 840), total);
}

const opts = (detached) => ({ store, from: ADDRESS, detached });
const baseKiB = process.memoryUsage.rss() / 1024;
const rows = [];
for (const form of forms) {
  const detached = form === 'detached';
  // Warm-up.
  await drain(await signStream(source(4 * MiB), opts(detached)));
  let t = performance.now();
  await drain(await signStream(source(streamMiB * MiB), opts(detached)));
  const tSign = (performance.now() - t) / 1000;
  t = performance.now();
  const { content, done } = await verifyStream(await signStream(source(streamMiB * MiB), opts(detached)), { store, harvest: false });
  const got = await drain(content);
  const r = await done;
  const tBoth = (performance.now() - t) / 1000;
  if (r.signers[0]?.status !== 'valid') throw new Error(`verifyStream: ${JSON.stringify(r.signers.map((s) => [s.status, s.reasons]))}`);
  rows.push({ form, tSign, tBoth, got });
}
const peakKiB = process.resourceUsage().maxRSS;

const { message } = makeMessage(bufferMiB * MiB, SWAP);
for (const row of rows) {
  const detached = row.form === 'detached';
  await verifyMessage(await signMessage(makeMessage(4 * MiB, SWAP).message, opts(detached)), { store, harvest: false });
  let t = performance.now();
  const signed = await signMessage(message, opts(detached));
  const bSign = (performance.now() - t) / 1000;
  t = performance.now();
  const v = await verifyMessage(signed, { store, harvest: false });
  const bVerify = (performance.now() - t) / 1000;
  if (v.signers[0]?.status !== 'valid') throw new Error('verifyMessage: not valid');
  const sRate = streamMiB / row.tSign;
  const bRate = bufferMiB / bSign;
  const sBoth = streamMiB / row.tBoth;
  const bBoth = bufferMiB / (bSign + bVerify);
  console.log(
    `${row.form}: signStream ${streamMiB} MiB ${row.tSign.toFixed(2)} s (${sRate.toFixed(0)} MiB/s) vs signMessage ${bufferMiB} MiB ${bSign.toFixed(2)} s (${bRate.toFixed(0)} MiB/s): ratio ${(sRate / bRate).toFixed(2)}; ` +
      `signStream→verifyStream ${row.tBoth.toFixed(2)} s (${sBoth.toFixed(0)} MiB/s, ${(row.got / MiB).toFixed(0)} MiB of content) vs signMessage+verifyMessage ${(bSign + bVerify).toFixed(2)} s (${bBoth.toFixed(0)} MiB/s): ratio ${(sBoth / bBoth).toFixed(2)}`,
  );
}
console.log(`peak RSS after the stream runs ${(peakKiB / 1024).toFixed(0)} MiB (baseline ${(baseKiB / 1024).toFixed(0)} MiB)`);
