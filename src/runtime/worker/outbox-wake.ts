/**
 * @module Outbox delivery after a commit on Workers, one pass at a time per isolate. Each request
 * that commits an outbox row wakes delivery with `ctx.waitUntil`; when every request started a pass
 * of its own, a burst of webhooks on one isolate ran as many passes at once, each reading the same
 * due rows and racing for them on the one D1 writer, until the isolate answered nothing at all
 * (bench/results.md, "Workers (local workerd)"). Now a wake during a pass asks that pass for one more
 * round instead, so rows committed meanwhile still go out right away. A pass stops asking for rounds
 * once it has handled ROWS_PER_PASS rows or run ROUNDS_PER_PASS rounds: every D1 query of a
 * `waitUntil` counts against the invocation's limit (1,000 on Workers Paid), and a row costs a few;
 * the rest goes with the next wake, or the cron trigger, the safety net. A pass cut short (waitUntil's time ran out) is taken as over
 * after STALE_MS.
 */
import type { Deferrer } from '../../deps.ts'
import type { DeliveryReport } from '../../domain/platform/outbox.ts'

/** Longer than a pass may live after its response (waitUntil's 30 s): past this, it was cut short. */
const STALE_MS = 35_000

/** Rows a pass handles, and rounds it runs, before it leaves the rest to the next wake. */
const ROWS_PER_PASS = 50
const ROUNDS_PER_PASS = 5

export function outboxWaker(deliver: () => Promise<DeliveryReport>, now: () => number = Date.now) {
  let startedAt: number | undefined
  let again = false
  return (ctx?: () => Deferrer | undefined): void => {
    const c = ctx?.()
    if (!c) return
    if (startedAt !== undefined && now() - startedAt < STALE_MS) {
      again = true
      return
    }
    const mine = (startedAt = now())
    c.waitUntil(
      (async () => {
        try {
          let handled = 0
          let rounds = 0
          do {
            again = false
            const r = await deliver()
            handled += r.delivered + r.retried + r.dead
          } while (again && handled < ROWS_PER_PASS && ++rounds < ROUNDS_PER_PASS)
        } finally {
          if (startedAt === mine) startedAt = undefined
        }
      })(),
    )
  }
}
