// Art. 19: corrections and erasures passed on to each recipient of the processors register, through
// its webhook signed with the Standard Webhooks scheme (checked here with the `standardwebhooks`
// package itself) and retried through the outbox, or as a task for staff when it has none; each
// request shows every recipient's status.
import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { Webhook } from 'standardwebhooks'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createProcessor, updateProcessor } from '../../../../src/domain/compliance/processors.ts'
import {
  completeRecipientTask,
  listRecipientNotices,
  openRecipientTask,
  requestRecipients,
} from '../../../../src/domain/compliance/recipients.ts'
import { subscribe } from '../../../../src/domain/consent/subscriptions.ts'
import { deliverOutbox } from '../../../../src/domain/platform/outbox.ts'
import { findContact } from '../../../../src/domain/platform/contacts.ts'
import { correctContact } from '../../../../src/domain/rights/correction.ts'
import { confirmEmailChange } from '../../../../src/domain/rights/email-change.ts'
import { eraseContact } from '../../../../src/domain/rights/erasure.ts'
import { API_CONSENT, testDeps } from '../../../helpers/deps.ts'

const HOOK = 'https://crm.example.test/hooks/gdpr'
const received: { headers: Record<string, string>; body: string }[] = []
let failures = 0
const server = setupServer(
  http.post(HOOK, async ({ request }) => {
    received.push({ headers: Object.fromEntries(request.headers), body: await request.text() })
    if (failures > 0) {
      failures--
      return new HttpResponse('busy', { status: 503 })
    }
    return HttpResponse.json({ ok: true })
  }),
)
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  received.length = 0
  failures = 0
})
afterAll(() => server.close())

async function setup() {
  const t = await testDeps()
  const crm = await createProcessor(t.deps, {
    name: 'CRM SaaS',
    role: 'processor',
    country: 'FR',
    webhook_url: HOOK,
  })
  const printer = await createProcessor(t.deps, {
    name: 'Print shop',
    role: 'processor',
    country: 'BE',
  })
  if (!crm.ok || !printer.ok) throw new Error('processors')
  const r = await subscribe(t.deps, {
    ...API_CONSENT,
    email: 'anne@exemple.fr',
    purposes: ['cookies'],
    attributes: { first_name: 'Ane' },
  })
  if (!r.ok) throw new Error(r.message)
  const contact = async () => (await findContact(t.deps, r.contactId))!
  /** Delivers what is due now, then moves the clock past any backoff. */
  const deliver = async () => {
    const report = await deliverOutbox(t.deps)
    t.clock.advance(60_000)
    return report
  }
  const rows = (sql: string, ...p: unknown[]) => t.sqlite.prepare(sql).all(...p) as any[]
  return {
    ...t,
    crm,
    printer,
    secret: crm.webhook_secret!,
    contactId: r.contactId,
    contact,
    deliver,
    rows,
  }
}

