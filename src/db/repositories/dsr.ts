/** @module The `dsr_requests` table (migrations/0005_data_rights.sql): data-subject requests and their deadlines. */
import { sql, type CompiledQuery, type Selectable } from 'kysely'
import type { DB, DsrHistoryTable, DsrKind, DsrRequestsTable } from '../database.ts'

export type DsrRow = Selectable<DsrRequestsTable>

// Records a request; ON CONFLICT DO NOTHING so that a derived id (one export per access link) is idempotent.
export function insertDsrQuery(db: DB, row: DsrRow): CompiledQuery {
  return db
    .insertInto('dsr_requests')
    .values(row)
    .onConflict((oc) => oc.column('id').doNothing())
    .compile()
}

// Marks a request verified and completed; the first times win (opening a page twice changes nothing).
export function completeDsrQuery(
  db: DB,
  id: string,
  now: number,
  handledBy: string,
): CompiledQuery {
  return db
    .updateTable('dsr_requests')
    .set({
      verified_at: sql<number>`COALESCE(verified_at, ${now})`,
      completed_at: sql<number>`COALESCE(completed_at, ${now})`,
      handled_by: sql<string>`COALESCE(handled_by, ${handledBy})`,
    })
    .where('id', '=', id)
    .compile()
}

export function findDsr(db: DB, id: string): Promise<DsrRow | undefined> {
  return db.selectFrom('dsr_requests').selectAll().where('id', '=', id).executeTakeFirst()
}

// One contact's requests, newest first (the /me page and the export).
export function listDsrForContact(db: DB, contactId: string): Promise<DsrRow[]> {
  return db
    .selectFrom('dsr_requests')
    .selectAll()
    .where('contact_id', '=', contactId)
    .orderBy('received_at', 'desc')
    .orderBy('id', 'desc')
    .execute()
}

export interface DsrFilter {
  /** Only requests not completed yet, soonest deadline first. */
  open?: boolean
  kind?: DsrKind
  limit?: number
  offset?: number
}

// Every request for the admin: open ones by deadline, or all by receipt (newest first).
export function listDsrRequests(db: DB, filter: DsrFilter = {}): Promise<DsrRow[]> {
  let q = db.selectFrom('dsr_requests').selectAll()
  if (filter.kind) q = q.where('kind', '=', filter.kind)
  q = filter.open
    ? q.where('completed_at', 'is', null).orderBy('due_at').orderBy('id')
    : q.orderBy('received_at', 'desc').orderBy('id', 'desc')
  return q
    .limit(filter.limit ?? 100)
    .offset(filter.offset ?? 0)
    .execute()
}

/** Open requests by deadline: overdue, due before `soon`, and all open (their partial index). */
export async function openDsrFigures(
  db: DB,
  now: number,
  soon: number,
): Promise<{ open: number; overdue: number; dueSoon: number }> {
  const row = await db
    .selectFrom('dsr_requests')
    .select((eb) => [
      eb.fn.countAll<number>().as('open'),
      eb.fn.sum<number>(sql`due_at < ${now}`).as('overdue'),
      eb.fn.sum<number>(sql`due_at >= ${now} AND due_at < ${soon}`).as('due_soon'),
    ])
    .where('completed_at', 'is', null)
    .executeTakeFirst()
  return {
    open: Number(row?.open ?? 0),
    overdue: Number(row?.overdue ?? 0),
    dueSoon: Number(row?.due_soon ?? 0),
  }
}

/** Completed requests, newest completion first (the queue's second part). */
export function listCompletedDsr(db: DB, limit: number): Promise<DsrRow[]> {
  return db
    .selectFrom('dsr_requests')
    .selectAll()
    .where('completed_at', 'is not', null)
    .orderBy('received_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute()
}

export type DsrHistoryRow = Selectable<DsrHistoryTable>

export function insertDsrHistoryQuery(db: DB, row: DsrHistoryRow): CompiledQuery {
  return db.insertInto('dsr_history').values(row).compile()
}

/** A request's steps and notes, oldest first. */
export function listDsrHistory(db: DB, requestId: string): Promise<DsrHistoryRow[]> {
  return db
    .selectFrom('dsr_history')
    .selectAll()
    .where('request_id', '=', requestId)
    .orderBy('at')
    .orderBy('id')
    .execute()
}

/** Identity checked (the first time wins). */
export function verifyDsrQuery(db: DB, id: string, now: number): CompiledQuery {
  return db
    .updateTable('dsr_requests')
    .set({ verified_at: sql<number>`COALESCE(verified_at, ${now})` })
    .where('id', '=', id)
    .compile()
}

/** The one extension Art. 12(3) allows: only while open and not extended yet. */
export function extendDsrQuery(
  db: DB,
  id: string,
  change: { dueAt: number; months: number; reason: string; now: number },
): CompiledQuery {
  return db
    .updateTable('dsr_requests')
    .set({
      due_at: change.dueAt,
      extended_at: change.now,
      extension_months: change.months,
      extension_reason: change.reason,
    })
    .where('id', '=', id)
    .where('extended_at', 'is', null)
    .where('completed_at', 'is', null)
    .compile()
}
