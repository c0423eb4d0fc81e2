/** @module A bounded cache in a Map, shared by both runtimes. */

/** Bounded map lookup-or-create; the oldest entry goes first when full (Map order is insertion order). */
export function cachedIn<V>(cache: Map<string, V>, max: number, key: string, make: () => V): V {
  let value = cache.get(key)
  if (value === undefined) {
    if (cache.size >= max) cache.delete(cache.keys().next().value!)
    cache.set(key, (value = make()))
  }
  return value
}
