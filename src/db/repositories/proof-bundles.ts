/**
 * @module Proof bundles (migrations/0012_compliance.sql): `proof_bundles` and the hash of each page
 * made, and the reads a page needs (consent events in chain order under the bundle's filter, the
 * wording, the contacts' data keys).
 */
import type { CompiledQuery, Insertable, Selectable } from 'kysely'
import type { DB, ProofBundlePagesTable, ProofBundlesTable } from '../database.ts'
import type { ConsentEventRow } from './ledger.ts'

export type ProofBundleRow = Selectable<ProofBundlesTable>
export type ProofBundlePageRow = Selectable<ProofBundlePagesTable>

/** D1 binds at most 100 parameters a query. */
const IN_CHUNK = 90

export function insertProofBundle(db: DB, row: Insertable<ProofBundlesTable>): Promise<unknown> {
  return db.insertInto('proof_bundles').values(row).execute()
}

export function findProofBundle(db: DB, id: string): Promise<ProofBundleRow | undefined> {
  return db.selectFrom('proof_bundles').selectAll().where('id', '=', id).executeTakeFirst()
}

export function listProofBundles(db: DB, limit = 100): Promise<ProofBundleRow[]> {
  return db
    .selectFrom('proof_bundles')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute()
}

export function findBundlePage(
  db: DB,
  bundleId: string,
  n: number,
): Promise<ProofBundlePageRow | undefined> {
  return db
    .selectFrom('proof_bundle_pages')
    .selectAll()
    .where('bundle_id', '=', bundleId)
    .where('n', '=', n)
    .executeTakeFirst()
}

export function listBundlePages(db: DB, bundleId: string): Promise<ProofBundlePageRow[]> {
  return db
    .selectFrom('proof_bundle_pages')
    .selectAll()
    .where('bundle_id', '=', bundleId)
    .orderBy('n')
    .execute()
}

/** Records a page the first time it is made (a page made again keeps its first hash). */
export function insertBundlePageQuery(db: DB, row: ProofBundlePageRow): CompiledQuery {
  return db
    .insertInto('proof_bundle_pages')
    .values(row)
    .onConflict((oc) => oc.columns(['bundle_id', 'n']).doNothing())
    .compile()
}

export function completeBundleQuery(db: DB, id: string, now: number): CompiledQuery {
  return db
    .updateTable('proof_bundles')
    .set({ completed_at: now })
    .where('id', '=', id)
    .where('completed_at', 'is', null)
    .compile()
}

export interface BundleFilter {
  purposeKey: string | null
  occurredFrom: number | null
  occurredTo: number | null
  recordedUntil: number
}

/** The next events of a bundle after (contactId, seq), in chain order (the UNIQUE(contact_id, seq) index). */
export function bundleEventsPage(
  db: DB,
  filter: BundleFilter,
  after: { contactId: string; seq: number },
  limit: number,
): Promise<ConsentEventRow[]> {
  let q = db
    .selectFrom('consent_events')
    .selectAll()
    .where((eb) =>
      eb.or([
        eb('contact_id', '>', after.contactId),
        eb.and([eb('contact_id', '=', after.contactId), eb('seq', '>', after.seq)]),
      ]),
    )
    .where('recorded_at', '<=', filter.recordedUntil)
  if (filter.purposeKey !== null) q = q.where('purpose_key', '=', filter.purposeKey)
  if (filter.occurredFrom !== null) q = q.where('occurred_at', '>=', filter.occurredFrom)
  if (filter.occurredTo !== null) q = q.where('occurred_at', '<', filter.occurredTo)
  return q.orderBy('contact_id').orderBy('seq').limit(limit).execute()
}

/** The data keys (encrypted) of these contacts; erased ones have none. */
export async function contactDataKeys(
  db: DB,
  ids: string[],
): Promise<{ id: string; data_key_enc: string | null }[]> {
  const out: { id: string; data_key_enc: string | null }[] = []
  for (let i = 0; i < ids.length; i += IN_CHUNK)
    out.push(
      ...(await db
        .selectFrom('contacts')
        .select(['id', 'data_key_enc'])
        .where('id', 'in', ids.slice(i, i + IN_CHUNK))
        .execute()),
    )
  return out
}

/** Published wording up to a time, of one purpose or all. */
export function publishedNoticesUntil(db: DB, purposeKey: string | null, until: number) {
  let q = db
    .selectFrom('notices')
    .selectAll()
    .where('published_at', 'is not', null)
    .where('published_at', '<=', until)
  if (purposeKey !== null) q = q.where('purpose_key', '=', purposeKey)
  return q.orderBy('purpose_key').orderBy('locale').orderBy('version').execute()
}
