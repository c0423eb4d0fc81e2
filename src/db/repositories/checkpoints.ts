/** @module Ledger checkpoints and the chain heads they cover. */
import { sql, type Selectable } from 'kysely'
import type { DB, LedgerCheckpointsTable } from '../database.ts'

export type CheckpointRow = Selectable<LedgerCheckpointsTable>

/** Each chain's last event recorded at or before `until`, ordered by contact id. */
export async function chainHeadsAt(db: DB, until: number) {
  const { rows } = await sql<{ contact_id: string; seq: number; hash: string }>`
    SELECT e.contact_id, e.seq, e.hash FROM consent_events e
    WHERE e.seq = (SELECT MAX(x.seq) FROM consent_events x
                   WHERE x.contact_id = e.contact_id AND x.recorded_at <= ${until})
    ORDER BY e.contact_id`.execute(db)
  return rows
}

export async function countEventsAt(db: DB, until: number): Promise<number> {
  const row = await db
    .selectFrom('consent_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('recorded_at', '<=', until)
    .executeTakeFirst()
  return Number(row?.n ?? 0)
}

export function insertCheckpoint(db: DB, row: CheckpointRow) {
  return db.insertInto('ledger_checkpoints').values(row).execute()
}

export function latestCheckpoint(db: DB): Promise<CheckpointRow | undefined> {
  return db
    .selectFrom('ledger_checkpoints')
    .selectAll()
    .orderBy('covered_until', 'desc')
    .limit(1)
    .executeTakeFirst()
}

export function findCheckpoint(db: DB, id: string): Promise<CheckpointRow | undefined> {
  return db.selectFrom('ledger_checkpoints').selectAll().where('id', '=', id).executeTakeFirst()
}

export function listCheckpoints(db: DB): Promise<CheckpointRow[]> {
  return db.selectFrom('ledger_checkpoints').selectAll().orderBy('covered_until').execute()
}

/** One page of events in chain order, after (contactId, seq). */
export function eventsPage(db: DB, after: { contactId: string; seq: number }, limit: number) {
  return (
    db
      .selectFrom('consent_events')
      .selectAll()
      // A range SQLite can seek to in the (contact_id, seq) index: with the OR alone it scanned the
      // index from its start on every page, so verifying a ledger took time in the square of its size.
      .where('contact_id', '>=', after.contactId)
      .where((eb) =>
        eb.or([
          eb('contact_id', '>', after.contactId),
          eb.and([eb('contact_id', '=', after.contactId), eb('seq', '>', after.seq)]),
        ]),
      )
      .orderBy('contact_id')
      .orderBy('seq')
      .limit(limit)
      .execute()
  )
}
