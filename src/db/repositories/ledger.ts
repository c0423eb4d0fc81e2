/** @module Ledger rows and the derived consent state, as compiled queries for atomic units. */
import { sql, type CompiledQuery, type Selectable } from 'kysely'
import type { ConsentEventsTable, ConsentStateTable, DB, Query } from '../database.ts'
import { prepared } from '../prepared.ts'

export type ConsentEventRow = Selectable<ConsentEventsTable>
export type ConsentStateRow = Selectable<ConsentStateTable>

const EVENT_COLUMNS = [
  'id',
  'contact_id',
  'seq',
  'purpose_key',
  'action',
  'notice_id',
  'method',
  'source',
  'evidence_enc',
  'actor',
  'occurred_at',
  'recorded_at',
  'prev_hash',
  'hash',
] as const satisfies readonly (keyof ConsentEventRow)[]
const STATE_COLUMNS = [
  'contact_id',
  'purpose_key',
  'status',
  'notice_id',
  'notice_version',
  'notice_locale',
  'granted_at',
  'changed_at',
  'last_event_id',
] as const satisfies readonly (keyof ConsentStateRow)[]

const chainHeadQuery = prepared(['contactId'], (p, db) =>
  db
    .selectFrom('consent_events')
    .select(['seq', 'hash'])
    .where('contact_id', '=', p.contactId)
    .orderBy('seq', 'desc')
    .limit(sql.lit(1)),
)

/** The last link of a contact's chain, if it has one (hot: every consent change reads it). */
export async function findChainHead(
  query: Query,
  contactId: string,
): Promise<{ seq: number; hash: string } | undefined> {
  return (await query<{ seq: number; hash: string }>(chainHeadQuery({ contactId })))[0]
}

const insertEvent = prepared(EVENT_COLUMNS, (p, db) =>
  db.insertInto('consent_events').values(p as ConsentEventRow),
)

export function insertEventQuery(_db: DB, row: ConsentEventRow): CompiledQuery {
  return insertEvent(row)
}

/**
 * Upserts the state row from an event. Guarded by time: an event older than the state's last change
 * (a late webhook, a queue delivered hours later) is recorded in the ledger but does not override it.
 */
export function upsertStateQuery(_db: DB, row: ConsentStateRow): CompiledQuery {
  return upsertState(row)
}

const upsertState = prepared(STATE_COLUMNS, (p, db) =>
  db
    .insertInto('consent_state')
    .values(p as ConsentStateRow)
    .onConflict(
      (oc) =>
        oc.columns(['contact_id', 'purpose_key']).doUpdateSet({
          status: (eb) => eb.ref('excluded.status'),
          notice_id: (eb) => eb.ref('excluded.notice_id'),
          notice_version: (eb) => eb.ref('excluded.notice_version'),
          notice_locale: (eb) => eb.ref('excluded.notice_locale'),
          granted_at: (eb) => eb.ref('excluded.granted_at'),
          changed_at: (eb) => eb.ref('excluded.changed_at'),
          last_event_id: (eb) => eb.ref('excluded.last_event_id'),
        }),
      // No condition on time: a contact's units commit in chain order (each one's first event
      // collides with any change committed since it read the head), so the last upsert is the
      // state of the last event, which is what the state must be (test/helpers/consistency.ts).
    ),
)

export function findStates(db: DB, contactId: string): Promise<ConsentStateRow[]> {
  return db.selectFrom('consent_state').selectAll().where('contact_id', '=', contactId).execute()
}

/** What happened to some of a contact's purposes, in chain order: no evidence, no hashes. */
export function findEventActions(
  db: DB,
  contactId: string,
  purposeKeys: string[],
): Promise<Pick<ConsentEventRow, 'seq' | 'purpose_key' | 'action' | 'occurred_at'>[]> {
  return db
    .selectFrom('consent_events')
    .select(['seq', 'purpose_key', 'action', 'occurred_at'])
    .where('contact_id', '=', contactId)
    .where('purpose_key', 'in', purposeKeys)
    .orderBy('seq')
    .execute()
}

export function findEvents(db: DB, contactId: string): Promise<ConsentEventRow[]> {
  return db
    .selectFrom('consent_events')
    .selectAll()
    .where('contact_id', '=', contactId)
    .orderBy('seq')
    .execute()
}
