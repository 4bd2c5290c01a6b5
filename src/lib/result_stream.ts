/**
 * A stream reader's output: a content stream pulled one step at a time, and the promise of what the reading found
 * (decryptStream's, verifyStream's and openStream's `{ content, done }`), with one error and cancel behaviour for all.
 */
import { concat } from './bytes.js';

/**
 * One step of a reader: the pieces of content it hands on, joined into one chunk (maybe none, or only empty ones: the
 * stream then steps again within the same pull), and, on the last step, `end: true` with the result `done` resolves to.
 */
export type ReaderStep<R> = { readonly out?: readonly Uint8Array[]; readonly end?: false } | { readonly out?: readonly Uint8Array[]; readonly end: true; readonly result: R };

/** What {@link resultStream} returns: the content, and the result once the content has ended. */
export interface ResultStream<R> {
  /** The content, pulled (nothing is read before it is asked for). */
  content: ReadableStream<Uint8Array>;
  /** The result, once the content has ended; rejected with the content's error, or when the content is cancelled. */
  done: Promise<R>;
}

/**
 * The content of `step` as a pull stream (highWaterMark 0) and its result. A pull steps until a step hands content
 * on or ends (a pull must enqueue or close: the stream does not pull again on its own after one that gave nothing);
 * the content ends, and `done` resolves, on the pull after the last content was handed on: once it has been read.
 * A step that throws errors the content and rejects `done` with the same error, then `cancel` releases the input
 * (its own failure is dropped: the first error is the one reported); a consumer's cancel rejects `done` with its
 * reason (or an Error naming `what` when the reason is not an Error) and cancels the input. `done` has a handler
 * already: a caller that reads only the content sees the error there, not as an unhandled rejection.
 */
export function resultStream<R>(what: string, step: () => Promise<ReaderStep<R>>, cancel: (reason: unknown) => Promise<void>): ResultStream<R> {
  let resolveDone!: (r: R) => void;
  let rejectDone!: (e: unknown) => void;
  const done = new Promise<R>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  done.catch(() => {});
  /** The last step's result, held while its content waits to be read. */
  let last: { result: R } | undefined;
  const content = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          for (;;) {
            if (last) {
              controller.close();
              resolveDone(last.result);
              return;
            }
            const s = await step();
            if (s.end) last = { result: s.result };
            const out = (s.out ?? []).filter((b) => b.length > 0);
            if (out.length > 0) return controller.enqueue(out.length === 1 ? out[0]! : concat(out));
          }
        } catch (e) {
          controller.error(e);
          rejectDone(e);
          await cancel(e).catch(() => {});
        }
      },
      async cancel(reason) {
        rejectDone(reason instanceof Error ? reason : new Error(`${what}: the content stream was cancelled`));
        await cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return { content, done };
}
