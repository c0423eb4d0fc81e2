// A long Mautic outage in fake time: 500s, 429s with Retry-After, timeouts and refused connections.
// The outbox keeps every call, backs off, drains in order per contact once Mautic is back, and
// dead-letters a message only past its limit of attempts.
import { describe, expect, it } from 'vitest'
import { subscribe } from '../../../src/domain/consent/subscriptions.ts'
import {
  deliverOutbox,
  enqueueQuery,
  OUTBOX_MAX_ATTEMPTS,
  retryDead,
  type OutboxMessage,
} from '../../../src/domain/platform/outbox.ts'
import { createMauticClient } from '../../../src/mautic/client.ts'
import { API_CONSENT, testApp } from '../../helpers/deps.ts'
import { useMautic } from '../../helpers/mautic-fake.ts'

const mautic = useMautic('https://mautic.test')
const MINUTE = 60_000
const HOUR = 60 * MINUTE

async function setup() {
  let now = 0
  const t = await testApp(
    { ...mautic.env, MIRROR_MODE: 'enforce' },
    {
      mautic: createMauticClient(mautic.connection, {
        sleep: async () => {},
        timeoutMs: 50,
        now: () => now,
      }),
    },
  )
  now = t.clock.now()
  const tick = (ms: number) => {
    t.clock.advance(ms)
    now = t.clock.now()
  }
  /** Two gateway contacts, each linked to a Mautic contact. */
  const linked = async (email: string) => {
    const r = await subscribe(t.deps, { ...API_CONSENT, email, purposes: ['cookies'] })
    if (!r.ok) throw new Error(r.message)
    const m = mautic.addContact({ email })
    t.sqlite
      .prepare("INSERT INTO contact_links VALUES ('mautic', ?, ?, 0)")
      .run(String(m.id), r.contactId)
    t.sqlite.prepare('DELETE FROM outbox').run() // the subscription's own mirror call: not this test's
    return { contactId: r.contactId, mauticId: m.id }
  }
  const rows = () =>
    t.sqlite
      .prepare('SELECT id, kind, status, attempts, next_attempt_at FROM outbox ORDER BY id')
      .all() as {
      id: string
      kind: string
      status: string
      attempts: number
      next_attempt_at: number
    }[]
  return { ...t, tick, linked, rows }
}

/** For each contact, three calls in order: mirror, then the pushed correction, then the deletion. */
function callsFor(c: { contactId: string; mauticId: number }): OutboxMessage[] {
  const orderingKey = `mautic:${c.contactId}`
  return [
    { kind: 'mautic.mirror', payload: { contactId: c.contactId }, orderingKey },
    { kind: 'mautic.update', payload: { contactId: c.contactId }, orderingKey },
    { kind: 'mautic.delete', payload: { mauticId: String(c.mauticId) }, orderingKey },
  ]
}

/** The index of the first request of each kind of call to this Mautic contact. */
function orderSeen(mauticId: number, from: number) {
  const paths = mautic.requests.slice(from).map((r) => `${r.method} ${r.path}`)
  const first = (re: RegExp) => paths.findIndex((p) => re.test(p))
  return {
    mirror: first(new RegExp(`^GET /api/contacts/${mauticId}$`)),
    update: first(new RegExp(`^PATCH /api/contacts/${mauticId}/edit$`)),
    delete: first(new RegExp(`^DELETE /api/contacts/${mauticId}/delete$`)),
  }
}

