/** @module The `dsr_requests` table (migrations/0005_data_rights.sql): data-subject requests and their deadlines. */
import { sql, type CompiledQuery, type Selectable } from 'kysely'
import type { DB, DsrKind, DsrRequestsTable } from '../database.ts'

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
