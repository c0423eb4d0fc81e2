/**
 * @module The HTTP apps bench/processes/server.ts can serve, by name. Add one here when a scenario
 * needs it.
 */
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { Kysely, SqliteDialect } from 'kysely'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../src/config.ts'
import { jsonLogger } from '../../src/lib/log.ts'
import { memoryMailTransport } from '../../src/mail/memory.ts'
import {
  securityHeaderList,
  type SecurityHeadersOptions,
} from '../../src/middleware/security-headers.ts'
import { nodeDeps } from '../../src/runtime/node/deps.ts'
import { nodeEdge } from '../../src/runtime/node/edge.ts'
import { openDatabase, startServer } from '../../src/runtime/node/server.ts'
import { openSqlite } from '../../src/runtime/node/sqlite.ts'
import { APP_SECRET, WEBHOOK_SECRET } from '../secrets.ts'
import type { RunningApp } from './running-app.ts'
import { seededApi, seededCopyApi, seededPreferencePage, serveBench } from './seeded-app.ts'
import { dashboardApp } from './dashboard-app.ts'
import { seededWorkCopy } from '../seed/work-copy.ts'

export type { RunningApp } from './running-app.ts'

/** Loopback only: a benchmark server must never be reachable from the network. */
export const HOST = '127.0.0.1'
const dropLog = jsonLogger(() => {})

/**
 * Serves `fetch` on a free loopback port; with `edge`, behind the gateway's own Node edge (those
 * security headers, a request id, an access line to a logger that drops it, as the seeded gateway).
 */
async function listen(fetch: Parameters<typeof serve>[0]['fetch'], edge?: SecurityHeadersOptions) {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const createServer = edge && nodeEdge(securityHeaderList(edge), dropLog).createServer
    const s = serve({ fetch, port: 0, hostname: HOST, createServer }, () => resolve(s))
  })
  const address = server.address()
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

export const apps = {
  /** Baseline: the least a Hono app on @hono/node-server can do. */
  bare: async (): Promise<RunningApp> => {
    const app = new Hono().get('/hello', (c) => c.json({ ok: true }))
    return listen(app.fetch)
  },

  /**
   * The sending issue's own yardstick ("Kysely over HTTP measured ~41 % here"): a bare Hono POST that
   * parses a JSON body and runs one Kysely primary-key lookup on better-sqlite3 (WAL, the gateway's
   * pragmas), then answers the row as JSON. What one query over HTTP costs on this machine, this run.
   */
  'hono-kysely': async (): Promise<RunningApp> => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-kysely-'))
    const sqlite = openSqlite(join(dir, 'items.db'))
    sqlite.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)')
    const insert = sqlite.prepare('INSERT INTO items (id, name) VALUES (?, ?)')
    sqlite.transaction(() => {
      for (let id = 1; id <= 2_000; id++) insert.run(id, `item-${id}@example.test`)
    })()
    const db = new Kysely<{ items: { id: number; name: string } }>({
      dialect: new SqliteDialect({ database: sqlite }),
    })
    const app = new Hono().post('/lookup', async (c) => {
      const { id } = await c.req.json<{ id: number }>()
      const row = await db.selectFrom('items').selectAll().where('id', '=', id).executeTakeFirst()
      return c.json({ item: row ?? null })
    })
    const served = await listen(app.fetch)
    return {
      port: served.port,
      close: async () => {
        await served.close()
        await db.destroy()
        rmSync(dir, { recursive: true, force: true })
      },
    }
  },

  /**
   * The preference page's floor: the gateway's own Node edge (security headers, request id, access
   * log) in front of a bare Hono route that answers the page the gateway rendered for a seeded
   * contact, as a fixed string. What serving those 5 KB costs here, without the token check, the
   * read and the render.
   */
  'hono-page-edge': async (): Promise<RunningApp> => {
    const { html, headerOptions } = await seededPreferencePage()
    const app = new Hono().get('/page', (c) => c.html(html))
    return listen(app.fetch, headerOptions)
  },

  /**
   * The HTTP gate's floor: the gateway's own Node edge in front of a bare Hono route that parses the
   * gate's JSON body and answers a fixed decision. What any JSON API call costs here before the API
   * key, the blind index and the query.
   */
  'hono-post-edge': async (): Promise<RunningApp> => {
    const app = new Hono().post('/gate', async (c) => {
      const { purpose } = await c.req.json<{ purpose: string }>()
      return c.json({ results: [{ index: 0, allowed: true, purpose }] })
    })
    return listen(app.fetch, { hsts: true }) // as the seeded gateway's https PUBLIC_URL gives
  },

  /** The real gateway, started the way `npm start` does, on a fresh database in a temp dir. */
  gateway: async (): Promise<RunningApp> => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-gateway-'))
    const running = await startServer(
      {
        PORT: '0',
        HOST,
        DATABASE_PATH: join(dir, 'gateway.db'),
        APP_SECRET,
        PUBLIC_URL: `http://${HOST}`,
      },
      // Access logs still get built (that cost is real) but go nowhere instead of flooding stdout.
      jsonLogger(() => {}),
    )
    return {
      port: Number(new URL(running.url).port),
      close: async () => {
        await running.close()
        rmSync(dir, { recursive: true, force: true })
      },
    }
  },
  /**
   * The gateway on a seeded database of 2,000 contacts with an API key, taking Mautic's webhooks,
   * without the delivery loop (bench/apps/seeded-app.ts).
   */
  'gateway-api': seededApi,

  /** The same on this run's copy of the large seeded database (BENCH_CONTACTS contacts). */
  'gateway-seeded': seededCopyApi,

  /**
   * The admin dashboard for a signed-in viewer (bench/apps/dashboard-app.ts), on the database at
   * BENCH_DASHBOARD_DB or on a small one of 90 days seeded at start.
   */
  'gateway-dashboard': () => dashboardApp(process.env.BENCH_DASHBOARD_DB || undefined),

  /** The same on this run's copy of the large seeded database (BENCH_CONTACTS contacts). */
  'gateway-dashboard-seeded': () => dashboardApp(seededWorkCopy().path),

  /**
   * The gateway with MAUTIC_WEBHOOK_SECRET set, on a fresh file database in a temp dir, without the
   * delivery loop: the webhook target is the intake (signature, parse, durable write), and the events
   * it queues stay queued.
   */
  'gateway-hooks': async (): Promise<RunningApp> => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-hooks-'))
    const sqlite = openDatabase(join(dir, 'gateway.db'))
    const parsed = parseConfig({
      APP_SECRET,
      PUBLIC_URL: `http://${HOST}`,
      MAUTIC_WEBHOOK_SECRET: WEBHOOK_SECRET,
    })
    const deps = await nodeDeps({
      config: { ...parsed, appSecret: APP_SECRET },
      sqlite,
      logger: jsonLogger(() => {}),
      mail: memoryMailTransport(),
    })
    const served = await serveBench(deps, sqlite)
    return {
      port: served.port,
      close: async () => {
        await served.close()
        sqlite.close()
        rmSync(dir, { recursive: true, force: true })
      },
    }
  },
} satisfies Record<string, () => Promise<RunningApp>>

export type AppName = keyof typeof apps
