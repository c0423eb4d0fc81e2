/** @module Contact rows: look-up by blind index, id or Mautic id; inserts as compiled queries for atomic units. */
import type { CompiledQuery, Selectable } from 'kysely'
import type { Deps } from '../../deps.ts'
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

// Two equalities ORed on one column become `IN (?, ?)`, for which SQLite builds a temporary table on
// every run: outside a key rotation, one equality.
const sendingContact = {
  single: prepared(['current'], (p, db) =>
    db.selectFrom('contacts').select(['id', 'locale']).where('email_bidx', '=', p.current),
  ),
  rotating: prepared(['current', 'previous'], (p, db) =>
    db
      .selectFrom('contacts')
      .select(['id', 'locale'])
      .where((eb) => eb.or([eb('email_bidx', '=', p.current), eb('email_bidx', '=', p.previous)])),
  ),
}

/**
 * What a send needs of the contact an address belongs to (its id for the links, its language for the
 * footer), by the blind indexes the gate just used: a compiled query, and synchronous on Node.
 */
export function findSendingContact(
  { queryOne }: Pick<Deps, 'queryOne'>,
  [current, previous]: [string, string | null],
):
  | Pick<ContactRow, 'id' | 'locale'>
  | undefined
  | Promise<Pick<ContactRow, 'id' | 'locale'> | undefined> {
  return queryOne(
    previous === null
      ? sendingContact.single({ current })
      : sendingContact.rotating({ current, previous }),
  )
}

export function findContactById(db: DB, id: string): Promise<ContactRow | undefined> {
  return db.selectFrom('contacts').selectAll().where('id', '=', id).executeTakeFirst()
}

export function insertContactQuery(db: DB, row: ContactRow): CompiledQuery {
  return db.insertInto('contacts').values(row).compile()
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
