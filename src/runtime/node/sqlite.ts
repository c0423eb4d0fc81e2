/** @module better-sqlite3 on Node: opening the file, the D1-compatible migration runner, the atomic port. */
import Database from 'better-sqlite3'
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { CompiledQuery } from 'kysely'
import type { Atomic } from '../../db/database.ts'
import { cachedIn } from '../../lib/cached-in.ts'
import { groupCommit } from './group-commit.ts'

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
 * query anew, and preparing costs as much as running a primary-key lookup. `reader` serves the read
 * ports (`deps.query`), from statements of their own (raw mode would break Kysely's).
 */
export function cachingDatabase(db: Database.Database, max = 500) {
  const statements = new Map<string, Database.Statement>()
  const readers = new Map<string, RowReader>()
  return {
    close: () => db.close(),
    prepare: (sql: string) => cachedIn(statements, max, sql, () => db.prepare(sql)),
    reader: (sql: string) => cachedIn(readers, max, sql, () => rowReader(db.prepare(sql))),
  }
}

interface RowReader {
  get(params: readonly unknown[]): unknown
  all(params: readonly unknown[]): unknown[]
}

/**
 * Rows as plain objects, built in JS from raw-mode arrays: better-sqlite3 builds each row object in C++,
 * internalising every column name on every row, which costs several times what the look-up itself
 * does on a hot read (the gate). The objects are the same: own properties in column order, a later
 * duplicate name winning. Statements that return no data keep better-sqlite3's own behaviour.
 */
function rowReader(stmt: Database.Statement): RowReader {
  if (!stmt.reader) return { get: (p) => stmt.get(...p), all: (p) => stmt.all(...p) }
  let names = stmt.columns().map((c) => c.name)
  // Assigning "__proto__" would set the prototype instead of a property: leave such rows to the driver.
  if (names.includes('__proto__')) return { get: (p) => stmt.get(...p), all: (p) => stmt.all(...p) }
  stmt.raw(true)
  const toRow = (values: unknown[]) => {
    // A schema change re-prepares the statement underneath (SELECT * may gain a column).
    if (values.length !== names.length) names = stmt.columns().map((c) => c.name)
    const row: Record<string, unknown> = {}
    for (let i = 0; i < names.length; i++) row[names[i]!] = values[i]
    return row
  }
  return {
    get(p) {
      const values = stmt.get(...p) as unknown[] | undefined
      return values && toRow(values)
    },
    all: (p) => (stmt.all(...p) as unknown[][]).map(toRow),
  }
}

/** The read port on Node: a cached prepared statement, no query builder in the way. */
export function sqliteQuery(db: ReturnType<typeof cachingDatabase>) {
  return <R>(q: CompiledQuery): R[] => db.reader(q.sql).all(params(q)) as R[]
}

export function sqliteQueryOne(db: ReturnType<typeof cachingDatabase>) {
  return <R>(q: CompiledQuery): R | undefined => db.reader(q.sql).get(params(q)) as R | undefined
}

/** The parameters as better-sqlite3 binds them: booleans as 0/1 (it refuses JS booleans). */
function params(q: CompiledQuery): readonly unknown[] {
  const ps = q.parameters
  for (let i = 0; i < ps.length; i++) if (typeof ps[i] === 'boolean') return ps.map(bindable)
  return ps
}

const bindable = (p: unknown) => (typeof p === 'boolean' ? (p ? 1 : 0) : p)

/**
 * The atomic port on Node: a transaction per unit over cached prepared statements, the units of
 * concurrent requests committed together (group-commit.ts).
 */
export function sqliteAtomic(
  db: Database.Database,
  max = 500,
  commit: Parameters<typeof groupCommit>[2] = {},
): Atomic {
  const statements = new Map<string, Database.Statement>()
  const statement = (sql: string) =>
    cachedIn<Database.Statement>(statements, max, sql, () => db.prepare(sql))
  return groupCommit(
    db,
    (queries: readonly CompiledQuery[]) => {
      for (const q of queries) statement(q.sql).run(...params(q))
    },
    commit,
  )
}
