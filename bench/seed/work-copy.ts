/**
 * @module The seeded database as the bench's scenarios use it: one copy per run of the cached file
 * (bench/seed/cache.ts), made by the parent before the first scenario that needs it and removed at
 * the end, so that what a run writes (webhooks, events, API keys) never reaches the cache. The copy's
 * path and the cache's figures travel to the child processes in the environment.
 */
import { closeSync, copyFileSync, openSync, readFileSync, readSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { CACHE_DIR, seededDatabase, type SeededDatabase, type SeededMeta } from './cache.ts'

const PATH_VAR = 'BENCH_SEEDED_DB'
const META_VAR = 'BENCH_SEEDED_META'

/** BENCH_CONTACTS, default 1,000,000. */
export function benchContacts(): number {
  const raw = process.env.BENCH_CONTACTS
  const n = raw === undefined || raw === '' ? 1_000_000 : Number(raw)
  if (!Number.isInteger(n) || n < 1) throw new Error('BENCH_CONTACTS must be a positive integer')
  return n
}

export interface WorkCopy {
  seeded: SeededDatabase
  remove(): void
}

/** Finds or builds the seeded database, copies it for this run, and tells the children where. */
export async function makeWorkCopy(log: (line: string) => void): Promise<WorkCopy> {
  const seeded = await seededDatabase({ contacts: benchContacts(), log })
  const path = join(CACHE_DIR, `work-${process.pid}.db`)
  log(`copying the seeded database for this run (${(seeded.build.fileBytes / 1e9).toFixed(2)} GB)`)
  copyFileSync(seeded.path, path)
  process.env[PATH_VAR] = path
  process.env[META_VAR] = seeded.path.replace(/\.db$/, '.json')
  const remove = () => {
    for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true })
  }
  process.once('exit', remove)
  return { seeded, remove }
}

/** In a child: the run's copy of the seeded database and the cache's figures (its id sample). */
export function seededWorkCopy(): { path: string; meta: SeededMeta } {
  const path = process.env[PATH_VAR]
  const metaPath = process.env[META_VAR]
  if (!path || !metaPath)
    throw new Error(`${PATH_VAR} is not set: the seeded scenarios run under bench/run.ts`)
  primePageCache(path)
  return { path, meta: JSON.parse(readFileSync(metaPath, 'utf8')) as SeededMeta }
}

/**
 * Reads the whole file once, in order, so that its pages are in the page cache before anything is
 * timed: a scenario that looks contacts up at random in a file the kernel has let go of measures the
 * disk (one full run saw the seeded batch gate at 2.3 % of its baseline, against 44–49 % with the
 * file cached). Sequential reads cost 0.7 s cached and 3 s from this machine's disk.
 */
function primePageCache(path: string): void {
  const buffer = Buffer.allocUnsafe(4 * 1024 * 1024)
  const fd = openSync(path, 'r')
  try {
    while (readSync(fd, buffer, 0, buffer.length, null) > 0);
  } finally {
    closeSync(fd)
  }
}
