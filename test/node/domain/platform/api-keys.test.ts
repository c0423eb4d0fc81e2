// API keys on real SQLite: creation shown once, verification, the per-process cache, and the middleware.
import { Hono } from 'hono'
import { Kysely, SqliteDialect } from 'kysely'
import { describe, expect, it } from 'vitest'
import type { Database } from '../../../../src/db/database.ts'
import {
  API_KEY_CACHE_TTL_MS,
  createApiKey,
  listApiKeys,
  revokeApiKey,
  verifyApiKey,
  type ApiKeyDeps,
} from '../../../../src/domain/platform/api-keys.ts'
import { toBase64Url } from '../../../../src/lib/encoding.ts'
import { apiKeyAuth } from '../../../../src/middleware/api-key-auth.ts'
import { testDeps } from '../../../helpers/deps.ts'

const KEY_FORMAT = /^cgk_([a-z2-7]{12})_([A-Za-z0-9_-]{43})$/

async function withKey(scopes: string[] = ['gate']) {
  const t = await testDeps()
  const created = await createApiKey(t.deps, { name: 'Website', scopes })
  if (!created.ok) throw new Error(created.error)
  // A second handle on the same database, with every query it runs recorded.
  const queries: string[] = []
  const counted: ApiKeyDeps = {
    ...t.deps,
    db: new Kysely<Database>({
      dialect: new SqliteDialect({ database: t.sqlite }),
      log: (e) => void queries.push(e.query.sql),
    }),
  }
  return { ...t, key: created.key, apiKey: created.apiKey, counted, queries }
}

describe('creating a key', () => {
  it('returns the full key once, stores only the SHA-256 of its secret', async () => {
    const { deps, sqlite, key, apiKey } = await withKey(['send', 'gate', 'gate'])
    const [, id, secret] = KEY_FORMAT.exec(key)!
    expect(apiKey).toMatchObject({ id, name: 'Website', scopes: ['gate', 'send'], revokedAt: null })
    const row = sqlite.prepare('SELECT * FROM api_keys').get() as Record<string, unknown>
    expect(row).toMatchObject({ id, name: 'Website', scopes: '["gate","send"]' })
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(secret))
    expect(row.secret_hash).toBe(toBase64Url(new Uint8Array(digest)))
    expect(JSON.stringify(row)).not.toContain(secret!)
    expect(await verifyApiKey(deps, key)).toEqual({
      id,
      name: 'Website',
      scopes: ['gate', 'send'],
    })
    const listed = await listApiKeys(deps)
    expect(listed).toHaveLength(1)
    expect(JSON.stringify(listed)).not.toContain(secret!)
  })

  it('gives every key its own id and secret', async () => {
    const { deps } = await testDeps()
    const a = await createApiKey(deps, { name: 'a', scopes: ['gate'] })
    const b = await createApiKey(deps, { name: 'a', scopes: ['gate'] })
    expect(a.ok && b.ok && a.key.slice(0, 16) !== b.key.slice(0, 16)).toBe(true)
  })

  it.each([
    [{ name: '', scopes: ['gate'] }, /name must be 1 to 100/],
    [{ name: 'x'.repeat(101), scopes: ['gate'] }, /name must be 1 to 100/],
    [{ name: 'a\nb', scopes: ['gate'] }, /control character/],
    [{ name: 'ok', scopes: [] }, /at least one scope/],
    [{ name: 'ok', scopes: ['gate', 'sudo'] }, /unknown scope "sudo"/],
  ])('refuses %j', async (input, error) => {
    const { deps, sqlite } = await testDeps()
    const res = await createApiKey(deps, input)
    expect(res.ok).toBe(false)
    expect(!res.ok && res.error).toMatch(error)
    expect(sqlite.prepare('SELECT count(*) AS n FROM api_keys').get()).toEqual({ n: 0 })
  })
})

