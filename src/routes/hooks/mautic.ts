/**
 * @module POST /hooks/mautic: Mautic's webhook (CONTRACT.md). Signature first, on the raw bytes (401),
 * against MAUTIC_WEBHOOK_SECRET and the secrets `mautic connect` stored; then the bounds on nesting
 * and UTF-8 and the tolerant parse (400) — on a worker thread under `npm start` (deps.readWebhook) —
 * then one durable write; 200 only after it. Mautic never retries after a response and waits on us
 * inside its own requests, so the work here is bounded: the rest of each event is processed from the
 * outbox. Mautic's "Send test payload" is answered 200 and changes nothing. Every refusal is noted
 * for `/healthz?detail=1` (src/mautic/webhook-health.ts).
 */
import { Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import { jsonError } from '../../lib/http-errors.ts'
import { acceptWebhook } from '../../mautic/intake.ts'
import {
  noteWebhookReceived,
  noteWebhookRefused,
  type RefusalReason,
} from '../../mautic/webhook-health.ts'
import { readMauticWebhook, type WebhookReader } from '../../mautic/webhook-read.ts'
import { reloadedWebhookSecrets, webhookSecrets } from '../../mautic/webhook-secrets.ts'

export function mauticWebhookRoutes(deps: Deps) {
  const readInline: WebhookReader = (secrets, body, signature) =>
    readMauticWebhook(deps, secrets, body, signature)
  const read: WebhookReader = (...args) => (deps.readWebhook ?? readInline)(...args)
  /** Noted without delaying the answer; a failure to note is logged, never the request's. */
  const refused = (reason: RefusalReason) =>
    noteWebhookRefused(deps, reason).catch((err: unknown) =>
      deps.logger.log('warn', 'webhook health: cannot note a refusal', { err }),
    )
  return new Hono().post('/', async (c) => {
    let secrets = await webhookSecrets(deps)
    if (secrets.length === 0) secrets = (await reloadedWebhookSecrets(deps, secrets)) ?? []
    if (secrets.length === 0) {
      await refused('not_configured')
      return jsonError(
        c,
        503,
        'not_configured',
        'MAUTIC_WEBHOOK_SECRET is not set: the gateway cannot verify Mautic webhooks',
      )
    }
    const body = new Uint8Array(await c.req.arrayBuffer())
    const signature = c.req.header('webhook-signature')
    let result = await read(secrets, body, signature)
    if (result.status === 'unsigned') {
      // `mautic connect` may have stored a secret since the last read (another process).
      const fresh = await reloadedWebhookSecrets(deps, secrets)
      if (fresh) result = await read(fresh, body, signature)
    }
    if (result.status === 'unsigned') {
      await refused('invalid_signature')
      return jsonError(
        c,
        401,
        'invalid_signature',
        'Webhook-Signature is missing or does not match',
      )
    }
    if (result.status === 'invalid') {
      await refused('invalid_payload')
      return jsonError(c, 400, 'invalid_payload', result.message)
    }
    if (result.status === 'test') {
      deps.logger.log(
        'info',
        'Mautic "Send test payload" received and verified: nothing recorded',
        {
          types: result.types,
        },
      )
      await noteWebhookReceived(deps)
      return c.json({ test: true, received: 0, message: 'Test payload verified; nothing recorded' })
    }
    const outcome = await acceptWebhook(deps, result.events)
    await noteWebhookReceived(deps)
    if (outcome.outcomes.queued || outcome.outcomes.applied) c.set('outboxPending', true)
    return c.json(outcome)
  })
}
