/** Stream helpers for the stream tests: a source in pieces (counting pulls) and a collector. */

/** A stream of `bytes` in pieces of `size` (or of the sizes in turn), counting the pulls. */
export function source(bytes: Uint8Array, size: number | number[]): { stream: ReadableStream<Uint8Array>; pulls: () => number } {
  let at = 0;
  let pulls = 0;
  let k = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        pulls++;
        if (at >= bytes.length) return c.close();
        const n = typeof size === 'number' ? size : size[k++ % size.length]!;
        c.enqueue(bytes.slice(at, at + n));
        at += n;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulls: () => pulls };
}

/** All the bytes of a stream. */
export async function collect(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of s as unknown as AsyncIterable<Uint8Array>) parts.push(p);
  return new Uint8Array(Buffer.concat(parts));
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A message with `n` bytes of deterministic binary body (CR and LF in every arrangement). */
export function bigMessage(n: number, type = 'application/octet-stream'): Uint8Array {
  const head = enc(`From: alice@example.com\r\nTo: bob@example.com\r\nContent-Type: ${type}\r\n\r\n`);
  const out = new Uint8Array(head.length + n);
  out.set(head);
  let x = 12345;
  for (let i = head.length; i < out.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
