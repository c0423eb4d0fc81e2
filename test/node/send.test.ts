// POST /api/v1/send through a real SMTP server: gated, links and RFC 8058 headers in, retried by the outbox.
import { describe, expect, it } from 'vitest'
import { deliverOutbox } from '../../src/domain/outbox.ts'
import { api, apiKey } from '../helpers/api.ts'
import { testApp } from '../helpers/deps.ts'
import { linkIn, useSmtpServer } from '../helpers/smtp.ts'

const mailServer = useSmtpServer()

/** A contact who confirmed the newsletter by double opt-in, and an API key that may send. */
async function confirmedSubscriber() {
  const t = await testApp({ ORG_NAME: 'ACME', MAIL_FROM: 'news@acme.test' })
  const client = api(t.app, await apiKey(t.deps, ['subscribe', 'gate', 'send']))
  await client.post('/api/v1/subscriptions', { email: 'anne@exemple.fr', purposes: ['newsletter'] })
  await deliverOutbox(t.deps)
  await t.app.request(new URL(linkIn(t.mail.sent[0]!.text, '/c/')).pathname, { method: 'POST' })
  t.deps.mail = mailServer.transport
  return { ...t, client }
}

const mail = { purpose: 'newsletter', to: 'anne@exemple.fr', subject: 'Nouveautés de novembre' }

describe('POST /api/v1/send', () => {
  it('delivers an allowed mail with the footer in both parts and one List-Unsubscribe header', async () => {
    const { client, deps, app } = await confirmedSubscriber()
    const before = mailServer.server.received.length
    const res = await client.post('/api/v1/send', {
      ...mail,
      html: '<html><body><p>Bonjour Anne</p></body></html>',
      text: 'Bonjour Anne',
    })
    expect(res.status).toBe(202)
    expect(res.body).toMatchObject({ status: 'queued', id: expect.any(String) })
    expect((await deliverOutbox(deps)).delivered).toBe(1)
    const got = mailServer.server.received[before]!
    expect(got.envelope.to).toEqual(['anne@exemple.fr'])
    const lines = got.parsed.headerLines.map((h) => h.line)
    const unsubscribeHeaders = lines.filter((l) => /^list-unsubscribe:/i.test(l))
    expect(unsubscribeHeaders).toHaveLength(1)
    expect(lines).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click')
    expect(lines.some((l) => /^list-id:/i.test(l))).toBe(true)
    const headerUrl = unsubscribeHeaders[0]!.match(/<(http[^>]+)>/)![1]!
    expect(got.parsed.html).toContain('Bonjour Anne')
    expect(got.parsed.html).toContain(headerUrl.replace(/&/g, '&amp;'))
    expect(got.parsed.text).toContain('Bonjour Anne')
    expect(got.parsed.text).toContain(headerUrl)
    expect(got.parsed.text).toContain('/p/')

    // The header's link is a working RFC 8058 one-click endpoint.
    const oneClick = await app.request(new URL(headerUrl).pathname, {
      method: 'POST',
      body: 'List-Unsubscribe=One-Click',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    })
    expect(oneClick.status).toBe(200)
    const blocked = await client.post('/api/v1/send', { ...mail, text: 'Encore' })
    expect(blocked).toEqual({ status: 200, body: { status: 'blocked', reason: 'withdrawn' } })
  })

  it('refuses unknown recipients with the reason, and sends nothing', async () => {
    const { client, sqlite } = await confirmedSubscriber()
    const res = await client.post('/api/v1/send', { ...mail, to: 'stranger@exemple.fr', text: 'x' })
    expect(res).toEqual({ status: 200, body: { status: 'blocked', reason: 'unknown_contact' } })
    expect(
      sqlite.prepare("SELECT COUNT(*) FROM outbox WHERE kind = 'mail.send'").pluck().get(),
    ).toBe(0)
  })

  it('drops a queued mail when the person withdrew before delivery', async () => {
    const { client, deps, app } = await confirmedSubscriber()
    const before = mailServer.server.received.length
    await client.post('/api/v1/send', { ...mail, text: 'Bonjour' })
    const { unsubscribeUrl } = await import('../../src/domain/links.ts')
    const row = await deps.db.selectFrom('contacts').select('id').executeTakeFirstOrThrow()
    await app.request(new URL(await unsubscribeUrl(deps, row.id, 'newsletter')).pathname, {
      method: 'POST',
    })
    await deliverOutbox(deps)
    expect(mailServer.server.received.length).toBe(before)
  })

  it('keeps the message encrypted in the outbox', async () => {
    const { client, sqlite } = await confirmedSubscriber()
    await client.post('/api/v1/send', { ...mail, text: 'Un texte très personnel' })
    const payload = sqlite
      .prepare("SELECT payload FROM outbox WHERE kind = 'mail.send'")
      .pluck()
      .get() as string
    expect(payload).not.toContain('anne@')
    expect(payload).not.toContain('personnel')
  })

  it.each([
    [{ ...mail, subject: 'a\r\nBcc: victim@exemple.fr', text: 'x' }, 'invalid_subject'],
    [{ ...mail }, 'missing_body'],
    [{ ...mail, to: 'nope', text: 'x' }, 'invalid_to'],
    [{ ...mail, purpose: 'telepathy', text: 'x' }, 'unknown_purpose'],
    [{ ...mail, text: 'x', locale: 'de' }, 'invalid_locale'],
  ])('bad input %j → 400 %s', async (body, code) => {
    const { client } = await confirmedSubscriber()
    const res = await client.post('/api/v1/send', body)
    expect(res.status).toBe(400)
    expect(res.body.error?.code).toBe(code)
  })

  it('needs the send scope', async () => {
    const { app, deps } = await confirmedSubscriber()
    const res = await api(app, await apiKey(deps, ['gate'])).post('/api/v1/send', {
      ...mail,
      text: 'x',
    })
    expect(res.status).toBe(403)
  })
})
