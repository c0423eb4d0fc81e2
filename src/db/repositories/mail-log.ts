/** @module The `mail_log` table: the mails MAIL_TRANSPORT=log kept on Workers, recipient and message encrypted. */
import type { Selectable } from 'kysely'
import type { DB, MailLogTable } from '../database.ts'

export type MailLogRow = Selectable<MailLogTable>

export async function insertMailLog(db: DB, row: MailLogRow): Promise<void> {
  await db.insertInto('mail_log').values(row).execute()
}
