/**
 * @module /u/{token}: unsubscribe. GET shows a page and changes nothing (mail scanners open links);
 * POST withdraws, from the page's button or as an RFC 8058 one-click request
 * (`List-Unsubscribe=One-Click`, form-encoded or multipart, no Origin, no cookie): 200, no redirect.
 * An expired but authentic token still withdraws on POST (a withdrawal is never refused), and its
 * page lets the person unsubscribe by giving the address that received the mail.
 */
import { Hono, type Context } from 'hono'
import type { Deps } from '../../deps.ts'
import { findContact } from '../../domain/platform/contacts.ts'
import { preferencesUrl, readUnsubscribeToken } from '../../domain/sending/links.ts'
import { loadPurposes } from '../../domain/consent/purposes.ts'
import { hitRateLimit } from '../../domain/platform/rate-limits.ts'
import { withdraw } from '../../domain/consent/withdrawal.ts'
import { blindIndexes, normalizeEmail } from '../../lib/email.ts'
import { messagePage } from '../../lib/http-errors.ts'
import { page, pageLocale } from '../../lib/pages.ts'
import { siteInfo } from '../../lib/site.ts'

const ADDRESS_LIMIT = { limit: 20, windowMs: 60 * 60_000 }

export function unsubscribeRoutes(deps: Deps) {
  const site = siteInfo(deps.config)
  const evidence = (c: Context, extra: Record<string, unknown> = {}) => ({
    ip: deps.clientIp(c),
    user_agent: c.req.header('user-agent')?.slice(0, 500),
    ...extra,
  })
  const invalid = (c: Context) => {
    return messagePage(c, site, 404, 'unsubscribe.invalid.title', 'unsubscribe.invalid.body')
  }

  const app = new Hono()

  // Declared before /:token. Expired links: the address that received the mail must match the token's.
  app.post('/by-address', async (c) => {
    const form = await c.req.parseBody()
    const locale = pageLocale(c, typeof form.lang === 'string' ? form.lang : null)
    const limited = await hitRateLimit(deps, {
      bucket: 'unsubscribe-address',
      subject: deps.clientIp(c) ?? 'unknown',
      ...ADDRESS_LIMIT,
    })
    const token =
      typeof form.token === 'string'
        ? readUnsubscribeToken(deps, form.token)
        : { status: 'invalid' as const }
    const email = typeof form.email === 'string' ? normalizeEmail(form.email) : null
    if (limited.allowed && token.status !== 'invalid' && email) {
      const contact = await findContact(deps, token.claims.sub)
      const bidxes = await blindIndexes(deps.hmac, deps.keys, email)
      if (contact?.email_bidx && bidxes.includes(contact.email_bidx))
        await withdraw(deps, contact.id, [token.purpose!], {
          method: 'unsubscribe_by_address',
          source: 'link',
          actor: 'contact',
          evidence: evidence(c, { token_expired: token.status === 'expired' }),
        })
    }
    // The same answer whether the address matched or not (no enumeration).
    return messagePage(c, site, 200, 'unsubscribe.done.title', 'unsubscribe.address.done.body', {
      locale,
    })
  })

  app.get('/:token', async (c) => {
    const token = readUnsubscribeToken(deps, c.req.param('token'))
    if (token.status === 'invalid') return invalid(c)
    const contact = await findContact(deps, token.claims.sub)
    const locale = pageLocale(c, contact?.locale)
    const purposes = await loadPurposes(deps.db, deps.clock.now())
    return page(c, site, 'public/unsubscribe', {
      locale,
      titleKey: 'unsubscribe.title',
      data: {
        expired: token.status === 'expired',
        token: c.req.param('token'),
        action: `/u/${c.req.param('token')}`,
        purpose: purposes.get(token.purpose!)?.current[locale]?.title ?? token.purpose!,
        preferencesUrl: preferencesUrl(deps, token.claims.sub),
      },
    })
  })

  app.post('/:token', async (c) => {
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>)
    // RFC 8058 §3.2: the mail provider's POST carries exactly this field.
    const oneClick = form['List-Unsubscribe'] === 'One-Click'
    const token = readUnsubscribeToken(deps, c.req.param('token'))
    if (token.status === 'invalid')
      return oneClick ? c.text('Unknown or altered link', 404) : invalid(c)
    const result = await withdraw(deps, token.claims.sub, [token.purpose!], {
      method: oneClick ? 'one_click' : 'unsubscribe_page',
      source: 'link',
      actor: 'contact',
      evidence: evidence(c, { token_expired: token.status === 'expired' }),
    })
    // An erased contact has nothing left to withdraw: the answer is the same success.
    if (oneClick) return c.text('Unsubscribed', 200)
    const locale = pageLocale(c, result.ok ? result.locale : null)
    return messagePage(c, site, 200, 'unsubscribe.done.title', 'unsubscribe.done.body', { locale })
  })

  return app
}
