/**
 * @module WAL checkpoints off the request path. SQLite's automatic checkpoint runs inside the
 * commit that crosses 1,000 WAL pages and copies them into the database file there and then, for
 * milliseconds (as measured: bench/results.md, "Measurements behind design choices"), stalling
 * every request of a group commit (and a webhook's p99: Mautic waits on us). The server turns it
 * off and checkpoints from a worker thread with a connection of its own instead; PASSIVE never
 * blocks the writer or readers (sqlite.org/wal.html#ckpt), and the writer rewinds the WAL once a
 * checkpoint has caught up, or once a RESTART checkpoint made it (RESTART_FRAMES). Without this
 * (tests, CLI) SQLite's own checkpoint stays on.
 */
import type Database from 'better-sqlite3'
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

// Plain CommonJS evaluated in the worker: no TypeScript loader needed there.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.path)
db.pragma('busy_timeout = 5000')
const timer = setInterval(() => {
  try {
    const [passive] = db.pragma('wal_checkpoint(PASSIVE)')
    if (passive.log >= workerData.restartFrames) db.pragma('wal_checkpoint(RESTART)')
  } catch (err) { parentPort.postMessage(String(err)) }
}, workerData.everyMs)
parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close() })
`

export interface Checkpointer {
  stop(): Promise<void>
}

/**
 * WAL frames (4 KB pages) past which the checkpointer makes the WAL start over. A PASSIVE checkpoint
 * copies the frames committed before it began; under a steady stream of commits it never finds all
 * of them copied when the next write begins, and the writer rewinds the WAL only then. On the million-
 * contact database the WAL grew by 130 MB a second, without end, and each new frame cost the kernel
 * a zeroed page (bench/results.md, "WAL restart"). RESTART waits for the writer's current
 * transaction, copies what is left (little, right after a PASSIVE), and holds new writes back until
 * it is done, so the next commit writes from the start of the file again.
 */
export const RESTART_FRAMES = 16_384

export function startCheckpointer(
  db: Database.Database,
  onError: (message: string) => void,
  everyMs = 1_000,
  restartFrames = RESTART_FRAMES,
): Checkpointer | undefined {
  if (db.memory) return undefined
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { driver, path: db.name, everyMs, restartFrames },
  })
  worker.on('message', onError)
  worker.on('error', (err) => onError(String(err)))
  worker.unref()
  db.pragma('wal_autocheckpoint = 0')
  let stopped: Promise<void> | undefined
  return {
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        worker.once('exit', () => resolve())
        worker.ref() // held by nothing else now: keep the process up until the worker has closed
        worker.postMessage('stop')
        // A worker stuck in a checkpoint must not hold the shutdown.
        setTimeout(() => void worker.terminate(), 2_000).unref()
      })),
  }
}
