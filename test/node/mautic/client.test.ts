// The Mautic REST client against the msw fake of Mautic (test/helpers/mautic-fake.ts).
import { beforeEach, describe, expect, it } from 'vitest'
import { createMauticClient, type MauticClientOptions } from '../../../src/mautic/client.ts'
import { MauticError, type DncReason } from '../../../src/mautic/types.ts'
import { mauticFake, useMautic } from '../../helpers/mautic-fake.ts'

// Two Mautic instances on one msw server: OAuth2 (the default) and HTTP Basic.
const basic = mauticFake('https://basic.mautic.test/mautic', { auth: 'basic' })
const mautic = useMautic(undefined, undefined, ...basic.handlers)
beforeEach(() => basic.reset()) // useMautic resets its own fake; the second one is ours

/** A client with a settable clock and recorded (not slept) backoff waits. */
function client(opts: MauticClientOptions & { connection?: typeof mautic.connection } = {}) {
  const clock = { t: Date.UTC(2026, 0, 1) }
  const waits: number[] = []
  const api = createMauticClient(opts.connection ?? mautic.connection, {
    now: () => clock.t,
    sleep: async (ms) => void waits.push(ms),
    ...opts,
  })
  return { api, clock, waits }
}

const tokenRequests = () => mautic.calls('POST', '/oauth/v2/token').length

async function failure(promise: Promise<unknown>): Promise<MauticError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(MauticError)
  return err as MauticError
}

describe('mautic client: auth', () => {
  it('asks for an OAuth2 token once, reuses it, and asks again once it expires', async () => {
    const { api, clock } = client()
    const anne = mautic.addContact({ email: 'anne@example.test' })
    await api.getContact(anne.id)
    await api.getContact(anne.id)
    await api.listTags()
    expect(tokenRequests()).toBe(1)
    const token = mautic.calls('POST', '/oauth/v2/token')[0]!
    expect(token.body).toEqual({
      grant_type: 'client_credentials',
      client_id: 'test-client',
      client_secret: 'test-client-secret',
    })
    expect(mautic.calls('GET', `/api/contacts/${anne.id}`)[0]!.authorization).toMatch(/^Bearer /)

    clock.t += 3600_000 // expires_in
    await api.getContact(anne.id)
    expect(tokenRequests()).toBe(2)
  })

  it('on a 401, drops the token, gets a new one and retries the call once', async () => {
    const { api } = client()
    const anne = mautic.addContact({ email: 'anne@example.test' })
    await api.getContact(anne.id)
    mautic.expireTokens() // Mautic restarted, or the token was revoked
    expect((await api.getContact(anne.id))?.id).toBe(anne.id)
    expect(tokenRequests()).toBe(2)
    expect(mautic.calls('GET', `/api/contacts/${anne.id}`)).toHaveLength(3)
  })

  it('says which credentials Mautic refused', async () => {
    const { api } = client({ connection: { ...mautic.connection, clientSecret: 'wrong' } })
    const err = await failure(api.checkAccess())
    expect(err).toMatchObject({ status: 400, type: 'invalid_client', retryable: false })
    expect(err.message).toContain('MAUTIC_CLIENT_ID/MAUTIC_CLIENT_SECRET')
    expect(err.message).toContain('The client credentials are invalid')
    expect(mautic.calls('GET', '/api/contacts')).toHaveLength(0)
  })

  it('uses HTTP Basic with a username and password', async () => {
    const { api } = client({ connection: basic.connection })
    const bob = basic.addContact({ email: 'bob@example.test' })
    expect((await api.getContact(bob.id))?.email).toBe('bob@example.test')
    const seen = basic.calls('GET', `/api/contacts/${bob.id}`)[0]!
    expect(seen.authorization).toBe(`Basic ${btoa('api-user:api-password')}`)
    expect(basic.calls('POST', '/oauth/v2/token')).toHaveLength(0)

    const wrong = client({ connection: { ...basic.connection, password: 'nope' } })
    const err = await failure(wrong.api.getContact(bob.id))
    expect(err).toMatchObject({ status: 401, type: 'access_denied', retryable: false })
    expect(err.message).toContain('MAUTIC_USERNAME/MAUTIC_PASSWORD')

    basic.config.basicAuthEnabled = false
    const off = await failure(api.getContact(bob.id))
    expect(off).toMatchObject({ status: 403, type: 'access_denied' })
    expect(off.message).toContain('Enable HTTP basic auth')
  })

  it('explains a disabled API', async () => {
    mautic.config.apiEnabled = false
    const err = await failure(client().api.checkAccess())
    expect(err).toMatchObject({ status: 403, type: 'api_disabled', retryable: false })
    expect(err.message).toMatch(/API is disabled.*API Settings/)
  })
})

