/** @module What createApp needs from its runtime: everything runtime-specific is injected here. */
import type { Context } from 'hono'
import type { Config } from './config.ts'
import type { Atomic, DB, Query, QueryOne } from './db/database.ts'
import type { OutboxHandlerTable } from './domain/platform/outbox-messages.ts'
import type { Clock } from './lib/clock.ts'
import type { HmacSha256, Keys, Sha256 } from './lib/keys.ts'
import type { Logger } from './lib/log.ts'
import type { MailTransport } from './mail/message.ts'
import type { WebhookReader } from './mautic/webhook-read.ts'
import type { MauticApi } from './mautic/types.ts'

/** The part of a Workers ExecutionContext the app uses; Node passes nothing. */
export interface Deferrer {
  waitUntil(promise: Promise<unknown>): void
}

export interface Deps {
  config: Config
  db: DB
  atomic: Atomic
  /** One compiled read straight on the driver (hot paths): see `Query` in db/database.ts. */
  query: Query
  queryOne: QueryOne
  keys: Keys
  hmac: HmacSha256
  /** SHA-256; node:crypto on Node (synchronous, far faster for small inputs), WebCrypto on Workers. */
  sha256: Sha256
  clock: Clock
  /**
   * PBKDF2-SHA-256 iterations for new staff password hashes: 600,000 on Node (OWASP), 100,000 on
   * Workers (workerd's maximum). See src/domain/admin/passwords.ts.
   */
  pbkdf2Iterations: number
  logger: Logger
  /** Built by src/jobs/outbox-handlers.ts: one handler per kind of domain/platform/outbox-messages.ts. */
  outboxHandlers: OutboxHandlerTable
  mail: MailTransport
  /** The Mautic REST client when MAUTIC_URL is configured; calls go through the outbox, never a request. */
  mautic?: MauticApi
  /**
   * Reads a Mautic webhook body (signature, parse, receipt keys) off the request's thread: the Node
   * server's worker thread (src/runtime/node/webhook-reader.ts). Without one, in the request.
   */
  readWebhook?: WebhookReader
  /**
   * The client's IP address for evidence and rate limits: the socket address on Node (or, behind
   * TRUST_PROXY=N proxies, the X-Forwarded-For entry N from the right), CF-Connecting-IP on Workers.
   */
  clientIp(c: Context): string | undefined
  /**
   * Called once a request has committed outbox rows. Node wakes its delivery loop; Workers deliver
   * with `ctx.waitUntil` right after the response (the cron trigger is only the safety net). The
   * context comes as a getter: Hono's throws where there is none (Node), and a throw per request is dear.
   */
  wakeOutbox(ctx?: () => Deferrer | undefined): void
}
