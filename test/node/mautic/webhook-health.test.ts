// The Mautic webhook's health: the last delivery accepted and refused, the webhook as Mautic shows it
// (the scheduled check), /healthz?detail=1 behind an admin key, and the start-up banner.
import { describe, expect, it } from 'vitest'
import { runScheduledJobs } from '../../../src/jobs/scheduler.ts'
import { createMauticClient } from '../../../src/mautic/client.ts'
import { connectMautic } from '../../../src/mautic/connect.ts'
import { webhookHealth } from '../../../src/mautic/webhook-health.ts'
import { banner } from '../../../src/runtime/node/server.ts'
import {
  contactFixture,
  leadSaved,
  signMautic,
  webhookBody,
} from '../../fixtures/mautic-webhooks.ts'
import { apiKey } from '../../helpers/api.ts'
import { TEST_NOW, testApp } from '../../helpers/deps.ts'
import { useMautic } from '../../helpers/mautic-fake.ts'

const mautic = useMautic('https://mautic.test')
const SECRET = 'ab'.repeat(32)

async function setup() {
  const t = await testApp(
    { ...mautic.env, MAUTIC_WEBHOOK_SECRET: SECRET },
    { mautic: createMauticClient(mautic.connection, { sleep: async () => {} }) },
  )
  const post = async (body: string, secret = SECRET) =>
    t.app.request('/hooks/mautic', {
      method: 'POST',
      body,
      headers: {
        'Content-Type': 'application/json',
        'Webhook-Signature': await signMautic(body, secret),
      },
    })
  const detail = async (key?: string) => {
    const res = await t.app.request('/healthz?detail=1', {
      headers: key ? { Authorization: `Bearer ${key}` } : {},
    })
    return { status: res.status, body: (await res.json()) as any }
  }
  const event = (id: number) =>
    webhookBody([
      leadSaved('new', contactFixture({ id, email: `c${id}@exemple.fr` }), t.clock.now()),
    ])
  return { ...t, post, detail, event }
}

describe('Mautic webhook health', () => {
  it('keeps plain /healthz a bare probe, and shows the detail only with an admin key', async () => {
    const t = await setup()
    const plain = await t.app.request('/healthz')
    expect(plain.status).toBe(200)
    expect(await plain.json()).toEqual({ status: 'ok' })
    expect((await t.detail()).status).toBe(401)
    expect((await t.detail(await apiKey(t.deps, ['gate']))).status).toBe(403)
    const ok = await t.detail(await apiKey(t.deps, ['admin']))
    expect(ok.status).toBe(200)
    expect(ok.body).toMatchObject({
      database: 'ok',
      mail_transport: 'log',
      mautic: { url: 'https://mautic.test', mirror_mode: 'observe' },
      mautic_webhook: { state: 'stale', last_received_at: null },
    })
    expect(JSON.stringify(ok.body)).not.toContain(SECRET)
  })

  it('records the last delivery accepted and the last refused, and reports a failing webhook', async () => {
    const t = await setup()
    const key = await apiKey(t.deps, ['admin'])
    expect((await t.post(t.event(1))).status).toBe(200)
    expect((await t.detail(key)).body).toMatchObject({
      status: 'ok',
      mautic_webhook: { state: 'ok', last_received_at: new Date(TEST_NOW).toISOString() },
    })
    // A Mautic whose secret no longer matches: every delivery refused, and lost.
    t.clock.advance(120_000)
    expect((await t.post(t.event(2), 'rotated-in-mautic')).status).toBe(401)
    const failing = (await t.detail(key)).body
    expect(failing).toMatchObject({
      status: 'degraded',
      mautic_webhook: {
        state: 'failing',
        last_refused_reason: 'invalid_signature',
        last_refused_at: new Date(TEST_NOW + 120_000).toISOString(),
      },
    })
    expect(failing.mautic_webhook.advice).toContain('does not send it again')
    // Accepted again later: ok.
    t.clock.advance(120_000)
    expect((await t.post(t.event(3))).status).toBe(200)
    expect((await t.detail(key)).body.mautic_webhook.state).toBe('ok')
    // A day without any delivery: stale.
    t.clock.advance(25 * 3600_000)
    expect((await t.detail(key)).body.mautic_webhook.state).toBe('stale')
  })

  it('learns from the scheduled check that Mautic unpublished the webhook, and says so in the banner', async () => {
    const t = await setup()
    expect((await connectMautic(t.deps)).ok).toBe(true)
    expect((await t.post(t.event(1))).status).toBe(200)
    expect((await webhookHealth(t.deps)).state).toBe('ok')
    mautic.webhooks[0]!.isPublished = false // Mautic found it sick
    t.clock.advance(3600_000 + 1)
    await runScheduledJobs(t.deps)
    const health = await webhookHealth(t.deps)
    expect(health).toMatchObject({ state: 'unpublished', published: false })
    expect(t.logs).toContainEqual(
      expect.objectContaining({ level: 'error', msg: expect.stringContaining('unpublished') }),
    )
    const text = banner({
      url: 'http://127.0.0.1:8787',
      config: t.deps.config,
      webhook: health,
      close: async () => {},
    })
    expect(text).toMatch(/Mautic webhook:.*\n\s+UNPUBLISHED: .*mautic connect/)
    // `connect` publishes it again; the next check agrees.
    await connectMautic(t.deps)
    expect((await webhookHealth(t.deps)).state).toBe('ok')
    // Deleted in Mautic: missing.
    mautic.webhooks.length = 0
    t.clock.advance(3600_000 + 1)
    await runScheduledJobs(t.deps)
    expect((await webhookHealth(t.deps)).state).toBe('missing')
  })
})
