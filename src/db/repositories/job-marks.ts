/**
 * @module `job_marks` (migrations/0014_operations.sql): when each periodic job of the operations last
 * ran, shared by every process and Worker isolate, so that a job due once a day runs once a day.
 */
import type { CompiledQuery } from 'kysely'
import type { DB } from '../database.ts'

export async function findJobMark(
  db: DB,
  job: string,
): Promise<{ last_run_at: number; details: string } | undefined> {
  return db
    .selectFrom('job_marks')
    .select(['last_run_at', 'details'])
    .where('job', '=', job)
    .executeTakeFirst()
}

export function setJobMarkQuery(
  db: DB,
  job: string,
  at: number,
  details: Record<string, unknown> = {},
): CompiledQuery {
  const row = { job, last_run_at: at, details: JSON.stringify(details) }
  return db
    .insertInto('job_marks')
    .values(row)
    .onConflict((oc) => oc.column('job').doUpdateSet({ last_run_at: at, details: row.details }))
    .compile()
}

/**
 * Takes the job's turn: true for the one caller that moved the mark from at most `due` to `now`
 * (two cron runs at once: one runs the job). A job never run has no mark yet: inserted.
 */
export async function claimJobTurn(db: DB, job: string, now: number, due: number) {
  const inserted = await db
    .insertInto('job_marks')
    .values({ job, last_run_at: now, details: '{}' })
    .onConflict((oc) => oc.column('job').doNothing())
    .executeTakeFirst()
  if ((inserted.numInsertedOrUpdatedRows ?? 0n) > 0n) return true
  const res = await db
    .updateTable('job_marks')
    .set({ last_run_at: now })
    .where('job', '=', job)
    .where('last_run_at', '<=', due)
    .executeTakeFirst()
  return res.numUpdatedRows > 0n
}
