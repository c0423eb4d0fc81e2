// The hosted form /subscribe/{form}: unticked boxes, honeypot, rate limit, values kept on error.
import { describe, expect, it } from 'vitest'
import { testApp } from '../../../helpers/deps.ts'

const ORIGIN = 'http://gateway.test'
const post = (
  app: Awaited<ReturnType<typeof testApp>>['app'],
  body: string,
  headers: Record<string, string> = {},
) =>
  app.request('/subscribe/default', {
    method: 'POST',
    body,
    headers: { Origin: ORIGIN, 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
  })

describe('GET /subscribe/default', () => {
  it('shows one unticked box per e-mail purpose with the current notice wording and the privacy link', async () => {
    const { app } = await testApp({ ORG_PRIVACY_URL: 'https://acme.test/privacy' })
    const res = await app.request('/subscribe/default')
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html.match(/type="checkbox"/g)).toHaveLength(2)
    expect(html).not.toMatch(/type="checkbox"[^>]*checked/)
    expect(html).toContain('J&#x27;accepte de recevoir des communications marketing par e-mail.')
    expect(html).toContain('Cochez cette case pour vous abonner à notre newsletter.')
    expect(html).toContain('href="https://acme.test/privacy"')
    expect(html).toContain('name="website"') // honeypot
    const en = await (await app.request('/subscribe/default?lang=en')).text()
    expect(en).toContain('I agree to receive marketing communications by e-mail.')
  })

  it('404 page for an unknown form', async () => {
    const { app } = await testApp()
    expect((await app.request('/subscribe/nope')).status).toBe(404)
  })
})

describe('POST /subscribe/default', () => {
  it('records the choice with its evidence and redirects to a "check your inbox" page', async () => {
    const { app, sqlite, mail, deps } = await testApp()
    const res = await post(app, 'email=anne%40exemple.fr&purposes=newsletter&lang=fr', {
      'User-Agent': 'TestBrowser/1',
    })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/subscribe/default/done?lang=fr&state=pending')
    const done = await app.request(res.headers.get('location')!)
    expect(await done.text()).toContain('Nous vous avons envoyé un e-mail')
    expect(sqlite.prepare('SELECT action, source, method FROM consent_events').all()).toEqual([
      { action: 'requested', source: 'form:default', method: 'form' },
    ])
    const { deliverOutbox } = await import('../../../../src/domain/platform/outbox.ts')
    await deliverOutbox(deps)
    expect(mail.sent.map((m) => m.to)).toEqual(['anne@exemple.fr'])
  })

  it('re-renders with the values and a message when no box is ticked or the address is bad (400)', async () => {
    const { app, sqlite } = await testApp()
    const none = await post(app, 'email=anne%40exemple.fr&lang=en')
    expect(none.status).toBe(400)
    const html = await none.text()
    expect(html).toContain('Tick at least one box.')
    expect(html).toContain('<fieldset aria-invalid="true" aria-describedby="form-errors">')
    expect(html).toContain('value="anne@exemple.fr"')
    const bad = await post(
      app,
      'email=%3Cscript%3Ealert(1)%3C%2Fscript%3E&purposes=newsletter&lang=fr',
    )
    expect(bad.status).toBe(400)
    const badHtml = await bad.text()
    expect(badHtml).toContain('Saisissez une adresse e-mail valide')
    expect(badHtml).toContain('value="&lt;script&gt;alert(1)&lt;/script&gt;"')
    expect(badHtml).not.toContain('<script>')
    expect(badHtml).toMatch(/value="newsletter" checked/) // the person's own tick is kept
    expect(sqlite.prepare('SELECT COUNT(*) FROM contacts').pluck().get()).toBe(0)
  })

  it('a filled honeypot looks like success and records nothing', async () => {
    const { app, sqlite } = await testApp()
    const res = await post(
      app,
      'email=bot%40spam.example&purposes=newsletter&website=http%3A%2F%2Fspam',
    )
    expect(res.status).toBe(200)
    expect(sqlite.prepare('SELECT COUNT(*) FROM contacts').pluck().get()).toBe(0)
  })

  it('limits each client address to 10 posts per 10 minutes, counted in the database', async () => {
    const { app, clock, sqlite } = await testApp({ TRUST_PROXY: '1' })
    const from = (ip: string) => ({ 'X-Forwarded-For': ip })
    for (let i = 0; i < 10; i++)
      expect((await post(app, 'email=x', from('198.51.100.1'))).status).toBe(400)
    const limited = await post(app, 'email=x', from('198.51.100.1'))
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('600')
    expect((await post(app, 'email=x', from('198.51.100.2'))).status).toBe(400) // another client
    expect(JSON.stringify(sqlite.prepare('SELECT * FROM rate_limits').all())).not.toContain(
      '198.51.100',
    )
    clock.advance(10 * 60_000 + 1)
    expect((await post(app, 'email=x', from('198.51.100.1'))).status).toBe(400)
  })

  it('refuses a post from another origin (CSRF)', async () => {
    const { app } = await testApp()
    const res = await post(app, 'email=anne%40exemple.fr&purposes=newsletter', {
      Origin: 'https://evil.example',
    })
    expect(res.status).toBe(403)
  })
})

describe('POST /subscribe/resend', () => {
  it('answers the same for a known pending address and an unknown one', async () => {
    const { app, clock, mail, deps } = await testApp()
    await post(app, 'email=anne%40exemple.fr&purposes=newsletter')
    const { deliverOutbox } = await import('../../../../src/domain/platform/outbox.ts')
    await deliverOutbox(deps)
    clock.advance(6 * 60_000)
    const resend = (email: string) =>
      app.request('/subscribe/resend', {
        method: 'POST',
        body: `email=${encodeURIComponent(email)}`,
        headers: { Origin: ORIGIN, 'Content-Type': 'application/x-www-form-urlencoded' },
      })
    const known = await resend('anne@exemple.fr')
    const unknown = await resend('nobody@exemple.fr')
    const strip = (s: string) => s.replace(/[0-9a-f-]{36}/g, '')
    expect(known.status).toBe(unknown.status)
    expect(strip(await known.text())).toBe(strip(await unknown.text()))
    await deliverOutbox(deps)
    expect(mail.sent.map((m) => m.to)).toEqual(['anne@exemple.fr', 'anne@exemple.fr'])
  })
})