describe('mautic client: failures and retries', () => {
  it('waits Retry-After on a 429 (capped at 2 s) and then succeeds', async () => {
    const { api, waits } = client()
    mautic.failNext(1, 429, undefined, { 'Retry-After': '1' })
    mautic.failNext(1, 429, undefined, { 'Retry-After': '3600' })
    expect(await api.listTags()).toEqual([])
    expect(waits).toEqual([1000, 2000])
    expect(mautic.calls('GET', '/api/tags')).toHaveLength(3)
  })

  it('retries a 500 twice with backoff, then throws a retryable error', async () => {
    const { api, waits } = client()
    mautic.failNext(3, 500)
    const err = await failure(api.listTags())
    expect(err).toMatchObject({ status: 500, retryable: true })
    expect(err.message).toContain('Mautic failed on GET /api/tags: 500')
    expect(waits).toEqual([250, 500])
    expect(mautic.calls('GET', '/api/tags')).toHaveLength(3)
  })

  it('gives up on a request that does not answer in time: status 0, retryable', async () => {
    const { api } = client({ timeoutMs: 50, maxRetries: 0 })
    mautic.failNext(1, 'timeout')
    const err = await failure(api.listTags())
    expect(err).toMatchObject({ status: 0, type: null, retryable: true })
    expect(err.message).toContain('did not answer GET /api/tags within 50 ms')
  })

  it('turns a network error into status 0, retryable, and recovers when Mautic is back', async () => {
    const { api } = client({ maxRetries: 0 })
    mautic.failNext(1, 'network')
    expect(await failure(api.listTags())).toMatchObject({ status: 0, retryable: true })
    mautic.down(true)
    const down = await failure(client({ maxRetries: 1 }).api.checkAccess())
    expect(down).toMatchObject({ status: 0, retryable: true })
    expect(down.message).toContain('cannot be reached')
    mautic.down(false)
    await expect(api.listTags()).resolves.toEqual([])
  })

  it('maps a 400 to a non-retryable error with Mautic’s message and details', async () => {
    const { api } = client()
    const anne = mautic.addContact({ email: 'anne@example.test' })
    const err = await failure(
      api.addDnc(anne.id, 'email', { reason: 0 as DncReason, comments: '' }),
    )
    expect(err).toMatchObject({ status: 400, type: null, retryable: false })
    expect(err.message).toContain('Invalid reason code given')
    expect(err.message).toContain('Reason code needs to be an integer and higher than 0.')
    expect(mautic.calls('POST', `/api/contacts/${anne.id}/dnc/email/add`)).toHaveLength(1)
  })

  it('never puts an e-mail address in an error message', async () => {
    mautic.failNext(1, 422, {
      errors: [{ code: 422, message: 'anne@example.test is taken', details: [], type: null }],
    })
    const err = await failure(client().api.createContact('anne@example.test'))
    expect(err.message).toContain('[email] is taken')
    expect(err.message).not.toContain('anne@')
  })
})

