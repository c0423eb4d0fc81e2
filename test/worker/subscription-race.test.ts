// Concurrent subscriptions for one new address on D1 (issue 17, item 2), as on Node: parallel
// requests in one isolate, and two isolates that both read before either writes.
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { createApiKey } from '../../src/domain/platform/api-keys.ts'
import { subscribe } from '../../src/domain/consent/subscriptions.ts'
import { forEnv } from '../../src/runtime/worker/deps.ts'
import { holdTwoWrites } from '../helpers/race.ts'

const BASE = 'https://gateway.test'
const CONSENT = {
  locale: 'fr' as const,
  method: 'api' as const,
  source: 'test',
  actor: 'api:test',
  evidence: { ip: '192.0.2.1' },
}

describe('POST /api/v1/subscriptions on D1, in parallel for one new address', () => {
  it('answers every request with 202 and records every purpose under one contact', async () => {
    const { app, deps } = await forEnv(env)
    const created = await createApiKey(deps, { name: 'w-race', scopes: ['subscribe'] })
    if (!created.ok) throw new Error(created.error)
    const purposes = ['cookies', 'push_notifications', 'geolocation', 'newsletter']
    const answers = await Promise.all(
      [...purposes, ...purposes].map((p) =>
        app.request(
          `${BASE}/api/v1/subscriptions`,
          {
            method: 'POST',
            headers: {
              Authorization: `Bearer ${created.key}`,
              'Content-Type': 'application/json',
            },
            body: JSON.stringify({ email: 'w.race@exemple.fr', purposes: [p], locale: 'fr' }),
          },
          env,
        ),
      ),
    )
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(202))
    const ids = new Set(
      await Promise.all(
        answers.map(async (a) => ((await a.json()) as { contact_id: string }).contact_id),
      ),
    )
    expect(ids.size).toBe(1)
    const { results } = await env.DB.prepare(
      'SELECT purpose_key FROM consent_state WHERE contact_id = ? ORDER BY purpose_key',
    )
      .bind([...ids][0])
      .all()
    expect(results.map((r) => r.purpose_key)).toEqual([...purposes].sort())
  })

  it('rebuilds the isolate that lost the race to create the contact on the contact the other made', async () => {
    // Two environment objects: two sets of deps, as two isolates over one D1 database.
    const [a, b] = await Promise.all([forEnv({ ...env }), forEnv({ ...env })])
    const undo = holdTwoWrites(a.deps, b.deps)
    const results = await Promise.all([
      subscribe(a.deps, { ...CONSENT, email: 'w.twice@exemple.fr', purposes: ['cookies'] }),
      subscribe(b.deps, { ...CONSENT, email: 'w.twice@exemple.fr', purposes: ['geolocation'] }),
    ]).finally(undo)
    expect(results.map((r) => r.ok)).toEqual([true, true])
    const ids = new Set(results.map((r) => (r.ok ? r.contactId : '')))
    expect(ids.size).toBe(1)
    const { results: rows } = await env.DB.prepare(
      'SELECT purpose_key, status FROM consent_state WHERE contact_id = ? ORDER BY purpose_key',
    )
      .bind([...ids][0])
      .all()
    expect(rows).toEqual([
      { purpose_key: 'cookies', status: 'granted' },
      { purpose_key: 'geolocation', status: 'granted' },
    ])
  })
})
