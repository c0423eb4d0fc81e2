/**
 * @module Adding purposes and publishing notice versions. A published notice is never edited (the
 * database refuses it): a change of wording is a new version, marked "requires re-consent" when the
 * change is substantial (EDPB 05/2020 §110–111), which makes the gate refuse consents given under
 * older versions with `notice_outdated` until the person consents again, once a grace period is over
 * (RECONSENT_GRACE_DAYS, or the publication's own): meanwhile the people concerned are mailed and
 * asked (src/domain/consent/reconsent.ts).
 */
import { insertNotice, insertPurpose, latestNoticeVersion } from '../../db/repositories/purposes.ts'
import type { Deps } from '../../deps.ts'
import type { Locale } from '../../lib/i18n.ts'
import { noticeContentHash } from './notices.ts'
import { invalidatePurposes, loadPurposes } from './purposes.ts'

type Failure = { ok: false; code: string; message: string }

export interface NewPurpose {
  key: string
  channel: 'email' | 'sms' | 'push' | 'web' | 'app' | 'data'
  legalBasis: 'consent' | 'legitimate_interest'
  doubleOptIn: boolean
  maxConsentAgeDays: number | null
}

export async function createPurpose(
  deps: Pick<Deps, 'db' | 'clock'>,
  p: NewPurpose,
): Promise<{ ok: true } | Failure> {
  if (!/^[a-z][a-z0-9_]{1,63}$/.test(p.key))
    return {
      ok: false,
      code: 'invalid_key',
      message: 'key must be 2 to 64 lower-case letters, digits or _, starting with a letter',
    }
  const inserted = await insertPurpose(deps.db, {
    key: p.key,
    channel: p.channel,
    legal_basis: p.legalBasis,
    double_opt_in: p.doubleOptIn ? 1 : 0,
    max_consent_age_days: p.maxConsentAgeDays,
    created_at: deps.clock.now(),
  })
  if (!inserted)
    return { ok: false, code: 'purpose_exists', message: `Purpose "${p.key}" already exists` }
  invalidatePurposes(deps.db)
  return { ok: true }
}

export interface NewNotice {
  purposeKey: string
  locale: Locale
  title: string
  body: string
  privacyUrl: string
  requiresReconsent: boolean
  /**
   * With `requiresReconsent`: days during which consents under older versions still pass the gate
   * while their holders are asked again (default RECONSENT_GRACE_DAYS; 0: refused at once).
   */
  reconsentGraceDays?: number
}

const DAY_MS = 86_400_000

/** Publishes the next version of a purpose's notice in one locale; returns its id and version. */
export async function publishNotice(
  deps: Pick<Deps, 'db' | 'clock'> & Partial<Pick<Deps, 'config'>>,
  n: NewNotice,
): Promise<
  | { ok: true; id: string; version: number; contentHash: string; graceUntil: number | null }
  | Failure
> {
  const graceDays = n.reconsentGraceDays ?? deps.config?.operations.reconsentGraceDays ?? 0
  if (!(await loadPurposes(deps.db, deps.clock.now())).has(n.purposeKey))
    return { ok: false, code: 'unknown_purpose', message: `Unknown purpose "${n.purposeKey}"` }
  for (let attempt = 0; attempt < 3; attempt++) {
    const version = (await latestNoticeVersion(deps.db, n.purposeKey, n.locale)) + 1
    const contentHash = await noticeContentHash({ ...n, version })
    const id = crypto.randomUUID()
    const now = deps.clock.now()
    const inserted = await insertNotice(deps.db, {
      id,
      purpose_key: n.purposeKey,
      locale: n.locale,
      version,
      title: n.title,
      body: n.body,
      privacy_url: n.privacyUrl,
      content_hash: contentHash,
      requires_reconsent: n.requiresReconsent ? 1 : 0,
      published_at: now,
      created_at: now,
      reconsent_grace_until: n.requiresReconsent ? now + graceDays * DAY_MS : null,
    })
    if (inserted) {
      invalidatePurposes(deps.db)
      const graceUntil = n.requiresReconsent ? now + graceDays * DAY_MS : null
      return { ok: true, id, version, contentHash, graceUntil }
    }
    // Another admin published the same version at the same moment: take the next one.
  }
  return { ok: false, code: 'conflict', message: 'Could not publish: retry' }
}
