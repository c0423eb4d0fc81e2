/**
 * @module /me/{token}/address: the check of a new e-mail address (GDPR Art. 16), opened from the mail sent
 * to that address. GET only shows a button (mail scanners open links); the POST changes the address.
 * An address already used by another contact gets a neutral refusal that names no one.
 */
import { Hono, type Context } from 'hono'
import type { Deps } from '../../deps.ts'
import {
  confirmEmailChange,
  inspectEmailChange,
  type EmailChangeOutcome,
} from '../../domain/rights/email-change.ts'
import { messagePage } from '../../lib/http-errors.ts'
import { page, pageLocale } from '../../lib/pages.ts'
import { siteInfo } from '../../lib/site.ts'
import { accessInvalidPage } from './me-shared.ts'

export function meEmailRoutes(deps: Deps) {
  const site = siteInfo(deps.config)

  function outcomePage(c: Context, outcome: EmailChangeOutcome) {
    if (!('locale' in outcome)) return accessInvalidPage(c, site, outcome.status)
    const locale = pageLocale(c, outcome.locale)
    const key = `email.${outcome.status}`
    return messagePage(c, site, 200, `${key}.title`, `${key}.body`, { locale })
  }

  return new Hono()
    .get('/:token/address', async (c) => {
      const token = c.req.param('token')
      const check = await inspectEmailChange(deps, token)
      if (check.status !== 'ready')
        return outcomePage(
          c,
          check.status === 'already' ? { status: 'already', locale: check.contact.locale } : check,
        )
      const locale = pageLocale(c, check.contact.locale)
      return page(c, site, 'public/me-email', {
        locale,
        titleKey: 'email.title',
        data: { action: `/me/${token}/address`, email: check.newEmail },
      })
    })
    .post('/:token/address', async (c) =>
      outcomePage(c, await confirmEmailChange(deps, c.req.param('token'))),
    )
}
