/**
 * @module A builder thread of bench/seed/build.ts: makes every `threads`-th unit of contacts
 * (bench/seed/unit.ts) and posts its queries to the writer, at most a few units ahead of the writes.
 * The gateway's code needs no database to make them: its hot queries are compiled once, with no
 * connection (src/db/prepared.ts), and the notices come from the writer.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { parseConfig } from '../../src/config.ts'
import { compiler } from '../../src/db/prepared.ts'
import type { Purpose } from '../../src/domain/consent/purposes.ts'
import { deriveKeys } from '../../src/lib/keys.ts'
import { nodeAead, nodeSha256 } from '../../src/runtime/node/crypto.ts'
import { APP_SECRET } from '../secrets.ts'
import { settableClock, unitRows } from './unit.ts'

export interface ThreadData {
  /** This thread's number, 0 … threads - 1: it makes units thread, thread + threads, … */
  thread: number
  threads: number
  /** All contact ids, sorted, 36 characters each, end to end (one string crosses threads cheaply). */
  ids: string
  contacts: number
  perUnit: number
  from: number
  until: number
  purposes: [string, Purpose][]
  /** Int32Array over shared memory: [0] counts the units written so far. */
  written: SharedArrayBuffer
  /** How many units a thread may make ahead of the writes (memory stays bounded). */
  ahead: number
}

/** Part of a unit's queries, in a form that crosses threads cheaply: each distinct SQL text once. */
export interface UnitMessage {
  kind: 'unit'
  unit: number
  /** The unit's last part: it can be written once this arrived. */
  last: boolean
  contacts: number
  /** Rows (contacts, events, states) and counter upserts among the queries (bench/seed/unit.ts). */
  rows: number
  counterWrites: number
  bytes: number
  sql: string[]
  /** For each query, the index of its SQL text. */
  which: number[]
  /** For each query, its parameters. */
  params: unknown[][]
}

const ID_LENGTH = 36
/** Contacts per message. */
const PART = 100

async function main(d: ThreadData) {
  const written = new Int32Array(d.written)
  const parsed = parseConfig({ APP_SECRET, PUBLIC_URL: 'https://gateway.bench' })
  const keys = await deriveKeys(APP_SECRET, parsed.appSecretPrevious, nodeAead)
  const deps = { db: compiler, keys, sha256: nodeSha256, clock: settableClock() }
  const purposes = new Map(d.purposes)
  const units = Math.ceil(d.contacts / d.perUnit)
  for (let u = d.thread; u < units; u += d.threads) {
    for (let done = Atomics.load(written, 0); done < u - d.ahead; done = Atomics.load(written, 0)) {
      if (done < 0) return // the writer failed
      Atomics.wait(written, 0, done)
    }
    const first = u * d.perUnit
    const count = Math.min(d.perUnit, d.contacts - first)
    // Posted in parts as they are made: rows kept until the whole unit was made would survive the
    // young generation's collections and be copied there over and over.
    for (let part = first; part < first + count; part += PART) {
      const n = Math.min(PART, first + count - part)
      const ids = Array.from({ length: n }, (_, k) =>
        d.ids.slice((part + k) * ID_LENGTH, (part + k + 1) * ID_LENGTH),
      )
      const { queries, rows, counterWrites, bytes } = await unitRows(deps, purposes, {
        first: part,
        ids,
        from: d.from,
        until: d.until,
      })
      const sql: string[] = []
      const which = queries.map((q) => {
        const at = sql.indexOf(q.sql)
        return at >= 0 ? at : sql.push(q.sql) - 1
      })
      const message: UnitMessage = {
        kind: 'unit',
        unit: u,
        last: part + n === first + count,
        contacts: n,
        rows,
        counterWrites,
        bytes,
        sql,
        which,
        params: queries.map((q) => q.parameters as unknown[]),
      }
      parentPort!.postMessage(message)
    }
  }
}

void main(workerData as ThreadData)
