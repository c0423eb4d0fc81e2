// POST /hooks/mautic: signature, limits, parsing, idempotency, withdrawal in the same write, order,
// echoes, and the effects processed from the outbox. Real app, real SQLite, Mautic's real wire format.
import { describe, expect, it } from 'vitest'
import { verifyLedger } from '../../../src/domain/consent/checkpoints.ts'
import { subscribe } from '../../../src/domain/consent/subscriptions.ts'
import { decryptField } from '../../../src/lib/keys.ts'
import { acceptWebhook, INTAKE_SLICE } from '../../../src/mautic/intake.ts'
import { eventAad, readMauticWebhook } from '../../../src/mautic/webhook-read.ts'
import { UNLINK_GRACE_MS } from '../../../src/mautic/process.ts'
import { compactEvent, parseMauticWebhook } from '../../../src/mautic/webhook-payload.ts'
import {
  channelChanged,
  contactFixture,
  emailSent,
  formSubmitted,
  leadDeleted,
  leadSaved,
  mauticTestPayload,
  signMautic,
  webhookBody,
  type EventFixture,
} from '../../fixtures/mautic-webhooks.ts'
import { api, apiKey } from '../../helpers/api.ts'
import { confirmedSubscription } from '../../helpers/consent.ts'
import { API_CONSENT, drainOutbox, TEST_NOW, testApp } from '../../helpers/deps.ts'
import { holdTwoWrites } from '../../helpers/race.ts'

const SECRET = 'b5f1c0e1d2a3948576a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0'

async function setup(env: Record<string, string> = {}) {
  const t = await testApp({ MAUTIC_WEBHOOK_SECRET: SECRET, ...env })
  const client = api(t.app, await apiKey(t.deps, ['gate', 'consents:read']))
  const post = async (body: string, signature?: string | null) => {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(body)),
    }
    const sig = signature === undefined ? await signMautic(body, SECRET) : signature
    if (sig !== null) headers['Webhook-Signature'] = sig
    const res = await t.app.request('/hooks/mautic', { method: 'POST', body, headers })
    return { status: res.status, body: (await res.json()) as any }
  }
  const send = (...events: EventFixture[]) => post(webhookBody(events))
  const rows = (sql: string, ...params: unknown[]) => t.sqlite.prepare(sql).all(...params) as any[]
  const gate = async (purpose: string, email: string) =>
    (await client.gate(purpose, [{ email }]))[0]!
  return { ...t, post, send, rows, gate }
}

const jeanne = (extra: Partial<Parameters<typeof contactFixture>[0]> = {}) =>
  contactFixture({
    id: 42,
    email: 'jeanne.dupont@exemple.fr',
    firstname: 'Jeanne',
    lastname: 'Dupont',
    ...extra,
  })
const drain = (t: { deps: Parameters<typeof drainOutbox>[0] }) => drainOutbox(t.deps)
const T = (minutes: number) => TEST_NOW + minutes * 60_000

describe('POST /hooks/mautic: authenticity and limits', () => {
  it('answers 401 without a signature, with a wrong one, or one made with another secret', async () => {
    const t = await setup()
    const body = webhookBody([leadSaved('new', jeanne(), T(0))])
    expect((await t.post(body, null)).status).toBe(401)
    expect((await t.post(body, 'not-base64')).status).toBe(401)
    expect((await t.post(body, await signMautic(body, 'another-secret'))).status).toBe(401)
    // Signed over other bytes: the same JSON with one more space no longer matches.
    expect((await t.post(body + ' ', await signMautic(body, SECRET))).status).toBe(401)
    expect(t.rows('SELECT * FROM webhook_receipts')).toEqual([])
    expect((await t.post(body)).status).toBe(200)
  })

  it('answers 503 while no webhook secret is configured, and never accepts unsigned events', async () => {
    const t = await testApp()
    const res = await t.app.request('/hooks/mautic', { method: 'POST', body: '{}' })
    expect(res.status).toBe(503)
    expect(((await res.json()) as any).error.code).toBe('not_configured')
  })

  it('answers 400 to a signed body that is not a webhook payload', async () => {
    const t = await setup()
    for (const body of ['not json', '[1,2]', '"x"']) expect((await t.post(body)).status).toBe(400)
  })

  it('accepts a 5 MB body (queue mode batches ten full e-mails) and refuses one over the limit with 413', async () => {
    const t = await setup()
    const events = Array.from({ length: 10 }, (_, i) =>
      emailSent({
        emailId: 3,
        contact: jeanne({ id: 100 + i, email: `c${i}@exemple.fr` }),
        timestamp: T(i),
        bodyBytes: 250_000,
      }),
    )
    const body = webhookBody(events)
    expect(body.length).toBeGreaterThan(5_000_000)
    expect((await t.post(body)).status).toBe(200)
    const element = `{"x":"${'a'.repeat(1024)}"},`
    const huge = `{"mautic.lead_post_save_update":[${element.repeat(9000)}{}]}`
    expect(huge.length).toBeGreaterThan(9_000_000)
    expect((await t.post(huge)).status).toBe(413)
  })
})

