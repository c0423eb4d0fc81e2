// Data-subject requests (GDPR Art. 12(3)): each self-service access, export, rectification, objection
// and erasure is recorded with its one-month deadline and completed as it is served; the admin lists them.
import { describe, expect, it } from 'vitest'
import {
  contactRequests,
  dsrDueDate,
  listRequests,
  selfServiceDsrQuery,
} from '../../../../src/domain/rights/dsr.ts'
import { deliverOutbox } from '../../../../src/domain/platform/outbox.ts'
import { subscribe } from '../../../../src/domain/consent/subscriptions.ts'
import { API_CONSENT, testApp } from '../../../helpers/deps.ts'

const ORIGIN = 'http://gateway.test'

describe('dsrDueDate: one calendar month after receipt', () => {
  it.each([
    ['2026-11-29T09:00:00.000Z', '2026-12-29T09:00:00.000Z'],
    ['2026-12-15T23:59:59.999Z', '2027-01-15T23:59:59.999Z'],
    ['2027-01-31T10:00:00.000Z', '2027-02-28T10:00:00.000Z'],
    ['2028-01-31T10:00:00.000Z', '2028-02-29T10:00:00.000Z'],
    ['2026-03-31T00:00:00.000Z', '2026-04-30T00:00:00.000Z'],
    ['2026-02-28T12:00:00.000Z', '2026-03-28T12:00:00.000Z'],
  ])('%s → %s', (received, due) => {
    expect(new Date(dsrDueDate(Date.parse(received))).toISOString()).toBe(due)
  })
})

describe('self-service requests', () => {
  it('records every kind with its due date, completed as it is served, and no personal data', async () => {
    const t = await testApp()
    const r = await subscribe(t.deps, {
      ...API_CONSENT,
      email: 'anne@exemple.fr',
      purposes: ['cookies'],
      attributes: { first_name: 'Anne' },
    })
    if (!r.ok) throw new Error(r.message)
    const post = (path: string, body: string) =>
      t.app.request(path, {
        method: 'POST',
        body,
        headers: { Origin: ORIGIN, 'Content-Type': 'application/x-www-form-urlencoded' },
      })
    await post('/privacy', 'email=anne%40exemple.fr')
    await deliverOutbox(t.deps)
    const link = /\/me\/[\w.-]+/.exec(t.mail.sent.at(-1)!.text)![0]
    t.clock.advance(60_000)
    await t.app.request(link)
    await t.app.request(`${link}/export.json`)
    await t.app.request(`${link}/export.csv`)
    await post(`${link}/correct`, 'attr_first_name=Annie&locale=fr&email=anne%40exemple.fr')
    await post(`${link}/object`, '')
    await post(`${link}/erase`, 'confirm=yes')

    const rows = t.sqlite
      .prepare('SELECT * FROM dsr_requests ORDER BY received_at, kind')
      .all() as Record<string, any>[]
    expect(rows.map((d) => d.kind)).toEqual(['access', 'erase', 'export', 'object', 'rectify'])
    const start = Date.UTC(2026, 10, 29, 9, 0, 0)
    for (const d of rows) {
      expect(d.contact_id).toBe(r.contactId)
      expect(d.channel).toBe('self_service')
      expect(d.due_at).toBe(dsrDueDate(d.received_at))
      expect(d.completed_at).not.toBeNull()
      expect(d.verified_at).not.toBeNull()
      expect(d.handled_by).toBe('self_service')
      expect(d.details).not.toMatch(/anne|annie/i)
    }
    expect(rows[0]).toMatchObject({ received_at: start, completed_at: start + 60_000 })
    expect(rows[0]!.due_at).toBe(Date.UTC(2026, 11, 29, 9, 0, 0))
    expect(JSON.parse(rows.find((d) => d.kind === 'rectify')!.details)).toEqual({
      fields: ['first_name'],
    })

    // The same history, as the admin and the contact's own export read it.
    const views = await contactRequests(t.deps, r.contactId)
    expect(views).toHaveLength(5)
    expect(views[0]).toMatchObject({ dueAt: '2026-12-29T09:01:00.000Z', channel: 'self_service' })
  })
})

describe('listRequests (for the admin)', () => {
  it('lists open requests soonest deadline first, or every request newest first, by kind', async () => {
    const t = await testApp()
    const at = (ms: number) => t.clock.set(Date.UTC(2026, 0, 1) + ms)
    const add = async (kind: 'access' | 'erase', completed: boolean) => {
      const { id, queries } = selfServiceDsrQuery(t.deps, { contactId: null, kind, completed })
      await t.deps.atomic(queries)
      return id
    }
    at(0)
    const oldOpen = await add('access', false)
    at(86_400_000)
    const done = await add('erase', true)
    at(2 * 86_400_000)
    const newOpen = await add('erase', false)

    expect((await listRequests(t.deps, { open: true })).map((d) => d.id)).toEqual([
      oldOpen,
      newOpen,
    ])
    expect((await listRequests(t.deps)).map((d) => d.id)).toEqual([newOpen, done, oldOpen])
    expect((await listRequests(t.deps, { kind: 'erase' })).map((d) => d.id)).toEqual([
      newOpen,
      done,
    ])
    const [first] = await listRequests(t.deps, { open: true, limit: 1 })
    expect(first).toMatchObject({
      id: oldOpen,
      kind: 'access',
      receivedAt: '2026-01-01T00:00:00.000Z',
      dueAt: '2026-02-01T00:00:00.000Z',
      completedAt: null,
      contactId: null,
    })
  })
})
