/**
 * Holds the first two atomic writes until both have arrived, as when two requests both read before
 * either writes (one group commit on Node, two isolates on D1). Returns the undo. Runs on both runtimes.
 */
import type { Atomic } from '../../src/db/database.ts'

export function holdTwoWrites(deps: { atomic: Atomic }): () => void {
  const atomic = deps.atomic
  let arrived = 0
  let release!: () => void
  const bothArrived = new Promise<void>((resolve) => (release = resolve))
  deps.atomic = async (queries) => {
    if (++arrived === 2) release()
    await bothArrived
    return atomic(queries)
  }
  return () => {
    deps.atomic = atomic
  }
}
