/**
 * @module The outbox: side effects (Mautic calls, e-mails) are rows written atomically with the state
 * change that causes them, then delivered here with retries, exponential backoff with jitter, in order
 * per ordering key, and dead-lettered after too many attempts. An HTTP request never waits on Mautic.
 */
import type { CompiledQuery } from 'kysely'
import type { DB } from '../../db/database.ts'
import {
  claimOutbox,
  deleteDeadOutbox,
  deleteDeliveredOutbox,
  findDueOutbox,
  insertOutboxQuery,
  listOutbox,
  markOutboxDone,
  markOutboxFailed,
  releaseOutboxClaims,
  requeueDeadOutbox,
} from '../../db/repositories/outbox.ts'
import type { Clock } from '../../lib/clock.ts'
import type { Logger } from '../../lib/log.ts'
import { uuidv7 } from '../../lib/ids.ts'
import type { OutboxEnvelope, OutboxHandlerTable } from './outbox-messages.ts'

/** With the backoff below, about a day of retries before a message is dead-lettered. */
export const OUTBOX_MAX_ATTEMPTS = 25
/** Long enough for a slow Mautic call; a crashed worker's claim expires after it. */
const LEASE_MS = 60_000
const BASE_DELAY_MS = 5_000
const MAX_DELAY_MS = 60 * 60_000

/** A message of one of the kinds of outbox-messages.ts, with its payload's type. */
export type OutboxMessage = OutboxEnvelope & {
  orderingKey?: string
  /** Not delivered before this time (a grace period, e.g. before erasing an unlinked contact). */
  notBefore?: number
}

/** The insert to put into the same atomic unit as the state change (compiled once, re-bound). */
export function enqueueQuery(
  _db: DB,
  now: number,
  msg: OutboxMessage,
  id: string = uuidv7(now),
): CompiledQuery {
  return insertOutboxQuery({
    id,
    kind: msg.kind,
    ordering_key: msg.orderingKey ?? null,
    payload: JSON.stringify(msg.payload),
    next_attempt_at: Math.max(now, msg.notBefore ?? now),
    created_at: now,
  })
}

/**
 * A handler's error may say how long to wait (`retryAfterMs`: a rate-limited API's Retry-After); the
 * outbox then waits at least that long, up to a day.
 */
function askedWait(err: unknown): number {
  const ms = (err as { retryAfterMs?: unknown } | null)?.retryAfterMs
  return typeof ms === 'number' && Number.isFinite(ms) ? Math.min(Math.max(ms, 0), 86_400_000) : 0
}

/** Delay before attempt n+1: doubling from 5 s, capped at an hour, with ±20 % jitter (no thundering herd). */
export function backoffDelay(attempts: number, random = Math.random): number {
  const base = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.max(0, attempts - 1))
  return Math.round(base * (0.8 + 0.4 * random()))
}

export interface DeliveryReport {
  delivered: number
  retried: number
  dead: number
}

/**
 * Two lanes, delivered side by side: the mails people wait for (a double opt-in confirmation, a
 * data-access link: `mail.*`) and everything else (the Mautic connector's calls, which can queue up
 * by the thousand after a sync or an outage and each wait on Mautic). A backlog in one never delays
 * the other: confirmations once waited minutes behind mirror calls.
 */
const LANES = [
  { kindPrefix: 'mail.', include: true },
  { kindPrefix: 'mail.', include: false },
] as const

type DeliveryDeps = { db: DB; clock: Clock; logger: Logger; outboxHandlers: OutboxHandlerTable }

/**
 * Delivers due messages, at most `limit` per lane, the head of each ordering key only. Safe to run
 * from several places at once (Node loop, waitUntil, cron): a row is claimed with a conditional
 * UPDATE first.
 */
export async function deliverOutbox(deps: DeliveryDeps, limit = 50): Promise<DeliveryReport> {
  const reports = await Promise.all(LANES.map((lane) => deliverLane(deps, limit, lane)))
  return {
    delivered: reports.reduce((n, r) => n + r.delivered, 0),
    retried: reports.reduce((n, r) => n + r.retried, 0),
    dead: reports.reduce((n, r) => n + r.dead, 0),
  }
}

async function deliverLane(
  deps: DeliveryDeps,
  limit: number,
  lane: (typeof LANES)[number],
): Promise<DeliveryReport> {
  const { db, clock, logger } = deps
  const now = clock.now()
  const due = await findDueOutbox(db, now, limit, lane)

  const report: DeliveryReport = { delivered: 0, retried: 0, dead: 0 }
  for (const row of due) {
    if (!(await claimOutbox(db, row.id, now, now + LEASE_MS))) continue // another runner has it

    const attempts = row.attempts + 1
    try {
      const handler = deps.outboxHandlers[row.kind]
      if (!handler) throw new Error(`no handler for outbox kind "${row.kind}"`)
      await handler(JSON.parse(row.payload))
      await markOutboxDone(db, row.id, attempts, clock.now())
      report.delivered++
    } catch (err) {
      const dead = attempts >= OUTBOX_MAX_ATTEMPTS
      const message = String((err as Error)?.message ?? err).slice(0, 500)
      await markOutboxFailed(db, row.id, {
        dead,
        attempts,
        error: message,
        nextAttemptAt: clock.now() + Math.max(backoffDelay(attempts), askedWait(err)),
      })
      logger.log(
        dead ? 'error' : 'warn',
        dead ? 'outbox message dead-lettered' : 'outbox delivery failed',
        {
          outboxId: row.id,
          kind: row.kind,
          attempts,
          error: message,
        },
      )
      if (dead) report.dead++
      else report.retried++
    }
  }
  return report
}

/**
 * At start-up on Node, where one process serves a database file (the CLI never delivers): a claim
 * still held was left by a process that died mid-delivery, so it is released now rather than after
 * its lease. Delivery is at least once either way; the handlers tolerate a repeat.
 */
export function releaseClaimsOfDeadProcess(db: DB): Promise<number> {
  return releaseOutboxClaims(db)
}

/** Puts a dead-lettered message back in the queue (admin "retry"). */
export function retryDead(db: DB, id: string, now: number): Promise<boolean> {
  return requeueDeadOutbox(db, id, now)
}

/** Gives up on a dead-lettered message for good (admin "discard"). */
export function discardDead(db: DB, id: string): Promise<boolean> {
  return deleteDeadOutbox(db, id)
}

/** The pending or dead-lettered messages, without their payloads, for an admin (at most 500). */
export function listOutboxMessages(db: DB, status: 'pending' | 'dead') {
  return listOutbox(db, status, 500)
}

/**
 * A page of the queue for the console: pending, failing (pending after a failed attempt, with its last
 * error) or dead messages, oldest first, after `afterId`; never their payloads.
 */
export function listOutboxPage(
  db: DB,
  status: 'pending' | 'failing' | 'dead',
  limit: number,
  afterId?: string,
) {
  return listOutbox(db, status, limit, afterId)
}

/** Delivered rows are kept this long (for the admin's view), then deleted; their payloads are already empty. */
export const OUTBOX_DONE_RETENTION_MS = 30 * 86_400_000

/** Deletes delivered rows past their retention, at most `limit` per run. */
export function purgeDeliveredOutbox(
  deps: { db: DB; clock: Clock },
  limit = 1000,
): Promise<number> {
  return deleteDeliveredOutbox(deps.db, deps.clock.now() - OUTBOX_DONE_RETENTION_MS, limit)
}
