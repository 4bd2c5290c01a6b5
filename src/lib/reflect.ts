/**
 * The Reflect metadata that @peculiar/x509 needs while it loads, and only then.
 *
 * @peculiar/x509 registers its algorithms with tsyringe, which refuses to load without `Reflect.getMetadata` and
 * reads class metadata once, when its `@injectable()` decorators run (at load time); resolving a registered
 * class later uses no Reflect API. So instead of a global polyfill (`reflect-metadata`, which stays installed for
 * the whole application), evaluating this module installs a small metadata store on `Reflect`, and
 * src/certs/x509.ts calls {@link releaseReflectMetadata} as soon as @peculiar/x509 has loaded, which removes it
 * again. Functions the application already has (its own `reflect-metadata`, say) are never replaced nor removed.
 *
 * This module and src/certs/x509.ts are the package's modules with a side effect besides the Node entry, and
 * package.json's `sideEffects` lists them: a bundler must keep them, in this order, wherever @peculiar/x509 is kept.
 */

type Key = string | symbol | undefined;
type Target = object;

/** The metadata per object and property key; each entry maps a metadata key to its value. */
const store = new WeakMap<Target, Map<Key, Map<unknown, unknown>>>();

function own(target: Target, property: Key, create: boolean): Map<unknown, unknown> | undefined {
  let byProperty = store.get(target);
  if (!byProperty) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let entries = byProperty.get(property);
  if (!entries && create) {
    entries = new Map();
    byProperty.set(property, entries);
  }
  return entries;
}

function getOwnMetadata(key: unknown, target: Target, property?: Key): unknown {
  return own(target, property, false)?.get(key);
}

function hasOwnMetadata(key: unknown, target: Target, property?: Key): boolean {
  return own(target, property, false)?.has(key) ?? false;
}

function getMetadata(key: unknown, target: Target, property?: Key): unknown {
  // The prototype chain is finite and acyclic (the engine guarantees it); bounded anyway.
  for (let t: Target | null = target, depth = 0; t && depth < 10_000; t = Object.getPrototypeOf(t) as Target | null, depth++) {
    const entries = own(t, property, false);
    if (entries?.has(key)) return entries.get(key);
  }
  return undefined;
}

function hasMetadata(key: unknown, target: Target, property?: Key): boolean {
  for (let t: Target | null = target, depth = 0; t && depth < 10_000; t = Object.getPrototypeOf(t) as Target | null, depth++) {
    if (own(t, property, false)?.has(key)) return true;
  }
  return false;
}

function defineMetadata(key: unknown, value: unknown, target: Target, property?: Key): void {
  own(target, property, true)!.set(key, value);
}

function metadata(key: unknown, value: unknown): (target: Target, property?: Key) => void {
  return (target, property) => defineMetadata(key, value, target, property);
}

/** The functions installed, by name: the part of the Reflect metadata API tsyringe and TypeScript's helpers use. */
const API: Record<string, unknown> = { getMetadata, getOwnMetadata, hasMetadata, hasOwnMetadata, defineMetadata, metadata };

/** The names this module added to `Reflect` (none that were already there). */
const installed: string[] = [];
const reflect = Reflect as unknown as Record<string, unknown>;
for (const [name, fn] of Object.entries(API)) {
  if (reflect[name] !== undefined) continue;
  try {
    Object.defineProperty(Reflect, name, { value: fn, configurable: true, writable: true, enumerable: false });
    installed.push(name);
  } catch {
    // A frozen Reflect: tsyringe then reports the missing polyfill itself.
  }
}

/**
 * Removes what evaluating this module added to `Reflect` (only functions still the ones it installed). Called by
 * src/certs/x509.ts once @peculiar/x509 has loaded; calling it again does nothing.
 */
export function releaseReflectMetadata(): void {
  for (const name of installed.splice(0)) {
    if (reflect[name] === API[name]) delete reflect[name];
  }
}
