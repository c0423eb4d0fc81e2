// Retention (GDPR Art. 5(1)(e); the CNIL's three years from the last contact coming from the person):
// with a fixed clock, a run erases exactly the contacts with no activity of their own for
// RETENTION_INACTIVE_DAYS and nothing else, tells Mautic through the outbox, and deletes old receipts
// and spent set-up links; the dry run lists the same contacts and changes nothing; a run goes in
// bounded steps that resume.
import { describe, expect, it } from 'vitest'
import { createAccount } from '../../../../src/domain/admin/accounts.ts'
import { createProcessor } from '../../../../src/domain/compliance/processors.ts'
import { verifyEverything } from '../../../../src/domain/admin/verify.ts'
import { subscribe } from '../../../../src/domain/consent/subscriptions.ts'
import { withdraw } from '../../../../src/domain/consent/withdrawal.ts'
import {
  advanceRetentionRun,
  previewRetention,
  runRetention,
  scheduledRetention,
  startRetentionRun,
} from '../../../../src/domain/operations/retention.ts'
import { selfServiceDsrQuery } from '../../../../src/domain/rights/dsr.ts'
import { insertReceiptQuery } from '../../../../src/db/repositories/mautic.ts'
import { createMauticClient } from '../../../../src/mautic/client.ts'
import {
  formSubmitted,
  signMautic,
  webhookBody,
  contactFixture,
} from '../../../fixtures/mautic-webhooks.ts'
import { API_CONSENT, drainOutbox, TEST_NOW, testApp } from '../../../helpers/deps.ts'
import { useMautic } from '../../../helpers/mautic-fake.ts'

const mautic = useMautic('https://mautic.test')
const SECRET = 'b5f1c0e1d2a3948576a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0'
const DAY = 86_400_000
const YEAR = 365 * DAY
const OLD = TEST_NOW - 4 * YEAR

async function setup(env: Record<string, string> = {}) {
  const t = await testApp(
    { ...mautic.env, MAUTIC_WEBHOOK_SECRET: SECRET, ...env },
    { mautic: createMauticClient(mautic.connection, { sleep: async () => {} }) },
  )
  const rows = (sql: string, ...params: unknown[]) => t.sqlite.prepare(sql).all(...params) as any[]
  /** A subscription through a site's API key at `at` (a consent the person gave). */
  const subscribed = async (email: string, at: number) => {
    t.clock.set(at)
    const r = await subscribe(t.deps, { ...API_CONSENT, email, purposes: ['cookies'] })
    if (!r.ok) throw new Error(r.message)
    return r.contactId
  }
  const status = (id: string) => rows('SELECT status FROM contacts WHERE id = ?', id)[0]?.status
  return { ...t, rows, subscribed, status }
}

