/**
 * @module Workers mail transports, picked from MAIL_TRANSPORT: `log` keeps each message in the D1
 * `mail_log` table (there is no file system), `http` posts it to MAIL_HTTP_URL, `mautic` sends the
 * double opt-in mail as a Mautic e-mail. `smtp` cannot run here: Workers have no raw TCP for nodemailer.
 */
import type { Config } from '../../config.ts'
import type { DB } from '../../db/database.ts'
import { insertMailLog } from '../../db/repositories/mail-log.ts'
import { countMailLogBefore, deleteMailLogBefore } from '../../db/repositories/retention.ts'
import type { Clock } from '../../lib/clock.ts'
import { encryptField, type Keys } from '../../lib/keys.ts'
import type { Logger } from '../../lib/log.ts'
import { allHeaders, newMessageId } from '../../mail/headers.ts'
import { httpMailTransport } from '../../mail/http.ts'
import { mauticMailTransport } from '../../mail/mautic.ts'
import type { MailMessage, MailTransport, SentMail } from '../../mail/message.ts'
import type { MauticApi } from '../../mautic/types.ts'

export interface D1LogMailDeps {
  db: DB
  keys: Keys
  clock: Clock
  logger: Logger
}

/** Additional data binding each ciphertext to its row and column (a value cannot be moved unnoticed). */
export const mailLogAad = (id: string, column: 'recipient_enc' | 'message') =>
  `mail_log.${column}:${id}`

/**
 * MAIL_TRANSPORT=log on Workers. The recipient and the message are personal data (and the message
 * holds link tokens), so both are encrypted at rest; the log line names neither.
 */
export function d1LogMailTransport(deps: D1LogMailDeps): MailTransport {
  return {
    name: 'log',
    async send(message: MailMessage): Promise<SentMail> {
      const id = crypto.randomUUID()
      const messageId = newMessageId(message.from)
      // What would have been sent, list headers spelled out as a real transport writes them.
      const { listUnsubscribe: _list, ...fields } = message
      const stored = { messageId, ...fields, headers: allHeaders(message) }
      await insertMailLog(deps.db, {
        id,
        created_at: deps.clock.now(),
        recipient_enc: await encryptField(deps.keys, message.to, mailLogAad(id, 'recipient_enc')),
        subject: message.subject,
        message: await encryptField(deps.keys, JSON.stringify(stored), mailLogAad(id, 'message')),
      })
      deps.logger.log('info', 'mail logged', {
        transport: 'log',
        mailLogId: id,
        subject: message.subject,
      })
      return { messageId }
    },
    purgeLog: (before, { limit, dryRun }) =>
      dryRun ? countMailLogBefore(deps.db, before) : deleteMailLogBefore(deps.db, before, limit),
  }
}

/** A transport that cannot run on Workers as configured: a configuration error (503 until fixed). */
export class WorkerTransportError extends Error {}

/** The Workers transport MAIL_TRANSPORT names; `deps.mautic` is the client `mautic` sends through. */
export function workerMailTransport(
  config: Config,
  deps: D1LogMailDeps & { mautic?: MauticApi },
): MailTransport {
  const { transport, httpUrl, httpToken } = config.mail
  const http = httpUrl ? httpMailTransport({ url: httpUrl, token: httpToken }) : undefined
  switch (transport) {
    case 'log':
      return d1LogMailTransport(deps)
    case 'http':
      if (!http)
        throw new WorkerTransportError('MAIL_HTTP_URL is required when MAIL_TRANSPORT=http')
      return http
    case 'smtp':
      // nodemailer needs node:net and node:tls; on Workers mail leaves through an HTTP API instead.
      throw new WorkerTransportError(
        'MAIL_TRANSPORT=smtp is not available on Cloudflare Workers (no raw TCP for SMTP): set ' +
          'MAIL_TRANSPORT=http with MAIL_HTTP_URL (and MAIL_HTTP_TOKEN), or mautic with MAUTIC_URL and ' +
          'MAUTIC_CONFIRM_EMAIL_ID',
      )
    case 'mautic':
      if (!deps.mautic)
        throw new WorkerTransportError('MAUTIC_URL is required when MAIL_TRANSPORT=mautic')
      // Access links and address checks have no Mautic template: MAIL_HTTP_URL carries them.
      return mauticMailTransport(deps.mautic, { confirm: config.mautic?.confirmEmailId }, http)
  }
}
