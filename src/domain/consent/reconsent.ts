/**
 * @module Re-consent (GDPR Art. 7(1); EDPB Guidelines 05/2020 §110–111): when a notice version is
 * published with "requires re-consent", the people whose consent was given under an older version of
 * it (same purpose and language) are mailed the new wording in their language, with a link to keep
 * their consent under it or to decline. Only people whose consent is still granted are mailed (a mail
 * asking someone who withdrew to consent again is itself prospecting), a few at a time
 * (RECONSENT_MAILS_PER_RUN per scheduler run), from where the last batch stopped, through the
 * outbox. Until the publication's grace period ends (RECONSENT_GRACE_DAYS) their old consent still
 * passes the gate; then the gate answers `notice_outdated` (gate-decision.ts) for those who did not
 * answer. The link asks again on a page (GET changes nothing); its POST records the new consent.
 */
import type { CompiledQuery } from 'kysely'
import { findContactById } from '../../db/repositories/contacts.ts'
import { findStates } from '../../db/repositories/ledger.ts'
import { findNoticesByIds } from '../../db/repositories/purposes.ts'
import {
  advanceCampaignQuery,
  campaignCounts,
  claimCampaign,
  findCampaign,
  insertReconsentMailQuery,
  listCampaigns,
  markReconsentSentQuery,
  startMissingCampaignsQuery,
  stateWindow,
  type ReconsentCampaignRow,
} from '../../db/repositories/reconsent.ts'
import type { NoticeRow } from '../../db/repositories/purposes.ts'
import type { Deps } from '../../deps.ts'
import type { Locale } from '../../lib/i18n.ts'
import { contactDataKey } from '../platform/contacts.ts'
import { signLinkToken, verifyLinkToken } from '../platform/link-tokens.ts'
import { mirrorQueries } from '../platform/mautic-queue.ts'
import { enqueueQuery } from '../platform/outbox.ts'
import { buildEventQueries, chainHead, commitWithChainRetry } from './ledger.ts'
import { loadPurposes } from './purposes.ts'
import { withdraw } from './withdrawal.ts'

const DAY_MS = 86_400_000
/** States looked at per read. */
const WINDOW = 500
const LEASE_MS = 5 * 60_000
/** A re-consent link works this long after the grace period (a late "yes" still renews the consent). */
const LINK_AFTER_GRACE_MS = 180 * DAY_MS

export type Campaign = ReconsentCampaignRow

/**
 * The scheduled job: starts a campaign for every re-consent version that has none, then queues the
 * next mails of each unfinished one, at most `budget` in all. Returns how many were queued.
 */
export async function queueReconsentMails(
  deps: Deps,
  budget = deps.config.operations.reconsentMailsPerRun,
): Promise<number> {
  const now = deps.clock.now()
  await deps.atomic([startMissingCampaignsQuery(deps.db, now)])
  let queued = 0
  for (const c of await listCampaigns(deps.db)) {
    if (c.scanned_at !== null || queued >= budget) continue
    if (!(await claimCampaign(deps.db, c.notice_id, now, now + LEASE_MS))) continue
    queued += await queueBatch(deps, c, budget - queued)
  }
  return queued
}

/** One pass over windows of the purpose's states, up to `budget` mails; one unit per window. */
async function queueBatch(deps: Deps, c: Campaign, budget: number): Promise<number> {
  let cursor = c.cursor
  let queued = 0
  for (;;) {
    const now = deps.clock.now()
    const rows = await stateWindow(deps.db, c.purpose_key, cursor, WINDOW)
    const queries: CompiledQuery[] = []
    let last = cursor
    let full = false
    for (const s of rows) {
      if (outdated(s, c)) {
        if (queued >= budget) {
          full = true
          break
        }
        queued++
        queries.push(
          insertReconsentMailQuery(deps.db, {
            notice_id: c.notice_id,
            contact_id: s.contact_id,
            queued_at: now,
          }),
          enqueueQuery(deps.db, now, {
            kind: 'mail.reconsent',
            payload: { noticeId: c.notice_id, contactId: s.contact_id },
          }),
        )
      }
      last = s.contact_id
    }
    const done = !full && rows.length < WINDOW
    const batch = queries.length / 2
    // The mails and where the campaign stands, in one unit: a crash repeats or loses nothing.
    queries.push(
      advanceCampaignQuery(deps.db, c.notice_id, {
        cursor: last,
        queuedMore: batch,
        scannedAt: done ? now : null,
      }),
    )
    await deps.atomic(queries)
    if (batch > 0) deps.wakeOutbox()
    if (done || full) return queued
    cursor = last
  }
}

const outdated = (
  s: { status: string; notice_version: number | null; notice_locale: string | null },
  c: Pick<Campaign, 'locale' | 'version'>,
) => s.status === 'granted' && s.notice_locale === c.locale && (s.notice_version ?? 0) < c.version

/** What the mail and the page need: the campaign, its notice, the contact's locale; null: nothing to ask. */
export async function reconsentSubject(
  deps: Deps,
  noticeId: string,
  contactId: string,
): Promise<{
  campaign: Campaign
  notice: NoticeRow
  contactId: string
  state: 'outdated' | 'renewed' | 'changed'
} | null> {
  const [campaign, contact] = await Promise.all([
    findCampaign(deps.db, noticeId),
    findContactById(deps.db, contactId),
  ])
  if (!campaign || !contact || contact.status !== 'active' || contact.objected_at !== null)
    return null
  const [notice] = await findNoticesByIds(deps.db, [noticeId])
  if (!notice) return null
  const s = (await findStates(deps.db, contactId)).find(
    (x) => x.purpose_key === campaign.purpose_key,
  )
  const state = !s
    ? 'changed'
    : outdated(s, campaign)
      ? 'outdated'
      : s.status === 'granted' && s.notice_locale === campaign.locale
        ? 'renewed'
        : 'changed'
  return { campaign, notice, contactId, state }
}

