// /c/{token}: a confirmation link confirms once (issue 17, item 10). An old link clicked after a
// one-click withdrawal must not grant the purpose again; its page says so and leads to the
// preference center.
import { describe, expect, it } from 'vitest'
import { subscribe } from '../../../../src/domain/consent/subscriptions.ts'
import { unsubscribeUrl } from '../../../../src/domain/sending/links.ts'
import { api, apiKey } from '../../../helpers/api.ts'
import { API_CONSENT, drainOutbox, testApp } from '../../../helpers/deps.ts'

async function setup() {
  const t = await testApp()
  const gateKey = await apiKey(t.deps, ['gate'])
  /** Subscribes to newsletter (double opt-in) and returns the confirmation link's path. */
  const subscribeNewsletter = async () => {
    const r = await subscribe(t.deps, {
      ...API_CONSENT,
      email: 'anne@exemple.fr',
      purposes: ['newsletter'],
    })
    if (!r.ok) throw new Error(r.message)
    await drainOutbox(t.deps)
    const path = /http:\/\/gateway\.test(\/c\/[\w.-]+)/.exec(t.mail.sent.at(-1)!.text)![1]!
    return { contactId: r.contactId, path }
  }
  const oneClick = async (contactId: string) => {
    const url = await unsubscribeUrl(t.deps, contactId, 'newsletter')
    const res = await t.app.request(new URL(url).pathname, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    })
    expect(res.status).toBe(200)
  }
  const click = async (path: string, method = 'POST') => {
    const res = await t.app.request(`${path}?lang=en`, { method })
    return { status: res.status, html: await res.text() }
  }
  const gate = async () =>
    (await api(t.app, gateKey).gate('newsletter', [{ email: 'anne@exemple.fr' }]))[0]!
  return { ...t, subscribeNewsletter, oneClick, click, gate }
}

describe('/c/{token} confirms once', () => {
  it('does not grant again after a one-click withdrawal: it says so and leads to the preference center', async () => {
    const t = await setup()
    const { contactId, path } = await t.subscribeNewsletter()
    t.clock.advance(60_000)
    await t.oneClick(contactId) // withdrawn before ever confirming
    t.clock.advance(60_000)
    for (const method of ['GET', 'POST']) {
      const page = await t.click(path, method)
      expect(page.status).toBe(200)
      expect(page.html).toContain('This link has already been used')
      expect(page.html).toMatch(/href="http:\/\/gateway\.test\/p\/[\w.-]+\?lang&#x3D;en"/)
      expect(page.html).toContain('Go to my preference center')
    }
    expect(await t.gate()).toMatchObject({ allowed: false, reason: 'withdrawn' })
    const confirmed = t.sqlite
      .prepare("SELECT count(*) AS n FROM consent_events WHERE action = 'confirmed'")
      .get() as { n: number }
    expect(confirmed.n).toBe(0)
  })

  it('after confirming, the same link says it is done and leads to the preference center, in French too', async () => {
    const t = await setup()
    const { contactId, path } = await t.subscribeNewsletter()
    expect((await t.click(path)).html).toContain('Subscription confirmed')
    t.clock.advance(60_000)
    await t.oneClick(contactId)
    const again = await t.app.request(path, { method: 'POST' })
    const html = await again.text()
    expect(html).toContain('Déjà confirmée')
    expect(html).toContain('Accéder à mon centre de préférences')
    expect(await t.gate()).toMatchObject({ allowed: false, reason: 'withdrawn' })
  })

  it('an older link still confirms while nothing but a newer request happened', async () => {
    const t = await setup()
    const first = await t.subscribeNewsletter()
    t.clock.advance(10 * 60_000) // past the resend throttle
    const second = await t.subscribeNewsletter()
    expect(second.path).not.toBe(first.path)
    expect((await t.click(first.path)).html).toContain('Subscription confirmed')
    expect(await t.gate()).toMatchObject({ allowed: true })
    // The newer link has nothing left to confirm.
    expect((await t.click(second.path)).html).toContain('Already confirmed')
  })
})
