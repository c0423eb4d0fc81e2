/**
 * @module Fixed-window rate limits kept in the database, so that every process and Worker isolate
 * counts together. The stored key never holds the subject itself (an IP address is personal data):
 * it is `bucket:` + a keyed hash of it, under the blind-index key.
 */
import { deleteRateLimitsBefore, incrementRateLimit } from '../../db/repositories/rate-limits.ts'
import type { Deps } from '../../deps.ts'
import { toBase64Url, utf8 } from '../../lib/encoding.ts'

/** The longest window a limit may use: `purgeRateLimits` deletes counters older than this. */
export const MAX_RATE_LIMIT_WINDOW_MS = 24 * 60 * 60_000

export interface RateLimitRule {
  /** What is limited, e.g. `subscribe-form`: letters, digits, `.`, `_` and `-`. */
  bucket: string
  /** Who is limited, e.g. the client IP address. Only its keyed hash is stored. */
  subject: string
  /** Hits allowed per window. */
  limit: number
  windowMs: number
}

export interface RateLimitResult {
  allowed: boolean
  /** Hits left in the current window. */
  remaining: number
  /** 0 when allowed; otherwise how long until the window ends (for `Retry-After`). */
  retryAfterMs: number
}

export type RateLimitDeps = Pick<Deps, 'db' | 'hmac' | 'keys' | 'clock'>

/** The stored key: `bucket:` + base64url HMAC-SHA256 of the subject under the blind-index key. */
export async function rateLimitKey(
  deps: Pick<Deps, 'hmac' | 'keys'>,
  bucket: string,
  subject: string,
): Promise<string> {
  // The prefix separates these hashes from the e-mail blind index, which uses the same key.
  const mac = await deps.hmac(deps.keys.current.blindIndex, utf8(`rate-limit:${subject}`))
  return `${bucket}:${toBase64Url(mac)}`
}

/** Counts one hit against the rule, in one statement; the hit is counted even when refused. */
export async function hitRateLimit(
  deps: RateLimitDeps,
  rule: RateLimitRule,
): Promise<RateLimitResult> {
  const { bucket, limit, windowMs } = rule
  if (!/^[A-Za-z0-9._-]+$/.test(bucket)) throw new Error(`rate limit: bad bucket name "${bucket}"`)
  if (!Number.isInteger(limit) || limit < 1) throw new Error('rate limit: limit must be ≥ 1')
  if (!Number.isInteger(windowMs) || windowMs < 1 || windowMs > MAX_RATE_LIMIT_WINDOW_MS)
    throw new Error(`rate limit: windowMs must be 1 to ${MAX_RATE_LIMIT_WINDOW_MS}`)
  const now = deps.clock.now()
  const key = await rateLimitKey(deps, bucket, rule.subject)
  const { count, windowStart } = await incrementRateLimit(deps.db, key, now, windowMs)
  const allowed = count <= limit
  return {
    allowed,
    remaining: Math.max(0, limit - count),
    // Clamped: another machine's clock may be a little ahead of ours.
    retryAfterMs: allowed ? 0 : Math.min(windowMs, Math.max(0, windowStart + windowMs - now)),
  }
}

/**
 * Deletes counters whose window has ended, for the scheduler: those that started `longestWindowMs` or
 * more before `now` (by default the longest window allowed, so no live window is ever cut short).
 * Returns how many were deleted.
 */
export async function purgeRateLimits(
  deps: Pick<Deps, 'db'>,
  now: number,
  longestWindowMs = MAX_RATE_LIMIT_WINDOW_MS,
): Promise<number> {
  return deleteRateLimitsBefore(deps.db, now - longestWindowMs)
}
