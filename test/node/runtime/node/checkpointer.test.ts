import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startCheckpointer } from '../../../../src/runtime/node/checkpointer.ts'
import { openSqlite } from '../../../../src/runtime/node/sqlite.ts'

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

describe('WAL checkpoints from a worker thread', () => {
  it('turns the in-commit checkpoint off and copies the WAL into the database file in the background', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'checkpointer-'))
    dirs.push(dir)
    const path = join(dir, 'db.sqlite')
    const db = openSqlite(path)
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)')
    const errors: string[] = []
    const checkpoints = startCheckpointer(db, (m) => errors.push(m), 20)!
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0)
    const before = statSync(path).size
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)')
    db.transaction(() => {
      for (let i = 0; i < 2_000; i++) insert.run('x'.repeat(500))
    })()
    // The commit itself copied nothing: only the WAL grew.
    expect(statSync(path).size).toBe(before)
    await expect
      .poll(() => statSync(path).size, { timeout: 5_000 })
      .toBeGreaterThan(before + 500_000)
    await checkpoints.stop()
    expect(errors).toEqual([])
    expect((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(2_000)
    db.close()
  })

  it('does nothing for an in-memory database', () => {
    const db = openSqlite(':memory:')
    expect(startCheckpointer(db, () => {})).toBeUndefined()
    db.close()
  })
})
