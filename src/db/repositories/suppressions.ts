/**
 * @module Queries the data-rights units need on tables other than dsr_requests: the suppression list,
 * external links (Mautic ids) and pending double opt-in requests, as compiled queries for atomic units.
 */
import type { CompiledQuery } from 'kysely'
import type { DB, SuppressionsTable } from '../database.ts'

// Puts a blind index on the suppression list. An erasure outranks an objection (it also blocks re-import),
// so 'erased' overwrites 'objected' and never the other way round.
export function suppressQuery(
  db: DB,
  row: Omit<SuppressionsTable, 'created_at'>,
  now: number,
): CompiledQuery {
  return db
    .insertInto('suppressions')
    .values({ ...row, created_at: now })
    .onConflict((oc) =>
      row.reason === 'erased'
        ? oc.column('email_bidx').doUpdateSet({ reason: 'erased' })
        : oc.column('email_bidx').doNothing(),
    )
    .compile()
}

// The suppression entries of these blind indexes (tests and the admin).
export function findSuppressions(db: DB, bidxes: string[]) {
  if (bidxes.length === 0) return Promise.resolve([])
  return db.selectFrom('suppressions').selectAll().where('email_bidx', 'in', bidxes).execute()
}

// Forgets every link of a contact to other systems (the ids themselves identify the person there).
export function deleteContactLinksQuery(db: DB, contactId: string): CompiledQuery {
  return db.deleteFrom('contact_links').where('contact_id', '=', contactId).compile()
}

// Expires every pending double opt-in request of a contact (nothing is left to confirm after erasure).
export function expirePendingOptinsQuery(db: DB, contactId: string): CompiledQuery {
  return db
    .updateTable('optin_requests')
    .set({ status: 'expired' })
    .where('contact_id', '=', contactId)
    .where('status', '=', 'pending')
    .compile()
}
