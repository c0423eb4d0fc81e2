import { describe, expect, it } from 'vitest'
import {
  backoffDelay,
  deliverOutbox,
  enqueueQuery,
  OUTBOX_MAX_ATTEMPTS,
  OUTBOX_DONE_RETENTION_MS,
  purgeDeliveredOutbox,
  retryDead,
} from '../../../../src/domain/platform/outbox.ts'
import { startOutboxLoop } from '../../../../src/runtime/node/outbox-loop.ts'
import { testDeps } from '../../../helpers/deps.ts'
import { deliverUntilDead, testMessage } from '../../../helpers/outbox.ts'

async function setup(handler: (p: unknown) => Promise<void>) {
  const t = await testDeps()
  t.deps.outboxHandlers = { 'test.call': handler }
  return t
}

describe('outbox delivery', () => {
  it('delivers a message once and marks it done', async () => {
    const seen: unknown[] = []
    const { deps, clock } = await setup(async (p) => void seen.push(p))
    await deps.atomic([enqueueQuery(deps.db, clock.now(), testMessage('test.call', { a: 1 }))])
    expect(await deliverOutbox(deps)).toEqual({ delivered: 1, retried: 0, dead: 0 })
    expect(await deliverOutbox(deps)).toEqual({ delivered: 0, retried: 0, dead: 0 })
    expect(seen).toEqual([{ a: 1 }])
    const row = await deps.db.selectFrom('outbox').selectAll().executeTakeFirstOrThrow()
    expect(row).toMatchObject({ status: 'done', attempts: 1, done_at: clock.now() })
    // Nothing kept once delivered: payloads may hold personal data.
    expect(row.payload).toBe('{}')
  })

  it('retries with growing backoff, keeps order per key, and dead-letters after the maximum', async () => {
    let fail = true
    const seen: number[] = []
    const { deps, clock, logs } = await setup(async (p) => {
      if (fail) throw new Error('Mautic is down (503)')
      seen.push((p as { n: number }).n)
    })
    await deps.atomic([
      enqueueQuery(deps.db, clock.now(), testMessage('test.call', { n: 1 }, { orderingKey: 'c1' })),
      enqueueQuery(deps.db, clock.now(), testMessage('test.call', { n: 2 }, { orderingKey: 'c1' })),
    ])
    expect(await deliverOutbox(deps)).toEqual({ delivered: 0, retried: 1, dead: 0 }) // n=2 waits behind n=1
    expect(await deliverOutbox(deps)).toEqual({ delivered: 0, retried: 0, dead: 0 }) // not due yet
    clock.advance(60 * 60_000)
    fail = false
    await deliverOutbox(deps)
    await deliverOutbox(deps)
    expect(seen).toEqual([1, 2])
    expect(
      logs.some((l) => l.msg === 'outbox delivery failed' && l.error === 'Mautic is down (503)'),
    ).toBe(true)
  })

  it('dead-letters after the maximum attempts and can be retried', async () => {
    const { deps, clock } = await setup(async () => {
      throw new Error('always')
    })
    await deps.atomic([enqueueQuery(deps.db, clock.now(), testMessage('test.call', {}), 'm1')])
    await deliverUntilDead(deps, clock)
    const dead = await deps.db.selectFrom('outbox').selectAll().executeTakeFirstOrThrow()
    expect(dead).toMatchObject({
      status: 'dead',
      attempts: OUTBOX_MAX_ATTEMPTS,
      last_error: 'always',
    })
    expect(await retryDead(deps.db, 'm1', clock.now())).toBe(true)
    const again = await deps.db.selectFrom('outbox').selectAll().executeTakeFirstOrThrow()
    expect(again).toMatchObject({ status: 'pending', attempts: 0 })
  })

  it('nothing is lost across an outage of an hour of fake time', async () => {
    let up = false
    const seen: number[] = []
    const { deps, clock } = await setup(async (p) => {
      if (!up) throw new Error('ECONNREFUSED')
      seen.push((p as { n: number }).n)
    })
    await deps.atomic(
      Array.from({ length: 5 }, (_, n) =>
        enqueueQuery(deps.db, clock.now(), testMessage('test.call', { n })),
      ),
    )
    for (let minute = 0; minute < 60; minute++) {
      await deliverOutbox(deps)
      clock.advance(60_000)
    }
    up = true
    clock.advance(60 * 60_000)
    await deliverOutbox(deps)
    expect(seen.sort()).toEqual([0, 1, 2, 3, 4])
  })

  it('delivers people-facing mail beside a backlog of integration calls, never behind it', async () => {
    const order: string[] = []
    const t = await testDeps()
    const slowMautic = () => new Promise<void>((resolve) => setTimeout(resolve, 20))
    t.deps.outboxHandlers = {
      'mautic.mirror': async (p: { contactId: string }) => {
        await slowMautic()
        order.push(p.contactId)
      },
      'mail.confirm': async () => void order.push('confirmation mail'),
    }
    const now = t.clock.now()
    // A sync queued 120 mirror calls (one per contact) just before a person subscribed.
    await t.deps.atomic(
      Array.from({ length: 120 }, (_, i) =>
        enqueueQuery(t.deps.db, now, {
          kind: 'mautic.mirror',
          payload: { contactId: `c${i}` },
          orderingKey: `mautic:c${i}`,
        }),
      ),
    )
    await t.deps.atomic([
      enqueueQuery(t.deps.db, now, {
        kind: 'mail.confirm',
        payload: { requestId: 'r1' },
        orderingKey: 'person',
      }),
    ])
    const report = await deliverOutbox(t.deps)
    expect(report.delivered).toBe(51) // 50 per lane at most, and the lone mail
    expect(order[0]).toBe('confirmation mail') // not after the 120 calls, nor after 50 of them
  })

  it('backoff doubles from 5 s with jitter, capped at one hour', () => {
    expect(backoffDelay(1, () => 0.5)).toBe(5_000)
    expect(backoffDelay(2, () => 0.5)).toBe(10_000)
    expect(backoffDelay(30, () => 0.5)).toBe(3_600_000)
    expect(backoffDelay(1, () => 0)).toBe(4_000)
    expect(backoffDelay(1, () => 1)).toBe(6_000)
  })

  it('a claimed message is not delivered twice by concurrent runners', async () => {
    let calls = 0
    const { deps, clock } = await setup(async () => {
      calls++
      await new Promise((r) => setTimeout(r, 20))
    })
    await deps.atomic([enqueueQuery(deps.db, clock.now(), testMessage('test.call', {}))])
    await Promise.all([deliverOutbox(deps), deliverOutbox(deps), deliverOutbox(deps)])
    expect(calls).toBe(1)
  })
})

