/**
 * Argument checking for the public API, with one message format: `<what> must be <expected>`, where `what` names
 * the call and the argument (`'encryptMessage: options.to'`). A value of the wrong type is a `TypeError`; a value
 * of the right type outside the allowed set is a `RangeError`. (Limits and the algorithm policy have their own
 * checkers, lib/limits.ts and crypto/policy.ts, which name the member that is wrong.)
 */

/** What an argument must be: a type, or the list of the allowed values (strings). */
export type ArgumentKind = 'boolean' | 'string' | 'date' | 'function' | 'object' | 'array' | 'non-empty array' | readonly string[];

/** The error for a bad argument, in the one message format: `<what> must be <expected>`. */
export function argumentError(what: string, expected: string, range = false): TypeError | RangeError {
  const message = `${what} must be ${expected}`;
  return range ? new RangeError(message) : new TypeError(message);
}

/**
 * Checks one argument or option. `undefined` passes unless `required` (an option left out takes its default).
 * Throws `TypeError` for a wrong type, `RangeError` for a string outside the allowed values.
 */
export function checkOption(what: string, value: unknown, kind: ArgumentKind, required = false): void {
  if (value === undefined && !required) return;
  if (typeof kind !== 'string') {
    if (typeof value === 'string' && kind.includes(value)) return;
    throw argumentError(what, `one of ${kind.map((k) => `'${k}'`).join(', ')}`, typeof value === 'string');
  }
  switch (kind) {
    case 'boolean':
      if (typeof value !== 'boolean') throw argumentError(what, 'a boolean');
      return;
    case 'string':
      if (typeof value !== 'string') throw argumentError(what, 'a string');
      return;
    case 'date':
      if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw argumentError(what, 'a valid Date');
      return;
    case 'function':
      if (typeof value !== 'function') throw argumentError(what, 'a function');
      return;
    case 'object':
      if (typeof value !== 'object' || value === null) throw argumentError(what, 'an object');
      return;
    case 'array':
      if (!Array.isArray(value)) throw argumentError(what, 'an array');
      return;
    case 'non-empty array':
      if (!Array.isArray(value) || value.length === 0) throw argumentError(what, 'a non-empty array');
      return;
  }
}

/**
 * Checks an integer option: `<what> must be an integer >= <min>` (a `TypeError`, as for a wrong type) for anything
 * else: a non-number, a fraction, NaN, an infinity or a number below `min`. `undefined` passes unless `required`.
 */
export function checkInteger(what: string, value: unknown, min: number, required = false): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw argumentError(what, `an integer >= ${min}`);
}
