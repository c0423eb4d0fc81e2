/**
 * @module Hot queries compiled once. Building and compiling a Kysely query costs more than running a
 * primary-key lookup, so queries on hot paths (the gate, the ledger) are compiled at load time with
 * named placeholders and only re-bound per call (kysely recipe "Splitting query building and
 * execution"). They run through `deps.query` / `deps.atomic`, straight on the driver.
 */
import {
  DummyDriver,
  Kysely,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
} from 'kysely'
import type { Database } from './database.ts'

/** A Kysely that only compiles (SQLite dialect, no connection): the same SQL D1 and better-sqlite3 run. */
export const compiler = new Kysely<Database>({
  dialect: {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  },
})

/**
 * Compiles `build` once with a unique marker per named parameter and returns a binder. Every bound
 * parameter of the compiled SQL must be one of the markers, so nothing is silently left constant.
 */
export function prepared<K extends string>(
  keys: readonly K[],
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- markers stand in for typed values
  build: (p: Record<K, any>, db: Kysely<Database>) => { compile(): CompiledQuery },
): (values: Record<K, unknown>) => CompiledQuery {
  const markers = Object.fromEntries(keys.map((k) => [k, `\u0000${k}\u0000`])) as Record<K, string>
  const compiled = build(markers, compiler).compile()
  const order = compiled.parameters.map((p) => {
    const key = keys.find((k) => markers[k] === p)
    if (!key)
      throw new Error(`prepared query: parameter ${JSON.stringify(p)} is not a named placeholder`)
    return key
  })
  return (values) => ({ ...compiled, parameters: order.map((k) => values[k]) })
}

/**
 * Continues with `then` at once when `value` is already there (Node's synchronous driver), after the
 * promise otherwise (D1): a hot path pays for no needless microtask turns.
 */
export function settle<T, U>(value: T | Promise<T>, then: (v: T) => U): U | Promise<U> {
  return value instanceof Promise ? value.then(then) : then(value)
}
