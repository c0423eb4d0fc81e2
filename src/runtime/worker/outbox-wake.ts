/**
 * @module Outbox delivery after a commit on Workers, one pass at a time per isolate. Each request
 * that commits an outbox row wakes delivery with `ctx.waitUntil`; when every request started a pass
 * of its own, a burst of webhooks on one isolate ran as many passes at once, each reading the same
 * due rows and racing for them on the one D1 writer, until the isolate answered nothing at all
 * (bench/results.md, "Workers (local workerd)"). Now a wake during a pass asks that pass for one more
 * round instead, so rows committed meanwhile still go out right away, and the cron trigger stays the
 * safety net. A pass cut short (waitUntil's time ran out) is taken as over after STALE_MS.
 */
import type { Deferrer } from '../../deps.ts'

/** Longer than a pass may live after its response (waitUntil's 30 s): past this, it was cut short. */
const STALE_MS = 35_000

/** Rounds one pass runs at most before leaving the rest to the next wake or the cron. */
const MAX_ROUNDS = 10

export function outboxWaker(deliver: () => Promise<unknown>, now: () => number = Date.now) {
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
          let rounds = 0
          do {
            again = false
            await deliver()
          } while (again && ++rounds < MAX_ROUNDS)
        } finally {
          if (startedAt === mine) startedAt = undefined
        }
      })(),
    )
  }
}
