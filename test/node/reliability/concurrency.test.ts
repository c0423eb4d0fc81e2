// Many requests on one contact at once — confirmation, one-click withdrawals, preference changes and
// erasure — end in one consistent state per purpose with a valid chain: every state row is what its
// purpose's last ledger event implies, nothing is granted after an erasure, and verify-ledger passes.
import { describe, expect, it } from 'vitest'
import { verifyLedger } from '../../../src/domain/consent/checkpoints.ts'
import { subscribe } from '../../../src/domain/consent/subscriptions.ts'
import { deliverOutbox } from '../../../src/domain/platform/outbox.ts'
import { accessUrl } from '../../../src/domain/rights/access.ts'
import { preferencesUrl, unsubscribeUrl } from '../../../src/domain/sending/links.ts'
import { ledgerProblems, LEDGER_ROWS_SQL, type LedgerRows } from '../../helpers/consistency.ts'
import { API_CONSENT, testApp } from '../../helpers/deps.ts'

async function contactWithLinks() {
  const t = await testApp()
  const r = await subscribe(t.deps, {
    ...API_CONSENT,
    email: 'anne@exemple.fr',
    purposes: ['newsletter', 'email_marketing', 'cookies'],
  })
  if (!r.ok) throw new Error(r.message)
  await deliverOutbox(t.deps)
  const confirm = /\/c\/([\w.-]+)/.exec(t.mail.sent.at(-1)?.text ?? '')?.[1]
  if (!confirm) throw new Error('no confirmation link')
  const path = (url: string) => new URL(url).pathname
  return {
    ...t,
    contactId: r.contactId,
    confirm: `/c/${confirm}`,
    unsubscribe: {
      newsletter: path(await unsubscribeUrl(t.deps, r.contactId, 'newsletter')),
      email_marketing: path(await unsubscribeUrl(t.deps, r.contactId, 'email_marketing')),
    },
    preferences: path(await preferencesUrl(t.deps, r.contactId)),
    me: path(await accessUrl(t.deps, r.contactId, 'request-1')),
  }
}

/** The invariants (test/helpers/consistency.ts), read from the database. */
function ledgerRows(t: Awaited<ReturnType<typeof contactWithLinks>>): LedgerRows {
  return {
    events: t.sqlite.prepare(LEDGER_ROWS_SQL.events).all(t.contactId) as LedgerRows['events'],
    states: t.sqlite.prepare(LEDGER_ROWS_SQL.states).all(t.contactId) as LedgerRows['states'],
    contactStatus: (
      t.sqlite.prepare(LEDGER_ROWS_SQL.contact).get(t.contactId) as { status: string }
    ).status,
  }
}

describe('one contact, many requests at once (Node)', () => {
  const ROUNDS = 6

  it.each(Array.from({ length: ROUNDS }, (_, i) => [i]))(
    'round %i: confirm, one-click withdrawals, preference changes and erasure end consistent',
    async (round) => {
      const t = await contactWithLinks()
      const form = {
        'Content-Type': 'application/x-www-form-urlencoded',
        Origin: 'http://gateway.test',
      }
      const oneClick = { 'Content-Type': 'application/x-www-form-urlencoded' }
      const requests: (() => Response | Promise<Response>)[] = [
        ...Array.from({ length: 4 }, () => () => t.app.request(t.confirm, { method: 'POST' })),
        ...(['newsletter', 'email_marketing'] as const).flatMap((p) =>
          Array.from(
            { length: 3 },
            () => () =>
              t.app.request(t.unsubscribe[p], {
                method: 'POST',
                headers: oneClick,
                body: 'List-Unsubscribe=One-Click',
              }),
          ),
        ),
        ...[
          'purposes=cookies&purposes=geolocation&lang=fr',
          'all=off&lang=fr',
          'purposes=newsletter&purposes=cookies&lang=fr',
          'purposes=behavioural_tracking&lang=en',
        ].map(
          (body) => () => t.app.request(t.preferences, { method: 'POST', headers: form, body }),
        ),
      ]
      // Erasure joins in every other round, at a different place in the queue each time.
      if (round % 2 === 0)
        requests.splice((round * 3) % requests.length, 0, () =>
          t.app.request(`${t.me}/erase`, { method: 'POST', headers: form, body: 'confirm=yes' }),
        )
      // Shuffled deterministically per round, all sent before any is awaited.
      const order = requests.map((_, i) => (i * (round + 5)) % requests.length)
      const unique =
        [...new Set(order)].length === requests.length ? order : requests.map((_, i) => i)
      const answers = await Promise.all(unique.map((i) => requests[i]!()))
      const errors = t.logs.filter((l) => l.level === 'error')
      for (const res of answers) expect(res.status, JSON.stringify(errors)).toBeLessThan(500)

      const rows = ledgerRows(t)
      expect(ledgerProblems(rows)).toEqual([])
      expect(rows.contactStatus).toBe(round % 2 === 0 ? 'erased' : 'active')
      const report = await verifyLedger(t.deps)
      expect(report.problems).toEqual([])
      expect(report.ok).toBe(true)
    },
  )
})
