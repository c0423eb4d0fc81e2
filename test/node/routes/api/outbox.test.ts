// /api/v1/outbox (dead letters, retry) and /api/v1/findings: admin keys only, payloads never shown.
import { describe, expect, it } from 'vitest'
import { enqueueQuery, OUTBOX_MAX_ATTEMPTS } from '../../../../src/domain/platform/outbox.ts'
import { insertFindingQuery } from '../../../../src/db/repositories/findings.ts'
import { api, apiKey } from '../../../helpers/api.ts'
import { testApp } from '../../../helpers/deps.ts'
import { deliverUntilDead } from '../../../helpers/outbox.ts'

async function setup() {
  const t = await testApp()
  const admin = api(t.app, await apiKey(t.deps, ['admin']))
  return { ...t, admin }
}

describe('/api/v1/outbox', () => {
  it('lists a dead-lettered message without its payload, and puts it back on request', async () => {
    const t = await setup()
    t.deps.outboxHandlers = {
      'mautic.mirror': () => Promise.reject(new Error('Mautic unreachable')),
    }
    await t.deps.atomic([
      enqueueQuery(t.deps.db, t.clock.now(), {
        kind: 'mautic.mirror',
        payload: { contactId: 'secret-looking-payload' },
      }),
    ])
    await deliverUntilDead(t.deps, t.clock)
    const listed = await t.admin.get('/api/v1/outbox?status=dead')
    expect(listed.status).toBe(200)
    const [message] = listed.body.messages as any[]
    expect(message).toMatchObject({
      kind: 'mautic.mirror',
      attempts: OUTBOX_MAX_ATTEMPTS,
      last_error: 'Mautic unreachable',
    })
    expect(JSON.stringify(listed.body)).not.toContain('secret-looking-payload')

    const retried = await t.admin.post(`/api/v1/outbox/${message.id}/retry`)
    expect(retried).toEqual({ status: 200, body: { status: 'pending' } })
    expect((await t.admin.get('/api/v1/outbox?status=dead')).body.messages).toEqual([])
    expect((await t.admin.get('/api/v1/outbox?status=pending')).body.messages).toHaveLength(1)
    expect((await t.admin.post(`/api/v1/outbox/${message.id}/retry`)).status).toBe(404)
  })

  it('refuses keys without the admin scope and unknown statuses', async () => {
    const t = await setup()
    const gate = api(t.app, await apiKey(t.deps, ['gate']))
    expect((await gate.get('/api/v1/outbox')).status).toBe(403)
    expect((await t.admin.get('/api/v1/outbox?status=done')).status).toBe(400)
  })
})

describe('/api/v1/findings', () => {
  it('lists open findings, filtered by kind', async () => {
    const t = await setup()
    await t.deps.atomic([
      insertFindingQuery(t.deps.db, {
        kind: 'send_without_consent',
        contactId: null,
        mauticId: '42',
        purposeKey: 'newsletter',
        details: { email_id: 3, reason: 'no_consent' },
        now: t.clock.now(),
      }),
      insertFindingQuery(t.deps.db, {
        kind: 'bounced',
        contactId: null,
        mauticId: '43',
        purposeKey: null,
        details: {},
        now: t.clock.now(),
      }),
    ])
    const all = await t.admin.get('/api/v1/findings')
    expect((all.body.findings as any[]).map((f) => f.kind)).toEqual([
      'send_without_consent',
      'bounced',
    ])
    const sends = await t.admin.get('/api/v1/findings?kind=send_without_consent')
    expect(sends.body.findings).toEqual([
      expect.objectContaining({ mautic_id: '42', details: { email_id: 3, reason: 'no_consent' } }),
    ])
    expect((await t.admin.get('/api/v1/findings?kind=nope')).status).toBe(400)
  })
})
