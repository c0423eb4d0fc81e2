/**
 * @module WAL checkpoints off the request path. SQLite's automatic checkpoint runs inside the
 * commit that crosses 1,000 WAL pages and copies them into the database file there and then, for
 * milliseconds (as measured: bench/results.md, "Measurements behind design choices"), stalling
 * every request of a group commit (and a webhook's p99: Mautic waits on us). The server turns it
 * off and checkpoints from a worker thread with a connection of its own instead; PASSIVE never
 * blocks the writer or readers (sqlite.org/wal.html#ckpt), and the writer rewinds the WAL once a
 * checkpoint has caught up. Without this (tests, CLI) SQLite's own checkpoint stays on.
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
  try { db.pragma('wal_checkpoint(PASSIVE)') } catch (err) { parentPort.postMessage(String(err)) }
}, workerData.everyMs)
parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close() })
`

export interface Checkpointer {
  stop(): Promise<void>
}

export function startCheckpointer(
  db: Database.Database,
  onError: (message: string) => void,
  everyMs = 1_000,
): Checkpointer | undefined {
  if (db.memory) return undefined
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  const worker = new Worker(WORKER, { eval: true, workerData: { driver, path: db.name, everyMs } })
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