describe("POST /hooks/mautic: Mautic's Send test payload", () => {
  it('answers 200 to a signed test delivery, logs it as a successful test, and changes nothing', async () => {
    const t = await setup()
    // An existing gateway contact linked to Mautic id 52: the sample's contact must not be re-linked.
    const anne = await confirmedSubscription(t, 'anne@exemple.fr')
    await t.send(leadSaved('new', contactFixture({ id: 52, email: 'anne@exemple.fr' }), T(0)))
    await drain(t)
    const before = {
      receipts: t.rows('SELECT * FROM webhook_receipts'),
      outbox: t.rows("SELECT * FROM outbox WHERE status = 'pending'"),
      contacts: t.rows('SELECT id FROM contacts'),
      links: t.rows('SELECT * FROM contact_links'),
      events: t.rows('SELECT id FROM consent_events'),
    }
    const r = await t.post(mauticTestPayload(T(5)))
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ test: true, received: 0 })
    expect({
      receipts: t.rows('SELECT * FROM webhook_receipts'),
      outbox: t.rows("SELECT * FROM outbox WHERE status = 'pending'"),
      contacts: t.rows('SELECT id FROM contacts'),
      links: t.rows('SELECT * FROM contact_links'),
      events: t.rows('SELECT id FROM consent_events'),
    }).toEqual(before)
    expect(t.rows("SELECT contact_id FROM contact_links WHERE external_id = '52'")).toEqual([
      { contact_id: anne },
    ])
    expect(t.logs).toContainEqual(
      expect.objectContaining({
        level: 'info',
        msg: expect.stringContaining('Send test payload'),
        types: expect.arrayContaining(['mautic.lead_post_save_new', 'mautic.form_on_submit']),
      }),
    )
    // The button also checks the secret typed in Mautic's form: a wrong one is refused.
    const body = mauticTestPayload(T(6))
    expect((await t.post(body, await signMautic(body, 'typo'))).status).toBe(401)
  })
})

describe('POST /hooks/mautic: large queue-mode batches', () => {
  /** A minimal unsubscribe as queue mode batches them (webhook_limit of thousands). */
  const unsubscribeElement = (id: number) =>
    `{"contact":{"id":${id},"fields":{"core":{"email":{"alias":"email","value":"u${id}@exemple.fr"}}},` +
    `"doNotContact":[{"id":${id},"reason":1,"comments":"User unsubscribed.","channel":"email","channelId":null}]},` +
    `"channel":"email","old_status":"contactable","new_status":"unsubscribed","timestamp":"2026-11-29T09:00:00+00:00"}`
  const batch = (n: number, from = 1) =>
    `{"mautic.lead_channel_subscription_changed":[${Array.from({ length: n }, (_, i) => unsubscribeElement(from + i)).join(',')}]}`

  it('writes a large batch in slices and lets other work run between them', async () => {
    const t = await setup()
    const body = batch(3000)
    const read = await readMauticWebhook(
      t.deps,
      [SECRET],
      new TextEncoder().encode(body),
      await signMautic(body, SECRET),
    )
    if (read.status !== 'ok') throw new Error(read.status)
    // Timers that fire while the batch is written: a stalled process would run none until the end.
    let ticks = 0
    let done = false
    const tick = () => {
      if (done) return
      ticks++
      setTimeout(tick, 0)
    }
    setTimeout(tick, 0)
    const result = await acceptWebhook(t.deps, read.events)
    done = true
    expect(result).toEqual({ received: 3000, duplicates: 0, outcomes: { recorded: 3000 } })
    expect(ticks).toBeGreaterThanOrEqual(3000 / INTAKE_SLICE - 2)
    expect(t.rows('SELECT count(*) AS n FROM webhook_receipts')[0].n).toBe(3000)
    // The same batch again: every event a duplicate, across slices too.
    expect(await acceptWebhook(t.deps, read.events)).toMatchObject({ duplicates: 3000 })
  })

  it('logs a batch over the body limit loudly, with its number of events (Mautic will not send it again)', async () => {
    const t = await setup()
    const body = batch(27_000)
    expect(body.length).toBeGreaterThan(8 * 1024 * 1024)
    expect((await t.post(body)).status).toBe(413)
    expect(t.logs).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: expect.stringContaining('webhook_limit'),
        events: 27_000,
        eventsCounted: 'all',
        bytes: Buffer.byteLength(body),
      }),
    )
    expect(t.rows('SELECT last_refused_reason FROM webhook_health')).toEqual([
      { last_refused_reason: 'payload_too_large' },
    ])
  })
})

