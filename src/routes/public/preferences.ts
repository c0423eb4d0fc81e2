/**
 * @module The preference center /p/{token}: every purpose with its current wording, ticked only when
 * granted (never pre-ticked otherwise); unticking withdraws at once (GDPR Art. 7(3): as easy as giving),
 * ticking goes through double opt-in where the purpose needs it. The footer link that leads here is
 * forwarded with mails, so this page shows choices only, never personal data; its "see my data" button
 * mails a one-hour access link to the contact's own address (GDPR Art. 15), never to whoever clicks.
 */
import { Hono, type Context } from 'hono'
import type { Deps } from '../../deps.ts'
import { requestAccessForContact } from '../../domain/rights/access.ts'
import { contactEmail, findActiveContact } from '../../domain/platform/contacts.ts'
import { consentStates, preferenceFacts } from '../../domain/consent/preferences.ts'
import { readPreferencesToken } from '../../domain/sending/links.ts'
import { loadPurposes } from '../../domain/consent/purposes.ts'
import { subscribe } from '../../domain/consent/subscriptions.ts'
import { withdraw } from '../../domain/consent/withdrawal.ts'
import { messagePage } from '../../lib/http-errors.ts'
import { hole, pageLocale, pageWithHole } from '../../lib/pages.ts'
import { siteInfo } from '../../lib/site.ts'

export function preferenceRoutes(deps: Deps) {
  const site = siteInfo(deps.config)
  const invalid = (c: Context) =>
    messagePage(c, site, 404, 'preferences.invalid.title', 'preferences.invalid.body')

  async function contactFor(token: string) {
    const id = readPreferencesToken(deps, token)
    return id ? await findActiveContact(deps, id) : undefined
  }

  return new Hono()
    .get('/:token', async (c) => {
      const id = readPreferencesToken(deps, c.req.param('token'))
      const facts = id ? await preferenceFacts(deps, id) : undefined
      if (facts?.status !== 'active') return invalid(c)
      const locale = pageLocale(c, facts.locale)
      const purposes = await loadPurposes(deps.db, deps.clock.now())
      let shape = ''
      const items = [...purposes.values()].flatMap((p) => {
        const notice = p.current[locale]
        const status = facts.states.get(p.key)
        if (!notice) return []
        const checked = status === 'granted'
        const pending = status === 'pending'
        shape += checked ? 'g' : pending ? 'p' : '-'
        return [{ key: p.key, title: notice.title, body: notice.body, checked, pending }]
      })
      const saved = c.req.query('saved') === '1'
      const pending = c.req.query('pending') === '1'
      const throttled = c.req.query('pending') === 'throttled'
      const accessSent = c.req.query('access') === 'sent'
      // Contacts whose purposes stand alike see the same page but for their token: rendered once
      // per shape while the cached purposes last (their wording is the rest of the page's data).
      return pageWithHole(c, site, 'public/preferences', {
        locale,
        titleKey: 'preferences.title',
        value: c.req.param('token'),
        scope: purposes,
        shape: `${shape}${saved}/${pending}/${throttled}/${accessSent}`,
        data: {
          action: `/p/${hole()}`,
          purposes: items,
          saved,
          pending,
          // The resend throttle held the mail back: say so, not "we sent you an e-mail".
          throttled,
          accessAction: `/p/${hole()}/access`,
          accessSent,
        },
      })
    })
    .post('/:token/access', async (c) => {
      const token = c.req.param('token')
      const contact = await contactFor(token)
      if (!contact) return invalid(c)
      const form = await c.req.parseBody()
      const locale = pageLocale(c, typeof form.lang === 'string' ? form.lang : contact.locale)
      // Rate-limited per address inside; the page says the same either way.
      if (await requestAccessForContact(deps, contact)) c.set('outboxPending', true)
      return c.redirect(`/p/${token}?access=sent&lang=${locale}`, 303)
    })
    .post('/:token', async (c) => {
      const token = c.req.param('token')
      const contact = await contactFor(token)
      if (!contact) return invalid(c)
      const form = await c.req.parseBody({ all: true })
      const locale = pageLocale(c, typeof form.lang === 'string' ? form.lang : contact.locale)
      const purposes = await loadPurposes(deps.db, deps.clock.now())
      const wanted = new Set(
        form.all === 'off'
          ? []
          : [form.purposes]
              .flat()
              .filter((k): k is string => typeof k === 'string' && purposes.has(k)),
      )
      const states = await consentStates(deps, contact.id)
      const active = (k: string) =>
        ['granted', 'pending'].includes(states.find((s) => s.purpose_key === k)?.status ?? '')
      const evidence = {
        ip: deps.clientIp(c),
        user_agent: c.req.header('user-agent')?.slice(0, 500),
      }

      const off = [...purposes.keys()].filter((k) => active(k) && !wanted.has(k))
      if (off.length > 0)
        await withdraw(deps, contact.id, off, {
          method: 'preference_center',
          source: 'preference_center',
          actor: 'contact',
          evidence,
        })
      const on = [...wanted].filter((k) => !active(k) && purposes.get(k)!.current[locale])
      let pending: '' | '1' | 'throttled' = ''
      const email = on.length > 0 ? await contactEmail(deps, contact) : null
      if (email) {
        const result = await subscribe(deps, {
          email,
          purposes: on,
          locale,
          method: 'preference_center',
          source: 'preference_center',
          actor: 'contact',
          evidence: { ...evidence, shown_unticked: true, page_url: `${deps.config.publicUrl}/p/…` },
        })
        if (result.ok && Object.values(result.purposes).includes('pending'))
          pending = result.confirmation === 'throttled' ? 'throttled' : '1'
        c.set('outboxPending', result.ok && result.confirmation === 'sent')
      }
      return c.redirect(
        `/p/${token}?saved=1${pending ? `&pending=${pending}` : ''}&lang=${locale}`,
        303,
      )
    })
}
