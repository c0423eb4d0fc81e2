/** @module Double opt-in requests: one confirmation mail each, confirming every purpose it lists. */
import type { CompiledQuery, Selectable } from 'kysely'
import type { DB, Database } from '../database.ts'

export type OptinRequestRow = Selectable<Database['optin_requests']>

export function insertOptinRequestQuery(db: DB, row: OptinRequestRow): CompiledQuery {
  return db.insertInto('optin_requests').values(row).compile()
}

export function findOptinRequest(db: DB, id: string): Promise<OptinRequestRow | undefined> {
  return db.selectFrom('optin_requests').selectAll().where('id', '=', id).executeTakeFirst()
}

/** The newest request of a contact, pending or not (for resends and throttling). */
export function findLatestOptinRequest(
  db: DB,
  contactId: string,
): Promise<OptinRequestRow | undefined> {
  return db
    .selectFrom('optin_requests')
    .selectAll()
    .where('contact_id', '=', contactId)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst()
}

/** How many confirmation mails went to this contact since `since` (throttling). */
export async function countMailsSince(db: DB, contactId: string, since: number): Promise<number> {
  const row = await db
    .selectFrom('optin_requests')
    .select((eb) => eb.fn.sum<number>('send_count').as('n'))
    .where('contact_id', '=', contactId)
    .where('last_sent_at', '>=', since)
    .executeTakeFirst()
  return Number(row?.n ?? 0)
}

export function markSentQuery(db: DB, id: string, now: number): CompiledQuery {
  return db
    .updateTable('optin_requests')
    .set((eb) => ({ last_sent_at: now, send_count: eb('send_count', '+', 1) }))
    .where('id', '=', id)
    .compile()
}

export function setOptinStatusQuery(
  db: DB,
  id: string,
  status: 'confirmed' | 'expired',
  now: number,
): CompiledQuery {
  return db
    .updateTable('optin_requests')
    .set({ status, confirmed_at: status === 'confirmed' ? now : null })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .compile()
}

export function findExpiredPending(db: DB, now: number, limit: number): Promise<OptinRequestRow[]> {
  return db
    .selectFrom('optin_requests')
    .selectAll()
    .where('status', '=', 'pending')
    .where('expires_at', '<', now)
    .orderBy('expires_at')
    .limit(limit)
    .execute()
}

export async function hasOtherPending(
  db: DB,
  contactId: string,
  exceptId: string,
): Promise<boolean> {
  const row = await db
    .selectFrom('optin_requests')
    .select('id')
    .where('contact_id', '=', contactId)
    .where('status', '=', 'pending')
    .where('id', '!=', exceptId)
    .executeTakeFirst()
  return row !== undefined
}
