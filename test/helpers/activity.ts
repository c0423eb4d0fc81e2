/**
 * A few days of a gateway's life through its own code and HTTP routes: double opt-ins confirmed after
 * various delays (and some never), direct grants, withdrawals, an objection and an erasure by staff,
 * Mautic webhooks (queued then processed, applied at once, ignored, refused), gate and send refusals,
 * and data-subject requests. What the daily counters count, so tests can compare the two.
 */
import type { App } from '../../src/app.ts'
import type { Deps } from '../../src/deps.ts'
import { staffErase, staffObject } from '../../src/domain/admin/contacts.ts'
import { recordStaffRequest } from '../../src/domain/admin/requests.ts'
import { confirmOptin } from '../../src/domain/consent/optin.ts'
import { subscribe } from '../../src/domain/consent/subscriptions.ts'
import { withdraw } from '../../src/domain/consent/withdrawal.ts'
import { flushCounters } from '../../src/domain/platform/counters.ts'
import { deliverOutbox } from '../../src/domain/platform/outbox.ts'
import type { MemoryMailTransport } from '../../src/mail/memory.ts'
import {
  channelChanged,
  contactFixture,
  leadSaved,
  signMautic,
  webhookBody,
  type EventFixture,
} from '../fixtures/mautic-webhooks.ts'
import { api, apiKey } from './api.ts'
import { API_CONSENT, drainOutbox } from './deps.ts'

export const WEBHOOK_SECRET = 'c5f1c0e1d2a3948576a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0'

interface Rig {
  app: App
  deps: Deps
  mail: MemoryMailTransport
  clock: { advance(ms: number): void; now(): number }
}

const MINUTE = 60_000
const HOUR = 3_600_000
const DAY = 86_400_000

async function postWebhook(t: Rig, events: EventFixture[], signature?: string) {
  const body = webhookBody(events)
  const res = await t.app.request('/hooks/mautic', {
    method: 'POST',
    body,
    headers: {
      'Content-Type': 'application/json',
      'Webhook-Signature': signature ?? (await signMautic(body, WEBHOOK_SECRET)),
    },
  })
  return res.status
}

/** Subscribes, then confirms the double opt-in mail's link after `delayMs` (null: never). */
async function optin(t: Rig, email: string, source: string, delayMs: number | null) {
  const r = await subscribe(t.deps, {
    ...API_CONSENT,
    source,
    email,
    purposes: ['newsletter', 'email_marketing'],
  })
  if (!r.ok) throw new Error(r.message)
  await deliverOutbox(t.deps)
  const token = /\/c\/([\w.-]+)/.exec(t.mail.sent.at(-1)?.text ?? '')?.[1]
  if (!token) throw new Error('no confirmation link')
  if (delayMs === null) return r.contactId
  t.clock.advance(delayMs)
  const confirmed = await confirmOptin(t.deps, token, { ip: '192.0.2.9' })
  if (confirmed.status !== 'confirmed') throw new Error(confirmed.status)
  return r.contactId
}

/** Days of activity, `days` of them, ending on the clock's day; returns the contacts it made. */
export async function liveActivity(t: Rig, days = 3): Promise<{ contacts: string[] }> {
  const gate = api(t.app, await apiKey(t.deps, ['gate', 'send']))
  const contacts: string[] = []
  const staff = { actor: 'admin:test', reason: 'letter received', via: 'api' as const }
  let n = 0
  for (let d = 0; d < days; d++) {
    const tag = `d${d}`
    contacts.push(await optin(t, `quick-${tag}@exemple.fr`, 'form:home', 30_000))
    contacts.push(await optin(t, `slow-${tag}@exemple.fr`, 'api:website', 3 * HOUR))
    contacts.push(await optin(t, `late-${tag}@exemple.fr`, 'form:home', 2 * DAY + d * HOUR))
    await optin(t, `never-${tag}@exemple.fr`, 'form:footer', null)
    const direct = await subscribe(t.deps, {
      ...API_CONSENT,
      email: `cookies-${tag}@exemple.fr`,
      purposes: ['cookies'],
    })
    if (direct.ok) contacts.push(direct.contactId)
    await withdraw(t.deps, contacts[contacts.length - 3]!, ['newsletter'], {
      method: 'one_click',
      source: 'test',
      actor: 'contact',
      evidence: {},
    })
    // Gate and send refusals, counted in memory, then written.
    await gate.gate('newsletter', [{ email: `nobody-${tag}@exemple.fr` }, { email: 'x' }])
    await gate.post('/api/v1/send', {
      purpose: 'newsletter',
      to: `nobody-${tag}@exemple.fr`,
      subject: 'Hello',
      text: 'Hello',
    })
    await flushCounters(t.deps)
    // Mautic: a contact saved (queued, then processed), an unsubscribe (applied at once), an event
    // type the gateway skips (ignored), a delivery with a wrong signature (refused).
    const id = 100 + ++n
    const who = contactFixture({ id, email: `quick-${tag}@exemple.fr` })
    await postWebhook(t, [leadSaved('new', who, t.clock.now())])
    await postWebhook(t, [
      channelChanged(
        who,
        { channel: 'email', oldStatus: 'contactable', newStatus: 'unsubscribed' },
        t.clock.now(),
      ),
      ['mautic.page_on_hit', { hit: { id: n } }],
    ])
    await postWebhook(t, [leadSaved('update', who, t.clock.now())], 'v1,bm90IGl0')
    await drainOutbox(t.deps)
    await recordStaffRequest(
      t.deps,
      { kind: d % 2 ? 'access' : 'rectify', via: 'post', note: 'letter' },
      { actor: 'admin:test' },
    )
    t.clock.advance(DAY + 7 * MINUTE)
  }
  await staffObject(t.deps, contacts[0]!, staff)
  await staffErase(t.deps, contacts[1]!, staff)
  await drainOutbox(t.deps)
  return { contacts }
}
