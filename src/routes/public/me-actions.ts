/**
 * @module The data page's two weightier actions, each a page then a POST: objection to all
 * marketing (GDPR Art. 21) and erasure (Art. 17, only after an explicit confirmation). Each is recorded
 * as a completed self-service request in the same unit as its effect. Forms are origin-checked.
 */
import { Hono, type Context } from 'hono'
import type { Deps } from '../../deps.ts'
import { selfServiceDsrQuery } from '../../domain/rights/dsr.ts'
import { eraseContact } from '../../domain/rights/erasure.ts'
import { objectToMarketing } from '../../domain/rights/objection.ts'
import { t, type Locale } from '../../lib/i18n.ts'
import { page, pageLocale } from '../../lib/pages.ts'
import { siteInfo } from '../../lib/site.ts'
import { formLocale, formString, withAccess, type AccessContext, type Form } from './me-shared.ts'

export function meActionRoutes(deps: Deps) {
  const site = siteInfo(deps.config)
  const evidence = (c: Context) => ({
    ip: deps.clientIp(c),
    user_agent: c.req.header('user-agent')?.slice(0, 500),
  })

  const app = new Hono()

  app.get('/:token/object', async (c) => {
    const access = await withAccess(deps, site, c)
    if (access instanceof Response) return access
    const locale = pageLocale(c, access.contact.locale)
    return page(c, site, 'public/me-object', {
      locale,
      titleKey: 'object.title',
      data: { action: `${access.base}/object`, back: `${access.base}?lang=${locale}` },
    })
  })

  app.post('/:token/object', async (c) => {
    const access = await withAccess(deps, site, c)
    if (access instanceof Response) return access
    const form = (await c.req.parseBody()) as Form
    const locale = formLocale(c, access, form)
    const id = access.contact.id
    const result = await objectToMarketing(deps, id, {
      method: 'objection',
      source: 'data_page',
      actor: 'contact',
      evidence: evidence(c),
      extra: selfServiceDsrQuery(deps, { contactId: id, kind: 'object', completed: true }).queries,
    })
    if (result.ok && result.status === 'objected') c.set('outboxPending', true)
    return c.redirect(`${access.base}?done=objected&lang=${locale}`, 303)
  })

  app.get('/:token/erase', async (c) => {
    const access = await withAccess(deps, site, c)
    if (access instanceof Response) return access
    const locale = pageLocale(c, access.contact.locale)
    return erasePage(c, access, locale, false)
  })

  function erasePage(c: Context, access: AccessContext, locale: Locale, missing: boolean) {
    return page(c, site, 'public/me-erase', {
      locale,
      titleKey: 'erase.title',
      status: missing ? 400 : 200,
      data: {
        action: `${access.base}/erase`,
        back: `${access.base}?lang=${locale}`,
        errors: missing ? [t(locale, 'erase.error.confirm')] : [],
      },
    })
  }

  app.post('/:token/erase', async (c) => {
    const access = await withAccess(deps, site, c)
    if (access instanceof Response) return access
    const form = (await c.req.parseBody()) as Form
    const locale = formLocale(c, access, form)
    // The explicit confirmation: the box "I understand this cannot be undone" must be ticked.
    if (formString(form, 'confirm') !== 'yes') return erasePage(c, access, locale, true)
    const id = access.contact.id
    const dsr = selfServiceDsrQuery(deps, { contactId: id, kind: 'erase', completed: true })
    const result = await eraseContact(deps, id, {
      suppress: 'erased',
      method: 'erasure_request',
      source: 'data_page',
      actor: 'contact',
      deleteInMautic: true,
      passOnToRecipients: true,
      requestId: dsr.id,
      extra: dsr.queries,
    })
    if (result.ok && result.status === 'erased') c.set('outboxPending', true)
    return c.redirect(`/privacy/erased?lang=${locale}`, 303)
  })

  return app
}
