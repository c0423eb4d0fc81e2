/**
 * @module A gateway app on a database seeded with consenting contacts and an API key, served without
 * the delivery loop: the sending scenarios measure the request path (gate, links, queueing) and
 * exclude the transport, as the sending issue's targets ask.
 */
import type { ServerType } from '@hono/node-server'
import type Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp, securityHeaderOptions } from '../../src/app.ts'
import { parseConfig } from '../../src/config.ts'
import type { Deps } from '../../src/deps.ts'
import { createApiKey } from '../../src/domain/platform/api-keys.ts'
import { preferencesUrl, unsubscribeUrl } from '../../src/domain/sending/links.ts'
import { subscribe } from '../../src/domain/consent/subscriptions.ts'
import { jsonLogger } from '../../src/lib/log.ts'
import { newMessageId } from '../../src/mail/headers.ts'
import type { MailTransport } from '../../src/mail/message.ts'
import { nodeDeps } from '../../src/runtime/node/deps.ts'
import { startCheckpointer } from '../../src/runtime/node/checkpointer.ts'
import { serveGateway } from '../../src/runtime/node/edge.ts'
import { startWebhookReader } from '../../src/runtime/node/webhook-reader.ts'
import { applyMigrations, openSqlite } from '../../src/runtime/node/sqlite.ts'
import { seededAddress } from '../seed/history.ts'
import { seededWorkCopy } from '../seed/work-copy.ts'
import { APP_SECRET, WEBHOOK_SECRET } from '../secrets.ts'

export const SEEDED_CONTACTS = 2_000
/** The same addresses as the large seeded database's (bench/seed/history.ts). */
export const seededEmail = seededAddress

/** The configuration of every seeded gateway: an https PUBLIC_URL (HSTS on), webhooks taken. */
export const seededConfig = () => ({
  ...parseConfig({
    APP_SECRET,
    PUBLIC_URL: 'https://gateway.bench',
    MAUTIC_WEBHOOK_SECRET: WEBHOOK_SECRET,
  }),
  appSecret: APP_SECRET,
})

/**
 * The sending issue's "in-memory sink": takes every message and keeps none (the tests' memory
 * transport keeps them all, and 30,000 mails of a run would measure the garbage collector).
 */
function sinkMailTransport(): MailTransport {
  return {
    name: 'sink',
    send: async (message) => ({ messageId: newMessageId(message.from) }),
  }
}

/**
 * SEEDED_CONTACTS contacts bench0… subscribed through the gateway's code, `newsletter` granted (as if
 * confirmed) and `cookies`, into `deps`'s database (also the Workers bench's local D1). Their ids.
 */
export async function seedContacts(deps: Deps, sqlite: Database.Database): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < SEEDED_CONTACTS; i++) {
    const r = await subscribe(deps, {
      email: seededEmail(i),
      purposes: ['cookies', 'newsletter'],
      locale: 'fr',
      method: 'api',
      source: 'bench',
      actor: 'bench',
      evidence: { ip: '192.0.2.1' },
    })
    if (r.ok) ids.push(r.contactId)
  }
  sqlite.exec(
    "UPDATE consent_state SET status = 'granted', granted_at = changed_at WHERE status = 'pending'",
  )
  return ids
}

/** A fresh database seeded with `seedContacts`, and its deps. */
export async function seededDeps(): Promise<{
  deps: Deps
  ids: string[]
  sqlite: ReturnType<typeof openSqlite>
  close: () => void
}> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-seeded-'))
  const sqlite = openSqlite(join(dir, 'gw.db'))
  applyMigrations(sqlite)
  const deps = await nodeDeps({
    config: seededConfig(),
    sqlite,
    logger: jsonLogger(() => {}),
    mail: sinkMailTransport(),
  })
  const ids = await seedContacts(deps, sqlite)
  return {
    deps,
    ids,
    sqlite,
    close: () => (sqlite.close(), rmSync(dir, { recursive: true, force: true })),
  }
}

/**
 * The seeded database of BENCH_CONTACTS contacts (bench/seed/cache.ts), this run's copy of it, under
 * the same configuration as the small one. Nothing is added: the cache already holds its contacts.
 */
