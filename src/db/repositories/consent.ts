/** @module Ledger rows and the derived consent state, as compiled queries for atomic units. */
import { sql, type CompiledQuery, type Selectable } from 'kysely'
import type { ConsentEventsTable, ConsentStateTable, DB } from '../database.ts'

export type ConsentEventRow = Selectable<ConsentEventsTable>
export type ConsentStateRow = Selectable<ConsentStateTable>

/** The last link of a contact's chain (seq 0 and the genesis hash when it has none). */
export async function findChainHead(
  db: DB,
  contactId: string,
): Promise<{ seq: number; hash: string } | undefined> {
  return db
    .selectFrom('consent_events')
    .select(['seq', 'hash'])
    .where('contact_id', '=', contactId)
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst()
}

export function insertEventQuery(db: DB, row: ConsentEventRow): CompiledQuery {
  return db.insertInto('consent_events').values(row).compile()
}

/**
 * Upserts the state row from an event. Guarded by time: an event older than the state's last change
 * (a late webhook, a queue delivered hours later) is recorded in the ledger but does not override it.
 */
export function upsertStateQuery(db: DB, row: ConsentStateRow): CompiledQuery {
  return db
    .insertInto('consent_state')
    .values(row)
    .onConflict((oc) =>
      oc
        .columns(['contact_id', 'purpose_key'])
        .doUpdateSet({
          status: (eb) => eb.ref('excluded.status'),
          notice_id: (eb) => eb.ref('excluded.notice_id'),
          granted_at: (eb) => eb.ref('excluded.granted_at'),
          changed_at: (eb) => eb.ref('excluded.changed_at'),
          last_event_id: (eb) => eb.ref('excluded.last_event_id'),
        })
        .where(sql<boolean>`consent_state.changed_at <= excluded.changed_at`),
    )
    .compile()
}

export function findStates(db: DB, contactId: string): Promise<ConsentStateRow[]> {
  return db.selectFrom('consent_state').selectAll().where('contact_id', '=', contactId).execute()
}

export function findEvents(db: DB, contactId: string): Promise<ConsentEventRow[]> {
  return db
    .selectFrom('consent_events')
    .selectAll()
    .where('contact_id', '=', contactId)
    .orderBy('seq')
    .execute()
}