describe('POST /hooks/mautic: recording and idempotency', () => {
  it('records each event durably before answering, and the same delivery twice changes nothing', async () => {
    const t = await setup()
    const body = webhookBody([
      leadSaved('new', jeanne(), T(0)),
      ['mautic.company_post_save', { company: { id: 1 }, timestamp: '2026-11-29T09:00:00+00:00' }],
    ])
    const first = await t.post(body)
    expect(first.status).toBe(200)
    expect(first.body).toMatchObject({
      received: 2,
      duplicates: 0,
      outcomes: { queued: 1, ignored: 1 },
    })
    expect(t.rows('SELECT kind FROM outbox')).toEqual([{ kind: 'mautic.event' }])
    // The outbox row holds the event encrypted: no address in clear at rest.
    expect(JSON.stringify(t.rows('SELECT payload FROM outbox'))).not.toContain('jeanne')

    const again = await t.post(body)
    expect(again.body).toMatchObject({ received: 2, duplicates: 2 })
    expect(t.rows('SELECT count(*) AS n FROM outbox')[0].n).toBe(1)
    expect(t.rows('SELECT count(*) AS n FROM webhook_receipts')[0].n).toBe(2)
  })

  it('creates and links the contact from lead_post_save_new, its personal fields encrypted', async () => {
    const t = await setup()
    await t.send(leadSaved('new', jeanne(), T(0)))
    await drain(t)
    const [link] = t.rows(
      "SELECT external_id, contact_id FROM contact_links WHERE system = 'mautic'",
    )
    expect(link.external_id).toBe('42')
    const [contact] = t.rows('SELECT * FROM contacts WHERE id = ?', link.contact_id)
    expect(JSON.stringify(contact)).not.toMatch(/jeanne|Dupont/i)
    expect(t.rows('SELECT outcome FROM webhook_receipts')).toEqual([{ outcome: 'recorded' }])
    // Never a consent: a Mautic contact without proof stays refused by the gate.
    expect(await t.gate('newsletter', 'jeanne.dupont@exemple.fr')).toMatchObject({
      allowed: false,
      reason: 'no_consent',
    })
  })

  it('follows an address change: the Mautic id is linked to the contact of the new address', async () => {
    const t = await setup()
    await t.send(leadSaved('new', jeanne(), T(0)))
    await t.send(leadSaved('update', jeanne({ email: 'j.dupont@exemple.fr' }), T(1)))
    await drain(t)
    const contacts = t.rows('SELECT id FROM contacts')
    expect(contacts).toHaveLength(2)
    const [link] = t.rows("SELECT contact_id FROM contact_links WHERE external_id = '42'")
    const client = api(t.app, await apiKey(t.deps, ['gate']))
    const byMautic = (await client.gate('newsletter', [{ mautic_id: 42 }]))[0]
    expect(byMautic).toMatchObject({ allowed: false })
    expect(contacts.map((c: any) => c.id)).toContain(link.contact_id)
  })

  it('records each event of a queue-mode batch, and knows each one again in another batch', async () => {
    const t = await setup()
    const anne = contactFixture({ id: 43, email: 'anne@exemple.fr', firstname: 'Anne' })
    const paul = contactFixture({ id: 44, email: 'paul@exemple.fr', firstname: 'Paul' })
    const events = [
      leadSaved('update', jeanne(), T(0)),
      leadSaved('update', anne, T(0)),
      leadSaved('new', paul, T(1)),
    ]
    expect((await t.send(...events)).body).toEqual({
      received: 3,
      duplicates: 0,
      outcomes: { queued: 3 },
    })
    const rows = t.rows('SELECT ordering_key, payload FROM outbox ORDER BY id')
    expect(rows.map((r) => r.ordering_key)).toEqual(['mautic:42', 'mautic:43', 'mautic:44'])
    // Each row holds its own event, encrypted under its receipt key, exactly as parsed.
    const parsed = parseMauticWebhook(webhookBody(events))
    for (const [i, row] of rows.entries()) {
      const { key, event } = JSON.parse(row.payload)
      const plain = await decryptField(t.deps.keys, event, eventAad(key))
      expect(plain).toBe(compactEvent(parsed[i]!))
      expect(t.rows('SELECT outcome FROM webhook_receipts WHERE key = ?', key)).toEqual([
        { outcome: 'queued' },
      ])
    }
    // Mautic re-batches a failed queue: the same events with a new one, in another order.
    const again = await t.send(events[2]!, leadSaved('update', anne, T(2)), events[0]!)
    expect(again.body).toEqual({ received: 3, duplicates: 2, outcomes: { queued: 1 } })
    expect(t.rows('SELECT count(*) AS n FROM outbox')[0].n).toBe(4)
  })

  it('queues an event once when two copies are written at the same moment', async () => {
    const t = await setup()
    const body = webhookBody([leadSaved('update', jeanne(), T(0))])
    // Both requests look the receipt up before either writes (as in one group commit on Node, or
    // two isolates on D1): the second write must fail whole and be answered as a duplicate.
    holdTwoWrites(t.deps)
    const answers = await Promise.all([t.post(body), t.post(body)])
    expect(answers.map((a) => a.status)).toEqual([200, 200])
    expect(answers.map((a) => a.body.duplicates).sort()).toEqual([0, 1])
    expect(t.rows('SELECT count(*) AS n FROM outbox')[0].n).toBe(1)
    expect(t.rows('SELECT count(*) AS n FROM webhook_receipts')[0].n).toBe(1)
  })

  it('records unknown event types and ignores them', async () => {
    const t = await setup()
    const r = await t.send([
      'mautic.something_new',
      { foo: 1, timestamp: '2026-11-29T09:00:00+00:00' },
    ])
    expect(r.body.outcomes).toEqual({ ignored: 1 })
    expect(t.rows('SELECT event_type, outcome FROM webhook_receipts')).toEqual([
      { event_type: 'mautic.something_new', outcome: 'ignored' },
    ])
  })
})

