import Database from 'better-sqlite3'
import { sql } from 'kysely'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { compiler } from '../../../../src/db/prepared.ts'
import { holdCommits } from '../../../../src/runtime/node/group-commit.ts'
import { openSqlite, sqliteAtomic } from '../../../../src/runtime/node/sqlite.ts'

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

function files(commit?: { windowMs: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'group-commit-'))
  dirs.push(dir)
  const path = join(dir, 'db.sqlite')
  const db = openSqlite(path)
  db.exec('CREATE TABLE t (id TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID')
  // A second connection sees only what is committed.
  const other = new Database(path, { readonly: true })
  // Commits, counted in the write-ahead log: each appends its changed pages as frames, and every unit
  // here changes t's one page (no rowid: one B-tree). PRAGMA data_version only tells that some were.
  const pageSize = db.pragma('page_size', { simple: true }) as number
  const commits = () => (statSync(`${path}-wal`).size - 32) / (pageSize + 24)
  const count = () => (other.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n
  return { db, atomic: sqliteAtomic(db, undefined, commit), commits, count, other }
}

const insert = (id: string, v = 1) =>
  sql`INSERT INTO t (id, v) VALUES (${id}, ${v})`.compile(compiler)

describe('group commit (the atomic port on Node)', () => {
  it('holds every unit back while the checkpointer asks (holdCommits), then commits them together', async () => {
    const { db, atomic, commits, count } = files()
    const before = commits()
    const release = holdCommits(db)
    let done = 0
    const units = Array.from({ length: 5 }, (_, i) => atomic([insert(`h${i}`)]).then(() => done++))
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect([done, count(), commits()]).toEqual([0, 0, before])
    release()
    release() // a second call changes nothing
    await Promise.all(units)
    expect([done, count(), commits()]).toEqual([5, 5, before + 1])
  })

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

  // A window of a second here, so that these tests do not depend on how busy the machine is.
  it('after a concurrent batch, gathers units that arrive turns apart within the window', async () => {
    const { atomic, commits, count } = files({ windowMs: 1_000 })
    await Promise.all([atomic([insert('w1')]), atomic([insert('w2')])])
    const before = commits()
    const first = atomic([insert('w3')])
    await new Promise((resolve) => setImmediate(resolve))
    await new Promise((resolve) => setTimeout(resolve, 20))
    const second = atomic([insert('w4')])
    await Promise.all([first, second])
    expect(count()).toBe(4)
    expect(commits()).toBe(before + 1)
  })

  it('never makes one caller after another wait for the window', async () => {
    const { atomic, commits } = files({ windowMs: 1_000 })
    // A concurrent batch first: the next lone unit waits the window once, then the batches are lone.
    await Promise.all([atomic([insert('c1')]), atomic([insert('c2')])])
    const before = commits()
    const started = performance.now()
    for (let i = 0; i < 10; i++) await atomic([insert(`seq${i}`)])
    expect(commits()).toBe(before + 10)
    // Ten windows would be 10 s; one window and nine turns are little more than 1 s.
    expect(performance.now() - started).toBeLessThan(5_000)
  })

  it('does not wait for the window after a large batch: one turn gathers enough then', async () => {
    const { atomic } = files({ windowMs: 1_000 })
    await Promise.all(Array.from({ length: 10 }, (_, i) => atomic([insert(`b${i}`)])))
    const started = performance.now()
    await atomic([insert('after')])
    expect(performance.now() - started).toBeLessThan(500)
  })

  it('rejects every caller when the database is gone', async () => {
    const { db, atomic } = files()
    const pending = [atomic([insert('x')]), atomic([insert('y')])]
    db.close()
    for (const p of pending) await expect(p).rejects.toThrow(/not open/)
  })
})
