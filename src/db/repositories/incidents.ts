/** @module The breach register (migrations/0012_compliance.sql): `incidents`, GDPR Art. 33 and 34. */
import type { CompiledQuery, Insertable, Selectable, Updateable } from 'kysely'
import type { DB, IncidentsTable, Query } from '../database.ts'
import { compiler } from '../prepared.ts'

export type IncidentRow = Selectable<IncidentsTable>

export function insertIncident(db: DB, row: Insertable<IncidentsTable>): Promise<unknown> {
  return db.insertInto('incidents').values(row).execute()
}

export function findIncident(db: DB, id: string): Promise<IncidentRow | undefined> {
  return db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst()
}

export function updateIncident(
  db: DB,
  id: string,
  changes: Updateable<IncidentsTable>,
): Promise<unknown> {
  return db.updateTable('incidents').set(changes).where('id', '=', id).execute()
}

/**
 * The open incidents, compiled once: the console's banner reads them on every page it serves
 * (src/routes/admin/compliance-banner.ts), and compiling the query cost more than running it.
 */
const OPEN_INCIDENTS = compiler
  .selectFrom('incidents')
  .selectAll()
  .where('closed_at', 'is', null)
  .orderBy('detected_at', 'desc')
  .orderBy('id')
  .compile()

/** Newest detection first; open ones only unless `all`. */
export async function listIncidentRows(
  { db, query }: { db: DB; query: Query },
  opts: { status?: 'open' | 'closed' | 'all' } = {},
): Promise<IncidentRow[]> {
  // Every console page asks for the open ones: through the read port, Kysely's executor skipped.
  if ((opts.status ?? 'open') === 'open') return query<IncidentRow>(OPEN_INCIDENTS)
  let q = db.selectFrom('incidents').selectAll()
  if (opts.status === 'closed') q = q.where('closed_at', 'is not', null)
  return q.orderBy('detected_at', 'desc').orderBy('id').execute()
}

/** Open incidents the authority has not been told of, detected at or before `before`. */
export function incidentsAwaitingNotification(db: DB, before: number): Promise<IncidentRow[]> {
  return db
    .selectFrom('incidents')
    .selectAll()
    .where('closed_at', 'is', null)
    .where('authority_notified_at', 'is', null)
    .where('detected_at', '<=', before)
    .where((eb) => eb.or([eb('risk', 'is', null), eb('risk', '!=', 'unlikely')]))
    .execute()
}

/**
 * Marks one reminder sent, only if it was not yet (the scheduler may run in two places at once): the
 * outbox row it goes with is in the same unit, guarded by the same condition.
 */
export function markReminderQuery(
  db: DB,
  id: string,
  column: 'reminder_48_at' | 'reminder_66_at',
  now: number,
): CompiledQuery {
  return db
    .updateTable('incidents')
    .set({ [column]: now })
    .where('id', '=', id)
    .where(column, 'is', null)
    .compile()
}
