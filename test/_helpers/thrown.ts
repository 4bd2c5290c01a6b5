/** What `f` throws, or undefined when it returns: for tests that inspect an error's class and fields. */
export function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}
