/** @module Header values shared by every transport: RFC 2369 / RFC 8058 list headers and Message-IDs. */
import type { MailMessage } from './message.ts'

/** `mailto:` URI for a bare address; a value that already has the scheme is kept as is. */
export const mailtoUri = (mailto: string): string =>
  /^mailto:/i.test(mailto) ? mailto : `mailto:${mailto}`

/**
 * The list headers as plain strings, for transports that take a header map (http). RFC 8058 §3.1:
 * ONE `List-Unsubscribe` header holding every URI, and `List-Unsubscribe-Post` beside it.
 */
export function listHeaders(message: MailMessage): Record<string, string> {
  const list = message.listUnsubscribe
  if (!list) return {}
  const uris = [list.url, ...(list.mailto ? [mailtoUri(list.mailto)] : [])]
  const headers: Record<string, string> = {
    'List-Unsubscribe': uris.map((u) => `<${u.replace(/[\s<>]/g, '')}>`).join(', '),
  }
  if (list.oneClick) headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click'
  return headers
}

/** Every header a message carries besides From/To/Subject: its own, then the list headers. */
export const allHeaders = (message: MailMessage): Record<string, string> => ({
  ...message.headers,
  ...listHeaders(message),
})

/** A fresh RFC 5322 Message-ID on the sender's domain (`<uuid@domain>`). */
export function newMessageId(from: string): string {
  const domain = /@([^\s@<>]+)>?\s*$/.exec(from)?.[1] ?? 'localhost'
  return `<${crypto.randomUUID()}@${domain}>`
}
