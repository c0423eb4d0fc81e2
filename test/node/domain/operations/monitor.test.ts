// The monitor (src/domain/operations/monitor.ts): every check opens its finding when its condition
// appears and closes it when the condition is gone; then the alerts: by mail, and by a webhook that the
// Standard Webhooks library verifies, at most once a day per finding.
import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { Webhook } from 'standardwebhooks'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { findAdmin } from '../../../../src/domain/admin/accounts.ts'
import { confirmTotp, pendingTotp } from '../../../../src/domain/admin/second-factor.ts'
import { sessionAfterSetup } from '../../../../src/domain/admin/signin.ts'
import { totpCode } from '../../../../src/domain/admin/totp.ts'
import { answerReconsent, queueReconsentMails } from '../../../../src/domain/consent/reconsent.ts'
import { publishNotice } from '../../../../src/domain/consent/purpose-admin.ts'
import { recordBackup } from '../../../../src/domain/operations/backups.ts'
import { runMonitor } from '../../../../src/domain/operations/monitor.ts'
import {
  quarterOf,
  signReviewQueries,
  REVIEW_ITEMS,
} from '../../../../src/domain/operations/review.ts'
import {
  closeFinding,
  findingList,
  type FindingKind,
} from '../../../../src/domain/platform/findings.ts'
import { discardDead, enqueueQuery, deliverOutbox } from '../../../../src/domain/platform/outbox.ts'
import { selfServiceDsrQuery } from '../../../../src/domain/rights/dsr.ts'
import { countRefusals } from '../../../../src/domain/platform/counters.ts'
import { completeDsrQuery } from '../../../../src/db/repositories/dsr.ts'
import { newWebhookSecret } from '../../../../src/lib/standard-webhooks.ts'
import { noteWebhookReceived, noteWebhookSeen } from '../../../../src/mautic/webhook-health.ts'
import { makeAdmin, TEST_ITERATIONS } from '../../../helpers/admin.ts'
import { confirmedSubscription } from '../../../helpers/consent.ts'
import { drainOutbox, TEST_NOW, testDeps } from '../../../helpers/deps.ts'
import { testMessage } from '../../../helpers/outbox.ts'

const DAY = 86_400_000
const HOOK = 'https://alerts.example.test/compliance'
const received: { headers: Record<string, string>; body: string }[] = []
let answer = 204
const server = setupServer(
  http.post(HOOK, async ({ request }) => {
    received.push({ headers: Object.fromEntries(request.headers), body: await request.text() })
    return new HttpResponse(null, { status: answer })
  }),
)
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  received.length = 0
  answer = 204
})
afterAll(() => server.close())

async function setup(env: Record<string, string> = {}) {
  const t = await testDeps(env, { pbkdf2Iterations: TEST_ITERATIONS })
  /** The open findings of `kind`: their subjects. */
  const open = async (kind: FindingKind) =>
    (await findingList(t.deps, { status: 'open', kind })).map((f) => f.subject)
  const closed = async (kind: FindingKind) =>
    (await findingList(t.deps, { status: 'closed', kind })).map((f) => [f.subject, f.resolution])
  const check = () => runMonitor(t.deps)
  return { ...t, open, closed, check }
}

