// The operations on Workers/D1, fired by the worker's own cron trigger (`scheduled`): a retention run
// erases a contact inactive for four years and keeps a recent one; the monitor opens its findings and
// its alert webhook, signed with our WebCrypto code, is verified by the standardwebhooks package; a
// notice requiring re-consent gets its mail queued and kept in D1's mail log, while the grace period
// lets the old consent pass the gate.
import {
  createExecutionContext,
  createScheduledController,
  env,
  waitOnExecutionContext,
} from 'cloudflare:test'
import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { publishNotice } from '../../src/domain/consent/purpose-admin.ts'
import { subscribe } from '../../src/domain/consent/subscriptions.ts'
import { deliverOutbox } from '../../src/domain/platform/outbox.ts'
import { findingList } from '../../src/domain/platform/findings.ts'
import { gateBatch } from '../../src/domain/sending/gate.ts'
import { newWebhookSecret } from '../../src/lib/standard-webhooks.ts'
import { forEnv } from '../../src/runtime/worker/deps.ts'
import worker from '../../src/worker.ts'

const HOOK = 'https://alerts.example.test/ops'
const SECRET = newWebhookSecret()
const received: { headers: Record<string, string>; body: string }[] = []
const server = setupServer(
  http.post(HOOK, async ({ request }) => {
    received.push({ headers: Object.fromEntries(request.headers), body: await request.text() })
    return new HttpResponse(null, { status: 204 })
  }),
)
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterAll(() => server.close())

/** One object for the file: `forEnv` builds its deps once per environment object. */
const ENV = {
  ...env,
  BACKUP_MAX_AGE_HOURS: '24',
  ALERT_WEBHOOK_URL: HOOK,
  ALERT_WEBHOOK_SECRET: SECRET,
}
const YEAR = 365 * 86_400_000

async function cron() {
  const ctx = createExecutionContext()
  await worker.scheduled(createScheduledController({ cron: '* * * * *' }), ENV, ctx)
  await waitOnExecutionContext(ctx)
}

describe('operations on D1, from the cron trigger', () => {
  it('erases the inactive contact, opens findings, alerts through a verified webhook, mails re-consent', async () => {
    const { deps } = await forEnv(ENV)
    const at = (ms: number) => ({ ...deps, clock: { now: () => ms } })
    const consent = (email: string, when: number) =>
      subscribe(at(when), {
        email,
        purposes: ['cookies'],
        locale: 'fr',
        method: 'api',
        source: 'worker-test',
        actor: 'api:test',
        evidence: {},
      })
    const old = await consent('w.old@exemple.fr', Date.now() - 4 * YEAR)
    const recent = await consent('w.recent@exemple.fr', Date.now() - 60_000)
    if (!old.ok || !recent.ok) throw new Error('subscriptions')
    const v2 = await publishNotice(deps, {
      purposeKey: 'cookies',
      locale: 'fr',
      title: 'Cookies',
      body: 'Nous utilisons désormais aussi des cookies de mesure.',
      privacyUrl: '',
      requiresReconsent: true,
      reconsentGraceDays: 30,
    })
    if (!v2.ok) throw new Error(v2.message)

    await cron()
    await deliverOutbox(deps)

    const statuses = await deps.db
      .selectFrom('contacts')
      .select(['id', 'status'])
      .where('id', 'in', [old.contactId, recent.contactId])
      .execute()
    expect(Object.fromEntries(statuses.map((s) => [s.id, s.status]))).toEqual({
      [old.contactId]: 'erased',
      [recent.contactId]: 'active',
    })
    const runs = await deps.db.selectFrom('retention_runs').selectAll().execute()
    expect(runs).toMatchObject([{ trigger: 'schedule', status: 'done' }])
    expect(runs[0]!.contacts_erased).toBeGreaterThanOrEqual(1)

    // The monitor ran: no backup recorded, a notice under re-consent.
    const open = (await findingList(deps, { status: 'open' })).map((f) => f.kind)
    expect(open).toEqual(expect.arrayContaining(['backup_stale', 'reconsent_pending']))
    // Its alert, signed in workerd, verifies with the Standard Webhooks library.
    expect(received.length).toBeGreaterThanOrEqual(1)
    const payload = new Webhook(SECRET).verify(received[0]!.body, received[0]!.headers) as any
    expect(payload.type).toBe('compliance.findings')
    expect(payload.data.findings.map((f: any) => f.kind)).toEqual(
      expect.arrayContaining(['backup_stale']),
    )

    // The re-consent mail was kept in D1's mail log (MAIL_TRANSPORT=log); the grace period runs.
    const mails = await deps.db.selectFrom('mail_log').select('subject').execute()
    expect(mails.map((m) => m.subject)).toContain(
      'Souhaitez-vous continuer à recevoir « Cookies » ? – Consent Gateway',
    )
    const gate = await gateBatch(deps, 'cookies', [{ contact_id: recent.contactId }])
    expect(gate).toMatchObject({ ok: true, decisions: [{ allowed: true }] })
    const later = await gateBatch(at(Date.now() + 31 * 86_400_000), 'cookies', [
      { contact_id: recent.contactId },
    ])
    expect(later).toMatchObject({
      ok: true,
      decisions: [{ allowed: false, reason: 'notice_outdated' }],
    })
  })
})
