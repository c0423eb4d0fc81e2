/**
 * @module Signing outgoing webhooks with the Standard Webhooks scheme (standardwebhooks.com, spec
 * v1), so that a receiver can verify them with that project's libraries: the secret is `whsec_` and the
 * base64 of its key bytes; the signature is HMAC-SHA256 over `<webhook-id>.<webhook-timestamp>.<body>`,
 * sent base64-encoded as `webhook-signature: v1,<signature>`, with `webhook-id` (the same on every
 * retry, for deduplication) and `webhook-timestamp` (Unix seconds, against replays). WebCrypto only:
 * Node and Workers alike. test/node/lib/standard-webhooks.test.ts checks it with the `standardwebhooks`
 * package itself.
 */
import { utf8, type Bytes } from './encoding.ts'
import { randomBytes } from './random.ts'

const PREFIX = 'whsec_'

const toBase64 = (bytes: Uint8Array) => {
  let bin = ''
  for (const b of bytes) bin += String.fromCharCode(b)
  return btoa(bin)
}
const fromBase64 = (s: string): Bytes => Uint8Array.from(atob(s), (c) => c.charCodeAt(0))

/** A new secret: 32 random bytes (the scheme asks for 24 to 64). */
export const newWebhookSecret = (): string => PREFIX + toBase64(randomBytes(32))

/** The key bytes of a `whsec_…` secret; throws on anything else. */
export function webhookSecretKey(secret: string): Bytes {
  if (!secret.startsWith(PREFIX)) throw new Error('a Standard Webhooks secret starts with whsec_')
  const key = fromBase64(secret.slice(PREFIX.length))
  if (key.length < 24 || key.length > 64)
    throw new Error('a Standard Webhooks secret holds 24 to 64 bytes')
  return key
}

export interface WebhookHeaders {
  'webhook-id': string
  'webhook-timestamp': string
  'webhook-signature': string
}

/** The three headers for one delivery of `body`, exactly as sent. */
export async function signWebhook(
  secret: string,
  id: string,
  timestampMs: number,
  body: string,
): Promise<WebhookHeaders> {
  const timestamp = String(Math.floor(timestampMs / 1000))
  const key = await crypto.subtle.importKey(
    'raw',
    webhookSecretKey(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  const mac = await crypto.subtle.sign('HMAC', key, utf8(`${id}.${timestamp}.${body}`))
  return {
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': `v1,${toBase64(new Uint8Array(mac))}`,
  }
}
