// The ledger's tamper evidence: per-contact hash chains plus signed checkpoints over their heads.
import { describe, expect, it } from 'vitest'
import { maybeCheckpoint, verifyLedger } from '../../../../src/domain/consent/checkpoints.ts'
import { subscribe } from '../../../../src/domain/consent/subscriptions.ts'
import { API_CONSENT, testDeps } from '../../../helpers/deps.ts'

async function ledgerWithTwoContacts() {
  const t = await testDeps()
  const input = API_CONSENT
  const a = await subscribe(t.deps, {
    ...input,
    email: 'a@exemple.fr',
    purposes: ['cookies', 'geolocation'],
  })
  const b = await subscribe(t.deps, { ...input, email: 'b@exemple.fr', purposes: ['newsletter'] })
  t.clock.advance(2 * 60_000)
  expect(await maybeCheckpoint(t.deps)).toBe(true)
  // An attacker with write access to the file first removes the append-only guards.
  t.sqlite.exec('DROP TRIGGER consent_events_no_update; DROP TRIGGER consent_events_no_delete;')
  if (!a.ok || !b.ok) throw new Error('subscribe failed')
  const ids: Record<string, string> = { 'a@exemple.fr': a.contactId, 'b@exemple.fr': b.contactId }
  const contactOf = (email: string) => ids[email]!
  return { ...t, contactOf }
}

describe('verify-ledger', () => {
  it('passes on an untouched ledger, checkpoint included', async () => {
    const { deps } = await ledgerWithTwoContacts()
    expect(await verifyLedger(deps)).toEqual({
      ok: true,
      chains: 2,
      events: 3,
      checkpoints: 1,
      problems: [],
    })
  })

  it('reads each page from where the last one ended: an index search, not a scan from the start', async () => {
    const { deps, sqlite } = await ledgerWithTwoContacts()
    const seen: string[] = []
    const prepare = sqlite.prepare.bind(sqlite)
    sqlite.prepare = ((source: string) => {
      seen.push(source)
      return prepare(source)
    }) as typeof sqlite.prepare
    // One event a page: every page after the first starts from the last one's (contact, seq).
    expect(await verifyLedger(deps, 1)).toMatchObject({ ok: true, chains: 2, events: 3 })
    const page = seen.find((q) => /from "consent_events"/i.test(q) && /order by/i.test(q))!
    const plan = sqlite
      .prepare(`EXPLAIN QUERY PLAN ${page}`)
      .all(...Array.from(page.matchAll(/\?/g), () => '')) as { detail: string }[]
    // A scan from the start on every page made verifying a million contacts' ledger take hours.
    expect(plan.map((p) => p.detail).join('\n')).toMatch(
      /SEARCH consent_events USING .*contact_id>/,
    )
  })

  it('the database refuses updates and deletes of events while its guards are in place', async () => {
    const t = await testDeps()
    await subscribe(t.deps, {
      email: 'a@exemple.fr',
      purposes: ['cookies'],
      locale: 'fr',
      method: 'api',
      source: 's',
      actor: 'a',
      evidence: {},
    })
    expect(() => t.sqlite.exec("UPDATE consent_events SET source = 'x'")).toThrow(/append-only/)
    expect(() => t.sqlite.exec('DELETE FROM consent_events')).toThrow(/append-only/)
    expect(() =>
      t.sqlite.exec("UPDATE notices SET body = 'x' WHERE id = 'n_cookies_fr_1'"),
    ).toThrow(/published notice/)
  })

  it('reports an altered event', async () => {
    const { deps, sqlite, contactOf } = await ledgerWithTwoContacts()
    sqlite
      .prepare("UPDATE consent_events SET action = 'withdrawn' WHERE contact_id = ? AND seq = 2")
      .run(contactOf('a@exemple.fr'))
    const report = await verifyLedger(deps)
    expect(report.ok).toBe(false)
    expect(report.problems[0]).toBe(
      `contact ${contactOf('a@exemple.fr')}, event 2: its content does not match its hash (altered)`,
    )
  })

  it('reports an event removed from the middle of a chain', async () => {
    const { deps, sqlite, contactOf } = await ledgerWithTwoContacts()
    sqlite
      .prepare('DELETE FROM consent_events WHERE contact_id = ? AND seq = 1')
      .run(contactOf('a@exemple.fr'))
    expect((await verifyLedger(deps)).problems[0]).toContain(
      'expected event 1 (an event is missing)',
    )
  })

  it('reports a chain deleted whole, which no chain of its own can show', async () => {
    const { deps, sqlite, contactOf } = await ledgerWithTwoContacts()
    sqlite.prepare('DELETE FROM consent_events WHERE contact_id = ?').run(contactOf('b@exemple.fr'))
    const report = await verifyLedger(deps)
    expect(report.ok).toBe(false)
    expect(report.problems).toEqual([expect.stringContaining('1 chain(s) missing')])
  })

  it('reports the last event of a chain cut off', async () => {
    const { deps, sqlite, contactOf } = await ledgerWithTwoContacts()
    sqlite
      .prepare('DELETE FROM consent_events WHERE contact_id = ? AND seq = 2')
      .run(contactOf('a@exemple.fr'))
    expect((await verifyLedger(deps)).problems).toEqual([
      expect.stringContaining('events removed or back-dated'),
    ])
  })

  it('reports a forged checkpoint', async () => {
    const { deps, sqlite } = await ledgerWithTwoContacts()
    sqlite.exec("UPDATE ledger_checkpoints SET chain_count = 1, heads_digest = 'forged'")
    expect((await verifyLedger(deps)).problems).toEqual([
      expect.stringContaining('signature does not verify'),
    ])
  })

  it('still verifies after erasure destroyed a contact’s key (crypto-shredding)', async () => {
    const { deps, sqlite, contactOf } = await ledgerWithTwoContacts()
    sqlite
      .prepare(
        "UPDATE contacts SET data_key_enc = NULL, email_enc = NULL, email_bidx = NULL, status = 'erased' WHERE id = ?",
      )
      .run(contactOf('a@exemple.fr'))
    expect((await verifyLedger(deps)).ok).toBe(true)
  })

  it('checkpoints at most hourly unless forced', async () => {
    const { deps, clock } = await ledgerWithTwoContacts()
    expect(await maybeCheckpoint(deps)).toBe(false)
    clock.advance(60 * 60_000)
    expect(await maybeCheckpoint(deps)).toBe(true)
    expect(await maybeCheckpoint(deps, true)).toBe(true)
  })

  it('a concurrent writer on the same contact retries instead of forking the chain', async () => {
    const t = await testDeps()
    const input = API_CONSENT
    await subscribe(t.deps, { ...input, email: 'race@exemple.fr', purposes: ['cookies'] })
    await Promise.all(
      ['geolocation', 'behavioural_tracking', 'targeted_advertising', 'partner_sharing'].map((p) =>
        subscribe(t.deps, { ...input, email: 'race@exemple.fr', purposes: [p] }),
      ),
    )
    const seqs = t.sqlite.prepare('SELECT seq FROM consent_events ORDER BY seq').pluck().all()
    expect(seqs).toEqual([1, 2, 3, 4, 5])
    expect((await verifyLedger(t.deps)).ok).toBe(true)
  })
})
