// POST /api/v1/subscriptions and /api/v1/gate: bad input is a clear 4xx, nothing half-written.
import { describe, expect, it } from 'vitest'
import { api, apiKey } from '../../../helpers/api.ts'
import { testApp } from '../../../helpers/deps.ts'

async function setup(scopes?: Parameters<typeof apiKey>[1]) {
  const t = await testApp()
  const key = await apiKey(t.deps, scopes)
  const count = (table: string) =>
    (t.sqlite.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n
  return { ...t, key, client: api(t.app, key), count }
}

describe('POST /api/v1/subscriptions', () => {
  it.each([
    ['{not json', 'invalid_json'],
    ['[1,2]', 'invalid_body'],
    [{ purposes: ['newsletter'] }, 'missing_email'],
    [{ email: 42, purposes: ['newsletter'] }, 'invalid_email'],
    [{ email: 'not-an-address', purposes: ['newsletter'] }, 'invalid_email'],
    [{ email: 'a@exemple.fr' }, 'invalid_purposes'],
    [{ email: 'a@exemple.fr', purposes: [] }, 'invalid_purposes'],
    [{ email: 'a@exemple.fr', purposes: 'newsletter' }, 'invalid_purposes'],
    [{ email: 'a@exemple.fr', purposes: ['newsletter', 'telepathy'] }, 'unknown_purpose'],
    [{ email: 'a@exemple.fr', purposes: ['newsletter'], locale: 'de' }, 'invalid_locale'],
    [{ email: 'a@exemple.fr', purposes: ['newsletter'], evidence: 'x' }, 'invalid_evidence'],
    [
      { email: 'a@exemple.fr', purposes: ['newsletter'], attributes: { 'bad key': 'x' } },
      'invalid_attributes',
    ],
    [
      { email: 'a@exemple.fr', purposes: ['newsletter'], attributes: { name: 'x'.repeat(1001) } },
      'invalid_attributes',
    ],
  ])('%j → 400 %s, nothing written', async (body, code) => {
    const { client, count } = await setup()
    const res = await client.post('/api/v1/subscriptions', body)
    expect(res.status).toBe(400)
    expect(res.body.error?.code).toBe(code)
    expect(res.body.error?.message.length).toBeGreaterThan(5)
    expect([count('contacts'), count('consent_events'), count('outbox')]).toEqual([0, 0, 0])
  })

  it('names the purpose that has no notice in the requested locale', async () => {
    const { client, sqlite, count } = await setup()
    sqlite.exec(`INSERT INTO purposes (key, channel, legal_basis, double_opt_in, position, created_at) VALUES ('sms_offers', 'sms', 'consent', 1, 9, 0);
      INSERT INTO notices (id, purpose_key, locale, version, title, body, privacy_url, content_hash, published_at, created_at)
      VALUES ('n_sms_fr', 'sms_offers', 'fr', 1, 'SMS', 'Offres par SMS', '', 'x', 0, 0);`)
    const res = await client.post('/api/v1/subscriptions', {
      email: 'a@exemple.fr',
      purposes: ['sms_offers'],
      locale: 'en',
    })
    expect(res.status).toBe(400)
    expect(res.body.error).toEqual({
      code: 'notice_missing',
      message: 'Purpose "sms_offers" has no published notice in "en"',
    })
    expect(count('contacts')).toBe(0)
  })

  it('refuses a missing or wrong key (401) and a key without the scope (403)', async () => {
    const { app, deps } = await setup()
    const body = JSON.stringify({ email: 'a@exemple.fr', purposes: ['cookies'] })
    const none = await app.request('/api/v1/subscriptions', { method: 'POST', body })
    expect(none.status).toBe(401)
    const wrong = await app.request('/api/v1/subscriptions', {
      method: 'POST',
      body,
      headers: { Authorization: 'Bearer cgk_nope_nope' },
    })
    expect(wrong.status).toBe(401)
    const gateOnly = await apiKey(deps, ['gate'])
    const res = await app.request('/api/v1/subscriptions', {
      method: 'POST',
      body,
      headers: { Authorization: `Bearer ${gateOnly}` },
    })
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
      'subscribe',
    )
  })

  it('records banner purposes (web, app, data) as granted at once, with their evidence, and sends no mail', async () => {
    const { client, count } = await setup()
    const res = await client.post('/api/v1/subscriptions', {
      email: 'visitor@exemple.fr',
      purposes: ['cookies', 'behavioural_tracking', 'partner_sharing'],
      evidence: { ip: '198.51.100.4', user_agent: 'Chrome', shown_unticked: true },
      source: 'https://acme.test/ (banner)',
    })
    expect(res.status).toBe(202)
    expect(res.body).toMatchObject({
      purposes: { cookies: 'granted', behavioural_tracking: 'granted', partner_sharing: 'granted' },
      confirmation: 'none',
    })
    expect(count('outbox')).toBe(0)
    const proof = await client.get(`/api/v1/contacts/visitor@exemple.fr/consents`)
    expect((proof.body.history as { source: string; evidence: object }[])[0]).toMatchObject({
      source: 'https://acme.test/ (banner)',
      evidence: { ip: '198.51.100.4', shown_unticked: true },
    })
  })

  it('normalises addresses before the blind index: case, spaces and IDN are one contact; +tags are kept', async () => {
    const { client, count } = await setup()
    await client.post('/api/v1/subscriptions', {
      email: '  José@Société.FR ',
      purposes: ['cookies'],
    })
    await client.post('/api/v1/subscriptions', {
      email: 'josé@xn--socit-esab.fr',
      purposes: ['geolocation'],
    })
    expect(count('contacts')).toBe(1)
    await client.post('/api/v1/subscriptions', {
      email: 'josé+promo@société.fr',
      purposes: ['cookies'],
    })
    expect(count('contacts')).toBe(2)
  })

  it('stores no address, IP or user agent in clear', async () => {
    const { client, sqlite } = await setup()
    await client.post('/api/v1/subscriptions', {
      email: 'secret.person@exemple.fr',
      purposes: ['newsletter', 'cookies'],
      evidence: { ip: '192.0.2.55', user_agent: 'UniqueAgent/1.0' },
      attributes: { first_name: 'Zébulon' },
    })
    const dump = JSON.stringify(
      ['contacts', 'consent_events', 'consent_state', 'optin_requests', 'outbox'].map((t) =>
        sqlite.prepare(`SELECT * FROM ${t}`).all(),
      ),
    )
    for (const secret of ['secret.person', '192.0.2.55', 'UniqueAgent', 'Zébulon'])
      expect(dump).not.toContain(secret)
  })

  it('throttles confirmation mails: one per 5 minutes per contact', async () => {
    const { client, clock } = await setup()
    const first = await client.post('/api/v1/subscriptions', {
      email: 'd@exemple.fr',
      purposes: ['newsletter'],
    })
    const second = await client.post('/api/v1/subscriptions', {
      email: 'd@exemple.fr',
      purposes: ['email_marketing'],
    })
    expect([first.body.confirmation, second.body.confirmation]).toEqual(['sent', 'throttled'])
    clock.advance(5 * 60_000 + 1)
    const third = await client.post('/api/v1/subscriptions', {
      email: 'd@exemple.fr',
      purposes: ['email_marketing'],
    })
    expect(third.body.confirmation).toBe('sent')
  })
})

