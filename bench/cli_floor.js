// The floor of `smime encrypt` on Node, for bench/stream.js's CLI rows: what any Node program encrypting a file the
// way the CLI does must spend, with no CMS and no MIME. It reads the file in 64 KiB pieces, encrypts them with
// node:crypto (OpenSSL's AES, as openssl uses), writes the ciphertext as base64 in 76-character CRLF lines (Buffer's
// encoder) to a temporary file beside the output in ≤ 64 KiB writes, then renames it, as the CLI commits --out (with
// `--fsync`, the CLI fsyncs first: pass `fsync` as a fourth argument to do the same). `smime encrypt` ÷ this floor is
// the library's and the CLI's own cost; this floor ÷ `openssl cms -encrypt -stream` is what Node costs before the
// library runs.
//
//   node bench/cli_floor.js <in> <out> <aes-256-gcm|aes-256-cbc> [fsync]
import { open, rename } from 'node:fs/promises';
import { createCipheriv, randomBytes } from 'node:crypto';

const [input, output, cipher = 'aes-256-gcm', sync] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node bench/cli_floor.js <in> <out> [aes-256-gcm|aes-256-cbc]');
  process.exit(2);
}
const gcm = cipher.endsWith('gcm');
const c = createCipheriv(cipher, randomBytes(32), randomBytes(gcm ? 12 : 16));
const fi = await open(input, 'r');
const fo = await open(`${output}.tmp`, 'w');
const piece = Buffer.allocUnsafe(65536);
/** Ciphertext bytes not yet a whole base64 line (57 bytes make 76 characters). */
let carry = Buffer.alloc(0);

async function emit(bytes, last = false) {
  const all = carry.length > 0 ? Buffer.concat([carry, bytes]) : bytes;
  const whole = last ? all.length : all.length - (all.length % 57);
  carry = Buffer.from(all.subarray(whole));
  const s = all.subarray(0, whole).toString('base64');
  let lines = '';
  for (let i = 0; i < s.length; i += 76) lines += `${s.slice(i, i + 76)}\r\n`;
  const out = Buffer.from(lines, 'latin1');
  for (let off = 0; off < out.length; ) off += (await fo.write(out, off, Math.min(65536, out.length - off), null)).bytesWritten;
}

for (;;) {
  const { bytesRead } = await fi.read(piece, 0, piece.length, null);
  if (bytesRead === 0) break;
  await emit(c.update(piece.subarray(0, bytesRead)));
}
await emit(Buffer.concat([c.final(), gcm ? c.getAuthTag() : Buffer.alloc(0)]), true);
if (sync === 'fsync') await fo.sync();
await fo.close();
await fi.close();
await rename(`${output}.tmp`, output);
