/**
 * @module POST /hooks/mautic: Mautic's webhook (docs/mautic.md §1). Signature first, on the raw bytes (401),
 * then the tolerant parse (400) — both on a worker thread under `npm start` (deps.readWebhook) — then
 * one durable write; 200 only after it. Mautic never retries after a response and waits on us inside
 * its own requests, so the work here is bounded: the rest of each event is processed from the outbox.
 */
import { Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import { jsonError } from '../../lib/http-errors.ts'
import { acceptWebhook } from '../../mautic/intake.ts'
import { readMauticWebhook, type WebhookReader } from '../../mautic/webhook-read.ts'

export function mauticWebhookRoutes(deps: Deps) {
  const readInline: WebhookReader = (secret, body, signature) =>
    readMauticWebhook(deps, secret, body, signature)
  return new Hono().post('/', async (c) => {
    const secret = deps.config.mauticWebhookSecret
    if (!secret)
      return jsonError(
        c,
        503,
        'not_configured',
        'MAUTIC_WEBHOOK_SECRET is not set: the gateway cannot verify Mautic webhooks',
      )
    const body = new Uint8Array(await c.req.arrayBuffer())
    const signature = c.req.header('webhook-signature')
    const read = await (deps.readWebhook ?? readInline)(secret, body, signature)
    if (read.status === 'unsigned')
      return jsonError(
        c,
        401,
        'invalid_signature',
        'Webhook-Signature is missing or does not match',
      )
    if (read.status === 'invalid') return jsonError(c, 400, 'invalid_payload', read.message)
    const result = await acceptWebhook(deps, read.events)
    if (result.outcomes.queued || result.outcomes.applied) c.set('outboxPending', true)
    return c.json(result)
  })
}
