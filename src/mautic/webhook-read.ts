/**
 * @module Reading a webhook body, before anything is written: the signature on the raw bytes, the
 * tolerant parse, then each event's receipt key and its compact form sealed for the outbox. Pure
 * computation on the body (no database; the webhook secret and the field key), so Node runs it on a
 * thread of its own (src/runtime/node/webhook-reader.ts) and the Workers runtime in the request.
 */
import type { Bytes } from '../lib/encoding.ts'
import { encryptField, type FieldSealer, type HmacSha256, type Sha256 } from '../lib/keys.ts'
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

/**
 * What the intake reads of an event before its write; the rest travels sealed, in the compact form.
 * The contact comes along only with a channel change (a withdrawal applied in the intake's write
 * needs its DNC entries and address): copying every contact's fields between threads cost the reader
 * thread a tenth of its time.
 */
export type IntakeEvent = Pick<
  MauticEvent,
  'type' | 'known' | 'timestamp' | 'mauticId' | 'channelChange' | 'contact'
>

export interface KeyedEvent {
  event: IntakeEvent
  key: string
  /** For the types processed from the outbox: the compact event, encrypted (it holds personal data). */
  sealed: string | undefined
}

export const eventAad = (key: string) => `outbox.mautic-event:${key}`

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
  crypto: { hmac: HmacSha256; sha256: Sha256; keys: FieldSealer },
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
    const sealed =
      compact === undefined ? undefined : await encryptField(crypto.keys, compact, eventAad(key))
    const { type, known, timestamp, mauticId, channelChange } = event
    const contact = channelChange ? event.contact : null
    keyed.push({ event: { type, known, timestamp, mauticId, channelChange, contact }, key, sealed })
  }
  return { status: 'ok', events: keyed }
}
