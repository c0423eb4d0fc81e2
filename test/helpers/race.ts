/**
 * Holds the first two atomic writes until both have arrived, as when two requests both read before
 * either writes (one group commit on Node, two isolates on D1). Given several deps (two isolates
 * over one database), the two writes may come through any of them. Returns the undo. Runs on both
 * runtimes.
 */
import type { Atomic } from '../../src/db/database.ts'

export function holdTwoWrites(...all: { atomic: Atomic }[]): () => void {
  let arrived = 0
  let release!: () => void
  const bothArrived = new Promise<void>((resolve) => (release = resolve))
  const originals = all.map((deps) => deps.atomic)
  all.forEach((deps, i) => {
    const atomic = originals[i]!
    deps.atomic = async (queries) => {
      if (++arrived === 2) release()
      if (arrived <= 2) await bothArrived
      return atomic(queries)
    }
  })
  return () => all.forEach((deps, i) => (deps.atomic = originals[i]!))
}
