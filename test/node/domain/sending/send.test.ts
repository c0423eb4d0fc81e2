// POST /api/v1/send through a real SMTP server: gated, links and RFC 8058 headers in, delivered during the
// request, and retried by the outbox when the server refuses it.
import { describe, expect, it } from 'vitest'
import { deliverOutbox } from '../../../../src/domain/platform/outbox.ts'
import { DIRECT_PAUSE_MS } from '../../../../src/domain/sending/send.ts'
import { smtpMailTransport } from '../../../../src/runtime/node/mail.ts'
import { api, apiKey } from '../../../helpers/api.ts'
import { drainOutbox, testApp } from '../../../helpers/deps.ts'
import { linkIn, useSmtpServer } from '../../../helpers/smtp.ts'

const mailServer = useSmtpServer()

/** A contact who confirmed the newsletter by double opt-in, and an API key that may send. */
async function confirmedSubscriber(locale: 'fr' | 'en' = 'fr') {
  const t = await testApp({ ORG_NAME: 'ACME', MAIL_FROM: 'news@acme.test' })
  const client = api(t.app, await apiKey(t.deps, ['subscribe', 'gate', 'send']))
  await client.post('/api/v1/subscriptions', {
    email: 'anne@exemple.fr',
    purposes: ['newsletter'],
    locale,
  })
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
    // Taken by the SMTP server before the answer: nothing was left in the outbox.
    expect(mailServer.server.received).toHaveLength(before + 1)
    expect((await deliverOutbox(deps)).delivered).toBe(0)
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

  it("writes the footer in the contact's language unless the call names one", async () => {
    const { client } = await confirmedSubscriber('en')
    const before = mailServer.server.received.length
    await client.post('/api/v1/send', { ...mail, to: 'Anne@Exemple.fr', text: 'Hello Anne' })
    await client.post('/api/v1/send', { ...mail, text: 'Bonjour Anne', locale: 'fr' })
    const [english, french] = mailServer.server.received.slice(before).map((m) => m.parsed.text!)
    expect(english).toContain('Unsubscribe: http')
    expect(english).not.toContain('Se désinscrire')
    expect(french).toContain('Se désinscrire')
  })

  it('refuses unknown recipients with the reason, and sends nothing', async () => {
    const { client, sqlite } = await confirmedSubscriber()
    const res = await client.post('/api/v1/send', { ...mail, to: 'stranger@exemple.fr', text: 'x' })
    expect(res).toEqual({ status: 200, body: { status: 'blocked', reason: 'unknown_contact' } })
    expect(
      sqlite.prepare("SELECT COUNT(*) FROM outbox WHERE kind = 'mail.send'").pluck().get(),
    ).toBe(0)
  })

  it('queues a mail the server refuses, sends the next ones straight to the outbox for a while, and delivers them all once it takes mail again', async () => {
    const t = await confirmedSubscriber()
    const transport = smtpMailTransport(mailServer.server.url) // its own failure state
    t.deps.mail = transport
    const before = mailServer.server.received.length
    const pending = "SELECT COUNT(*) FROM outbox WHERE kind = 'mail.send' AND status = 'pending'"
    try {
      mailServer.server.control.refuseWith = 451
      const first = await t.client.post('/api/v1/send', { ...mail, text: 'Premier' })
      expect(first).toMatchObject({ status: 202, body: { status: 'queued' } })
      expect(mailServer.server.control.refused).toBe(1)
      // Within the pause the transport is not tried: the API does not wait on a server that is down.
      t.clock.advance(DIRECT_PAUSE_MS - 1_000)
      await t.client.post('/api/v1/send', { ...mail, text: 'Deuxième' })
      expect(mailServer.server.control.refused).toBe(1)
      expect(t.sqlite.prepare(pending).pluck().get()).toBe(2)

      mailServer.server.control.refuseWith = null
      t.clock.advance(DIRECT_PAUSE_MS)
      await drainOutbox(t.deps)
      expect(t.sqlite.prepare(pending).pluck().get()).toBe(0)
      const texts = mailServer.server.received.slice(before).map((m) => m.parsed.text?.trim())
      expect(texts.map((x) => x?.split('\n')[0])).toEqual(['Premier', 'Deuxième'])
      // After the pause, mail goes straight to the server again.
      await t.client.post('/api/v1/send', { ...mail, text: 'Troisième' })
      expect(mailServer.server.received).toHaveLength(before + 3)
      expect(t.sqlite.prepare(pending).pluck().get()).toBe(0)
    } finally {
      mailServer.server.control.refuseWith = null
      transport.close()
    }
  })

  it('drops a queued mail when the person withdrew before its retry', async () => {
    const { client, deps, app, clock } = await confirmedSubscriber()
    const transport = smtpMailTransport(mailServer.server.url)
    deps.mail = transport
    const before = mailServer.server.received.length
    try {
      mailServer.server.control.refuseWith = 451
      await client.post('/api/v1/send', { ...mail, text: 'Bonjour' })
      mailServer.server.control.refuseWith = null
      const { unsubscribeUrl } = await import('../../../../src/domain/sending/links.ts')
      const row = await deps.db.selectFrom('contacts').select('id').executeTakeFirstOrThrow()
      await app.request(new URL(await unsubscribeUrl(deps, row.id, 'newsletter')).pathname, {
        method: 'POST',
      })
      clock.advance(DIRECT_PAUSE_MS)
      await drainOutbox(deps)
      expect(mailServer.server.received.length).toBe(before)
    } finally {
      mailServer.server.control.refuseWith = null
      transport.close()
    }
  })

  it('keeps a queued message encrypted in the outbox', async () => {
    const { client, sqlite, deps } = await confirmedSubscriber()
    const transport = smtpMailTransport('smtp://127.0.0.1:1') // nothing listens there: refused at once
    deps.mail = transport
    await client.post('/api/v1/send', { ...mail, text: 'Un texte très personnel' })
    expect(
      sqlite.prepare("SELECT COUNT(*) FROM outbox WHERE kind = 'mail.send'").pluck().get(),
    ).toBe(1)
    const payload = sqlite
      .prepare("SELECT payload FROM outbox WHERE kind = 'mail.send'")
      .pluck()
      .get() as string
    expect(payload).not.toContain('anne@')
    expect(payload).not.toContain('personnel')
    transport.close()
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
