/**
 * @module The SMTP relay: the mail server Mautic or any tool sends through (README, "The SMTP relay").
 * AUTH is required (login = purpose, password = an API key with the `relay` scope). At RCPT TO only a
 * recipient no purpose could reach is refused (unknown, suppressed, objected): the purpose is known
 * after DATA only, from the message's X-Consent-Purpose header or else the login, and each recipient
 * is gated for it there (message.ts). Accepted mail gets the links and list headers and goes on to
 * RELAY_UPSTREAM_URL. No message can crash it: every handler answers with an SMTP reply.
 */
import { SMTPServer, type SMTPServerAuthentication, type SMTPServerSession } from 'smtp-server'
import type { Deps } from '../../../deps.ts'
import { verifyApiKey } from '../../../domain/platform/api-keys.ts'
import { countRefusals } from '../../../domain/platform/counters.ts'
import { unreachableReason } from '../../../domain/sending/gate.ts'
import {
  isSmtpError,
  relayMessage,
  smtpError,
  type RelayContext,
  type RelayUser,
} from './message.ts'
import { applyMailtoRequests, mailtoRequest, type MailtoRequest } from './unsubscribe.ts'
import { upstreamTransport, type DkimKey } from './upstream.ts'

export const DEFAULT_RELAY_MAX_SIZE = 25 * 1024 * 1024

export interface RelayOptions {
  port: number
  host: string
  upstreamUrl: string
  /** Largest message accepted, in bytes (SIZE extension; larger ones get 552). */
  maxSize?: number
  /** Re-signs marketing mail: the rewrite breaks the signature it arrived with. */
  dkim?: DkimKey
  /** STARTTLS only with a certificate; without one AUTH runs in clear (keep the relay on a private network). */
  tls?: { key: string | Buffer; cert: string | Buffer }
}

type MailtoSession = SMTPServerSession & { mailto?: MailtoRequest[] }

export interface RunningRelay {
  port: number
  close(): Promise<void>
}

/** The login's identity, or null: a key without the scope the login needs is as bad as a wrong one. */
async function authenticate(deps: Deps, auth: SMTPServerAuthentication): Promise<RelayUser | null> {
  const identity = await verifyApiKey(deps, auth.password ?? '')
  const purpose = (auth.username ?? '').trim()
  const transactional = purpose === 'transactional'
  const scope = transactional ? 'relay_transactional' : 'relay'
  if (!identity || !purpose || !identity.scopes.includes(scope)) return null
  return { purpose, transactional, keyId: identity.id }
}

/**
 * At RCPT TO the purpose is not known yet (the message may name another than the login's in
 * X-Consent-Purpose): only a recipient no purpose could reach is refused now, and counted.
 */
async function checkRecipient(deps: Deps, user: RelayUser, address: string): Promise<void> {
  if (user.transactional) return
  const reason = await unreachableReason(deps, address)
  if (!reason) return
  await countRefusals(deps, 'relay_rcpt', '', [reason])
  throw smtpError(550, `5.7.1 ${reason}`)
}

/** Our unsubscribe address with a token we did not make: a person's mail, which deserves to know. */
export const BAD_UNSUBSCRIBE_ADDRESS =
  '5.1.1 This unsubscribe address is not valid (changed or cut): nothing was changed; ' +
  'use the unsubscribe link in the e-mail. / Cette adresse de desinscription ' +
  "n'est pas valide (modifiee ou coupee) : rien n'a change ; utilisez le lien de " +
  "desinscription de l'e-mail."

export async function startRelay(deps: Deps, options: RelayOptions): Promise<RunningRelay> {
  const maxSize = options.maxSize ?? DEFAULT_RELAY_MAX_SIZE
  const ctx: RelayContext = { deps, upstream: upstreamTransport(options.upstreamUrl, options.dkim) }
  // Our bugs and a broken database are temporary for the sender: it keeps the message and retries.
  const reply = (err: unknown) => {
    if (isSmtpError(err)) return err
    deps.logger.log('error', 'relay: internal error', { err })
    return smtpError(451, '4.3.0 Internal error, try again later')
  }
  const userOf = (session: SMTPServerSession) => session.user as RelayUser

  const server = new SMTPServer({
    name: new URL(deps.config.publicUrl).hostname,
    banner: 'consent-gateway relay',
    logger: false,
    authMethods: ['PLAIN', 'LOGIN'],
    // Without AUTH only mail to the unsubscribe addresses is taken (UNSUBSCRIBE_MAILTO).
    authOptional: Boolean(deps.config.mail.unsubscribeMailto),
    allowInsecureAuth: !options.tls,
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    disabledCommands: options.tls ? [] : ['STARTTLS'],
    size: maxSize,
    closeTimeout: 5_000,
    onAuth(auth, _session, callback) {
      authenticate(deps, auth).then(
        (user) =>
          user
            ? callback(null, { user })
            : callback(smtpError(535, '5.7.8 Authentication failed: login or API key not valid')),
        (err: unknown) => callback(reply(err)),
      )
    },
    onRcptTo(address, session, callback) {
      if (!session.user) {
        mailtoRequest(deps, address.address).then(
          (request) => {
            if (request === 'invalid') return callback(smtpError(550, BAD_UNSUBSCRIBE_ADDRESS))
            if (!request) return callback(smtpError(530, '5.7.0 Authentication required'))
            const pending = ((session as MailtoSession).mailto ??= [])
            pending.push(request)
            callback()
          },
          (err: unknown) => callback(reply(err)),
        )
        return
      }
      checkRecipient(deps, userOf(session), address.address).then(
        () => callback(),
        (err: unknown) => callback(reply(err)),
      )
    },
    onData(stream, session, done) {
      // A stream error may still be followed by 'end': answer once.
      let answered = false
      const callback: typeof done = (err, message) => {
        if (answered) return
        answered = true
        done(err, message)
      }
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => {
        // Past the limit, or an unsubscribe mail (never kept): read on, keep nothing.
        if (!stream.sizeExceeded && session.user) chunks.push(chunk)
      })
      stream.on('error', (err: Error) => callback(reply(err)))
      stream.on('end', () => {
        const mailto = (session as MailtoSession).mailto
        if (!session.user && mailto) {
          // RFC 2369 mailto: the message itself says nothing more; the address was the request.
          return applyMailtoRequests(
            deps,
            mailto,
            session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          ).then(
            () => callback(null, 'OK: unsubscribed'),
            (err: unknown) => callback(reply(err)),
          )
        }
        if (stream.sizeExceeded)
          return callback(smtpError(552, `5.3.4 Message larger than ${maxSize} bytes`))
        const envelope = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
        }
        relayMessage(ctx, userOf(session), envelope, Buffer.concat(chunks)).then(
          (message) => callback(null, message),
          (err: unknown) => callback(reply(err)),
        )
      })
    },
  })
  // A socket error on one connection must never take the process down.
  server.on('error', (err) => deps.logger.log('warn', 'relay: connection error', { err }))

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.server.off('error', reject)
      resolve()
    })
  }).catch((err: unknown) => {
    ctx.upstream.close()
    throw err
  })
  const address = server.server.address()
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          ctx.upstream.close()
          resolve()
        }),
      ),
  }
}