describe('POST /api/v1/gate', () => {
  it('answers in input order, with a reason for each refusal, by e-mail, contact id and Mautic id', async () => {
    const { client, sqlite } = await setup()
    const sub = await client.post('/api/v1/subscriptions', {
      email: 'e@exemple.fr',
      purposes: ['cookies'],
    })
    const id = sub.body.contact_id as string
    sqlite
      .prepare(
        "INSERT INTO contact_links (system, external_id, contact_id, linked_at) VALUES ('mautic', '42', ?, 0)",
      )
      .run(id)
    const results = await client.gate('cookies', [
      { email: 'nobody@exemple.fr' },
      { contact_id: id },
      { mautic_id: 42 },
      { email: 'E@Exemple.fr' },
      { mautic_id: '999' },
      { email: 'not an address' },
    ])
    expect(results).toEqual([
      { email: 'nobody@exemple.fr', allowed: false, reason: 'unknown_contact' },
      { contact_id: id, allowed: true, reason: null },
      { mautic_id: 42, allowed: true, reason: null },
      { email: 'E@Exemple.fr', allowed: true, reason: null },
      { mautic_id: '999', allowed: false, reason: 'unknown_contact' },
      { email: 'not an address', allowed: false, reason: 'unknown_contact' },
    ])
    expect((await client.gate('newsletter', [{ contact_id: id }]))[0]).toMatchObject({
      reason: 'no_consent',
    })
  })

  it('handles 10,000 contacts in one call and refuses more', async () => {
    const { client } = await setup()
    const contacts = Array.from({ length: 10_000 }, (_, i) => ({ email: `p${i}@exemple.fr` }))
    const results = await client.gate('newsletter', contacts)
    expect(results).toHaveLength(10_000)
    expect(results[9_999]).toEqual({
      email: 'p9999@exemple.fr',
      allowed: false,
      reason: 'unknown_contact',
    })
    const tooMany = await client.post('/api/v1/gate', {
      purpose: 'newsletter',
      contacts: [...contacts, { email: 'x@y.fr' }],
    })
    expect(tooMany.status).toBe(400)
    expect(tooMany.body.error?.code).toBe('too_many_contacts')
  })

  it.each([
    [{ contacts: [{ email: 'a@b.fr' }] }, 'missing_purpose'],
    [{ purpose: 'telepathy', contacts: [{ email: 'a@b.fr' }] }, 'unknown_purpose'],
    [{ purpose: 'newsletter', contacts: [] }, 'invalid_contacts'],
    [
      { purpose: 'newsletter', contacts: [{ email: 'a@b.fr', contact_id: 'x' }] },
      'invalid_contacts',
    ],
    [{ purpose: 'newsletter', contacts: [{ phone: '0600' }] }, 'invalid_contacts'],
  ])('%j → 400 %s', async (body, code) => {
    const { client } = await setup()
    const res = await client.post('/api/v1/gate', body)
    expect(res.status).toBe(400)
    expect(res.body.error?.code).toBe(code)
  })
})
