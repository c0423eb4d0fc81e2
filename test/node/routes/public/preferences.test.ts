// The preference center /p/{token}: choices only, unticking withdraws at once, ticking goes through DOI.
import { describe, expect, it } from 'vitest'
import { preferencesUrl } from '../../../../src/domain/sending/links.ts'
import { deliverOutbox } from '../../../../src/domain/platform/outbox.ts'
import { subscribe } from '../../../../src/domain/consent/subscriptions.ts'
import { API_CONSENT, testApp } from '../../../helpers/deps.ts'

const API_LIKE = { ...API_CONSENT, locale: 'fr' as const }

async function withChoices() {
  const t = await testApp()
  const r = await subscribe(t.deps, {
    email: 'anne@exemple.fr',
    purposes: ['cookies', 'push_notifications'],
    locale: 'fr',
    method: 'api',
    source: 's',
    actor: 'a',
    evidence: {},
  })
  if (!r.ok) throw new Error(r.message)
  const path = new URL(await preferencesUrl(t.deps, r.contactId)).pathname
  const states = () =>
    Object.fromEntries(
      (
        t.sqlite.prepare('SELECT purpose_key, status FROM consent_state').all() as {
          purpose_key: string
          status: string
        }[]
      ).map((s) => [s.purpose_key, s.status]),
    )
  const save = (body: string, origin = 'http://gateway.test') =>
    t.app.request(path, {
      method: 'POST',
      body,
      headers: { Origin: origin, 'Content-Type': 'application/x-www-form-urlencoded' },
    })
  return { ...t, path, states, save, contactId: r.contactId }
}

describe('preference center', () => {
  it('shows every purpose, ticked only when granted, and no personal data', async () => {
    const { app, path } = await withChoices()
    const res = await app.request(path)
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html.match(/type="checkbox"/g)).toHaveLength(8)
    expect(html).toMatch(/value="cookies" checked/)
    expect(html).toMatch(/value="push_notifications" checked/)
    expect(html).not.toMatch(/value="newsletter" checked/)
    expect(html).not.toContain('anne@')
    expect(await (await app.request(`${path}?lang=en`)).text()).toContain('Your preferences')
  })

  it('unticking withdraws at once, ticking a purpose without double opt-in grants it', async () => {
    const { save, states } = await withChoices()
    const res = await save('purposes=cookies&purposes=geolocation&lang=fr')
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toMatch(/\?saved=1&lang=fr$/)
    expect(states()).toMatchObject({
      cookies: 'granted',
      push_notifications: 'withdrawn',
      geolocation: 'granted',
    })
  })

  it('ticking the newsletter sends a confirmation mail and shows it as pending', async () => {
    const { save, states, app, deps, mail } = await withChoices()
    const res = await save('purposes=cookies&purposes=push_notifications&purposes=newsletter')
    expect(res.headers.get('location')).toContain('pending=1')
    expect(states().newsletter).toBe('pending')
    await deliverOutbox(deps)
    expect(mail.sent.map((m) => m.to)).toEqual(['anne@exemple.fr'])
    const page = await (await app.request(res.headers.get('location')!)).text()
    expect(page).toContain('en attente de votre confirmation')
  })

  it('says no e-mail went out when the resend throttle held the confirmation back', async () => {
    const { save, app, deps, mail } = await withChoices()
    const first = await save('purposes=cookies&purposes=push_notifications&purposes=newsletter')
    await deliverOutbox(deps)
    expect(mail.sent).toHaveLength(1)
    // A minute later, another double opt-in purpose: the throttle (one mail per 5 minutes) holds it.
    const second = await save(
      'purposes=cookies&purposes=push_notifications&purposes=newsletter&purposes=email_marketing',
    )
    await deliverOutbox(deps)
    expect(mail.sent).toHaveLength(1)
    expect(second.headers.get('location')).toContain('pending=throttled')
    const fr = await (await app.request(second.headers.get('location')!)).text()
    expect(fr).toContain('il y a quelques minutes')
    expect(fr).not.toContain('Nous vous avons envoyé un e-mail pour confirmer')
    const en = await (
      await app.request(second.headers.get('location')!.replace('lang=fr', 'lang=en'))
    ).text()
    expect(en).toContain('only a few minutes ago, so no new one went out')
    // When a mail did go out, the page says so.
    const sent = await (await app.request(first.headers.get('location')!)).text()
    expect(sent).toContain('Nous vous avons envoyé un e-mail pour confirmer')
  })

  it('"unsubscribe from everything" withdraws every purpose', async () => {
    const { save, states } = await withChoices()
    await save('all=off')
    expect(states()).toEqual({ cookies: 'withdrawn', push_notifications: 'withdrawn' })
  })

  it('refuses a post from another origin, and forged links', async () => {
    const { save, app, states } = await withChoices()
    expect((await save('all=off', 'https://evil.example')).status).toBe(403)
    expect(states()).toMatchObject({ cookies: 'granted' })
    expect((await app.request('/p/forged.token.here')).status).toBe(404)
  })

  it('renders each contact its own page: its token, its ticks, its language', async () => {
    // Pages that look alike are rendered once and reused with another token (pageWithHole): a
    // contact must never get another's token, ticks, saved notice or language.
    const { app, deps, path } = await withChoices()
    const other = await subscribe(deps, {
      email: 'bruno@exemple.fr',
      purposes: ['cookies', 'push_notifications'],
      locale: 'en',
      method: 'api',
      source: 's',
      actor: 'a',
      evidence: {},
    })
    const third = await subscribe(deps, {
      ...API_LIKE,
      email: 'chloe@exemple.fr',
      purposes: ['geolocation'],
    })
    if (!other.ok || !third.ok) throw new Error('subscribe failed')
    const otherPath = new URL(await preferencesUrl(deps, other.contactId)).pathname
    const thirdPath = new URL(await preferencesUrl(deps, third.contactId)).pathname
    const token = (p: string) => p.slice(3)
    const forms = (html: string) => [...html.matchAll(/action="\/p\/([^"/]+)/g)].map((m) => m[1])
    for (const [p, locale] of [
      [path, 'fr'],
      [otherPath, 'fr'],
      [path, 'fr'],
      [otherPath, 'fr'],
      [thirdPath, 'fr'],
      [path, 'en'],
    ] as const) {
      const html = await (await app.request(`${p}?lang=${locale}`)).text()
      expect(new Set(forms(html))).toEqual(new Set([token(p)]))
      expect(html).toContain(`href="${p}?lang&#x3D;${locale === 'fr' ? 'en' : 'fr'}"`)
      expect(html).toContain(`<html lang="${locale}">`)
      const ticked = p === thirdPath ? ['geolocation'] : ['cookies', 'push_notifications']
      expect([...html.matchAll(/value="(\w+)" checked/g)].map((m) => m[1])).toEqual(ticked)
    }
    // The language switch keeps the rest of the query (a campaign's utm_source).
    const tagged = await (await app.request(`${otherPath}?utm_source=mail&lang=fr`)).text()
    expect(tagged).toContain(`href="${otherPath}?utm_source&#x3D;mail&amp;lang&#x3D;en"`)
    const saved = await (await app.request(`${otherPath}?saved=1`)).text()
    expect(saved).toContain('role="status"')
    const plain = await (await app.request(otherPath)).text()
    expect(plain).not.toContain('role="status"')
    expect(plain).toContain('<html lang="en">') // the contact's own language
  })
})
