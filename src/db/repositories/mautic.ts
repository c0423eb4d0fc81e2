/**
 * @module Rows of the Mautic connector: links between gateway contacts and Mautic ids (many Mautic
 * contacts to one gateway contact), webhook receipts (idempotency), the mirror's memory per Mautic
 * contact. Writes are compiled queries for atomic units (mappings: mautic-mappings.ts; findings:
 * findings.ts).
 */
import { sql, type CompiledQuery, type Selectable } from 'kysely'
import type { DB, MauticMirrorTable, Query } from '../database.ts'
import { prepared } from '../prepared.ts'

export const MAUTIC = 'mautic'

export type MirrorRow = Selectable<MauticMirrorTable>

export async function linkedContactId(db: DB, mauticId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('contact_links')
    .select('contact_id')
    .where('system', '=', MAUTIC)
    .where('external_id', '=', mauticId)
    .executeTakeFirst()
  return row?.contact_id
}

/** Every Mautic id linked to a gateway contact, oldest link first. */
export async function mauticIdsOf(db: DB, contactId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('contact_links')
    .select('external_id')
    .where('system', '=', MAUTIC)
    .where('contact_id', '=', contactId)
    .orderBy('linked_at')
    .execute()
  return rows.map((r) => r.external_id)
}

/** Links (or re-links, when the Mautic contact's address changed) a Mautic id to a gateway contact. */
export function linkQuery(db: DB, mauticId: string, contactId: string, now: number): CompiledQuery {
  return db
    .insertInto('contact_links')
    .values({ system: MAUTIC, external_id: mauticId, contact_id: contactId, linked_at: now })
    .onConflict((oc) =>
      oc
        .columns(['system', 'external_id'])
        .doUpdateSet({ contact_id: contactId, linked_at: now })
        .where('contact_links.contact_id', '!=', contactId),
    )
    .compile()
}

export function unlinkQuery(db: DB, mauticId: string): CompiledQuery {
  return db
    .deleteFrom('contact_links')
    .where('system', '=', MAUTIC)
    .where('external_id', '=', mauticId)
    .compile()
}

const receiptExists = prepared(['key'], (p, db) =>
  db.selectFrom('webhook_receipts').select('key').where('key', '=', p.key),
)

/** The receipt keys among `keys` already recorded (one event per body, the usual case, is one prepared look-up). */
export async function knownReceipts(
  deps: { db: DB; query: Query },
  keys: string[],
): Promise<Set<string>> {
  const found = new Set<string>()
  if (keys.length === 1) {
    const rows = await deps.query<{ key: string }>(receiptExists({ key: keys[0] }))
    for (const r of rows) found.add(r.key)
    return found
  }
  // D1 binds at most 100 parameters per statement.
  for (let i = 0; i < keys.length; i += 90) {
    const rows = await deps.db
      .selectFrom('webhook_receipts')
      .select('key')
      .where('key', 'in', keys.slice(i, i + 90))
      .execute()
    for (const r of rows) found.add(r.key)
  }
  return found
}

/**
 * No ON CONFLICT: a receipt already there means a copy of the event committed after our look-up (two
 * requests in one group commit on Node, two isolates on D1), and the whole unit must fail with it —
 * its outbox row included — so that the event is not queued twice (see isReceiptRace).
 */
const insertReceipt = prepared(['key', 'source', 'event_type', 'received_at', 'outcome'], (p, db) =>
  db.insertInto('webhook_receipts').values({
    key: p.key,
    source: p.source,
    event_type: p.event_type,
    received_at: p.received_at,
    outcome: p.outcome,
    // Counted in `webhook_events` in the same unit (src/domain/platform/counters.ts).
    counted: sql.lit(1),
  }),
)

/** The error of an atomic unit that lost the race for a receipt key (SQLite's message, on D1 too). */
export const isReceiptRace = (err: unknown): boolean =>
  /UNIQUE constraint failed: webhook_receipts\.key/.test(String((err as Error)?.message))

export function insertReceiptQuery(
  _db: DB,
  r: { key: string; eventType: string; outcome: string; now: number },
): CompiledQuery {
  return insertReceipt({
    key: r.key,
    source: MAUTIC,
    event_type: r.eventType,
    received_at: r.now,
    outcome: r.outcome,
  })
}

export function setReceiptOutcomeQuery(db: DB, key: string, outcome: string): CompiledQuery {
  return db.updateTable('webhook_receipts').set({ outcome }).where('key', '=', key).compile()
}

export function findMirror(db: DB, mauticId: string): Promise<MirrorRow | undefined> {
  return db
    .selectFrom('mautic_mirror')
    .selectAll()
    .where('mautic_id', '=', mauticId)
    .executeTakeFirst()
}

/** Creates the row when missing and sets the given columns (those left out keep their value). */
export function upsertMirrorQuery(
  db: DB,
  mauticId: string,
  set: Partial<Omit<MirrorRow, 'mautic_id'>>,
): CompiledQuery {
  const values: MirrorRow = {
    mautic_id: mauticId,
    contact_id: null,
    own_unsubscribe_at: null,
    bounced_at: null,
    mirrored_state: null,
    mirrored_at: null,
    pending_changes: null,
    observed_at: null,
    ...set,
  }
  return db
    .insertInto('mautic_mirror')
    .values(values)
    .onConflict((oc) =>
      Object.keys(set).length === 0
        ? oc.column('mautic_id').doNothing()
        : oc.column('mautic_id').doUpdateSet(set),
    )
    .compile()
}

/** Keeps the earliest time a block (the contact's own unsubscribe, a staff DNC) was seen. */
export function noteBlockQuery(db: DB, mauticId: string, at: number): CompiledQuery {
  return db
    .insertInto('mautic_mirror')
    .values({
      mautic_id: mauticId,
      contact_id: null,
      own_unsubscribe_at: at,
      bounced_at: null,
      mirrored_state: null,
      mirrored_at: null,
      pending_changes: null,
      observed_at: null,
    })
    .onConflict((oc) =>
      oc.column('mautic_id').doUpdateSet((eb) => ({
        own_unsubscribe_at: eb.fn.coalesce('mautic_mirror.own_unsubscribe_at', eb.val(at)),
      })),
    )
    .compile()
}

/** Forgets the mirror's memory of a Mautic contact (deleted there, or by the person's erasure). */
export function deleteMirrorQuery(db: DB, mauticId: string): CompiledQuery {
  return db.deleteFrom('mautic_mirror').where('mautic_id', '=', mauticId).compile()
}

/** Mautic contacts whose mirror changes wait (observe mode), counted up to `cap` (the partial index). */
export async function countPendingMirrors(db: DB, cap: number): Promise<number> {
  const row = await db
    .selectFrom((eb) =>
      eb
        .selectFrom('mautic_mirror')
        .select('mautic_id')
        .where('pending_changes', 'is not', null)
        .limit(cap)
        .as('p'),
    )
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirst()
  return Number(row?.n ?? 0)
}

/** Some of the changes observe mode keeps, after `afterId` in Mautic id order. */
export function listPendingMirrors(
  db: DB,
  limit: number,
  afterId = '',
): Promise<Pick<MirrorRow, 'mautic_id' | 'contact_id' | 'pending_changes' | 'observed_at'>[]> {
  return db
    .selectFrom('mautic_mirror')
    .select(['mautic_id', 'contact_id', 'pending_changes', 'observed_at'])
    .where('pending_changes', 'is not', null)
    .where('mautic_id', '>', afterId)
    .orderBy('mautic_id')
    .limit(limit)
    .execute()
}
