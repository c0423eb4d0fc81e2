/** @module Contact rows: look-up by blind index, id or Mautic id; inserts as compiled queries for atomic units. */
import type { CompiledQuery, Selectable } from 'kysely'
import type { ContactsTable, DB } from '../database.ts'
import { prepared } from '../prepared.ts'

export type ContactRow = Selectable<ContactsTable>

/** A contact by any of an address's blind indexes (current key, then previous during a rotation). */
export function findContactByBlindIndexes(
  db: DB,
  bidxes: string[],
): Promise<ContactRow | undefined> {
  return db.selectFrom('contacts').selectAll().where('email_bidx', 'in', bidxes).executeTakeFirst()
}

export function findContactById(db: DB, id: string): Promise<ContactRow | undefined> {
  return db.selectFrom('contacts').selectAll().where('id', '=', id).executeTakeFirst()
}

const CONTACT_COLUMNS = [
  'id',
  'email_enc',
  'email_bidx',
  'bidx_kid',
  'locale',
  'attributes_enc',
  'data_key_enc',
  'status',
  'objected_at',
  'created_at',
  'updated_at',
  'erased_at',
] as const satisfies readonly (keyof ContactRow)[]

/** Compiled once: every new contact (a form, a webhook, an import) writes one. */
const insertContact = prepared(CONTACT_COLUMNS, (p, db) =>
  db.insertInto('contacts').values(p as ContactRow),
)

export function insertContactQuery(_db: DB, row: ContactRow): CompiledQuery {
  return insertContact(row)
}

export function updateContactQuery(
  db: DB,
  id: string,
  changes: Partial<Omit<ContactRow, 'id'>>,
): CompiledQuery {
  return db.updateTable('contacts').set(changes).where('id', '=', id).compile()
}

/**
 * Erases a contact's personal data: the address, its blind index, the attributes and the data key
 * (destroying the key makes the ledger's evidence unreadable while its hashes still verify).
 */
export function shredContactQuery(db: DB, id: string, now: number): CompiledQuery {
  return updateContactQuery(db, id, {
    email_enc: null,
    email_bidx: null,
    bidx_kid: null,
    attributes_enc: null,
    data_key_enc: null,
    status: 'erased',
    erased_at: now,
    updated_at: now,
  })
}

/** Is this address (any of its blind indexes) on the suppression list? */
export async function isSuppressed(db: DB, bidxes: string[]): Promise<boolean> {
  const row = await db
    .selectFrom('suppressions')
    .select('email_bidx')
    .where('email_bidx', 'in', bidxes)
    .executeTakeFirst()
  return row !== undefined
}

export function deleteSuppressionsQuery(db: DB, bidxes: string[]): CompiledQuery {
  return db.deleteFrom('suppressions').where('email_bidx', 'in', bidxes).compile()
}
