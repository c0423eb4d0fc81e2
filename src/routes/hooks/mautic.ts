/**
 * @module POST /hooks/mautic: Mautic's webhook (docs/mautic.md §1). Signature first, on the raw bytes (401),
 * against MAUTIC_WEBHOOK_SECRET and the secrets `mautic connect` stored; then the bounds on nesting
 * and UTF-8 and the tolerant parse (400) — on a worker thread under `npm start` (deps.readWebhook) —
 * then one durable write; 200 only after it. Mautic never retries after a response and waits on us
 * inside its own requests, so the work here is bounded: the rest of each event is processed from the
 * outbox. Mautic's "Send test payload" is answered 200 and changes nothing. Every refusal is noted
 * for `/healthz?detail=1` (src/mautic/webhook-health.ts).
 */
import { Hono, type Context } from 'hono'
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

/** Bytes of an oversized body read to count its events; beyond, the count is a lower bound. */
const COUNT_UP_TO = 64 * 1024 * 1024
const TIMESTAMP_KEY = new TextEncoder().encode('"timestamp":"')

/**
 * Counts `"timestamp":"` in a stream (every event element carries one: WebhookModel adds it to each),
 * across chunk boundaries, up to `max` bytes. Unverified (the signature cannot be checked on a body
 * not read whole): for the log line only.
 */
async function countEvents(
  stream: ReadableStream<Uint8Array>,
  max: number,
): Promise<{ events: number; complete: boolean }> {
  const reader = stream.getReader()
  let events = 0
  let matched = 0
  let read = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return { events, complete: true }
      for (const b of value) {
        matched = b === TIMESTAMP_KEY[matched] ? matched + 1 : b === TIMESTAMP_KEY[0] ? 1 : 0
        if (matched === TIMESTAMP_KEY.length) {
          events++
          matched = 0
        }
      }
      read += value.length
      if (read >= max) return { events, complete: false }
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
}

/**
 * A Mautic body over the webhook limit: answered 413 by the caller, which Mautic takes as final (it
 * deletes the queue rows it sent): the events are lost. Said loudly, with their number, and noted
 * for `/healthz?detail=1`. README "Connecting Mautic" tells how to keep batches under the limit.
 */
export async function oversizedMauticBatch(deps: Deps, c: Context, limit: number): Promise<void> {
  const declared = Number(c.req.header('content-length'))
  const stream = c.req.raw.body
  const counted =
    stream && !c.req.raw.bodyUsed ? await countEvents(stream, COUNT_UP_TO).catch(() => null) : null
  deps.logger.log(
    'error',
    'Mautic webhook batch over the body limit: answered 413, and Mautic does not send it again; ' +
      "its events are lost. Lower Mautic's webhook_limit (and turn off webhook_email_details for " +
      'large e-mails), then run `consent-gateway mautic sync` to catch up',
    {
      bytes: Number.isFinite(declared) ? declared : null,
      limitBytes: limit,
      events: counted ? counted.events : null,
      eventsCounted: counted ? (counted.complete ? 'all' : 'at least') : 'unknown',
    },
  )
  await noteWebhookRefused(deps, 'payload_too_large').catch(() => {})
}
