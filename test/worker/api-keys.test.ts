// API keys and the rate limiter inside workerd on D1: the same domain code, WebCrypto HMAC.
import { env } from 'cloudflare:test'
import { Hono } from 'hono'
import { Kysely } from 'kysely'
import { describe, expect, it } from 'vitest'
import type { Database } from '../../src/db/database.ts'
import {
  API_KEY_CACHE_TTL_MS,
  createApiKey,
  revokeApiKey,
  verifyApiKey,
} from '../../src/domain/platform/api-keys.ts'
import { hitRateLimit, purgeRateLimits } from '../../src/domain/platform/rate-limits.ts'
import { deriveKeys, webHmacSha256 } from '../../src/lib/keys.ts'
import { jsonLogger } from '../../src/lib/log.ts'
import { apiKeyAuth } from '../../src/middleware/api-key-auth.ts'
import { D1Dialect } from '../../src/runtime/worker/d1-dialect.ts'

async function d1Deps(start = Date.UTC(2026, 10, 29, 9)) {
  let now = start
  return {
    db: new Kysely<Database>({ dialect: new D1Dialect(env.DB) }),
    keys: await deriveKeys(env.APP_SECRET),
    hmac: webHmacSha256,
    clock: { now: () => now },
    logger: jsonLogger(() => {}),
    advance: (ms: number) => void (now += ms),
  }
}

describe('API keys on D1', () => {
  it('creates a key once, verifies it, refuses a wrong secret and a revoked key', async () => {
    const deps = await d1Deps()
    const created = await createApiKey(deps, { name: 'worker', scopes: ['gate', 'subscribe'] })
    if (!created.ok) throw new Error(created.error)
    const { key, apiKey } = created
    expect(key).toMatch(/^cgk_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$/)
    const row = await env.DB.prepare('SELECT * FROM api_keys WHERE id = ?')
      .bind(apiKey.id)
      .first<{ secret_hash: string; last_used_at: number | null }>()
    expect(row!.secret_hash).not.toContain(key.slice(17))

    expect(await verifyApiKey(deps, key)).toEqual({
      id: apiKey.id,
      name: 'worker',
      scopes: ['subscribe', 'gate'],
    })
    const used = await env.DB.prepare('SELECT last_used_at AS t FROM api_keys WHERE id = ?')
      .bind(apiKey.id)
      .first<{ t: number }>()
    expect(used!.t).toBe(deps.clock.now())
    expect(await verifyApiKey(deps, `${key.slice(0, -1)}${key.endsWith('a') ? 'b' : 'a'}`)).toBe(
      null,
    )
    expect(await revokeApiKey(deps, apiKey.id)).toBe(true)
    expect(await verifyApiKey(deps, key)).toBeNull()
  })

  it('another isolate (its own cache) refuses a revoked key once the TTL has passed', async () => {
    const mine = await d1Deps()
    const created = await createApiKey(mine, { name: 'cached', scopes: ['gate'] })
    if (!created.ok) throw new Error(created.error)
    const other = await d1Deps()
    expect(await verifyApiKey(other, created.key)).not.toBeNull()
    await revokeApiKey(mine, created.apiKey.id)
    expect(await verifyApiKey(other, created.key)).not.toBeNull()
    other.advance(API_KEY_CACHE_TTL_MS)
    expect(await verifyApiKey(other, created.key)).toBeNull()
  })

  it('the middleware answers 401 and 403 in the JSON error shape', async () => {
    const deps = await d1Deps()
    const created = await createApiKey(deps, { name: 'mw', scopes: ['campaign'] })
    if (!created.ok) throw new Error(created.error)
    const app = new Hono()
    app.post('/hooks/campaign', apiKeyAuth(deps, 'campaign'), (c) => c.json(c.get('apiKey')))
    app.post('/api/gate', apiKeyAuth(deps, 'gate'), (c) => c.json({}))
    const ok = await app.request('/hooks/campaign', {
      method: 'POST',
      headers: { 'X-Gateway-Key': created.key },
    })
    expect(ok.status).toBe(200)
    expect(((await ok.json()) as { name: string }).name).toBe('mw')
    const missing = await app.request('/hooks/campaign', { method: 'POST' })
    expect(missing.status).toBe(401)
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('unauthorized')
    const forbidden = await app.request('/api/gate', {
      method: 'POST',
      headers: { Authorization: `Bearer ${created.key}` },
    })
    expect(forbidden.status).toBe(403)
    expect(await forbidden.json()).toEqual({
      error: { code: 'forbidden', message: 'This API key lacks the "gate" scope' },
    })
  })
})

describe('rate limits on D1', () => {
  it('counts in one upsert, refuses over the limit, starts again after the window', async () => {
    const deps = await d1Deps()
    const rule = { bucket: 'worker-test', subject: '192.0.2.1', limit: 2, windowMs: 60_000 }
    expect(await hitRateLimit(deps, rule)).toEqual({ allowed: true, remaining: 1, retryAfterMs: 0 })
    expect(await hitRateLimit(deps, rule)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 })
    deps.advance(15_000)
    expect(await hitRateLimit(deps, rule)).toEqual({
      allowed: false,
      remaining: 0,
      retryAfterMs: 45_000,
    })
    deps.advance(45_000)
    expect((await hitRateLimit(deps, rule)).allowed).toBe(true)

    const rows = await env.DB.prepare(
      "SELECT key, count FROM rate_limits WHERE key LIKE 'worker-test:%'",
    ).all<{ key: string; count: number }>()
    expect(rows.results).toHaveLength(1)
    expect(rows.results[0]!.count).toBe(1)
    expect(rows.results[0]!.key).not.toContain('192.0.2')

    expect(await purgeRateLimits(deps, deps.clock.now() + 1, 1)).toBeGreaterThanOrEqual(1)
    const left = await env.DB.prepare(
      "SELECT count(*) AS n FROM rate_limits WHERE key LIKE 'worker-test:%'",
    ).first<{ n: number }>()
    expect(left!.n).toBe(0)
  })
})
