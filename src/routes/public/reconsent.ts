/**
 * @module Re-consent links /r/{token} (src/domain/consent/reconsent.ts): the mail asks a person whose
 * consent was given under an older wording whether they agree to the new one. GET shows the new
 * wording with two buttons and changes nothing (mail scanners open links); the POST of "yes" records
 * the consent under the new version, "no" withdraws the purpose. The app's origin check guards the
 * POST (the buttons are on this page).
 */
import { Hono, type Context } from 'hono'
import type { Deps } from '../../deps.ts'
import {
  answerReconsent,
  inspectReconsentToken,
  type ReconsentPage,
} from '../../domain/consent/reconsent.ts'
import { preferencesUrl } from '../../domain/sending/links.ts'
import { messagePage } from '../../lib/http-errors.ts'
import type { Locale } from '../../lib/i18n.ts'
import { page, pageLocale } from '../../lib/pages.ts'
import { siteInfo } from '../../lib/site.ts'
import { t } from '../../lib/i18n.ts'

const day = (locale: Locale, ms: number) =>
  new Intl.DateTimeFormat(locale === 'fr' ? 'fr-FR' : 'en-GB', {
    dateStyle: 'long',
    timeZone: 'UTC',
  }).format(new Date(ms))

export function reconsentRoutes(deps: Deps) {
  const site = siteInfo(deps.config)

  async function show(c: Context, p: ReconsentPage, token: string, answered = false) {
    if (p.status === 'invalid')
      return messagePage(c, site, 404, 'reconsent.invalid.title', 'reconsent.invalid.body')
    const locale = pageLocale(c, p.locale)
    const data = {
      action: `/r/${token}`,
      title: p.notice.title,
      text: p.notice.body,
      privacyUrl: p.notice.privacy_url || deps.config.org.privacyUrl || null,
      graceUntil: day(locale, p.graceUntil),
      graceOver: p.graceUntil <= deps.clock.now(),
      preferencesUrl: `${preferencesUrl(deps, p.contactId)}?lang=${locale}`,
    }
    if (p.status === 'ask')
      return page(c, site, 'public/reconsent', { locale, titleKey: 'reconsent.title', data })
    const key =
      p.status === 'renewed'
        ? answered
          ? 'reconsent.thanks'
          : 'reconsent.renewed'
        : 'reconsent.changed'
    return page(c, site, 'public/reconsent-done', {
      locale,
      titleKey: `${key}.title`,
      params: { title: p.notice.title },
      data: { ...data, body: t(locale, `${key}.body`, { title: p.notice.title }) },
    })
  }

  return new Hono()
    .get('/:token', async (c) => {
      const token = c.req.param('token')
      return show(c, await inspectReconsentToken(deps, token), token)
    })
    .post('/:token', async (c) => {
      const token = c.req.param('token')
      const body = await c.req.parseBody()
      const answer = body.answer === 'decline' ? 'decline' : 'accept'
      const result = await answerReconsent(deps, token, answer, {
        ip: deps.clientIp(c),
        user_agent: c.req.header('user-agent')?.slice(0, 500),
      })
      return show(c, result, token, true)
    })
}
