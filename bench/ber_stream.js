// The incremental BER reader (dist/lib/ber_stream.js) against der.ts's reader on the same buffer:
// `node bench/ber_stream.js [MiB]` (default 64). The input is an OpenSSL `-stream`-shaped ContentInfo: indefinite
// lengths and a constructed [0] of 4096-byte OCTET STRINGs. The stream reader is pushed 64 KiB pieces (as a
// ReadableStream from a file delivers them) and visits every element; der.ts reads the top element (which walks every
// chunk of an indefinite value), then joins the content (stringContent), as openEnvelope does. Median of 7 runs each,
// interleaved. Prints MiB/s for each (the stream reader hands out views: it never touches the content bytes).
import { BerStreamReader, EOC, indefiniteHeader, OctetStringChunker } from '../dist/lib/ber_stream.js';
import { readTlv, children, stringContent, tlv } from '../dist/lib/der.js';

const mib = Number(process.argv[2] ?? 64);
const size = mib << 20;
const content = new Uint8Array(size);
for (let i = 0; i < size; i += 4096) content[i] = i & 0xff;

/** The BER: ContentInfo(indef) { OID, [0](indef) { [0](indef) OCTET STRING chunks } }. */
function build(chunk) {
  const pieces = [];
  const sink = (p) => pieces.push(p);
  sink(indefiniteHeader(0x30));
  sink(tlv(0x06, Uint8Array.of(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01)));
  sink(indefiniteHeader(0xa0));
  sink(indefiniteHeader(0x80));
  const c = new OctetStringChunker(sink, chunk);
  c.write(content);
  c.end();
  sink(EOC);
  sink(EOC);
  sink(EOC);
  return Buffer.concat(pieces);
}

function streamRead(ber) {
  let n = 0;
  const r = new BerStreamReader({ start() {}, data(b, h) { if (h.depth === 3) n += b.length; }, end() {} });
  for (let i = 0; i < ber.length; i += 65536) r.push(ber.subarray(i, i + 65536));
  r.finish();
  return n;
}

function derRead(ber) {
  const top = readTlv(ber, 0);
  const c0 = children(ber, top)[1];
  const enc = children(ber, c0)[0];
  return stringContent(ber, enc).length;
}

/** der.ts without the join: the chunks' offsets only (what the stream reader computes). */
function derWalk(ber) {
  const top = readTlv(ber, 0);
  const enc = children(ber, children(ber, top)[1])[0];
  let n = 0;
  for (const c of children(ber, enc)) n += c.contentEnd - c.contentStart;
  return n;
}

const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (const chunk of [4096, 65536]) {
  const ber = build(chunk);
  const t = { stream: [], der: [], walk: [] };
  for (let run = 0; run < 8; run++) {
    for (const [name, f] of [['stream', streamRead], ['der', derRead], ['walk', derWalk]]) {
      const t0 = performance.now();
      const n = f(ber);
      const dt = performance.now() - t0;
      if (n !== size) throw new Error(`${name}: read ${n} bytes`);
      if (run > 0) t[name].push(dt);
    }
  }
  const rate = (ms) => ((size / 2 ** 20) / (ms / 1000)).toFixed(0);
  console.log(`${mib} MiB, ${chunk}-byte OCTET STRING chunks: stream reader ${median(t.stream).toFixed(1)} ms (${rate(median(t.stream))} MiB/s), der.ts read+join ${median(t.der).toFixed(1)} ms (${rate(median(t.der))} MiB/s), der.ts walk only ${median(t.walk).toFixed(1)} ms (${rate(median(t.walk))} MiB/s)`);
}
