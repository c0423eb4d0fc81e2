/**
 * @module Builds the app's dependencies on Cloudflare Workers: D1 through Kysely and D1.batch,
 * WebCrypto, the mail transport MAIL_TRANSPORT names, and outbox delivery after each commit through
 * `ctx.waitUntil`. Built once per environment object (the bindings), as src/runtime/node/deps.ts
 * builds them once per process.
 */
import type { Hono } from 'hono'
import { Kysely } from 'kysely'
import { createApp, type App } from '../../app.ts'
import { ConfigError, parseConfig } from '../../config.ts'
import type { Database } from '../../db/database.ts'
import type { Deps } from '../../deps.ts'
import { WORKERS_PBKDF2_ITERATIONS } from '../../domain/admin/passwords.ts'
import { deliverOutbox } from '../../domain/platform/outbox.ts'
import { outboxHandlers } from '../../jobs/outbox-handlers.ts'
import { systemClock } from '../../lib/clock.ts'
import { deriveKeys, webHmacSha256, webSha256 } from '../../lib/keys.ts'
import { jsonLogger } from '../../lib/log.ts'
import { createMauticClient } from '../../mautic/client.ts'
import { configurationErrorApp } from '../../routes/unavailable.ts'
import { d1Atomic, D1Dialect, d1Query, d1QueryOne } from './d1-dialect.ts'
import { workerMailTransport, WorkerTransportError } from './mail.ts'
import { outboxWaker } from './outbox-wake.ts'

/** The D1 binding plus the variables and secrets the README lists (strings). */
export interface WorkerEnv {
  DB: D1Database
}

export interface Built {
  deps: Deps
  app: App
}

/** What the Worker serves: the app, or, while the configuration is wrong, one that says so (503). */
export type Served = Built | { deps?: undefined; app: Hono; problems: string[] }

async function workerDeps(env: WorkerEnv): Promise<Built> {
  const strings = Object.fromEntries(
    Object.entries(env as object).filter((e): e is [string, string] => typeof e[1] === 'string'),
  )
  // On Workers there is no ./data/ to keep a generated secret in: APP_SECRET is always required, and
  // production is the default (`wrangler dev` reads NODE_ENV=development from .dev.vars).
  const config = parseConfig({ NODE_ENV: 'production', ...strings })
  if (!config.appSecret)
    throw new ConfigError(['APP_SECRET is required (npx wrangler secret put APP_SECRET)'])
  const db = new Kysely<Database>({ dialect: new D1Dialect(env.DB) })
  const keys = await deriveKeys(config.appSecret, config.appSecretPrevious)
  const logger = jsonLogger()
  const mautic = config.mautic ? createMauticClient(config.mautic) : undefined
  const mail = workerMailTransport(config, { db, keys, clock: systemClock, logger, mautic })
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
    pbkdf2Iterations: WORKERS_PBKDF2_ITERATIONS,
    logger,
    outboxHandlers: {},
    wakeOutbox: outboxWaker(() => deliverOutbox(deps)),
    mail,
    mautic,
    // Cloudflare sets it on every request; a client cannot forge it.
    clientIp: (c) => c.req.header('cf-connecting-ip'),
  }
  deps.outboxHandlers = outboxHandlers(deps)
  return { deps, app: createApp(deps) }
}

const built = new WeakMap<WorkerEnv, Promise<Built>>()

/**
 * The deps and app of this environment, built on first use. Rejects with ConfigError (or
 * WorkerTransportError) when the configuration is wrong; tried again on the next call.
 */
export function forEnv(env: WorkerEnv): Promise<Built> {
  let b = built.get(env)
  if (!b) {
    b = workerDeps(env)
    b.catch(() => built.delete(env))
    built.set(env, b)
  }
  return b
}

const served = new WeakMap<WorkerEnv, Promise<Served>>()

/**
 * What src/worker.ts serves for this environment: `forEnv`'s app, or, when the configuration is
 * wrong, src/routes/unavailable.ts (503 with the reasons on /healthz, a page elsewhere) instead of a
 * 500 on every route. Kept for the environment's lifetime: its bindings never change (fixing them
 * deploys a new one).
 */
export function serveEnv(env: WorkerEnv): Promise<Served> {
  let s = served.get(env)
  if (!s) {
    s = forEnv(env).catch((err: unknown): Served => {
      const problems =
        err instanceof ConfigError
          ? err.problems
          : err instanceof WorkerTransportError
            ? [err.message]
            : undefined
      if (!problems) throw err
      jsonLogger().log(
        'error',
        'invalid configuration: every request is answered 503 until it is fixed',
        { problems },
      )
      return { app: configurationErrorApp(problems), problems }
    })
    s.catch(() => served.delete(env)) // an unexpected failure: tried again
    served.set(env, s)
  }
  return s
}
