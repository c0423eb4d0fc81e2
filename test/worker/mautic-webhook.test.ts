// POST /hooks/mautic on Workers/D1: the same checks as test/node/mautic-webhook.test.ts (signature,
// parsing, durable recording, idempotency, a withdrawal applied in the same write, late events and
// echoes), and the event processed from the outbox by the worker's cron trigger.
// The webhook secret is not a miniflare binding: the app is built by the worker's own `forEnv` over
// the test env plus MAUTIC_WEBHOOK_SECRET. Requests get no execution context, so nothing is delivered
// behind the test's back: the outbox moves only when a test drains it or fires `scheduled`.
import {
  createExecutionContext,
  createScheduledController,
  env,
  SELF,
  waitOnExecutionContext,
} from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { createApiKey } from '../../src/domain/platform/api-keys.ts'
import { deliverOutbox } from '../../src/domain/platform/outbox.ts'
import { decryptField } from '../../src/lib/keys.ts'
import { mailLogAad } from '../../src/runtime/worker/mail.ts'
import worker from '../../src/worker.ts'
import { forEnv } from '../../src/runtime/worker/deps.ts'
import {
  channelChanged,
  contactFixture,
  leadSaved,
  signMautic,
  webhookBody,
  type EventFixture,
} from '../fixtures/mautic-webhooks.ts'
import { holdTwoWrites } from '../helpers/race.ts'

const BASE = 'https://gateway.test'
const SECRET = 'b5f1c0e1d2a3948576a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0'
/** One object for the whole file: `forEnv` builds its deps once per environment object. */
const ENV = { ...env, MAUTIC_WEBHOOK_SECRET: SECRET }

