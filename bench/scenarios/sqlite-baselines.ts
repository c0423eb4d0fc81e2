/** @module In-process baseline: a raw better-sqlite3 primary-key lookup, the floor for any DB read. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openSqlite } from '../../src/runtime/node/sqlite.ts'
import type { InprocOp } from '../types.ts'
import { seededWorkCopy } from '../seed/work-copy.ts'

const ROWS = 100_000

export async function sqlitePkLookup(): Promise<InprocOp> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-sqlite-'))
  // The gateway's own opener: a temp file with WAL and the same pragmas, so the floor is comparable.
  const db = openSqlite(join(dir, 'baseline.db'))
  db.exec(
    'CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL)',
  )
  const insert = db.prepare('INSERT INTO items (id, name, created_at) VALUES (?, ?, ?)')
  db.transaction(() => {
    for (let id = 1; id <= ROWS; id++) insert.run(id, `item-${id}@example.test`, 1_700_000_000 + id)
  })()
  const select = db.prepare('SELECT id, name, created_at FROM items WHERE id = ?')
  return {
    // Random ids, so the lookups walk the B-tree instead of hitting one cached page.
    op: () => select.get(1 + Math.floor(Math.random() * ROWS)),
    close: () => {
      db.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * The same floor on the large seeded database (bench/seed/): a raw primary-key lookup of a contact,
 * with the gateway's own opener, ids from all over the table. At a million contacts the table is far
 * larger than SQLite's page cache, so most lookups read a page from the OS: the gate's reads there
 * are compared with reads that pay the same.
 */
export async function sqlitePkLookupSeeded(): Promise<InprocOp> {
  const { path, meta } = seededWorkCopy()
  const db = openSqlite(path)
  const ids = meta.build.sample.map((s) => s.id)
  const select = db.prepare('SELECT id, status, locale, created_at FROM contacts WHERE id = ?')
  return {
    op: () => select.get(ids[Math.floor(Math.random() * ids.length)]),
    close: () => {
      db.close()
    },
  }
}

/** In-process baseline for writes: one single-row INSERT in its own transaction, as raw as it gets. */
export async function sqliteInsertTxn(): Promise<InprocOp> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-sqlite-'))
  const db = openSqlite(join(dir, 'baseline.db'))
  db.exec(
    'CREATE TABLE events (id TEXT PRIMARY KEY, contact_id TEXT NOT NULL, payload TEXT NOT NULL, at INTEGER NOT NULL)',
  )
  const insert = db.prepare('INSERT INTO events (id, contact_id, payload, at) VALUES (?, ?, ?, ?)')
  const txn = db.transaction((id: string) =>
    insert.run(id, 'contact', '{"ip":"192.0.2.1"}', Date.now()),
  )
  return {
    op: () => txn(crypto.randomUUID()),
    close: () => {
      db.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
