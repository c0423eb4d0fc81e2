/** @module `serve` on Node: config, secret, SQLite, migrations, HTTP listener, delivery loop, shutdown. */
import type { ServerType } from '@hono/node-server'
import type Database from 'better-sqlite3'
import { parseConfig, type Config, type RawEnv } from '../../config.ts'
import type { Logger } from '../../lib/log.ts'
import { jsonLogger } from '../../lib/log.ts'
import { nodeDeps } from './deps.ts'
import { serveGateway } from './edge.ts'
import { nodeMailTransport, type NodeMailTransport } from './mail.ts'
import { startJobTimer, startOutboxLoop, type OutboxLoop } from './outbox-loop.ts'
import { startCheckpointer } from './checkpointer.ts'
import { tuneGarbageCollector } from './heap.ts'
import { startWebhookReader } from './webhook-reader.ts'
import type { startRelay } from './relay/server.ts'
import { relayOptionsFromEnv } from './relay/config.ts'
import { loadOrCreateDevSecret } from './secret.ts'
import { applyMigrations, openSqlite } from './sqlite.ts'
import { createMauticClient } from '../../mautic/client.ts'
import { releaseClaimsOfDeadProcess } from '../../domain/platform/outbox.ts'
import { flushCounters } from '../../domain/platform/counters.ts'
import { webhookHealth, type WebhookHealth } from '../../mautic/webhook-health.ts'
import { firstOwnerLink } from '../../domain/admin/accounts.ts'

/** A start-up problem with a message meant for the operator (no stack trace). */
export class StartupError extends Error {}

export interface RunningServer {
  url: string
  config: Config
  /** The Mautic webhook's health at start-up, when Mautic is set up. */
  webhook?: WebhookHealth
  /** The SMTP relay's port, when RELAY_PORT is set. */
  relayPort?: number
  /** The first owner's one-time set-up link, made at start while no owner exists. */
  adminSetupUrl?: string
  close(): Promise<void>
}

export function openDatabase(path: string): Database.Database {
  try {
    const db = openSqlite(path)
    applyMigrations(db)
    return db
  } catch (err) {
    throw new StartupError(`Cannot open the database at ${path}: ${(err as Error).message}`)
  }
}

export async function startServer(
  env: RawEnv,
  logger: Logger = jsonLogger(),
): Promise<RunningServer> {
  tuneGarbageCollector()
  const parsed = parseConfig(env)
  const config = { ...parsed, appSecret: parsed.appSecret ?? loadOrCreateDevSecret() }
  const relayOptions = relayOptionsFromEnv(config, env)
  const sqlite = openDatabase(config.databasePath)

  // The app wakes the loop after a commit; the loop needs the deps the app is built from.
  // One Mautic client (one OAuth token cache) for the mail transport and everything else.
  const mautic = config.mautic ? createMauticClient(config.mautic) : undefined
  let mail: NodeMailTransport
  try {
    mail = nodeMailTransport(config, { logger, mautic })
  } catch (err) {
    sqlite.close()
    throw new StartupError((err as Error).message)
  }
  const loopRef: { current?: OutboxLoop } = {}
  const deps = await nodeDeps({
    config,
    sqlite,
    logger,
    mail,
    mautic,
    wakeOutbox: () => loopRef.current?.wake(),
  })
  const released = await releaseClaimsOfDeadProcess(deps.db)
  if (released > 0)
    logger.log('warn', 'outbox: claims left by a stopped process released', { released })
  const loop = (loopRef.current = startOutboxLoop(deps))
  const jobs = startJobTimer(deps)
  const checkpoints = startCheckpointer(sqlite, (message) =>
    logger.log('warn', 'WAL checkpoint failed', { message }),
  )
  const webhooks = startWebhookReader(deps, (message) => logger.log('error', message))
  let relay: Awaited<ReturnType<typeof startRelay>> | undefined
  /** All but the listener: the loops and threads, then the mail transport and the database. */
  const stopRest = async () => {
    await Promise.all([
      loop.stop(),
      jobs.stop(),
      relay?.close(),
      checkpoints?.stop(),
      webhooks?.close(),
    ])
    // Refusals counted in memory (src/domain/platform/counters.ts) are written before the database closes.
    await flushCounters(deps)
    mail.close()
    sqlite.close()
  }
  if (relayOptions)
    // Loaded only when configured: the relay's SMTP server is not needed by anything else.
    relay = await import('./relay/server.ts')
      .then(({ startRelay }) => startRelay(deps, relayOptions))
      .catch(async (err: Error) => {
        await stopRest()
        throw new StartupError(
          `Cannot start the SMTP relay on port ${relayOptions.port}: ${err.message}`,
        )
      })

  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serveGateway(deps, { port: config.port, hostname: config.host }, () => resolve(s))
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new StartupError(
          err.code === 'EADDRINUSE'
            ? `Port ${config.port} on ${config.host} is already in use: stop the other process or set PORT`
            : `Cannot listen on ${config.host}:${config.port}: ${err.message}`,
        ),
      ),
    )
  }).catch(async (err) => {
    await stopRest()
    throw err
  })
  const adminSetupUrl =
    (await firstOwnerLink(deps, { actor: 'system' }).catch((err: Error) => {
      logger.log('error', 'could not make the admin set-up link', { err })
      return null
    })) ?? undefined
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : config.port
  const webhook =
    config.mautic || config.mauticWebhookSecret ? await webhookHealth(deps) : undefined

  let closing: Promise<void> | undefined
  return {
    url: `http://${config.host}:${port}`,
    config,
    webhook,
    relayPort: relay?.port,
    adminSetupUrl,
    close: () =>
      (closing ??= (async () => {
        // Stop accepting, let in-flight requests finish, then stop the loop and close the database.
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          if ('closeIdleConnections' in server) server.closeIdleConnections()
        })
        await stopRest()
      })()),
  }
}