describe('Node delivery loop', () => {
  it('delivers within moments of a wake-up', async () => {
    const seen: unknown[] = []
    const { deps } = await setup(async (p) => void seen.push(p))
    deps.clock = { now: () => Date.now() }
    const loop = startOutboxLoop(deps, 60_000)
    await new Promise((r) => setTimeout(r, 20)) // first (empty) run
    await deps.atomic([enqueueQuery(deps.db, Date.now(), testMessage('test.call', { woke: true }))])
    const t0 = Date.now()
    loop.wake()
    while (seen.length === 0 && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 5))
    await loop.stop()
    expect(seen).toEqual([{ woke: true }])
    expect(Date.now() - t0).toBeLessThan(1000)
  })
})

describe('outbox retention', () => {
  it('deletes delivered rows after 30 days, and never a pending or dead one', async () => {
    const { deps, clock } = await setup(async () => {})
    await deps.atomic([
      enqueueQuery(deps.db, clock.now(), testMessage('test.call', {})),
      enqueueQuery(deps.db, clock.now(), testMessage('test.call', {}, { orderingKey: 'k' })),
    ])
    await deliverOutbox(deps)
    await deps.atomic([enqueueQuery(deps.db, clock.now(), testMessage('test.call', {}))])
    await deps.db
      .updateTable('outbox')
      .set({ status: 'dead' })
      .where('status', '=', 'pending')
      .execute()
    clock.advance(OUTBOX_DONE_RETENTION_MS - 1)
    expect(await purgeDeliveredOutbox(deps)).toBe(0)
    clock.advance(2)
    expect(await purgeDeliveredOutbox(deps)).toBe(2)
    const left = await deps.db.selectFrom('outbox').select('status').execute()
    expect(left).toEqual([{ status: 'dead' }])
  })
})
