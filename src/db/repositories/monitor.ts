/**
 * @module What the monitor's checks read (src/domain/operations/monitor.ts), each one bounded query:
 * requests near their deadline, staff accounts without a second factor, dead letters, refused sends,
 * the latest backup.
 */
import type { DB } from '../database.ts'

/** Open data-subject requests due before `before` (the index on due_at of open requests). */
export function openRequestsDueBefore(db: DB, before: number, limit: number) {
  return db
    .selectFrom('dsr_requests')
    .select(['id', 'kind', 'channel', 'received_at', 'due_at'])
    .where('completed_at', 'is', null)
    .where('due_at', '<', before)
    .orderBy('due_at')
    .limit(limit)
    .execute()
}

export async function countOpenRequests(db: DB, dueBefore?: number): Promise<number> {
  let q = db
    .selectFrom('dsr_requests')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('completed_at', 'is', null)
  if (dueBefore !== undefined) q = q.where('due_at', '<', dueBefore)
  const row = await q.executeTakeFirst()
  return Number(row?.n ?? 0)
}

/** Active accounts of `roles` with neither an authenticator app nor a passkey. */
export function accountsWithoutSecondFactor(db: DB, roles: readonly string[]) {
  return db
    .selectFrom('admin_users as u')
    .select(['u.id', 'u.role', 'u.created_at'])
    .where('u.status', '=', 'active')
    .where('u.role', 'in', roles as never[])
    .where('u.totp_enabled_at', 'is', null)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb.selectFrom('passkeys as p').select('p.id').whereRef('p.admin_user_id', '=', 'u.id'),
        ),
      ),
    )
    .orderBy('u.created_at')
    .execute()
}

/** Dead letters: how many, the oldest, and how many of each kind. */
export async function deadLetterSummary(db: DB) {
  const rows = await db
    .selectFrom('outbox')
    .select([
      'kind',
      (eb) => eb.fn.countAll<number>().as('n'),
      (eb) => eb.fn.min('created_at').as('oldest'),
    ])
    .where('status', '=', 'dead')
    .groupBy('kind')
    .execute()
  return rows.map((r) => ({ kind: r.kind, count: Number(r.n), oldest: Number(r.oldest) }))
}

/** The outbox's pending messages: how many, and the oldest one's time. */
export async function pendingOutboxSummary(db: DB) {
  const row = await db
    .selectFrom('outbox')
    .select([
      (eb) => eb.fn.countAll<number>().as('n'),
      (eb) => eb.fn.min('created_at').as('oldest'),
    ])
    .where('status', '=', 'pending')
    .executeTakeFirst()
  return { count: Number(row?.n ?? 0), oldest: row?.oldest == null ? null : Number(row.oldest) }
}

/**
 * Refused sends counted at the relay (daily counter `sends_refused`, migrations/0013_console_counters.sql)
 * since `sinceDay` (YYYY-MM-DD), the latest at or after `since`.
 */
export function recentBlockedSends(db: DB, sinceDay: string, since: number) {
  return db
    .selectFrom('daily_counters')
    .select(['day', 'dim1 as source', 'dim2 as purpose_key', 'dim3 as reason', 'count', 'last_at'])
    .where('name', '=', 'sends_refused')
    .where('dim1', 'in', ['relay_rcpt', 'relay_data'])
    .where('day', '>=', sinceDay)
    .where('last_at', '>=', since)
    .execute()
}
