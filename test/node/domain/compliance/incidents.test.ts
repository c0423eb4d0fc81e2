// The breach register (GDPR Art. 33, 34) with a fixed clock: the 72-hour clock from detection on
// every view, the reminder mails to DPO_EMAIL at 48 and 66 hours (once each, stopped by the
// notification), and the reasons required for a notification after 72 hours.
import { describe, expect, it } from 'vitest'
import {
  assessIncident,
  closeIncident,
  createIncident,
  getIncident,
  recordAuthorityNotification,
  recordPeopleNotification,
} from '../../../../src/domain/compliance/incidents.ts'
import { runScheduledJobs } from '../../../../src/jobs/scheduler.ts'
import { drainOutbox, TEST_NOW, testDeps } from '../../../helpers/deps.ts'

const HOUR = 3_600_000

async function setup(
  env: Record<string, string> = { DPO_EMAIL: 'dpo@acme.test', DPO_LOCALE: 'fr' },
) {
  const t = await testDeps({ ORG_NAME: 'ACME', ...env })
  /** The scheduler's run at the current time, then the outbox. */
  const tick = async () => {
    await runScheduledJobs(t.deps)
    await drainOutbox(t.deps)
  }
  const reminders = () => t.mail.sent.filter((m) => m.to === 'dpo@acme.test')
  return { ...t, tick, reminders }
}

async function breach(t: Awaited<ReturnType<typeof setup>>, detectedAt = TEST_NOW) {
  const r = await createIncident(
    t.deps,
    {
      title: 'Lost laptop',
      detected_at: detectedAt,
      nature: ['confidentiality'],
      people_affected: 120,
    },
    'api:dpo',
  )
  if (!r.ok) throw new Error(r.message)
  return r.incident.id
}

describe('breach register: the 72-hour clock', () => {
  it('reminds the DPO at 48 and at 66 hours, once each, in DPO_LOCALE', async () => {
    const t = await setup()
    const id = await breach(t)
    t.clock.advance(47 * HOUR + 59 * 60_000)
    await t.tick()
    expect(t.reminders()).toHaveLength(0)
    expect((await getIncident(t.deps, id))!.clock).toMatchObject({
      deadline: new Date(TEST_NOW + 72 * HOUR).toISOString(),
      hours_elapsed: 47,
      overdue: false,
      stopped: false,
    })

    t.clock.advance(60_000) // 48 hours
    await t.tick()
    await t.tick() // a second run sends nothing more
    expect(t.reminders()).toHaveLength(1)
    expect(t.reminders()[0]!.subject).toBe(
      'Violation de données : 48 heures depuis la découverte – Lost laptop',
    )
    expect(t.reminders()[0]!.text).toContain('Heures restantes : 24')
    expect(t.reminders()[0]!.text).toContain('Notification à faire avant : 2 décembre 2026')

    t.clock.advance(18 * HOUR - 1) // 65:59:59.999
    await t.tick()
    expect(t.reminders()).toHaveLength(1)
    t.clock.advance(1)
    await t.tick()
    await t.tick()
    expect(t.reminders().map((m) => m.subject)).toEqual([
      'Violation de données : 48 heures depuis la découverte – Lost laptop',
      'Violation de données : 66 heures depuis la découverte – Lost laptop',
    ])
    expect((await getIncident(t.deps, id))!.reminders_sent.map((r) => r.hours)).toEqual([48, 66])

    t.clock.advance(7 * HOUR)
    expect((await getIncident(t.deps, id))!.clock).toMatchObject({
      overdue: true,
      hours_elapsed: 73,
    })
  })

  it('sends nothing once the authority is notified, or when the risk is judged unlikely', async () => {
    const t = await setup()
    const notified = await breach(t)
    const unlikely = await breach(t)
    t.clock.advance(10 * HOUR)
    await assessIncident(t.deps, notified, { risk: 'high', assessment: 'Unencrypted disk' })
    expect(
      await recordAuthorityNotification(t.deps, notified, { reference: 'CNIL-2026-42' }),
    ).toMatchObject({
      ok: true,
      incident: {
        stage: 'authority_notified',
        clock: { stopped: true, stopped_by: 'authority_notified', hours_elapsed: 10 },
      },
    })
    await assessIncident(t.deps, unlikely, {
      risk: 'unlikely',
      assessment: 'Encrypted disk, key safe',
    })
    t.clock.advance(60 * HOUR)
    await t.tick()
    expect(t.reminders()).toHaveLength(0)
    expect((await getIncident(t.deps, unlikely))!.clock).toMatchObject({
      stopped: true,
      stopped_by: 'risk_unlikely',
      overdue: false,
    })
  })

  it('asks for the reasons of a late notification (Art. 33(1)), then records people told (Art. 34) and closes', async () => {
    const t = await setup()
    const id = await breach(t)
    t.clock.advance(80 * HOUR)
    expect(await recordAuthorityNotification(t.deps, id, {})).toMatchObject({
      ok: false,
      code: 'delay_reason_required',
    })
    expect(
      await recordPeopleNotification(t.deps, id, { notified: true, notice: 'mail' }),
    ).toMatchObject({
      ok: false,
      code: 'not_assessed',
    })
    await assessIncident(t.deps, id, { risk: 'high', assessment: 'Addresses and health data' })
    const late = await recordAuthorityNotification(t.deps, id, {
      delay_reason: 'Scope established on day 3',
    })
    expect(late).toMatchObject({ ok: true, incident: { clock: { overdue: true, stopped: true } } })
    expect(
      await recordPeopleNotification(t.deps, id, {
        notified: true,
        notice: 'E-mail to the 120 people',
      }),
    ).toMatchObject({
      ok: true,
      incident: { stage: 'people_notified' },
    })
    expect(await closeIncident(t.deps, id, { measures: 'Disk encryption enforced' })).toMatchObject(
      {
        ok: true,
        incident: { stage: 'closed', measures: 'Disk encryption enforced' },
      },
    )
    expect(await assessIncident(t.deps, id, { risk: 'risk', assessment: 'x' })).toMatchObject({
      ok: false,
      code: 'closed',
    })
    expect(
      await createIncident(t.deps, { title: 'x', detected_at: TEST_NOW + 200 * HOUR }, 'a'),
    ).toMatchObject({
      ok: false,
      code: 'in_future',
    })
  })

  it('without DPO_EMAIL, logs the reminder as an error instead', async () => {
    const t = await setup({})
    await breach(t)
    t.clock.advance(49 * HOUR)
    await t.tick()
    expect(t.mail.sent).toHaveLength(0)
    expect(t.logs.some((l) => l.msg === 'breach reminder not sent: DPO_EMAIL is not set')).toBe(
      true,
    )
  })
})