describe('retention', () => {
  it('erases exactly the contacts inactive for three years, and nothing else; Mautic is told', async () => {
    const t = await setup()
    // Anne: subscribed four years ago, nothing since; linked to a Mautic contact.
    const anne = await t.subscribed('anne@exemple.fr', OLD)
    const m = mautic.addContact({ email: 'anne@exemple.fr' })
    t.sqlite.prepare("INSERT INTO contact_links VALUES ('mautic', ?, ?, 0)").run(String(m.id), anne)
    // Bruno: subscribed four years ago, unsubscribed himself two years ago (his own act counts).
    const bruno = await t.subscribed('bruno@exemple.fr', OLD)
    t.clock.set(TEST_NOW - 2 * YEAR)
    await withdraw(t.deps, bruno, ['cookies'], {
      method: 'one_click',
      source: 'test',
      actor: 'contact',
      evidence: {},
    })
    // Chloé: asked for her data a year ago (a data-subject request counts).
    const chloe = await t.subscribed('chloe@exemple.fr', OLD)
    t.clock.set(TEST_NOW - YEAR)
    await t.deps.atomic(
      selfServiceDsrQuery(t.deps, { contactId: chloe, kind: 'access', completed: true }).queries,
    )
    // David: submitted a Mautic form mapped to no purpose six months ago (any contact from him counts).
    const david = await t.subscribed('david@exemple.fr', OLD)
    t.clock.set(TEST_NOW - 180 * DAY)
    const body = webhookBody([
      formSubmitted({
        submissionId: 77,
        formId: 9,
        formAlias: 'documentation',
        contact: contactFixture({ id: 44, email: 'david@exemple.fr' }),
        results: { email: 'david@exemple.fr' },
        ip: '203.0.113.9',
        referer: 'https://www.exemple.fr/documentation',
        timestamp: TEST_NOW - 180 * DAY,
      }),
    ])
    const hook = await t.app.request('/hooks/mautic', {
      method: 'POST',
      body,
      headers: {
        'Content-Type': 'application/json',
        'Webhook-Signature': await signMautic(body, SECRET),
      },
    })
    expect(hook.status).toBe(200)
    await drainOutbox(t.deps)
    // Emma: only staff acted a year ago (a Do-Not-Contact set by hand in Mautic): that is not her.
    const emma = await t.subscribed('emma@exemple.fr', OLD)
    t.clock.set(TEST_NOW - YEAR)
    await withdraw(t.deps, emma, ['cookies'], {
      method: 'mautic_manual',
      source: 'mautic:contact:50',
      actor: 'mautic',
      evidence: {},
    })
    // Farid: subscribed a year ago.
    const farid = await t.subscribed('farid@exemple.fr', TEST_NOW - YEAR)
    // Old webhook receipts go, recent ones stay; so do spent set-up links.
    await t.deps.atomic([
      insertReceiptQuery(t.deps.db, { key: 'old', eventType: 'x', outcome: 'applied', now: OLD }),
      insertReceiptQuery(t.deps.db, {
        key: 'recent',
        eventType: 'x',
        outcome: 'applied',
        now: TEST_NOW - 10 * DAY,
      }),
    ])
    t.clock.set(OLD)
    await createAccount(
      t.deps,
      { email: 'old@staff.example', role: 'viewer', mail: false },
      { actor: 'cli' },
    )
    t.clock.set(TEST_NOW)
    await createAccount(
      t.deps,
      { email: 'new@staff.example', role: 'viewer', mail: false },
      { actor: 'cli' },
    )
    // A recipient of the processors register without a webhook: each erasure is a task for staff.
    const printer = await createProcessor(t.deps, {
      name: 'Print shop',
      role: 'processor',
      country: 'BE',
    })
    if (!printer.ok) throw new Error(printer.message)
    mautic.requests.length = 0

    const preview = await previewRetention(t.deps)
    expect(preview.candidates.map((c) => c.contact_id).sort()).toEqual([anne, emma].sort())
    expect(preview.candidates.find((c) => c.contact_id === anne)).toMatchObject({
      last_activity: 'consent',
      last_activity_at: new Date(OLD).toISOString(),
    })
    // Receipts older than 90 days: ours from four years ago, and David's form six months ago.
    expect(preview).toMatchObject({ next: null, scanned: 6, webhook_receipts: 2, setup_links: 1 })
    expect([anne, bruno, chloe, david, emma, farid].map(t.status)).toEqual(Array(6).fill('active'))

    const run = await runRetention(t.deps, { trigger: 'cli', actor: 'cli' })
    expect(run).toMatchObject({
      status: 'done',
      scanned: 6,
      contacts_erased: 2,
      receipts_deleted: 2,
      links_deleted: 1,
    })
    expect([anne, bruno, chloe, david, emma, farid].map(t.status)).toEqual([
      'erased',
      'active',
      'active',
      'active',
      'erased',
      'active',
    ])
    expect(t.rows('SELECT key FROM webhook_receipts')).toEqual([{ key: 'recent' }])
    expect(t.rows('SELECT count(*) AS n FROM setup_links')[0].n).toBe(1)
    // The ledger says why, without a suppression: the person may subscribe again.
    expect(
      t.rows(
        "SELECT DISTINCT contact_id, method, source FROM consent_events WHERE action = 'erased'",
      ),
    ).toEqual(
      expect.arrayContaining([
        { contact_id: anne, method: 'retention', source: `retention-run:${run.id}` },
      ]),
    )
    expect(t.rows('SELECT * FROM suppressions')).toEqual([])
    // Passed on to the recipient (Art. 19: an erasure under Art. 17(1)(a) is one too).
    expect(
      t.rows('SELECT contact_id, kind, channel FROM recipient_notices ORDER BY contact_id'),
    ).toEqual(
      [anne, emma].sort().map((contact_id) => ({ contact_id, kind: 'erase', channel: 'task' })),
    )
    expect((await verifyEverything(t.deps)).ok).toBe(true)

    // Mautic is told through the outbox.
    expect(mautic.contact(m.id)).toBeDefined()
    await drainOutbox(t.deps)
    expect(mautic.calls('DELETE', `/api/contacts/${m.id}/delete`)).toHaveLength(1)
    expect(mautic.contact(m.id)).toBeUndefined()

    // A second run finds nothing more to erase.
    t.clock.advance(DAY)
    const again = await runRetention(t.deps, { trigger: 'cli', actor: 'cli' })
    expect(again).toMatchObject({ status: 'done', scanned: 4, contacts_erased: 0 })
  })

  it('lists nothing and erases nothing with RETENTION_INACTIVE_DAYS=0', async () => {
    const t = await setup({ RETENTION_INACTIVE_DAYS: '0' })
    const anne = await t.subscribed('anne@exemple.fr', OLD)
    t.clock.set(TEST_NOW)
    expect((await previewRetention(t.deps)).candidates).toEqual([])
    const run = await runRetention(t.deps, { trigger: 'cli', actor: 'cli' })
    expect(run).toMatchObject({ status: 'done', contacts_erased: 0 })
    expect(t.status(anne)).toBe('active')
  })

  it('goes in bounded steps that resume, one process at a time, and starts once a day', async () => {
    const t = await setup()
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push(await t.subscribed(`p${i}@exemple.fr`, OLD))
    t.clock.set(TEST_NOW)
    const run = await startRetentionRun(t.deps, { trigger: 'schedule', actor: 'system' })
    // The same run for anyone who asks while it runs.
    expect((await startRetentionRun(t.deps, { trigger: 'cli', actor: 'cli' })).id).toBe(run.id)
    const step = await advanceRetentionRun(t.deps, run.id, { scan: 10, erase: 2 })
    expect(step).toMatchObject({ status: 'running', phase: 'contacts', contacts_erased: 2 })
    expect(ids.map(t.status).filter((s) => s === 'erased')).toHaveLength(2)
    // A step under way elsewhere (its lease held): this one does nothing.
    t.sqlite
      .prepare('UPDATE retention_runs SET locked_until = ? WHERE id = ?')
      .run(TEST_NOW + 60_000, run.id)
    expect(await advanceRetentionRun(t.deps, run.id)).toMatchObject({ contacts_erased: 2 })
    t.clock.advance(2 * 60_000)
    let r = await advanceRetentionRun(t.deps, run.id, { scan: 10, erase: 2 })
    while (r!.status === 'running')
      r = await advanceRetentionRun(t.deps, run.id, { scan: 10, erase: 2 })
    expect(r).toMatchObject({ status: 'done', contacts_erased: 5 })
    expect(ids.map(t.status)).toEqual(Array(5).fill('erased'))
    // The scheduler starts the next run a day after this one began.
    expect(await scheduledRetention(t.deps)).toBeUndefined()
    t.clock.advance(DAY)
    expect(await scheduledRetention(t.deps)).toMatchObject({ status: 'done', trigger: 'schedule' })
    expect(t.rows('SELECT count(*) AS n FROM retention_runs')[0].n).toBe(2)
  })
})