describe('every monitor check opens and closes its finding', () => {
  it('sends the relay refused (its log): open while refusals happened in the last 24 hours', async () => {
    const t = await setup()
    await t.check()
    expect(await t.open('blocked_send_attempts')).toEqual([])
    await countRefusals(t.deps, 'relay_data', 'newsletter', [
      'withdrawn',
      'withdrawn',
      'no_consent',
    ])
    await countRefusals(t.deps, 'relay_rcpt', '', ['unknown_contact'])
    await t.check()
    expect((await t.open('blocked_send_attempts')).sort()).toEqual(['relay:*', 'relay:newsletter'])
    const [f] = await findingList(t.deps, { kind: 'blocked_send_attempts' })
    expect(f?.details).toMatchObject({ refused: 3, reasons: { withdrawn: 2, no_consent: 1 } })
    t.clock.advance(25 * 3_600_000)
    await t.check()
    expect(await t.open('blocked_send_attempts')).toEqual([])
    expect(await t.closed('blocked_send_attempts')).toHaveLength(2)
  })

  it('data-subject requests: due within 7 days, then overdue, then closed once answered', async () => {
    const t = await setup()
    const dsr = selfServiceDsrQuery(t.deps, { contactId: null, kind: 'erase' })
    await t.deps.atomic(dsr.queries)
    await t.check()
    expect(await t.open('dsr_due_soon')).toEqual([])
    t.clock.advance(25 * DAY) // a month to answer: a few days left
    await t.check()
    expect(await t.open('dsr_due_soon')).toEqual([`dsr:${dsr.id}`])
    t.clock.advance(7 * DAY)
    await t.check()
    expect(await t.open('dsr_due_soon')).toEqual([])
    expect(await t.open('dsr_overdue')).toEqual([`dsr:${dsr.id}`])
    await t.deps.atomic([completeDsrQuery(t.deps.db, dsr.id, t.clock.now(), 'admin:x')])
    await t.check()
    expect(await t.open('dsr_overdue')).toEqual([])
    expect(await t.closed('dsr_overdue')).toEqual([[`dsr:${dsr.id}`, 'completed']])
  })

  it('a notice requiring re-consent with contacts still on the old version, until they answer', async () => {
    const t = await setup()
    await confirmedSubscription(t, 'anne@exemple.fr', ['newsletter'])
    const v2 = await publishNotice(t.deps, {
      purposeKey: 'newsletter',
      locale: 'fr',
      title: 'Newsletter',
      body: 'Désormais hebdomadaire.',
      privacyUrl: '',
      requiresReconsent: true,
    })
    if (!v2.ok) throw new Error(v2.message)
    await queueReconsentMails(t.deps)
    await t.check()
    expect(await t.open('reconsent_pending')).toEqual([`notice:${v2.id}`])
    await drainOutbox(t.deps)
    const token = /\/r\/([\w.-]+)/.exec(t.mail.sent.at(-1)!.text)![1]!
    expect((await answerReconsent(t.deps, token, 'accept', {})).status).toBe('renewed')
    await t.check()
    expect(await t.open('reconsent_pending')).toEqual([])
  })

  it('owners, admins and DPOs without a second factor', async () => {
    const t = await setup()
    const admin = await makeAdmin(t.deps, 'admin', { totp: false })
    await makeAdmin(t.deps, 'marketer', { totp: false }) // not required of a marketer
    await makeAdmin(t.deps, 'dpo') // enrolled
    await t.check()
    expect(await t.open('admin_without_second_factor')).toEqual([`admin:${admin.id}`])
    const user = (await findAdmin(t.deps, admin.id))!
    const session = await sessionAfterSetup(t.deps, user, { actor: 'cli' })
    const { secret } = await pendingTotp(t.deps, user)
    const enrolled = await confirmTotp(
      t.deps,
      (await findAdmin(t.deps, admin.id))!,
      totpCode(secret, t.clock.now()),
      session.id,
      { actor: 'cli' },
    )
    expect(enrolled.ok).toBe(true)
    await t.check()
    expect(await t.open('admin_without_second_factor')).toEqual([])
  })

  it('the Mautic webhook: silent for MONITOR_WEBHOOK_SILENCE_HOURS, or unpublished', async () => {
    const t = await setup({
      MAUTIC_WEBHOOK_SECRET: 'x'.repeat(40),
      MONITOR_WEBHOOK_SILENCE_HOURS: '6',
    })
    await t.check()
    expect(await t.open('webhook_silent')).toEqual(['mautic']) // nothing ever received
    await noteWebhookReceived(t.deps)
    await t.check()
    expect(await t.open('webhook_silent')).toEqual([])
    t.clock.advance(7 * 3_600_000)
    await t.check()
    expect(await t.open('webhook_silent')).toEqual(['mautic'])
    await t.deps.atomic([
      noteWebhookSeen(
        t.deps,
        { id: 3, url: 'http://gateway.test/hooks/mautic', published: false },
        t.clock.now(),
      ),
    ])
    await t.check()
    expect(await t.open('webhook_unpublished')).toEqual(['mautic'])
    await t.deps.atomic([
      noteWebhookSeen(
        t.deps,
        { id: 3, url: 'http://gateway.test/hooks/mautic', published: true },
        t.clock.now(),
      ),
    ])
    t.clock.advance(61_000) // a later delivery (one note a minute at most)
    await noteWebhookReceived(t.deps)
    await t.check()
    expect(await t.open('webhook_unpublished')).toEqual([])
    expect(await t.open('webhook_silent')).toEqual([])
  })

  it('dead letters in the outbox', async () => {
    const t = await setup()
    t.deps.outboxHandlers['test.fails'] = async () => {
      throw new Error('down')
    }
    await t.deps.atomic([
      enqueueQuery(t.deps.db, t.clock.now(), testMessage('test.fails', {}), 'm1'),
    ])
    for (let i = 0; i < 30; i++) {
      await deliverOutbox(t.deps)
      t.clock.advance(2 * 3_600_000)
    }
    await t.check()
    expect(await t.open('outbox_dead_letters')).toEqual(['outbox'])
    const [f] = await findingList(t.deps, { kind: 'outbox_dead_letters' })
    expect(f?.details).toMatchObject({ count: 1, kinds: { 'test.fails': 1 } })
    expect(await discardDead(t.deps.db, 'm1')).toBe(true)
    await t.check()
    expect(await t.open('outbox_dead_letters')).toEqual([])
  })

  it('the last backup older than BACKUP_MAX_AGE_HOURS, or none; unchecked without it', async () => {
    const unchecked = await setup()
    await unchecked.check()
    expect(await unchecked.open('backup_stale')).toEqual([])
    const t = await setup({ BACKUP_MAX_AGE_HOURS: '26' })
    await t.check()
    expect(await t.open('backup_stale')).toEqual(['backup'])
    expect((await findingList(t.deps, { kind: 'backup_stale' }))[0]?.severity).toBe('high')
    await recordBackup(t.deps, { kind: 'sqlite', location: 'b.db' }, 'cli')
    await t.check()
    expect(await t.open('backup_stale')).toEqual([])
    t.clock.advance(27 * 3_600_000)
    await t.check()
    expect(await t.open('backup_stale')).toEqual(['backup'])
  })

  it('a broken consent or audit chain, verified at most once a day', async () => {
    const t = await setup()
    await confirmedSubscription(t, 'anne@exemple.fr', ['newsletter'])
    await t.check()
    expect(await t.open('chain_broken')).toEqual([])
    t.sqlite.exec(
      "DROP TRIGGER consent_events_no_update; UPDATE consent_events SET source = 'forged' WHERE seq = 1",
    )
    // Verified within the day: not walked again (its cost), so not seen yet.
    await t.check()
    expect(await t.open('chain_broken')).toEqual([])
    t.clock.advance(DAY)
    await t.check()
    expect(await t.open('chain_broken')).toEqual(['ledger'])
    t.sqlite.exec("UPDATE consent_events SET source = 'test' WHERE seq = 1")
    await runMonitor(t.deps, { verify: true })
    expect(await t.open('chain_broken')).toEqual([])
  })

  it('the quarterly review: a reminder two weeks before the quarter ends, open until signed off', async () => {
    const t = await setup()
    const q = quarterOf(TEST_NOW)
    t.clock.set(q.end - 20 * DAY)
    await t.check()
    expect(await t.open('review_due')).toEqual([])
    t.clock.set(q.end - 10 * DAY)
    await t.check()
    expect(await t.open('review_due')).toEqual([`review:${q.id}`])
    t.clock.set(q.end + 5 * DAY) // overdue: still open, now high
    await t.check()
    const [f] = await findingList(t.deps, { kind: 'review_due' })
    expect(f).toMatchObject({ subject: `review:${q.id}`, severity: 'high' })
    const incomplete = await signReviewQueries(
      t.deps,
      { quarter: q.id, items: ['ledger'] },
      { actor: 'admin:x' },
    )
    expect(incomplete).toMatchObject({ ok: false, error: 'incomplete' })
    const signed = await signReviewQueries(
      t.deps,
      { quarter: q.id, items: [...REVIEW_ITEMS], notes: 'ok' },
      { actor: 'admin:x', role: 'dpo' },
    )
    if (!signed.ok) throw new Error(signed.error)
    await t.deps.atomic(signed.queries)
    expect(await t.open('review_due')).toEqual([])
    await t.check()
    expect(await t.open('review_due')).toEqual([])
  })

  it('a finding closed by hand opens again while its condition holds', async () => {
    const t = await setup({ BACKUP_MAX_AGE_HOURS: '26' })
    await t.check()
    const [f] = await findingList(t.deps, { kind: 'backup_stale' })
    const r = await closeFinding(t.deps, f!.id, 'looked at')
    if (!r.ok) throw new Error(r.code)
    await t.deps.atomic([r.query])
    expect(await t.open('backup_stale')).toEqual([])
    await t.check()
    expect(await t.open('backup_stale')).toEqual(['backup'])
  })
})

