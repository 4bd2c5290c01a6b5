/** A Map bounded to `max` entries that drops the least recently used first. Internal. */
export class LruMap<K, V> {
  readonly #map = new Map<K, V>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** The value for `key`, which becomes the most recently used. */
  get(key: K): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }

  /** The value for `key`, without touching its place. */
  peek(key: K): V | undefined {
    return this.#map.get(key);
  }

  /** Sets `key` as the most recently used, dropping the least recently used beyond the bound. */
  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    while (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value!);
  }

  delete(key: K): boolean {
    return this.#map.delete(key);
  }
}
