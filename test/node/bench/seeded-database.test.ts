// The bench's seeded database (bench/seed/build.ts), at 2,000 contacts: what it writes must be what
// the gateway writes, or the million-contact numbers measure something else. The real
// `consent-gateway verify-ledger` must pass on it, and the gateway must read it back: each address
// found by its blind index, its fields and evidence decrypted, its state the last word of its chain,
// and the gate deciding from it.
import type Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { APP_SECRET } from '../../../bench/apps/secrets.ts'
import { buildSeededDatabase, type BuildStats } from '../../../bench/seed/build.ts'
import { EVENTS_PER_CONTACT, seededAddress } from '../../../bench/seed/history.ts'
import { parseConfig } from '../../../src/config.ts'
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
