// encryptStream's AES-GCM without an accelerator (a browser; `import 'smime-core'` without the `node` condition):
// `node bench/stream_encrypt_portable.js [MiB] [rounds]` (defaults 64, 3). Three runs per round, interleaved, each of
// MiB of content (base64MessageStream: 64 KiB pieces) drained into a counting sink, each with its own `Crypto` on
// Node's WebCrypto:
//   webcrypto   no accelerator: the library's path (AES-CTR on WebCrypto + GHASH in TypeScript, webCryptoGcm);
//   typescript  the TypeScript AES-GCM of src/crypto/incremental_fallback.ts plugged in as the incremental AES, which
//               is what the path was before (the same pieces through the same run);
//   node        Node's accelerators (node:crypto's AES-GCM), for scale.
// Prints each run's MiB/s, the medians and the ratio webcrypto ÷ typescript. Needs `npm run build`.
import { webcrypto } from 'node:crypto';
import { encryptStream } from '../dist/index.js';
import { portableIncrementalAes } from '../dist/crypto/incremental_fallback.js';
import { nodeCrypto } from '../dist/crypto/node.js';
import { ADDRESS, base64MessageStream as source, bobStore, drain, median, MiB } from './_utils.js';

const mib = Number(process.argv[2] ?? 64);
const rounds = Number(process.argv[3] ?? 3);
const ACCELERATORS = Symbol.for('smime-core.accelerators');
const plain = () => ({ subtle: webcrypto.subtle, getRandomValues: (a) => webcrypto.getRandomValues(a), randomUUID: () => webcrypto.randomUUID() });
const modes = {
  webcrypto: plain(),
  typescript: { ...plain(), [ACCELERATORS]: { incrementalAes: portableIncrementalAes } },
  node: nodeCrypto(),
};
const store = await bobStore();
const run = async (crypto, n) => {
  const t0 = performance.now();
  await drain(await encryptStream(source(n), { store, to: [ADDRESS], cipher: 'aes-256-gcm', crypto }));
  return performance.now() - t0;
};
for (const c of Object.values(modes)) await run(c, 4 * MiB); // warm-up
const speeds = Object.fromEntries(Object.keys(modes).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  for (const [name, c] of Object.entries(modes)) {
    const ms = await run(c, mib * MiB);
    speeds[name].push((mib * MiB) / MiB / (ms / 1000));
  }
  console.log(`round ${r + 1}: ${Object.entries(speeds).map(([k, v]) => `${k} ${v.at(-1).toFixed(1)}`).join(', ')} MiB/s`);
}
const m = Object.fromEntries(Object.entries(speeds).map(([k, v]) => [k, median(v)]));
console.log(`encryptStream ${mib} MiB AES-256-GCM, medians of ${rounds}: ${Object.entries(m).map(([k, v]) => `${k} ${v.toFixed(1)} MiB/s`).join(', ')}; webcrypto ÷ typescript ${(m.webcrypto / m.typescript).toFixed(2)}, webcrypto ÷ node ${(m.webcrypto / m.node).toFixed(2)}`);
