/** @module `backups` (migrations/0014_operations.sql): every backup taken or recorded, newest first. */
import type { CompiledQuery, Selectable } from 'kysely'
import type { BackupsTable, DB } from '../database.ts'

export type BackupRow = Selectable<BackupsTable>

export const insertBackupQuery = (db: DB, row: BackupRow): CompiledQuery =>
  db.insertInto('backups').values(row).compile()

export function listBackups(db: DB, limit: number): Promise<BackupRow[]> {
  return db
    .selectFrom('backups')
    .selectAll()
    .orderBy('taken_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute()
}