describe('alerts', () => {
  it('a signed webhook the Standard Webhooks library verifies, and a mail, at most once a day per finding', async () => {
    const secret = newWebhookSecret()
    const t = await setup({
      ALERT_EMAIL: 'alerts@acme.example',
      ALERT_WEBHOOK_URL: HOOK,
      ALERT_WEBHOOK_SECRET: secret,
      BACKUP_MAX_AGE_HOURS: '26',
      DPO_LOCALE: 'en',
    })
    t.clock.set(Date.now()) // the library checks the signature's time against its own clock
    const first = await t.check()
    expect(first.alerted).toBe(1)
    await drainOutbox(t.deps)
    expect(received).toHaveLength(1)
    const hook = received[0]!
    const payload = new Webhook(secret).verify(hook.body, hook.headers) as any
    expect(payload).toMatchObject({
      type: 'compliance.findings',
      data: {
        open: 1,
        console_url: 'http://gateway.test/admin/operations/findings',
        findings: [{ kind: 'backup_stale', subject: 'backup', severity: 'high', status: 'open' }],
      },
    })
    expect(() => new Webhook(newWebhookSecret()).verify(hook.body, hook.headers)).toThrow()
    const mail = t.mail.sent.at(-1)!
    expect(mail.to).toBe('alerts@acme.example')
    expect(mail.subject).toContain('1 compliance finding(s) to look at')
    expect(mail.text).toContain('Backup too old')
    expect(mail.text).toContain('http://gateway.test/admin/operations/findings')

    // Within the day: no second alert for the same finding, whatever the runs.
    await t.check()
    t.clock.advance(12 * 3_600_000)
    expect((await t.check()).alerted).toBe(0)
    await drainOutbox(t.deps)
    expect(received).toHaveLength(1)
    // A day later, still open: named again.
    t.clock.advance(12 * 3_600_000 + 1)
    expect((await t.check()).alerted).toBe(1)
    await drainOutbox(t.deps)
    expect(received).toHaveLength(2)
  })

  it('retries the webhook through the outbox with the same id until it is answered 2xx', async () => {
    const secret = newWebhookSecret()
    const t = await setup({
      ALERT_WEBHOOK_URL: HOOK,
      ALERT_WEBHOOK_SECRET: secret,
      BACKUP_MAX_AGE_HOURS: '1',
    })
    t.clock.set(Date.now())
    answer = 503
    await t.check()
    await drainOutbox(t.deps)
    expect(received).toHaveLength(1)
    answer = 204
    t.clock.advance(60_000)
    await drainOutbox(t.deps)
    expect(received).toHaveLength(2)
    expect(received[1]!.headers['webhook-id']).toBe(received[0]!.headers['webhook-id'])
    expect(new Webhook(secret).verify(received[1]!.body, received[1]!.headers)).toBeTruthy()
  })

  it('without ALERT_EMAIL, DPO_EMAIL nor a webhook, nothing is queued and findings stay un-alerted', async () => {
    const t = await setup({ BACKUP_MAX_AGE_HOURS: '1' })
    expect((await t.check()).alerted).toBe(0)
    const [f] = await findingList(t.deps, { kind: 'backup_stale' })
    expect(f?.alerted_at).toBeNull()
    const withDpo = await setup({ BACKUP_MAX_AGE_HOURS: '1', DPO_EMAIL: 'dpo@acme.example' })
    expect((await withDpo.check()).alerted).toBe(1)
    await drainOutbox(withDpo.deps)
    expect(withDpo.mail.sent.map((m) => m.to)).toEqual(['dpo@acme.example'])
    expect(withDpo.mail.sent[0]!.subject).toContain('constat(s) de conformité') // DPO_LOCALE: fr
  })
})
