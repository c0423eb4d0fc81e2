// The bench's seeded database (bench/seed/build.ts), at 2,000 contacts: what it writes must be what
// the gateway writes, or the million-contact numbers measure something else. The real
// `consent-gateway verify-ledger` must pass on it, and the gateway must read it back: each address
// found by its blind index, its fields and evidence decrypted, its state the last word of its chain,
// and the gate deciding from it. Its daily counters must be filled as the gateway fills them: equal
// to the counts taken from its ledger, the dashboard's totals too, with no backfill left to run.
import type Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { APP_SECRET } from '../../../bench/secrets.ts'
import { buildSeededDatabase, type BuildStats } from '../../../bench/seed/build.ts'
import { EVENTS_PER_CONTACT, seededAddress } from '../../../bench/seed/history.ts'
import { parseConfig } from '../../../src/config.ts'
import { dashboardFigures } from '../../../src/domain/admin/dashboard.ts'
import { backfillProgress } from '../../../src/domain/platform/counters.ts'
import type { Deps } from '../../../src/deps.ts'
import { findEvents, findStates } from '../../../src/db/repositories/ledger.ts'
import {
  contactDataKey,
  contactEmail,
  openEvidence,
  prepareContact,
} from '../../../src/domain/platform/contacts.ts'
import { gateBatch } from '../../../src/domain/sending/gate.ts'
import { nodeDeps } from '../../../src/runtime/node/deps.ts'
import { openDatabase } from '../../../src/runtime/node/server.ts'
import { countedFromTables, tableCounters } from '../../helpers/counters.ts'
import { spawnBin } from '../../helpers/spawn.ts'

const CONTACTS = 2_000
const UNTIL = Date.UTC(2026, 10, 1)

