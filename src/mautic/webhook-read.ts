/**
 * @module Reading a webhook body, before anything is written: the signature on the raw bytes, a bound
 * on nesting and strict UTF-8 (hostile input is refused before any parse), the tolerant parse, then
 * each event's receipt key and its compact form sealed for the outbox. Pure
 * computation on the body (no database; the webhook secret and the field key), so Node runs it on a
 * thread of its own (src/runtime/node/webhook-reader.ts) and the Workers runtime in the request.
 */
import type { Bytes } from '../lib/encoding.ts'
import { encryptField, type FieldSealer, type HmacSha256, type Sha256 } from '../lib/keys.ts'
import { verifyMauticSignature } from './signature.ts'
import {
  compactEvent,
  jsonDepthExceeds,
  MAX_JSON_DEPTH,
  parseMauticDelivery,
  receiptKey,
  WEBHOOK_TRIGGERS,
  WebhookPayloadError,
  type MauticDelivery,
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
  /** Mautic's "Send test payload": signed, but nothing in it is real (webhook-payload.ts). */
  | { status: 'test'; types: string[] }
  | { status: 'unsigned' }
  | { status: 'invalid'; message: string }

/** `secrets`: every secret the delivery may be signed with (./webhook-secrets.ts). */
export type WebhookReader = (
  secrets: readonly string[],
  body: Bytes,
  signature: string | undefined,
) => Promise<WebhookRead>

/**
 * Strict: PHP's json_encode writes valid UTF-8 or fails, so a malformed byte is not Mautic's; replaced
 * by U+FFFD it would have become part of an address.
 */
const decoder = new TextDecoder('utf-8', { fatal: true })

export async function readMauticWebhook(
  crypto: { hmac: HmacSha256; sha256: Sha256; keys: FieldSealer },
  secrets: readonly string[],
  body: Bytes,
  signature: string | undefined,
): Promise<WebhookRead> {
  if (!(await verifyMauticSignature(crypto.hmac, secrets, body, signature)))
    return { status: 'unsigned' }
  // Before any parse or recursive walk (JSON.stringify, the receipt key, the field walk).
  if (jsonDepthExceeds(body))
    return {
      status: 'invalid',
      message: `the body nests deeper than ${MAX_JSON_DEPTH} levels: not a Mautic payload`,
    }
  let text: string
  try {
    text = decoder.decode(body)
  } catch {
    return { status: 'invalid', message: 'the body is not valid UTF-8' }
  }
  let delivery: MauticDelivery
  try {
    delivery = parseMauticDelivery(text)
  } catch (err) {
    if (err instanceof WebhookPayloadError) return { status: 'invalid', message: err.message }
    throw err
  }
  if (delivery.test) return { status: 'test', types: delivery.types }
  const keyed: KeyedEvent[] = []
  for (const event of delivery.events) {
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
