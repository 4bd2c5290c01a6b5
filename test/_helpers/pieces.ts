/**
 * Test inputs in pieces: bytes cut at given offsets (the split-point tests of the incremental codecs), and a pulled
 * stream of generated chunks (the memory tests' children: nothing is made before it is asked for).
 */

/** `bytes` cut at the (sorted, deduplicated) offsets inside it. */
export function pieces(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  return out;
}

/**
 * `first` (a header section), then fresh copies of `piece` until `total` bytes of them have gone out, one per pull
 * (highWaterMark 0).
 */
export function piecesStream(first: Uint8Array, piece: Uint8Array, total: number): ReadableStream<Uint8Array> {
  let sent = -1;
  return new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (sent < 0) {
          sent = 0;
          return c.enqueue(first);
        }
        if (sent >= total) return c.close();
        c.enqueue(piece.slice());
        sent += piece.length;
      },
    },
    { highWaterMark: 0 },
  );
}
