// The mirror and the campaign gate against a stateful fake of Mautic's REST API (msw: outbound HTTP only).
import { describe, expect, it } from 'vitest'
import { deliverOutbox } from '../../../src/domain/platform/outbox.ts'
import { subscribe } from '../../../src/domain/consent/subscriptions.ts'
import { unsubscribeUrl } from '../../../src/domain/sending/links.ts'
import { createMauticClient } from '../../../src/mautic/client.ts'
import { connectMautic } from '../../../src/mautic/connect.ts'
import { mirror } from '../../../src/mautic/mirror.ts'
import { api, apiKey } from '../../helpers/api.ts'
import { confirmedSubscription } from '../../helpers/consent.ts'
import { API_CONSENT, drainOutbox, TEST_NOW, testApp } from '../../helpers/deps.ts'
import { useMautic } from '../../helpers/mautic-fake.ts'

const mautic = useMautic('https://mautic.test', { emails: [12] })

async function setup(mode: 'observe' | 'enforce' = 'enforce') {
  const t = await testApp(
    { ...mautic.env, MIRROR_MODE: mode },
    { mautic: createMauticClient(mautic.connection, { sleep: async () => {} }) },
  )
  const link = (mauticId: number, contactId: string) =>
    t.sqlite
      .prepare("INSERT INTO contact_links VALUES ('mautic', ?, ?, 0)")
      .run(String(mauticId), contactId)
  // What `consent-gateway mautic connect` creates (Mautic ignores fields that do not exist, and cuts
  // new aliases to 25 characters), then a fresh log of requests.
  const connected = await connectMautic(t.deps)
  if (!connected.ok) throw new Error(connected.error)
  mautic.requests.length = 0
  const drain = () => drainOutbox(t.deps)
  const writes = () =>
    mautic.requests.filter((r) => r.method !== 'GET' && r.path.startsWith('/api/'))
  return { ...t, link, drain, writes }
}

/** A contact the gateway knows without any consent (e.g. imported from Mautic). */
async function unconsented(
  t: Awaited<ReturnType<typeof setup>>,
  email: string,
  attributes?: Record<string, string>,
) {
  const r = await subscribe(t.deps, { ...API_CONSENT, email, purposes: ['cookies'], attributes })
  if (!r.ok) throw new Error(r.message)
  return r.contactId
}

