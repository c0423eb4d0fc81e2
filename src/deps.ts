/** @module What createApp needs from its runtime: everything runtime-specific is injected here. */
import type { Context } from 'hono'
import type { CompiledQuery } from 'kysely'
import type { Config } from './config.ts'
import type { Atomic, DB } from './db/database.ts'
import type { OutboxHandlers } from './domain/platform/outbox.ts'
import type { HmacSha256, Keys, Sha256 } from './lib/keys.ts'
import type { Logger } from './lib/log.ts'
import type { MailTransport } from './mail/message.ts'
import type { WebhookReader } from './mautic/webhook-read.ts'
import type { MauticApi } from './mautic/types.ts'

export interface Clock {
  /** Epoch milliseconds. Tests pass a fixed clock. */
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

/** The part of a Workers ExecutionContext the app uses; Node passes nothing. */
export interface Deferrer {
  waitUntil(promise: Promise<unknown>): void
}

export interface Deps {
  config: Config
  db: DB
  atomic: Atomic
  /**
   * Runs one compiled read straight on the driver (hot paths; see db/prepared.ts). Synchronous on
   * Node (better-sqlite3 is), a promise on Workers: callers use `settle` to await only when needed.
   */
  query<R>(q: CompiledQuery): R[] | Promise<R[]>
  /** The first row only (or undefined): cheaper than `query` on Node, where no array is built. */
  queryOne<R>(q: CompiledQuery): R | undefined | Promise<R | undefined>
  keys: Keys
  hmac: HmacSha256
  /** SHA-256; node:crypto on Node (synchronous, far faster for small inputs), WebCrypto on Workers. */
  sha256: Sha256
  clock: Clock
  logger: Logger
  outboxHandlers: OutboxHandlers
  mail: MailTransport
  /** The Mautic REST client when MAUTIC_URL is configured; calls go through the outbox, never a request. */
  mautic?: MauticApi
  /**
   * Reads a Mautic webhook body (signature, parse, receipt keys) off the request's thread: the Node
   * server's worker thread (src/runtime/node/webhook-reader.ts). Without one, in the request.
   */
  readWebhook?: WebhookReader
  /**
   * The client's IP address for evidence and rate limits: the socket address on Node (or the
   * left-most X-Forwarded-For hop when TRUST_PROXY=1), CF-Connecting-IP on Workers.
   */
  clientIp(c: Context): string | undefined
  /**
   * Called once a request has committed outbox rows. Node wakes its delivery loop; Workers deliver
   * with `ctx.waitUntil` right after the response (the cron trigger is only the safety net). The
   * context comes as a getter: Hono's throws where there is none (Node), and a throw per request is dear.
   */
  wakeOutbox(ctx?: () => Deferrer | undefined): void
}