describe('mautic client: contacts', () => {
  it('reads a contact: fields.all, tag names, DNC entries with numeric reasons', async () => {
    const { api } = client()
    const anne = mautic.addContact({
      email: 'anne@example.test',
      fields: { firstname: 'Anne' },
      tags: ['vip'],
      dnc: [{ reason: 1, comments: 'User unsubscribed.', channelId: 12 }],
    })
    const got = await api.getContact(anne.id)
    expect(got).toMatchObject({
      id: anne.id,
      email: 'anne@example.test',
      tags: ['vip'],
      doNotContact: [
        { channel: 'email', reason: 1, comments: 'User unsubscribed.', channelId: 12 },
      ],
    })
    expect(got!.fields).toMatchObject({ firstname: 'Anne', lastname: null })
  })

  it('returns null for a missing contact, and the winner for a merged-away id', async () => {
    const { api } = client()
    expect(await api.getContact(999)).toBeNull()
    const loser = mautic.addContact({ email: 'old@example.test', tags: ['a'] })
    const winner = mautic.addContact({ email: 'new@example.test', tags: ['b'] })
    mautic.merge(loser.id, winner.id)
    const got = await api.getContact(loser.id)
    expect(got?.id).toBe(winner.id)
    expect(got?.tags).toEqual(['b', 'a'])
  })

  it('finds by exact e-mail with where…eq, `+` encoded, not the LIKE of search=email:', async () => {
    const { api } = client()
    const plus = mautic.addContact({ email: 'Anne+news@Example.test' })
    mautic.addContact({ email: 'anne news@example.test' }) // what an unencoded + would become
    mautic.addContact({ email: 'anne_news@example.test' }) // `_` matches anything in a LIKE
    const found = await api.findContactsByEmail('anne+news@example.test')
    expect(found.map((c) => c.id)).toEqual([plus.id])
    const [seen] = mautic.calls('GET', '/api/contacts')
    expect(seen!.search).toContain('where%5B0%5D%5Bexpr%5D=eq')
    expect(seen!.search).toContain('anne%2Bnews%40example.test')
    expect(seen!.query.has('search')).toBe(false)
    expect(await api.findContactsByEmail('nobody@example.test')).toEqual([])
  })

  it("finds an address holding ' or & although Mautic HTML-escapes every where value", async () => {
    const { api } = client()
    const obrien = mautic.addContact({ email: "o'brien&co@Exemple.test" })
    mautic.addContact({ email: 'oxbrienxco@exemple.test' }) // what the wildcards also match
    const found = await api.findContactsByEmail("O'Brien&co@exemple.test")
    expect(found.map((c) => c.id)).toEqual([obrien.id])
    // What Mautic would have compared with an exact where: the escaped text, never the address.
    const [seen] = mautic.calls('GET', '/api/contacts')
    expect(seen!.query.get('where[0][expr]')).toBe('like')
    expect(seen!.query.get('where[0][val]')).toBe('O_Brien_co@exemple.test')
    expect(await api.findContactsByEmail("d'arc@exemple.test")).toEqual([])
  })

  it('lists contacts by page, with ids and totals sent as strings by older Mautic', async () => {
    const { api } = client()
    expect(await api.listContacts({ start: 0, limit: 10 })).toEqual({ total: 0, contacts: [] })
    for (const n of [1, 2, 3]) mautic.addContact({ email: `c${n}@example.test` })
    mautic.config.stringIds = true
    const page = await api.listContacts({ start: 1, limit: 10 })
    expect(page.total).toBe(3)
    expect(page.contacts.map((c) => [c.id, c.email])).toEqual([
      [2, 'c2@example.test'],
      [3, 'c3@example.test'],
    ])
  })

  it('creates a contact, or finds the one with that e-mail (Mautic deduplicates: 200 not 201)', async () => {
    const { api } = client()
    const id = await api.createContact('anne@example.test')
    expect(await api.createContact('anne@example.test')).toBe(id)
    expect(mautic.contacts.size).toBe(1)
  })

  it('edits fields and adds and removes tags (a leading - removes)', async () => {
    const { api } = client()
    const anne = mautic.addContact({ email: 'anne@example.test', tags: ['consent_pending'] })
    const saved = await api.editContact(anne.id, {
      fields: { firstname: 'Anne' },
      tags: ['consent_newsletter', '-consent_pending'],
    })
    expect(saved.tags).toEqual(['consent_newsletter'])
    expect(saved.fields.firstname).toBe('Anne')
    expect(mautic.calls('PATCH', `/api/contacts/${anne.id}/edit`)[0]!.body).toEqual({
      firstname: 'Anne',
      tags: ['consent_newsletter', '-consent_pending'],
    })
  })

  it('adds and removes Do-Not-Contact entries', async () => {
    const { api } = client()
    const anne = mautic.addContact({ email: 'anne@example.test' })
    await api.addDnc(anne.id, 'email', { reason: 3, comments: 'consent-gateway' })
    expect(mautic.contact(anne.id)!.dnc).toMatchObject([{ reason: 3, comments: 'consent-gateway' }])
    expect(await api.removeDnc(anne.id, 'email')).toBe(true)
    expect(await api.removeDnc(anne.id, 'email')).toBe(false)

    // DoNotContact::addDncForContact never overwrites the contact's own unsubscribe (reason 1).
    const bob = mautic.addContact({ email: 'bob@example.test', dnc: [{ reason: 1 }] })
    await api.addDnc(bob.id, 'email', { reason: 3, comments: 'consent-gateway' })
    expect((await api.getContact(bob.id))!.doNotContact).toMatchObject([{ reason: 1 }])
  })

  it('deletes a contact, false when it was already gone', async () => {
    const { api } = client()
    const anne = mautic.addContact({ email: 'anne@example.test' })
    expect(await api.deleteContact(anne.id)).toBe(true)
    expect(mautic.contacts.has(anne.id)).toBe(false)
    expect(await api.deleteContact(anne.id)).toBe(false)
  })

  it('reads segments and activity for the data-access page', async () => {
    const { api } = client()
    const anne = mautic.addContact({ email: 'anne@example.test' })
    expect(await api.contactSegments(anne.id)).toEqual([]) // `"lists":[]` when none
    anne.segments.push({ id: 4, name: 'Clients', alias: 'clients' })
    anne.activity.push(
      {
        event: 'email.read',
        eventLabel: { label: 'Welcome', href: '/x' },
        timestamp: '2026-01-02T10:00:00+00:00',
      },
      {
        event: 'lead.create',
        eventLabel: 'Contact created',
        timestamp: '2026-01-01T10:00:00+00:00',
      },
    )
    expect(await api.contactSegments(anne.id)).toEqual([{ id: 4, name: 'Clients' }])
    expect(await api.contactActivity(anne.id, 1)).toEqual([
      { event: 'email.read', label: 'Welcome', timestamp: '2026-01-02T10:00:00+00:00' },
    ])
    expect(mautic.calls('GET', `/api/contacts/${anne.id}/activity`)[0]!.query.get('limit')).toBe(
      '1',
    )
  })
})

