/** @module better-sqlite3 on Node: opening the file, the D1-compatible migration runner, the atomic port. */
import Database from 'better-sqlite3'
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { CompiledQuery } from 'kysely'
import type { Atomic } from '../../db/database.ts'

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url))

/** Opens (creating if needed) the SQLite file with the settings the gateway relies on. */
export function openSqlite(path: string): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  try {
    db.pragma('journal_mode = WAL') // readers never block the writer
    db.pragma('synchronous = NORMAL') // durable in WAL mode except on power loss mid-checkpoint
    db.pragma('foreign_keys = ON') // D1 enforces them too
    db.pragma('busy_timeout = 5000')
    db.prepare('SELECT 1').get() // fails here, not on the first request, when the file is not a database
  } catch (err) {
    db.close()
    throw err
  }
  return db
}

/**
 * Applies migrations/*.sql exactly as `wrangler d1 migrations apply` does: the same `d1_migrations`
 * table, the same order, one file per transaction. Returns the names it applied.
 */
export function applyMigrations(
  db: Database.Database,
  dir = MIGRATIONS_DIR,
  table = 'd1_migrations',
): string[] {
  db.exec(`CREATE TABLE IF NOT EXISTS ${table}(
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE,
    applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)`)
  const applied = new Set(db.prepare(`SELECT name FROM ${table}`).pluck().all() as string[])
  const pending = readdirSync(dir)
    .filter((f) => f.endsWith('.sql') && !applied.has(f))
    .sort((a, b) => parseInt(a, 10) - parseInt(b, 10) || a.localeCompare(b))
  const record = db.prepare(`INSERT INTO ${table} (name) VALUES (?)`)
  for (const file of pending) {
    const sql = readFileSync(join(dir, file), 'utf8')
    try {
      db.transaction(() => {
        db.exec(sql)
        record.run(file)
      })()
    } catch (err) {
      throw new Error(`migration ${file} failed: ${(err as Error).message}`, { cause: err })
    }
  }
  return pending
}

/**
 * The better-sqlite3 handle Kysely gets, with a bounded prepared-statement cache: Kysely prepares every
 * query anew, and preparing costs as much as running a primary-key lookup.
 */
export function cachingDatabase(db: Database.Database, max = 500) {
  const cache = new Map<string, Database.Statement>()
  return {
    close: () => db.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql)
      if (!stmt) {
        if (cache.size >= max) cache.delete(cache.keys().next().value!)
        cache.set(sql, (stmt = db.prepare(sql)))
      }
      return stmt
    },
  }
}

/** The read port on Node: a cached prepared statement, no query builder in the way. */
export function sqliteQuery(db: ReturnType<typeof cachingDatabase>) {
  return <R>(q: CompiledQuery): R[] => db.prepare(q.sql).all(...params(q)) as R[]
}

export function sqliteQueryOne(db: ReturnType<typeof cachingDatabase>) {
  return <R>(q: CompiledQuery): R | undefined =>
    db.prepare(q.sql).get(...params(q)) as R | undefined
}

const params = (q: CompiledQuery) =>
  q.parameters.some((p) => typeof p === 'boolean') ? q.parameters.map(bindable) : q.parameters

/** better-sqlite3 refuses JS booleans; SQLite stores them as 0/1. */
const bindable = (p: unknown) => (typeof p === 'boolean' ? (p ? 1 : 0) : p)

/** The atomic port on Node: one synchronous better-sqlite3 transaction over cached prepared statements. */
export function sqliteAtomic(db: Database.Database): Atomic {
  const statements = new Map<string, Database.Statement>()
  const statement = (sql: string) => {
    let s = statements.get(sql)
    if (!s) statements.set(sql, (s = db.prepare(sql)))
    return s
  }
  const run = db.transaction((queries: readonly CompiledQuery[]) => {
    for (const q of queries) statement(q.sql).run(...q.parameters.map(bindable))
  })
  return async (queries) => {
    run(queries)
  }
}
