/**
 * @module Mautic's webhook signature: `Webhook-Signature` = base64(HMAC-SHA256(secret string, raw body))
 * (WebhookBundle/Http/Client.php; docs/mautic.md §1.3). Checked on the raw bytes before any
 * parsing — PHP escapes `/` and non-ASCII, so a re-serialised body would never match — and compared
 * in constant time. There is no timestamp in it: replays are caught by the receipt keys instead.
 */
import type { HmacSha256 } from '../lib/keys.ts'
import { fromBase64Url, timingSafeEqual, utf8, type Bytes } from '../lib/encoding.ts'

const BASE64 = /^[A-Za-z0-9+/]{43}=$/ // 32 bytes of standard base64

/** Whether `header` signs `body` with one of `secrets` (every one is tried, each in constant time). */
export async function verifyMauticSignature(
  hmac: HmacSha256,
  secrets: string | readonly string[],
  body: Bytes,
  header: string | undefined,
): Promise<boolean> {
  const presented = header?.trim()
  if (!presented || !BASE64.test(presented)) return false
  const given = fromBase64Url(presented)
  let ok = false
  for (const secret of typeof secrets === 'string' ? [secrets] : secrets)
    if (timingSafeEqual(given, await hmac(utf8(secret), body))) ok = true
  return ok
}
