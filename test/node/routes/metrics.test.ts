// GET /metrics: off unless METRICS=1, an admin API key, the Prometheus text format read by a
// Prometheus text-format parser, every figure from the database (a second app on the same database,
// which has counted nothing itself, serves the same numbers).
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { describe, expect, it } from 'vitest'
import { createApp } from '../../../src/app.ts'
import { subscribe } from '../../../src/domain/consent/subscriptions.ts'
import { countNow, flushCounters } from '../../../src/domain/platform/counters.ts'
import { enqueueQuery } from '../../../src/domain/platform/outbox.ts'
import { selfServiceDsrQuery } from '../../../src/domain/rights/dsr.ts'
import { insertFindingQuery } from '../../../src/db/repositories/findings.ts'
import { api, apiKey } from '../../helpers/api.ts'
import { testApp } from '../../helpers/deps.ts'
import { deliverUntilDead } from '../../helpers/outbox.ts'

const DAY = 86_400_000

interface Family {
  name: string
  type: string
  metrics: { value: string; labels?: Record<string, string> }[]
}

async function scrape(
  app: { request: (p: string, i?: RequestInit) => Response | Promise<Response> },
  key: string,
) {
  const res = await app.request('/metrics', { headers: { Authorization: `Bearer ${key}` } })
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
  expect(res.headers.get('cache-control')).toBe('no-store')
  const families = parsePrometheusTextFormat(await res.text()) as Family[]
  const value = (name: string, labels: Record<string, string> = {}) => {
    const f = families.find((x) => x.name === `consent_gateway_${name}`)
    if (!f) throw new Error(`no family ${name}`)
    const m = f.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v))
    return m === undefined ? undefined : Number(m.value)
  }
  return { families, value }
}

describe('GET /metrics', () => {
  it('is not served unless METRICS=1, whatever the key', async () => {
    const t = await testApp()
    const key = await apiKey(t.deps, ['admin'])
    const res = await t.app.request('/metrics', { headers: { Authorization: `Bearer ${key}` } })
    expect(res.status).toBe(404)
  })

  it('asks for an API key with the admin scope', async () => {
    const t = await testApp({ METRICS: '1' })
    expect((await t.app.request('/metrics')).status).toBe(401)
    const gate = await apiKey(t.deps, ['gate'])
    const res = await t.app.request('/metrics', { headers: { Authorization: `Bearer ${gate}` } })
    expect(res.status).toBe(403)
    expect(res.headers.get('www-authenticate')).toContain('insufficient_scope')
  })

  it('refuses a METRICS value that is neither 0 nor 1', async () => {
    await expect(testApp({ METRICS: 'yes' })).rejects.toThrow(/METRICS must be one of 0, 1/)
  })

  it('serves the counters, outbox, requests and findings as a Prometheus parser reads them', async () => {
    const t = await testApp({ METRICS: '1' })
    const key = await apiKey(t.deps, ['admin', 'gate'])

    // Two double opt-in requests for the newsletter (ledger events, counted as they land).
    for (const email of ['ana@exemple.fr', 'ben@exemple.fr'])
      await subscribe(t.deps, {
        email,
        purposes: ['newsletter'],
        locale: 'fr',
        method: 'api',
        source: 'test',
        actor: 'test',
        evidence: {},
      })
    // A gate refusal through the API (tallied in memory, written within a second: flushed here).
    const refused = await api(t.app, key).gate('newsletter', [{ email: 'nobody@exemple.fr' }])
    expect(refused[0]?.allowed).toBe(false)
    await flushCounters(t.deps)
    // One dead letter, one message still pending.
    t.deps.outboxHandlers = { 'mautic.mirror': () => Promise.reject(new Error('down')) }
    await t.deps.atomic([
      enqueueQuery(t.deps.db, t.clock.now(), {
        kind: 'mautic.mirror',
        payload: { contactId: 'a' },
      }),
    ])
    await deliverUntilDead(t.deps, t.clock)
    const pendingSince = t.clock.now()
    await t.deps.atomic([
      enqueueQuery(t.deps.db, pendingSince, { kind: 'mautic.mirror', payload: { contactId: 'b' } }),
    ])
    // Requests: one received 40 days ago (overdue), one 25 days ago (due within 7 days), one today.
    for (const ago of [40, 25, 0]) {
      const r = selfServiceDsrQuery(
        { ...t.deps, clock: { now: () => t.clock.now() - ago * DAY } },
        { contactId: null, kind: 'erase' },
      )
      await t.deps.atomic(r.queries)
    }
    // An open finding.
    await t.deps.atomic([
      insertFindingQuery(t.deps.db, {
        kind: 'send_without_consent',
        contactId: null,
        mauticId: '42',
        purposeKey: 'newsletter',
        details: {},
        now: t.clock.now(),
      }),
    ])
    t.clock.advance(90_000)

    const { families, value } = await scrape(t.app, key)
    const types = Object.fromEntries(families.map((f) => [f.name, f.type]))
    expect(types).toMatchObject({
      consent_gateway_consent_events_total: 'COUNTER',
      consent_gateway_gate_refusals_total: 'COUNTER',
      consent_gateway_webhook_events_total: 'COUNTER',
      consent_gateway_requests_received_total: 'COUNTER',
      consent_gateway_outbox_pending: 'GAUGE',
      consent_gateway_outbox_oldest_pending_age_seconds: 'GAUGE',
      consent_gateway_outbox_dead_letters: 'GAUGE',
      consent_gateway_requests_due_within_7_days: 'GAUGE',
      consent_gateway_requests_overdue: 'GAUGE',
      consent_gateway_findings_open: 'GAUGE',
    })
    expect(value('consent_events_total', { purpose: 'newsletter', action: 'requested' })).toBe(2)
    expect(value('optin_requested_total', { purpose: 'newsletter' })).toBe(2)
    expect(
      value('gate_refusals_total', {
        place: 'gate_api',
        purpose: 'newsletter',
        reason: 'unknown_contact',
      }),
    ).toBe(1)
    expect(value('outbox_pending')).toBe(1)
    expect(value('outbox_oldest_pending_age_seconds')).toBe(90)
    expect(value('outbox_dead_letters', { kind: 'mautic.mirror' })).toBe(1)
    expect(value('requests_received_total', { kind: 'erase', channel: 'self_service' })).toBe(3)
    expect(value('requests_open')).toBe(3)
    expect(value('requests_due_within_7_days')).toBe(1)
    expect(value('requests_overdue')).toBe(1)
    expect(value('findings_open', { kind: 'send_without_consent' })).toBe(1)
    expect(value('findings_open', { kind: 'bounced' })).toBe(0)

    // Another instance on the same database, which counted nothing in its own memory, says the same.
    const other = createApp({ ...t.deps })
    expect((await scrape(other, key)).families).toEqual(families)
  })

  it('escapes label values a webhook could bring (quotes, backslashes, line feeds)', async () => {
    const t = await testApp({ METRICS: '1' })
    const key = await apiKey(t.deps, ['admin'])
    const type = 'odd "type" \\ with\na line feed'
    await countNow(t.deps, 'webhook_events', [{ type, outcome: 'ignored' }])
    const { value } = await scrape(t.app, key)
    expect(value('webhook_events_total', { type, outcome: 'ignored' })).toBe(1)
  })
})
