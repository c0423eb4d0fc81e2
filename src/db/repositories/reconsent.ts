/**
 * @module Re-consent campaigns (migrations/0014_operations.sql): one per notice version published
 * with "requires re-consent" and a grace period; the contacts it mailed; the windows of consent states
 * it looks through, a few hundred at a time, from where it stopped.
 */
import type { CompiledQuery, Selectable } from 'kysely'
import type { DB, ReconsentCampaignsTable } from '../database.ts'

export type ReconsentCampaignRow = Selectable<ReconsentCampaignsTable>

/** A campaign for every notice published with re-consent and a grace period that has none yet. */
export function startMissingCampaignsQuery(db: DB, now: number): CompiledQuery {
  return db
    .insertInto('reconsent_campaigns')
    .columns([
      'notice_id',
      'purpose_key',
      'locale',
      'version',
      'grace_until',
      'cursor',
      'queued',
      'started_at',
      'scanned_at',
      'locked_until',
    ])
    .expression((eb) =>
      eb
        .selectFrom('notices as n')
        .select((s) => [
          'n.id',
          'n.purpose_key',
          'n.locale',
          'n.version',
          s.fn.coalesce('n.reconsent_grace_until', s.val(0)).as('grace_until'),
          s.val(null).as('cursor'),
          s.val(0).as('queued'),
          s.val(now).as('started_at'),
          s.val(null).as('scanned_at'),
          s.val(null).as('locked_until'),
        ])
        .where('n.requires_reconsent', '=', 1)
        .where('n.published_at', 'is not', null)
        .where('n.reconsent_grace_until', 'is not', null)
        .where((w) =>
          w.not(
            w.exists(
              w
                .selectFrom('reconsent_campaigns as r')
                .select('r.notice_id')
                .whereRef('r.notice_id', '=', 'n.id'),
            ),
          ),
        ),
    )
    .onConflict((oc) => oc.column('notice_id').doNothing())
    .compile()
}

export function listCampaigns(db: DB): Promise<ReconsentCampaignRow[]> {
  return db
    .selectFrom('reconsent_campaigns')
    .selectAll()
    .orderBy('started_at', 'desc')
    .orderBy('notice_id')
    .execute()
}

export function findCampaign(db: DB, noticeId: string): Promise<ReconsentCampaignRow | undefined> {
  return db
    .selectFrom('reconsent_campaigns')
    .selectAll()
    .where('notice_id', '=', noticeId)
    .executeTakeFirst()
}

/** Takes a campaign for one batch; false when another process holds it. */
export async function claimCampaign(
  db: DB,
  noticeId: string,
  now: number,
  until: number,
): Promise<boolean> {
  const res = await db
    .updateTable('reconsent_campaigns')
    .set({ locked_until: until })
    .where('notice_id', '=', noticeId)
    .where('scanned_at', 'is', null)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
    .executeTakeFirst()
  return res.numUpdatedRows > 0n
}

/** Where the campaign stands after a batch (in the batch's own unit), its lease released. */
export function advanceCampaignQuery(
  db: DB,
  noticeId: string,
  to: { cursor: string | null; queuedMore: number; scannedAt: number | null },
): CompiledQuery {
  return db
    .updateTable('reconsent_campaigns')
    .set((eb) => ({
      cursor: to.cursor,
      queued: eb('queued', '+', to.queuedMore),
      scanned_at: to.scannedAt,
      locked_until: null,
    }))
    .where('notice_id', '=', noticeId)
    .compile()
}

/** Consent states of one purpose after `after` (contact order), up to `limit`. */
export function stateWindow(db: DB, purposeKey: string, after: string | null, limit: number) {
  let q = db
    .selectFrom('consent_state')
    .select(['contact_id', 'status', 'notice_version', 'notice_locale'])
    .where('purpose_key', '=', purposeKey)
  if (after !== null) q = q.where('contact_id', '>', after)
  return q.orderBy('contact_id').limit(limit).execute()
}

export function insertReconsentMailQuery(
  db: DB,
  row: { notice_id: string; contact_id: string; queued_at: number },
): CompiledQuery {
  return db
    .insertInto('reconsent_mails')
    .values({ ...row, sent_at: null })
    .onConflict((oc) => oc.columns(['notice_id', 'contact_id']).doNothing())
    .compile()
}

export function markReconsentSentQuery(
  db: DB,
  noticeId: string,
  contactId: string,
  now: number,
): CompiledQuery {
  return db
    .updateTable('reconsent_mails')
    .set({ sent_at: now })
    .where('notice_id', '=', noticeId)
    .where('contact_id', '=', contactId)
    .compile()
}

export interface CampaignCounts {
  queued: number
  sent: number
  /** Still granted under a version older than the campaign's. */
  outdated: number
}

/** The campaign's mailed contacts: how many were sent, and how many are still on an older version. */
export async function campaignCounts(db: DB, c: ReconsentCampaignRow): Promise<CampaignCounts> {
  const row = await db
    .selectFrom('reconsent_mails as r')
    .leftJoin('consent_state as s', (j) =>
      j.onRef('s.contact_id', '=', 'r.contact_id').on('s.purpose_key', '=', c.purpose_key),
    )
    .select((eb) => [
      eb.fn.countAll<number>().as('queued'),
      eb.fn.count<number>('r.sent_at').as('sent'),
      eb.fn
        .sum<number>(
          eb
            .case()
            .when(
              eb.and([
                eb('s.status', '=', 'granted'),
                eb('s.notice_locale', '=', c.locale),
                eb('s.notice_version', '<', c.version),
              ]),
            )
            .then(1)
            .else(0)
            .end(),
        )
        .as('outdated'),
    ])
    .where('r.notice_id', '=', c.notice_id)
    .executeTakeFirst()
  return {
    queued: Number(row?.queued ?? 0),
    sent: Number(row?.sent ?? 0),
    outdated: Number(row?.outdated ?? 0),
  }
}
