/**
 * @module `recipient_notices` (migrations/0012_compliance.sql): each correction or erasure passed on to
 * one recipient (Art. 19), by webhook or as a task for staff, with its status.
 */
import type { CompiledQuery, Selectable, Updateable } from 'kysely'
import type { DB, RecipientNoticesTable } from '../database.ts'

export type RecipientNoticeRow = Selectable<RecipientNoticesTable>

export function insertRecipientNoticeQuery(db: DB, row: RecipientNoticeRow): CompiledQuery {
  return db
    .insertInto('recipient_notices')
    .values(row)
    .onConflict((oc) => oc.column('id').doNothing())
    .compile()
}

export function findRecipientNotice(db: DB, id: string): Promise<RecipientNoticeRow | undefined> {
  return db.selectFrom('recipient_notices').selectAll().where('id', '=', id).executeTakeFirst()
}

export function updateRecipientNotice(
  db: DB,
  id: string,
  changes: Updateable<RecipientNoticesTable>,
): Promise<unknown> {
  return db.updateTable('recipient_notices').set(changes).where('id', '=', id).execute()
}

export function updateRecipientNoticeQuery(
  db: DB,
  id: string,
  changes: Updateable<RecipientNoticesTable>,
): CompiledQuery {
  return db.updateTable('recipient_notices').set(changes).where('id', '=', id).compile()
}

/** A contact's corrections not yet passed on (an erasure supersedes them). */
export function undeliveredRectifications(
  db: DB,
  contactId: string,
): Promise<RecipientNoticeRow[]> {
  return db
    .selectFrom('recipient_notices')
    .selectAll()
    .where('contact_id', '=', contactId)
    .where('kind', '=', 'rectify')
    .where('status', 'in', ['pending', 'retrying', 'failed', 'open'])
    .execute()
}

export function noticesForRequest(db: DB, requestId: string): Promise<RecipientNoticeRow[]> {
  return db
    .selectFrom('recipient_notices')
    .selectAll()
    .where('request_id', '=', requestId)
    .orderBy('created_at')
    .orderBy('id')
    .execute()
}

export interface RecipientNoticeFilter {
  channel?: 'webhook' | 'task'
  /** Only those still to do: open tasks, webhooks not delivered yet. */
  open?: boolean
  processorId?: string
  limit?: number
}

export function listRecipientNotices(
  db: DB,
  filter: RecipientNoticeFilter = {},
): Promise<RecipientNoticeRow[]> {
  let q = db.selectFrom('recipient_notices').selectAll()
  if (filter.channel) q = q.where('channel', '=', filter.channel)
  if (filter.open) q = q.where('status', 'in', ['open', 'pending', 'retrying', 'failed'])
  if (filter.processorId) q = q.where('processor_id', '=', filter.processorId)
  return q
    .orderBy('created_at')
    .orderBy('id')
    .limit(filter.limit ?? 500)
    .execute()
}
