/**
 * @module Retention (migrations/0014_operations.sql): the runs, the windows of contacts a run looks
 * at with the times of what each person did themselves, and the bounded deletes of old webhook
 * receipts, used or expired set-up links and the Workers mail log. Every read is a window of a few
 * hundred keys in key order, so a run over a million contacts is many small queries (D1's limits).
 */
import { sql, type CompiledQuery, type Selectable } from 'kysely'
import type { DB, RetentionRunsTable } from '../database.ts'

export type RetentionRunRow = Selectable<RetentionRunsTable>

export const insertRetentionRunQuery = (db: DB, row: RetentionRunRow): CompiledQuery =>
  db.insertInto('retention_runs').values(row).compile()

export function findRetentionRun(db: DB, id: string): Promise<RetentionRunRow | undefined> {
  return db.selectFrom('retention_runs').selectAll().where('id', '=', id).executeTakeFirst()
}

/** The newest runs first. */
export function listRetentionRuns(db: DB, limit: number): Promise<RetentionRunRow[]> {
  return db
    .selectFrom('retention_runs')
    .selectAll()
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute()
}

export function runningRetentionRun(db: DB): Promise<RetentionRunRow | undefined> {
  return db
    .selectFrom('retention_runs')
    .selectAll()
    .where('status', '=', 'running')
    .orderBy('started_at')
    .executeTakeFirst()
}

/** Takes a run for one step; false when another process holds it (its lease not yet over). */
export async function claimRetentionRun(
  db: DB,
  id: string,
  now: number,
  until: number,
): Promise<boolean> {
  const res = await db
    .updateTable('retention_runs')
    .set({ locked_until: until })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
    .executeTakeFirst()
  return res.numUpdatedRows > 0n
}

export function updateRetentionRunQuery(
  db: DB,
  id: string,
  changes: Partial<Omit<RetentionRunRow, 'id'>>,
): CompiledQuery {
  return db.updateTable('retention_runs').set(changes).where('id', '=', id).compile()
}

/** Methods by which the person's own unsubscribe reaches the ledger from Mautic (not a staff DNC). */
const PERSON_METHODS = ['mautic_unsubscribe']

export interface ActivityRow {
  id: string
  created_at: number
  /** The latest consent event the person made (README, "Retention"). */
  last_event: number | null
  /** The latest data-subject request about them. */
  last_request: number | null
  /** The latest other contact of theirs (contact_activity). */
  last_other: number | null
}

/**
 * Up to `limit` active contacts after `after` (id order), each with the times of what the person did:
 * a consent event of theirs (requested, confirmed, granted or withdrawn by the contact, through a site's
 * API key, or their own unsubscribe in Mautic), a data-subject request, another recorded contact.
 */
export function activityWindow(db: DB, after: string | null, limit: number) {
  let q = activitySelect(db).where('c.status', '=', 'active')
  if (after !== null) q = q.where('c.id', '>', after)
  return q.orderBy('c.id').limit(limit).execute() as Promise<ActivityRow[]>
}

/** One active contact with the times of what they did (read again just before an erasure). */
export function activityOf(db: DB, id: string) {
  return activitySelect(db)
    .where('c.status', '=', 'active')
    .where('c.id', '=', id)
    .executeTakeFirst() as Promise<ActivityRow | undefined>
}

function activitySelect(db: DB) {
  return db
    .selectFrom('contacts as c')
    .select(['c.id', 'c.created_at'])
    .select((eb) => [
      eb
        .selectFrom('consent_events as e')
        .select((s) => s.fn.max('e.occurred_at').as('m'))
        .whereRef('e.contact_id', '=', 'c.id')
        .where('e.action', 'in', ['requested', 'confirmed', 'granted', 'withdrawn'])
        .where((w) =>
          w.or([
            w('e.actor', '=', 'contact'),
            w('e.actor', 'like', 'api:%'),
            w('e.method', 'in', PERSON_METHODS),
          ]),
        )
        .as('last_event'),
      eb
        .selectFrom('dsr_requests as d')
        .select((s) => s.fn.max('d.received_at').as('m'))
        .whereRef('d.contact_id', '=', 'c.id')
        .as('last_request'),
      eb
        .selectFrom('contact_activity as a')
        .select('a.last_at')
        .whereRef('a.contact_id', '=', 'c.id')
        .as('last_other'),
    ])
}

/** Records a contact the person initiated outside the ledger; the latest time wins. */
export function noteActivityQuery(
  db: DB,
  contactId: string,
  at: number,
  kind: string,
): CompiledQuery {
  return db
    .insertInto('contact_activity')
    .values({ contact_id: contactId, last_at: at, kind })
    .onConflict((oc) =>
      oc.column('contact_id').doUpdateSet({
        last_at: sql<number>`MAX(contact_activity.last_at, excluded.last_at)`,
        kind: sql<string>`CASE WHEN excluded.last_at >= contact_activity.last_at THEN excluded.kind ELSE contact_activity.kind END`,
      }),
    )
    .compile()
}

/** Deletes a contact's activity row (with its erasure: nothing about the person is left). */
export const deleteActivityQuery = (db: DB, contactId: string): CompiledQuery =>
  db.deleteFrom('contact_activity').where('contact_id', '=', contactId).compile()

/** Up to `limit` webhook receipts after `after` (key order), with their time. */
export function receiptWindow(db: DB, after: string | null, limit: number) {
  let q = db.selectFrom('webhook_receipts').select(['key', 'received_at'])
  if (after !== null) q = q.where('key', '>', after)
  return q.orderBy('key').limit(limit).execute()
}

export async function deleteReceipts(db: DB, keys: string[]): Promise<number> {
  if (keys.length === 0) return 0
  const res = await db.deleteFrom('webhook_receipts').where('key', 'in', keys).executeTakeFirst()
  return Number(res.numDeletedRows)
}

export async function countReceiptsBefore(db: DB, before: number): Promise<number> {
  const row = await db
    .selectFrom('webhook_receipts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('received_at', '<', before)
    .executeTakeFirst()
  return Number(row?.n ?? 0)
}

/** Set-up and invitation links used or expired before `before`: of no use to anyone. */
const spentLinks = (db: DB, before: number) =>
  db
    .selectFrom('setup_links')
    .select('id')
    .where((eb) =>
      eb.or([
        eb('used_at', '<', before),
        eb.and([eb('used_at', 'is', null), eb('expires_at', '<', before)]),
      ]),
    )

export async function deleteSpentLinks(db: DB, before: number, limit: number): Promise<number> {
  const res = await db
    .deleteFrom('setup_links')
    .where('id', 'in', spentLinks(db, before).limit(limit))
    .executeTakeFirst()
  return Number(res.numDeletedRows)
}

export async function countSpentLinks(db: DB, before: number): Promise<number> {
  const row = await db
    .selectFrom(spentLinks(db, before).as('s'))
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirst()
  return Number(row?.n ?? 0)
}

/** The Workers mail log (MAIL_TRANSPORT=log): rows written before `before`, a batch at a time. */
export async function deleteMailLogBefore(db: DB, before: number, limit: number): Promise<number> {
  const res = await db
    .deleteFrom('mail_log')
    .where(
      'id',
      'in',
      db.selectFrom('mail_log').select('id').where('created_at', '<', before).limit(limit),
    )
    .executeTakeFirst()
  return Number(res.numDeletedRows)
}

export async function countMailLogBefore(db: DB, before: number): Promise<number> {
  const row = await db
    .selectFrom('mail_log')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('created_at', '<', before)
    .executeTakeFirst()
  return Number(row?.n ?? 0)
}