/** What a newcomer needs after `npm start`. */
export function banner(running: RunningServer): string {
  const { config } = running
  const pub = config.publicUrl
  const lines = [
    `consent-gateway is running on ${running.url}`,
    `  Public URL:       ${pub}   (set PUBLIC_URL to your https address in production)`,
    `  Health check:     ${pub}/healthz`,
    `  Hosted form:      ${pub}/subscribe/default`,
    `  Public keys:      ${pub}/.well-known/jwks.json   (to verify consent receipts)`,
    `  Database:         ${config.databasePath}`,
    `  Mail transport:   ${config.mail.transport}${config.mail.transport === 'log' ? ' (e-mails are written to ./data/mail/)' : ''}`,
    `  SMTP relay:       ${running.relayPort !== undefined ? `${config.host}:${running.relayPort} → ${new URL(config.relay!.upstreamUrl).host}` : 'off (set RELAY_PORT and RELAY_UPSTREAM_URL)'}`,
    `  Mautic mirror:    ${config.mautic ? `${config.mautic.url} (${config.mirrorMode})` : 'not configured (set MAUTIC_URL, then: npx consent-gateway mautic connect)'}`,
    `  Mautic webhook:   ${pub}/hooks/mautic${webhookLine(running)}`,
    `  Campaign gate:    ${pub}/hooks/mautic/campaign?purpose=newsletter   (Mautic "Send a webhook", X-Gateway-Key)`,
    `  Data access:      ${pub}/privacy`,
    running.adminSetupUrl
      ? `  Admin set-up:     ${running.adminSetupUrl}   (no owner yet: open it within 24 h to create the first owner; it works once)`
      : `  Admin console:    ${pub}/admin`,
    'Next: create an API key for your site: npx consent-gateway api-key create --name website --scopes subscribe,gate,consents:read',
    '      then read README.md ("Collecting and proving consent", "Configuration"). Stop with Ctrl+C.',
  ]
  return lines.join('\n')
}

function webhookLine({ config, webhook }: RunningServer): string {
  if (!webhook || webhook.state === 'not_configured')
    return config.mauticWebhookSecret
      ? ''
      : '   (not set up: run `npx consent-gateway mautic connect`)'
  if (webhook.state === 'ok') return `   (last delivery ${webhook.last_received_at})`
  return `\n    ${webhook.state.toUpperCase()}: ${webhook.advice}`
}
