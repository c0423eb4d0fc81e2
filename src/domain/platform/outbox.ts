/**
 * @module The outbox: side effects (Mautic calls, e-mails) are rows written atomically with the state
 * change that causes them, then delivered here with retries, exponential backoff with jitter, in order
 * per ordering key, and dead-lettered after too many attempts. An HTTP request never waits on Mautic.
 */
import { sql, type CompiledQuery } from 'kysely'
import type { DB } from '../../db/database.ts'
import { prepared } from '../../db/prepared.ts'
import type { Clock } from '../../deps.ts'
import type { Logger } from '../../lib/log.ts'
import { uuidv7 } from '../../lib/ids.ts'

export type OutboxHandler = (payload: unknown) => Promise<void>
export type OutboxHandlers = Record<string, OutboxHandler>

/** With the backoff below, about a day of retries before a message is dead-lettered. */
export const OUTBOX_MAX_ATTEMPTS = 25
/** Long enough for a slow Mautic call; a crashed worker's claim expires after it. */
const LEASE_MS = 60_000
const BASE_DELAY_MS = 5_000
const MAX_DELAY_MS = 60 * 60_000

export interface OutboxMessage {
  kind: string
  payload: unknown
  orderingKey?: string
  /** Not delivered before this time (a grace period, e.g. before erasing an unlinked contact). */
  notBefore?: number
}

const insertOutbox = prepared(
  ['id', 'kind', 'ordering_key', 'payload', 'status', 'attempts', 'next_attempt_at', 'created_at'],
  (p, db) => db.insertInto('outbox').values(p as never),
)

/** The insert to put into the same atomic unit as the state change (compiled once, re-bound). */
export function enqueueQuery(
  _db: DB,
  now: number,
  msg: OutboxMessage,
  id: string = uuidv7(now),
): CompiledQuery {
  return insertOutbox({
    id,
    kind: msg.kind,
    ordering_key: msg.orderingKey ?? null,
    payload: JSON.stringify(msg.payload),
    status: 'pending',
    attempts: 0,
    next_attempt_at: Math.max(now, msg.notBefore ?? now),
    created_at: now,
  })
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
 * Delivers due messages, at most `limit`, the head of each ordering key only. Safe to run from several
 * places at once (Node loop, waitUntil, cron): a row is claimed with a conditional UPDATE first.
 */
export async function deliverOutbox(
  deps: { db: DB; clock: Clock; logger: Logger; outboxHandlers: OutboxHandlers },
  limit = 50,
): Promise<DeliveryReport> {
  const { db, clock, logger } = deps
  const now = clock.now()
  const due = await db
    .selectFrom('outbox as o')
    .select(['o.id', 'o.kind', 'o.payload', 'o.attempts'])
    .where('o.status', '=', 'pending')
    .where('o.next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('o.locked_until', 'is', null), eb('o.locked_until', '<=', now)]))
    .where(
      // Parenthesised: Kysely pastes raw SQL as is, and AND binds tighter than OR.
      sql<boolean>`(o.ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM outbox p WHERE p.status = 'pending'
        AND p.ordering_key = o.ordering_key AND p.id < o.id))`,
    )
    .orderBy('o.next_attempt_at')
    .orderBy('o.id')
    .limit(limit)
    .execute()

  const report: DeliveryReport = { delivered: 0, retried: 0, dead: 0 }
  for (const row of due) {
    const claimed = await db
      .updateTable('outbox')
      .set({ locked_until: now + LEASE_MS })
      .where('id', '=', row.id)
      .where('status', '=', 'pending')
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
      .executeTakeFirst()
    if (claimed.numUpdatedRows === 0n) continue // another runner has it

    const attempts = row.attempts + 1
    try {
      const handler = deps.outboxHandlers[row.kind]
      if (!handler) throw new Error(`no handler for outbox kind "${row.kind}"`)
      await handler(JSON.parse(row.payload))
      await db
        .updateTable('outbox')
        .set({
          status: 'done',
          // Nothing kept once delivered (data minimisation, Art. 5(1)(c)): payloads may hold personal data.
          payload: '{}',
          attempts,
          done_at: clock.now(),
          locked_until: null,
          last_error: null,
        })
        .where('id', '=', row.id)
        .execute()
      report.delivered++
    } catch (err) {
      const dead = attempts >= OUTBOX_MAX_ATTEMPTS
      const message = String((err as Error)?.message ?? err).slice(0, 500)
      await db
        .updateTable('outbox')
        .set({
          status: dead ? 'dead' : 'pending',
          attempts,
          last_error: message,
          locked_until: null,
          next_attempt_at: clock.now() + backoffDelay(attempts),
        })
        .where('id', '=', row.id)
        .execute()
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

/** Puts a dead-lettered message back in the queue (admin "retry"). */
export async function retryDead(db: DB, id: string, now: number): Promise<boolean> {
  const res = await db
    .updateTable('outbox')
    .set({ status: 'pending', attempts: 0, next_attempt_at: now, last_error: null })
    .where('id', '=', id)
    .where('status', '=', 'dead')
    .executeTakeFirst()
  return res.numUpdatedRows > 0n
}

/** Delivered rows are kept this long (for the admin's view), then deleted; their payloads are already empty. */
export const OUTBOX_DONE_RETENTION_MS = 30 * 86_400_000

/** Deletes delivered rows past their retention, at most `limit` per run. */
export async function purgeDeliveredOutbox(
  deps: { db: DB; clock: Clock },
  limit = 1000,
): Promise<number> {
  const before = deps.clock.now() - OUTBOX_DONE_RETENTION_MS
  const res = await deps.db
    .deleteFrom('outbox')
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('outbox')
        .select('id')
        .where('status', '=', 'done')
        .where('done_at', '<', before)
        .limit(limit),
    )
    .executeTakeFirst()
  return Number(res.numDeletedRows)
}
