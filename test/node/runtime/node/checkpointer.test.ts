import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startCheckpointer } from '../../../../src/runtime/node/checkpointer.ts'
import { groupCommit } from '../../../../src/runtime/node/group-commit.ts'
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
    const checkpoints = startCheckpointer(db, (m) => errors.push(m), { everyMs: 20 })!
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

  it('makes the WAL start over once it passes a size, which a steady stream of commits never lets PASSIVE do', async () => {
    /** Commits of 50 scattered updates a millisecond apart for 1.5 s; the WAL's size and frames after. */
    async function steadyWrites(startOverFrames: number) {
      const dir = mkdtempSync(join(tmpdir(), 'checkpointer-'))
      dirs.push(dir)
      const path = join(dir, 'db.sqlite')
      const db = openSqlite(path)
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)')
      const insert = db.prepare('INSERT INTO t (v) VALUES (?)')
      db.transaction(() => {
        for (let i = 0; i < 100_000; i++) insert.run('x'.repeat(200))
      })()
      db.pragma('wal_checkpoint(TRUNCATE)')
      const errors: string[] = []
      const checkpoints = startCheckpointer(db, (m) => errors.push(m), {
        everyMs: 20,
        startOverFrames,
      })!
      const update = db.prepare('UPDATE t SET v = ? WHERE id = ?')
      // Through group commit, as the server writes: what the checkpointer holds back.
      const commit = groupCommit(db, (n: number) => {
        for (let k = 0; k < n; k++)
          update.run('y'.repeat(200), 1 + Math.floor(Math.random() * 100_000))
      })
      let commits = 0
      for (const start = performance.now(); performance.now() - start < 1_500;) {
        await commit(50)
        commits++
        await new Promise((resolve) => setTimeout(resolve, 1))
      }
      await checkpoints.stop()
      const { log } = (db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0]!
      const walMb = statSync(`${path}-wal`).size / 1e6
      db.close()
      expect(errors).toEqual([])
      return { walMb, framesSinceStart: log, commits }
    }
    // Without it, the same writes leave a WAL of ~200 MB here that only grows (the test's premise).
    const unbounded = await steadyWrites(Infinity)
    expect(unbounded.walMb).toBeGreaterThan(50)
    const bounded = await steadyWrites(2_000) // 8 MB
    expect(bounded.walMb).toBeLessThan(unbounded.walMb / 3)
    expect(bounded.framesSinceStart).toBeLessThan(unbounded.framesSinceStart / 4)
    // The holds cost the writes little (each waits for the copy of a few frames).
    expect(bounded.commits).toBeGreaterThan(unbounded.commits / 2)
  })

  it('checkpoints more often while the WAL grows fast, and once a second while it grows slowly', async () => {
    /** Commits of `rows` rows of 3 KB (about a WAL frame each) every 10 ms for 1.6 s: checkpoints. */
    async function checkpointsDuring(rows: number) {
      const dir = mkdtempSync(join(tmpdir(), 'checkpointer-'))
      dirs.push(dir)
      const db = openSqlite(join(dir, 'db.sqlite'))
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)')
      const errors: string[] = []
      const frames: number[] = []
      const checkpoints = startCheckpointer(db, (m) => errors.push(m), {
        everyMs: 1_000,
        soonestMs: 50,
        batchFrames: 300,
        onCheckpoint: (n) => frames.push(n),
      })!
      const insert = db.prepare('INSERT INTO t (v) VALUES (?)')
      const commit = db.transaction((n: number) => {
        for (let i = 0; i < n; i++) insert.run('x'.repeat(3_000))
      })
      for (const start = performance.now(); performance.now() - start < 1_600;) {
        commit(rows)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      await checkpoints.stop()
      db.close()
      expect(errors).toEqual([])
      return frames
    }
    // ~10,000 frames a second: after the first checkpoint (at 1 s), one every 50 ms.
    const fast = await checkpointsDuring(100)
    expect(fast.length).toBeGreaterThanOrEqual(3)
    // ~100 frames a second, far from 300 a checkpoint: the first at 1 s, the next at 2 s.
    const slow = await checkpointsDuring(1)
    expect(slow.length).toBeLessThanOrEqual(1)
  })

  it('does nothing for an in-memory database', () => {
    const db = openSqlite(':memory:')
    expect(startCheckpointer(db, () => {})).toBeUndefined()
    db.close()
  })
})