export async function seededCopyDeps() {
  const { path, meta } = seededWorkCopy()
  const sqlite = openSqlite(path)
  const deps = await nodeDeps({
    config: seededConfig(),
    sqlite,
    logger: jsonLogger(() => {}),
    mail: sinkMailTransport(),
  })
  return {
    deps,
    sqlite,
    meta,
    close: () => {
      sqlite.close()
    },
  }
}

/** The last part of a link's path: its token. */
const tokenOf = (url: string) => url.slice(url.lastIndexOf('/') + 1)

/** Link tokens of these contacts, as a footer's links carry them. */
export async function linkPools(deps: Deps, ids: string[]) {
  const preferencesToken: string[] = []
  const unsubscribeToken: string[] = []
  for (const id of ids) {
    preferencesToken.push(tokenOf(await preferencesUrl(deps, id)))
    unsubscribeToken.push(tokenOf(await unsubscribeUrl(deps, id, 'newsletter')))
  }
  return { preferencesToken, unsubscribeToken }
}

/**
 * Serves `deps` with an API key for the gate and sends; the key travels to the client as a request
 * header, the preference page token of one contact as the `{preferencesToken}` path parameter, and
 * link tokens of `poolIds` as pools (`{preferencesToken}`, `{unsubscribeToken}` in a mix's paths).
 */
async function serveWithKey(deps: Deps, sqlite: Database.Database, one: string, poolIds: string[]) {
  const key = await createApiKey(deps, { name: 'bench', scopes: ['gate', 'send'] })
  if (!key.ok) throw new Error(key.error)
  const preferencesToken = tokenOf(await preferencesUrl(deps, one))
  const pools = await linkPools(deps, poolIds)
  const served = await serveBench(deps, sqlite)
  return {
    port: served.port,
    headers: { Authorization: `Bearer ${key.key}`, 'Content-Type': 'application/json' },
    pathParams: { preferencesToken },
    pools,
    close: served.close,
  }
}

/** The seeded app (2,000 contacts), served. */
export async function seededApi() {
  const { deps, ids, sqlite, close } = await seededDeps()
  const served = await serveWithKey(deps, sqlite, ids[7]!, ids.slice(0, 1_000))
  return {
    ...served,
    close: async () => {
      await served.close()
      close()
    },
  }
}

/** The large seeded database, served: tokens of 2,000 contacts spread over it. */
export async function seededCopyApi() {
  const { deps, sqlite, meta, close } = await seededCopyDeps()
  const ids = meta.build.sample.map((s) => s.id)
  const step = Math.max(1, Math.floor(ids.length / 2_000))
  const spread = ids.filter((_, k) => k % step === 0)
  const served = await serveWithKey(deps, sqlite, ids[0]!, spread)
  return {
    ...served,
    close: async () => {
      await served.close()
      close()
    },
  }
}

/**
 * A seeded contact's preference page as the gateway renders it (in French), and the security
 * header options of that gateway: for the page's floor (bench/apps/http-apps.ts, 'hono-page-edge').
 */
export async function seededPreferencePage() {
  const { deps, ids, close } = await seededDeps()
  try {
    const path = new URL(await preferencesUrl(deps, ids[7]!)).pathname
    const res = await createApp(deps).request(path, {
      headers: { Accept: 'text/html', 'Accept-Language': 'fr-FR,fr;q=0.9,en;q=0.8' },
    })
    if (res.status !== 200) throw new Error(`The preference page answered ${res.status}`)
    return { html: await res.text(), headerOptions: securityHeaderOptions(deps) }
  } finally {
    close()
  }
}

/**
 * Serves `deps` on a free loopback port as `npm start` does (the Node edge, WAL checkpoints and
 * webhook reading in worker threads), without the delivery loop. `close` leaves the database open.
 */
export async function serveBench(deps: Deps, sqlite: Database.Database) {
  const checkpoints = startCheckpointer(sqlite, (m) => console.error(`checkpoint: ${m}`))
  const webhooks = startWebhookReader(deps, (m) => console.error(m))
  const server = await new Promise<ServerType>((resolve) => {
    const s = serveGateway(deps, { port: 0, hostname: '127.0.0.1' }, () => resolve(s))
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await Promise.all([checkpoints?.stop(), webhooks?.close()])
    },
  }
}
