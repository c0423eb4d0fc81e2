/**
 * @module A Kysely dialect for Cloudflare D1: SQLite's adapter, compiler and introspector with a driver
 * that calls `D1Database.prepare().bind().all()`. Replaces kysely-d1 (unmaintained, warns on 0.28).
 */
import {
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
} from 'kysely'
import type { Atomic } from '../../db/database.ts'

class D1Connection implements DatabaseConnection {
  constructor(private readonly d1: D1Database) {}

  async executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
    const res = await this.d1
      .prepare(q.sql)
      .bind(...q.parameters)
      .all<R>()
    const changes = res.meta.changes ?? 0
    return {
      rows: res.results ?? [],
      numAffectedRows: changes > 0 ? BigInt(changes) : undefined,
      insertId: res.meta.last_row_id == null ? undefined : BigInt(res.meta.last_row_id),
    }
  }

  // eslint-disable-next-line require-yield
  async *streamQuery(): AsyncIterableIterator<QueryResult<never>> {
    throw new Error('D1 does not stream query results')
  }
}

const noTransactions = () => {
  throw new Error(
    'D1 has no interactive transactions: build an atomic unit for deps.atomic (D1 batch)',
  )
}

class D1Driver implements Driver {
  constructor(private readonly d1: D1Database) {}
  async init() {}
  async acquireConnection() {
    return new D1Connection(this.d1)
  }
  async beginTransaction() {
    noTransactions()
  }
  async commitTransaction() {
    noTransactions()
  }
  async rollbackTransaction() {
    noTransactions()
  }
  async releaseConnection() {}
  async destroy() {}
}

export class D1Dialect implements Dialect {
  constructor(private readonly database: D1Database) {}
  createAdapter() {
    return new SqliteAdapter()
  }
  createDriver() {
    return new D1Driver(this.database)
  }
  createQueryCompiler() {
    return new SqliteQueryCompiler()
  }
  createIntrospector(db: Kysely<unknown>) {
    return new SqliteIntrospector(db)
  }
}

/** The atomic port on Workers: one `batch()`, which D1 runs as a single transaction. */
export function d1Atomic(d1: D1Database): Atomic {
  return async (queries) => {
    if (queries.length === 0) return
    await d1.batch(queries.map((q) => d1.prepare(q.sql).bind(...q.parameters.map(bindable))))
  }
}

const bindable = (p: unknown) => (typeof p === 'boolean' ? (p ? 1 : 0) : p)

/** The read port on Workers: one prepared D1 statement. */
export function d1Query(d1: D1Database) {
  return async <R>(q: CompiledQuery): Promise<R[]> =>
    (
      await d1
        .prepare(q.sql)
        .bind(...q.parameters.map(bindable))
        .all<R>()
    ).results ?? []
}

export function d1QueryOne(d1: D1Database) {
  return async <R>(q: CompiledQuery): Promise<R | undefined> =>
    (await d1
      .prepare(q.sql)
      .bind(...q.parameters.map(bindable))
      .first<R>()) ?? undefined
}
