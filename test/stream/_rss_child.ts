// Child process of test/stream/memory.test.ts (bundled by esbuild there): `node child.mjs P12 PASSWORD ADDRESS MiB
// [encrypt|roundtrip]`. Streams MiB of message through encryptStream (roundtrip: then through decryptStream) into a
// counting sink and prints { baselineKiB, peakKiB, bytesOut } as JSON (peak: process.resourceUsage().maxRSS).
import { readFileSync } from 'node:fs';
import { CertificateStore, decryptStream, encryptStream } from '../../src/index.js';
import { nodeCrypto } from '../../src/crypto/node.js';
import { piecesStream } from '../_helpers/pieces.js';

const [p12, password, address, mibArg, mode = 'encrypt'] = process.argv.slice(2);
const store = new CertificateStore();
await store.importPkcs12(new Uint8Array(readFileSync(p12!)), password!);
const opts = { store, to: [address!], cipher: 'aes-256-gcm' as const, crypto: nodeCrypto() };

function source(total: number): ReadableStream<Uint8Array> {
  const head = new TextEncoder().encode(`To: ${address}\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const piece = new Uint8Array(65536).fill(0x41);
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

/** The bytes out of encryptStream, or (roundtrip) of decryptStream fed by encryptStream. */
async function once(total: number): Promise<number> {
  const encrypted = await encryptStream(source(total), opts);
  if (mode !== 'roundtrip') return drain(encrypted);
  const { content, done } = await decryptStream(encrypted, { store, crypto: opts.crypto });
  const n = await drain(content);
  if (!(await done).authenticated) throw new Error('expected authenticated content');
  return n;
}

await once(1 << 20);
const baselineKiB = process.memoryUsage.rss() / 1024;
const bytesOut = await once(Number(mibArg) * 2 ** 20);
console.log(JSON.stringify({ baselineKiB, peakKiB: process.resourceUsage().maxRSS, bytesOut }));
