/**
 * @module The data inventory (migrations/0012_compliance.sql): `data_fields`, one row per personal-data
 * field, and `data_field_processors`, which processors receive each field.
 */
import type { CompiledQuery, Selectable, Updateable } from 'kysely'
import type { DataFieldsTable, DB, FieldCategory } from '../database.ts'

export type DataFieldRow = Selectable<DataFieldsTable>

export interface FieldFilter {
  source?: DataFieldsTable['source']
  category?: FieldCategory
  /** 'pending': awaiting a person's confirmation; 'confirmed'. */
  status?: 'pending' | 'confirmed'
  /** Fields gone from their source are left out unless asked for. */
  includeRemoved?: boolean
}

export function listDataFields(db: DB, filter: FieldFilter = {}): Promise<DataFieldRow[]> {
  let q = db.selectFrom('data_fields').selectAll()
  if (filter.source) q = q.where('source', '=', filter.source)
  if (filter.category) q = q.where('category', '=', filter.category)
  if (filter.status === 'pending') q = q.where('confirmed_at', 'is', null)
  if (filter.status === 'confirmed') q = q.where('confirmed_at', 'is not', null)
  if (!filter.includeRemoved) q = q.where('removed_at', 'is', null)
  return q.orderBy('source').orderBy('name').execute()
}

export function findDataField(db: DB, id: string): Promise<DataFieldRow | undefined> {
  return db.selectFrom('data_fields').selectAll().where('id', '=', id).executeTakeFirst()
}

export function insertDataFieldQuery(db: DB, row: DataFieldRow): CompiledQuery {
  return db
    .insertInto('data_fields')
    .values(row)
    .onConflict((oc) => oc.columns(['source', 'name']).doNothing())
    .compile()
}

export function updateDataFieldQuery(
  db: DB,
  id: string,
  changes: Updateable<DataFieldsTable>,
): CompiledQuery {
  return db.updateTable('data_fields').set(changes).where('id', '=', id).compile()
}

/** Processor ids per field id, for every field. */
export async function fieldProcessors(db: DB): Promise<Map<string, string[]>> {
  const rows = await db.selectFrom('data_field_processors').selectAll().execute()
  const out = new Map<string, string[]>()
  for (const r of rows) out.set(r.field_id, [...(out.get(r.field_id) ?? []), r.processor_id])
  return out
}

/** Replaces the processors that receive one field (two statements for one atomic unit). */
export function setFieldProcessorsQueries(
  db: DB,
  fieldId: string,
  processorIds: string[],
): CompiledQuery[] {
  const queries = [db.deleteFrom('data_field_processors').where('field_id', '=', fieldId).compile()]
  if (processorIds.length > 0)
    queries.push(
      db
        .insertInto('data_field_processors')
        .values(processorIds.map((processor_id) => ({ field_id: fieldId, processor_id })))
        .compile(),
    )
  return queries
}
