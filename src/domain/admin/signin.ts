/**
 * @module Sign-in, first step: address and password. The answer is the same for an unknown address, a
 * wrong password, a disabled or not yet set-up account ("wrong address or password"), and so is the
 * work: an unknown account is compared against a decoy hash (no user enumeration, by content or by
 * timing). Throttled per account and per client address (throttle.ts). A hash made with fewer
 * iterations than this runtime's is made again on success (passwords.ts).
 */
import type { CompiledQuery } from 'kysely'
import {
  listPasskeyRows,
  updateAdminUserQuery,
  type AdminUserRow,
} from '../../db/repositories/admin-users.ts'
import type { Deps } from '../../deps.ts'
import { blindIndexWith, normalizeEmail } from '../../lib/email.ts'
import { findAdminByEmail, type Actor } from './accounts.ts'
import { recordAudit } from './audit.ts'
import {
  decoyPassword,
  hashPassword,
  needsRehash,
  PASSWORD_MAX_LENGTH,
  verifyPassword,
} from './passwords.ts'
import { hasSecondFactor, newSession } from './sessions.ts'
import { SECOND_FACTOR_REQUIRED } from './permissions.ts'
import { checkThrottle, clearAccountThrottleQuery, recordSignInFailure } from './throttle.ts'

export type SignInResult =
  | {
      ok: true
      user: AdminUserRow
      token: string
      sessionId: string
      /** What comes next: the second factor, its enrolment, or the console. */
      next: 'second-factor' | 'enrol' | 'done'
    }
  | { ok: false; reason: 'invalid' | 'throttled' | 'locked'; retryAfterMs?: number }

export async function signInWithPassword(
  deps: Deps,
  input: { email: string; password: string },
  by: Actor,
): Promise<SignInResult> {
  const email = normalizeEmail(input.email) ?? input.email.trim().toLowerCase().slice(0, 254)
  const bidx = await blindIndexWith(deps.hmac, deps.keys.current, email)
  const ip = by.ip ?? undefined
  const audit = {
    actor: 'anonymous',
    ip: by.ip,
    userAgent: by.userAgent,
    action: 'signin.password',
  }

  const verdict = await checkThrottle(deps, bidx, ip)
  const user = normalizeEmail(input.email) ? await findAdminByEmail(deps, email) : undefined
  if (!verdict.allowed) {
    await recordAudit(deps, {
      ...audit,
      outcome: 'denied',
      target: user ? `user:${user.id}` : null,
      details: { throttled: true, locked: verdict.locked },
    })
    return {
      ok: false,
      reason: verdict.locked ? 'locked' : 'throttled',
      retryAfterMs: verdict.retryAfterMs,
    }
  }

  const usable = user && user.status === 'active' && user.password_hash !== null
  const stored =
    usable &&
    user.password_alg &&
    user.password_iterations &&
    user.password_salt &&
    user.password_hash
      ? {
          alg: user.password_alg,
          iterations: user.password_iterations,
          salt: user.password_salt,
          hash: user.password_hash,
        }
      : await decoyPassword(deps.pbkdf2Iterations)
  const password = input.password.slice(0, PASSWORD_MAX_LENGTH + 1)
  const matches = await verifyPassword(password, stored)
  if (!usable || !matches) {
    const { locked } = await recordSignInFailure(deps, bidx, ip)
    await recordAudit(deps, {
      ...audit,
      outcome: 'failed',
      target: user ? `user:${user.id}` : null,
      details: { known: user !== undefined, locked },
    })
    return { ok: false, reason: locked ? 'locked' : 'invalid' }
  }

  const now = deps.clock.now()
  const queries: CompiledQuery[] = [clearAccountThrottleQuery(deps, user.email_bidx)]
  const rehash = needsRehash(stored, deps.pbkdf2Iterations)
  const set: Parameters<typeof updateAdminUserQuery>[2] = { last_sign_in_at: now }
  if (rehash) {
    const fresh = await hashPassword(password, deps.pbkdf2Iterations)
    Object.assign(set, {
      password_alg: fresh.alg,
      password_iterations: fresh.iterations,
      password_salt: fresh.salt,
      password_hash: fresh.hash,
    })
  }
  queries.push(updateAdminUserQuery(deps.db, user.id, set))
  const hasFactor = hasSecondFactor(user, (await listPasskeyRows(deps.db, user.id)).length)
  const next = hasFactor
    ? 'second-factor'
    : SECOND_FACTOR_REQUIRED.has(user.role)
      ? 'enrol'
      : 'done'
  const session = await newSession(deps, user.id, {
    ip,
    userAgent: by.userAgent ?? undefined,
    secondFactor: next === 'done',
  })
  queries.push(session.query)
  await recordAudit(
    deps,
    {
      ...audit,
      actor: `admin:${user.id}`,
      target: `user:${user.id}`,
      details: { next, rehashed: rehash ? stored.iterations : undefined },
    },
    queries,
  )
  return { ok: true, user: { ...user, ...set }, token: session.token, sessionId: session.id, next }
}

/** A session for an account that just finished its set-up (password set by the link's holder). */
export async function sessionAfterSetup(deps: Deps, user: AdminUserRow, by: Actor) {
  const session = await newSession(deps, user.id, {
    ip: by.ip ?? undefined,
    userAgent: by.userAgent ?? undefined,
    secondFactor: false,
  })
  await deps.atomic([session.query])
  return session
}
