/** @module The shape of an outgoing e-mail and of a mail transport (log, smtp, http, mautic). */

export interface MailMessage {
  from: string
  to: string
  subject: string
  html: string
  text: string
  /** Extra headers, e.g. List-Id. */
  headers?: Record<string, string>
  /**
   * RFC 2369 / RFC 8058 list headers: `List-Unsubscribe: <url>, <mailto>` as ONE header and, when
   * `oneClick`, `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
   */
  listUnsubscribe?: { url: string; mailto?: string; oneClick: boolean }
}

export interface SentMail {
  messageId: string
}

export interface MailTransport {
  readonly name: string
  send(message: MailMessage): Promise<SentMail>
}
