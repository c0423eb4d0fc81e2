// Objection to all direct marketing (GDPR Art. 21): every granted or pending purpose withdrawn, the
// contact marked, the address suppressed, and Mautic brought in step, in one unit; from /me/{token}/object.
import { describe, expect, it } from 'vitest'
import { objectToMarketing, type ObjectionHow } from '../../../../src/domain/rights/objection.ts'
import { confirmOptin } from '../../../../src/domain/consent/optin.ts'
import { deliverOutbox } from '../../../../src/domain/platform/outbox.ts'
import { subscribe } from '../../../../src/domain/consent/subscriptions.ts'
import { apiKey, api } from '../../../helpers/api.ts'
import { API_CONSENT, testApp } from '../../../helpers/deps.ts'

const ORIGIN = 'http://gateway.test'
const HOW: ObjectionHow = {
  method: 'objection',
  source: 'test',
  actor: 'contact',
  evidence: { ip: '203.0.113.9' },
}

async function setup(env: Record<string, string> = {}) {
  const t = await testApp({ ORG_NAME: 'ACME', ...env })

  const client = api(t.app, await apiKey(t.deps, ['subscribe', 'gate']))
  const r = await subscribe(t.deps, {
    ...API_CONSENT,
    email: 'anne@exemple.fr',
    purposes: ['newsletter', 'cookies', 'partner_sharing'],
  })
  if (!r.ok) throw new Error(r.message)
  await deliverOutbox(t.deps)
  const token = /\/c\/([\w.-]+)/.exec(t.mail.sent.at(-1)!.text)![1]!
  await confirmOptin(t.deps, token, {})
  // And one purpose still waiting for its confirmation.
  await subscribe(t.deps, {
    ...API_CONSENT,
    email: 'anne@exemple.fr',
    purposes: ['email_marketing'],
  })
  const all = (sql: string) => t.sqlite.prepare(sql).all() as Record<string, any>[]
  const states = () =>
    Object.fromEntries(
      all('SELECT purpose_key, status FROM consent_state').map((s) => [s.purpose_key, s.status]),
    )
  const gate = async (purpose: string) =>
    (await client.gate(purpose, [{ email: 'anne@exemple.fr' }]))[0]!
  return { ...t, contactId: r.contactId, all, states, gate }
}

describe('objectToMarketing', () => {
  it('withdraws every granted or pending purpose, marks the contact and suppresses the address', async () => {
    const t = await setup()
    expect(t.states()).toEqual({
      newsletter: 'granted',
      cookies: 'granted',
      partner_sharing: 'granted',
      email_marketing: 'pending',
    })
    expect(await t.gate('newsletter')).toMatchObject({ allowed: true })
    t.clock.advance(60_000)
    const result = await objectToMarketing(t.deps, t.contactId, HOW)
    expect(result).toMatchObject({ ok: true, status: 'objected' })
    expect(t.states()).toEqual({
      newsletter: 'withdrawn',
      cookies: 'withdrawn',
      partner_sharing: 'withdrawn',
      email_marketing: 'withdrawn',
    })
    expect(t.all('SELECT objected_at, status FROM contacts')).toEqual([
      { objected_at: t.clock.now(), status: 'active' },
    ])
    expect(t.all('SELECT reason FROM suppressions')).toEqual([{ reason: 'objected' }])
    const withdrawn = t.all("SELECT method, actor FROM consent_events WHERE action = 'withdrawn'")
    expect(withdrawn).toHaveLength(4)
    expect(withdrawn[0]).toEqual({ method: 'objection', actor: 'contact' })
    expect((await t.gate('newsletter')).allowed).toBe(false)
    expect(['objected', 'suppressed']).toContain((await t.gate('newsletter')).reason)
    expect(t.all("SELECT * FROM outbox WHERE kind = 'mautic.mirror'")).toEqual([])
  })

  it('tells Mautic through the outbox when the contact is linked, and changes nothing the second time', async () => {
    // Mautic configured (nothing is delivered in this test: no request leaves).
    const t = await setup({
      MAUTIC_URL: 'https://mautic.test',
      MAUTIC_USERNAME: 'u',
      MAUTIC_PASSWORD: 'p',
    })
    t.sqlite.prepare("INSERT INTO contact_links VALUES ('mautic', '42', ?, 0)").run(t.contactId)
    await objectToMarketing(t.deps, t.contactId, HOW)
    expect(t.all("SELECT payload, ordering_key FROM outbox WHERE kind = 'mautic.mirror'")).toEqual([
      {
        payload: JSON.stringify({ contactId: t.contactId }),
        ordering_key: `mautic:${t.contactId}`,
      },
    ])
    const events = t.all('SELECT count(*) AS n FROM consent_events')[0]!.n
    const first = t.all('SELECT objected_at FROM contacts')
    t.clock.advance(60_000)
    expect(await objectToMarketing(t.deps, t.contactId, HOW)).toEqual({
      ok: true,
      status: 'already_objected',
      withdrawn: [],
    })
    expect(t.all('SELECT count(*) AS n FROM consent_events')[0]!.n).toBe(events)
    expect(t.all('SELECT objected_at FROM contacts')).toEqual(first)
  })

  it('does not downgrade an erasure suppression', async () => {
    const t = await setup()
    t.sqlite
      .prepare("INSERT INTO suppressions SELECT email_bidx, bidx_kid, 'erased', 0 FROM contacts")
      .run()
    await objectToMarketing(t.deps, t.contactId, HOW)
    expect(t.all('SELECT reason FROM suppressions')).toEqual([{ reason: 'erased' }])
  })
})

