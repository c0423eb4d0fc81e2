// The database-backed rate limiter on real SQLite: one statement per hit, keyed hashes, shared counters.
import { Kysely, SqliteDialect } from 'kysely'
import { describe, expect, it } from 'vitest'
import type { Database } from '../../../../src/db/database.ts'
import {
  hitRateLimit,
  MAX_RATE_LIMIT_WINDOW_MS,
  purgeRateLimits,
  rateLimitKey,
  type RateLimitDeps,
} from '../../../../src/domain/platform/rate-limits.ts'
import { testDeps } from '../../../helpers/deps.ts'

const IP = '203.0.113.42'
const rule = { bucket: 'subscribe-form', subject: IP, limit: 3, windowMs: 60_000 }

const rows = (sqlite: Awaited<ReturnType<typeof testDeps>>['sqlite']) =>
  sqlite.prepare('SELECT * FROM rate_limits ORDER BY key').all() as {
    key: string
    window_start: number
    count: number
  }[]

describe('hitRateLimit', () => {
  it('allows `limit` hits, refuses the next ones until the window ends, then allows again', async () => {
    const { deps, clock } = await testDeps()
    const start = clock.now()
    for (const remaining of [2, 1, 0]) {
      expect(await hitRateLimit(deps, rule)).toEqual({ allowed: true, remaining, retryAfterMs: 0 })
      clock.advance(10_000)
    }
    expect(await hitRateLimit(deps, rule)).toEqual({
      allowed: false,
      remaining: 0,
      retryAfterMs: 30_000,
    })
    clock.set(start + 59_999)
    expect((await hitRateLimit(deps, rule)).allowed).toBe(false)
    clock.set(start + 60_000)
    expect(await hitRateLimit(deps, rule)).toEqual({ allowed: true, remaining: 2, retryAfterMs: 0 })
  })

  it('stores a keyed hash of the subject, never the subject', async () => {
    const { deps, sqlite } = await testDeps()
    await hitRateLimit(deps, rule)
    const [row] = rows(sqlite)
    expect(row!.key).toBe(await rateLimitKey(deps, 'subscribe-form', IP))
    expect(row!.key).toMatch(/^subscribe-form:[A-Za-z0-9_-]{43}$/)
    expect(row!.key).not.toContain(IP)
    expect(row!.key).not.toContain('203.0.113')
  })

  it('counts subjects and buckets apart', async () => {
    const { deps, sqlite } = await testDeps()
    await hitRateLimit(deps, rule)
    await hitRateLimit(deps, rule)
    await hitRateLimit(deps, { ...rule, subject: '198.51.100.7' })
    await hitRateLimit(deps, { ...rule, bucket: 'privacy-form' })
    expect(
      rows(sqlite)
        .map((r) => r.count)
        .sort(),
    ).toEqual([1, 1, 2])
  })

  it('is one statement per hit, and every process counts in the same row', async () => {
    const t = await testDeps()
    const queries: string[] = []
    const other: RateLimitDeps = {
      ...t.deps,
      db: new Kysely<Database>({
        dialect: new SqliteDialect({ database: t.sqlite }),
        log: (e) => void queries.push(e.query.sql),
      }),
    }
    await hitRateLimit(t.deps, rule)
    expect(await hitRateLimit(other, rule)).toMatchObject({ allowed: true, remaining: 1 })
    expect(queries).toHaveLength(1)
    expect(queries[0]).toMatch(/^insert into .* on conflict .* returning/i)
    const results = await Promise.all([hitRateLimit(t.deps, rule), hitRateLimit(other, rule)])
    expect(results.map((r) => r.allowed).sort()).toEqual([false, true])
    expect(rows(t.sqlite)[0]!.count).toBe(4)
  })

  it.each([
    { bucket: 'has:colon' },
    { bucket: '' },
    { limit: 0 },
    { limit: 1.5 },
    { windowMs: 0 },
    { windowMs: MAX_RATE_LIMIT_WINDOW_MS + 1 },
  ])('refuses a bad rule %j', async (bad) => {
    const { deps } = await testDeps()
    await expect(hitRateLimit(deps, { ...rule, ...bad })).rejects.toThrow(/rate limit/)
  })
})

describe('purgeRateLimits', () => {
  it('deletes only the counters whose window can no longer be running', async () => {
    const { deps, sqlite, clock } = await testDeps()
    await hitRateLimit(deps, { ...rule, subject: 'old' })
    clock.advance(MAX_RATE_LIMIT_WINDOW_MS - 1000)
    await hitRateLimit(deps, { ...rule, subject: 'recent' })
    clock.advance(1000)
    expect(await purgeRateLimits(deps, clock.now())).toBe(1)
    expect(rows(sqlite)).toHaveLength(1)
    expect(rows(sqlite)[0]!.key).toBe(await rateLimitKey(deps, rule.bucket, 'recent'))
    expect(await purgeRateLimits(deps, clock.now(), 500)).toBe(1)
    expect(rows(sqlite)).toEqual([])
  })
})
