/** Stream helpers for the stream tests: a source in pieces (counting pulls) and a collector. */

/**
 * A stream of `bytes` in pieces of `size` (or of the sizes in turn), counting the pulls and the bytes handed out.
 * Each piece is a copy, or with `views` a view of `bytes` (so a write by the reader shows in `bytes`).
 */
export function source(
  bytes: Uint8Array,
  size: number | number[],
  { views = false }: { views?: boolean } = {},
): { stream: ReadableStream<Uint8Array>; pulls: () => number; given: () => number } {
  let at = 0;
  let pulls = 0;
  let k = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        pulls++;
        if (at >= bytes.length) return c.close();
        const n = typeof size === 'number' ? size : size[k++ % size.length]!;
        c.enqueue(views ? bytes.subarray(at, at + n) : bytes.slice(at, at + n));
        at += n;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulls: () => pulls, given: () => Math.min(at, bytes.length) };
}

/** `m` as a stream in pieces of `size` bytes (Infinity: one piece). */
export const chunked = (m: Uint8Array, size: number): ReadableStream<Uint8Array> => source(m, size === Infinity ? m.length : size).stream;

/** All the bytes of a stream. */
export async function collect(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of s as unknown as AsyncIterable<Uint8Array>) parts.push(p);
  return new Uint8Array(Buffer.concat(parts));
}

/** What {@link drain} saw: the bytes, the pieces, the largest piece, and the error the stream ended with (if any). */
export interface Drained {
  total: number;
  pieces: number;
  largest: number;
  err: unknown;
}

/** Reads `content` to its end or its error, handing each piece to `see` (with the bytes before it), keeping none. */
export async function drain(content: ReadableStream<Uint8Array>, see?: (piece: Uint8Array, before: number) => void): Promise<Drained> {
  const reader = content.getReader();
  const d: Drained = { total: 0, pieces: 0, largest: 0, err: undefined };
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      see?.(r.value, d.total);
      d.pieces++;
      d.total += r.value.length;
      d.largest = Math.max(d.largest, r.value.length);
    }
  } catch (e) {
    d.err = e;
  }
  return d;
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
