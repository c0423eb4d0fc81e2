/**
 * @module Running a command for a Cloudflare D1 database from this machine (README "Deploying to
 * Cloudflare Workers": until the admin API exists, a deployed Worker is administered this way). The
 * command runs on a local SQLite copy — the migrated schema, or a `wrangler d1 export` of the real
 * database — and what it changed is written out as SQL for `wrangler d1 execute --remote --file`:
 * one INSERT (an upsert on its primary key), UPDATE (changed columns only) or DELETE per row, parents
 * before children. Comparing the
 * copy before and after, rather than recording statements, keeps transactions, savepoints and
 * rolled-back units out of the picture: only what was committed is there.
 */
import { readFileSync } from 'node:fs'
import Database from 'better-sqlite3'
import { applyMigrations, MIGRATIONS_DIR } from './sqlite.ts'
import { readdirSync } from 'node:fs'

type Row = Record<string, unknown>

interface TableInfo {
  name: string
  columns: string[]
  /** Primary-key columns in key order; the rowid when the table declares none. */
  key: string[]
  parents: string[]
}

/** Tables of the copy that D1 holds too (its own bookkeeping and SQLite's are left out). */
function tables(db: Database.Database): TableInfo[] {
  const names = db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' " +
        "AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations' ORDER BY name",
    )
    .pluck()
    .all() as string[]
  return names.map((name) => {
    const info = db.prepare(`PRAGMA table_info(${quoteId(name)})`).all() as {
      name: string
      pk: number
    }[]
    const key = info
      .filter((c) => c.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((c) => c.name)
    const parents = (
      db.prepare(`PRAGMA foreign_key_list(${quoteId(name)})`).all() as { table: string }[]
    ).map((f) => f.table)
    return {
      name,
      columns: info.map((c) => c.name),
      key: key.length > 0 ? key : ['rowid'],
      parents: [...new Set(parents)].filter((p) => p !== name),
    }
  })
}

/** Parents first (a row's foreign keys point at rows inserted before it). */
function byDependency(list: TableInfo[]): TableInfo[] {
  const done = new Set<string>()
  const out: TableInfo[] = []
  const visit = (t: TableInfo, path: Set<string>) => {
    if (done.has(t.name) || path.has(t.name)) return
    path.add(t.name)
    for (const p of t.parents) {
      const parent = list.find((x) => x.name === p)
      if (parent) visit(parent, path)
    }
    done.add(t.name)
    out.push(t)
  }
  for (const t of list) visit(t, new Set())
  return out
}

const quoteId = (name: string) => `"${name.replaceAll('"', '""')}"`

/** A value as an SQL literal on one line (D1 files are read statement by statement). */
export function sqlLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'NULL'
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'NULL'
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'boolean') return v ? '1' : '0'
  if (v instanceof Uint8Array) return `X'${Buffer.from(v).toString('hex')}'`
  const s = String(v)
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(s)) return `CAST(X'${Buffer.from(s).toString('hex')}' AS TEXT)`
  return `'${s.replaceAll("'", "''")}'`
}

function rowsOf(db: Database.Database, t: TableInfo): Map<string, Row> {
  const select =
    t.key[0] === 'rowid'
      ? `SELECT rowid, * FROM ${quoteId(t.name)}`
      : `SELECT * FROM ${quoteId(t.name)}`
  const rows = new Map<string, Row>()
  for (const row of db.prepare(select).all() as Row[])
    rows.set(JSON.stringify(t.key.map((k) => keyValue(row[k]))), row)
  return rows
}

const keyValue = (v: unknown) =>
  v instanceof Uint8Array
    ? `x:${Buffer.from(v).toString('hex')}`
    : typeof v === 'bigint'
      ? String(v)
      : v

const same = (a: unknown, b: unknown) =>
  a instanceof Uint8Array && b instanceof Uint8Array ? Buffer.from(a).equals(b) : a === b

/** The statements that turn `before` into `after`, one per line. */
export function diffAsSql(before: Database.Database, after: Database.Database): string[] {
  const inserts: string[] = []
  const updates: string[] = []
  const deletes: string[] = []
  const order = byDependency(tables(after))
  for (const t of order) {
    const old = rowsOf(before, t)
    const now = rowsOf(after, t)
    const where = (row: Row) =>
      t.key
        .map((k) => `${k === 'rowid' ? 'rowid' : quoteId(k)} = ${sqlLiteral(row[k])}`)
        .join(' AND ')
    for (const [id, row] of now) {
      const was = old.get(id)
      if (!was) {
        const cols = t.columns.filter((c) => row[c] !== undefined)
        const insert = `INSERT INTO ${quoteId(t.name)} (${cols.map(quoteId).join(', ')}) VALUES (${cols.map((c) => sqlLiteral(row[c])).join(', ')})`
        // The Worker may have written the same key since the copy was made (a health row, a
        // setting): the command's row wins. A rowid table (the ledger) only ever appends.
        const rest = cols.filter((c) => !t.key.includes(c))
        const upsert =
          t.key[0] === 'rowid'
            ? ''
            : ` ON CONFLICT (${t.key.map(quoteId).join(', ')}) DO ${rest.length === 0 ? 'NOTHING' : `UPDATE SET ${rest.map((c) => `${quoteId(c)} = excluded.${quoteId(c)}`).join(', ')}`}`
        inserts.push(`${insert}${upsert};`)
      } else {
        const changed = t.columns.filter((c) => !same(was[c], row[c]))
        if (changed.length > 0)
          updates.push(
            `UPDATE ${quoteId(t.name)} SET ${changed.map((c) => `${quoteId(c)} = ${sqlLiteral(row[c])}`).join(', ')} WHERE ${where(was)};`,
          )
      }
    }
    for (const [id, row] of old)
      if (!now.has(id)) deletes.unshift(`DELETE FROM ${quoteId(t.name)} WHERE ${where(row)};`)
  }
  return [...inserts, ...updates, ...deletes]
}

const MIGRATION_NAMES = () =>
  readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{4}_.*\.sql$/.test(f))
    .sort()

/**
 * The local copy: a `wrangler d1 export` file, or, without one, an empty database with every
 * migration (what a freshly deployed Worker holds). Refuses an export that lacks migrations this code
 * has: its writes could name tables the real database does not have yet.
 */
export function openD1Copy(exportFile: string | undefined): Database.Database {
  const db = new Database(':memory:')
  if (!exportFile) {
    applyMigrations(db)
    return db
  }
  db.exec(readFileSync(exportFile, 'utf8'))
  const hasTable = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'd1_migrations'")
    .get()
  const applied = new Set(
    hasTable ? (db.prepare('SELECT name FROM d1_migrations').pluck().all() as string[]) : [],
  )
  const missing = MIGRATION_NAMES().filter((m) => !applied.has(m))
  if (missing.length > 0) {
    db.close()
    throw new Error(
      `${exportFile} lacks the migrations ${missing.join(', ')}: apply them first ` +
        '(npx wrangler d1 migrations apply DB --remote), then export again',
    )
  }
  return db
}

/** A copy of the database as it is now, to compare with after the command. */
export const snapshot = (db: Database.Database) => new Database(db.serialize())

/** The file `wrangler d1 execute --file` runs: foreign keys checked at the end, one statement a line. */
export function d1SqlFile(statements: string[], what: string): string {
  return [
    `-- consent-gateway: ${what}`,
    '-- Run it with: npx wrangler d1 execute <database> --remote --file <this file>',
    'PRAGMA defer_foreign_keys = true;',
    ...statements,
    '',
  ].join('\n')
}
