/**
 * @module Sign-in throttling (OWASP Authentication Cheat Sheet, "Account lockout"; NIST SP 800-63B
 * §5.2.2): every failed password or second-factor check counts against the account (by the blind
 * index of the typed address, whether an account exists or not: the answer is the same) and against
 * the client address (a keyed hash). After a few free failures each one doubles the wait before the
 * next try; at LOCK_AFTER failures an account is locked until an owner lifts it. A client address is
 * only slowed down, never locked (addresses are shared).
 */
import {
  clearThrottleQuery,
  findThrottle,
  findThrottles,
  recordThrottleFailure,
  setThrottleLimits,
} from '../../db/repositories/admin-sessions.ts'
import type { Deps } from '../../deps.ts'
import { toBase64Url, utf8 } from '../../lib/encoding.ts'

export const THROTTLE = {
  /** Failures allowed before delays start. */
  freeFailures: 3,
  baseDelayMs: 2_000,
  maxDelayMs: 15 * 60_000,
  /** Consecutive failures that lock an account. */
  lockAfter: 10,
  /** The address may fail more: an office shares one. */
  ipFreeFailures: 10,
  /** A day without failures starts the count again (a locked account stays locked). */
  resetMs: 24 * 60 * 60_000,
} as const

export const accountThrottleKey = (emailBidx: string) => `account:${emailBidx}`

export async function ipThrottleKey(deps: Pick<Deps, 'hmac' | 'keys'>, ip: string | undefined) {
  const mac = await deps.hmac(deps.keys.current.blindIndex, utf8(`signin-ip:${ip ?? 'unknown'}`))
  return `ip:${toBase64Url(mac)}`
}

export type ThrottleVerdict =
  { allowed: true } | { allowed: false; locked: boolean; retryAfterMs: number }

const delayAfter = (failures: number, free: number) =>
  failures <= free
    ? 0
    : Math.min(THROTTLE.maxDelayMs, THROTTLE.baseDelayMs * 2 ** (failures - free - 1))

/** May this account (blind index) be tried from this address now? Reads only. */
export async function checkThrottle(
  deps: Pick<Deps, 'db' | 'hmac' | 'keys' | 'clock'>,
  emailBidx: string,
  ip: string | undefined,
): Promise<ThrottleVerdict> {
  const now = deps.clock.now()
  const [account, address] = await Promise.all([
    findThrottle(deps.db, accountThrottleKey(emailBidx)),
    findThrottle(deps.db, await ipThrottleKey(deps, ip)),
  ])
  if (account?.locked_at) return { allowed: false, locked: true, retryAfterMs: 0 }
  const wait = Math.max(account?.next_allowed_at ?? 0, address?.next_allowed_at ?? 0) - now
  return wait > 0 ? { allowed: false, locked: false, retryAfterMs: wait } : { allowed: true }
}

/** Counts a failure against both keys; returns whether the account is now locked. */
export async function recordSignInFailure(
  deps: Pick<Deps, 'db' | 'hmac' | 'keys' | 'clock'>,
  emailBidx: string,
  ip: string | undefined,
): Promise<{ locked: boolean }> {
  const now = deps.clock.now()
  const accountKey = accountThrottleKey(emailBidx)
  const account = await recordThrottleFailure(deps.db, accountKey, now, THROTTLE.resetMs)
  const locked = account.locked_at !== null || account.failures >= THROTTLE.lockAfter
  await setThrottleLimits(
    deps.db,
    accountKey,
    now + delayAfter(account.failures, THROTTLE.freeFailures),
    account.locked_at ?? (locked ? now : null),
  )
  const ipKey = await ipThrottleKey(deps, ip)
  const address = await recordThrottleFailure(deps.db, ipKey, now, THROTTLE.resetMs)
  await setThrottleLimits(
    deps.db,
    ipKey,
    now + delayAfter(address.failures, THROTTLE.ipFreeFailures),
    null,
  )
  return { locked }
}

/** The query that forgets an account's failures (after a success, or an owner lifting a lock-out). */
export const clearAccountThrottleQuery = (deps: Pick<Deps, 'db'>, emailBidx: string) =>
  clearThrottleQuery(deps.db, accountThrottleKey(emailBidx))

/** Which of these accounts (blind indexes) are locked. */
export async function lockedAccounts(
  deps: Pick<Deps, 'db'>,
  bidxs: string[],
): Promise<Set<string>> {
  const rows = await findThrottles(deps.db, bidxs.map(accountThrottleKey))
  return new Set(
    rows.filter((r) => r.locked_at !== null).map((r) => r.key.slice('account:'.length)),
  )
}