describe('a long Mautic outage', () => {
  it('keeps every call through ten hours of failures, backs off, then drains in order per contact', async () => {
    const t = await setup()
    const a = await t.linked('anne@exemple.fr')
    const b = await t.linked('bruno@exemple.fr')
    const now = t.clock.now()
    await t.deps.atomic(
      [...callsFor(a), ...callsFor(b)].map((m) => enqueueQuery(t.deps.db, now, m)),
    )
    expect(t.rows()).toHaveLength(6)

    let attempts = 0
    const phases: [string, () => void, number][] = [
      ['refused connections', () => mautic.down(true), 3 * HOUR],
      ['500s', () => (mautic.recover(), mautic.failNext(10_000, 500)), 3 * HOUR],
      ['timeouts', () => (mautic.recover(), mautic.failNext(10_000, 'timeout')), 2 * HOUR],
    ]
    for (const [, start, length] of phases) {
      start()
      for (let spent = 0; spent < length; spent += 5 * MINUTE) {
        t.tick(5 * MINUTE)
        const report = await deliverOutbox(t.deps)
        expect(report.delivered).toBe(0)
        expect(report.dead).toBe(0)
        attempts += report.retried
      }
      // Nothing lost, nothing dead-lettered, and only each contact's head was tried.
      const rows = t.rows()
      expect(rows.map((r) => r.status)).toEqual(Array(6).fill('pending'))
      expect(rows.filter((r) => r.attempts > 0).map((r) => r.kind)).toEqual([
        'mautic.mirror',
        'mautic.mirror',
      ])
    }
    // Backed off: doubling from 5 s up to an hour, not a try every five minutes for ten hours.
    expect(attempts).toBeLessThan(40)
    expect(t.rows()[0]!.attempts).toBeLessThan(OUTBOX_MAX_ATTEMPTS)

    // A 429 asking for an hour: the outbox waits that hour, whatever its own backoff says.
    mautic.recover()
    mautic.failNext(6, 429, undefined, { 'Retry-After': '3600' }) // three tries of each head
    t.tick(Math.max(0, Math.max(...t.rows().map((r) => r.next_attempt_at)) - t.clock.now()))
    expect(await deliverOutbox(t.deps)).toMatchObject({ retried: 2 })
    for (const head of t.rows().filter((r) => r.kind === 'mautic.mirror'))
      expect(head.next_attempt_at).toBeGreaterThanOrEqual(t.clock.now() + HOUR)

    // Mautic is back: everything drains, in order per contact.
    mautic.recover()
    const before = mautic.requests.length
    for (let i = 0; i < 20 && t.rows().some((r) => r.status === 'pending'); i++) {
      t.tick(2 * HOUR)
      await deliverOutbox(t.deps)
    }
    expect(t.rows().map((r) => r.status)).toEqual(Array(6).fill('done'))
    for (const c of [a, b]) {
      const seen = orderSeen(c.mauticId, before)
      expect(seen.mirror).toBeGreaterThanOrEqual(0)
      expect(seen.mirror).toBeLessThan(seen.update)
      expect(seen.update).toBeLessThan(seen.delete)
    }
  })

  it('dead-letters a call only past its limit of attempts, and a retry puts it back', async () => {
    const t = await setup()
    const a = await t.linked('anne@exemple.fr')
    await t.deps.atomic([enqueueQuery(t.deps.db, t.clock.now(), callsFor(a)[0]!)])
    mautic.down(true)
    for (let i = 0; i < 48 * 12 && t.rows()[0]!.status === 'pending'; i++) {
      t.tick(5 * MINUTE)
      await deliverOutbox(t.deps)
      const row = t.rows()[0]!
      if (row.status === 'dead') expect(row.attempts).toBe(OUTBOX_MAX_ATTEMPTS)
      else expect(row.attempts).toBeLessThan(OUTBOX_MAX_ATTEMPTS)
    }
    expect(t.rows()[0]!.status).toBe('dead')
    // About a day of retries before giving up, not minutes.
    expect(t.clock.now() - t.rows()[0]!.next_attempt_at).toBeLessThan(2 * HOUR)

    mautic.down(false)
    expect(await retryDead(t.deps.db, t.rows()[0]!.id, t.clock.now())).toBe(true)
    expect(await deliverOutbox(t.deps)).toMatchObject({ delivered: 1, dead: 0 })
    expect(mautic.calls('GET', `/api/contacts/${a.mauticId}`).length).toBeGreaterThan(0)
  })
})