describe('Art. 19: passing corrections and erasures on to every recipient', () => {
  it('delivers a correction to a webhook that fails, then recovers; signed, same id on each attempt', async () => {
    const t = await setup()
    failures = 2
    const result = await correctContact(t.deps, await t.contact(), {
      attributes: { first_name: 'Anne' },
      locale: 'fr',
      email: '',
    })
    expect(result).toMatchObject({ ok: true, changed: ['first_name'] })
    const [dsr] = t.rows("SELECT id FROM dsr_requests WHERE kind = 'rectify'")
    const status = async () =>
      Object.fromEntries(
        (await requestRecipients(t.deps, dsr.id)).map((n) => [n.processor.name, n.status]),
      )
    expect(await status()).toEqual({ 'CRM SaaS': 'pending', 'Print shop': 'open' })

    await t.deliver()
    expect(await status()).toEqual({ 'CRM SaaS': 'retrying', 'Print shop': 'open' })
    const [failing] = await requestRecipients(t.deps, dsr.id)
    expect(failing).toMatchObject({
      attempts: 1,
      last_error: expect.stringMatching(/answered 503/),
    })
    await t.deliver()
    await t.deliver()
    expect(await status()).toEqual({ 'CRM SaaS': 'delivered', 'Print shop': 'open' })
    expect(received).toHaveLength(3)

    const ids = new Set(received.map((r) => r.headers['webhook-id']))
    expect(ids.size).toBe(1)
    const last = received.at(-1)!
    const wh = new Webhook(t.secret)
    const ts = new Date(Number(last.headers['webhook-timestamp']) * 1000)
    expect(last.headers['webhook-signature']).toBe(
      wh.sign(last.headers['webhook-id']!, ts, last.body),
    )
    expect(JSON.parse(last.body)).toMatchObject({
      type: 'contact.rectified',
      data: {
        request_id: dsr.id,
        contact_id: t.contactId,
        email: 'anne@exemple.fr',
        changes: { first_name: 'Anne' },
      },
    })
    // Once delivered, whom it was about is forgotten.
    expect(
      t.rows('SELECT subject_enc FROM recipient_notices WHERE status = ?', 'delivered'),
    ).toEqual([{ subject_enc: null }])
  })

  it('makes a task for a recipient without a webhook; staff see the subject and mark it done', async () => {
    const t = await setup()
    await correctContact(t.deps, await t.contact(), {
      attributes: { first_name: 'Anne' },
      locale: 'fr',
      email: '',
    })
    const [task] = await listRecipientNotices(t.deps, { channel: 'task', open: true })
    expect(task).toMatchObject({
      processor: { name: 'Print shop' },
      kind: 'rectify',
      status: 'open',
    })
    expect((await openRecipientTask(t.deps, task!.id))!.subject).toEqual({
      email: 'anne@exemple.fr',
      changes: { first_name: 'Anne' },
    })
    const done = await completeRecipientTask(t.deps, task!.id, 'api:dpo', 'phoned them')
    expect(done).toMatchObject({ ok: true, notice: { status: 'done', completed_by: 'api:dpo' } })
    expect((await openRecipientTask(t.deps, task!.id))!.subject).toBeNull()
    expect(await completeRecipientTask(t.deps, task!.id, 'api:dpo', null)).toMatchObject({
      ok: false,
      code: 'not_open',
    })
    expect(await listRecipientNotices(t.deps, { channel: 'task', open: true })).toEqual([])
  })

  it('passes an erasure on, superseding a correction not yet delivered', async () => {
    const t = await setup()
    failures = 100
    await correctContact(t.deps, await t.contact(), {
      attributes: { first_name: 'Anne' },
      locale: 'fr',
      email: '',
    })
    await t.deliver() // fails: the correction is still to deliver
    failures = 0
    const erased = await eraseContact(t.deps, t.contactId, {
      suppress: 'erased',
      method: 'erasure_request',
      source: 'test',
      actor: 'contact',
      deleteInMautic: false,
      passOnToRecipients: true,
      requestId: 'req-erase-1',
    })
    expect(erased).toMatchObject({ ok: true, status: 'erased' })
    const statuses = () =>
      t.rows('SELECT kind, channel, status FROM recipient_notices ORDER BY kind, channel')
    expect(statuses()).toEqual([
      { kind: 'erase', channel: 'task', status: 'open' },
      { kind: 'erase', channel: 'webhook', status: 'pending' },
      { kind: 'rectify', channel: 'task', status: 'superseded' },
      { kind: 'rectify', channel: 'webhook', status: 'superseded' },
    ])
    received.length = 0
    await t.deliver()
    expect(received).toHaveLength(1)
    expect(JSON.parse(received[0]!.body)).toMatchObject({
      type: 'contact.erased',
      data: { request_id: 'req-erase-1', contact_id: t.contactId, email: 'anne@exemple.fr' },
    })
    expect((await requestRecipients(t.deps, 'req-erase-1')).map((n) => n.status).sort()).toEqual([
      'delivered',
      'open',
    ])
  })

  it('passes a confirmed change of address on with the former address', async () => {
    const t = await setup()
    await correctContact(t.deps, await t.contact(), {
      attributes: {},
      locale: 'fr',
      email: 'anne.new@exemple.fr',
    })
    await t.deliver()
    const link = /\/me\/([\w.-]+)\/address/.exec(t.mail.sent.at(-1)!.text)![1]!
    // Nothing is passed on before the new address is confirmed.
    expect(received).toHaveLength(0)
    expect(await confirmEmailChange(t.deps, link)).toMatchObject({ status: 'changed' })
    await t.deliver()
    expect(JSON.parse(received[0]!.body).data).toMatchObject({
      email: 'anne@exemple.fr',
      changes: { email: 'anne.new@exemple.fr' },
    })
  })

  it('turns a webhook notice into a task when the recipient loses its webhook, and skips archived recipients', async () => {
    const t = await setup()
    await correctContact(t.deps, await t.contact(), {
      attributes: { first_name: 'Anne' },
      locale: 'fr',
      email: '',
    })
    await updateProcessor(t.deps, t.crm.processor.id, { webhook_url: null })
    await t.deliver()
    expect(received).toHaveLength(0)
    expect(
      t.rows(
        'SELECT channel, status FROM recipient_notices WHERE processor_id = ?',
        t.crm.processor.id,
      ),
    ).toEqual([{ channel: 'task', status: 'open' }])
    await updateProcessor(t.deps, t.printer.processor.id, { archived: true })
    await updateProcessor(t.deps, t.crm.processor.id, { archived: true })
    await correctContact(t.deps, await t.contact(), {
      attributes: { first_name: 'Annie' },
      locale: 'fr',
      email: '',
    })
    expect(t.rows('SELECT COUNT(*) AS n FROM recipient_notices')).toEqual([{ n: 2 }])
  })
})
