/** @module An in-memory mail transport for tests: keeps every message sent, in order. */
import { newMessageId } from './headers.ts'
import type { MailMessage, MailTransport } from './message.ts'

export interface MemoryMailTransport extends MailTransport {
  readonly sent: (MailMessage & { messageId: string })[]
}

export function memoryMailTransport(): MemoryMailTransport {
  const sent: (MailMessage & { messageId: string })[] = []
  return {
    name: 'memory',
    sent,
    async send(message) {
      const messageId = newMessageId(message.from)
      sent.push({ ...message, messageId })
      return { messageId }
    },
  }
}
