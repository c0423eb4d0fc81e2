import Database from 'better-sqlite3'
import { sql } from 'kysely'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { compiler } from '../../src/db/prepared.ts'
import { openSqlite, sqliteAtomic } from '../../src/runtime/node/sqlite.ts'

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

function files() {
  const dir = mkdtempSync(join(tmpdir(), 'group-commit-'))
  dirs.push(dir)
  const path = join(dir, 'db.sqlite')
  const db = openSqlite(path)
  db.exec('CREATE TABLE t (id TEXT PRIMARY KEY, v INTEGER NOT NULL)')
  // A second connection sees only what is committed, and counts other connections' commits.
  const other = new Database(path, { readonly: true })
  const commits = () => other.pragma('data_version', { simple: true }) as number
  const count = () => (other.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n
  return { db, atomic: sqliteAtomic(db), commits, count, other }
}

const insert = (id: string, v = 1) =>
  sql`INSERT INTO t (id, v) VALUES (${id}, ${v})`.compile(compiler)

describe('group commit (the atomic port on Node)', () => {
  it('commits the units of concurrent callers together, once', async () => {
    const { atomic, commits, count } = files()
    const before = commits()
    await Promise.all(Array.from({ length: 20 }, (_, i) => atomic([insert(`r${i}`)])))
    expect(count()).toBe(20)
    expect(commits()).toBe(before + 1)
  })

  it('answers no caller before its unit is committed and visible to another connection', async () => {
    const { atomic, count } = files()
    const seen: number[] = []
    await Promise.all(
      [0, 1, 2].map((i) => atomic([insert(`s${i}`)]).then(() => seen.push(count()))),
    )
    expect(seen).toEqual([3, 3, 3])
  })

  it('rolls a failing unit back alone: the others commit, its caller gets the error', async () => {
    const { atomic, count, other } = files()
    await atomic([insert('taken')])
    const results = await Promise.allSettled([
      atomic([insert('a1'), insert('a2')]),
      // Its first insert would succeed; the second breaks the primary key: neither may stay.
      atomic([insert('b1'), insert('taken')]),
      atomic([insert('c1')]),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(String((results[1] as PromiseRejectedResult).reason)).toContain('UNIQUE')
    const ids = other.prepare('SELECT id FROM t ORDER BY id').pluck().all()
    expect(ids).toEqual(['a1', 'a2', 'c1', 'taken'])
    expect(count()).toBe(4)
  })

  it('runs a lone unit as a transaction of its own: all of it or none', async () => {
    const { atomic, other, commits } = files()
    await atomic([insert('taken')])
    const before = commits()
    await expect(atomic([insert('d1'), insert('taken')])).rejects.toThrow(/UNIQUE/)
    await atomic([insert('e1'), insert('e2')])
    expect(other.prepare('SELECT id FROM t ORDER BY id').pluck().all()).toEqual([
      'e1',
      'e2',
      'taken',
    ])
    expect(commits()).toBe(before + 1)
  })

  it('rejects every caller when the database is gone', async () => {
    const { db, atomic } = files()
    const pending = [atomic([insert('x')]), atomic([insert('y')])]
    db.close()
    for (const p of pending) await expect(p).rejects.toThrow(/not open/)
  })
})
