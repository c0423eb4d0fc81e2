/**
 * @module Purposes and their notices as staff manage them: add a purpose; write a draft of a notice per
 * language, see it as the hosted form will show it and what it changes from the version in force, then
 * publish it as the next version. A published version never changes (GDPR Art. 7(1): what was shown
 * must stay provable; the database refuses the update); marked "requires re-consent" (EDPB 05/2020
 * §110–111), it makes the gate refuse consents given under older versions until renewed.
 */
import {
  deleteDraftRow,
  findDraft,
  insertNotice,
  latestNoticeVersion,
  latestPublishedVersion,
  listAllPurposes,
  listNoticesOf,
  publishDraftRow,
  updateDraft,
  type NoticeRow,
  type PurposeRow,
} from '../../db/repositories/purposes.ts'
import type { Deps } from '../../deps.ts'
import { wordDiff, type DiffPart } from '../../lib/diff.ts'
import type { Locale } from '../../lib/i18n.ts'
import { LOCALES } from '../../lib/i18n.ts'
import { createPurpose, type NewPurpose } from '../consent/purpose-admin.ts'
import { noticeContentHash } from '../consent/notices.ts'
import { invalidatePurposes } from '../consent/purposes.ts'
import type { Actor } from './accounts.ts'
import { recordAudit } from './audit.ts'

export interface NoticeVersion {
  id: string
  version: number
  locale: Locale
  title: string
  text: string
  privacyUrl: string
  requiresReconsent: boolean
  publishedAt: number | null
  contentHash: string
}

export interface PurposeOverview {
  key: string
  channel: PurposeRow['channel']
  legalBasis: PurposeRow['legal_basis']
  doubleOptIn: boolean
  maxConsentAgeDays: number | null
  archived: boolean
  /** The version in force per language, and whether a draft waits. */
  current: Partial<Record<Locale, NoticeVersion>>
  drafts: Locale[]
}

const view = (n: NoticeRow): NoticeVersion => ({
  id: n.id,
  version: n.version,
  locale: n.locale,
  title: n.title,
  text: n.body,
  privacyUrl: n.privacy_url,
  requiresReconsent: n.requires_reconsent === 1,
  publishedAt: n.published_at,
  contentHash: n.content_hash,
})

export async function purposeOverviews(deps: Pick<Deps, 'db'>): Promise<PurposeOverview[]> {
  const purposes = await listAllPurposes(deps.db)
  const notices = await Promise.all(purposes.map((p) => listNoticesOf(deps.db, p.key)))
  return purposes.map((p, i) => {
    const current: PurposeOverview['current'] = {}
    const drafts: Locale[] = []
    for (const n of notices[i]!) {
      if (n.published_at === null) drafts.push(n.locale)
      else current[n.locale] = view(n) // by version: the last one wins
    }
    return {
      key: p.key,
      channel: p.channel,
      legalBasis: p.legal_basis,
      doubleOptIn: p.double_opt_in === 1,
      maxConsentAgeDays: p.max_consent_age_days,
      archived: p.archived_at !== null,
      current,
      drafts,
    }
  })
}

export interface LocaleNotices {
  locale: Locale
  /** Published versions, newest first. */
  versions: NoticeVersion[]
  draft: NoticeVersion | null
  /** What the draft changes from the version in force (title and text), when both exist. */
  diff: { title: DiffPart[]; text: DiffPart[]; privacyUrl: DiffPart[] } | null
}

export async function purposeNotices(
  deps: Pick<Deps, 'db'>,
  key: string,
): Promise<{ purpose: PurposeOverview; locales: LocaleNotices[] } | undefined> {
  const purpose = (await purposeOverviews(deps)).find((p) => p.key === key)
  if (!purpose) return undefined
  const notices = (await listNoticesOf(deps.db, key)).map(view)
  return {
    purpose,
    locales: LOCALES.map((locale) => {
      const mine = notices.filter((n) => n.locale === locale)
      const versions = mine.filter((n) => n.publishedAt !== null).reverse()
      const draft = mine.find((n) => n.publishedAt === null) ?? null
      const before = versions[0]
      return {
        locale,
        versions,
        draft,
        diff:
          draft && before
            ? {
                title: wordDiff(before.title, draft.title),
                text: wordDiff(before.text, draft.text),
                privacyUrl: wordDiff(before.privacyUrl, draft.privacyUrl),
              }
            : null,
      }
    }),
  }
}

export type NoticeResult =
  | { ok: true; version: number; id: string }
  | {
      ok: false
      code:
        | 'unknown_purpose'
        | 'invalid_locale'
        | 'missing_title'
        | 'missing_text'
        | 'invalid_privacy_url'
        | 'no_draft'
        | 'missing_reason'
        | 'conflict'
    }

export interface DraftInput {
  title: string
  text: string
  privacyUrl: string
  requiresReconsent: boolean
}

function checkDraft(d: DraftInput): NoticeResult | null {
  if (!d.title.trim() || d.title.length > 200) return { ok: false, code: 'missing_title' }
  if (!d.text.trim() || d.text.length > 5000) return { ok: false, code: 'missing_text' }
  if (d.privacyUrl.length > 2000 || !/^(https?:\/\/\S+)?$/.test(d.privacyUrl))
    return { ok: false, code: 'invalid_privacy_url' }
  return null
}

