/**
 * @module Reading a webhook body, before anything is written: the signature on the raw bytes, the
 * tolerant parse, then each event's receipt key and compact form. Pure computation on the body alone
 * (no database, no keys but the webhook secret), so Node runs it on a thread of its own
 * (src/runtime/node/webhook-reader.ts) and the Workers runtime in the request.
 */
import type { Bytes } from '../lib/encoding.ts'
import type { HmacSha256, Sha256 } from '../lib/keys.ts'
import { verifyMauticSignature } from './signature.ts'
import {
  compactEvent,
  parseMauticWebhook,
  receiptKey,
  WEBHOOK_TRIGGERS,
  WebhookPayloadError,
  type MauticEvent,
} from './webhook-payload.ts'

/** Processed later from the outbox (the triggers `mautic connect` registers); others are recorded and ignored. */
export const QUEUED: ReadonlySet<string> = new Set(WEBHOOK_TRIGGERS)

export interface KeyedEvent {
  /** Without `raw`: what the intake needs crosses threads, not the whole element. */
  event: MauticEvent
  key: string
  /** The compact event, for the types processed from the outbox. */
  compact: string | undefined
}

export type WebhookRead =
  | { status: 'ok'; events: KeyedEvent[] }
  | { status: 'unsigned' }
  | { status: 'invalid'; message: string }

export type WebhookReader = (
  secret: string,
  body: Bytes,
  signature: string | undefined,
) => Promise<WebhookRead>

const decoder = new TextDecoder()

export async function readMauticWebhook(
  crypto: { hmac: HmacSha256; sha256: Sha256 },
  secret: string,
  body: Bytes,
  signature: string | undefined,
): Promise<WebhookRead> {
  if (!(await verifyMauticSignature(crypto.hmac, secret, body, signature)))
    return { status: 'unsigned' }
  let events: MauticEvent[]
  try {
    events = parseMauticWebhook(decoder.decode(body))
  } catch (err) {
    if (err instanceof WebhookPayloadError) return { status: 'invalid', message: err.message }
    throw err
  }
  const keyed: KeyedEvent[] = []
  for (const event of events) {
    // The compact event is both what is kept and what the key hashes, for the processed types.
    const compact = event.known && QUEUED.has(event.type) ? compactEvent(event) : undefined
    const key = await receiptKey(event, crypto.sha256, compact)
    keyed.push({ event: { ...event, raw: null }, key, compact })
  }
  return { status: 'ok', events: keyed }
}
