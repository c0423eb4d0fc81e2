/**
 * @module The hosted opt-in form GET|POST /subscribe/{form}: one unticked box per purpose with the
 * current notice's wording (EDPB 05/2020 §79: pre-ticked boxes are no consent), a honeypot, a per-IP
 * rate limit kept in the database, and the user's own values back with a message on error.
 */
import { Hono, type Context } from 'hono'
import type { Deps } from '../../deps.ts'
import { formPurposes, loadPurposes } from '../../domain/consent/purposes.ts'
import { hitRateLimit } from '../../domain/platform/rate-limits.ts'
import { subscribe } from '../../domain/consent/subscriptions.ts'
import { resendConfirmation } from '../../domain/consent/optin.ts'
import { messagePage } from '../../lib/http-errors.ts'
import { t, type Locale } from '../../lib/i18n.ts'
import { page, pageLocale } from '../../lib/pages.ts'
import { siteInfo } from '../../lib/site.ts'

const FORM_LIMIT = { limit: 10, windowMs: 10 * 60_000 }
const RESEND_LIMIT = { limit: 5, windowMs: 60 * 60_000 }

interface FormValues {
  email: string
  checked: string[]
  errors: string[]
  emailInvalid: boolean
  purposesInvalid?: boolean
}

export function subscribeRoutes(deps: Deps) {
  const site = siteInfo(deps.config)

  async function renderForm(
    c: Context,
    formKey: string,
    keys: string[],
    locale: Locale,
    values: FormValues,
    status: 400 | 200 | 429 = 200,
  ) {
    const purposes = await loadPurposes(deps.db, deps.clock.now())
    const items = keys.flatMap((key) => {
      const notice = purposes.get(key)?.current[locale]
      return notice
        ? [{ key, title: notice.title, body: notice.body, checked: values.checked.includes(key) }]
        : []
    })
    return page(c, site, 'public/subscribe', {
      locale,
      titleKey: 'subscribe.title',
      status,
      data: { action: `/subscribe/${formKey}`, purposes: items, purposesInvalid: false, ...values },
    })
  }

  const app = new Hono()

  // Declared before /:form so that "resend" is not taken for a form name.
  app.post('/resend', async (c) => {
    const form = await c.req.parseBody()
    const locale = pageLocale(c, typeof form.lang === 'string' ? form.lang : null)
    const ip = deps.clientIp(c) ?? 'unknown'
    const limited = await hitRateLimit(deps, {
      bucket: 'resend-form',
      subject: ip,
      ...RESEND_LIMIT,
    })
    if (limited.allowed && typeof form.email === 'string' && form.email.length <= 254)
      await resendConfirmation(deps, form.email)
    // The same answer whether the address is known, pending, throttled or rate-limited (no enumeration).
    return messagePage(c, site, 200, 'resend.done.title', 'resend.done.body', { locale })
  })

  app.get('/:form', async (c) => {
    const formKey = c.req.param('form')
    const keys = await formPurposes(deps.db, formKey)
    if (!keys) return messagePage(c, site, 404, 'error.notFound.title', 'error.notFound.body')
    return renderForm(c, formKey, keys, pageLocale(c), {
      email: '',
      checked: [],
      errors: [],
      emailInvalid: false,
    })
  })

  app.post('/:form', async (c) => {
    const formKey = c.req.param('form')
    const keys = await formPurposes(deps.db, formKey)
    if (!keys) return messagePage(c, site, 404, 'error.notFound.title', 'error.notFound.body')
    const form = await c.req.parseBody({ all: true })
    const locale = pageLocale(c, typeof form.lang === 'string' ? form.lang : null)
    const email = typeof form.email === 'string' ? form.email.slice(0, 254) : ''
    const chosen = [form.purposes].flat().filter((v): v is string => typeof v === 'string')
    const checked = chosen.filter((k) => keys.includes(k))
    const values: FormValues = { email, checked, errors: [], emailInvalid: false }

    const ip = deps.clientIp(c)
    const limited = await hitRateLimit(deps, {
      bucket: 'subscribe-form',
      subject: ip ?? 'unknown',
      ...FORM_LIMIT,
    })
    if (!limited.allowed) {
      c.header('Retry-After', String(Math.ceil(limited.retryAfterMs / 1000)))
      return renderForm(
        c,
        formKey,
        keys,
        locale,
        { ...values, errors: [t(locale, 'subscribe.error.rateLimited')] },
        429,
      )
    }
    // A bot filled the hidden field: answer as if it worked, record nothing.
    if (typeof form.website === 'string' && form.website !== '')
      return messagePage(c, site, 200, 'subscribe.done.title', 'subscribe.done.pending', { locale })
    if (checked.length === 0) {
      values.errors.push(t(locale, 'subscribe.error.purposes'))
      values.purposesInvalid = true // the error is announced with the group of boxes (screen readers)
    }

    const result =
      checked.length === 0
        ? undefined
        : await subscribe(deps, {
            email,
            purposes: checked,
            locale,
            method: 'form',
            source: `form:${formKey}`,
            actor: 'contact',
            evidence: {
              ip,
              user_agent: c.req.header('user-agent')?.slice(0, 500),
              form: formKey,
              page_url: `${deps.config.publicUrl}/subscribe/${formKey}`,
              referer: c.req.header('referer')?.slice(0, 500),
              shown_unticked: true,
              privacy_url: deps.config.org.privacyUrl ?? null,
            },
          })
    if (result && !result.ok && result.code === 'invalid_email') values.emailInvalid = true
    if (!result && !/@/.test(email)) values.emailInvalid = true
    if (values.emailInvalid) values.errors.unshift(t(locale, 'subscribe.error.email'))
    if (!result || !result.ok) {
      if (result && !result.ok && result.code !== 'invalid_email')
        throw new Error(`subscribe form: ${result.message}`)
      return renderForm(c, formKey, keys, locale, values, 400)
    }
    c.set('outboxPending', result.confirmation === 'sent')
    const pending = Object.values(result.purposes).includes('pending')
    return c.redirect(
      `/subscribe/${formKey}/done?lang=${locale}&state=${pending ? 'pending' : 'granted'}`,
      303,
    )
  })

  app.get('/:form/done', (c) => {
    const pending = c.req.query('state') !== 'granted'
    return messagePage(
      c,
      site,
      200,
      'subscribe.done.title',
      pending ? 'subscribe.done.pending' : 'subscribe.done.granted',
    )
  })

  return app
}
