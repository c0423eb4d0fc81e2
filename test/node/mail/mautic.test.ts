// MAIL_TRANSPORT=mautic: the double opt-in mail goes out as a Mautic e-mail with the confirm link as
// a token, through the real app, the outbox and the msw fake of Mautic.
import type Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { deliverOutbox } from '../../../src/domain/platform/outbox.ts'
import { memoryMailTransport } from '../../../src/mail/memory.ts'
import { mauticMailTransport } from '../../../src/mail/mautic.ts'
import { createMauticClient } from '../../../src/mautic/client.ts'
import { nodeMailTransport } from '../../../src/runtime/node/mail.ts'
import { api, apiKey } from '../../helpers/api.ts'
import { testApp } from '../../helpers/deps.ts'
import { useMautic } from '../../helpers/mautic-fake.ts'

const mautic = useMautic(undefined, { emails: [7] })

/** The real app with MAIL_TRANSPORT=mautic, wired as the Node entry wires it. */
async function gatewayWithMauticMail() {
  const t = await testApp({ ...mautic.env, MAIL_TRANSPORT: 'mautic', MAUTIC_CONFIRM_EMAIL_ID: '7' })
  t.deps.mail = nodeMailTransport(t.deps.config, { mautic: t.deps.mautic })
  const client = api(t.app, await apiKey(t.deps))
  const subscribe = (email: string) =>
    client.post('/api/v1/subscriptions', {
      email,
      purposes: ['newsletter'],
      locale: 'fr',
      evidence: { ip: '203.0.113.7', shown_unticked: true },
    })
  return { ...t, client, subscribe }
}

const confirmRow = (sqlite: Database.Database) =>
  sqlite
    .prepare("SELECT status, attempts, last_error FROM outbox WHERE kind = 'mail.confirm'")
    .get() as { status: string; attempts: number; last_error: string | null }

const mauticContactsWith = (email: string) =>
  [...mautic.contacts.values()].filter((c) => c.fields.email === email)

describe('MAIL_TRANSPORT=mautic', () => {
  it('sends Mautic e-mail 7 to the contact it creates, with a confirm link that works', async () => {
    const { app, deps, sqlite, client, subscribe } = await gatewayWithMauticMail()
    expect(deps.mail.name).toBe('mautic')
    const sub = await subscribe('Anne.Dupont+news@Exemple.FR')
    expect(sub.status).toBe(202)

    await deliverOutbox(deps)
    expect(confirmRow(sqlite)).toMatchObject({ status: 'done', attempts: 1 })
    const [contact] = mauticContactsWith('anne.dupont+news@exemple.fr')
    expect(contact).toBeDefined()
    expect(mautic.sent).toEqual([
      {
        emailId: 7,
        contactId: contact!.id,
        tokens: { '{consent_confirm_url}': expect.stringMatching(/^http:\/\/gateway\.test\/c\//) },
      },
    ])

    const path = new URL(mautic.sent[0]!.tokens['{consent_confirm_url}']!).pathname
    const page = await app.request(path)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<form method="post"')
    expect((await app.request(path, { method: 'POST' })).status).toBe(200)
    expect(await client.gate('newsletter', [{ email: 'anne.dupont+news@exemple.fr' }])).toEqual([
      { email: 'anne.dupont+news@exemple.fr', allowed: true, reason: null },
    ])
  })

  it('sends to the existing Mautic contact with that exact address, the oldest one', async () => {
    const { deps, subscribe } = await gatewayWithMauticMail()
    mautic.addContact({ email: 'bobbx@exemple.fr' }) // what `bob_x` matches in a LIKE search
    const bob = mautic.addContact({ email: 'bob_x@exemple.fr' })
    mautic.addContact({ email: 'bob_x@exemple.fr' })
    await subscribe('bob_x@exemple.fr')
    await deliverOutbox(deps)
    expect(mautic.sent.map((s) => s.contactId)).toEqual([bob.id])
    expect(mautic.calls('POST', '/api/contacts/new')).toEqual([])
  })

  it('keeps the confirmation pending through a Mautic outage and sends it once Mautic is back', async () => {
    const { deps, sqlite, clock, subscribe } = await gatewayWithMauticMail()
    mautic.down(true)
    await subscribe('carla@exemple.fr')
    expect(await deliverOutbox(deps)).toMatchObject({ delivered: 0, retried: 1 })
    const failed = confirmRow(sqlite)
    expect(failed).toMatchObject({ status: 'pending', attempts: 1 })
    expect(failed.last_error).toContain('cannot be reached')
    expect(failed.last_error).not.toContain('carla')
    expect(mautic.sent).toEqual([])

    mautic.down(false)
    await deliverOutbox(deps)
    expect(mautic.sent).toEqual([]) // not due yet: the outbox backs off
    clock.advance(60_000)
    await deliverOutbox(deps)
    expect(confirmRow(sqlite)).toMatchObject({ status: 'done', attempts: 2 })
    expect(mautic.sent).toHaveLength(1)
    expect(mauticContactsWith('carla@exemple.fr')).toHaveLength(1)
  })

  it('refuses every other mail, saying what it is for and where marketing mail goes', async () => {
    const transport = mauticMailTransport(createMauticClient(mautic.connection), { confirm: 7 })
    const mail = {
      from: 'news@acme.test',
      to: 'anne@exemple.fr',
      subject: 'Hi',
      html: '',
      text: '',
    }
    await expect(transport.send(mail)).rejects.toThrow(
      /MAIL_TRANSPORT=mautic sends only the double opt-in confirmation .*MAUTIC_CONFIRM_EMAIL_ID.*SMTP relay/,
    )
    const unset = mauticMailTransport(createMauticClient(mautic.connection), {})
    await expect(
      unset.send({ ...mail, template: { name: 'confirm', tokens: { consent_confirm_url: 'x' } } }),
    ).rejects.toThrow('needs a Mautic e-mail for "confirm"')
    expect(mautic.requests).toEqual([])
  })

  it('hands the other mails (access links) to the SMTP or HTTP transport when one is set', async () => {
    const other = memoryMailTransport()
    const transport = mauticMailTransport(
      createMauticClient(mautic.connection),
      { confirm: 7 },
      other,
    )
    await transport.send({
      from: 'a@acme.test',
      to: 'anne@exemple.fr',
      subject: 'Vos données',
      html: '',
      text: 'x',
    })
    expect(other.sent.map((m) => m.subject)).toEqual(['Vos données'])
    expect(mautic.requests).toEqual([])
  })
})
