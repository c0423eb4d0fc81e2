/**
 * @module The `rate_limits` table (migrations/0002_consent.sql): one fixed-window counter per key,
 * shared by every process and Worker isolate.
 */
import { sql } from 'kysely'
import type { DB } from '../database.ts'

/**
 * Counts one hit in a single statement (no read-then-write race between processes): a new key or an
 * expired window starts again at 1 with `window_start = now`, otherwise the count goes up by one.
 * SQLite evaluates every SET expression against the row as it was, so the two CASEs agree.
 */
export async function incrementRateLimit(
  db: DB,
  key: string,
  now: number,
  windowMs: number,
): Promise<{ count: number; windowStart: number }> {
  const expired = now - windowMs
  const row = await db
    .insertInto('rate_limits')
    .values({ key, window_start: now, count: 1 })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        count: sql<number>`CASE WHEN rate_limits.window_start <= ${expired} THEN 1 ELSE rate_limits.count + 1 END`,
        window_start: sql<number>`CASE WHEN rate_limits.window_start <= ${expired} THEN ${now} ELSE rate_limits.window_start END`,
      }),
    )
    .returning(['count', 'window_start'])
    .executeTakeFirstOrThrow()
  return { count: row.count, windowStart: row.window_start }
}

// Deletes counters whose window started at or before `before`; returns how many.
export async function deleteRateLimitsBefore(db: DB, before: number): Promise<number> {
  const res = await db
    .deleteFrom('rate_limits')
    .where('window_start', '<=', before)
    .executeTakeFirst()
  return Number(res.numDeletedRows)
}
