// Child process for the memory figures: `node bench/mem.js encrypt|decrypt|prepare CIPHER SIZE FILE`.
// Loads the library and its input, warms up on a small message, then records RSS, runs the one operation and
// records process.resourceUsage().maxRSS. Prints { baselineKiB, peakKiB } as JSON; checks the output afterwards.
// `prepare` writes the encrypted message that `decrypt` reads.
import { readFileSync, writeFileSync } from 'node:fs';
import { decryptMessage, encryptMessage } from '../dist/index.node.js';
import { ADDRESS, bobStore, check, makeMessage, sameBytes } from './_utils.js';

const startKiB = process.resourceUsage().maxRSS;
const [op, cipher, sizeArg, file] = process.argv.slice(2);
const size = Number(sizeArg);
const store = await bobStore();
const opts = { store, to: [ADDRESS], cipher };
if (op === 'prepare') {
  writeFileSync(file, await encryptMessage(makeMessage(size).message, opts));
  process.exit(0);
}
const small = makeMessage(4096);
await decryptMessage(await encryptMessage(small.message, opts), { store });

const { message, inner } = makeMessage(size);
const input = op === 'encrypt' ? message : new Uint8Array(readFileSync(file));
const baselineKiB = process.memoryUsage.rss() / 1024;
let out;
if (op === 'encrypt') out = await encryptMessage(input, opts);
else out = (await decryptMessage(input, { store })).content;
const peakKiB = process.resourceUsage().maxRSS;
// A high-water mark inherited from the parent would hide this process's own peak.
check(startKiB < baselineKiB, `maxRSS at start (${startKiB} KiB) is below the baseline`);
console.log(JSON.stringify({ baselineKiB, peakKiB }));

if (op === 'encrypt') out = (await decryptMessage(out, { store })).content;
check(sameBytes(out, inner), `${op} ${cipher} output`);
