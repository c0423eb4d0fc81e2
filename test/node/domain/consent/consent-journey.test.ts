// The double opt-in journey through the real app and a real SMTP server on 127.0.0.1.
import { createHash } from 'node:crypto'
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose'
import { describe, expect, it } from 'vitest'
import { verifyLedger } from '../../../../src/domain/consent/checkpoints.ts'
import { deliverOutbox } from '../../../../src/domain/platform/outbox.ts'
import { api, apiKey } from '../../../helpers/api.ts'
import { testApp } from '../../../helpers/deps.ts'
import { linkIn, useSmtpServer } from '../../../helpers/smtp.ts'

const mailServer = useSmtpServer()

describe('double opt-in, end to end', () => {
  it('subscribe → mail received → GET does not confirm → POST confirms → gate allows → provable', async () => {
    const { app, deps } = await testApp({ ORG_NAME: 'ACME', MAIL_FROM: 'news@acme.test' })
    deps.mail = mailServer.transport
    const client = api(app, await apiKey(deps))
    const email = 'Anne.Dupont+news@Exemple.FR'

    const sub = await client.post('/api/v1/subscriptions', {
      email,
      purposes: ['newsletter', 'cookies'],
      locale: 'fr',
      evidence: {
        ip: '203.0.113.7',
        user_agent: 'Firefox/140',
        page_url: 'https://acme.test/signup',
        shown_unticked: true,
      },
    })
    expect(sub.status).toBe(202)
    expect(sub.body).toMatchObject({
      purposes: { newsletter: 'pending', cookies: 'granted' },
      confirmation: 'sent',
    })
    const contactId = sub.body.contact_id as string

    expect(await client.gate('newsletter', [{ email }])).toEqual([
      { email, allowed: false, reason: 'pending_confirmation' },
    ])

    expect((await deliverOutbox(deps)).delivered).toBe(1)
    expect(mailServer.server.received).toHaveLength(1)
    const mail = mailServer.server.received[0]!
    expect(mail.envelope.to).toEqual(['anne.dupont+news@exemple.fr'])
    expect(mail.parsed.subject).toContain('ACME')
    expect(mail.parsed.text).toContain('Newsletter')
    const confirmUrl = linkIn(mail.parsed.text!, '/c/')
    expect(confirmUrl.startsWith('http://gateway.test/c/')).toBe(true)
    expect(confirmUrl).not.toContain('exemple') // the token carries no address
    const path = new URL(confirmUrl).pathname

    // A mail scanner opening the link changes nothing.
    const shown = await app.request(path)
    expect(shown.status).toBe(200)
    const html = await shown.text()
    expect(html).toContain('<form method="post"')
    expect(html).toContain('Newsletter')
    expect(await client.gate('newsletter', [{ email }])).toEqual([
      { email, allowed: false, reason: 'pending_confirmation' },
    ])

    // The button: a POST with no Origin, no cookie and no body.
    const confirmed = await app.request(path, {
      method: 'POST',
      headers: { 'User-Agent': 'Safari/18' },
    })
    expect(confirmed.status).toBe(200)
    expect(await confirmed.text()).toContain('Inscription confirmée')
    expect(await client.gate('newsletter', [{ email }, { contact_id: contactId }])).toEqual([
      { email, allowed: true, reason: null },
      { contact_id: contactId, allowed: true, reason: null },
    ])
    const again = await app.request(path, { method: 'POST' })
    expect(await again.text()).toContain('Déjà confirmée')

    // Proof: state, history with evidence and the exact wording, and a receipt anyone can verify.
    const proof = await client.get(`/api/v1/contacts/${encodeURIComponent(email)}/consents`)
    expect(proof.status).toBe(200)
    expect(proof.body.state).toMatchObject({
      newsletter: { status: 'granted' },
      cookies: { status: 'granted' },
    })
    const history = proof.body.history as Record<string, any>[]
    expect(history.map((h) => [h.purpose, h.action])).toEqual([
      ['newsletter', 'requested'],
      ['cookies', 'granted'],
      ['newsletter', 'confirmed'],
    ])
    expect(history[0]!.evidence).toMatchObject({
      ip: '203.0.113.7',
      user_agent: 'Firefox/140',
      shown_unticked: true,
    })
    expect(history[0]!.notice.text).toContain(
      'Cochez cette case pour vous abonner à notre newsletter',
    )
    expect(history[0]!.notice.content_hash).toMatch(/^[0-9a-f]{64}$/)
    // As README "Collecting and proving consent" documents them: the text's own SHA-256 (what
    // `sha256sum` gives for the text), and content_hash over the JSON array that identifies it.
    const n = history[0]!.notice
    const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex')
    expect(n.text_sha256).toBe(sha(n.text))
    expect(n.content_hash).toBe(
      sha(
        JSON.stringify([history[0]!.purpose, n.locale, n.version, n.title, n.text, n.privacy_url]),
      ),
    )
    expect(history[2]!.evidence).toMatchObject({ user_agent: 'Safari/18' })

    const jwks = (await (await app.request('/.well-known/jwks.json')).json()) as JSONWebKeySet
    const { payload } = await compactVerify(proof.body.receipt as string, createLocalJWKSet(jwks))
    const signed = JSON.parse(new TextDecoder().decode(payload))
    const { receipt: _receipt, ...content } = proof.body
    expect(signed).toEqual(content)

    expect(await verifyLedger(deps)).toMatchObject({ ok: true, chains: 1, events: 3 })
  })

  it('re-submitting a form for a confirmed purpose does not reset it to pending', async () => {
    const { app, deps, mail } = await testApp()
    const client = api(app, await apiKey(deps))
    await client.post('/api/v1/subscriptions', {
      email: 'bob@exemple.fr',
      purposes: ['newsletter'],
    })
    await deliverOutbox(deps)
    const path = new URL(linkIn(mail.sent[0]!.text, '/c/')).pathname
    await app.request(path, { method: 'POST' })
    const again = await client.post('/api/v1/subscriptions', {
      email: 'BOB@exemple.fr',
      purposes: ['newsletter'],
    })
    expect(again.body).toMatchObject({ purposes: { newsletter: 'granted' }, confirmation: 'none' })
    expect(await client.gate('newsletter', [{ email: 'bob@exemple.fr' }])).toEqual([
      { email: 'bob@exemple.fr', allowed: true, reason: null },
    ])
  })

  it('an unconfirmed subscription expires after 7 days and its personal data is purged', async () => {
    const { app, deps, clock, mail, sqlite } = await testApp()
    const client = api(app, await apiKey(deps))
    await client.post('/api/v1/subscriptions', {
      email: 'carla@exemple.fr',
      purposes: ['newsletter'],
    })
    await deliverOutbox(deps)
    const path = new URL(linkIn(mail.sent[0]!.text, '/c/')).pathname

    clock.advance(6 * 86_400_000)
    const { expireOptinRequests } = await import('../../../../src/domain/consent/optin.ts')
    expect(await expireOptinRequests(deps)).toBe(0) // still valid on day 6
    clock.advance(86_400_000 + 1)
    expect(await expireOptinRequests(deps)).toBe(1)

    const row = sqlite.prepare('SELECT * FROM contacts').get() as Record<string, unknown>
    expect(row).toMatchObject({
      status: 'erased',
      email_enc: null,
      email_bidx: null,
      attributes_enc: null,
      data_key_enc: null,
    })
    const res = await app.request(path, { method: 'POST' })
    expect(res.status).toBe(410)
    expect(await res.text()).toContain('Ce lien a expiré')
    expect(await client.gate('newsletter', [{ email: 'carla@exemple.fr' }])).toEqual([
      { email: 'carla@exemple.fr', allowed: false, reason: 'unknown_contact' },
    ])
    expect(await verifyLedger(deps)).toMatchObject({ ok: true, events: 2 })
  })

  it('forged or altered tokens get a clear page and a way to ask for a new mail', async () => {
    const { app } = await testApp()
    for (const token of ['not-a-token', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.AAAA']) {
      const res = await app.request(`/c/${token}`, { method: 'POST' })
      expect(res.status).toBe(404)
      const html = await res.text()
      expect(html).toContain('Ce lien n&#x27;est pas valide')
      expect(html).toContain('action="/subscribe/resend"')
    }
  })
})
