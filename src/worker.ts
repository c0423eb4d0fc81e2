/**
 * @module Cloudflare Workers entry: the same app over D1. Deps are built once per environment object;
 * outbox delivery starts with `ctx.waitUntil` right after a commit, and the cron trigger is the safety net.
 */
import { Kysely } from 'kysely'
import { createApp, type App } from './app.ts'
import { parseConfig } from './config.ts'
import type { Database } from './db/database.ts'
import { systemClock, type Deps } from './deps.ts'
import { deliverOutbox } from './domain/platform/outbox.ts'
import { outboxHandlers } from './jobs/outbox-handlers.ts'
import { runScheduledJobs } from './jobs/scheduler.ts'
import { workerMailTransport } from './runtime/worker/mail.ts'
import { httpMailTransport } from './mail/http.ts'
import { mauticMailTransport } from './mail/mautic.ts'
import { createMauticClient } from './mautic/client.ts'
import { deriveKeys, webHmacSha256, webSha256 } from './lib/keys.ts'
import { jsonLogger } from './lib/log.ts'
import { d1Atomic, D1Dialect, d1Query, d1QueryOne } from './runtime/worker/d1-dialect.ts'

/** The D1 binding plus the variables and secrets of CONTRACT.md (strings). */
export interface WorkerEnv {
  DB: D1Database
}

interface Built {
  deps: Deps
  app: App
}

const built = new WeakMap<WorkerEnv, Promise<Built>>()

async function buildDeps(env: WorkerEnv): Promise<Built> {
  const strings = Object.fromEntries(
    Object.entries(env as object).filter((e): e is [string, string] => typeof e[1] === 'string'),
  )
  // On Workers there is no ./data/ to keep a generated secret in: APP_SECRET is always required.
  const config = parseConfig({ NODE_ENV: 'production', ...strings })
  if (!config.appSecret) throw new Error('APP_SECRET is required (wrangler secret put APP_SECRET)')
  const db = new Kysely<Database>({ dialect: new D1Dialect(env.DB) })
  const keys = await deriveKeys(config.appSecret, config.appSecretPrevious)
  const logger = jsonLogger()
  const mautic = config.mautic ? createMauticClient(config.mautic) : undefined
  const deps: Deps = {
    config,
    db,
    atomic: d1Atomic(env.DB),
    query: d1Query(env.DB),
    queryOne: d1QueryOne(env.DB),
    keys,
    hmac: webHmacSha256,
    sha256: webSha256,
    clock: systemClock,
    logger,
    outboxHandlers: {},
    wakeOutbox: (ctx) => ctx?.()?.waitUntil(deliverOutbox(deps)),
    mail:
      config.mail.transport === 'mautic' && mautic
        ? mauticMailTransport(
            mautic,
            { confirm: config.mautic?.confirmEmailId },
            // Access links and address checks have no Mautic template: MAIL_HTTP_URL carries them.
            config.mail.httpUrl
              ? httpMailTransport({ url: config.mail.httpUrl, token: config.mail.httpToken })
              : undefined,
          )
        : workerMailTransport(config, { db, keys, clock: systemClock, logger }),
    mautic,
    // Cloudflare sets it on every request; a client cannot forge it.
    clientIp: (c) => c.req.header('cf-connecting-ip'),
  }
  deps.outboxHandlers = outboxHandlers(deps)
  return { deps, app: createApp(deps) }
}

export function forEnv(env: WorkerEnv): Promise<Built> {
  let b = built.get(env)
  if (!b) {
    b = buildDeps(env)
    b.catch(() => built.delete(env)) // a bad config is reported on every request until fixed
    built.set(env, b)
  }
  return b
}

export default {
  async fetch(request, env, ctx) {
    const { app } = await forEnv(env)
    return app.fetch(request, env, ctx)
  },
  async scheduled(_controller, env, ctx) {
    const { deps } = await forEnv(env)
    ctx.waitUntil(Promise.all([deliverOutbox(deps), runScheduledJobs(deps)]))
  },
} satisfies ExportedHandler<WorkerEnv>
