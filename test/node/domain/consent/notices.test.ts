// Versioned notices: seeded wording, publishing a new version, re-consent enforced by the gate.
import { describe, expect, it } from 'vitest'
import { noticeContentHash } from '../../../../src/domain/consent/notices.ts'
import { deliverOutbox } from '../../../../src/domain/platform/outbox.ts'
import { api, apiKey } from '../../../helpers/api.ts'
import { testApp } from '../../../helpers/deps.ts'
import { linkIn } from '../../../helpers/smtp.ts'

describe('notices', () => {
  it('seeds the eight purposes of the brief, in French and English, with correct content hashes', async () => {
    const { sqlite } = await testApp()
    const notices = sqlite
      .prepare('SELECT * FROM notices ORDER BY purpose_key, locale')
      .all() as Record<string, any>[]
    expect(new Set(notices.map((n) => n.purpose_key))).toEqual(
      new Set([
        'email_marketing',
        'newsletter',
        'partner_sharing',
        'cookies',
        'push_notifications',
        'geolocation',
        'behavioural_tracking',
        'targeted_advertising',
      ]),
    )
    expect(notices).toHaveLength(16)
    for (const n of notices)
      expect(n.content_hash).toBe(
        await noticeContentHash({
          purposeKey: n.purpose_key,
          locale: n.locale,
          version: n.version,
          title: n.title,
          body: n.body,
          privacyUrl: n.privacy_url,
        }),
      )
    const doi = sqlite
      .prepare('SELECT key FROM purposes WHERE double_opt_in = 1 ORDER BY key')
      .pluck()
      .all()
    expect(doi).toEqual(['email_marketing', 'newsletter'])
  })

  it('lists purposes with their current wording for websites that build their own forms', async () => {
    const { app, deps } = await testApp()
    const res = await api(app, await apiKey(deps, ['subscribe'])).get('/api/v1/purposes')
    expect(res.status).toBe(200)
    const purposes = res.body.purposes as any[]
    expect(purposes.map((p) => p.key)).toContain('geolocation')
    expect(purposes.find((p) => p.key === 'newsletter').notices.en).toMatchObject({
      version: 1,
      title: 'Newsletter',
    })
  })

  it('a new version marked "requires re-consent" makes the gate refuse older consents until renewed', async () => {
    const { app, deps, mail, clock } = await testApp()
    const client = api(app, await apiKey(deps, ['subscribe', 'gate', 'consents:read']))
    const admin = api(app, await apiKey(deps, ['admin']))
    const confirmLatest = async () => {
      await deliverOutbox(deps)
      await app.request(new URL(linkIn(mail.sent.at(-1)!.text, '/c/')).pathname, { method: 'POST' })
    }
    await client.post('/api/v1/subscriptions', { email: 'f@exemple.fr', purposes: ['newsletter'] })
    await confirmLatest()
    const gate = async () => (await client.gate('newsletter', [{ email: 'f@exemple.fr' }]))[0]
    expect(await gate()).toMatchObject({ allowed: true })

    const v2 = await admin.post('/api/v1/purposes/newsletter/notices', {
      locale: 'fr',
      title: 'Newsletter',
      text: 'Nouvelle lettre, désormais hebdomadaire et partagée avec notre filiale.',
      privacy_url: 'https://acme.test/privacy',
      requires_reconsent: true,
      reconsent_grace_days: 0, // refused at once (the grace period: test/node/domain/consent/reconsent.test.ts)
    })
    expect(v2.status).toBe(201)
    expect(v2.body).toMatchObject({ version: 2 })
    expect(await gate()).toMatchObject({ allowed: false, reason: 'notice_outdated' })

    clock.advance(10 * 60_000) // past the confirmation-mail throttle
    const again = await client.post('/api/v1/subscriptions', {
      email: 'f@exemple.fr',
      purposes: ['newsletter'],
    })
    expect(again.body.purposes).toEqual({ newsletter: 'pending' })
    await confirmLatest()
    expect(await gate()).toMatchObject({ allowed: true })
    const proof = await client.get('/api/v1/contacts/f@exemple.fr/consents')
    const history = proof.body.history as any[]
    expect(history.at(-1)).toMatchObject({
      action: 'confirmed',
      notice: { version: 2, text: expect.stringContaining('hebdomadaire') },
    })
  })

  it('a new version without re-consent keeps existing consents valid', async () => {
    const { app, deps } = await testApp()
    const client = api(app, await apiKey(deps, ['subscribe', 'gate', 'admin']))
    await client.post('/api/v1/subscriptions', { email: 'g@exemple.fr', purposes: ['cookies'] })
    await client.post('/api/v1/purposes/cookies/notices', {
      locale: 'fr',
      title: 'Cookies',
      text: 'Coquille corrigée.',
    })
    expect((await client.gate('cookies', [{ email: 'g@exemple.fr' }]))[0]).toMatchObject({
      allowed: true,
    })
  })

  it('adds a purpose (admin only) and refuses bad or duplicate ones', async () => {
    const { app, deps } = await testApp()
    const admin = api(app, await apiKey(deps, ['admin']))
    const created = await admin.post('/api/v1/purposes', {
      key: 'sms_offers',
      channel: 'sms',
      legal_basis: 'consent',
      double_opt_in: true,
    })
    expect(created.status).toBe(201)
    expect(
      (
        await admin.post('/api/v1/purposes', {
          key: 'sms_offers',
          channel: 'sms',
          legal_basis: 'consent',
        })
      ).status,
    ).toBe(409)
    expect(
      (await admin.post('/api/v1/purposes', { key: 'x', channel: 'fax', legal_basis: 'consent' }))
        .body.error?.code,
    ).toBe('invalid_channel')
    expect(
      (await admin.post('/api/v1/purposes/nope/notices', { locale: 'fr', title: 't', text: 'x' }))
        .status,
    ).toBe(404)
    const notAdmin = api(app, await apiKey(deps, ['subscribe']))
    expect(
      (
        await notAdmin.post('/api/v1/purposes', {
          key: 'y',
          channel: 'sms',
          legal_basis: 'consent',
        })
      ).status,
    ).toBe(403)
  })
})
