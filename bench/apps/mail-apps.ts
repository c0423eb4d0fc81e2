/**
 * @module The SMTP servers bench/processes/mail-server.ts can run, by name: the sink every message
 * ends in, the pass-through baseline, and the real relay on a seeded database. All on 127.0.0.1,
 * port 0.
 */
import { SMTPServer, type SMTPServerOptions } from 'smtp-server'
import { createApiKey } from '../../src/domain/platform/api-keys.ts'
import { pooledSmtp } from '../../src/runtime/node/mail.ts'
import { DEFAULT_RELAY_MAX_SIZE, startRelay } from '../../src/runtime/node/relay/server.ts'
import { HOST } from './http-apps.ts'
import { seededCopyDeps, seededDeps } from './seeded-app.ts'

export interface RunningMailApp {
  port: number
  /** The login the load generator uses (the relay needs its purpose and API key). */
  auth: { user: string; pass: string }
  close(): Promise<void>
}

async function listen(options: SMTPServerOptions): Promise<{ port: number; server: SMTPServer }> {
  const server = new SMTPServer(options)
  // A socket error on one connection (a generator that goes away) must not end the process.
  server.on('error', () => {})
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve))
  return { port: (server.server.address() as { port: number }).port, server }
}

const closing = (server: SMTPServer) => () =>
  new Promise<void>((resolve) => server.close(() => resolve()))

/** What the relay's listener does besides its handlers: AUTH in clear, no STARTTLS, SIZE. */
const LIKE_THE_RELAY = {
  logger: false,
  authMethods: ['PLAIN', 'LOGIN'],
  allowInsecureAuth: true,
  disabledCommands: ['STARTTLS'],
  size: DEFAULT_RELAY_MAX_SIZE,
  closeTimeout: 5_000,
} satisfies SMTPServerOptions

const ANY_LOGIN = { user: 'bench', pass: 'bench' }

export const mailApps = {
  /** The upstream of both: accepts every message and keeps nothing (a mail provider's MX, for free). */
  'smtp-sink': async (): Promise<RunningMailApp> => {
    const { port, server } = await listen({
      logger: false,
      authOptional: true,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      onAuth: (auth, _session, callback) => callback(null, { user: auth.username }),
      onData(stream, _session, callback) {
        stream.on('end', () => callback())
        stream.resume()
      },
    })
    return { port, auth: ANY_LOGIN, close: closing(server) }
  },

  /**
   * Baseline: smtp-server in, nodemailer out, nothing between. Takes any login, buffers DATA as the
   * relay does, and answers once the upstream took the message, through the relay's own pooled
   * transport (pooledSmtp): the relay's shape without the gateway's work (gate, links, MIME rewrite).
   */
  'smtp-pass-through': async (upstreamUrl: string): Promise<RunningMailApp> => {
    const upstream = pooledSmtp(upstreamUrl)
    const { port, server } = await listen({
      ...LIKE_THE_RELAY,
      onAuth: (auth, _session, callback) => callback(null, { user: auth.username }),
      onData(stream, session, callback) {
        const chunks: Buffer[] = []
        stream.on('data', (chunk: Buffer) => chunks.push(chunk))
        stream.on('end', () => {
          const envelope = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
          }
          upstream.sendMail({ envelope, raw: Buffer.concat(chunks) }).then(
            () => callback(null, 'OK: passed'),
            (err: Error) => callback(Object.assign(err, { responseCode: 451 })),
          )
        })
      },
    })
    return {
      port,
      auth: ANY_LOGIN,
      close: async () => {
        await closing(server)()
        upstream.close()
      },
    }
  },

  /**
   * The real relay (startRelay) on the seeded database (bench/apps/seeded-app.ts: bench0… with
   * newsletter granted), logged in as the purpose `newsletter` with a `relay` key; logs are built and
   * dropped.
   */
  relay: async (upstreamUrl: string): Promise<RunningMailApp> => {
    const { deps, close } = await seededDeps()
    const key = await createApiKey(deps, { name: 'bench-relay', scopes: ['relay'] })
    if (!key.ok) throw new Error(key.error)
    const relay = await startRelay(deps, { port: 0, host: HOST, upstreamUrl })
    return {
      port: relay.port,
      auth: { user: 'newsletter', pass: key.key },
      close: async () => {
        await relay.close()
        close()
      },
    }
  },

  /** The same relay on this run's copy of the large seeded database (bench/seed/). */
  'relay-seeded': async (upstreamUrl: string): Promise<RunningMailApp> => {
    const { deps, close } = await seededCopyDeps()
    const key = await createApiKey(deps, { name: 'bench-relay', scopes: ['relay'] })
    if (!key.ok) throw new Error(key.error)
    const relay = await startRelay(deps, { port: 0, host: HOST, upstreamUrl })
    return {
      port: relay.port,
      auth: { user: 'newsletter', pass: key.key },
      close: async () => {
        await relay.close()
        close()
      },
    }
  },
} satisfies Record<string, (upstreamUrl: string) => Promise<RunningMailApp>>

export type MailAppName = keyof typeof mailApps