describe('POST /hooks/mautic: withdrawals', () => {
  it('applies an unsubscribe in the same write: the gate refuses the moment Mautic has its answer', async () => {
    const t = await setup()
    await confirmedSubscription(t, 'jeanne.dupont@exemple.fr')
    expect(await t.gate('newsletter', 'jeanne.dupont@exemple.fr')).toMatchObject({ allowed: true })
    t.clock.advance(60_000)
    const unsubscribed = jeanne({ dnc: [{ reason: 1, comments: 'User unsubscribed.' }] })
    const r = await t.send(
      channelChanged(
        unsubscribed,
        { channel: 'email', oldStatus: 'contactable', newStatus: 'unsubscribed' },
        T(1),
      ),
      leadSaved('update', unsubscribed, T(1)),
    )
    expect(r.body.outcomes).toMatchObject({ applied: 1, queued: 1 })
    // No outbox delivery yet: the withdrawal is already in the ledger.
    expect(await t.gate('newsletter', 'jeanne.dupont@exemple.fr')).toMatchObject({
      allowed: false,
      reason: 'withdrawn',
    })
    expect(await t.gate('email_marketing', 'jeanne.dupont@exemple.fr')).toMatchObject({
      reason: 'withdrawn',
    })
    const events = t.rows(
      "SELECT purpose_key, method, actor FROM consent_events WHERE action = 'withdrawn' ORDER BY purpose_key",
    )
    expect(events).toEqual([
      { purpose_key: 'email_marketing', method: 'mautic_unsubscribe', actor: 'mautic' },
      { purpose_key: 'newsletter', method: 'mautic_unsubscribe', actor: 'mautic' },
    ])
    // The accompanying update, processed later, records nothing twice.
    await drain(t)
    expect(t.rows("SELECT count(*) AS n FROM consent_events WHERE action = 'withdrawn'")[0].n).toBe(
      2,
    )
  })

  it('records an unsubscribe delivered twice once, and the chain goes on unbroken after the copy', async () => {
    const t = await setup()
    await confirmedSubscription(t, 'jeanne.dupont@exemple.fr')
    t.clock.advance(60_000)
    const unsubscribed = jeanne({ dnc: [{ reason: 1, comments: 'User unsubscribed.' }] })
    const body = webhookBody([
      channelChanged(
        unsubscribed,
        { channel: 'email', oldStatus: 'contactable', newStatus: 'unsubscribed' },
        T(1),
      ),
    ])
    expect((await t.post(body)).body).toMatchObject({ duplicates: 0, outcomes: { applied: 1 } })
    // The copy is first written as new (no look-up), fails on its receipt, and is taken again.
    expect((await t.post(body)).body).toEqual({ received: 1, duplicates: 1, outcomes: {} })
    const withdrawn = "SELECT count(*) AS n FROM consent_events WHERE action = 'withdrawn'"
    expect(t.rows(withdrawn)[0].n).toBe(2)
    // The failed copy took no place in the chain: the next change extends it where the first left it.
    t.clock.advance(60_000)
    const granted = await subscribe(t.deps, {
      ...API_CONSENT,
      email: 'jeanne.dupont@exemple.fr',
      purposes: ['cookies'],
    })
    expect(granted.ok).toBe(true)
    expect(await t.gate('cookies', 'jeanne.dupont@exemple.fr')).toMatchObject({ allowed: true })
    expect(t.rows('SELECT seq FROM consent_events ORDER BY seq').map((r) => r.seq)).toEqual([
      1, 2, 3, 4, 5, 6, 7,
    ])
    expect(await verifyLedger(t.deps)).toMatchObject({ ok: true, problems: [] })
  })

  it('does not let a late unsubscribe undo a double opt-in confirmed after it', async () => {
    const t = await setup()
    t.clock.advance(2 * 3600_000)
    await confirmedSubscription(t, 'jeanne.dupont@exemple.fr')
    // Queue mode delivers, two hours late, an unsubscribe made before the confirmation.
    const r = await t.send(
      channelChanged(
        jeanne({ dnc: [{ reason: 1 }] }),
        { channel: 'email', oldStatus: 'contactable', newStatus: 'unsubscribed' },
        T(5),
      ),
    )
    expect(r.body.outcomes).toEqual({ stale: 1 })
    expect(await t.gate('newsletter', 'jeanne.dupont@exemple.fr')).toMatchObject({ allowed: true })
    expect(t.rows('SELECT outcome FROM webhook_receipts')).toEqual([{ outcome: 'stale' }])
  })

  it('withdraws on an unsubscribe dated the same second as the confirmation (Mautic times are whole seconds)', async () => {
    const t = await setup()
    t.clock.advance(500) // the confirmation lands half-way through a second
    await confirmedSubscription(t, 'jeanne.dupont@exemple.fr')
    const granted = t.rows("SELECT changed_at FROM consent_state WHERE purpose_key = 'newsletter'")
    expect(granted).toEqual([{ changed_at: TEST_NOW + 500 }])
    // Mautic stamps the unsubscribe with that same second (PHP 'c': no milliseconds).
    const r = await t.send(
      channelChanged(
        jeanne({ dnc: [{ reason: 1, comments: 'User unsubscribed.' }] }),
        { channel: 'email', oldStatus: 'contactable', newStatus: 'unsubscribed' },
        TEST_NOW,
      ),
    )
    expect(r.body.outcomes).toEqual({ applied: 1 })
    expect(await t.gate('newsletter', 'jeanne.dupont@exemple.fr')).toMatchObject({
      allowed: false,
      reason: 'withdrawn',
    })
    // Dated no earlier than the grant it undoes: the ledger's times stay in order.
    const [w] = t.rows("SELECT occurred_at FROM consent_events WHERE action = 'withdrawn' LIMIT 1")
    expect(w.occurred_at).toBe(TEST_NOW + 500)
    // One whole second later, the grant is surely after the signal: that one is stale.
    const t2 = await setup()
    t2.clock.advance(1000)
    await confirmedSubscription(t2, 'jeanne.dupont@exemple.fr')
    const late = await t2.send(
      channelChanged(
        jeanne({ dnc: [{ reason: 1 }] }),
        { channel: 'email', oldStatus: 'contactable', newStatus: 'unsubscribed' },
        TEST_NOW,
      ),
    )
    expect(late.body.outcomes).toEqual({ stale: 1 })
  })

  it("withdraws push purposes on a Mautic push unsubscribe (channel 'notification' or 'mobile_notification')", async () => {
    const t = await setup()
    const subscribed = await subscribe(t.deps, {
      ...API_CONSENT,
      email: 'jeanne.dupont@exemple.fr',
      purposes: ['push_notifications'],
    })
    expect(subscribed.ok).toBe(true)
    expect(await t.gate('push_notifications', 'jeanne.dupont@exemple.fr')).toMatchObject({
      allowed: true,
    })
    t.clock.advance(60_000)
    const r = await t.send(
      channelChanged(
        jeanne({ dnc: [{ reason: 1, channel: 'notification' }] }),
        { channel: 'notification', oldStatus: 'contactable', newStatus: 'unsubscribed' },
        T(1),
      ),
    )
    expect(r.body.outcomes).toEqual({ applied: 1 })
    expect(await t.gate('push_notifications', 'jeanne.dupont@exemple.fr')).toMatchObject({
      reason: 'withdrawn',
    })

    // The mobile variant, seen only on a contact update (its channel-change event lost).
    const t2 = await setup()
    await subscribe(t2.deps, {
      ...API_CONSENT,
      email: 'jeanne.dupont@exemple.fr',
      purposes: ['push_notifications'],
    })
    await t2.send(leadSaved('new', jeanne(), T(0)))
    await drain(t2)
    t2.clock.advance(60_000)
    await t2.send(
      leadSaved('update', jeanne({ dnc: [{ reason: 1, channel: 'mobile_notification' }] }), T(1)),
    )
    await drain(t2)
    expect(await t2.gate('push_notifications', 'jeanne.dupont@exemple.fr')).toMatchObject({
      reason: 'withdrawn',
    })
  })

  it("recognises the gateway's own DNC coming back and does not act on it", async () => {
    const t = await setup()
    await confirmedSubscription(t, 'jeanne.dupont@exemple.fr')
    const echo = jeanne({
      dnc: [{ reason: 3, comments: 'consent-gateway: no valid consent for e-mail' }],
    })
    const r = await t.send(
      channelChanged(
        echo,
        { channel: 'email', oldStatus: 'contactable', newStatus: 'manual' },
        T(1),
      ),
    )
    expect(r.body.outcomes).toEqual({ echo: 1 })
    expect(await t.gate('newsletter', 'jeanne.dupont@exemple.fr')).toMatchObject({ allowed: true })
  })

  it('withdraws when a consent field is switched off in Mautic, but never grants from one', async () => {
    const t = await setup()
    await t.send(leadSaved('new', jeanne({ extraFields: { consent_newsletter: true } }), T(0)))
    await drain(t)
    expect(await t.gate('newsletter', 'jeanne.dupont@exemple.fr')).toMatchObject({
      allowed: false,
      reason: 'no_consent',
    })
    expect(t.rows('SELECT kind, mautic_id, purpose_key FROM compliance_findings')).toEqual([
      { kind: 'unproven_consent_claim', mautic_id: '42', purpose_key: 'newsletter' },
    ])

    // Enforce mode, where the gateway wrote `consent_newsletter = true` into Mautic: someone in Mautic
    // switching it off is a withdrawal.
    const other = await setup({ MIRROR_MODE: 'enforce' })
    await confirmedSubscription(other, 'jeanne.dupont@exemple.fr')
    other.sqlite
      .prepare(
        `INSERT INTO mautic_mirror (mautic_id, mirrored_state) VALUES ('42', '{"allowed":["newsletter","email_marketing"],"block":false}')`,
      )
      .run()
    other.clock.advance(60_000)
    await other.send(
      leadSaved(
        'update',
        jeanne({ extraFields: { consent_newsletter: false } }),
        other.clock.now(),
      ),
    )
    await drain(other)
    expect(await other.gate('newsletter', 'jeanne.dupont@exemple.fr')).toMatchObject({
      reason: 'withdrawn',
    })
    expect(await other.gate('email_marketing', 'jeanne.dupont@exemple.fr')).toMatchObject({
      allowed: true,
    })
  })

  it('does not take a false consent field the gateway never wrote for a withdrawal (observe mode, a default)', async () => {
    const t = await setup()
    await confirmedSubscription(t, 'jeanne.dupont@exemple.fr')
    t.clock.advance(60_000)
    await t.send(
      leadSaved('update', jeanne({ extraFields: { consent_newsletter: false } }), t.clock.now()),
    )
    await drain(t)
    expect(await t.gate('newsletter', 'jeanne.dupont@exemple.fr')).toMatchObject({ allowed: true })
  })

  it('keeps the Mautic link of a contact who objected (still ours, suppressed but active)', async () => {
    const t = await setup()
    const id = await confirmedSubscription(t, 'jeanne.dupont@exemple.fr')
    await t.send(leadSaved('update', jeanne(), T(1)))
    await drain(t)
    const { objectToMarketing } = await import('../../../src/domain/rights/objection.ts')
    await objectToMarketing(t.deps, id, {
      method: 'objection',
      source: 'test',
      actor: 'contact',
      evidence: {},
    })
    t.clock.advance(60_000)
    await t.send(leadSaved('update', jeanne({ firstname: 'Jeanne-Marie' }), t.clock.now()))
    await drain(t)
    expect(t.rows('SELECT external_id, contact_id FROM contact_links')).toEqual([
      { external_id: '42', contact_id: id },
    ])
    expect(await t.gate('newsletter', 'jeanne.dupont@exemple.fr')).toMatchObject({ allowed: false })
  })

  it('flags a bounce without withdrawing', async () => {
    const t = await setup()
    await confirmedSubscription(t, 'jeanne.dupont@exemple.fr')
    await t.send(
      channelChanged(
        jeanne({ dnc: [{ reason: 2 }] }),
        { channel: 'email', oldStatus: 'contactable', newStatus: 'bounced' },
        T(1),
      ),
    )
    await drain(t)
    expect(t.rows('SELECT kind FROM compliance_findings')).toEqual([{ kind: 'bounced' }])
    expect(await t.gate('newsletter', 'jeanne.dupont@exemple.fr')).toMatchObject({ allowed: true })
  })
})

