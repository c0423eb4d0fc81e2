/**
 * @module The `outbox` table: side effects written in the same atomic unit as the change that causes
 * them (src/domain/platform/outbox.ts delivers them). Status: pending → done, or dead after too many
 * attempts; `locked_until` is a claim's lease, so several runners can deliver at once.
 */
import { sql, type CompiledQuery, type Selectable } from 'kysely'
import type { DB, OutboxTable } from '../database.ts'
import { prepared } from '../prepared.ts'

export type OutboxRow = Selectable<OutboxTable>

const insertOutbox = prepared(
  ['id', 'kind', 'ordering_key', 'payload', 'status', 'attempts', 'next_attempt_at', 'created_at'],
  (p, db) => db.insertInto('outbox').values(p as never),
)

/** The insert of a new pending message (compiled once, re-bound). */
export function insertOutboxQuery(row: {
  id: string
  kind: string
  ordering_key: string | null
  payload: string
  next_attempt_at: number
  created_at: number
}): CompiledQuery {
  return insertOutbox({ ...row, status: 'pending', attempts: 0 })
}

/**
 * Due messages, the head of each ordering key only, unclaimed or with an expired claim; of one lane
 * when `kindPrefix` is given: kinds starting with it (`include`) or all others.
 */
export function findDueOutbox(
  db: DB,
  now: number,
  limit: number,
  lane?: { kindPrefix: string; include: boolean },
) {
  return db
    .selectFrom('outbox as o')
    .select(['o.id', 'o.kind', 'o.payload', 'o.attempts'])
    .where('o.status', '=', 'pending')
    .$if(lane !== undefined, (q) =>
      q.where('o.kind', lane!.include ? 'like' : 'not like', `${lane!.kindPrefix}%`),
    )
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
}

/** Claims a message until `until` (a conditional UPDATE); false when another runner has it. */
export async function claimOutbox(db: DB, id: string, now: number, until: number) {
  const claimed = await db
    .updateTable('outbox')
    .set({ locked_until: until })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
    .executeTakeFirst()
  return claimed.numUpdatedRows > 0n
}

export async function markOutboxDone(db: DB, id: string, attempts: number, now: number) {
  await db
    .updateTable('outbox')
    .set({
      status: 'done',
      // Nothing kept once delivered (data minimisation, Art. 5(1)(c)): payloads may hold personal data.
      payload: '{}',
      attempts,
      done_at: now,
      locked_until: null,
      last_error: null,
    })
    .where('id', '=', id)
    .execute()
}

export async function markOutboxFailed(
  db: DB,
  id: string,
  f: { dead: boolean; attempts: number; error: string; nextAttemptAt: number },
) {
  await db
    .updateTable('outbox')
    .set({
      status: f.dead ? 'dead' : 'pending',
      attempts: f.attempts,
      last_error: f.error,
      locked_until: null,
      next_attempt_at: f.nextAttemptAt,
    })
    .where('id', '=', id)
    .execute()
}

/** Releases every claim on a pending message; how many there were. */
export async function releaseOutboxClaims(db: DB): Promise<number> {
  const res = await db
    .updateTable('outbox')
    .set({ locked_until: null })
    .where('status', '=', 'pending')
    .where('locked_until', 'is not', null)
    .executeTakeFirst()
  return Number(res.numUpdatedRows)
}

/** Puts a dead-lettered message back in the queue; false when there is none with this id. */
export async function requeueDeadOutbox(db: DB, id: string, now: number): Promise<boolean> {
  const res = await db
    .updateTable('outbox')
    .set({ status: 'pending', attempts: 0, next_attempt_at: now, last_error: null })
    .where('id', '=', id)
    .where('status', '=', 'dead')
    .executeTakeFirst()
  return res.numUpdatedRows > 0n
}

/** Deletes a dead-lettered message (an admin's "discard"); false when there is none with this id. */
export async function deleteDeadOutbox(db: DB, id: string): Promise<boolean> {
  const res = await db
    .deleteFrom('outbox')
    .where('id', '=', id)
    .where('status', '=', 'dead')
    .executeTakeFirst()
  return res.numDeletedRows > 0n
}

/** Deletes delivered rows done before `before`, at most `limit`. */
export async function deleteDeliveredOutbox(db: DB, before: number, limit: number) {
  const res = await db
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

/** Messages of one status without their payloads (they may hold encrypted personal data), oldest first. */
export function listOutbox(
  db: DB,
  status: 'pending' | 'dead' | 'failing',
  limit: number,
  afterId?: string,
) {
  let q = db
    .selectFrom('outbox')
    .select([
      'id',
      'kind',
      'ordering_key',
      'attempts',
      'last_error',
      'next_attempt_at',
      'created_at',
    ])
    .where('status', '=', status === 'dead' ? 'dead' : 'pending')
  // Failing: pending after at least one failed attempt (its last error kept).
  if (status === 'failing') q = q.where('attempts', '>', 0)
  if (afterId) q = q.where('id', '>', afterId)
  return q.orderBy('id').limit(limit).execute()
}

/**
 * The queue at a glance: pending messages (the partial index on pending rows), how many failed at
 * least once, the oldest one's time, and dead letters (their own partial index, 0013).
 */
export async function outboxFigures(db: DB): Promise<{
  pending: number
  failing: number
  oldest: number | null
  dead: number
}> {
  const [pending, dead] = await Promise.all([
    db
      .selectFrom('outbox')
      .select((eb) => [
        eb.fn.countAll<number>().as('n'),
        eb.fn.sum<number>(sql`attempts > 0`).as('failing'),
        eb.fn.min<number>('created_at').as('oldest'),
      ])
      .where('status', '=', 'pending')
      .executeTakeFirst(),
    db
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'dead')
      .executeTakeFirst(),
  ])
  return {
    pending: Number(pending?.n ?? 0),
    failing: Number(pending?.failing ?? 0),
    oldest: pending?.oldest ?? null,
    dead: Number(dead?.n ?? 0),
  }
}

/** Drops what is not yet delivered under these ordering keys (an erased contact's pending calls). */
export function deleteUndeliveredQuery(db: DB, orderingKeys: string[]): CompiledQuery {
  return db
    .deleteFrom('outbox')
    .where('status', '!=', 'done')
    .where('ordering_key', 'in', orderingKeys)
    .compile()
}
