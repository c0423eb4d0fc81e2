/**
 * @module The outbox handler of `recipient.notify`: a correction or erasure passed on to a recipient's
 * webhook (GDPR Art. 19), signed with the Standard Webhooks scheme (src/lib/standard-webhooks.ts), the
 * notice's id as `webhook-id` on every attempt so that the receiver can drop a repeat. A 2xx answer
 * delivers it; anything else throws, and the outbox retries with backoff (the notice shows `retrying`
 * with the last error, then `failed` when the outbox gives up).
 */
import type { Deps } from '../deps.ts'
import {
  noticeDelivered,
  noticeFailed,
  prepareNoticeDelivery,
} from '../domain/compliance/recipients.ts'
import type { OutboxHandlers } from '../domain/platform/outbox-messages.ts'
import { signWebhook } from '../lib/standard-webhooks.ts'

const TIMEOUT_MS = 10_000

export function recipientOutboxHandlers(
  deps: Deps,
  fetcher: typeof fetch = (input, init) => fetch(input, init),
): Pick<OutboxHandlers, 'recipient.notify'> {
  return {
    'recipient.notify': async ({ noticeId }) => {
      const delivery = await prepareNoticeDelivery(deps, noticeId)
      if (!delivery) return // delivered, superseded, or turned into a task
      const origin = new URL(delivery.url).origin // for messages: never the path or a token in it
      let error: string | null = null
      try {
        const res = await fetcher(delivery.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'consent-gateway',
            ...(await signWebhook(delivery.secret, delivery.id, deps.clock.now(), delivery.body)),
          },
          body: delivery.body,
          redirect: 'manual', // a redirect must not carry personal data elsewhere
          signal: AbortSignal.timeout(TIMEOUT_MS),
        })
        await res.text().catch(() => '') // read to the end: the connection can be reused
        if (res.status < 200 || res.status > 299) error = `${origin} answered ${res.status}`
      } catch (err) {
        error = `${origin} cannot be reached: ${(err as Error).message}`
      }
      if (error === null) return noticeDelivered(deps, noticeId)
      await noticeFailed(deps, noticeId, error)
      throw new Error(`recipient webhook: ${error}`)
    },
  }
}