describe('verifying a key', () => {
  it('refuses a wrong secret, an unknown id and a revoked key', async () => {
    const { deps, key, apiKey } = await withKey()
    const other = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A')
    expect(await verifyApiKey(deps, other)).toBeNull()
    expect(await verifyApiKey(deps, `cgk_${'a'.repeat(12)}_${key.slice(-43)}`)).toBeNull()
    expect(await verifyApiKey(deps, key)).not.toBeNull()
    expect(await revokeApiKey(deps, apiKey.id)).toBe(true)
    expect(await revokeApiKey(deps, apiKey.id)).toBe(false)
    expect(await verifyApiKey(deps, key)).toBeNull() // at once in the process that revoked it
    expect((await listApiKeys(deps))[0]!.revokedAt).toBe(deps.clock.now())
  })

  it.each([
    '',
    'cgk_',
    'Bearer x',
    'cgk_abc_def',
    'CGK_AAAAAAAAAAAA_' + 'a'.repeat(43),
    'x'.repeat(5000),
  ])('refuses malformed input %j without a query', async (presented) => {
    const { counted, queries, key } = await withKey()
    expect(await verifyApiKey(counted, presented)).toBeNull()
    expect(await verifyApiKey(counted, `${key} `)).toBeNull()
    expect(queries).toEqual([])
  })

  it('answers from the cache within the TTL: no query, even once the row is gone', async () => {
    const { counted, queries, sqlite, clock, key } = await withKey()
    expect(await verifyApiKey(counted, key)).not.toBeNull()
    const first = queries.length // the look-up, and the first last_used_at write
    expect(first).toBe(2)
    clock.advance(1000)
    expect(await verifyApiKey(counted, key)).not.toBeNull()
    expect(await verifyApiKey(counted, key.slice(0, -2) + 'xx')).toBeNull()
    expect(queries.length).toBe(first)

    sqlite.prepare('DELETE FROM api_keys').run()
    clock.advance(API_KEY_CACHE_TTL_MS - 2000)
    expect(await verifyApiKey(counted, key)).not.toBeNull()
    clock.advance(1000)
    expect(await verifyApiKey(counted, key)).toBeNull()
  })

  it('checks a cached key without a promise, and still refuses a wrong secret or a revocation', async () => {
    const { deps, counted, clock, key, apiKey } = await withKey()
    // First use: the look-up, the hash and the last_used_at write take promises.
    const first = verifyApiKey(counted, key)
    expect(first).toBeInstanceOf(Promise)
    expect(await first).not.toBeNull()
    clock.advance(1000)
    // Cached with its secret: answered in the call itself (the gate's hot path).
    const again = verifyApiKey(counted, key)
    expect(again).not.toBeInstanceOf(Promise)
    expect(again).toMatchObject({ id: apiKey.id, scopes: ['gate'] })
    expect(verifyApiKey(counted, key.slice(0, -2) + 'xx')).toBeNull()
    // A revocation through this handle is seen at once, synchronously too.
    await revokeApiKey(counted, apiKey.id)
    expect(await verifyApiKey(counted, key)).toBeNull()
    expect(await verifyApiKey(deps, key)).toBeNull()
  })

  it('another process sees a revocation within the TTL', async () => {
    const { deps, counted, clock, key, apiKey } = await withKey()
    expect(await verifyApiKey(counted, key)).not.toBeNull()
    await revokeApiKey(deps, apiKey.id) // through the other handle: its cache is not ours
    clock.advance(API_KEY_CACHE_TTL_MS - 1)
    expect(await verifyApiKey(counted, key)).not.toBeNull()
    clock.advance(1)
    expect(await verifyApiKey(counted, key)).toBeNull()
  })

  it('records last_used_at at most once a minute', async () => {
    const { deps, sqlite, clock, key } = await withKey()
    const lastUsed = () =>
      (sqlite.prepare('SELECT last_used_at AS t FROM api_keys').get() as { t: number | null }).t
    expect(lastUsed()).toBeNull()
    const t0 = clock.now()
    await verifyApiKey(deps, key)
    expect(lastUsed()).toBe(t0)
    clock.advance(59_000)
    await verifyApiKey(deps, key)
    expect(lastUsed()).toBe(t0)
    clock.advance(1_000)
    await verifyApiKey(deps, key)
    expect(lastUsed()).toBe(t0 + 60_000)
  })
})

describe('apiKeyAuth middleware', () => {
  async function setup() {
    const t = await withKey(['gate', 'consents:read'])
    const app = new Hono()
    app.post('/api/gate', apiKeyAuth(t.deps, 'gate'), (c) => c.json({ caller: c.get('apiKey') }))
    app.post('/api/send', apiKeyAuth(t.deps, 'send'), (c) => c.json({ ok: true }))
    return { ...t, app }
  }

  it('lets a valid key with the scope through, from the bearer token or X-Gateway-Key', async () => {
    const { app, key, apiKey } = await setup()
    for (const headers of [
      { Authorization: `Bearer ${key}` },
      { authorization: `bearer ${key}` },
      { 'X-Gateway-Key': key },
    ] as Record<string, string>[]) {
      const res = await app.request('/api/gate', { method: 'POST', headers })
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({
        caller: { id: apiKey.id, name: 'Website', scopes: ['gate', 'consents:read'] },
      })
    }
  })

  it('401 with WWW-Authenticate when the key is missing, invalid or revoked', async () => {
    const { app, deps, key, apiKey } = await setup()
    const attempts = async (headers: Record<string, string>) => {
      const res = await app.request('/api/gate', { method: 'POST', headers })
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
      const body = (await res.json()) as { error: { code: string; message: string } }
      expect(body.error.code).toBe('unauthorized')
      expect(body.error.message).toBeTruthy()
    }
    await attempts({})
    await attempts({ Authorization: `Basic ${btoa('a:b')}` })
    await attempts({ Authorization: 'Bearer cgk_nope' })
    // The last character changed (to another one: a key ending in '0' would otherwise stay the same).
    await attempts({ Authorization: `Bearer ${key.slice(0, -1)}${key.endsWith('0') ? '1' : '0'}` })
    await revokeApiKey(deps, apiKey.id)
    await attempts({ Authorization: `Bearer ${key}` })
    await attempts({ 'X-Gateway-Key': key })
  })

  it('403 naming the scope when the key lacks it', async () => {
    const { app, key } = await setup()
    const res = await app.request('/api/send', {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}` },
    })
    expect(res.status).toBe(403)
    expect(await res.json()).toEqual({
      error: { code: 'forbidden', message: 'This API key lacks the "send" scope' },
    })
    expect(res.headers.get('www-authenticate')).toContain('insufficient_scope')
  })
})
