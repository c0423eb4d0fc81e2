/** @module The processors register (migrations/0012_compliance.sql): processors and other recipients. */
import type { CompiledQuery, Insertable, Selectable, Updateable } from 'kysely'
import type { DB, ProcessorsTable } from '../database.ts'

export type ProcessorRow = Selectable<ProcessorsTable>

export function listProcessorRows(
  db: DB,
  opts: { includeArchived?: boolean } = {},
): Promise<ProcessorRow[]> {
  let q = db.selectFrom('processors').selectAll()
  if (!opts.includeArchived) q = q.where('archived_at', 'is', null)
  return q.orderBy('name').orderBy('id').execute()
}

export function findProcessor(db: DB, id: string): Promise<ProcessorRow | undefined> {
  return db.selectFrom('processors').selectAll().where('id', '=', id).executeTakeFirst()
}

export function insertProcessorQuery(db: DB, row: Insertable<ProcessorsTable>): CompiledQuery {
  return db.insertInto('processors').values(row).compile()
}

export function updateProcessorQuery(
  db: DB,
  id: string,
  changes: Updateable<ProcessorsTable>,
): CompiledQuery {
  return db.updateTable('processors').set(changes).where('id', '=', id).compile()
}

/** Active processors that corrections and erasures are passed on to (Art. 19). */
export function processorsToNotify(db: DB): Promise<ProcessorRow[]> {
  return db
    .selectFrom('processors')
    .selectAll()
    .where('archived_at', 'is', null)
    .where('notify_rights', '=', 1)
    .orderBy('id')
    .execute()
}
