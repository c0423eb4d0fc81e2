/**
 * @module GET|POST /privacy: ask for one's data by e-mail address (GDPR Art. 15; Art. 12(2): make it
 * easy). The answer is the same page, status and work whether the address is known or not (no account
 * enumeration): the request only queues a job, which looks the address up and mails the short-lived
 * link when it is known. Rate-limited per client address (a 429 page, which says nothing about the
 * address) and, in the job, per e-mail address (silently: the answer was the same).
 */
import { Hono, type Context } from 'hono'
import type { Deps } from '../../deps.ts'
import { requestAccessByEmail } from '../../domain/rights/access.ts'
import { hitRateLimit } from '../../domain/platform/rate-limits.ts'
import { normalizeEmail } from '../../lib/email.ts'
import { messagePage } from '../../lib/http-errors.ts'
import { t, type Locale } from '../../lib/i18n.ts'
import { page, pageLocale } from '../../lib/pages.ts'
import { siteInfo } from '../../lib/site.ts'

export const PRIVACY_IP_LIMIT = { limit: 10, windowMs: 10 * 60_000 }

export function privacyRoutes(deps: Deps) {
  const site = siteInfo(deps.config)

  const form = (
    c: Context,
    locale: Locale,
    values: { email: string; errors: string[] },
    status: 200 | 400 | 429 = 200,
  ) =>
    page(c, site, 'public/privacy', {
      locale,
      titleKey: 'privacy.title',
      status,
      data: {
        action: '/privacy',
        ...values,
        emailInvalid: values.errors.length > 0 && status === 400,
      },
    })

  return new Hono()
    .get('/', (c) => form(c, pageLocale(c), { email: '', errors: [] }))
    .post('/', async (c) => {
      const body = await c.req.parseBody()
      const locale = pageLocale(c, typeof body.lang === 'string' ? body.lang : null)
      const typed = typeof body.email === 'string' ? body.email : ''
      const email = typed.length <= 254 ? normalizeEmail(typed) : null
      if (!email) {
        const error = t(
          locale,
          typed.length > 254 ? 'privacy.error.tooLong' : 'privacy.error.email',
        )
        return form(c, locale, { email: typed.slice(0, 254), errors: [error] }, 400)
      }
      const limited = await hitRateLimit(deps, {
        bucket: 'privacy-form',
        subject: deps.clientIp(c) ?? 'unknown',
        ...PRIVACY_IP_LIMIT,
      })
      if (!limited.allowed) {
        c.header('Retry-After', String(Math.ceil(limited.retryAfterMs / 1000)))
        return form(
          c,
          locale,
          { email: typed, errors: [t(locale, 'privacy.error.rateLimited')] },
          429,
        )
      }
      await requestAccessByEmail(deps, email)
      c.set('outboxPending', true)
      return c.redirect(`/privacy/sent?lang=${locale}`, 303)
    })
    .get('/sent', (c) => {
      return messagePage(c, site, 200, 'privacy.sent.title', 'privacy.sent.body')
    })
    .get('/erased', (c) => messagePage(c, site, 200, 'erase.done.title', 'erase.done.body'))
}