describe('POST /hooks/mautic: forms, sends and deletions', () => {
  async function mapForm(t: Awaited<ReturnType<typeof setup>>) {
    t.sqlite
      .prepare(
        "INSERT INTO mautic_form_fields VALUES ('7', 'newsletter_optin', 'newsletter', 1, 'fr', 0)",
      )
      .run()
  }

  it('captures a mapped form box as a consent request with its evidence, then the double opt-in mail', async () => {
    const t = await setup()
    await mapForm(t)
    await t.send(
      formSubmitted({
        submissionId: 901,
        formId: 7,
        formAlias: 'inscription',
        contact: jeanne(),
        results: { email: 'jeanne.dupont@exemple.fr', newsletter_optin: '1' },
        ip: '203.0.113.7',
        referer: 'https://www.exemple.fr/inscription',
        timestamp: T(0),
      }),
    )
    await drain(t) // the event, then its confirmation mail
    expect(await t.gate('newsletter', 'jeanne.dupont@exemple.fr')).toMatchObject({
      reason: 'pending_confirmation',
    })
    expect(t.mail.sent.map((m) => m.to)).toEqual(['jeanne.dupont@exemple.fr'])
    const [event] = t.rows('SELECT source, method, action FROM consent_events')
    expect(event).toEqual({ source: 'mautic-form:7', method: 'form', action: 'requested' })
    const proof = await api(t.app, await apiKey(t.deps, ['consents:read'])).get(
      '/api/v1/contacts/jeanne.dupont@exemple.fr/consents',
    )
    const evidence = JSON.stringify(proof.body)
    expect(evidence).toContain('203.0.113.7')
    expect(evidence).toContain('https://www.exemple.fr/inscription')
    expect(t.rows('SELECT external_id FROM contact_links')).toEqual([{ external_id: '42' }])
  })

  it('records an unmapped form or an unticked box and asks nothing', async () => {
    const t = await setup()
    await mapForm(t)
    await t.send(
      formSubmitted({
        submissionId: 902,
        formId: 7,
        formAlias: 'inscription',
        contact: jeanne(),
        results: { email: 'jeanne.dupont@exemple.fr', newsletter_optin: '' },
        ip: '203.0.113.7',
        referer: 'x',
        timestamp: T(0),
      }),
      formSubmitted({
        submissionId: 903,
        formId: 8,
        formAlias: 'contact',
        contact: jeanne(),
        results: { email: 'jeanne.dupont@exemple.fr', newsletter_optin: '1' },
        ip: '203.0.113.7',
        referer: 'x',
        timestamp: T(1),
      }),
    )
    await drain(t)
    expect(t.rows('SELECT count(*) AS n FROM consent_events')[0].n).toBe(0)
    expect(t.mail.sent).toEqual([])
  })

  it('turns a marketing send without consent into a compliance finding', async () => {
    const t = await setup()
    await confirmedSubscription(t, 'anne@exemple.fr')
    const anne = contactFixture({ id: 7, email: 'anne@exemple.fr' })
    await t.send(
      emailSent({ emailId: 3, contact: jeanne(), timestamp: T(0) }),
      emailSent({ emailId: 3, contact: anne, timestamp: T(0) }),
    )
    await drain(t)
    const findings = t.rows('SELECT kind, mautic_id, purpose_key, details FROM compliance_findings')
    expect(findings).toHaveLength(1)
    expect(findings[0]).toMatchObject({
      kind: 'send_without_consent',
      mautic_id: '42',
      purpose_key: 'email_marketing',
    })
    expect(JSON.parse(findings[0].details)).toMatchObject({
      email_id: 3,
      reason: 'unknown_contact',
    })
  })

  it('does not count a transactional send (no List-Unsubscribe) as a marketing send', async () => {
    const t = await setup()
    await t.send(emailSent({ emailId: 9, contact: jeanne(), timestamp: T(0), transactional: true }))
    await drain(t)
    expect(t.rows('SELECT * FROM compliance_findings')).toEqual([])
  })

  it('uses the e-mail mapping to find the purpose a send was for', async () => {
    const t = await setup()
    await confirmedSubscription(t, 'anne@exemple.fr', ['email_marketing'])
    t.sqlite
      .prepare("INSERT INTO mautic_email_purposes VALUES ('email', '5', 'newsletter', 0)")
      .run()
    await t.send(
      emailSent({
        emailId: 5,
        contact: contactFixture({ id: 7, email: 'anne@exemple.fr' }),
        timestamp: T(0),
      }),
    )
    await drain(t)
    expect(t.rows('SELECT purpose_key FROM compliance_findings')).toEqual([
      { purpose_key: 'newsletter' },
    ])
  })

  it('unlinks a deleted Mautic contact and schedules nothing while another Mautic contact is linked', async () => {
    const t = await setup()
    await t.send(leadSaved('new', jeanne(), T(0)), leadSaved('new', jeanne({ id: 43 }), T(0)))
    await drain(t)
    expect(t.rows('SELECT external_id FROM contact_links ORDER BY external_id')).toEqual([
      { external_id: '42' },
      { external_id: '43' },
    ])
    await t.send(leadDeleted(43, undefined, T(1)))
    await drain(t)
    expect(t.rows('SELECT external_id FROM contact_links')).toEqual([{ external_id: '42' }])
    expect(t.rows("SELECT count(*) AS n FROM outbox WHERE kind = 'mautic.orphan'")[0].n).toBe(0)
    expect(t.rows('SELECT count(*) AS n FROM suppressions')[0].n).toBe(0)

    await t.send(leadDeleted(42, undefined, T(2)))
    await drain(t)
    const [orphan] = t.rows(
      "SELECT next_attempt_at, status, ordering_key FROM outbox WHERE kind = 'mautic.orphan'",
    )
    expect(orphan).toEqual({
      next_attempt_at: t.clock.now() + UNLINK_GRACE_MS,
      status: 'pending',
      ordering_key: null, // a message due in a week must hold back none of the contact's others
    })
  })
})