describe('mirror (MIRROR_MODE=enforce)', () => {
  it('puts a Do-Not-Contact, tags and fields on a contact without e-mail consent', async () => {
    const t = await setup()
    const m = mautic.addContact({ email: 'paul@exemple.fr' })
    const id = await unconsented(t, 'paul@exemple.fr')
    t.link(m.id, id)
    await mirror(t.deps, { contactId: id })
    const c = mautic.contact(m.id)!
    expect(c.dnc).toMatchObject([
      { channel: 'email', reason: 3, comments: 'consent-gateway: no valid consent for e-mail' },
    ])
    expect(c.tags).toEqual([])
    expect(c.fields.consent_newsletter).toBe(0) // Mautic keeps booleans as 0/1
    expect(String(c.fields.consent_preferences_url)).toMatch(/^http:\/\/gateway\.test\/p\//)
    // Nothing left to change: a second run writes nothing (its echo costs one read).
    const before = t.writes().length
    await mirror(t.deps, { contactId: id })
    expect(t.writes().length).toBe(before)
  })

  it('lifts its own DNC after a confirmed double opt-in and tags the purposes', async () => {
    const t = await setup()
    const m = mautic.addContact({
      email: 'anne@exemple.fr',
      dnc: [{ reason: 3, comments: 'consent-gateway: no valid consent for e-mail' }],
    })
    const id = await unsubscribedLinked()
    async function unsubscribedLinked() {
      const contactId = await unconsented(t, 'anne@exemple.fr')
      t.link(m.id, contactId)
      return contactId
    }
    await confirmedSubscription(t, 'anne@exemple.fr', ['newsletter'])
    await t.drain() // the confirmation enqueued the mirror
    const c = mautic.contact(m.id)!
    expect(c.dnc).toEqual([])
    expect(c.tags).toContain('consent_newsletter')
    expect(c.tags).not.toContain('consent_email_marketing')
    expect(c.fields.consent_newsletter).toBe(1)
    expect(id).toBeTruthy()
  })

  it("never lifts the contact's own unsubscribe with a consent older than it", async () => {
    const t = await setup()
    const id = await confirmedSubscription(t, 'lea@exemple.fr', ['newsletter'])
    t.clock.advance(3600_000)
    // Unsubscribed in Mautic, and the webhook was lost: the mirror sees it first.
    const m = mautic.addContact({
      email: 'lea@exemple.fr',
      dnc: [{ reason: 1, comments: 'User unsubscribed.' }],
    })
    t.link(m.id, id)
    await mirror(t.deps, { contactId: id })
    expect(mautic.contact(m.id)!.dnc).toMatchObject([{ reason: 1 }])
    expect(mautic.calls('POST', `/api/contacts/${m.id}/dnc/email/remove`)).toEqual([])
    // A new subscription confirmed after it is the person's fresh choice: then it goes.
    t.clock.advance(3600_000)
    await t.deps.db.deleteFrom('consent_state').execute()
    await confirmedSubscription(t, 'lea@exemple.fr', ['newsletter'])
    await t.drain()
    expect(mautic.contact(m.id)!.dnc).toEqual([])
    // Lifted, the block is forgotten: a second unsubscribe counts from its own first sighting.
    const [memory] = t.sqlite.prepare('SELECT own_unsubscribe_at FROM mautic_mirror').all() as any[]
    expect(memory.own_unsubscribe_at).toBeNull()
    t.clock.advance(3600_000)
    mautic.contact(m.id)!.dnc.push({
      id: 99,
      channel: 'email',
      reason: 1,
      comments: 'User unsubscribed.',
      channelId: null,
    })
    await mirror(t.deps, { contactId: id })
    expect(mautic.contact(m.id)!.dnc).toMatchObject([{ reason: 1 }])
  })

  it('does not lift an unsubscribe Mautic dated in the second of the grant (its times are whole seconds)', async () => {
    const t = await setup()
    const m = mautic.addContact({
      email: 'lea@exemple.fr',
      dnc: [{ reason: 1, comments: 'User unsubscribed.' }],
    })
    // The unsubscribe's webhook noted Mautic's time for it: a whole second.
    t.sqlite
      .prepare('INSERT INTO mautic_mirror (mautic_id, own_unsubscribe_at) VALUES (?, ?)')
      .run(String(m.id), TEST_NOW)
    t.clock.advance(500) // confirmed in that same second: maybe before the unsubscribe
    const id = await confirmedSubscription(t, 'lea@exemple.fr', ['newsletter'])
    t.link(m.id, id)
    await mirror(t.deps, { contactId: id })
    expect(mautic.contact(m.id)!.dnc).toMatchObject([{ reason: 1 }])
    // Had Mautic dated it the second before, the grant would surely be the later choice: lifted.
    t.sqlite.prepare('UPDATE mautic_mirror SET own_unsubscribe_at = ?').run(TEST_NOW - 1000)
    await mirror(t.deps, { contactId: id })
    expect(mautic.contact(m.id)!.dnc).toEqual([])
  })

  it('never lifts a bounce', async () => {
    const t = await setup()
    const id = await confirmedSubscription(t, 'bob@exemple.fr', ['newsletter'])
    const m = mautic.addContact({
      email: 'bob@exemple.fr',
      dnc: [{ reason: 2, comments: 'Bounced' }],
    })
    t.link(m.id, id)
    await mirror(t.deps, { contactId: id })
    expect(mautic.contact(m.id)!.dnc).toMatchObject([{ reason: 2 }])
  })

  it("mirrors a one-click unsubscribe as the contact's own (reason 1), through the outbox", async () => {
    const t = await setup()
    const id = await confirmedSubscription(t, 'eve@exemple.fr', ['newsletter'])
    const m = mautic.addContact({ email: 'eve@exemple.fr' })
    t.link(m.id, id)
    const path = new URL(await unsubscribeUrl(t.deps, id, 'newsletter')).pathname
    const res = await t.app.request(path, {
      method: 'POST',
      body: 'List-Unsubscribe=One-Click',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    })
    expect(res.status).toBe(200)
    expect(t.sqlite.prepare("SELECT kind FROM outbox WHERE status = 'pending'").all()).toEqual([
      { kind: 'mautic.mirror' },
    ])
    await t.drain()
    expect(mautic.contact(m.id)!.dnc).toMatchObject([
      {
        channel: 'email',
        reason: 1,
        comments: 'consent-gateway: consent withdrawn by the contact',
      },
    ])
    expect(mautic.contact(m.id)!.fields.consent_newsletter).toBe(0)
  })

  it('loses nothing when Mautic is down for an hour: the outbox drains once it is back', async () => {
    const t = await setup()
    const id = await confirmedSubscription(t, 'eve@exemple.fr', ['newsletter'])
    const m = mautic.addContact({ email: 'eve@exemple.fr' })
    t.link(m.id, id)
    mautic.down(true)
    const path = new URL(await unsubscribeUrl(t.deps, id, 'newsletter')).pathname
    await t.app.request(path, {
      method: 'POST',
      body: 'List-Unsubscribe=One-Click',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    })
    // The withdrawal holds at once; only the call to Mautic waits.
    const gate = api(t.app, await apiKey(t.deps, ['gate']))
    expect((await gate.gate('newsletter', [{ contact_id: id }]))[0]).toMatchObject({
      reason: 'withdrawn',
    })
    let failures = 0
    for (let minute = 0; minute < 60; minute++) {
      failures += (await deliverOutbox(t.deps)).retried
      t.clock.advance(60_000)
    }
    expect(failures).toBeGreaterThan(3)
    const [row] = t.sqlite
      .prepare("SELECT status, attempts FROM outbox WHERE kind = 'mautic.mirror'")
      .all() as any[]
    expect(row.status).toBe('pending')
    mautic.down(false)
    t.clock.advance(3600_000)
    await t.drain()
    expect(
      t.sqlite.prepare("SELECT status FROM outbox WHERE kind = 'mautic.mirror'").all(),
    ).toEqual([{ status: 'done' }])
    expect(mautic.contact(m.id)!.dnc).toMatchObject([{ reason: 1 }])
  })

  it('follows a merged contact to the winner and re-links it', async () => {
    const t = await setup()
    const id = await unconsented(t, 'max@exemple.fr')
    const loser = mautic.addContact({ email: 'max@exemple.fr' })
    const winner = mautic.addContact({ email: 'max@exemple.fr' })
    t.link(loser.id, id)
    mautic.merge(loser.id, winner.id)
    await mirror(t.deps, { contactId: id })
    expect(mautic.contact(winner.id)!.dnc).toMatchObject([{ reason: 3 }])
    expect(t.sqlite.prepare('SELECT external_id FROM contact_links').all()).toEqual([
      { external_id: String(winner.id) },
    ])
  })
})

describe('mirror (MIRROR_MODE=observe)', () => {
  it('writes nothing to Mautic and keeps what it would change', async () => {
    const t = await setup('observe')
    const m = mautic.addContact({ email: 'paul@exemple.fr' })
    const id = await unconsented(t, 'paul@exemple.fr')
    t.link(m.id, id)
    const report = await mirror(t.deps, { contactId: id })
    expect(t.writes()).toEqual([])
    expect(report[String(m.id)]!.map((c) => c.op)).toContain('add_dnc')
    const [row] = t.sqlite.prepare('SELECT pending_changes FROM mautic_mirror').all() as any[]
    expect(JSON.parse(row.pending_changes)).toContainEqual(
      expect.objectContaining({ op: 'add_dnc', reason: 3 }),
    )
  })
})

describe('POST /hooks/mautic/campaign', () => {
  async function campaign(
    t: Awaited<ReturnType<typeof setup>>,
    query: string,
    body: string,
    type = 'application/json',
    key?: string,
  ) {
    const res = await t.app.request(`/hooks/mautic/campaign?${query}`, {
      method: 'POST',
      body,
      headers: { 'Content-Type': type, ...(key ? { 'X-Gateway-Key': key } : {}) },
    })
    return { status: res.status, body: (await res.json()) as any }
  }

  it('answers 401 without a key with the campaign scope', async () => {
    const t = await setup()
    expect((await campaign(t, 'purpose=newsletter', '{}')).status).toBe(401)
    const wrong = await apiKey(t.deps, ['gate'])
    expect((await campaign(t, 'purpose=newsletter', '{}', 'application/json', wrong)).status).toBe(
      403,
    )
  })

  it('mirrors the DNC just in time and answers blocked for a contact without consent', async () => {
    const t = await setup()
    const key = await apiKey(t.deps, ['campaign'])
    const m = mautic.addContact({ email: 'paul@exemple.fr' })
    const r = await campaign(
      t,
      'purpose=newsletter',
      JSON.stringify({ contact_id: String(m.id), email: 'paul@exemple.fr' }),
      'application/json',
      key,
    )
    expect(r).toEqual({ status: 200, body: { decision: 'blocked', reason: 'unknown_contact' } })
    // Mautic's own "Send email" step that follows is now stopped by Mautic itself.
    expect(mautic.contact(m.id)!.dnc).toMatchObject([{ reason: 3 }])
  })

  it('links a new Mautic id by address, allows, and asks Mautic to send the e-mail with the gateway links', async () => {
    const t = await setup()
    const key = await apiKey(t.deps, ['campaign'])
    await confirmedSubscription(t, 'anne@exemple.fr', ['newsletter'])
    const m = mautic.addContact({ email: 'anne@exemple.fr' })
    const r = await campaign(
      t,
      'purpose=newsletter&email_id=12',
      `contact_id=${m.id}&email=anne%40exemple.fr`,
      'application/x-www-form-urlencoded',
      key,
    )
    expect(r.body).toEqual({ decision: 'allowed', reason: null })
    expect(t.sqlite.prepare('SELECT external_id FROM contact_links').all()).toEqual([
      { external_id: String(m.id) },
    ])
    await t.drain()
    expect(mautic.sent).toHaveLength(1)
    expect(mautic.sent[0]).toMatchObject({ emailId: 12, contactId: m.id })
    expect(
      mautic.sent[0]!.tokens['{consent_unsubscribe_url}'] ??
        mautic.sent[0]!.tokens.consent_unsubscribe_url,
    ).toMatch(/^http:\/\/gateway\.test\/u\//)
  })

  it('does not send when blocked, and answers 200 even to a bad request (Mautic would retry hourly)', async () => {
    const t = await setup()
    const key = await apiKey(t.deps, ['campaign'])
    const m = mautic.addContact({ email: 'paul@exemple.fr' })
    const r = await campaign(
      t,
      'purpose=newsletter&email_id=12',
      JSON.stringify({ contact_id: String(m.id) }),
      'application/json',
      key,
    )
    expect(r.body.decision).toBe('blocked')
    await t.drain()
    expect(mautic.sent).toEqual([])
    const bad = await campaign(t, 'email_id=12', '{}', 'application/json', key)
    expect(bad).toMatchObject({
      status: 200,
      body: { decision: 'blocked', reason: 'invalid_request' },
    })
    const unknown = await campaign(
      t,
      'purpose=nope',
      JSON.stringify({ email: 'a@b.fr' }),
      'application/json',
      key,
    )
    expect(unknown).toMatchObject({
      status: 200,
      body: { decision: 'blocked', reason: 'unknown_purpose' },
    })
  })

  it('answers at once when Mautic is down and retries the mirror from the outbox', async () => {
    const t = await setup()
    const key = await apiKey(t.deps, ['campaign'])
    const m = mautic.addContact({ email: 'paul@exemple.fr' })
    mautic.down(true)
    const r = await campaign(
      t,
      'purpose=newsletter',
      JSON.stringify({ contact_id: String(m.id) }),
      'application/json',
      key,
    )
    expect(r).toMatchObject({ status: 200, body: { decision: 'blocked' } })
    expect(t.sqlite.prepare("SELECT kind FROM outbox WHERE status = 'pending'").all()).toEqual([
      { kind: 'mautic.mirror' },
    ])
    mautic.down(false)
    await t.drain()
    expect(mautic.contact(m.id)!.dnc).toMatchObject([{ reason: 3 }])
  })
})

describe('corrections and erasure reach Mautic', () => {
  it('pushes corrected fields under Mautic’s aliases, blanking what the person emptied', async () => {
    const t = await setup()
    const id = await unconsented(t, 'anne@exemple.fr', { first_name: 'Anne' })
    const m = mautic.addContact({
      email: 'anne@exemple.fr',
      fields: { firstname: 'Ane', lastname: 'Old' },
    })
    t.link(m.id, id)
    await t.deps.outboxHandlers['mautic.update']!({ contactId: id })
    const [patch] = mautic.calls('PATCH', `/api/contacts/${m.id}/edit`)
    expect(patch!.body).toMatchObject({ firstname: 'Anne', lastname: '', overwriteWithBlank: true })
    expect(patch!.body).not.toHaveProperty('company') // never held by the gateway: left alone
    expect(mautic.contact(m.id)!.fields).toMatchObject({ firstname: 'Anne', lastname: '' })
  })

  it('pushes corrected fields, but not an address another Mautic contact holds (Mautic would merge them)', async () => {
    const t = await setup()
    const id = await unconsented(t, 'anne@exemple.fr')
    const m = mautic.addContact({ email: 'old@exemple.fr' })
    mautic.addContact({ email: 'anne@exemple.fr' }) // someone else's record with that address
    t.link(m.id, id)
    await t.deps.outboxHandlers['mautic.update']!({ contactId: id })
    const patch = mautic.calls('PATCH', `/api/contacts/${m.id}/edit`)
    expect(patch).toHaveLength(1)
    expect(patch[0]!.body).not.toHaveProperty('email')
  })

  it("does not push an address holding ' that another Mautic contact holds (Mautic escapes where values)", async () => {
    const t = await setup()
    const id = await unconsented(t, "o'brien@exemple.fr")
    const m = mautic.addContact({ email: 'old@exemple.fr' })
    const other = mautic.addContact({ email: "o'brien@exemple.fr" }) // someone else's record
    t.link(m.id, id)
    await t.deps.outboxHandlers['mautic.update']!({ contactId: id })
    const patch = mautic.calls('PATCH', `/api/contacts/${m.id}/edit`)
    expect(patch).toHaveLength(1)
    expect(patch[0]!.body).not.toHaveProperty('email') // else Mautic would merge the two
    expect(mautic.contact(other.id)).toBeDefined()
  })

  it('deletes the Mautic contact on the person’s own erasure', async () => {
    const t = await setup()
    const m = mautic.addContact({ email: 'anne@exemple.fr' })
    await t.deps.outboxHandlers['mautic.delete']!({ mauticId: String(m.id) })
    expect(mautic.contact(m.id)).toBeUndefined()
    // Already gone: nothing to retry.
    await t.deps.outboxHandlers['mautic.delete']!({ mauticId: String(m.id) })
  })
})
