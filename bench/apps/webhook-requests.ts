/**
 * @module Mautic webhook bodies for the intake scenarios, made in the load generator (the parent
 * process). The intake keys every event by type, contact id, element timestamp and a hash of the
 * element, and answers a body it has seen with a cheap "duplicate": so the intake scenario sends a
 * new event in every request (its own contact id and timestamp, its own signature), and the duplicate
 * path is a scenario of its own.
 */
import { createHmac } from 'node:crypto'
import { realisticBody5k, signMautic } from '../../test/fixtures/mautic-webhooks.ts'
import { WEBHOOK_SECRET } from '../secrets.ts'

/** What a webhook request carries besides its body: Mautic's own headers (Http/Client.php). */
export const WEBHOOK_HEADERS = {
  'Content-Type': 'application/json',
  'X-Origin-Base-URL': 'https://mautic.exemple.fr',
}

/** `Webhook-Signature`, synchronously (the generators make requests in plain loops): node:crypto's HMAC. */
const sign = (body: Buffer) => createHmac('sha256', WEBHOOK_SECRET).update(body).digest('base64')

// The realistic 5 KB body (a lead_post_save_update), cut around the contact id and element timestamp.
const BODY = realisticBody5k()
const ID = '"id":4217,'
const STAMP = '"timestamp":"2025-03-14T09:26:54+00:00"'
function cut(text: string, marker: string): [string, string] {
  const at = text.indexOf(marker)
  if (at < 0 || text.indexOf(marker, at + 1) >= 0)
    throw new Error(
      `realisticBody5k() no longer has exactly one ${marker}: update ` +
        'bench/apps/webhook-requests.ts',
    )
  return [text.slice(0, at), text.slice(at + marker.length)]
}
const [head, rest] = cut(BODY, ID)
const [middle, tail] = cut(rest, STAMP)
const parts = [head, middle, tail].map((s) => Buffer.from(s, 'utf8'))

/** The same 5 KB body every time, and its signature: after the first, every request is a duplicate. */
export const SAME_BODY = { body: BODY, signature: sign(Buffer.from(BODY, 'utf8')) }
// Our synchronous signer must agree with the fixture's (Mautic's algorithm, through WebCrypto).
if ((await signMautic(BODY, WEBHOOK_SECRET)) !== SAME_BODY.signature)
  throw new Error('bench/apps/webhook-requests.ts signs webhooks differently from signMautic()')

/** Events are numbered across the whole run, so no two requests of a run ever carry the same event. */
let sequence = 0
const FIRST_STAMP = Date.UTC(2025, 2, 14, 9, 26, 54)
const CONTACTS = 10_000

/**
 * The same body with the next event: contact id 1..10,000 in turn, the element timestamp one second
 * later each time (receipt keys count whole seconds). The body stays the same size, give or take a
 * few digits.
 */
export function nextWebhook(): { body: Buffer; headers: Record<string, string> } {
  const n = sequence++
  const id = Buffer.from(`"id":${1 + (n % CONTACTS)},`)
  const stamp = new Date(FIRST_STAMP + n * 1000).toISOString().slice(0, 19) + '+00:00'
  const body = Buffer.concat([
    parts[0]!,
    id,
    parts[1]!,
    Buffer.from(`"timestamp":"${stamp}"`),
    parts[2]!,
  ])
  return { body, headers: { 'Webhook-Signature': sign(body) } }
}
