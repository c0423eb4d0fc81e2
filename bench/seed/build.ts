/**
 * @module Builds a seeded gateway database of any size (the 1,000,000 contacts and 5,000,000
 * consent events) through the gateway's own code: the migrations applied by the Node runner, each
 * contact made by `newContact` (its blind index, its encrypted address and data key), each event
 * chained by `buildEventQueries` (the evidence sealed under the contact's key, the hash linking it to
 * the previous one, the consent_state upsert it implies, the daily counters it adds to), written by
 * the atomic port `deps.atomic` in units of about 10,000 rows, then one signed ledger checkpoint, as
 * the hourly job signs. What comes out passes `consent-gateway verify-ledger`, and its daily counters
 * hold what the ledger holds, written in the events' own units as every writer of the ledger writes
 * them (src/domain/platform/counters.ts); the counters' backfill of what came before migration 0013
 * is run once on the empty ledger, as the scheduled jobs run it on a fresh database, and so finds
 * nothing to count and says it is finished. Each contact's story is in bench/seed/history.ts.
 *
 * Two liberties, both for speed and neither changing a row: every address is known to be new, so no
 * look-up runs before each contact (`prepareContact` would find nobody); and the contact ids, random
 * v4 as the gateway draws them, are drawn ahead and handed out in sorted order, so that the B-trees
 * keyed by contact id grow at their right edge (written in random order, each unit of 10,000 rows
 * dirtied thousands of pages and the rate halved from 20,000 to 200,000 contacts). Making the rows
 * (seven AES-GCM seals and five SHA-256 a contact) costs about as much CPU as writing them, so
 * builder threads make the units (bench/seed/build-thread.ts) while this thread, the one writer
 * SQLite allows, writes them in unit order.
 *
 * Use `seededDatabase()` (bench/seed/cache.ts) to get a cached copy; this module builds one file.
 */
