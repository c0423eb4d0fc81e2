/**
 * @module The seeded database's build baseline: a raw better-sqlite3 insert of rows of the same size,
 * 10,000 per transaction, one prepared statement, into a table with nothing but its rowid, on a file
 * opened as the gateway opens its own (src/runtime/node/sqlite.ts) with the builder's page cache.
 * The fastest rows of that size can be written here: the builder's rate is reported against it.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openSqlite } from '../../src/runtime/node/sqlite.ts'
import { BUILD_CACHE_KIB, ROWS_PER_UNIT } from './build.ts'

export interface RawInsert {
  rows: number
  rowBytes: number
  seconds: number
  rowsPerSecond: number
}

/** Inserts `rows` rows of `rowBytes` bytes (ASCII) each into a fresh temporary file, and times it. */
export function rawInsert(rows: number, rowBytes: number): RawInsert {
  const dir = mkdtempSync(join(tmpdir(), 'bench-raw-insert-'))
  try {
    const db = openSqlite(join(dir, 'raw.db'))
    db.pragma(`cache_size = -${BUILD_CACHE_KIB}`)
    db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)')
    const insert = db.prepare('INSERT INTO rows (body) VALUES (?)')
    // A different value in every row, of the same length: its number at the end of a fixed filler.
    const size = Math.max(12, Math.round(rowBytes))
    const filler = 'x'.repeat(size - 12)
    const unit = db.transaction((first: number, n: number) => {
      for (let i = first; i < first + n; i++) insert.run(filler + String(i).padStart(12, '0'))
    })
    const start = performance.now()
    for (let first = 0; first < rows; first += ROWS_PER_UNIT)
      unit(first, Math.min(ROWS_PER_UNIT, rows - first))
    const seconds = (performance.now() - start) / 1000
    db.close()
    return { rows, rowBytes: size, seconds, rowsPerSecond: rows / seconds }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
