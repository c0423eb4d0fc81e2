/** @module The `settings` table (migrations/0013_console_counters.sql): what staff set in the console. */
import type { CompiledQuery } from 'kysely'
import type { DB } from '../database.ts'

export async function findSetting(db: DB, key: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('settings')
    .select('value')
    .where('key', '=', key)
    .executeTakeFirst()
  return row?.value
}

export function saveSettingQuery(
  db: DB,
  row: { key: string; value: string; now: number; by: string },
): CompiledQuery {
  return db
    .insertInto('settings')
    .values({ key: row.key, value: row.value, updated_at: row.now, updated_by: row.by })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({ value: row.value, updated_at: row.now, updated_by: row.by }),
    )
    .compile()
}
