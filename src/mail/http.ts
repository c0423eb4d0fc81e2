/**
 * @module MAIL_TRANSPORT=http: POSTs each message as JSON to MAIL_HTTP_URL (fetch only, so the same code
 * runs on Node and Workers). Any failure rejects: the outbox that calls it retries with backoff.
 */
import { allHeaders, newMessageId } from './headers.ts'
import type { MailMessage, MailTransport, SentMail } from './message.ts'

export interface HttpMailOptions {
  url: string
  /** Sent as `Authorization: Bearer <token>` when set (MAIL_HTTP_TOKEN). */
  token?: string
  /** Milliseconds before the request is abandoned (and the send rejected). */
  timeoutMs?: number
  fetch?: typeof fetch
}

const DEFAULT_TIMEOUT_MS = 10_000

/** The JSON body: what a mail API needs, list headers included. */
export const httpMailBody = (message: MailMessage) => ({
  from: message.from,
  to: message.to,
  subject: message.subject,
  html: message.html,
  text: message.text,
  headers: allHeaders(message),
})

export function httpMailTransport(opts: HttpMailOptions): MailTransport {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const doFetch = opts.fetch ?? ((input, init) => fetch(input, init))
  const endpoint = new URL(opts.url).origin // for error messages: never the path or a credential
  return {
    name: 'http',
    async send(message: MailMessage): Promise<SentMail> {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: 'application/json',
      }
      if (opts.token) headers.authorization = `Bearer ${opts.token}`
      let res: Response
      try {
        res = await doFetch(opts.url, {
          method: 'POST',
          headers,
          body: JSON.stringify(httpMailBody(message)),
          signal: AbortSignal.timeout(timeoutMs),
        })
      } catch (err) {
        const name = (err as Error).name
        throw new Error(
          name === 'TimeoutError' || name === 'AbortError'
            ? `mail http: no answer from ${endpoint} within ${timeoutMs} ms`
            : `mail http: cannot reach ${endpoint}: ${(err as Error).message}`,
          { cause: err },
        )
      }
      const body = await res.text().catch(() => '')
      if (!res.ok) throw new Error(`mail http: ${endpoint} answered ${res.status}`)
      return { messageId: messageIdFrom(body) ?? newMessageId(message.from) }
    },
  }
}

/** The provider's id from a JSON answer (`id` or `messageId`), when there is one. */
function messageIdFrom(body: string): string | undefined {
  try {
    const json = JSON.parse(body) as { id?: unknown; messageId?: unknown } | null
    const id = json?.messageId ?? json?.id
    return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined
  } catch {
    return undefined
  }
}
