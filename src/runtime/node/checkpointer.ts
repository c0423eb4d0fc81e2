/**
 * @module WAL checkpoints off the request path. SQLite's automatic checkpoint runs inside the
 * commit that crosses 1,000 WAL pages and copies them into the database file there and then, for
 * milliseconds (as measured: bench/results.md, "Measurements behind design choices"), stalling
 * every request of a group commit (and a webhook's p99: Mautic waits on us). The server turns it
 * off and checkpoints from a worker thread with a connection of its own instead; PASSIVE never
 * blocks the writer or readers (sqlite.org/wal.html#ckpt), and the writer rewinds the WAL once a
 * checkpoint has caught up, which past START_OVER_FRAMES the checkpointer brings about. Checkpoints
 * come once a second, or more often when the WAL grows fast (BATCH_FRAMES). Without this
 * (tests, CLI) SQLite's own checkpoint stays on.
 */
import type Database from 'better-sqlite3'
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { holdCommits } from './group-commit.ts'

// Plain CommonJS evaluated in the worker: no TypeScript loader needed there.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.path)
db.pragma('busy_timeout = 5000')
const { everyMs, soonestMs, batchFrames, startOverFrames, report } = workerData
const checkpoint = () => db.pragma('wal_checkpoint(PASSIVE)')[0]
let holding = false
let lastLog = 0
let lastAt = performance.now()
/** The wait before the next checkpoint: batchFrames more frames at the last interval's pace. */
function paced(log) {
  const now = performance.now()
  // A smaller count than last time: the writer started the WAL over meanwhile.
  const added = log >= lastLog ? log - lastLog : log
  const perMs = added / Math.max(1, now - lastAt)
  lastLog = log
  lastAt = now
  return perMs > 0 ? Math.min(everyMs, Math.max(soonestMs, batchFrames / perMs)) : everyMs
}
function startOver() {
  // Again for what was committed meanwhile, until one is quick: the writes are held only then,
  // for the little a quick one leaves (else the next turn tries again).
  for (let i = 0; i < 5; i++) {
    const start = performance.now()
    checkpoint()
    if (performance.now() - start > 5) continue
    holding = true
    parentPort.postMessage({ hold: true })
    return
  }
}
let timer
function tick() {
  let wait = everyMs
  if (!holding) {
    try {
      const { log } = checkpoint()
      wait = paced(log)
      if (report) parentPort.postMessage({ checkpointed: log })
      if (log >= startOverFrames) startOver()
    } catch (err) { parentPort.postMessage({ error: String(err) }) }
  }
  timer = setTimeout(tick, wait)
}
timer = setTimeout(tick, everyMs)
parentPort.on('message', (m) => {
  if (m === 'held') {
    try { checkpoint() } catch (err) { parentPort.postMessage({ error: String(err) }) }
    holding = false
    parentPort.postMessage({ release: true })
    return
  }
  clearTimeout(timer); db.close(); parentPort.close()
})
`

export interface Checkpointer {
  stop(): Promise<void>
}

/**
 * WAL frames (4 KB pages) past which the checkpointer makes the WAL start over. A PASSIVE checkpoint
 * copies the frames committed before it began, and the writer rewinds the WAL when it begins a write
 * with every frame copied; under a steady stream of commits that moment never comes. On the million-
 * contact database the WAL grew by 130 MB a second without end, and each new frame cost the kernel a
 * zeroed page (bench/results.md, "WAL start-over"). Past this size the checkpointer asks the server to
 * hold its commits back (holdCommits: requests keep being served, reads go on, writes wait), copies
 * what is left, and lets them go: the next commit writes from the start of the file. SQLite's RESTART
 * checkpoint would do the same under a lock, which the writer waits for in a synchronous busy loop,
 * stalling the whole event loop (p99 at a fixed rate 35 ms instead of 14).
 */
export const START_OVER_FRAMES = 65_536
/**
 * Writes are never held longer: past it they go on, the WAL starts over at a later turn. A copy the
 * page cache no longer holds can take a second (the first on a freshly copied million-contact file
 * did); held that long, every webhook meanwhile would wait as long.
 */
const HOLD_MAX_MS = 100

/**
 * The pace (`CheckpointerOptions`): a checkpoint every second when few frames come (at 100 webhooks/s,
 * four a second made the p99 worse in every paired run), and more often as more come, each copying
 * about BATCH_FRAMES: at 1,200 webhooks/s a checkpoint a second copied ~8,000 frames in 22-36 ms of
 * its thread, and on two cores the requests meanwhile came out in a cluster of slow answers every
 * second (bench/results.md, "Checkpoint pace"). A checkpoint also syncs the WAL: the writes that a
 * power cut could take (synchronous = NORMAL) are at most the frames since the last one.
 */
export const BATCH_FRAMES = 2_000

export interface CheckpointerOptions {
  /** The longest wait between two checkpoints. */
  everyMs?: number
  /** The shortest, however fast frames come. */
  soonestMs?: number
  /** Frames a checkpoint should find: the next waits until about that many more should be there. */
  batchFrames?: number
  startOverFrames?: number
  /** Told the WAL's frame count at each paced checkpoint (tests). */
  onCheckpoint?: (walFrames: number) => void
}

export function startCheckpointer(
  db: Database.Database,
  onError: (message: string) => void,
  {
    everyMs = 1_000,
    soonestMs = 250,
    batchFrames = BATCH_FRAMES,
    startOverFrames = START_OVER_FRAMES,
    onCheckpoint,
  }: CheckpointerOptions = {},
): Checkpointer | undefined {
  if (db.memory) return undefined
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: {
      driver,
      path: db.name,
      everyMs,
      soonestMs: Math.min(soonestMs, everyMs),
      batchFrames,
      startOverFrames,
      report: onCheckpoint !== undefined,
    },
  })
  let release: (() => void) | undefined
  const releaseNow = () => {
    if (!release) return
    release()
    release = undefined
    worker.unref()
  }
  worker.on(
    'message',
    (m: { error?: string; hold?: true; release?: true; checkpointed?: number }) => {
      if (m.error !== undefined) onError(m.error)
      else if (m.checkpointed !== undefined) onCheckpoint?.(m.checkpointed)
      else if (m.release) releaseNow()
      else if (m.hold) {
        // Between two event-loop turns no transaction is open: held from here on.
        // Held writes wait for the worker's answer: it keeps the process up (a CLI run, a test) till then.
        worker.ref()
        const held = (release = holdCommits(db))
        setTimeout(() => release === held && releaseNow(), HOLD_MAX_MS).unref()
        worker.postMessage('held')
      }
    },
  )
  worker.on('error', (err) => onError(String(err)))
  worker.on('exit', releaseNow)
  worker.unref()
  db.pragma('wal_autocheckpoint = 0')
  let stopped: Promise<void> | undefined
  return {
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        releaseNow()
        worker.once('exit', () => resolve())
        worker.ref() // held by nothing else now: keep the process up until the worker has closed
        worker.postMessage('stop')
        // A worker stuck in a checkpoint must not hold the shutdown.
        setTimeout(() => void worker.terminate(), 2_000).unref()
      })),
  }
}
