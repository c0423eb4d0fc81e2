/** @module Builds the app's dependencies on Node: better-sqlite3, node:crypto HMAC, the delivery loop. */
import type Database from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context } from 'hono'
import type { Config } from '../../config.ts'
import type { Database as Schema } from '../../db/database.ts'
import type { Deps } from '../../deps.ts'
import { systemClock, type Clock } from '../../lib/clock.ts'
import { outboxHandlers } from '../../jobs/outbox-handlers.ts'
import { NODE_PBKDF2_ITERATIONS } from '../../domain/admin/passwords.ts'
import type { OutboxHandlerTable } from '../../domain/platform/outbox-messages.ts'
import { deriveKeys } from '../../lib/keys.ts'
import { jsonLogger, type Logger } from '../../lib/log.ts'
import type { MailTransport } from '../../mail/message.ts'
import { createMauticClient } from '../../mautic/client.ts'
import type { MauticApi } from '../../mautic/types.ts'
import { nodeAead, nodeHmacSha256, nodeSha256 } from './crypto.ts'
import { cachingDatabase, sqliteAtomic, sqliteQuery, sqliteQueryOne } from './sqlite.ts'

export interface NodeDepsOptions {
  config: Config & { appSecret: string }
  sqlite: Database.Database
  clock?: Clock
  /** Staff password hashing cost (default: NODE_PBKDF2_ITERATIONS). */
  pbkdf2Iterations?: number
  logger?: Logger
  outboxHandlers?: OutboxHandlerTable
  wakeOutbox?: () => void
  mail?: MailTransport
  /** Instead of the client made from config.mautic. */
  mautic?: MauticApi
}

/** Until a transport is configured, sending fails loudly (and the outbox retries) rather than drops mail. */
const noMail: MailTransport = {
  name: 'none',
  send: () => Promise.reject(new Error('no mail transport configured')),
}

/**
 * The client's address: the socket's, or behind `hops` reverse proxies of yours (TRUST_PROXY) the
 * X-Forwarded-For entry `hops` from the right. Each proxy appends the address it saw, so the entries
 * further left are whatever the client wrote: taking the left-most let anyone pick an address per
 * request, and go round every rate limit. With fewer entries than hops, the left-most (written by a
 * proxy of yours all the same).
 */
export function nodeClientIp(hops: number) {
  return (c: Context): string | undefined => {
    if (hops > 0) {
      const forwarded = (c.req.header('x-forwarded-for') ?? '')
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean)
      if (forwarded.length) return forwarded[Math.max(0, forwarded.length - hops)]
    }
    try {
      return getConnInfo(c).remote.address
    } catch {
      return undefined // app.request() in tests has no socket
    }
  }
}

export async function nodeDeps(opts: NodeDepsOptions): Promise<Deps> {
  const { config, sqlite } = opts
  const cached = cachingDatabase(sqlite)
  const deps: Deps = {
    config,
    db: new Kysely<Schema>({ dialect: new SqliteDialect({ database: cached }) }),
    atomic: sqliteAtomic(sqlite),
    query: sqliteQuery(cached),
    queryOne: sqliteQueryOne(cached),
    keys: await deriveKeys(config.appSecret, config.appSecretPrevious, nodeAead),
    hmac: nodeHmacSha256,
    sha256: nodeSha256,
    clock: opts.clock ?? systemClock,
    pbkdf2Iterations: opts.pbkdf2Iterations ?? NODE_PBKDF2_ITERATIONS,
    logger: opts.logger ?? jsonLogger(),
    outboxHandlers: {},
    wakeOutbox: opts.wakeOutbox ?? (() => {}),
    mail: opts.mail ?? noMail,
    mautic: opts.mautic ?? (config.mautic ? createMauticClient(config.mautic) : undefined),
    clientIp: nodeClientIp(config.trustProxy),
  }
  deps.outboxHandlers = opts.outboxHandlers ?? outboxHandlers(deps)
  return deps
}