import type Database from 'better-sqlite3'
import { CompiledQuery } from 'kysely'
import { existsSync, rmSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { parseConfig } from '../../src/config.ts'
import { maybeCheckpoint } from '../../src/domain/consent/checkpoints.ts'
import { loadPurposes } from '../../src/domain/consent/purposes.ts'
import { backfillCounters } from '../../src/domain/platform/counters.ts'
import { jsonLogger } from '../../src/lib/log.ts'
import { nodeDeps } from '../../src/runtime/node/deps.ts'
import { applyMigrations, openSqlite } from '../../src/runtime/node/sqlite.ts'
import { APP_SECRET } from '../secrets.ts'
import type { ThreadData, UnitMessage } from './build-thread.ts'
import { EVENTS_PER_CONTACT } from './history.ts'
import { settableClock } from './unit.ts'

/** Rows written per atomic unit (one SQLite transaction), as the issue asks of the build and its baseline. */
export const ROWS_PER_UNIT = 10_000
/** Rows one contact writes: itself, its events and one consent_state upsert per event. */
export const ROWS_PER_CONTACT = 1 + 2 * EVENTS_PER_CONTACT

/**
 * Page cache of each connection while building (the default is 2 MB): a unit's pages, and the path to
 * the right edge of every B-tree, stay in memory between units. The raw-insert baseline runs with the
 * same setting (bench/seed/raw-insert.ts).
 */
export const BUILD_CACHE_KIB = 262_144

export interface SeedOptions {
  /** Number of contacts; each gets EVENTS_PER_CONTACT events. */
  contacts: number
  /** The file to write (replaced if it exists). */
  path: string
  /** The contacts are created over [from, until); defaults: the two years before `until`. */
  from?: number
  /** Defaults to now, rounded down to the hour (events stay before it, the checkpoint covers them). */
  until?: number
  /** Builder threads making units while this thread writes; default: one per CPU but one, at least one. */
  threads?: number
  /** Called after each unit with the contacts written so far. */
  onProgress?: (done: number, total: number) => void
}

export interface BuildStats {
  contacts: number
  events: number
  /** consent_state rows at the end (each contact's purposes). */
  states: number
  /** Rows written: contacts, events and consent_state upserts (an upsert writes its row each time). */
  rows: number
  /**
   * The daily counters' upserts written with the events, in their units: work the build does in
   * `rowsSeconds` on top of the rows, not counted in them.
   */
  counterWrites: number
  /** Average size of a row written: the bytes of its values as bound. */
  avgRowBytes: number
  /** Time spent making and writing the rows (the rate's denominator). */
  rowsSeconds: number
  rowsPerSecond: number
  /** CPU time of the whole process (every thread) per row: steadier than the rate on a shared machine. */
  cpuUsPerRow: number
  threads: number
  /** The signed checkpoint, apart: it reads every chain head rather than write rows. */
  checkpointSeconds: number
  /** Size of the file once built. */
  fileBytes: number
  /** About 10,000 contacts spread over the database (number and id): for scenarios that need ids. */
  sample: { index: number; id: string }[]
}

const HOUR = 3_600_000
const SAMPLE_SIZE = 10_000
const THREAD = fileURLToPath(new URL('./build-thread.ts', import.meta.url))
/** As src/runtime/node/webhook-reader.ts boots its thread: tsx's require hook, then the entry. */
const BOOT = `
const { workerData } = require('node:worker_threads')
require(workerData.tsx).register()
require(workerData.entry)
`
const TSX = createRequire(import.meta.url).resolve('tsx/cjs/api')

/** The gateway's Node deps on the file being built, with a clock the builder sets. */
async function builderDeps(sqlite: Database.Database) {
  sqlite.pragma(`cache_size = -${BUILD_CACHE_KIB}`)
  const clock = settableClock()
  const deps = await nodeDeps({
    config: {
      ...parseConfig({ APP_SECRET, PUBLIC_URL: 'https://gateway.bench' }),
      appSecret: APP_SECRET,
    },
    sqlite,
    clock,
    logger: jsonLogger(() => {}),
  })
  return { ...deps, clock }
}

export async function buildSeededDatabase(opts: SeedOptions): Promise<BuildStats> {
  const until = opts.until ?? Math.floor(Date.now() / HOUR) * HOUR
  const from = opts.from ?? until - 730 * 24 * HOUR
  const total = opts.contacts
  for (const suffix of ['', '-wal', '-shm'])
    if (existsSync(opts.path + suffix)) rmSync(opts.path + suffix)
  const sqlite = openSqlite(opts.path)
  applyMigrations(sqlite)

  // Random v4 ids as the gateway draws them, handed out in sorted order (see above).
  const ids = Array.from({ length: total }, () => crypto.randomUUID()).sort()
  const sampleEvery = Math.max(1, Math.floor(total / SAMPLE_SIZE))
  const sample: BuildStats['sample'] = []
  for (let i = 0; i < total; i += sampleEvery) sample.push({ index: i, id: ids[i]! })

  const threads = opts.threads ?? Math.max(1, availableParallelism() - 1)
  const perUnit = Math.max(1, Math.floor(ROWS_PER_UNIT / ROWS_PER_CONTACT))
  const units = Math.ceil(total / perUnit)
  const written = new Int32Array(new SharedArrayBuffer(4))
  const deps = await builderDeps(sqlite)
  // Before the first event, on the empty ledger: the backfill's boundary (migration 0013) is 0.
  deps.clock.set(from)
  const backfill = await backfillCounters(deps)
  if (!backfill.finished || backfill.total !== 0)
    throw new Error('the counters backfill found rows to count in a fresh database')
  const purposes = [...(await loadPurposes(deps.db, from))]
  let rows = 0
  let counterWrites = 0
  let bytes = 0
  const cpu0 = process.cpuUsage()
  const start = performance.now()
  const workers = Array.from({ length: threads }, (_, thread) => {
    const data: ThreadData = {
      thread,
      threads,
      ids: ids.join(''),
      contacts: total,
      perUnit,
      from,
      until,
      purposes,
      written: written.buffer as SharedArrayBuffer,
      ahead: 2 * threads,
    }
    return new Worker(BOOT, {
      eval: true,
      workerData: { ...data, tsx: TSX, entry: THREAD },
    })
  })
  try {
    // The units come from the threads in any order and are written in unit order, one at a time.
    await new Promise<void>((resolve, reject) => {
      /** Units made, by number, with their queries, waiting for their turn. */
      type Made = { queries: CompiledQuery[]; rows: number; counterWrites: number; bytes: number }
      const made = new Map<number, Made>()
      const making = new Map<number, Made>()
      let writing = false
      const writeNext = async () => {
        if (writing) return
        writing = true
        try {
          for (let m = made.get(written[0]!); m; m = made.get(written[0]!)) {
            made.delete(written[0]!)
            await deps.atomic(m.queries)
            rows += m.rows
            counterWrites += m.counterWrites
            bytes += m.bytes
            Atomics.add(written, 0, 1)
            Atomics.notify(written, 0)
            opts.onProgress?.(Math.min(total, written[0]! * perUnit), total)
          }
        } catch (err) {
          reject(err as Error)
        } finally {
          writing = false
        }
        if (written[0] === units) resolve()
      }
      const onPart = (m: UnitMessage) => {
        let unit = making.get(m.unit)
        if (!unit) making.set(m.unit, (unit = { queries: [], rows: 0, counterWrites: 0, bytes: 0 }))
        for (let k = 0; k < m.params.length; k++)
          unit.queries.push(CompiledQuery.raw(m.sql[m.which[k]!]!, m.params[k]))
        unit.rows += m.rows
        unit.counterWrites += m.counterWrites
        unit.bytes += m.bytes
        if (!m.last) return
        making.delete(m.unit)
        made.set(m.unit, unit)
        void writeNext()
      }
      for (const w of workers) {
        w.on('message', onPart)
        w.on('error', reject)
        w.on('exit', (code) => {
          if (code !== 0) reject(new Error(`builder thread exited with ${code}`))
        })
      }
    })
  } finally {
    // Threads waiting for room learn that nothing more will be written.
    Atomics.store(written, 0, -1)
    Atomics.notify(written, 0)
    await Promise.all(workers.map((w) => w.terminate()))
  }
  const rowsSeconds = (performance.now() - start) / 1000
  const cpu = process.cpuUsage(cpu0)
  const cpuUsPerRow = (cpu.user + cpu.system) / rows

  // The hourly checkpoint, signed once every event is settled (maybeCheckpoint covers a minute back).
  const cpStart = performance.now()
  deps.clock.set(until + 2 * 60_000)
  await maybeCheckpoint(deps, true)
  const checkpointSeconds = (performance.now() - cpStart) / 1000

  const count = (table: string) =>
    (sqlite.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n
  const stats = {
    contacts: count('contacts'),
    events: count('consent_events'),
    states: count('consent_state'),
  }
  sqlite.pragma('wal_checkpoint(TRUNCATE)')
  sqlite.close()
  return {
    ...stats,
    rows,
    counterWrites,
    avgRowBytes: bytes / rows,
    rowsSeconds,
    rowsPerSecond: rows / rowsSeconds,
    cpuUsPerRow,
    threads,
    checkpointSeconds,
    fileBytes: statSync(opts.path).size,
    sample,
  }
}
