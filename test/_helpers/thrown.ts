/** What `f` throws, or undefined when it returns: for tests that inspect an error's class and fields. */
export function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** What a promise rejected with; fails the test when it resolves (or rejects with something that is not an Error). */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  const r = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(r instanceof Error)) throw new Error(`expected a rejection, got ${r === undefined ? 'a result' : String(r)}`);
  return r;
}
