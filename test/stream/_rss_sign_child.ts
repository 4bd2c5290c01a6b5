// Child process of test/stream/sign_memory.test.ts (bundled by esbuild there): `node child.mjs P12 PASSWORD ADDRESS MiB FORM ROOT`.
// Streams MiB of message through signStream (FORM: detached | opaque) piped straight into verifyStream, drains the
// content, and prints { baselineKiB, peakKiB, contentBytes, status } as JSON (peak: process.resourceUsage().maxRSS).
import { readFileSync } from 'node:fs';
import { CertificateStore, signStream, verifyStream } from '../../src/index.js';
import { nodeCrypto } from '../../src/crypto/node.js';
import { piecesStream } from '../_helpers/pieces.js';

const [p12, password, address, mibArg, form, root] = process.argv.slice(2);
const store = new CertificateStore();
await store.importPkcs12(new Uint8Array(readFileSync(p12!)), password!);
store.addTrustAnchor(readFileSync(root!, 'utf8'));
const crypto = nodeCrypto();

function source(total: number): ReadableStream<Uint8Array> {
  const head = new TextEncoder().encode(`From: ${address}\r\nContent-Type: text/plain\r\n\r\n`);
  const line = new TextEncoder().encode('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab\r\n');
  const piece = new Uint8Array(line.length * 840);
  for (let i = 0; i < piece.length; i += line.length) piece.set(line, i);
  return piecesStream(head, piece, total);
}

async function drain(s: ReadableStream<Uint8Array>): Promise<number> {
  let n = 0;
  const r = s.getReader();
  for (;;) {
    const { done, value } = await r.read();
    if (done) return n;
    n += value.length;
  }
}

async function run(total: number): Promise<{ contentBytes: number; status: string }> {
  const signed = await signStream(source(total), { store, from: address!, detached: form === 'detached', crypto });
  const { content, done } = await verifyStream(signed, { store, harvest: false, crypto });
  const contentBytes = await drain(content);
  const r = await done;
  return { contentBytes, status: r.signers.map((s) => s.status).join(',') };
}

await run(1 << 20);
const baselineKiB = process.memoryUsage.rss() / 1024;
const r = await run(Number(mibArg) * 2 ** 20);
console.log(JSON.stringify({ baselineKiB, peakKiB: process.resourceUsage().maxRSS, ...r }));
