/**
 * @module /admin/purposes: every purpose with its channel, legal basis, double opt-in and consent age,
 * and the wording in force per language (purposes.read); adding a purpose, and per purpose and
 * language a notice draft, its preview as the hosted form shows it, what it changes from the version
 * in force, and its publication as the next version, "requires re-consent" or not (purposes.manage).
 * The domain is src/domain/admin/notices.ts; the admin API does the same
 * (src/routes/api/admin/purposes.ts).
 */
import type { Context, Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import {
  addPurpose,
  discardDraft,
  publishDraft,
  purposeNotices,
  purposeOverviews,
  saveDraft,
  type NoticeResult,
} from '../../domain/admin/notices.ts'
import { can } from '../../domain/admin/permissions.ts'
import { LOCALES, t } from '../../lib/i18n.ts'
import { actorOf, adminLocale, adminMessage, adminPage, field, guard } from './context.ts'
import { label, when } from './format.ts'

const CHANNELS = ['email', 'sms', 'push', 'web', 'app', 'data'] as const
const BASES = ['consent', 'legitimate_interest'] as const
const KEY = /^[a-z][a-z0-9_]{1,63}$/

export function purposeRoutes(deps: Deps, app: Hono) {
  const listPage = async (c: Context, error: string | null = null, status: 200 | 400 = 200) => {
    const locale = adminLocale(c)
    const purposes = await purposeOverviews(deps)
    return adminPage(deps, c, 'admin/purposes', {
      titleKey: 'admin.purposes.title',
      status,
      data: {
        error,
        notice: c.req.query('done') === 'added' ? t(locale, 'admin.purposes.added') : null,
        manage: can(c.get('admin')!.user.role, 'purposes.manage'),
        purposes: purposes.map((p) => ({
          ...p,
          channelLabel: label(locale, 'channel', p.channel),
          basisLabel: label(locale, 'basis', p.legalBasis),
          doi: p.doubleOptIn ? t(locale, 'admin.dash.yes') : t(locale, 'admin.dash.no'),
          age:
            p.maxConsentAgeDays === null
              ? t(locale, 'admin.purposes.noLimit')
              : t(locale, 'admin.unit.days', { n: p.maxConsentAgeDays }),
          versions: LOCALES.map((l) => ({
            locale: l,
            version: p.current[l] ? `v${p.current[l]!.version}` : '—',
            draft: p.drafts.includes(l),
          })),
        })),
        channels: CHANNELS.map((ch) => ({ value: ch, label: label(locale, 'channel', ch) })),
        bases: BASES.map((b) => ({ value: b, label: label(locale, 'basis', b) })),
      },
    })
  }
  guard(deps, app, 'GET', '/purposes', 'purposes.read', (c) => listPage(c))
  guard(deps, app, 'POST', '/purposes', 'purposes.manage', async (c) => {
    const locale = adminLocale(c)
    const age = (await field(c, 'max_consent_age_days')).trim()
    const days = age === '' ? null : Number(age)
    const channel = await field(c, 'channel')
    const basis = await field(c, 'legal_basis')
    if (
      !(CHANNELS as readonly string[]).includes(channel) ||
      !(BASES as readonly string[]).includes(basis) ||
      (days !== null && (!Number.isInteger(days) || days < 1 || days > 36500))
    )
      return listPage(c, t(locale, 'admin.purposes.error.invalid'), 400)
    const r = await addPurpose(
      deps,
      {
        key: (await field(c, 'key')).trim(),
        channel: channel as (typeof CHANNELS)[number],
        legalBasis: basis as (typeof BASES)[number],
        doubleOptIn: (await field(c, 'double_opt_in')) === 'yes',
        maxConsentAgeDays: days,
      },
      { ...actorOf(deps, c), reason: await field(c, 'reason') },
    )
    if (!r.ok) return listPage(c, t(locale, `admin.purposes.error.${r.code}`), 400)
    return c.redirect(`/admin/purposes?done=added`, 303)
  })

  const purposePage = async (c: Context, error: string | null = null, status: 200 | 400 = 200) => {
    const key = c.req.param('key') ?? ''
    const locale = adminLocale(c)
    const found = KEY.test(key) ? await purposeNotices(deps, key) : undefined
    if (!found) return adminMessage(deps, c, 404, 'admin.purpose.notFound')
    const done = c.req.query('done')
    const org = deps.config.org.name
    return adminPage(deps, c, 'admin/purpose', {
      titleKey: 'admin.purpose.title',
      params: { key },
      status,
      data: {
        key,
        error,
        notice:
          done && ['draft', 'published', 'discarded'].includes(done)
            ? t(locale, `admin.purpose.done.${done}`)
            : null,
        manage: can(c.get('admin')!.user.role, 'purposes.manage'),
        purpose: {
          ...found.purpose,
          channelLabel: label(locale, 'channel', found.purpose.channel),
          basisLabel: label(locale, 'basis', found.purpose.legalBasis),
        },
        locales: found.locales.map((l) => {
          const shown = l.draft ?? l.versions[0] ?? null
          return {
            locale: l.locale,
            ids: { draft: `draft-${l.locale}`, publish: `publish-${l.locale}` },
            name: t(locale, `admin.purpose.lang.${l.locale}`),
            draft: l.draft,
            // The form starts from the draft, else from the version in force.
            form: {
              title: shown?.title ?? '',
              text: shown?.text ?? '',
              privacyUrl: shown?.privacyUrl ?? deps.config.org.privacyUrl ?? '',
              requiresReconsent: l.draft?.requiresReconsent ?? false,
            },
            // The preview is what the hosted form shows, in that form's language.
            preview: shown
              ? {
                  title: shown.title,
                  text: shown.text,
                  intro: t(l.locale, 'subscribe.intro', { org }),
                  version: shown.version,
                  isDraft: l.draft !== null,
                }
              : null,
            diff: l.diff,
            versions: l.versions.map((v) => ({
              ...v,
              published: when(v.publishedAt, locale),
            })),
          }
        }),
      },
    })
  }
  guard(deps, app, 'GET', '/purposes/:key', 'purposes.read', (c) => purposePage(c))

  const after = async (c: Context, r: NoticeResult, done: string) => {
    if (r.ok)
      return c.redirect(
        `/admin/purposes/${c.req.param('key')}?done=${done}#${await field(c, 'locale')}`,
        303,
      )
    if (r.code === 'unknown_purpose') return adminMessage(deps, c, 404, 'admin.purpose.notFound')
    return purposePage(c, t(adminLocale(c), `admin.purpose.error.${r.code}`), 400)
  }
  const reasonGiven = async (c: Context) => (await field(c, 'reason')).trim().slice(0, 500)

  guard(deps, app, 'POST', '/purposes/:key/draft', 'purposes.manage', async (c) => {
    const reason = await reasonGiven(c)
    if (!reason) return purposePage(c, t(adminLocale(c), 'admin.error.reasonRequired'), 400)
    const r = await saveDraft(
      deps,
      c.req.param('key') ?? '',
      await field(c, 'locale'),
      {
        title: (await field(c, 'title')).slice(0, 300),
        text: (await field(c, 'text')).slice(0, 6000),
        privacyUrl: (await field(c, 'privacy_url')).slice(0, 2100),
        requiresReconsent: (await field(c, 'requires_reconsent')) === 'yes',
      },
      { ...actorOf(deps, c), reason },
    )
    return after(c, r, 'draft')
  })
  guard(deps, app, 'POST', '/purposes/:key/publish', 'purposes.manage', async (c) => {
    const reason = await reasonGiven(c)
    if (!reason) return purposePage(c, t(adminLocale(c), 'admin.error.reasonRequired'), 400)
    const r = await publishDraft(deps, c.req.param('key') ?? '', await field(c, 'locale'), {
      ...actorOf(deps, c),
      reason,
    })
    return after(c, r, 'published')
  })
  guard(deps, app, 'POST', '/purposes/:key/discard', 'purposes.manage', async (c) => {
    const reason = await reasonGiven(c)
    if (!reason) return purposePage(c, t(adminLocale(c), 'admin.error.reasonRequired'), 400)
    const r = await discardDraft(deps, c.req.param('key') ?? '', await field(c, 'locale'), {
      ...actorOf(deps, c),
      reason,
    })
    return after(c, r, 'discarded')
  })
}
