// The same race as test/node/reliability/concurrency.test.ts, on D1: one contact's confirmation,
// one-click withdrawals, preference changes and erasure, all at once through the Worker, end in one
// consistent state per purpose with a valid chain.
import { env, SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { verifyLedger } from '../../../src/domain/consent/checkpoints.ts'
import { subscribe } from '../../../src/domain/consent/subscriptions.ts'
import { signLinkToken } from '../../../src/domain/platform/link-tokens.ts'
import { accessUrl } from '../../../src/domain/rights/access.ts'
import { preferencesUrl, unsubscribeUrl } from '../../../src/domain/sending/links.ts'
import { forEnv } from '../../../src/runtime/worker/deps.ts'
import { ledgerProblems, LEDGER_ROWS_SQL, type LedgerRows } from '../../helpers/consistency.ts'

const ORIGIN = 'https://gateway.test'

async function contactWithLinks(email: string) {
  const { deps } = await forEnv(env)
  const r = await subscribe(deps, {
    email,
    purposes: ['newsletter', 'email_marketing', 'cookies'],
    locale: 'fr',
    method: 'api',
    source: 'test',
    actor: 'api:test',
    evidence: {},
  })
  if (!r.ok) throw new Error(r.message)
  const request = await env.DB.prepare(
    "SELECT id, expires_at FROM optin_requests WHERE contact_id = ? AND status = 'pending'",
  )
    .bind(r.contactId)
    .first<{ id: string; expires_at: number }>()
  const now = deps.clock.now()
  const confirm = signLinkToken(
    deps.keys,
    'confirm',
    { sub: request!.id },
    request!.expires_at,
    now,
  )
  return {
    deps,
    contactId: r.contactId,
    urls: {
      confirm: `${ORIGIN}/c/${confirm}`,
      newsletter: await unsubscribeUrl(deps, r.contactId, 'newsletter'),
      marketing: await unsubscribeUrl(deps, r.contactId, 'email_marketing'),
      preferences: await preferencesUrl(deps, r.contactId),
      erase: `${await accessUrl(deps, r.contactId, 'request-1')}/erase`,
    },
  }
}

async function rows(contactId: string): Promise<LedgerRows> {
  const all = async <T>(sql: string) => (await env.DB.prepare(sql).bind(contactId).all<T>()).results
  return {
    events: await all<LedgerRows['events'][number]>(LEDGER_ROWS_SQL.events),
    states: await all<LedgerRows['states'][number]>(LEDGER_ROWS_SQL.states),
    contactStatus: (await all<{ status: string }>(LEDGER_ROWS_SQL.contact))[0]!.status,
  }
}

describe('one contact, many requests at once (D1)', () => {
  it.each([[0], [1], [2]])('round %i ends consistent, with a valid chain', async (round) => {
    const { deps, contactId, urls } = await contactWithLinks(`race${round}@exemple.fr`)
    const form = { 'Content-Type': 'application/x-www-form-urlencoded', Origin: ORIGIN }
    const post = (url: string, body?: string, headers?: Record<string, string>) => () =>
      SELF.fetch(url, { method: 'POST', body, headers, redirect: 'manual' })
    const requests = [
      post(urls.confirm),
      post(urls.confirm),
      post(urls.newsletter, 'List-Unsubscribe=One-Click', { 'Content-Type': form['Content-Type'] }),
      post(urls.marketing, 'List-Unsubscribe=One-Click', { 'Content-Type': form['Content-Type'] }),
      post(urls.newsletter, 'List-Unsubscribe=One-Click', { 'Content-Type': form['Content-Type'] }),
      post(urls.preferences, 'purposes=cookies&purposes=geolocation&lang=fr', form),
      post(urls.preferences, 'all=off&lang=fr', form),
      post(urls.preferences, 'purposes=behavioural_tracking&lang=en', form),
    ]
    if (round !== 1) requests.splice(round * 3, 0, post(urls.erase, 'confirm=yes', form))
    const answers = await Promise.all(requests.map((send) => send()))
    for (const res of answers) expect(res.status).toBeLessThan(500)

    const found = await rows(contactId)
    expect(ledgerProblems(found)).toEqual([])
    expect(found.contactStatus).toBe(round !== 1 ? 'erased' : 'active')
    const report = await verifyLedger(deps)
    expect(report.problems).toEqual([])
  })
})
