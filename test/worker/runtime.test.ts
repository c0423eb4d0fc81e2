// The same app inside workerd with a D1 binding, over the same migrations as Node.
import {
  createExecutionContext,
  createScheduledController,
  env,
  SELF,
  waitOnExecutionContext,
} from 'cloudflare:test'
import { Kysely } from 'kysely'
import { describe, expect, it, vi } from 'vitest'
import type { Database } from '../../src/db/database.ts'
import {
  deliverOutbox,
  enqueueQuery,
  type OutboxMessage,
} from '../../src/domain/platform/outbox.ts'
import { blindIndexWith } from '../../src/lib/email.ts'
import { deriveKeys, webHmacSha256 } from '../../src/lib/keys.ts'
import { jsonLogger } from '../../src/lib/log.ts'
import { d1Atomic, D1Dialect } from '../../src/runtime/worker/d1-dialect.ts'
import worker from '../../src/worker.ts'
import { KEY_VECTORS } from '../fixtures/key-vectors.ts'

const db = () => new Kysely<Database>({ dialect: new D1Dialect(env.DB) })
const suppression = (bidx: string) => ({
  email_bidx: bidx,
  bidx_kid: 'k1',
  reason: 'erased' as const,
  created_at: 1,
})

describe('Workers runtime (workerd + D1)', () => {
  it('really runs in workerd', () => {
    expect(navigator.userAgent).toBe('Cloudflare-Workers')
  })

  it('serves /healthz from src/worker.ts over D1', async () => {
    const res = await SELF.fetch('https://gateway.test/healthz')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok' })
    expect(res.headers.get('x-request-id')).toBeTruthy()
  })

  it('serves the OpenAPI document generated from the routes (valibot schemas in workerd)', async () => {
    const res = await SELF.fetch('https://gateway.test/api/v1/openapi.json')
    expect(res.status).toBe(200)
    const doc = (await res.json()) as {
      paths: Record<string, Record<string, { requestBody?: { content: object } }>>
    }
    expect(Object.keys(doc.paths)).toContain('/subscriptions')
    expect(JSON.stringify(doc.paths['/subscriptions']!.post!.requestBody)).toContain(
      '"maxItems":50',
    )
  })

  it('has the migrated tables, recorded in d1_migrations', async () => {
    const names = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all<{
      name: string
    }>()
    const tables = names.results.map((r) => r.name)
    for (const t of ['contacts', 'consent_events', 'consent_state', 'outbox', 'api_keys'])
      expect(tables).toContain(t)
    const applied = await env.DB.prepare('SELECT name FROM d1_migrations').all<{ name: string }>()
    expect(applied.results.map((r) => r.name)).toContain('0001_init.sql')
  })

  it('renders a localized page with the precompiled templates', async () => {
    const res = await SELF.fetch('https://gateway.test/nowhere', {
      headers: { 'Accept-Language': 'en' },
    })
    expect(res.status).toBe(404)
    const html = await res.text()
    expect(html).toContain('<html lang="en">')
    expect(html).toContain('Page not found')
    const api = await SELF.fetch('https://gateway.test/api/v1/nope')
    expect(await api.json()).toEqual({ error: { code: 'not_found', message: 'No such route' } })
  })

  it('atomic(): a D1 batch commits every statement', async () => {
    const k = db()
    await d1Atomic(env.DB)([
      k.insertInto('suppressions').values(suppression('w-a')).compile(),
      k.insertInto('suppressions').values(suppression('w-b')).compile(),
    ])
    const rows = await k
      .selectFrom('suppressions')
      .select('email_bidx')
      .where('email_bidx', 'like', 'w-%')
      .execute()
    expect(rows.map((r) => r.email_bidx).sort()).toEqual(['w-a', 'w-b'])
  })

  it('atomic(): a failing statement rolls the whole batch back', async () => {
    const k = db()
    await expect(
      d1Atomic(env.DB)([
        k.insertInto('suppressions').values(suppression('r-first')).compile(),
        k.insertInto('suppressions').values(suppression('r-dup')).compile(),
        k.insertInto('suppressions').values(suppression('r-dup')).compile(),
      ]),
    ).rejects.toThrow(/UNIQUE/)
    const rows = await k
      .selectFrom('suppressions')
      .select('email_bidx')
      .where('email_bidx', 'like', 'r-%')
      .execute()
    expect(rows).toEqual([])
  })

  it('derives the same keys as Node (known-answer vectors)', async () => {
    const keys = await deriveKeys(KEY_VECTORS.secret)
    expect(keys.current.kid).toBe(KEY_VECTORS.kid)
    expect(await blindIndexWith(webHmacSha256, keys.current, KEY_VECTORS.email)).toBe(
      KEY_VECTORS.blindIndex,
    )
  })

  it('delivers the outbox over D1, in order per ordering key', async () => {
    const k = db()
    const delivered: unknown[] = []
    await d1Atomic(env.DB)([
      enqueueQuery(k, 1000, {
        kind: 'test.record',
        payload: { n: 1 },
        orderingKey: 'contact-1',
      } as unknown as OutboxMessage),
      enqueueQuery(k, 1000, {
        kind: 'test.record',
        payload: { n: 2 },
        orderingKey: 'contact-1',
      } as unknown as OutboxMessage),
    ])
    const deps = {
      db: k,
      clock: { now: () => 2000 },
      logger: jsonLogger(() => {}),
      outboxHandlers: { 'test.record': async (p: unknown) => void delivered.push(p) },
    }
    const first = await deliverOutbox(deps)
    expect(first.delivered).toBe(1) // the second waits for the first of its key
    await deliverOutbox(deps)
    expect(delivered).toEqual([{ n: 1 }, { n: 2 }])
  })

  it("writes no link token in its own log lines (wrangler dev's request log is wrangler's)", async () => {
    const lines: string[] = []
    const spy = vi
      .spyOn(console, 'log')
      .mockImplementation((line: unknown) => void lines.push(String(line)))
    try {
      const token = 'v1.' + 'A'.repeat(40) + '.' + 'B'.repeat(43)
      for (const path of [`/u/${token}`, `/p/${token}`, `/c/${token}`])
        await SELF.fetch(`https://gateway.test${path}?lang=fr`)
    } finally {
      spy.mockRestore()
    }
    const requests = lines.filter((l) => l.includes('"msg":"request"'))
    expect(requests.length).toBeGreaterThanOrEqual(3)
    expect(lines.join('\n')).not.toContain('A'.repeat(40))
    expect(requests.join('\n')).toContain('/u/:redacted')
  })

  it('the cron trigger runs the delivery step (safety net)', async () => {
    const k = db()
    await d1Atomic(env.DB)([
      enqueueQuery(
        k,
        0,
        { kind: 'no.such.kind', payload: {} } as unknown as OutboxMessage,
        'cron-probe',
      ),
    ])
    const ctx = createExecutionContext()
    await worker.scheduled(createScheduledController({ cron: '* * * * *' }), env, ctx)
    await waitOnExecutionContext(ctx)
    const row = await k
      .selectFrom('outbox')
      .selectAll()
      .where('id', '=', 'cron-probe')
      .executeTakeFirstOrThrow()
    expect(row.attempts).toBe(1)
    expect(row.last_error).toContain('no handler')
  })
})
