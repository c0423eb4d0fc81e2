/**
 * @module Staff accounts and their second factors (migrations/0007_admin.sql): admin_users,
 * recovery_codes, passkeys. Writes are compiled queries, for atomic units with their audit entry.
 */
import { type CompiledQuery, type Selectable, type Updateable } from 'kysely'
import type {
  AdminUsersTable,
  DB,
  PasskeysTable,
  QueryOne,
  RecoveryCodesTable,
} from '../database.ts'
import { prepared } from '../prepared.ts'

export type AdminUserRow = Selectable<AdminUsersTable>
export type PasskeyRow = Selectable<PasskeysTable>
export type RecoveryCodeRow = Selectable<RecoveryCodesTable>

const userById = prepared(['id'], (p, db) =>
  db.selectFrom('admin_users').selectAll().where('id', '=', p.id),
)

/**
 * Compiled once and run through the read port, straight on the driver: every console request reads
 * its user (src/domain/admin/sessions.ts), and Kysely's executor costs more than the look-up.
 */
export const findAdminUserById = (
  { queryOne }: { queryOne: QueryOne },
  id: string,
): AdminUserRow | undefined | Promise<AdminUserRow | undefined> =>
  queryOne<AdminUserRow>(userById({ id }))

export const findAdminUserByBlindIndexes = (
  db: DB,
  bidx: string[],
): Promise<AdminUserRow | undefined> =>
  db.selectFrom('admin_users').selectAll().where('email_bidx', 'in', bidx).executeTakeFirst()

export const listAdminUserRows = (db: DB): Promise<AdminUserRow[]> =>
  db.selectFrom('admin_users').selectAll().orderBy('created_at').orderBy('id').execute()

export async function countActiveOwners(db: DB): Promise<number> {
  const row = await db
    .selectFrom('admin_users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role', '=', 'owner')
    .where('status', '=', 'active')
    .executeTakeFirst()
  return Number(row?.n ?? 0)
}

export const insertAdminUserQuery = (db: DB, row: AdminUserRow): CompiledQuery =>
  db.insertInto('admin_users').values(row).compile()

export const updateAdminUserQuery = (
  db: DB,
  id: string,
  set: Updateable<AdminUsersTable>,
): CompiledQuery => db.updateTable('admin_users').set(set).where('id', '=', id).compile()

/**
 * Records the TOTP step just used, only if it is later than the last one: the update touches no row
 * when the same (or an older) code comes again, which is how a replay is refused even in a race.
 */
export async function claimTotpStep(db: DB, id: string, step: number): Promise<boolean> {
  const res = await db
    .updateTable('admin_users')
    .set({ totp_last_step: step })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .executeTakeFirst()
  return res.numUpdatedRows > 0n
}

// Recovery codes

export const deleteRecoveryCodesQuery = (db: DB, userId: string): CompiledQuery =>
  db.deleteFrom('recovery_codes').where('admin_user_id', '=', userId).compile()

export const insertRecoveryCodeQuery = (db: DB, row: RecoveryCodeRow): CompiledQuery =>
  db.insertInto('recovery_codes').values(row).compile()

/** Marks an unused code used; false when it does not exist or was used (the race's loser too). */
export async function useRecoveryCode(
  db: DB,
  userId: string,
  codeHash: string,
  now: number,
): Promise<boolean> {
  const res = await db
    .updateTable('recovery_codes')
    .set({ used_at: now })
    .where('admin_user_id', '=', userId)
    .where('code_hash', '=', codeHash)
    .where('used_at', 'is', null)
    .executeTakeFirst()
  return res.numUpdatedRows > 0n
}

export async function countUnusedRecoveryCodes(db: DB, userId: string): Promise<number> {
  const row = await db
    .selectFrom('recovery_codes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('admin_user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirst()
  return Number(row?.n ?? 0)
}

// Passkeys

export const listPasskeyRows = (db: DB, userId: string): Promise<PasskeyRow[]> =>
  db
    .selectFrom('passkeys')
    .selectAll()
    .where('admin_user_id', '=', userId)
    .orderBy('created_at')
    .execute()

export const findPasskey = (db: DB, id: string): Promise<PasskeyRow | undefined> =>
  db.selectFrom('passkeys').selectAll().where('id', '=', id).executeTakeFirst()

export const insertPasskeyQuery = (db: DB, row: PasskeyRow): CompiledQuery =>
  db.insertInto('passkeys').values(row).compile()

export const deletePasskeyQuery = (db: DB, userId: string, id: string): CompiledQuery =>
  db.deleteFrom('passkeys').where('admin_user_id', '=', userId).where('id', '=', id).compile()

export async function touchPasskey(db: DB, id: string, counter: number, now: number) {
  await db
    .updateTable('passkeys')
    .set({ counter, last_used_at: now })
    .where('id', '=', id)
    .execute()
}

// WebAuthn challenges

export async function insertChallenge(
  db: DB,
  row: {
    challenge: string
    purpose: 'register' | 'authenticate'
    admin_user_id: string | null
    expires_at: number
  },
) {
  await db.insertInto('webauthn_challenges').values(row).execute()
}

/** Takes a challenge out (single use): the row if it was there and unexpired. */
export async function takeChallenge(
  db: DB,
  challenge: string,
  purpose: 'register' | 'authenticate',
  now: number,
) {
  const row = await db
    .deleteFrom('webauthn_challenges')
    .where('challenge', '=', challenge)
    .where('purpose', '=', purpose)
    .returningAll()
    .executeTakeFirst()
  return row && row.expires_at > now ? row : undefined
}

export async function purgeChallenges(db: DB, now: number) {
  await db.deleteFrom('webauthn_challenges').where('expires_at', '<=', now).execute()
}
