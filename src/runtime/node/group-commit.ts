/**
 * @module Group commit for the atomic port on Node. Concurrent requests each ask for a transaction
 * of their own; the units asked for in one turn of the event loop run in ONE SQLite transaction
 * instead. A failing unit must roll back alone, with only its caller getting the error: the batch
 * first runs plainly, and only when a unit fails is it run again with each unit inside a SAVEPOINT
 * of its own (units seldom fail, and the savepoints are a large share of a batch of small inserts).
 * Every caller is answered after the COMMIT, never before: nothing is acknowledged that is not
 * durable (a webhook's 200, a send's 202). A commit costs several times the few inserts of a unit,
 * so this is where throughput under concurrency comes from; a lone caller pays one event-loop turn.
 *
 * At a moderate rate one turn gathers too little: at half the webhook intake's highest rate most
 * batches held one or two units, and the request thread was busy most of the time. So after a batch
 * of two to five units the next waits `windowMs` (1 ms) for company instead of one turn: fewer
 * commits and turns. At that rate, in interleaved rounds, the window lowered the webhooks' p99 for
 * a little more latency at the median, and their CPU; with the cap below, p99 was lower in most
 * rounds. Not after a lone unit: one caller after another (an import, the CLI) would wait every
 * time. Not after six or more: one turn already gathers plenty, and waiting left the thread idle
 * (the highest rate fell). The figures behind all this: bench/results.md, "Measurements behind
 * design choices".
 */
import type Database from 'better-sqlite3'

interface Unit<Q> {
  queries: Q
  resolve(): void
  reject(err: unknown): void
}

/** A batch this large says one event-loop turn gathers enough (see above). */
const GATHER_BELOW = 6

interface Pausable {
  hold(): void
  release(): void
}

/** The group commits writing to each database, for `holdCommits`. */
const groups = new WeakMap<Database.Database, Set<Pausable>>()

/**
 * Holds back the commits of every group writing to `db` (units keep gathering, the event loop stays
 * free, reads go on) until the returned function is called: the WAL checkpointer copies the WAL's
 * last frames meanwhile, so that the next commit starts the WAL over (src/runtime/node/checkpointer.ts).
 */
export function holdCommits(db: Database.Database): () => void {
  const held = [...(groups.get(db) ?? [])]
  for (const g of held) g.hold()
  let released = false
  return () => {
    if (released) return
    released = true
    for (const g of held) g.release()
  }
}

export function groupCommit<Q>(
  db: Database.Database,
  runUnit: (queries: Q) => void,
  { windowMs = 1 }: { windowMs?: number } = {},
): (queries: Q) => Promise<void> {
  // Nested better-sqlite3 transactions are savepoints: a throw rolls back that unit only.
  const one = db.transaction(runUnit)
  const all = db.transaction((units: Unit<Q>[], failed: Map<Unit<Q>, unknown>) => {
    for (const unit of units) {
      try {
        one(unit.queries)
      } catch (err) {
        // Some errors (SQLITE_FULL, I/O) make SQLite roll the whole transaction back: the batch fails.
        if (!db.inTransaction) throw err
        failed.set(unit, err)
      }
    }
  })
  // First without savepoints (two statements fewer per unit): units seldom fail, and when one does
  // the transaction is rolled back whole and the batch runs again, each unit in its savepoint.
  const optimistic = db.transaction((units: Unit<Q>[]) => {
    for (const unit of units) runUnit(unit.queries)
  })
  let pending: Unit<Q>[] | undefined
  /** Whether the last batch says the next should wait for the window (see above). */
  let gather = false
  /** Holds in force (holdCommits): nothing is committed while there is one. */
  let holds = 0
  let groupsOfDb = groups.get(db)
  if (!groupsOfDb) groups.set(db, (groupsOfDb = new Set()))
  groupsOfDb.add({
    hold: () => void holds++,
    release: () => {
      holds--
      if (holds === 0 && pending) setImmediate(flush)
    },
  })

  function flush() {
    // Held: the release flushes what gathered meanwhile. Already flushed: a flush scheduled before
    // the hold and one scheduled by its release both come here.
    if (holds > 0 || !pending) return
    const units = pending
    pending = undefined
    gather = units.length > 1 && units.length < GATHER_BELOW
    if (units.length === 1) return alone(units[0]!)
    try {
      optimistic(units)
      for (const unit of units) unit.resolve()
      return
    } catch {
      // Rolled back whole (better-sqlite3 does on a throw): the careful pass below finds out who.
    }
    const failed = new Map<Unit<Q>, unknown>()
    try {
      all(units, failed)
    } catch (err) {
      // The COMMIT itself failed (disk full, I/O error): nothing of the batch is kept.
      for (const unit of units) unit.reject(err)
      return
    }
    for (const unit of units) {
      if (failed.has(unit)) unit.reject(failed.get(unit))
      else unit.resolve()
    }
  }

  // A lone unit is a transaction of its own, without the savepoint.
  function alone(unit: Unit<Q>) {
    try {
      one(unit.queries)
    } catch (err) {
      unit.reject(err)
      return
    }
    unit.resolve()
  }

  return (queries) =>
    new Promise<void>((resolve, reject) => {
      if (!pending) {
        pending = []
        if (gather) setTimeout(flush, windowMs)
        else setImmediate(flush)
      }
      pending.push({ queries, resolve, reject })
    })
}
