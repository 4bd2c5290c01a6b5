// Child process of test/stream/memory.test.ts (bundled by esbuild there): `node child.mjs P12 PASSWORD ADDRESS MiB`.
// Streams MiB of message through encryptStream into a counting sink and prints
// { baselineKiB, peakKiB, bytesOut } as JSON (peak: process.resourceUsage().maxRSS).
import { readFileSync } from 'node:fs';
import { CertificateStore, encryptStream } from '../../src/index.js';
import { nodeCrypto } from '../../src/crypto/node.js';

const [p12, password, address, mibArg] = process.argv.slice(2);
const store = new CertificateStore();
await store.importPkcs12(new Uint8Array(readFileSync(p12!)), password!);
const opts = { store, to: [address!], cipher: 'aes-256-gcm' as const, crypto: nodeCrypto() };

function source(total: number): ReadableStream<Uint8Array> {
  const head = new TextEncoder().encode(`To: ${address}\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const piece = new Uint8Array(65536).fill(0x41);
  let sent = -1;
  return new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (sent < 0) {
          sent = 0;
          return c.enqueue(head);
        }
        if (sent >= total) return c.close();
        c.enqueue(piece.slice());
        sent += piece.length;
      },
    },
    { highWaterMark: 0 },
  );
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

await drain(await encryptStream(source(1 << 20), opts));
const baselineKiB = process.memoryUsage.rss() / 1024;
const bytesOut = await drain(await encryptStream(source(Number(mibArg) * 2 ** 20), opts));
console.log(JSON.stringify({ baselineKiB, peakKiB: process.resourceUsage().maxRSS, bytesOut }));