describe('the seeded database of the bench (bench/seed/build.ts)', () => {
  let dir: string
  let path: string
  let stats: BuildStats
  let sqlite: Database.Database
  let deps: Deps

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cg-seeded-'))
    path = join(dir, 'gw.db')
    // Two builder threads, so that units made out of order are still written in order.
    stats = await buildSeededDatabase({ contacts: CONTACTS, path, until: UNTIL, threads: 2 })
    sqlite = openDatabase(path)
    deps = await nodeDeps({
      config: { ...parseConfig({ APP_SECRET }), appSecret: APP_SECRET },
      sqlite,
      clock: { now: () => UNTIL },
    })
  }, 60_000)
  afterAll(() => {
    sqlite?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('holds the contacts, their events and their states, and says so', () => {
    const count = (table: string) =>
      (sqlite.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n
    expect(count('contacts')).toBe(CONTACTS)
    expect(count('consent_events')).toBe(CONTACTS * EVENTS_PER_CONTACT)
    expect(count('consent_state')).toBe(stats.states)
    expect(count('ledger_checkpoints')).toBe(1)
    expect(stats).toMatchObject({ contacts: CONTACTS, events: CONTACTS * EVENTS_PER_CONTACT })
    expect(stats.rows).toBe(CONTACTS * (1 + 2 * EVENTS_PER_CONTACT))
    expect(stats.sample.length).toBeGreaterThan(100)
  })

  it(
    'passes `consent-gateway verify-ledger`, its checkpoint included',
    { timeout: 60_000 },
    async () => {
      const run = spawnBin(['verify-ledger'], {
        cwd: dir,
        env: { DATABASE_PATH: path, APP_SECRET },
      })
      expect(await run.exited).toBe(0)
      expect(run.output()).toContain(
        `Ledger verified: ${CONTACTS} chains, ${CONTACTS * EVENTS_PER_CONTACT} events, 1 signed checkpoints`,
      )
    },
  )

  it('is read back by the gateway: blind index, encrypted fields, evidence, state, gate', async () => {
    for (const i of [0, 1, 2, 777, 1_999]) {
      const email = seededAddress(i)
      const found = await prepareContact(deps, email, 'fr')
      expect(found.isNew).toBe(false)
      expect(await contactEmail(deps, found.row)).toBe(email)
      const dataKey = (await contactDataKey(deps, found.row))!
      const events = await findEvents(deps.db, found.row.id)
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5])
      for (const e of events) {
        const evidence = await openEvidence(
          deps.keys,
          dataKey,
          e.evidence_enc!,
          `consent_events:${e.id}`,
        )
        expect(evidence).toMatchObject({ locale: found.row.locale, ip: expect.any(String) })
        expect(e.occurred_at).toBeLessThan(UNTIL)
      }
      // Each purpose's state is the last event about it, as the ledger writes it.
      const last = new Map(events.map((e) => [e.purpose_key, e]))
      const states = await findStates(deps.db, found.row.id)
      expect(new Set(states.map((s) => s.purpose_key))).toEqual(new Set(last.keys()))
      for (const s of states) expect(s.last_event_id).toBe(last.get(s.purpose_key)!.id)

      const newsletter = states.find((s) => s.purpose_key === 'newsletter')
      const gate = await gateBatch(deps, 'newsletter', [{ email }])
      expect(gate.ok && gate.decisions[0]!.allowed).toBe(newsletter?.status === 'granted')
    }
  })

  it('fills the daily counters as the ledger writes them: equal to counts taken from the ledger', () => {
    const expected = countedFromTables(sqlite)
    const actual = tableCounters(sqlite)
    const sorted = (m: Map<string, number>) => [...m].sort(([a], [b]) => a.localeCompare(b))
    for (const name of Object.keys(expected))
      expect([name, sorted(actual[name]!)]).toEqual([name, sorted(expected[name]!)])
    // Every kind of ledger figure is there (the builder's stories request, confirm and withdraw).
    expect(expected.consent_events!.size).toBeGreaterThan(100)
    expect(expected.optin_requested!.size).toBeGreaterThan(10)
    expect(expected.optin_confirmed!.size).toBeGreaterThan(10)
    expect(stats.counterWrites).toBeGreaterThanOrEqual(CONTACTS * EVENTS_PER_CONTACT)
  })

  it('shows on the dashboard the ledger counts of its period, with no backfill left to run', async () => {
    const f = await dashboardFigures(deps)
    const since = Date.parse(`${f.days[0]}T00:00:00Z`)
    const ledger = sqlite
      .prepare(
        `SELECT purpose_key AS purpose, action, count(*) AS n FROM consent_events
         WHERE occurred_at >= ? GROUP BY 1, 2`,
      )
      .all(since) as { purpose: string; action: string; n: number }[]
    expect(ledger.length).toBeGreaterThan(3)
    expect(f.consentTotals.map((r) => `${r.purpose} ${r.action} ${r.count}`).sort()).toEqual(
      ledger.map((r) => `${r.purpose} ${r.action} ${r.n}`).sort(),
    )
    const optin = sqlite
      .prepare(
        `SELECT purpose_key AS purpose, source, sum(action = 'requested') AS requested,
           sum(action = 'confirmed' AND method = 'double_opt_in') AS confirmed
         FROM consent_events WHERE action IN ('requested', 'confirmed') AND occurred_at >= ?
         GROUP BY 1, 2`,
      )
      .all(since) as { purpose: string; source: string; requested: number; confirmed: number }[]
    expect(optin.some((r) => r.confirmed > 0)).toBe(true)
    expect(f.optin.map((r) => [r.purpose, r.source, r.requested, r.confirmed]).sort()).toEqual(
      optin.map((r) => [r.purpose, r.source, r.requested, r.confirmed]).sort(),
    )
    expect(f.backfill).toEqual({ finished: true, done: 0, total: 0 })
    expect(await backfillProgress(deps)).toMatchObject({ finished: true })
    const unfinished = sqlite
      .prepare('SELECT count(*) AS n FROM counter_backfill WHERE finished_at IS NULL')
      .get() as { n: number }
    expect(unfinished.n).toBe(0)
  })

  it('writes contacts in id order, with ids the gateway would draw (random v4)', () => {
    const ids = (sqlite.prepare('SELECT id FROM contacts').pluck().all() as string[]).slice(0, 50)
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab]/)
    // Contact number and creation time do not follow the id.
    const created = sqlite
      .prepare('SELECT created_at FROM contacts ORDER BY id LIMIT 50')
      .pluck()
      .all() as number[]
    expect([...created].sort((a, b) => a - b)).not.toEqual(created)
  })
})
