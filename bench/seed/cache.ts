/**
 * @module The seeded database, cached: `seededDatabase({ contacts })` returns a file of that many
 * contacts (five consent events each) built by bench/seed/build.ts, building it first when the cache
 * has none for the current migrations and builder. Built once, it serves every later run, and any
 * other code that needs a large database (the admin dashboard's bench) can call it the same way.
 *
 * The cache is `bench/.cache/` (git-ignored): `seeded-<contacts>-<key>.db` and a `.json` beside it
 * holding the build's figures and a sample of contact ids. The key is a hash of the migrations, the
 * builder's sources, the gateway sources that shape its rows, and the bench's APP_SECRET (the
 * encrypted fields and blind indexes depend on it): change any of them and the next call builds
 * anew (older files of that size are removed then). A build that is killed leaves nothing that
 * looks finished: it writes under a temporary name and renames at the end.
 *
 * From the command line: `node --import tsx bench/seed/cache.ts 1000000` builds (or finds) one.
 */
import { createHash } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MIGRATIONS_DIR } from '../../src/runtime/node/sqlite.ts'
import { APP_SECRET } from '../secrets.ts'
import { buildSeededDatabase, type BuildStats } from './build.ts'
import { EVENTS_PER_CONTACT } from './history.ts'
import { rawInsert, type RawInsert } from './raw-insert.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const CACHE_DIR = join(ROOT, 'bench', '.cache')

/** The builder's own sources (not this cache, the baseline or the scenarios' copy). */
const BUILDER_SOURCES = [
  'bench/secrets.ts',
  'bench/seed/build.ts',
  'bench/seed/build-thread.ts',
  'bench/seed/history.ts',
  'bench/seed/unit.ts',
]

/**
 * Gateway sources that define what a seeded row holds (columns, encryption and hash formats, blind
 * index, checkpoint, daily counters): a change to one rebuilds. Helpers they call for speed only are
 * left out.
 */
const SHAPING_SOURCES = [
  'src/db/repositories/contacts.ts',
  'src/db/repositories/counters.ts',
  'src/db/repositories/ledger.ts',
  'src/db/repositories/checkpoints.ts',
  'src/domain/consent/checkpoints.ts',
  'src/domain/consent/ledger.ts',
  'src/domain/consent/signing-keys.ts',
  'src/domain/platform/contacts.ts',
  'src/domain/platform/counters.ts',
  'src/lib/email.ts',
  'src/lib/keys.ts',
]

/** What the cache keeps beside each file. */
export interface SeededMeta {
  contacts: number
  events: number
  key: string
  /** When it was built (ISO 8601). */
  builtAt: string
  build: BuildStats
  /** The raw better-sqlite3 insert of as many rows of the same size (up to 2,000,000), same run. */
  baseline: RawInsert
}

export interface SeededDatabase extends SeededMeta {
  path: string
  /** True when this call built it (its figures were measured in this run). */
  builtNow: boolean
}

/** The hash naming the cached files: migrations, builder, shaping sources, APP_SECRET. */
export function cacheKey(): string {
  const hash = createHash('sha256')
  const files = [
    ...readdirSync(MIGRATIONS_DIR)
      .filter((f) => f.endsWith('.sql'))
      .sort()
      .map((f) => join(MIGRATIONS_DIR, f)),
    ...BUILDER_SOURCES.map((f) => join(ROOT, f)),
    ...SHAPING_SOURCES.map((f) => join(ROOT, f)),
  ]
  for (const file of files) hash.update(file.slice(ROOT.length)).update(readFileSync(file))
  return hash.update(APP_SECRET).digest('hex').slice(0, 16)
}

/** Whether process `pid` still runs (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * Removes this size's files of other keys (older migrations or builder) and the leftovers of builds
 * that died; refuses to start while another live process builds the same file.
 */
function clearStale(contacts: number, key: string): void {
  for (const f of readdirSync(CACHE_DIR)) {
    if (!f.startsWith(`seeded-${contacts}-`)) continue
    const building = /\.building-(\d+)\.db/.exec(f)
    if (building && alive(Number(building[1]))) {
      if (f.startsWith(`seeded-${contacts}-${key}.`))
        throw new Error(
          `process ${building[1]} is building this seeded database already (${f}): wait for it`,
        )
      continue
    }
    rmSync(join(CACHE_DIR, f), { force: true })
  }
}

/** Raw-insert rows to time against the build: enough for a steady rate, not the whole build again. */
const BASELINE_ROWS = 2_000_000

export async function seededDatabase(opts: {
  contacts: number
  /** Progress lines (the build takes minutes at a million contacts). */
  log?: (line: string) => void
  /** Build even when the cache has it (to measure the build again). */
  rebuild?: boolean
}): Promise<SeededDatabase> {
  const log = opts.log ?? (() => {})
  const key = cacheKey()
  const base = join(CACHE_DIR, `seeded-${opts.contacts}-${key}`)
  if (!opts.rebuild && existsSync(`${base}.db`) && existsSync(`${base}.json`)) {
    const meta = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as SeededMeta
    return { ...meta, path: `${base}.db`, builtNow: false }
  }

  mkdirSync(CACHE_DIR, { recursive: true })
  clearStale(opts.contacts, key)
  const events = opts.contacts * EVENTS_PER_CONTACT
  log(
    `building the seeded database: ${opts.contacts.toLocaleString('en-US')} contacts, ` +
      `${events.toLocaleString('en-US')} consent events, through the gateway's code ` +
      `(minutes at a million; kept in bench/.cache/ for the next runs)`,
  )
  const temporary = `${base}.building-${process.pid}.db`
  let reported = 0
  const build = await buildSeededDatabase({
    contacts: opts.contacts,
    path: temporary,
    onProgress: (done, total) => {
      if (done < total && done - reported < total / 10) return
      reported = done
      log(`  ${Math.round((100 * done) / total)} % (${done.toLocaleString('en-US')} contacts)`)
    },
  })
  log(
    `  built: ${Math.round(build.rowsPerSecond).toLocaleString('en-US')} rows/s over ` +
      `${build.rowsSeconds.toFixed(0)} s (and ${build.counterWrites.toLocaleString('en-US')} ` +
      `daily counter upserts), checkpoint ${build.checkpointSeconds.toFixed(1)} s, ` +
      `${(build.fileBytes / 1e9).toFixed(2)} GB; now the raw-insert baseline ...`,
  )
  const baseline = rawInsert(Math.min(build.rows, BASELINE_ROWS), build.avgRowBytes)
  renameSync(temporary, `${base}.db`)
  for (const suffix of ['-wal', '-shm']) rmSync(temporary + suffix, { force: true })
  const meta: SeededMeta = {
    contacts: build.contacts,
    events: build.events,
    key,
    builtAt: new Date().toISOString(),
    build,
    baseline,
  }
  writeFileSync(`${base}.json`, `${JSON.stringify(meta)}\n`)
  return { ...meta, path: `${base}.db`, builtNow: true }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const contacts = Number(process.argv[2] ?? 1_000_000)
  const db = await seededDatabase({
    contacts,
    log: (line) => console.error(line),
    rebuild: process.argv.includes('--rebuild'),
  })
  const { build, baseline } = db
  console.log(
    `${db.path}\n${db.contacts} contacts, ${db.events} events, built ${db.builtAt}: ` +
      `${Math.round(build.rowsPerSecond)} rows/s against ${Math.round(baseline.rowsPerSecond)} ` +
      `rows/s raw (${((100 * build.rowsPerSecond) / baseline.rowsPerSecond).toFixed(1)} %)`,
  )
}
