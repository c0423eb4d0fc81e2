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
  /**
   * What a transport that can only send its own templates needs instead of the rendered content:
   * MAIL_TRANSPORT=mautic sends the Mautic e-mail configured for `name` with these tokens (without
   * braces). Other transports ignore it and send subject, html and text.
   */
  template?: { name: 'confirm'; tokens: Record<string, string> }
}

export interface SentMail {
  messageId: string
}

export interface MailTransport {
  readonly name: string
  send(message: MailMessage): Promise<SentMail>
  /**
   * MAIL_TRANSPORT=log keeps what it would have sent (files on Node, the D1 `mail_log` on Workers):
   * deletes what it kept before `before`, at most `limit` at a time, or only counts it (`dryRun`).
   * The retention run calls it (src/domain/operations/retention.ts); other transports keep nothing.
   */
  purgeLog?(before: number, opts: { limit: number; dryRun?: boolean }): Promise<number>
}
