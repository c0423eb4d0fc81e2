// /u/{token}: RFC 8058 one-click, the page's button, expired and forged links.
import { describe, expect, it } from 'vitest'
import { subscribe } from '../../../../src/domain/consent/subscriptions.ts'
import { preferencesUrl, unsubscribeUrl } from '../../../../src/domain/sending/links.ts'
import { api, apiKey } from '../../../helpers/api.ts'
import { testApp } from '../../../helpers/deps.ts'

async function subscribed(purposes = ['cookies', 'push_notifications']) {
  const t = await testApp()
  // Purposes without double opt-in are granted at once: enough to test withdrawals.
  const r = await subscribe(t.deps, {
    email: 'anne@exemple.fr',
    purposes,
    locale: 'fr',
    method: 'api',
    source: 's',
    actor: 'a',
    evidence: {},
  })
  if (!r.ok) throw new Error(r.message)
  const url = await unsubscribeUrl(t.deps, r.contactId, 'push_notifications')
  const client = api(t.app, await apiKey(t.deps))
  const gate = async () =>
    (await client.gate('push_notifications', [{ contact_id: r.contactId }]))[0]
  const events = () =>
    t.sqlite.prepare('SELECT action, method FROM consent_events WHERE action = ?').all('withdrawn')
  return { ...t, contactId: r.contactId, path: new URL(url).pathname, url, gate, events }
}

const form = { 'Content-Type': 'application/x-www-form-urlencoded' }

describe('RFC 8058 one-click unsubscribe', () => {
  it('a POST with List-Unsubscribe=One-Click withdraws at once: 200, no redirect, no cookie, no Origin needed', async () => {
    const { app, path, gate, events } = await subscribed()
    expect(await gate()).toMatchObject({ allowed: true })
    const res = await app.request(path, {
      method: 'POST',
      body: 'List-Unsubscribe=One-Click',
      headers: form,
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('location')).toBeNull()
    expect(res.headers.get('set-cookie')).toBeNull()
    expect(await gate()).toMatchObject({ allowed: false, reason: 'withdrawn' })
    expect(events()).toEqual([{ action: 'withdrawn', method: 'one_click' }])
  })

  it('accepts the multipart form some mail providers send', async () => {
    const { app, path, gate } = await subscribed()
    const body = new FormData()
    body.append('List-Unsubscribe', 'One-Click')
    const res = await app.request(path, { method: 'POST', body })
    expect(res.status).toBe(200)
    expect(await gate()).toMatchObject({ reason: 'withdrawn' })
  })

  it('withdraws only the purpose of the link, and records a second click as nothing new', async () => {
    const { app, path, events, deps, contactId } = await subscribed()
    await app.request(path, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: form })
    await app.request(path, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: form })
    expect(events()).toHaveLength(1)
    const client = api(app, await apiKey(deps))
    expect((await client.gate('cookies', [{ contact_id: contactId }]))[0]).toMatchObject({
      allowed: true,
    })
  })
})

describe('the unsubscribe page', () => {
  it('GET shows the purpose, a button and the preference-center link, and changes nothing', async () => {
    const { app, path, gate, deps, contactId } = await subscribed()
    const res = await app.request(path)
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain('Notifications push')
    expect(html).toContain(`<form method="post" action="${path}">`)
    expect(html).toContain(new URL(await preferencesUrl(deps, contactId)).pathname)
    expect(await gate()).toMatchObject({ allowed: true })
    expect(await (await app.request(`${path}?lang=en`)).text()).toContain('Push notifications')
  })

  it("the page's button withdraws and confirms it on a page", async () => {
    const { app, path, gate, events } = await subscribed()
    const res = await app.request(path, { method: 'POST' })
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('Vous êtes désinscrit')
    expect(await gate()).toMatchObject({ reason: 'withdrawn' })
    expect(events()).toEqual([{ action: 'withdrawn', method: 'unsubscribe_page' }])
  })

  it('a forged or altered link gets a clear page (404) and withdraws nothing', async () => {
    const { app, path, gate } = await subscribed()
    const altered = path.slice(0, -3) + (path.endsWith('AAA') ? 'BBB' : 'AAA')
    expect((await app.request(altered)).status).toBe(404)
    const post = await app.request(altered, {
      method: 'POST',
      body: 'List-Unsubscribe=One-Click',
      headers: form,
    })
    expect(post.status).toBe(404)
    expect(await gate()).toMatchObject({ allowed: true })
  })
})

describe('link tokens', () => {
  it('carry an opaque id and the purpose, never the address, and stay the same within a month', async () => {
    const { deps, contactId, url } = await subscribed()
    const payload = JSON.parse(
      atob(url.split('/u/')[1]!.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')),
    )
    expect(payload).toMatchObject({ sub: contactId, p: 'push_notifications', aud: 'unsubscribe' })
    expect(JSON.stringify(payload)).not.toContain('@')
    expect(payload.exp * 1000 - Date.UTC(2026, 10, 29)).toBeGreaterThan(365 * 86_400_000)
    expect(await unsubscribeUrl(deps, contactId, 'push_notifications')).toBe(url)
  })

  it('an expired link still withdraws on POST, and its page unsubscribes by the address that got the mail', async () => {
    const { app, path, gate, clock } = await subscribed()
    clock.advance(15 * 31 * 86_400_000)
    const page = await (await app.request(path)).text()
    expect(page).toContain('action="/u/by-address"')
    const byAddress = (email: string) =>
      app.request('/u/by-address', {
        method: 'POST',
        body: new URLSearchParams({ token: path.slice(3), email }).toString(),
        headers: form,
      })
    const wrong = await byAddress('someone.else@exemple.fr')
    expect(await gate()).toMatchObject({ allowed: true })
    const right = await byAddress(' Anne@Exemple.fr ')
    expect(await right.text()).toBe(await wrong.text()) // no enumeration
    expect(await gate()).toMatchObject({ reason: 'withdrawn' })
  })

  it('an expired link with a one-click POST still withdraws (a withdrawal is never refused)', async () => {
    const { app, path, gate, clock } = await subscribed()
    clock.advance(15 * 31 * 86_400_000)
    const res = await app.request(path, {
      method: 'POST',
      body: 'List-Unsubscribe=One-Click',
      headers: form,
    })
    expect(res.status).toBe(200)
    expect(await gate()).toMatchObject({ reason: 'withdrawn' })
  })
})