describe('mautic client: e-mails, fields, tags, webhooks', () => {
  it('sends an e-mail with tokens, braces added', async () => {
    const { api } = client()
    mautic.addEmail(7)
    const anne = mautic.addContact({ email: 'anne@example.test' })
    await api.sendEmail(7, anne.id, { consent_confirm_url: 'https://gw.test/c/t', '{x}': 'y' })
    expect(mautic.sent).toEqual([
      {
        emailId: 7,
        contactId: anne.id,
        tokens: { '{consent_confirm_url}': 'https://gw.test/c/t', '{x}': 'y' },
      },
    ])
    expect(mautic.calls('POST', `/api/emails/7/contact/${anne.id}/send`)[0]!.body).toEqual({
      tokens: { '{consent_confirm_url}': 'https://gw.test/c/t', '{x}': 'y' },
    })
    expect(await failure(api.sendEmail(8, anne.id, {}))).toMatchObject({ status: 404 })
  })

  it('treats a 200 {"success":false} as a failed send', async () => {
    const { api } = client()
    mautic.addEmail(7)
    const anne = mautic.addContact({ email: 'anne@example.test' })
    mautic.failNext(1, 200, { success: false, failed: ['anne@example.test: mailer refused'] })
    const err = await failure(api.sendEmail(7, anne.id, {}))
    expect(err).toMatchObject({ status: 200, type: 'send_failed', retryable: true })
    expect(err.message).toContain('did not send e-mail 7')
    expect(err.message).not.toContain('anne@')
    expect(mautic.calls('POST', `/api/emails/7/contact/${anne.id}/send`)).toHaveLength(1) // not resent
  })

  it('creates and lists fields, tags and webhooks', async () => {
    const { api } = client()
    await api.createField({
      label: 'Newsletter consent',
      alias: 'consent_newsletter',
      type: 'boolean',
    })
    await api.createField({ label: 'Preferences', alias: 'consent_preferences_url', type: 'url' })
    expect(mautic.calls('POST', '/api/fields/contact/new')[0]!.body).toEqual({
      label: 'Newsletter consent',
      alias: 'consent_newsletter',
      type: 'boolean',
      group: 'core',
      object: 'lead',
      properties: { no: 'No', yes: 'Yes' },
    })
    const fields = await api.listFields()
    expect(fields.find((f) => f.alias === 'consent_newsletter')).toMatchObject({
      type: 'boolean',
      object: 'lead',
    })
    expect(fields.find((f) => f.alias === 'consent_preferences_url')?.type).toBe('url')
    expect(fields.find((f) => f.alias === 'email')).toEqual({
      id: expect.any(Number),
      alias: 'email',
      label: 'Email',
      type: 'email',
      group: 'core',
      object: 'lead',
      isPublished: true,
    })
    expect(fields.find((f) => f.alias === 'linkedin')).toMatchObject({
      label: 'LinkedIn',
      group: 'social',
    })

    await api.createTag('consent_newsletter')
    expect(await api.listTags()).toEqual(['consent_newsletter'])

    const hook = await api.createWebhook({
      name: 'Consent gateway',
      description: 'consent-gateway',
      webhookUrl: 'https://gw.test/hooks/mautic',
      secret: 's3cret',
      triggers: ['mautic.lead_post_save_update', 'mautic.lead_channel_subscription_changed'],
      isPublished: true,
    })
    expect(hook.id).toBeGreaterThan(0)
    expect(await api.listWebhooks()).toEqual([
      {
        id: hook.id,
        webhookUrl: 'https://gw.test/hooks/mautic',
        triggers: ['mautic.lead_post_save_update', 'mautic.lead_channel_subscription_changed'],
        isPublished: true,
        secret: 's3cret', // group hookDetails lists it
      },
    ])
    // Mautic unpublished it: published again with a PATCH.
    mautic.webhooks[0]!.isPublished = false
    expect((await api.listWebhooks())[0]!.isPublished).toBe(false)
    await api.publishWebhook(hook.id)
    expect(mautic.webhooks[0]!.isPublished).toBe(true)
    expect(mautic.calls('PATCH', `/api/hooks/${hook.id}/edit`)[0]!.body).toEqual({
      isPublished: true,
    })
  })

  it('returns the alias Mautic gave a new field: cut to 25 characters (FieldAliasHelper)', async () => {
    const { api } = client()
    const made = await api.createField({
      label: 'Consent: push_notifications',
      alias: 'consent_push_notifications',
      type: 'boolean',
    })
    expect(made).toEqual({ alias: 'consent_push_notification' })
    // Taken: Mautic appends a number.
    const again = await api.createField({
      label: 'Again',
      alias: 'consent_push_notifications',
      type: 'boolean',
    })
    expect(again).toEqual({ alias: 'consent_push_notification1' })
  })

  it('pages through long lists', async () => {
    const { api } = client()
    for (let i = 0; i < 501; i++) mautic.tags.push({ id: i + 1, tag: `t${i}` })
    expect(await api.listTags()).toHaveLength(501)
    expect(mautic.calls('GET', '/api/tags').map((r) => r.query.get('start'))).toEqual(['0', '500'])
  })

  it('checks access with a cheap authenticated call', async () => {
    await client().api.checkAccess()
    const [seen] = mautic.calls('GET', '/api/contacts')
    expect(Object.fromEntries(seen!.query)).toEqual({ limit: '1', minimal: '1' })
  })
})