describe('the objection page', () => {
  it('explains, objects on POST (origin-checked), records the request, and says it is done', async () => {
    const t = await setup()
    await t.app.request('/privacy', {
      method: 'POST',
      body: 'email=anne%40exemple.fr',
      headers: { Origin: ORIGIN, 'Content-Type': 'application/x-www-form-urlencoded' },
    })
    await deliverOutbox(t.deps)
    const link = /\/me\/[\w.-]+/.exec(t.mail.sent.at(-1)!.text)![0]
    const page = await (await t.app.request(`${link}/object?lang=en`)).text()
    expect(page).toContain('<h1>Object to marketing</h1>')
    expect(page).toContain('I object to all marketing')
    expect(t.states().newsletter).toBe('granted') // GET changes nothing

    const post = (origin: string) =>
      t.app.request(`${link}/object`, {
        method: 'POST',
        body: 'lang=en',
        headers: { Origin: origin, 'Content-Type': 'application/x-www-form-urlencoded' },
      })
    expect((await post('https://evil.example')).status).toBe(403)
    expect(t.states().newsletter).toBe('granted')

    const res = await post(ORIGIN)
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe(`${link}?done=objected&lang=en`)
    expect(t.states().newsletter).toBe('withdrawn')
    const done = await (await t.app.request(res.headers.get('location')!)).text()
    expect(done).toContain('Done: you will receive no more marketing from us.')
    expect(done).toMatch(/<dt>Objection to marketing<\/dt><dd>29 November 2026/)

    await post(ORIGIN) // double submission
    expect(t.all("SELECT completed_at, due_at FROM dsr_requests WHERE kind = 'object'")).toEqual([
      { completed_at: t.clock.now(), due_at: Date.UTC(2026, 11, 29, 9, 0, 0) },
    ])
  })
})

describe('after an objection', () => {
  it('a new subscription confirmed by double opt-in is the person’s fresh choice: the gate allows again', async () => {
    const t = await setup()
    await objectToMarketing(t.deps, t.contactId, HOW)
    expect(await t.gate('newsletter')).toMatchObject({ allowed: false })
    t.clock.advance(10 * 60_000)
    const again = await subscribe(t.deps, {
      ...API_CONSENT,
      email: 'anne@exemple.fr',
      purposes: ['newsletter'],
    })
    expect(again).toMatchObject({ ok: true, purposes: { newsletter: 'pending' } })
    await deliverOutbox(t.deps)
    const token = /\/c\/([\w.-]+)/.exec(t.mail.sent.at(-1)!.text)![1]!
    expect((await confirmOptin(t.deps, token, {})).status).toBe('confirmed')
    expect(await t.gate('newsletter')).toMatchObject({ allowed: true })
  })
})
