import { copyFileSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  applyMigrations,
  MIGRATIONS_DIR,
  openSqlite,
  sqliteAtomic,
} from '../../../../src/runtime/node/sqlite.ts'
import { testDeps } from '../../../helpers/deps.ts'

const CORE_TABLES = [
  'contacts',
  'contact_links',
  'purposes',
  'notices',
  'consent_events',
  'consent_state',
  'suppressions',
  'outbox',
  'webhook_receipts',
  'audit_log',
  'admin_users',
  'sessions',
  'api_keys',
]

describe('SQLite file and migrations', () => {
  it('opens a file database in WAL mode with foreign keys and a busy timeout', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cg-db-'))
    const db = openSqlite(join(dir, 'nested', 'gw.db'))
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.pragma('synchronous', { simple: true })).toBe(1) // NORMAL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1)
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000)
    db.close()
    expect(existsSync(join(dir, 'nested', 'gw.db'))).toBe(true)
  })

  it('refuses a file that is not a SQLite database, with the reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cg-db-'))
    const path = join(dir, 'notadb.db')
    writeFileSync(path, 'this is plain text, not a database '.repeat(200))
    expect(() => openSqlite(path)).toThrow(/not a database/)
  })

  it('creates every core table and records the files like wrangler does', () => {
    const db = openSqlite(':memory:')
    const applied = applyMigrations(db)
    expect(applied[0]).toBe('0001_init.sql')
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all()
    for (const t of CORE_TABLES) expect(tables).toContain(t)
    const rows = db.prepare('SELECT id, name FROM d1_migrations ORDER BY id').all()
    expect(rows).toEqual(applied.map((name, i) => ({ id: i + 1, name })))
  })

  it('is idempotent: a second run applies nothing and changes nothing', () => {
    const db = openSqlite(':memory:')
    applyMigrations(db)
    const before = db.prepare('SELECT * FROM d1_migrations').all()
    expect(applyMigrations(db)).toEqual([])
    expect(db.prepare('SELECT * FROM d1_migrations').all()).toEqual(before)
  })

  it('keeps every outbox row, and its pending index, when 0006 makes the outbox a rowid table', () => {
    // A database as 0001–0005 left it, with a queued webhook event and a delivered mail.
    const before = mkdtempSync(join(tmpdir(), 'cg-mig-'))
    for (const f of readdirSync(MIGRATIONS_DIR).filter((f) => f < '0006'))
      copyFileSync(join(MIGRATIONS_DIR, f), join(before, f))
    const db = openSqlite(':memory:')
    applyMigrations(db, before)
    const insert = db.prepare(`INSERT INTO outbox (id, kind, ordering_key, payload, status,
      next_attempt_at, created_at, done_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
    insert.run('0190a', 'mautic.event', 'mautic:42', '{"event":"sealed"}', 'pending', 5, 1, null)
    insert.run('0190b', 'mail.send', null, '{"message":"sealed"}', 'done', 5, 2, 9)
    const rows = db.prepare('SELECT * FROM outbox ORDER BY id').all()
    expect(() => db.prepare('SELECT rowid FROM outbox').all()).toThrow(/rowid/)

    expect(applyMigrations(db)).toContain('0006_outbox_rowid.sql')
    expect(db.prepare('SELECT * FROM outbox ORDER BY id').all()).toEqual(rows)
    expect(db.prepare('SELECT rowid FROM outbox').all()).toHaveLength(2)
    const plan = db
      .prepare(
        "EXPLAIN QUERY PLAN SELECT id FROM outbox WHERE status = 'pending' AND ordering_key = ?",
      )
      .all('mautic:42') as { detail: string }[]
    expect(plan.map((p) => p.detail).join()).toContain('outbox_pending')
    expect(() => insert.run('0190a', 'x', null, '{}', 'pending', 1, 1, null)).toThrow(/UNIQUE/)
  })

  it('rolls a failing migration back whole and names the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cg-mig-'))
    writeFileSync(join(dir, '0001_ok.sql'), 'CREATE TABLE a (x INTEGER);')
    writeFileSync(
      join(dir, '0002_bad.sql'),
      'CREATE TABLE b (x INTEGER);\nINSERT INTO nope VALUES (1);',
    )
    const db = openSqlite(':memory:')
    expect(() => applyMigrations(db, dir)).toThrow(/0002_bad\.sql/)
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all()
    expect(tables).toContain('a')
    expect(tables).not.toContain('b')
    expect(db.prepare('SELECT name FROM d1_migrations').pluck().all()).toEqual(['0001_ok.sql'])
  })
})

describe('atomic(queries) on better-sqlite3', () => {
  const suppression = (bidx: string) => ({
    email_bidx: bidx,
    bidx_kid: 'k1',
    reason: 'erased' as const,
    created_at: 1,
  })

  it('commits every statement of the unit', async () => {
    const { deps } = await testDeps()
    await deps.atomic([
      deps.db.insertInto('suppressions').values(suppression('a')).compile(),
      deps.db.insertInto('suppressions').values(suppression('b')).compile(),
    ])
    const rows = await deps.db.selectFrom('suppressions').select('email_bidx').execute()
    expect(rows.map((r) => r.email_bidx).sort()).toEqual(['a', 'b'])
  })

  it('rolls back the statements before a failing one', async () => {
    const { deps } = await testDeps()
    await expect(
      deps.atomic([
        deps.db.insertInto('suppressions').values(suppression('first')).compile(),
        deps.db.insertInto('suppressions').values(suppression('dup')).compile(),
        deps.db.insertInto('suppressions').values(suppression('dup')).compile(), // PRIMARY KEY violation
      ]),
    ).rejects.toThrow(/UNIQUE/)
    expect(await deps.db.selectFrom('suppressions').selectAll().execute()).toEqual([])
  })

  it('binds booleans as 0/1 (better-sqlite3 refuses JS booleans)', async () => {
    const db = openSqlite(':memory:')
    db.exec('CREATE TABLE f (b INTEGER)')
    await sqliteAtomic(db)([
      { sql: 'INSERT INTO f (b) VALUES (?), (?)', parameters: [true, false] } as never,
    ])
    expect(db.prepare('SELECT b FROM f').pluck().all()).toEqual([1, 0])
  })
})
