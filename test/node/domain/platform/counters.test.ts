// The daily counters (src/domain/platform/counters.ts): written with what they count, equal to what
// the ledger, the webhook receipts and the requests hold; the API gate's refusals written within a
// second instead of a write per call; the backfill of what was recorded before migration 0013, in
// batches, with live events landing between them and two runs at once; and the dashboard's totals.
import type Database from 'better-sqlite3'
import { mkdtempSync, readdirSync, copyFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../../../src/config.ts'
import { dashboardFigures } from '../../../../src/domain/admin/dashboard.ts'
import {
  backfillCounters,
  backfillProgress,
  CONFIRM_BUCKETS,
  flushCounters,
  webhookOutcomeQueries,
  medianOfBuckets,
  TALLY_FLUSH_MS,
} from '../../../../src/domain/platform/counters.ts'
import { subscribe } from '../../../../src/domain/consent/subscriptions.ts'
import { setReceiptOutcomeQuery } from '../../../../src/db/repositories/mautic.ts'
import { jsonLogger } from '../../../../src/lib/log.ts'
import { memoryMailTransport } from '../../../../src/mail/memory.ts'
import { nodeDeps } from '../../../../src/runtime/node/deps.ts'
import { applyMigrations, MIGRATIONS_DIR, openSqlite } from '../../../../src/runtime/node/sqlite.ts'
import { liveActivity, WEBHOOK_SECRET } from '../../../helpers/activity.ts'
import { api, apiKey } from '../../../helpers/api.ts'
import { countedFromTables, countersIn, tableCounters } from '../../../helpers/counters.ts'
import { API_CONSENT, fixedClock, TEST_SECRET, testApp } from '../../../helpers/deps.ts'

const sorted = (m: Map<string, number>) => [...m].sort(([a], [b]) => a.localeCompare(b))

describe('daily counters, written as events land', () => {
  it('equal the counts taken from the ledger, the webhook receipts and the requests', async () => {
    const t = await testApp({ MAUTIC_WEBHOOK_SECRET: WEBHOOK_SECRET })
    await liveActivity(t, 3)
    const expected = countedFromTables(t.sqlite)
    const actual = tableCounters(t.sqlite)
    for (const name of Object.keys(expected))
      expect([name, sorted(actual[name]!)]).toEqual([name, sorted(expected[name]!)])
    // The activity reached every kind of figure.
    expect(expected.optin_confirmed!.size).toBeGreaterThan(3)
    expect([...expected.webhook_events!.keys()].some((k) => k.includes('| applied'))).toBe(true)
    expect([...expected.webhook_events!.keys()].some((k) => k.includes('| ignored'))).toBe(true)
    expect(countersIn(t.sqlite, 'webhook_refused').size).toBeGreaterThan(0)
    const refused = [...countersIn(t.sqlite, 'sends_refused')].map(([k]) => k.split(' | ')[1])
    expect(new Set(refused)).toEqual(new Set(['gate_api', 'send_api']))
  })

  it('the dashboard totals are the ledger counts of the period', async () => {
    const t = await testApp({ MAUTIC_WEBHOOK_SECRET: WEBHOOK_SECRET })
    await liveActivity(t, 3)
    const f = await dashboardFigures(t.deps)
    const ledger = t.sqlite
      .prepare(
        'SELECT purpose_key AS purpose, action, count(*) AS n FROM consent_events GROUP BY 1, 2',
      )
      .all() as { purpose: string; action: string; n: number }[]
    expect(f.consentTotals.map((r) => `${r.purpose} ${r.action} ${r.count}`).sort()).toEqual(
      ledger.map((r) => `${r.purpose} ${r.action} ${r.n}`).sort(),
    )
    const requests = t.sqlite.prepare('SELECT count(*) AS n FROM dsr_requests').get() as {
      n: number
    }
    expect(f.dsr.received).toBe(requests.n)
    const optin = t.sqlite
      .prepare(
        `SELECT purpose_key AS purpose, source, sum(action = 'requested') AS requested,
           sum(action = 'confirmed' AND method = 'double_opt_in') AS confirmed
         FROM consent_events WHERE action IN ('requested', 'confirmed') GROUP BY 1, 2`,
      )
      .all() as { purpose: string; source: string; requested: number; confirmed: number }[]
    expect(f.optin.map((r) => [r.purpose, r.source, r.requested, r.confirmed]).sort()).toEqual(
      optin.map((r) => [r.purpose, r.source, r.requested, r.confirmed]).sort(),
    )
    const hooks = t.sqlite.prepare('SELECT count(*) AS n FROM webhook_receipts').get() as {
      n: number
    }
    expect(f.webhooksByType.reduce((a, r) => a + r.count, 0)).toBe(hooks.n)
  })

  it('refusals of POST /api/v1/gate are gathered in memory and written together within a second', async () => {
    const t = await testApp()
    const client = api(t.app, await apiKey(t.deps, ['gate']))
    const written = () => countersIn(t.sqlite, 'sends_refused')
    for (let i = 0; i < 20; i++) await client.gate('newsletter', [{ email: `n${i}@exemple.fr` }])
    expect(written().size).toBe(0) // no write per call
    await new Promise((r) => setTimeout(r, TALLY_FLUSH_MS + 200))
    expect(sorted(written())).toEqual([
      ['2026-11-29 | gate_api | newsletter | unknown_contact', 20],
    ])
  })

  it('a refusal tally that cannot be written is kept for the next flush', async () => {
    const t = await testApp()
    const client = api(t.app, await apiKey(t.deps, ['gate']))
    await client.gate('newsletter', [{ email: 'a@exemple.fr' }, { email: 'b@exemple.fr' }])
    const atomic = t.deps.atomic
    t.deps.atomic = () => Promise.reject(new Error('disk full'))
    await flushCounters(t.deps)
    t.deps.atomic = atomic
    await flushCounters(t.deps)
    expect(sorted(countersIn(t.sqlite, 'sends_refused'))).toEqual([
      ['2026-11-29 | gate_api | newsletter | unknown_contact', 2],
    ])
  })

  it('medians come from the time buckets', () => {
    expect(medianOfBuckets(new Map())).toBeNull()
    // 10 confirmations within a minute, 10 within five: the median is the first bucket's top.
    expect(
      medianOfBuckets(
        new Map([
          ['1m', 10],
          ['5m', 10],
        ]),
      ),
    ).toEqual({ ms: 60_000, open: false })
    expect(
      medianOfBuckets(
        new Map([
          ['1m', 1],
          ['1h', 3],
        ]),
      ),
    ).toEqual({
      ms: Math.round(900_000 + (1 / 3) * (3_600_000 - 900_000)),
      open: false,
    })
    expect(medianOfBuckets(new Map([['more', 5]]))).toEqual({
      ms: CONFIRM_BUCKETS.at(-2)!.upToMs,
      open: true,
    })
  })
})

describe('the backfill of what was recorded before the counters (migration 0013)', () => {
  /** A database as migrations before 0013 left it, holding a copy of `source`'s rows. */
  function before0013(source: Database.Database) {
    const dir = mkdtempSync(join(tmpdir(), 'cg-0013-'))
    for (const f of readdirSync(MIGRATIONS_DIR).filter((f) => f < '0013'))
      copyFileSync(join(MIGRATIONS_DIR, f), join(dir, f))
    const db = openSqlite(join(dir, 'gw.db'))
    applyMigrations(db, dir)
    db.pragma('foreign_keys = OFF')
    for (const table of [
      'contacts',
      'notices',
      'consent_state',
      'consent_events',
      'webhook_receipts',
      'dsr_requests',
      'contact_links',
    ]) {
      const columns = (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map(
        (c) => c.name,
      )
      const rows = source.prepare(`SELECT ${columns.join(', ')} FROM ${table}`).all()
      const insert = db.prepare(
        `INSERT OR REPLACE INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`,
      )
      db.transaction(() => rows.forEach((r) => insert.run(r)))()
    }
    // The relay's refusals as 0008 counted them.
    db.prepare(
      "INSERT INTO blocked_sends VALUES ('2026-11-20', 'relay_rcpt', '', 'unknown_contact', 3, 1)",
    ).run()
    db.pragma('foreign_keys = ON')
    return db
  }

  it('fills the counters from the ledger, receipts and requests in batches, live events in between counted once', async () => {
    const live = await testApp({ MAUTIC_WEBHOOK_SECRET: WEBHOOK_SECRET })
    await liveActivity(live, 2)
    const sqlite = before0013(live.sqlite)
    // Two webhook events still queued when 0013 is applied: one processed before the backfill reaches
    // it, the other after the backfill is over (its count moves from queued to its outcome).
    const [early, late] = (
      sqlite.prepare('SELECT key FROM webhook_receipts ORDER BY key LIMIT 2').all() as {
        key: string
      }[]
    ).map((r) => r.key)
    sqlite
      .prepare("UPDATE webhook_receipts SET outcome = 'queued' WHERE key IN (?, ?)")
      .run(early, late)
    applyMigrations(sqlite) // 0013 and whatever follows
    expect(countersIn(sqlite, 'sends_refused')).toEqual(
      new Map([['2026-11-20 | relay_rcpt |  | unknown_contact', 3]]),
    )
    const config = parseConfig({ APP_SECRET: TEST_SECRET, PUBLIC_URL: 'http://gateway.test' })
    const clock = fixedClock(live.clock.now())
    const deps = await nodeDeps({
      config: { ...config, appSecret: TEST_SECRET },
      sqlite,
      clock,
      mail: memoryMailTransport(),
      logger: jsonLogger(() => {}),
    })
    expect((await backfillProgress(deps)).finished).toBe(false)
    const processed = (key: string) =>
      deps.atomic([
        ...webhookOutcomeQueries(key, 'stale', clock.now()),
        setReceiptOutcomeQuery(deps.db, key, 'stale'),
      ])
    await processed(early!)
    let rounds = 0
    for (;;) {
      const [a, b] = await Promise.all([
        backfillCounters(deps, { batch: 7, budgetMs: 0 }),
        backfillCounters(deps, { batch: 7, budgetMs: 0 }), // a second runner at the same time
      ])
      await subscribe(deps, {
        ...API_CONSENT,
        email: `live-${rounds}@exemple.fr`,
        purposes: ['newsletter'],
      })
      rounds++
      if (a.finished && b.finished) break
      if (rounds > 200) throw new Error('the backfill does not finish')
    }
    expect(rounds).toBeGreaterThan(3)
    await processed(late!)
    const progress = await backfillProgress(deps)
    expect(progress).toEqual({ finished: true, done: progress.total, total: progress.total })
    const expected = countedFromTables(sqlite)
    const actual = tableCounters(sqlite)
    for (const name of Object.keys(expected))
      expect([name, sorted(actual[name]!)]).toEqual([name, sorted(expected[name]!)])
    // Run again: nothing more is counted.
    await backfillCounters(deps)
    expect(sorted(tableCounters(sqlite).consent_events!)).toEqual(sorted(expected.consent_events!))
  })

  it('an empty database has nothing to fill', async () => {
    const t = await testApp()
    expect(await backfillProgress(t.deps)).toEqual({ finished: true, done: 0, total: 0 })
    expect((await backfillCounters(t.deps)).finished).toBe(true)
  })
})
