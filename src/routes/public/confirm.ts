/**
 * @module Double opt-in links /c/{token}. GET only shows a page with a button (mail scanners and link
 * previews open links; that must not confirm anything); POST confirms. The signed token authorises the
 * POST, so no Origin, cookie or body is needed. A link confirms once (domain/consent/optin.ts): after
 * that, both show a page that says so and leads to the preference center.
 */
import { Hono, type Context } from 'hono'
import type { Deps } from '../../deps.ts'
import {
  confirmOptin,
  inspectConfirmToken,
  type ConfirmOutcome,
} from '../../domain/consent/optin.ts'
import { loadPurposes } from '../../domain/consent/purposes.ts'
import { preferencesUrl } from '../../domain/sending/links.ts'
import { messagePage } from '../../lib/http-errors.ts'
import { t, type Locale } from '../../lib/i18n.ts'
import { page, pageLocale } from '../../lib/pages.ts'
import { siteInfo } from '../../lib/site.ts'

export function confirmRoutes(deps: Deps) {
  const site = siteInfo(deps.config)

  async function outcomePage(c: Context, outcome: ConfirmOutcome) {
    const locale = pageLocale(c, 'locale' in outcome ? outcome.locale : null)
    switch (outcome.status) {
      case 'confirmed':
        return messagePage(c, site, 200, 'confirm.done.title', 'confirm.done.body', { locale })
      case 'already_confirmed':
      case 'used': {
        const key = outcome.status === 'used' ? 'confirm.used' : 'confirm.already'
        return page(c, site, 'public/confirm-spent', {
          locale,
          titleKey: `${key}.title`,
          data: {
            body: t(locale, `${key}.body`),
            preferencesUrl: `${preferencesUrl(deps, outcome.contactId)}?lang=${locale}`,
          },
        })
      }
      case 'expired':
        return page(c, site, 'public/resend', {
          locale,
          titleKey: 'confirm.expired.title',
          status: 410,
          data: {
            body: t(locale, 'confirm.expired.body'),
            resend: false,
            subscribeUrl: `/subscribe/default?lang=${locale}`,
          },
        })
      case 'invalid':
        return page(c, site, 'public/resend', {
          locale,
          titleKey: 'confirm.invalid.title',
          status: 404,
          data: { body: t(locale, 'confirm.invalid.body'), resend: true, subscribeUrl: undefined },
        })
    }
  }

  async function purposeTitles(keys: string[], locale: Locale): Promise<string[]> {
    const purposes = await loadPurposes(deps.db, deps.clock.now())
    return keys.map((k) => purposes.get(k)?.current[locale]?.title ?? k)
  }

  return new Hono()
    .get('/:token', async (c) => {
      const token = c.req.param('token')
      const checked = await inspectConfirmToken(deps, token)
      if (checked.status !== 'ready') return outcomePage(c, checked)
      const locale = pageLocale(c, checked.locale)
      return page(c, site, 'public/confirm', {
        locale,
        titleKey: 'confirm.title',
        data: { action: `/c/${token}`, purposes: await purposeTitles(checked.purposes, locale) },
      })
    })
    .post('/:token', async (c) => {
      const outcome = await confirmOptin(deps, c.req.param('token'), {
        ip: deps.clientIp(c),
        user_agent: c.req.header('user-agent')?.slice(0, 500),
      })
      return outcomePage(c, outcome)
    })
}