/** Writes (or rewrites) the draft of a purpose's notice in one language: the next version. */
export async function saveDraft(
  deps: Pick<Deps, 'db' | 'clock' | 'atomic' | 'sha256'>,
  key: string,
  locale: string,
  input: DraftInput,
  by: Actor & { reason: string },
): Promise<NoticeResult> {
  if (locale !== 'fr' && locale !== 'en') return { ok: false, code: 'invalid_locale' }
  const bad = checkDraft(input)
  if (bad) return bad
  if (!(await listAllPurposes(deps.db)).some((p) => p.key === key))
    return { ok: false, code: 'unknown_purpose' }
  const fields = {
    title: input.title.trim(),
    body: input.text.trim(),
    privacy_url: input.privacyUrl.trim(),
    requires_reconsent: input.requiresReconsent ? (1 as const) : (0 as const),
  }
  const draft = await findDraft(deps.db, key, locale)
  let result: NoticeResult
  if (draft) {
    await updateDraft(deps.db, draft.id, { ...fields, version: draft.version })
    result = { ok: true, version: draft.version, id: draft.id }
  } else {
    const id = crypto.randomUUID()
    const version = (await latestNoticeVersion(deps.db, key, locale)) + 1
    const inserted = await insertNotice(deps.db, {
      id,
      purpose_key: key,
      locale,
      version,
      ...fields,
      content_hash: '',
      published_at: null,
      reconsent_grace_until: null,
      created_at: deps.clock.now(),
    })
    result = inserted ? { ok: true, version, id } : { ok: false, code: 'conflict' }
  }
  if (result.ok)
    await recordAudit(deps, {
      ...by,
      action: 'notice.draft',
      target: `notice:${result.id}`,
      details: { purpose: key, locale, version: result.version, reason: by.reason },
    })
  return result
}

/**
 * Publishes the draft as the next version (after any version published meanwhile). One that requires
 * re-consent gets the configured grace period (RECONSENT_GRACE_DAYS), as a publication through the
 * API does (src/domain/consent/purpose-admin.ts).
 */
export async function publishDraft(
  deps: Pick<Deps, 'db' | 'clock' | 'atomic' | 'sha256'> & {
    config?: Pick<Deps['config'], 'operations'>
  },
  key: string,
  locale: string,
  by: Actor & { reason: string },
): Promise<NoticeResult> {
  if (locale !== 'fr' && locale !== 'en') return { ok: false, code: 'invalid_locale' }
  if (!by.reason.trim()) return { ok: false, code: 'missing_reason' }
  const draft = await findDraft(deps.db, key, locale)
  if (!draft) return { ok: false, code: 'no_draft' }
  const published = await latestPublishedVersion(deps.db, key, locale)
  let version = draft.version
  if (version <= published) {
    // Published meanwhile through the API: the draft becomes the version after it.
    version = published + 1
    await updateDraft(deps.db, draft.id, {
      title: draft.title,
      body: draft.body,
      privacy_url: draft.privacy_url,
      requires_reconsent: draft.requires_reconsent,
      version,
    })
  }
  const hash = await noticeContentHash({
    purposeKey: key,
    locale,
    version,
    title: draft.title,
    body: draft.body,
    privacyUrl: draft.privacy_url,
  })
  const now = deps.clock.now()
  const graceDays = deps.config?.operations.reconsentGraceDays ?? 0
  const graceUntil = draft.requires_reconsent === 1 ? now + graceDays * 86_400_000 : null
  if (!(await publishDraftRow(deps.db, draft.id, hash, now, graceUntil)))
    return { ok: false, code: 'conflict' }
  invalidatePurposes(deps.db)
  await recordAudit(deps, {
    ...by,
    action: 'notice.publish',
    target: `notice:${draft.id}`,
    details: {
      purpose: key,
      locale,
      version,
      requires_reconsent: draft.requires_reconsent === 1,
      reason: by.reason,
    },
  })
  return { ok: true, version, id: draft.id }
}

export async function discardDraft(
  deps: Pick<Deps, 'db' | 'clock' | 'atomic' | 'sha256'>,
  key: string,
  locale: string,
  by: Actor & { reason: string },
): Promise<NoticeResult> {
  if (locale !== 'fr' && locale !== 'en') return { ok: false, code: 'invalid_locale' }
  const draft = await findDraft(deps.db, key, locale)
  if (!draft || !(await deleteDraftRow(deps.db, draft.id))) return { ok: false, code: 'no_draft' }
  await recordAudit(deps, {
    ...by,
    action: 'notice.discard',
    target: `notice:${draft.id}`,
    details: { purpose: key, locale, version: draft.version, reason: by.reason },
  })
  return { ok: true, version: draft.version, id: draft.id }
}

/** Adds a purpose (its wording comes as drafts, then published versions). */
export async function addPurpose(
  deps: Pick<Deps, 'db' | 'clock' | 'atomic' | 'sha256'>,
  p: NewPurpose,
  by: Actor & { reason: string },
) {
  if (!by.reason.trim())
    return { ok: false as const, code: 'missing_reason', message: 'A reason is required' }
  const r = await createPurpose(deps, p)
  await recordAudit(deps, {
    ...by,
    action: 'purpose.create',
    target: `purpose:${p.key}`,
    outcome: r.ok ? 'ok' : 'failed',
    details: { channel: p.channel, legal_basis: p.legalBasis, reason: by.reason },
  })
  return r
}
