/**
 * @module Staff sessions, one-time set-up links and sign-in throttling (migrations/0007_admin.sql).
 * Sessions and links are looked up by the hash of their token, never the token.
 */
import { sql, type CompiledQuery, type Selectable } from 'kysely'
import type {
  DB,
  QueryOne,
  SessionsTable,
  SetupLinksTable,
  SigninThrottleTable,
} from '../database.ts'
import { prepared } from '../prepared.ts'

export type SessionRow = Selectable<SessionsTable>
export type SetupLinkRow = Selectable<SetupLinksTable>
export type ThrottleRow = Selectable<SigninThrottleTable>

export const insertSessionQuery = (db: DB, row: SessionRow): CompiledQuery =>
  db.insertInto('sessions').values(row).compile()

const sessionById = prepared(['id'], (p, db) =>
  db.selectFrom('sessions').selectAll().where('id', '=', p.id),
)

/**
 * Compiled once and run through the read port, straight on the driver: every console request reads
 * its session, and Kysely's executor costs more than the look-up.
 */
export const findSession = (
  { queryOne }: { queryOne: QueryOne },
  id: string,
): SessionRow | undefined | Promise<SessionRow | undefined> =>
  queryOne<SessionRow>(sessionById({ id }))

/** Live (unrevoked) sessions of a user, newest first. */
export const listSessionRows = (db: DB, userId: string): Promise<SessionRow[]> =>
  db
    .selectFrom('sessions')
    .selectAll()
    .where('admin_user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .orderBy('created_at', 'desc')
    .execute()

export const touchSessionQuery = (db: DB, id: string, now: number): CompiledQuery =>
  db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', id).compile()

export const markSessionSecondFactorQuery = (db: DB, id: string, now: number): CompiledQuery =>
  db
    .updateTable('sessions')
    .set({ second_factor_at: now, step_up_at: now, last_seen_at: now })
    .where('id', '=', id)
    .compile()

export const markSessionStepUpQuery = (db: DB, id: string, now: number): CompiledQuery =>
  db
    .updateTable('sessions')
    .set({ step_up_at: now, last_seen_at: now })
    .where('id', '=', id)
    .compile()

export const revokeSessionQuery = (db: DB, id: string, now: number): CompiledQuery =>
  db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .compile()

/** Every live session of a user, but `exceptId` when given. */
export const revokeUserSessionsQuery = (
  db: DB,
  userId: string,
  now: number,
  exceptId?: string,
): CompiledQuery => {
  let q = db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('admin_user_id', '=', userId)
    .where('revoked_at', 'is', null)
  if (exceptId) q = q.where('id', '!=', exceptId)
  return q.compile()
}

/** Sessions started before `before` (past the absolute limit by then, so of no use). */
export async function deleteSessionsBefore(db: DB, before: number): Promise<number> {
  const res = await db.deleteFrom('sessions').where('created_at', '<', before).executeTakeFirst()
  return Number(res.numDeletedRows)
}

// One-time set-up and invitation links

export const insertSetupLinkQuery = (db: DB, row: SetupLinkRow): CompiledQuery =>
  db.insertInto('setup_links').values(row).compile()

export const findSetupLinkByHash = (db: DB, tokenHash: string): Promise<SetupLinkRow | undefined> =>
  db.selectFrom('setup_links').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst()

/** Closes a link; true for the one request that closed it, even when two race. */
export async function claimSetupLink(db: DB, id: string, now: number): Promise<boolean> {
  const res = await db
    .updateTable('setup_links')
    .set({ used_at: now })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .executeTakeFirst()
  return res.numUpdatedRows > 0n
}

/** Closes every open link of a user (a new invitation replaces the old one). */
export const closeUserSetupLinksQuery = (db: DB, userId: string, now: number): CompiledQuery =>
  db
    .updateTable('setup_links')
    .set({ used_at: now })
    .where('admin_user_id', '=', userId)
    .where('used_at', 'is', null)
    .compile()

// Sign-in throttling

export const findThrottle = (db: DB, key: string): Promise<ThrottleRow | undefined> =>
  db.selectFrom('signin_throttle').selectAll().where('key', '=', key).executeTakeFirst()

export const findThrottles = (db: DB, keys: string[]): Promise<ThrottleRow[]> =>
  keys.length === 0
    ? Promise.resolve([])
    : db.selectFrom('signin_throttle').selectAll().where('key', 'in', keys).execute()

/**
 * Counts a failure in one statement: failures + 1, the next allowed time pushed by `delayMs(failures)`
 * computed by the caller from the count it passes, and the lock set once `lockAt` failures are reached.
 * A window of `resetMs` without failures starts the count again (not for a locked key).
 */
export async function recordThrottleFailure(
  db: DB,
  key: string,
  now: number,
  resetMs: number,
): Promise<ThrottleRow> {
  return db
    .insertInto('signin_throttle')
    .values({ key, failures: 1, last_failure_at: now, next_allowed_at: now, locked_at: null })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        failures: sql<number>`CASE WHEN signin_throttle.locked_at IS NULL AND signin_throttle.last_failure_at <= ${now - resetMs} THEN 1 ELSE signin_throttle.failures + 1 END`,
        last_failure_at: now,
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow()
}

export async function setThrottleLimits(
  db: DB,
  key: string,
  nextAllowedAt: number,
  lockedAt: number | null,
): Promise<void> {
  await db
    .updateTable('signin_throttle')
    .set({ next_allowed_at: nextAllowedAt, locked_at: lockedAt })
    .where('key', '=', key)
    .execute()
}

export const clearThrottleQuery = (db: DB, key: string): CompiledQuery =>
  db.deleteFrom('signin_throttle').where('key', '=', key).compile()
