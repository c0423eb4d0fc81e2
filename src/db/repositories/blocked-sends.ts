/**
 * @module The `blocked_sends` table (migrations/0008_blocked_sends.sql): refused sends counted per day,
 * place, purpose and reason.
 */
import { sql, type CompiledQuery, type Selectable } from 'kysely'
import type { BlockedSendSource, BlockedSendsTable, DB } from '../database.ts'

export type BlockedSendRow = Selectable<BlockedSendsTable>

/** Adds `count` to the day's counter (created at `count` the first time). */
export function countBlockedSendsQuery(
  db: DB,
  row: { day: string; source: BlockedSendSource; purposeKey: string; reason: string },
  count: number,
  now: number,
): CompiledQuery {
  return db
    .insertInto('blocked_sends')
    .values({
      day: row.day,
      source: row.source,
      purpose_key: row.purposeKey,
      reason: row.reason,
      count,
      last_at: now,
    })
    .onConflict((oc) =>
      oc
        .columns(['day', 'source', 'purpose_key', 'reason'])
        .doUpdateSet({ count: sql<number>`blocked_sends.count + ${count}`, last_at: now }),
    )
    .compile()
}

/** Counters from `sinceDay` (YYYY-MM-DD) on, newest day first. */
export function listBlockedSends(db: DB, sinceDay: string): Promise<BlockedSendRow[]> {
  return db
    .selectFrom('blocked_sends')
    .selectAll()
    .where('day', '>=', sinceDay)
    .orderBy('day', 'desc')
    .orderBy('source')
    .orderBy('purpose_key')
    .orderBy('reason')
    .execute()
}
