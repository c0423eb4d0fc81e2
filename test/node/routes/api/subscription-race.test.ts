// Concurrent subscriptions for one new address (issue 17, item 2): every request gets its 2xx and
// every purpose is recorded, however the parallel requests interleave (the contact is made once).
import { describe, expect, it } from 'vitest'
import { subscribe } from '../../../../src/domain/consent/subscriptions.ts'
import { nodeDeps } from '../../../../src/runtime/node/deps.ts'
import { api, apiKey } from '../../../helpers/api.ts'
import { API_CONSENT, testApp, testDeps } from '../../../helpers/deps.ts'
import { holdTwoWrites } from '../../../helpers/race.ts'

const BANNER = ['cookies', 'push_notifications', 'geolocation', 'behavioural_tracking']

async function setup() {
  const t = await testApp()
  const client = api(t.app, await apiKey(t.deps))
  const rows = (sql: string) => t.sqlite.prepare(sql).all()
  return { ...t, client, rows }
}

const subscription = (email: string, purposes: string[]) => ({
  email,
  purposes,
  locale: 'fr',
  evidence: { ip: '203.0.113.7' },
})

describe('POST /api/v1/subscriptions in parallel for one new address', () => {
  it('answers every identical request with 2xx and makes one contact', async () => {
    for (let round = 0; round < 5; round++) {
      const t = await setup()
      const email = `race${round}@exemple.fr`
      const answers = await Promise.all(
        Array.from({ length: 8 }, () =>
          t.client.post('/api/v1/subscriptions', subscription(email, ['newsletter', 'cookies'])),
        ),
      )
      expect(answers.map((a) => a.status)).toEqual(Array(8).fill(202))
      expect(new Set(answers.map((a) => a.body.contact_id)).size).toBe(1)
      expect(t.rows('SELECT id FROM contacts')).toHaveLength(1)
      expect(t.rows('SELECT purpose_key, status FROM consent_state ORDER BY purpose_key')).toEqual([
        { purpose_key: 'cookies', status: 'granted' },
        { purpose_key: 'newsletter', status: 'pending' },
      ])
    }
  })

  it('records every purpose when the parallel requests ask for different ones', async () => {
    for (let round = 0; round < 5; round++) {
      const t = await setup()
      const email = `mix${round}@exemple.fr`
      const answers = await Promise.all(
        [...BANNER, 'newsletter', 'email_marketing'].map((p) =>
          t.client.post('/api/v1/subscriptions', subscription(email, [p])),
        ),
      )
      expect(answers.map((a) => a.status)).toEqual(Array(6).fill(202))
      expect(t.rows('SELECT id FROM contacts')).toHaveLength(1)
      const states = t.rows('SELECT purpose_key FROM consent_state ORDER BY purpose_key')
      expect(states.map((s) => (s as { purpose_key: string }).purpose_key)).toEqual(
        [...BANNER, 'newsletter', 'email_marketing'].sort(),
      )
    }
  })
})

describe('two processes creating the same new contact', () => {
  it('rebuilds the loser on the contact the winner made: both answered, both purposes kept', async () => {
    const t = await testDeps()
    // A second process over the same database: its own group commit, head cache and key queue.
    const other = await nodeDeps({
      config: t.deps.config as Parameters<typeof nodeDeps>[0]['config'],
      sqlite: t.sqlite,
      clock: t.clock,
      mail: t.mail,
    })
    const undo = holdTwoWrites(t.deps, other)
    const results = await Promise.all([
      subscribe(t.deps, { ...API_CONSENT, email: 'twice@exemple.fr', purposes: ['cookies'] }),
      subscribe(other, { ...API_CONSENT, email: 'twice@exemple.fr', purposes: ['geolocation'] }),
    ])
    undo()
    expect(results.map((r) => r.ok)).toEqual([true, true])
    const rows = (sql: string) => t.sqlite.prepare(sql).all()
    expect(rows('SELECT id FROM contacts')).toHaveLength(1)
    expect(rows('SELECT purpose_key, status FROM consent_state ORDER BY purpose_key')).toEqual([
      { purpose_key: 'cookies', status: 'granted' },
      { purpose_key: 'geolocation', status: 'granted' },
    ])
  })
})