async function setup() {
  const { app, deps } = await forEnv(ENV)
  const created = await createApiKey(deps, {
    name: 'w-mautic-hook',
    scopes: ['subscribe', 'gate'],
  })
  if (!created.ok) throw new Error(created.error)
  const request = (path: string, init: RequestInit) => app.request(`${BASE}${path}`, init, ENV)
  const post = async (body: string, signature?: string | null) => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' }
    const sig = signature === undefined ? await signMautic(body, SECRET) : signature
    if (sig !== null) headers['Webhook-Signature'] = sig
    const res = await request('/hooks/mautic', { method: 'POST', body, headers })
    return { status: res.status, body: (await res.json()) as Record<string, any> }
  }
  const send = (...events: EventFixture[]) => post(webhookBody(events))
  const call = async (path: string, body: unknown) => {
    const res = await request(path, {
      method: 'POST',
      headers: { Authorization: `Bearer ${created.key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    })
    return { status: res.status, body: (await res.json()) as Record<string, any> }
  }
  const gate = async (purpose: string, email: string) =>
    (await call('/api/v1/gate', { purpose, contacts: [{ email }] })).body.results[0]
  /** Delivers until nothing is due (one message per ordering key per round). */
  const drain = async () => {
    while ((await deliverOutbox(deps)).delivered > 0);
  }
  /** Subscribes, takes the link from the confirmation mail in D1's mail_log, POSTs it. */
  const confirmedSubscription = async (email: string) => {
    const sub = await call('/api/v1/subscriptions', {
      email,
      purposes: ['newsletter', 'email_marketing'],
      locale: 'en',
      evidence: { ip: '203.0.113.9' },
    })
    expect(sub.status).toBe(202)
    await drain()
    const rows = await deps.db
      .selectFrom('mail_log')
      .select(['id', 'message'])
      .orderBy('created_at', 'desc')
      .execute()
    let text: string | undefined
    for (const row of rows) {
      const m = JSON.parse(
        await decryptField(deps.keys, row.message, mailLogAad(row.id, 'message')),
      )
      if (m.to === email) {
        text = m.text
        break
      }
    }
    const confirmUrl = text?.match(/https:\/\/gateway\.test(\/c\/\S+)/)?.[1]
    if (!confirmUrl) throw new Error('no confirmation mail in mail_log')
    const confirmed = await request(confirmUrl, {
      method: 'POST',
      headers: { 'CF-Connecting-IP': '203.0.113.10' },
    })
    expect(confirmed.status).toBe(200)
    expect(await gate('newsletter', email)).toMatchObject({ allowed: true })
    return sub.body.contact_id as string
  }
  return { deps, post, send, gate, drain, confirmedSubscription }
}

// D1 is shared by the tests of this file: each uses its own Mautic id and address, and reads its rows only.
const all = async <T>(sql: string, ...params: unknown[]) =>
  (
    await env.DB.prepare(sql)
      .bind(...params)
      .all<T>()
  ).results
const receiptsOf = (mauticId: number) =>
  all<{ key: string; event_type: string; outcome: string }>(
    'SELECT key, event_type, outcome FROM webhook_receipts WHERE key LIKE ? ORDER BY key',
    `%:${mauticId}:%`,
  )
const outboxOf = (mauticId: number) =>
  all<{ kind: string; status: string; payload: string }>(
    'SELECT kind, status, payload FROM outbox WHERE ordering_key = ? ORDER BY id',
    `mautic:${mauticId}`,
  )

const person = (
  id: number,
  email: string,
  extra: Partial<Parameters<typeof contactFixture>[0]> = {},
) => contactFixture({ id, email, firstname: 'Jeanne', lastname: 'Dupont', ...extra })

describe('POST /hooks/mautic on D1: authenticity', () => {
  it('answers 401 without a signature, with a wrong one, or one made with another secret', async () => {
    const t = await setup()
    const body = webhookBody([leadSaved('new', person(4101, 'w.sig@exemple.fr'), Date.now())])
    expect((await t.post(body, null)).status).toBe(401)
    expect((await t.post(body, 'not-base64')).status).toBe(401)
    const other = await t.post(body, await signMautic(body, 'another-secret'))
    expect(other.status).toBe(401)
    expect(other.body.error.code).toBe('invalid_signature')
    expect((await t.post(body + ' ', await signMautic(body, SECRET))).status).toBe(401)
    expect(await receiptsOf(4101)).toEqual([])
    expect(await outboxOf(4101)).toEqual([])
    expect((await t.post(body)).status).toBe(200)
  })

  it('answers 400 to a signed body that is not a webhook payload, and records nothing', async () => {
    const t = await setup()
    const before = await all<{ n: number }>('SELECT count(*) AS n FROM webhook_receipts')
    for (const body of ['not json', '[1,2]', '"x"']) {
      const r = await t.post(body)
      expect(r.status).toBe(400)
      expect(r.body.error.code).toBe('invalid_payload')
    }
    expect(await all('SELECT count(*) AS n FROM webhook_receipts')).toEqual(before)
  })
})

describe('POST /hooks/mautic on D1: hostile bodies', () => {
  /** Signed bytes, posted as they are (the corpus itself is walked by the Node test). */
  const postBytes = async (body: Uint8Array<ArrayBuffer>) => {
    const { app } = await forEnv(ENV)
    const key = await crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(SECRET),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    )
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, body))
    const res = await app.request(
      `${BASE}/hooks/mautic`,
      {
        method: 'POST',
        body,
        headers: {
          'Content-Type': 'application/json',
          'Webhook-Signature': btoa(String.fromCharCode(...mac)),
        },
      },
      ENV,
    )
    return { status: res.status, body: (await res.json()) as Record<string, any> }
  }

  it('answers 400 to a body nested 20,000 levels deep and to invalid UTF-8, and keeps serving', async () => {
    const t = await setup()
    const deep = `{"mautic.lead_post_save_update":[{"contact":{"id":4150,"fields":${'['.repeat(20_000)}${']'.repeat(20_000)}}}]}`
    const nested = await postBytes(new TextEncoder().encode(deep))
    expect(nested.status).toBe(400)
    expect(nested.body.error.message).toContain('nests deeper')
    const valid = webhookBody([leadSaved('new', person(4151, 'w.utf8@exemple.fr'), Date.now())])
    const bytes = new TextEncoder().encode(valid)
    const at = valid.indexOf('w.utf8@')
    bytes[at + 1] = 0xc3 // "w\xC3" then "u": not UTF-8
    const bad = await postBytes(bytes)
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toBe('the body is not valid UTF-8')
    expect(await receiptsOf(4150)).toEqual([])
    expect(await receiptsOf(4151)).toEqual([])
    expect((await SELF.fetch(`${BASE}/healthz`)).status).toBe(200)
    expect(
      (await t.send(leadSaved('new', person(4151, 'w.utf8@exemple.fr'), Date.now()))).status,
    ).toBe(200)
  })
})

describe('POST /hooks/mautic on D1: recording and idempotency', () => {
  it('records lead_post_save_new durably (receipt, encrypted outbox row); the cron trigger creates and links the contact', async () => {
    const t = await setup()
    const r = await t.send(leadSaved('new', person(4201, 'w.new@exemple.fr'), Date.now()))
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ received: 1, duplicates: 0, outcomes: { queued: 1 } })
    expect(await receiptsOf(4201)).toEqual([
      expect.objectContaining({ event_type: 'mautic.lead_post_save_new', outcome: 'queued' }),
    ])
    const queued = await outboxOf(4201)
    expect(queued.map((o) => [o.kind, o.status])).toEqual([['mautic.event', 'pending']])
    expect(JSON.stringify(queued)).not.toMatch(/w\.new|Dupont/i)
    expect(await all("SELECT 1 FROM contact_links WHERE external_id = '4201'")).toEqual([])

    const ctx = createExecutionContext()
    await worker.scheduled(createScheduledController({ cron: '* * * * *' }), ENV, ctx)
    await waitOnExecutionContext(ctx)

    expect((await outboxOf(4201))[0]).toMatchObject({ kind: 'mautic.event', status: 'done' })
    const links = await all<{ system: string; contact_id: string }>(
      "SELECT system, contact_id FROM contact_links WHERE external_id = '4201'",
    )
    expect(links).toEqual([{ system: 'mautic', contact_id: expect.any(String) }])
    const contact = await all('SELECT * FROM contacts WHERE id = ?', links[0]!.contact_id)
    expect(contact).toHaveLength(1)
    expect(JSON.stringify(contact)).not.toMatch(/w\.new|Jeanne|Dupont/i)
    expect((await receiptsOf(4201))[0]!.outcome).toBe('recorded')
    // Never a consent: a Mautic contact without proof stays refused by the gate.
    expect(await t.gate('newsletter', 'w.new@exemple.fr')).toMatchObject({
      allowed: false,
      reason: 'no_consent',
    })
  })

  it('the same delivery twice changes nothing the second time', async () => {
    const t = await setup()
    const body = webhookBody([
      leadSaved('new', person(4301, 'w.dup@exemple.fr'), Date.now()),
      ['mautic.company_post_save', { company: { id: 1 }, timestamp: '2026-11-29T09:00:00+00:00' }],
    ])
    const first = await t.post(body)
    expect(first.body).toEqual({ received: 2, duplicates: 0, outcomes: { queued: 1, ignored: 1 } })
    const receipts = await all<{ n: number }>('SELECT count(*) AS n FROM webhook_receipts')
    const outbox = await all<{ n: number }>('SELECT count(*) AS n FROM outbox')

    const again = await t.post(body)
    expect(again.status).toBe(200)
    expect(again.body).toEqual({ received: 2, duplicates: 2, outcomes: {} })
    expect(await outboxOf(4301)).toHaveLength(1)
    expect(await all('SELECT count(*) AS n FROM outbox')).toEqual(outbox)
    expect(await all('SELECT count(*) AS n FROM webhook_receipts')).toEqual(receipts)
  })
})

describe('POST /hooks/mautic on D1: two copies at once', () => {
  it('queues the event once when both copies looked the receipt up before either wrote', async () => {
    const t = await setup()
    const body = webhookBody([leadSaved('update', person(4302, 'w.race@exemple.fr'), Date.now())])
    // Two isolates can race like this: D1 must refuse the second receipt, and the intake take the
    // body again as a duplicate (the error text is what tells that race apart).
    const undo = holdTwoWrites(t.deps)
    try {
      const answers = await Promise.all([t.post(body), t.post(body)])
      expect(answers.map((a) => a.status)).toEqual([200, 200])
      expect(answers.map((a) => a.body.duplicates).sort()).toEqual([0, 1])
    } finally {
      undo()
    }
    expect(await outboxOf(4302)).toHaveLength(1)
    expect(await receiptsOf(4302)).toHaveLength(1)
  })
})

describe('POST /hooks/mautic on D1: withdrawals', () => {
  const unsubscribe = (id: number, email: string, at: number, comments = 'User unsubscribed.') =>
    channelChanged(
      person(id, email, { dnc: [{ reason: 1, comments }] }),
      { channel: 'email', oldStatus: 'contactable', newStatus: 'unsubscribed' },
      at,
    )

  it('applies an unsubscribe in the same write: the gate refuses as soon as Mautic has its answer', async () => {
    const t = await setup()
    const email = 'w.unsub@exemple.fr'
    const contactId = await t.confirmedSubscription(email)
    // Mautic stamps in whole seconds: one second ahead keeps the event after the confirmation.
    const at = Date.now() + 1000
    const unsubscribed = person(4401, email, {
      dnc: [{ reason: 1, comments: 'User unsubscribed.' }],
    })
    const r = await t.send(unsubscribe(4401, email, at), leadSaved('update', unsubscribed, at))
    expect(r.status).toBe(200)
    expect(r.body.outcomes).toEqual({ applied: 1, queued: 1 })

    // Nothing delivered yet (the event and the mirror message wait in the outbox), yet refused.
    expect((await outboxOf(4401)).map((o) => o.status)).toEqual(['pending'])
    expect(
      await all('SELECT kind, status FROM outbox WHERE ordering_key = ?', `mautic:${contactId}`),
    ).toEqual([{ kind: 'mautic.mirror', status: 'pending' }])
    expect(await t.gate('newsletter', email)).toMatchObject({ allowed: false, reason: 'withdrawn' })
    expect(await t.gate('email_marketing', email)).toMatchObject({
      allowed: false,
      reason: 'withdrawn',
    })
    const withdrawn = () =>
      all(
        "SELECT purpose_key, method, actor FROM consent_events WHERE contact_id = ? AND action = 'withdrawn' ORDER BY purpose_key",
        contactId,
      )
    expect(await withdrawn()).toEqual([
      { purpose_key: 'email_marketing', method: 'mautic_unsubscribe', actor: 'mautic' },
      { purpose_key: 'newsletter', method: 'mautic_unsubscribe', actor: 'mautic' },
    ])
    expect(
      await all(
        "SELECT purpose_key, status FROM consent_state WHERE contact_id = ? AND purpose_key IN ('newsletter', 'email_marketing') ORDER BY purpose_key",
        contactId,
      ),
    ).toEqual([
      { purpose_key: 'email_marketing', status: 'withdrawn' },
      { purpose_key: 'newsletter', status: 'withdrawn' },
    ])
    expect((await receiptsOf(4401)).map((x) => [x.event_type, x.outcome])).toEqual([
      ['mautic.lead_channel_subscription_changed', 'applied'],
      ['mautic.lead_post_save_update', 'queued'],
    ])

    // The accompanying update, processed later, records nothing twice.
    await t.drain()
    expect((await outboxOf(4401)).map((o) => o.status)).toEqual(['done'])
    expect(await withdrawn()).toHaveLength(2)
  })

  it('does not let a late unsubscribe undo a double opt-in confirmed after it', async () => {
    const t = await setup()
    const email = 'w.late@exemple.fr'
    await t.confirmedSubscription(email)
    const r = await t.send(unsubscribe(4501, email, Date.now() - 2 * 3600_000))
    expect(r.body.outcomes).toEqual({ stale: 1 })
    expect(await t.gate('newsletter', email)).toMatchObject({ allowed: true })
    expect((await receiptsOf(4501)).map((x) => x.outcome)).toEqual(['stale'])
  })

  it("recognises the gateway's own DNC coming back and does not act on it", async () => {
    const t = await setup()
    const email = 'w.echo@exemple.fr'
    await t.confirmedSubscription(email)
    const echo = channelChanged(
      person(4601, email, {
        dnc: [{ reason: 3, comments: 'consent-gateway: no valid consent for e-mail' }],
      }),
      { channel: 'email', oldStatus: 'contactable', newStatus: 'manual' },
      Date.now() + 1000,
    )
    const r = await t.send(echo)
    expect(r.body.outcomes).toEqual({ echo: 1 })
    expect(await t.gate('newsletter', email)).toMatchObject({ allowed: true })
  })
})