describe('POST /hooks/mautic: a Mautic deletion after the grace period', () => {
  async function deleted() {
    const t = await setup()
    await confirmedSubscription(t, 'jeanne.dupont@exemple.fr')
    await t.send(leadSaved('update', jeanne(), T(1)))
    await drain(t)
    await t.send(leadDeleted(42, undefined, T(2)))
    await drain(t)
    return t
  }

  it('erases the personal data, without a suppression, when nothing re-linked the person', async () => {
    const t = await deleted()
    t.clock.advance(UNLINK_GRACE_MS + 1)
    await drain(t)
    const [contact] = t.rows('SELECT status, email_enc, data_key_enc FROM contacts')
    expect(contact).toEqual({ status: 'erased', email_enc: null, data_key_enc: null })
    expect(t.rows('SELECT count(*) AS n FROM suppressions')[0].n).toBe(0)
    expect(t.rows("SELECT method FROM consent_events WHERE action = 'erased'")).not.toEqual([])
  })

  it('keeps the person when a merge re-linked another Mautic contact within the grace period', async () => {
    const t = await deleted()
    t.clock.advance(60_000)
    await t.send(leadSaved('update', jeanne({ id: 77 }), t.clock.now()))
    await drain(t)
    t.clock.advance(UNLINK_GRACE_MS)
    await drain(t)
    expect(t.rows('SELECT status FROM contacts')).toEqual([{ status: 'active' }])
    expect(await t.gate('newsletter', 'jeanne.dupont@exemple.fr')).toMatchObject({ allowed: true })
  })
})
