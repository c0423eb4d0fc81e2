/**
 * @module MAIL_TRANSPORT=log on Workers (no file system): each message goes to the `mail_log` table.
 * The recipient and the message are personal data (and the message holds link tokens), so both are
 * encrypted at rest; the log line names neither.
 */
import type { DB } from '../../db/database.ts'
import type { Clock } from '../../deps.ts'
import { encryptField, type Keys } from '../../lib/keys.ts'
import type { Logger } from '../../lib/log.ts'
import { allHeaders, newMessageId } from '../../mail/headers.ts'
import type { MailMessage, MailTransport, SentMail } from '../../mail/message.ts'

export interface D1LogMailDeps {
  db: DB
  keys: Keys
  clock: Clock
  logger: Logger
}

/** Additional data binding each ciphertext to its row and column (a value cannot be moved unnoticed). */
export const mailLogAad = (id: string, column: 'recipient_enc' | 'message') =>
  `mail_log.${column}:${id}`

export function d1LogMailTransport(deps: D1LogMailDeps): MailTransport {
  const { db } = deps
  return {
    name: 'log',
    async send(message: MailMessage): Promise<SentMail> {
      const id = crypto.randomUUID()
      const messageId = newMessageId(message.from)
      // What would have been sent, list headers spelled out as a real transport writes them.
      const { listUnsubscribe: _list, ...fields } = message
      const stored = { messageId, ...fields, headers: allHeaders(message) }
      await db
        .insertInto('mail_log')
        .values({
          id,
          created_at: deps.clock.now(),
          recipient_enc: await encryptField(deps.keys, message.to, mailLogAad(id, 'recipient_enc')),
          subject: message.subject,
          message: await encryptField(deps.keys, JSON.stringify(stored), mailLogAad(id, 'message')),
        })
        .execute()
      deps.logger.log('info', 'mail logged', {
        transport: 'log',
        mailLogId: id,
        subject: message.subject,
      })
      return { messageId }
    },
  }
}