/** The link of the mail: `/r/{token}`, valid until well after the grace period. */
export async function reconsentUrl(deps: Deps, campaign: Campaign, contactId: string) {
  const token = signLinkToken(
    deps.keys,
    'reconsent',
    { sub: contactId, n: campaign.notice_id },
    campaign.grace_until + LINK_AFTER_GRACE_MS,
    deps.clock.now(),
  )
  return `${deps.config.publicUrl}/r/${token}`
}

/** The mail went out: counted for the campaign's progress. */
export const markReconsentSent = (deps: Deps, noticeId: string, contactId: string) =>
  deps.atomic([markReconsentSentQuery(deps.db, noticeId, contactId, deps.clock.now())])

export type ReconsentPage =
  | { status: 'invalid' }
  | {
      status: 'ask' | 'renewed' | 'changed'
      locale: Locale
      notice: NoticeRow
      graceUntil: number
      contactId: string
    }

/** What the page behind the link shows (GET: changes nothing). */
export async function inspectReconsentToken(deps: Deps, token: string): Promise<ReconsentPage> {
  const v = verifyLinkToken(deps.keys, token, 'reconsent', deps.clock.now())
  if (v.status !== 'valid' || typeof v.claims.n !== 'string') return { status: 'invalid' }
  const subject = await reconsentSubject(deps, v.claims.n, v.claims.sub)
  if (!subject) return { status: 'invalid' }
  const { campaign, notice, state } = subject
  return {
    status: state === 'outdated' ? 'ask' : state,
    locale: campaign.locale,
    notice,
    graceUntil: campaign.grace_until,
    contactId: subject.contactId,
  }
}

/**
 * The person's answer. `accept` records their consent under the new version (confirmed for a double
 * opt-in purpose: the link reached their mailbox), with IP and user agent as evidence; `decline`
 * withdraws the purpose. Either only while their consent is still the one the mail asked about.
 */
export async function answerReconsent(
  deps: Deps,
  token: string,
  answer: 'accept' | 'decline',
  evidence: { ip?: string; user_agent?: string },
): Promise<ReconsentPage> {
  const page = await inspectReconsentToken(deps, token)
  if (page.status !== 'ask') return page
  const { notice, contactId } = page
  if (answer === 'decline') {
    await withdraw(deps, contactId, [notice.purpose_key], {
      method: 'reconsent_declined',
      source: `reconsent-mail:${notice.id}`,
      actor: 'contact',
      evidence: { ...evidence, notice_id: notice.id },
    })
    return { ...page, status: 'changed' }
  }
  const purpose = (await loadPurposes(deps.db, deps.clock.now())).get(notice.purpose_key)
  const result = await commitWithChainRetry<ReconsentPage>(deps, async () => {
    const again = await inspectReconsentToken(deps, token)
    if (again.status !== 'ask') return { queries: [], result: again }
    const contact = (await findContactById(deps.db, contactId))!
    const now = deps.clock.now()
    const built = await buildEventQueries(
      deps,
      { id: contactId, dataKey: await contactDataKey(deps, contact) },
      await chainHead(deps, contactId),
      [
        {
          purposeKey: notice.purpose_key,
          action: purpose?.doubleOptIn ? 'confirmed' : 'granted',
          noticeId: notice.id,
          noticeVersion: notice.version,
          noticeLocale: notice.locale,
          method: 'reconsent',
          source: `reconsent-mail:${notice.id}`,
          evidence: { ...evidence, content_hash: notice.content_hash },
          actor: 'contact',
          occurredAt: now,
        },
      ],
    )
    const mirror = await mirrorQueries(deps, contactId, now)
    return {
      queries: [...built.queries, ...mirror],
      chains: [built.chain],
      result: { ...again, status: 'renewed' as const },
    }
  })
  return result
}

export interface CampaignProgress {
  notice_id: string
  purpose: string
  locale: Locale
  version: number
  started_at: string
  grace_until: string
  grace_over: boolean
  /** Every state looked at: nothing more to queue. */
  all_queued: boolean
  queued: number
  sent: number
  /** Mailed and still granted under an older version. */
  outdated: number
  /** Mailed and no longer on an older version (renewed, or withdrawn). */
  answered: number
}

/**
 * Every campaign, newest first, with where it stands (the console, the admin API, /metrics); with
 * `running`, only those whose grace period is not over (the monitor's check: counting a campaign reads
 * every contact it mailed).
 */
export async function reconsentProgress(
  deps: Pick<Deps, 'db' | 'clock'>,
  opts: { running?: boolean } = {},
) {
  const now = deps.clock.now()
  const out: CampaignProgress[] = []
  for (const c of await listCampaigns(deps.db)) {
    if (opts.running && c.grace_until <= now) continue
    const counts = await campaignCounts(deps.db, c)
    out.push({
      notice_id: c.notice_id,
      purpose: c.purpose_key,
      locale: c.locale,
      version: c.version,
      started_at: new Date(c.started_at).toISOString(),
      grace_until: new Date(c.grace_until).toISOString(),
      grace_over: c.grace_until <= now,
      all_queued: c.scanned_at !== null,
      queued: counts.queued,
      sent: counts.sent,
      outdated: counts.outdated,
      answered: counts.queued - counts.outdated,
    })
  }
  return out
}
